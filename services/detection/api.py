"""HTTP surface of the detection service (thin: parse → handler → respond)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from services.detection import handlers, queries, store
from services.detection.model import (
    MAX_BATCH,
    EventIn,
    GroupBy,
    HandlingIn,
    IngestResult,
    StatisticsQuery,
    UnfiledQuery,
    handling_name,
    scope_of,
)
from shared import codes, field_labels
from shared.service import ctx
from shared.web import Api, Problem, json_response, principal_of

READERS = ["admin", "bureau", "provider"]


class DetectionApi(Api):
    def openapi(self) -> dict[str, Any]:
        """The ingest's body is one event or an array of them (parsed per item, see handlers.ingest)."""
        doc = super().openapi()
        _, defs = models_json_schema([(EventIn, "validation")], ref_template="#/components/schemas/{model}")
        doc["components"]["schemas"].update(defs.get("$defs", {}))
        one = {"$ref": "#/components/schemas/EventIn"}
        op = doc["paths"]["/api/detection/events"]["post"]
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_BATCH}]}}}}
        op["security"] = [{"sourceKey": []}]
        doc["components"]["securitySchemes"]["sourceKey"] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        for code, title in (("400", "请求格式错误"), ("401", "数据源密钥无效"), ("413", "批量过大"),
                            ("422", "部分或全部事件未通过校验")):
            op["responses"][code] = {"description": title, "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}
        return doc


api = DetectionApi("detection", "ICP 备案 — 未备案检测服务")


# ---------------------------------------------------------------- ingest


@api.post("/events", response=IngestResult, status=200, tags=["ingest"])
async def ingest_events(request: web.Request) -> web.Response:
    """接收外部系统上报的未备案网站检测事件：一个事件（JSON 对象）或一批（数组，最多 1000 条）；
    请求头 X-API-Key 为数据源密钥。与 RabbitMQ 上的 detection.site.detected 同一契约，事件 id 相同只计一次。"""
    c = ctx(request)
    source = await handlers.authenticate_source(c, request.headers.get("X-API-Key"))
    status, result, errors = await handlers.ingest(c, await request.read(), source)
    if errors:
        detail = field_labels.summary(errors, item="条事件")  # the platform's labels and sentence
        if result.recorded or result.duplicates or result.filed:
            detail += f"；其余 {result.received - result.rejected} 条已接收"
        raise Problem(status, detail, errors=errors, **result.model_dump(exclude={"items"}),
                      items=[i.model_dump() for i in result.items])
    return json_response(result, status=status)


# ---------------------------------------------------------------- unfiled sites (1.8.1)


class DetectionOut(BaseModel):
    id: int
    domain: str
    provider_id: str
    provider_name: str | None = None
    province: str
    province_name: str | None = None
    ip: str | None = None
    first_seen: dt.datetime
    last_seen: dt.datetime
    sightings: int
    status: str  # UNHANDLED | IN_PROGRESS | HANDLED
    handling_code: str | None = None
    handling_name: str | None = None
    handling_note: str | None = None
    handled_by: str | None = None
    handled_at: dt.datetime | None = None
    filed_meanwhile: bool
    filed_no: str | None = None
    filed_at: dt.datetime | None = None


def detection_out(r) -> DetectionOut:
    status = "UNHANDLED" if r["handling_code"] is None else ("HANDLED" if r["closed"] else "IN_PROGRESS")
    return DetectionOut(
        id=r["id"], domain=r["domain"], provider_id=r["provider_id"],
        provider_name=r["provider_name"] if "provider_name" in r else None,
        province=r["province"], province_name=codes.name_zh("provinces", r["province"]), ip=r["ip"],
        first_seen=r["first_seen"], last_seen=r["last_seen"], sightings=r["sightings"], status=status,
        handling_code=r["handling_code"], handling_name=handling_name(r["handling_code"]),
        handling_note=r["handling_note"], handled_by=r["handled_by"], handled_at=r["handled_at"],
        filed_meanwhile=r["filed_at"] is not None, filed_no=r["filed_no"], filed_at=r["filed_at"],
    )


class DetectionPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[DetectionOut]


@api.get("/unfiled", query=UnfiledQuery, response=DetectionPage, roles=READERS, tags=["unfiled"])
async def list_unfiled(request: web.Request, query: UnfiledQuery) -> DetectionPage:
    """未备案检测结果查询（1.8.1）：条件可组合；为空时列出本单位被检测到的全部未备案网站（管局：本省各接入商）"""
    who = principal_of(request)
    total, rows = await queries.unfiled(ctx(request).pool, scope_of(who, query.provider_id), query)
    return DetectionPage(total=total, page=query.page, page_size=query.page_size, items=[detection_out(r) for r in rows])


class SightingOut(BaseModel):
    event_id: str
    detected_at: dt.datetime
    ip: str | None
    province: str
    source: str
    source_system: str | None
    url: str | None
    title: str | None
    received_at: dt.datetime


class HandlingOut(BaseModel):
    id: int
    code: str
    name: str | None
    note: str
    handled_by: str
    handled_by_name: str  # username; "" for the system
    handled_at: dt.datetime


class HistoryOut(BaseModel):
    detection: DetectionOut
    total: int
    page: int
    page_size: int
    sightings: list[SightingOut]
    handlings: list[HandlingOut]


class HistoryQuery(BaseModel):
    page: int = 1
    page_size: int = 50


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise Problem(404, "检测结果不存在")
    return int(raw)


@api.get("/unfiled/{id}/history", query=HistoryQuery, response=HistoryOut, roles=READERS, tags=["unfiled"])
async def history(request: web.Request, query: HistoryQuery) -> HistoryOut:
    """检测历史：该域名在该接入商处的每一次检测，及每一次处理"""
    c = ctx(request)
    d = await handlers.detection_of(c, principal_of(request), _id(request))
    size = max(1, min(query.page_size, 200))
    page = max(1, min(query.page, 100000))
    total, rows = await store.sightings_of(c.pool, d["provider_id"], d["domain"], size, (page - 1) * size)
    hs = await store.handlings_of(c.pool, d["id"])
    return HistoryOut(
        detection=detection_out(d), total=total, page=page, page_size=size,
        sightings=[SightingOut(**{**dict(r), "event_id": str(r["event_id"])}) for r in rows],
        handlings=[HandlingOut(id=h["id"], code=h["code"], name=handling_name(h["code"]), note=h["note"],
                               handled_by=h["handled_by"], handled_by_name=h["handled_by_name"],
                               handled_at=h["handled_at"]) for h in hs],
    )


@api.post("/unfiled/{id}/handling", body=HandlingIn, response=DetectionOut, roles=["provider"], status=201,
          tags=["unfiled"])
async def handle(request: web.Request, body: HandlingIn) -> DetectionOut:
    """处理：选择处理结果（代码表 detection_handling）并填写说明；每次处理都保留在历史中"""
    return detection_out(await handlers.handle(ctx(request), principal_of(request), _id(request), body))


# ---------------------------------------------------------------- statistics (1.8.2)


class StatRow(BaseModel):
    key: str | None
    label: str
    domains: int
    detections: int
    handled: int
    unhandled: int
    handling_rate: float | None  # handled / domains, 0..1
    query: dict[str, str]  # the conditions of GET /unfiled listing this row's detections


class StatisticsOut(BaseModel):
    group_by: GroupBy
    rows: list[StatRow]
    total: StatRow


def _label(group_by: str, key: str | None) -> str:
    if key is None:
        return "合计"
    if group_by == "province":
        return codes.name_zh("provinces", key) or key
    if group_by == "handling":
        return "未处理" if key == "UNHANDLED" else (handling_name(key) or key)
    return key


def _drill(q: StatisticsQuery, key: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if q.date_from:
        out["date_from"] = q.date_from.isoformat()
    if q.date_to:
        out["date_to"] = q.date_to.isoformat()
    if q.handling_status:
        out["handling_status"] = q.handling_status
    if q.provider_id:
        out["provider_id"] = q.provider_id
    if key is not None:
        if q.group_by == "province":
            out["province"] = key
        elif q.group_by == "month":
            out["month"] = key
        else:
            out["handling_code"] = key
    return out


@api.get("/statistics", query=StatisticsQuery, response=StatisticsOut, roles=READERS, tags=["statistics"])
async def statistics(request: web.Request, query: StatisticsQuery) -> StatisticsOut:
    """未备案检测结果统计（1.8.2）：默认按省份分组，也可按处理状态或检测月份；每行可打开其检测结果"""
    who = principal_of(request)
    rows = await queries.statistics(ctx(request).pool, scope_of(who, query.provider_id), query)
    out = []
    for r in rows:
        out.append(StatRow(
            key=r["key"], label=_label(query.group_by, r["key"]), domains=r["domains"], detections=r["detections"],
            handled=r["handled"], unhandled=r["unhandled"],
            handling_rate=round(r["handled"] / r["domains"], 4) if r["domains"] else None, query=_drill(query, r["key"]),
        ))
    total = out.pop() if out and out[-1].key is None else StatRow(
        key=None, label="合计", domains=0, detections=0, handled=0, unhandled=0, handling_rate=None,
        query=_drill(query, None))
    return StatisticsOut(group_by=query.group_by, rows=out, total=total)


from services.detection import blacklists  # noqa: E402  (its routes join this service's table)

api.include(blacklists.api)
