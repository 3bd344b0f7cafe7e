"""Public registration of a self-filing sponsor account (自主备案账号注册).

Anyone may register, so the endpoint is guarded like the login: an image captcha (the login's, used
up by any attempt) and a per-client-address limit of attempts (`shared/ratelimit.py`, PostgreSQL,
shared by every replica; `ICP_SPONSOR_REGISTRATIONS_PER_HOUR`). The account is a sponsor (网站主办者)
with no provider and the province it files in (`users.self_registered`); it owns nothing until it
submits its self-filing. Username and password follow the rules of every account (3–32 letters,
digits, "._-"; a sponsor's password ≥ 6 characters, not all digits, not the username)."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from services.filing.accounts import captcha, store
from services.filing.accounts import handlers as accounts
from services.filing.accounts.model import (
    UserOut,
    _display_name,
    check_new_password,
    user_out,
    validate_phone,
    validate_username,
)
from shared import codes, ratelimit
from shared import validate as v
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem, invalid

log = structlog.get_logger(__name__)

BUCKET = "sponsor_registration"


class RegistrationIn(BaseModel):
    """Every field is optional at the type level so that each missing one is named in Chinese."""

    model_config = ConfigDict(extra="forbid")  # no stripping: spaces in a password are significant

    username: str | None = Field(None, max_length=64, description="用户名（3至32位字母、数字或“._-”，以字母或数字开头）")
    password: str | None = Field(None, max_length=128, description="密码（至少6位，不能全为数字，不能与用户名相同）")
    display_name: str | None = Field(None, max_length=100, description="主办单位或主办人名称（2至50个字符）")
    province: str | None = Field(None, max_length=8, description="备案所在省份代码（如 BJ），由该省通信管理局审核")
    phone: str | None = Field(None, max_length=32, description="联系电话（可选）")
    email: str | None = Field(None, max_length=128, description="电子邮件（可选）")
    captcha_id: str | None = Field(None, max_length=64, description="验证码标识（GET /captcha 返回）")
    captcha: str | None = Field(None, max_length=16, description="验证码（不区分大小写）")


class RegistrationOut(BaseModel):
    user: UserOut
    detail: str = Field(description="结果说明")


def field_errors(body: RegistrationIn) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The cleaned values and every field error (Chinese, naming the field)."""
    errors: list[dict[str, str]] = []
    out: dict[str, Any] = {}

    def check(field: str, fn, value, missing: str) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append({"field": field, "message": missing})
            return
        try:
            out[field] = fn(value)
        except v.InvalidValue as e:
            errors.append({"field": field, "message": e.message})

    check("username", validate_username, body.username, "请输入用户名")
    check("display_name", _display_name, body.display_name, "请输入主办单位或主办人名称")
    if body.password is None or body.password == "":
        errors.append({"field": "password", "message": "请输入密码"})
    else:
        try:
            out["password"] = check_new_password("sponsor", body.password, username=out.get("username"))
        except v.InvalidValue as e:
            errors.append({"field": "password", "message": e.message})
    province = (body.province or "").strip().upper()
    if not province:
        errors.append({"field": "province", "message": "请选择备案所在省份"})
    elif not any(p["code"] == province for p in codes.filing_provinces()):
        errors.append({"field": "province", "message": f"省份代码 {province} 不存在或无备案管局"})
    else:
        out["province"] = province
    if body.phone:
        check("phone", validate_phone, body.phone, "")
    if body.email:
        check("email", v.validate_email, body.email, "")
    return out, errors


async def register(ctx: ServiceContext, body: RegistrationIn, *, client_ip: str) -> RegistrationOut:
    await ratelimit.take(ctx.pool, ratelimit.Limit(BUCKET, ctx.settings.sponsor_registrations_per_hour, 3600,
                                                   "该地址注册过于频繁"), client_ip)
    check = None
    if body.captcha_id and body.captcha_id.strip():  # used up by any attempt, as at login
        check = await captcha.consume(ctx.pool, ctx.settings.secret_key, body.captcha_id.strip(), body.captcha)
    if check is None:
        raise invalid([{"field": "captcha", "message": "请先获取并输入验证码"}])
    if check is not captcha.Check.OK:
        raise invalid([{"field": "captcha", "message": captcha.CHECK_MESSAGES[check]}])
    values, errors = field_errors(body)
    if errors:
        raise invalid(errors)
    password_hash = await accounts._hash(values["password"])
    async with transaction(ctx.pool) as conn:
        user = await store.insert_user(
            conn, username=values["username"], password_hash=password_hash, role="sponsor",
            display_name=values["display_name"], province=values["province"], phone=values.get("phone"),
            email=values.get("email"), created_by="self-registration",
        )
        if user is None:
            raise Problem(409, "用户名已被使用，请更换", errors=[{"field": "username", "message": "用户名已被使用"}])
        await conn.execute("UPDATE users SET self_registered = true WHERE id = $1", user["id"])
        user = await store.user_by_id(conn, user["id"])
    log.info("sponsor.registered", user_id=str(user["id"]), province=values["province"])
    return RegistrationOut(user=user_out(user), detail="注册成功。请使用该用户名和密码以“网站主办者”角色登录，办理自主备案")
