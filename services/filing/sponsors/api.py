"""HTTP surface of the sponsor accounts a provider filed for (seed 1.6.1 主办者密码重置)."""

from __future__ import annotations

import json

from aiohttp import web

from services.filing.sponsors import handlers as sp
from shared.service import ctx
from shared.web import Api, principal_of, tenant_of

api = Api("filing", "ICP 备案 — 主办者账号")
TAGS = ["sponsors"]
ROLES = ["provider"]


@api.get("/sponsors", query=sp.SponsorQuery, response=sp.SponsorList, roles=ROLES, tags=TAGS)
async def list_sponsors(request: web.Request, query: sp.SponsorQuery) -> sp.SponsorList:
    """本单位代为备案的主办者账号（按主办单位名称、用户名、证件号码、域名筛选，分页）"""
    return await sp.list_sponsors(ctx(request), tenant_of(request), query)


@api.post("/sponsors/password-resets", body=sp.ResetIn, response=sp.ResetOut, roles=ROLES, status=201, tags=TAGS,
          errors=[404])
async def reset_sponsor_passwords(request: web.Request, body: sp.ResetIn) -> web.Response:
    """重置所选（或符合筛选条件的全部）主办者账号的密码：统一设置或逐个随机生成；新密码（及 Excel）仅本次返回，
    主办者的会话全部注销；不是本单位代为备案的账号答 404"""
    out = await sp.reset_passwords(ctx(request), tenant_of(request), body, actor=principal_of(request).user_id)
    # new passwords: never cached by a browser or a proxy
    return web.json_response(out.model_dump(mode="json"), status=201,
                             headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))
