"""HTTP surface of the detection service (thin: parse → handler → respond)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from services.detection import handlers
from shared.contracts.detection import SiteDetected
from shared.service import ctx
from shared.web import Api, principal_of

api = Api("detection", "ICP 备案 — 未备案检测服务")


class Accepted(BaseModel):
    id: str
    status: str = "accepted"


@api.post("/events", body=SiteDetected, response=Accepted, roles=["admin", "bureau", "provider"], status=202,
          tags=["ingest"])
async def ingest_event(request: web.Request, body: SiteDetected) -> Accepted:
    """接收外部系统上报的未备案网站检测事件（与 RabbitMQ 上的 detection.site.detected 同一契约）"""
    env = await handlers.ingest(ctx(request), body, principal_of(request))
    return Accepted(id=str(env.id))
