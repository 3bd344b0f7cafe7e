"""HTTP surface of the reporting service (thin: parse → query → respond)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from services.reporting import export, store, views
from services.reporting.queries import FilingQuery, ProgressQuery
from shared.auth import Role
from shared.service import ctx
from shared.web import Api, not_found, principal_of

api = Api("reporting", "ICP 备案 — 查询统计服务")
ROLES = ["provider", "bureau", "admin"]


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


# ---------------------------------------------------------------- progress (1.7.1)


class ProgressItem(BaseModel):
    application_id: str
    type: str
    type_name: str
    version: int
    sponsor_name: str
    domains: list[str]
    website_names: list[str]
    province: str
    province_name: str
    submitted_at: datetime
    resubmitted_at: datetime
    status: str
    status_name: str
    progress: str
    progress_name: str
    status_at: datetime
    decided_at: datetime | None
    reason: str
    needs_preapproval: bool


class ProgressList(BaseModel):
    items: list[ProgressItem]
    total: int
    total_more: bool = False  # more matches than `total` (counting stops at 10,000)
    page: int
    page_size: int


class HistoryItem(BaseModel):
    version: int
    status: str
    status_name: str
    progress_name: str
    note: str
    at: datetime


class ProgressDetail(ProgressItem):
    history: list[HistoryItem]


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(what) from None


@api.get("/progress", query=ProgressQuery, response=ProgressList, roles=ROLES, tags=["progress"])
async def list_progress(request: web.Request, query: ProgressQuery) -> dict[str, Any]:
    """网站备案进度查询（审核中 / 前置审批中 / 已通过、已驳回）；条件可组合，为空时列出全部"""
    rows, total, more = await store.list_progress(ctx(request).pool, principal_of(request), query)
    return {"items": [views.progress_item(r) for r in rows], "total": total, "total_more": more, "page": query.page,
            "page_size": query.page_size}


@api.get("/progress/{application_id}", response=ProgressDetail, roles=ROLES, tags=["progress"])
async def progress_detail(request: web.Request) -> dict[str, Any]:
    """一个申请的进度及其状态历史"""
    app_id = _uuid(request.match_info["application_id"], "申请")
    row, history = await store.progress_detail(ctx(request).pool, principal_of(request), app_id)
    if row is None:
        raise not_found("申请")
    return {**views.progress_item(row), "history": [views.history_item(h) for h in history]}


# ---------------------------------------------------------------- filings, combined query (1.7.2, 1.7.3)


class FilingItem(BaseModel):
    website_id: str
    subject_id: str
    website_no: str
    subject_no: str
    website_name: str
    sponsor_name: str
    nature: str
    nature_name: str
    province: str
    province_name: str
    filing_method: str
    filing_method_name: str
    status: str
    status_name: str
    domains: list[str]
    home_urls: list[str]
    service_content: list[str]
    service_content_names: list[str]
    languages: list[str]
    access_methods: list[str]
    access_method_names: list[str]
    server_locations: list[str]
    approved_at: datetime
    cancelled_at: datetime | None


class FilingList(BaseModel):
    items: list[FilingItem]
    total: int
    total_more: bool = False  # more matches than `total` (counting stops at 10,000)
    page: int
    page_size: int


class FilingDetail(BaseModel):
    """主体信息（负责人证件号码已脱敏）、网站、域名、接入信息、备案号、日期、备案方式。"""

    subject: dict[str, Any]
    status: str
    status_name: str
    filing_method: str
    filing_method_name: str
    approved_at: datetime | None
    cancelled_at: datetime | None
    filing_provider_name: str
    websites: list[dict[str, Any]]


@api.get("/filings", query=FilingQuery, response=FilingList, roles=ROLES, tags=["filings"])
async def list_filings(request: web.Request, query: FilingQuery) -> dict[str, Any]:
    """网站备案信息查询 / 组合查询：已备案（有备案号）的网站；条件可组合，为空时列出全部"""
    rows, total, more = await store.list_filings(ctx(request).pool, principal_of(request), query)
    return {"items": [views.filing_item(r) for r in rows], "total": total, "total_more": more, "page": query.page,
            "page_size": query.page_size}


@api.get("/filings/export", query=FilingQuery, roles=ROLES, tags=["filings"])
async def export_filings(request: web.Request, query: FilingQuery) -> web.StreamResponse:
    """组合查询结果导出为 Excel（.xlsx，流式生成，不分页）"""
    return await export.filings_xlsx(request, ctx(request).pool, principal_of(request), query)


@api.get("/filings/{website_id}", response=FilingDetail, roles=ROLES, tags=["filings"])
async def filing_detail(request: web.Request) -> dict[str, Any]:
    """备案详细信息：主体、负责人（证件号码脱敏）、网站、域名、接入信息、备案号与日期"""
    pool, principal = ctx(request).pool, principal_of(request)
    row = await store.website_visible(pool, principal, _uuid(request.match_info["website_id"], "备案网站"))
    if row is None:
        raise not_found("备案网站")
    state = await store.subject_state(pool, row["subject_id"])
    if state is None:
        raise not_found("备案网站")
    provider_id = principal.provider_id if principal.role == Role.PROVIDER else None
    visible = None
    if provider_id is not None:
        visible = {w["website_id"] for w in state["websites"]
                   if any(a["provider_id"] == provider_id and a["status"] == "ACTIVE" for a in w.get("accesses", []))}
    ids = {state["provider_id"]} | {a["provider_id"] for w in state["websites"] for a in w.get("accesses", [])}
    return views.detail(state, visible, provider_id, await store.provider_names(pool, sorted(ids)))
