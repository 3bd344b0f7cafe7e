"""HTTP surface of the reporting service (thin: parse → handler → respond)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel

from shared.service import ctx
from shared.web import Api

api = Api("reporting", "ICP 备案 — 查询统计服务")


class ProviderEntry(BaseModel):
    provider_id: str
    name: str
    province: str | None
    updated_at: datetime


class ProviderDirectory(BaseModel):
    items: list[ProviderEntry]
    total: int


@api.get("/providers", response=ProviderDirectory, roles=["admin", "bureau"], tags=["directory"])
async def list_providers(request: web.Request) -> ProviderDirectory:
    """接入服务提供者名录（由备案服务的事件生成）"""
    rows = await ctx(request).pool.fetch("SELECT * FROM providers ORDER BY provider_id")
    return ProviderDirectory(items=[ProviderEntry(**dict(r)) for r in rows], total=len(rows))
