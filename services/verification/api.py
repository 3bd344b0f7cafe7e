"""HTTP surface of the verification service (thin: parse → handler → respond)."""

from __future__ import annotations

from aiohttp import web

from services.verification import handlers
from services.verification.model import (
    CaseDetail,
    CaseList,
    CaseQuery,
    DecisionIn,
    DetailQuery,
    PreapprovalIn,
    VerificationIn,
)
from shared.service import ctx
from shared.web import Api, principal_of

api = Api("verification", "ICP 备案 — 核实与审核服务")


@api.get("/cases", query=CaseQuery, response=CaseList, roles=["provider", "bureau", "admin"], tags=["cases"])
async def list_cases(request: web.Request, query: CaseQuery) -> CaseList:
    """核实/审核案件列表（接入商默认：本接入商待核实的申请；管局默认：本省待审核的申请）"""
    return await handlers.list_cases(ctx(request), principal_of(request), query)


@api.get("/cases/{case_id}", query=DetailQuery, response=CaseDetail, roles=["provider", "bureau", "admin"],
         tags=["cases"])
async def get_case(request: web.Request, query: DetailQuery) -> CaseDetail:
    """案件详情：提交的完整申请内容、各版本、核实意见与审核记录"""
    return await handlers.get_case(ctx(request), principal_of(request), request.match_info["case_id"], query.version)


@api.post("/cases/{case_id}/verification", body=VerificationIn, response=CaseDetail, roles=["provider"],
          tags=["verification"])
async def verify_case(request: web.Request, body: VerificationIn) -> CaseDetail:
    """核实提交：填写核实意见，通过则提交管局，退回则返回修改"""
    return await handlers.verify(ctx(request), principal_of(request), request.match_info["case_id"],
                                 result=body.result, opinion=body.opinion, version=body.version)


@api.post("/cases/{case_id}/preapproval", body=PreapprovalIn, response=CaseDetail, roles=["bureau"],
          tags=["review"])
async def record_preapproval(request: web.Request, body: PreapprovalIn) -> CaseDetail:
    """录入前置审批结果：通过则回到管局审核，未通过则驳回"""
    return await handlers.record_preapproval(ctx(request), principal_of(request), request.match_info["case_id"],
                                             result=body.result, note=body.note)


@api.post("/cases/{case_id}/decision", body=DecisionIn, response=CaseDetail, roles=["bureau"], tags=["review"])
async def decide_case(request: web.Request, body: DecisionIn) -> CaseDetail:
    """管局审核：通过（发放备案号）或驳回（须填写原因）"""
    return await handlers.decide(ctx(request), principal_of(request), request.match_info["case_id"],
                                 decision=body.decision, reason=body.reason, version=body.version)
