"""HTTP surface of the filed records: subjects, websites, their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from services.filing.changes import store as changes_store
from services.filing.records import handlers as records
from services.filing.records.handlers import HistoryQuery, SubjectQuery, WebsiteQuery
from shared.auth import Role
from shared.service import ctx
from shared.web import Api, principal_of

api = Api("filing", "ICP 备案 — 备案记录")
TAGS = ["records"]
ROLES = ["provider", "bureau", "sponsor", "admin"]


class ApplicationBrief(BaseModel):
    id: str
    type: str
    status: str
    status_name: str
    version: int


class SubjectItem(BaseModel):
    id: str
    name: str
    nature: str
    nature_name: str | None
    cert_type: str
    cert_number: str
    province: str
    subject_no: str | None
    status: str
    filing_method: str
    website_count: int
    application: ApplicationBrief | None
    created_at: datetime
    approved_at: datetime | None
    updated_at: datetime


class SubjectList(BaseModel):
    items: list[SubjectItem]
    total: int
    page: int
    page_size: int


class WebsiteItem(BaseModel):
    id: str
    subject_id: str
    subject_name: str
    subject_no: str | None
    name: str
    domains: list[str]
    home_urls: list[str]
    website_no: str | None
    status: str
    filing_method: str
    province: str
    needs_preapproval: bool
    application: ApplicationBrief | None
    created_at: datetime
    approved_at: datetime | None
    updated_at: datetime


class WebsiteList(BaseModel):
    items: list[WebsiteItem]
    total: int
    page: int
    page_size: int


class SubjectDetail(BaseModel):
    """主体详情：主体信息、负责人、网站（域名、接入、备案号）、申请及其状态历史、最近的退回/驳回原因。"""

    id: str
    subject_no: str | None
    status: str
    name: str
    principal: dict[str, Any]
    websites: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    last_return_reason: str | None
    last_rejection_reason: str | None
    change_needs_sponsor: bool | None = None


class WebsiteDetail(BaseModel):
    id: str
    website_no: str | None
    status: str
    name: str
    domains: list[dict[str, Any]]
    accesses: list[dict[str, Any]]
    subject: dict[str, Any]
    applications: list[dict[str, Any]]


class AuditItem(BaseModel):
    id: int
    entity: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    changes: dict[str, Any]
    request_id: str | None


class AuditList(BaseModel):
    items: list[AuditItem]
    total: int
    page: int
    page_size: int


@api.get("/subjects", query=SubjectQuery, response=SubjectList, roles=ROLES, tags=TAGS)
async def list_subjects(request: web.Request, query: SubjectQuery) -> dict:
    """主体列表（组合条件；无条件时列出本接入服务提供者的全部主体）"""
    return to_jsonable_python(await records.list_subjects(ctx(request), principal_of(request), query))


@api.get("/subjects/{subject_id}", response=SubjectDetail, roles=ROLES, tags=TAGS)
async def get_subject(request: web.Request) -> dict:
    """主体详情（接入服务提供者另见 change_needs_sponsor：变更主体是否须主办者用户名和密码）"""
    c, p = ctx(request), principal_of(request)
    out = await records.subject_detail(c, p, request.match_info["subject_id"])
    if p.role == Role.PROVIDER:
        out["change_needs_sponsor"] = changes_store.credentials_needed(
            out, p.provider_id or "", own_changes=c.settings.sponsor_auth_own_changes)
    return to_jsonable_python(out)


@api.get("/subjects/{subject_id}/history", query=HistoryQuery, response=AuditList, roles=ROLES, tags=TAGS)
async def subject_history(request: web.Request, query: HistoryQuery) -> dict:
    """主体、其网站与申请的变更记录（谁、何时、改了什么）"""
    return to_jsonable_python(await records.subject_history(
        ctx(request), principal_of(request), request.match_info["subject_id"], query
    ))


@api.get("/websites", query=WebsiteQuery, response=WebsiteList, roles=ROLES, tags=TAGS)
async def list_websites(request: web.Request, query: WebsiteQuery) -> dict:
    """网站列表（组合条件；无条件时列出本接入服务提供者的全部网站）"""
    return to_jsonable_python(await records.list_websites(ctx(request), principal_of(request), query))


@api.get("/websites/{website_id}", response=WebsiteDetail, roles=ROLES, tags=TAGS)
async def get_website(request: web.Request) -> dict:
    """网站详情"""
    return to_jsonable_python(await records.website_detail(ctx(request), principal_of(request), request.match_info["website_id"]))
