"""HTTP routes of accounts: captcha, login/logout, me, and user administration."""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import BaseModel

from services.filing.accounts import captcha
from services.filing.accounts import handlers as accounts
from services.filing.accounts.model import (
    CaptchaOut,
    CaptchaQuery,
    LoginIn,
    LoginOut,
    PasswordChanged,
    PasswordChangeIn,
    ProfilePatch,
    UserCreated,
    UserCreateIn,
    UserList,
    UserOut,
    UserPatch,
    UserQuery,
    cookie_secure,
)
from shared import ratelimit
from shared.security import client_address
from shared.service import ctx
from shared.web import COOKIE_NAME, Api, principal_of

api = Api("filing", "ICP 备案 — 账户与登录")

ALL_ROLES = ["provider", "bureau", "sponsor", "admin"]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _json(model: BaseModel | dict, status: int = 200, *, exclude_none: bool = False) -> web.Response:
    payload = model.model_dump(mode="json", exclude_none=exclude_none) if isinstance(model, BaseModel) else model
    return web.json_response(payload, status=status, headers=NO_STORE,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str))


def _client_ip(request: web.Request) -> str:
    """The client's address for per-address limits and the session record (ICP_TRUSTED_PROXIES)."""
    return client_address(request)[:64]


# ---------------------------------------------------------------- login


@api.get("/captcha", query=CaptchaQuery, response=CaptchaOut, tags=["accounts"], errors=[429])
async def get_captcha(request: web.Request, query: CaptchaQuery) -> web.Response:
    """获取登录验证码图片（有效期内仅可使用一次）"""
    c = ctx(request)
    await ratelimit.take(c.pool, ratelimit.Limit("captcha", c.settings.captcha_per_minute, 60, "获取验证码过于频繁"),
                         _client_ip(request))
    issued = await captcha.issue(c.pool, c.settings.secret_key)
    out = CaptchaOut(captcha_id=issued.captcha_id, image=issued.image, expires_in=issued.expires_in)
    if query.test_answer and c.settings.is_test:  # never outside ICP_ENV=test
        out.answer = issued.answer
    return _json(out, exclude_none=True)


@api.post("/sessions", body=LoginIn, response=LoginOut, status=201, tags=["accounts"], errors=[401, 403, 423, 429])
async def create_session(request: web.Request, body: LoginIn) -> web.Response:
    """登录（用户名、密码、验证码、登录角色均不能为空）"""
    c = ctx(request)
    result = await accounts.login(c, body, client_ip=_client_ip(request),
                                  user_agent=request.headers.get("User-Agent"))
    resp = _json(result.out, status=201)
    resp.set_cookie(COOKIE_NAME, result.token, max_age=result.ttl, path="/", httponly=True, samesite="Lax",
                    secure=cookie_secure(c.settings.env))
    return resp


@api.delete("/sessions/current", roles=ALL_ROLES, status=204, tags=["accounts"])
async def delete_session(request: web.Request) -> web.Response:
    """退出系统：当前会话立即失效（所有服务）"""
    c = ctx(request)
    await accounts.logout(c, principal_of(request))
    resp = web.Response(status=204, headers=NO_STORE)
    resp.del_cookie(COOKIE_NAME, path="/")
    return resp


# ---------------------------------------------------------------- me


@api.get("/me", response=UserOut, roles=ALL_ROLES, tags=["accounts"], errors=[404])
async def get_me(request: web.Request) -> UserOut:
    """当前登录用户的个人信息"""
    return await accounts.get_me(ctx(request), principal_of(request))


@api.patch("/me", body=ProfilePatch, response=UserOut, roles=ALL_ROLES, tags=["accounts"], errors=[404])
async def patch_me(request: web.Request, body: ProfilePatch) -> UserOut:
    """修改个人信息（姓名、联系电话、电子邮件）"""
    return await accounts.update_me(ctx(request), principal_of(request), body)


@api.put("/me/password", body=PasswordChangeIn, response=PasswordChanged, roles=ALL_ROLES, tags=["accounts"],
         errors=[404, 423, 429])
async def put_my_password(request: web.Request, body: PasswordChangeIn) -> PasswordChanged:
    """修改密码（须提供原密码；其他会话随之注销）"""
    return await accounts.change_password(ctx(request), principal_of(request), body, client_ip=_client_ip(request))


# ---------------------------------------------------------------- administration


@api.post("/users", errors=[409], body=UserCreateIn, response=UserCreated, roles=["admin"], status=201, tags=["admin"])
async def create_user(request: web.Request, body: UserCreateIn) -> web.Response:
    """新建接入服务商操作员、管局审核人员或管理员账户"""
    out = await accounts.create_account(ctx(request), body, actor=principal_of(request).user_id)
    return _json(out, status=201)  # may carry a generated password: never cached


@api.get("/users", query=UserQuery, response=UserList, roles=["admin"], tags=["admin"])
async def list_users(request: web.Request, query: UserQuery) -> UserList:
    """账户列表（可按角色、接入服务提供者、省份筛选）"""
    return await accounts.list_accounts(ctx(request), query)


@api.get("/users/{user_id}", response=UserOut, roles=["admin"], tags=["admin"])
async def get_user(request: web.Request) -> UserOut:
    """账户详情"""
    return await accounts.get_account(ctx(request), request.match_info["user_id"])


@api.patch("/users/{user_id}", errors=[409], body=UserPatch, response=UserOut, roles=["admin"], tags=["admin"])
async def patch_user(request: web.Request, body: UserPatch) -> UserOut:
    """停用/启用账户或解除登录锁定"""
    return await accounts.update_account(ctx(request), request.match_info["user_id"], body,
                                         actor=principal_of(request).user_id)
