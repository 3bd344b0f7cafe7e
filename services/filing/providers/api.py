"""HTTP surface of the filing service (thin: parse → handler → respond)."""

from __future__ import annotations

from aiohttp import web

from services.filing.providers import handlers
from services.filing.providers.model import ProviderIn, ProviderList, ProviderOut
from shared.service import ctx
from shared.web import Api, principal_of

api = Api("filing", "ICP 备案 — 备案服务")


@api.post("/providers", errors=[409], body=ProviderIn, response=ProviderOut, roles=["admin"], status=201, tags=["admin"])
async def create_provider(request: web.Request, body: ProviderIn) -> ProviderOut:
    """新建接入服务提供者（租户）"""
    return await handlers.register_provider(ctx(request), body, actor=principal_of(request).user_id)


@api.get("/providers", response=ProviderList, roles=["admin"], tags=["admin"])
async def list_providers(request: web.Request) -> ProviderList:
    """接入服务提供者列表"""
    return await handlers.list_providers(ctx(request))
