"""HTTP surface of self-filing (自主备案): public sponsor registration, and a sponsor's own applications.

The wizard itself is the entry wizard's (`/drafts…`, services/filing/entry/api.py), open to a
self-registered sponsor."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from services.filing.selffiling import handlers, registration
from services.filing.selffiling.store import sponsor_uuid
from shared import codes
from shared.security import client_address
from shared.service import ctx
from shared.web import Api, principal_of

api = Api("filing", "ICP 备案 — 自主备案")
TAGS = ["self-filing"]


@api.post("/sponsor-registrations", body=registration.RegistrationIn, response=registration.RegistrationOut,
          status=201, tags=TAGS, errors=[409, 429])
async def register_sponsor(request: web.Request, body: registration.RegistrationIn) -> web.Response:
    """自主备案账号注册（公开；须验证码，按地址限制频率）：注册后以“网站主办者”角色登录，自主备案"""
    out = await registration.register(ctx(request), body, client_ip=client_address(request)[:64])
    return web.json_response(out.model_dump(mode="json"), status=201, headers={"Cache-Control": "no-store"},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str))


class HistoryOut(BaseModel):
    status: str
    status_name: str
    note: str
    at: datetime


class MyApplication(BaseModel):
    id: str
    type: str
    type_name: str
    status: str
    status_name: str
    progress: str = Field(description="办理进度：审核中 / 前置审批中 / 已通过 / 已驳回 / 已退回 / 已放弃")
    version: int
    filing_method: str
    subject_id: str
    subject_name: str
    subject_no: str | None
    bureau_reason: str | None
    verify_opinion: str | None
    submitted_at: datetime
    abandonable: bool = Field(description="被管局驳回的自主备案：主办者可以放弃（POST …/abandon）")
    history: list[HistoryOut]


class MyApplications(BaseModel):
    items: list[MyApplication]
    total: int


PROGRESS = {"PREAPPROVAL_PENDING": "前置审批中", "APPROVED": "已通过", "REJECTED": "已驳回",
            "VERIFY_RETURNED": "已退回", "ABANDONED": "已放弃", "EXPIRED": "已过期"}


def _status_name(status: str) -> str:
    return codes.name_zh("application_statuses", status) or status


@api.get("/me/applications", response=MyApplications, roles=["sponsor"], tags=TAGS)
async def my_applications(request: web.Request) -> MyApplications:
    """主办者本人的备案申请及办理进度（自主备案与接入服务提供者为其办理的业务）"""
    c, p = ctx(request), principal_of(request)
    sponsor = sponsor_uuid(p.user_id)
    if sponsor is None:
        return MyApplications(items=[], total=0)
    async with c.pool.acquire() as conn:
        apps = await conn.fetch(
            """SELECT ap.*, s.name AS subject_name, s.subject_no FROM applications ap
               JOIN subjects s ON s.id = ap.subject_id
               WHERE s.sponsor_user_id = $1 ORDER BY ap.submitted_at DESC, ap.id LIMIT 200""",
            sponsor,
        )
        history = await conn.fetch(
            """SELECT application_id, status, note, at FROM application_status_history
               WHERE application_id = ANY($1::uuid[]) ORDER BY id""",
            [a["id"] for a in apps],
        )
    by_app: dict[uuid.UUID, list[HistoryOut]] = {}
    for h in history:
        by_app.setdefault(h["application_id"], []).append(
            HistoryOut(status=h["status"], status_name=_status_name(h["status"]), note=h["note"], at=h["at"]))
    items = [MyApplication(
        id=str(a["id"]), type=a["type"], type_name=codes.name_zh("filing_types", a["type"]) or a["type"],
        status=a["status"], status_name=_status_name(a["status"]), progress=PROGRESS.get(a["status"], "审核中"),
        version=a["version"], filing_method=a["filing_method"], subject_id=str(a["subject_id"]),
        subject_name=a["subject_name"], subject_no=a["subject_no"], bureau_reason=a["bureau_reason"],
        verify_opinion=a["verify_opinion"], submitted_at=a["submitted_at"], history=by_app.get(a["id"], []),
        abandonable=a["status"] == "REJECTED" and a["provider_id"] is None,
    ) for a in apps]
    return MyApplications(items=items, total=len(items))


@api.post("/me/applications/{application_id}/abandon", errors=[409], status=204, roles=["sponsor"], tags=TAGS)
async def abandon_my_application(request: web.Request) -> web.Response:
    """放弃被管局驳回的自主备案：撤回待审核的主体与网站，之后可以重新自主备案"""
    await handlers.abandon(ctx(request), principal_of(request).user_id, request.match_info["application_id"])
    return web.Response(status=204)
