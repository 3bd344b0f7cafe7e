"""HTTP surface of applications: detail, correction after a return, resubmission."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from services.filing.applications import handlers as applications
from services.filing.applications.handlers import CorrectionIn
from services.filing.changes import corrections as change_corrections
from services.filing.changes.model import ProposalIn
from shared.service import ctx
from shared.web import Api, principal_of, tenant_of

api = Api("filing", "ICP 备案 — 备案申请")
TAGS = ["applications"]


class ApplicationDetail(BaseModel):
    """申请详情：状态、版本、状态历史、核实意见/管局原因，以及当前数据（data，更正时据此修改）。"""

    id: str
    type: str
    status: str
    status_name: str
    version: int
    subject_id: str
    subject_no: str | None
    verify_opinion: str | None
    bureau_reason: str | None
    correctable: bool
    abandonable: bool = False
    website_id: str | None = None
    proposal: dict[str, Any] | None = None
    versions: list[dict[str, Any]]
    history: list[dict[str, Any]]
    data: dict[str, Any]


class ResubmitOut(BaseModel):
    application_id: str
    version: int
    status: str
    submitted_at: datetime


@api.get("/applications/{application_id}", response=ApplicationDetail,
         roles=["provider", "bureau", "sponsor", "admin"], tags=TAGS)
async def get_application(request: web.Request) -> dict:
    """备案申请详情"""
    return to_jsonable_python(await applications.application_detail(
        ctx(request), principal_of(request), request.match_info["application_id"]
    ))


@api.put("/applications/{application_id}", errors=[409], body=CorrectionIn, response=ApplicationDetail, roles=["provider"], tags=TAGS)
async def correct_application(request: web.Request, body: CorrectionIn) -> dict:
    """更正被退回（核实退回/管局退回）的首次备案申请"""
    return to_jsonable_python(await applications.correct(
        ctx(request), request.match_info["application_id"], tenant_of(request), principal_of(request).user_id, body
    ))


@api.post("/applications/{application_id}/resubmit", errors=[409], response=ResubmitOut, roles=["provider"], tags=TAGS)
async def resubmit_application(request: web.Request) -> dict:
    """重新提交：版本号加一，状态回到待核实"""
    return to_jsonable_python(await applications.resubmit(
        ctx(request), request.match_info["application_id"], tenant_of(request), principal_of(request).user_id
    ))


@api.put("/applications/{application_id}/proposal", errors=[409], body=ProposalIn, response=ApplicationDetail, roles=["provider"],
         tags=TAGS)
async def correct_proposal(request: web.Request, body: ProposalIn) -> dict:
    """更正被退回的新增网站、新增接入或变更类申请（subject / website / access 按申请类型填写），之后重新提交"""
    who = principal_of(request)
    await change_corrections.correct_proposal(ctx(request), request.match_info["application_id"], tenant_of(request),
                                   who.user_id, body)
    return to_jsonable_python(await applications.application_detail(
        ctx(request), who, request.match_info["application_id"]))


@api.post("/applications/{application_id}/abandon", errors=[409], response=ApplicationDetail, roles=["provider"], tags=TAGS)
async def abandon_application(request: web.Request) -> dict:
    """放弃被退回（核实退回/管局退回）的申请：待审核的记录撤回，主体可办理其他业务"""
    who = principal_of(request)
    await change_corrections.abandon(ctx(request), request.match_info["application_id"], tenant_of(request), who.user_id)
    return to_jsonable_python(await applications.application_detail(
        ctx(request), who, request.match_info["application_id"]))
