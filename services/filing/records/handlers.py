"""Filed records: subjects and websites with their numbers, access and application history.

Visibility (DOMAIN §7.6): a provider sees the subjects it filed or gives access to (another
tenant's id answers 404), a bureau its province, a sponsor its own subject, an admin all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.filing import audit
from services.filing.records import store
from shared import codes
from shared.auth import Principal, Role
from shared.service import ServiceContext
from shared.web import not_found

SubjectStatus = Literal["PENDING", "ACTIVE", "NO_ACCESS", "SHELL", "BLACKLISTED", "CANCELLED", "WITHDRAWN"]


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    page: int = Field(1, ge=1, le=100000, description="页码，从 1 开始")
    page_size: int = Field(20, ge=1, le=200, description="每页条数（最多 200）")
    cert_number: str | None = Field(None, max_length=50, description="主办单位证件号码（精确）")
    domain: str | None = Field(None, max_length=253, description="域名（包含）")
    filing_no: str | None = Field(None, max_length=60, description="备案号：主体或网站备案号（包含）")
    filing_method: Literal["SELF", "PROXY"] | None = Field(None, description="备案方式：自主备案 / 代为备案")
    province: str | None = Field(None, max_length=6, description="主体所属省份（BJ 或 110000）")
    created_from: dt.date | None = Field(None, description="录入日期起")
    created_to: dt.date | None = Field(None, description="录入日期止（含）")
    approved_from: dt.date | None = Field(None, description="审核通过日期起")
    approved_to: dt.date | None = Field(None, description="审核通过日期止（含）")


class SubjectQuery(_Query):
    name: str | None = Field(None, max_length=100, description="主办单位名称（包含）")
    status: SubjectStatus | None = Field(None, description="主体状态")
    nature: str | None = Field(None, max_length=40, description="主办单位性质")
    application_status: str | None = Field(None, max_length=40, description="最近一次申请的状态")


class WebsiteQuery(_Query):
    name: str | None = Field(None, max_length=100, description="网站名称（包含）")
    subject_name: str | None = Field(None, max_length=100, description="主办单位名称（包含）")
    subject_id: str | None = Field(None, max_length=40, description="主体 id")
    status: Literal["PENDING", "ACTIVE", "NO_ACCESS", "BLACKLISTED", "CANCELLED", "WITHDRAWN"] | None = None
    needs_preapproval: bool | None = Field(None, description="是否涉及前置审批")


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=200)


def as_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise not_found(what) from None


def _app_brief(r) -> dict[str, Any] | None:
    if r["application_id"] is None:
        return None
    return {
        "id": str(r["application_id"]),
        "type": r["application_type"],
        "status": r["application_status"],
        "status_name": codes.name_zh("application_statuses", r["application_status"]) or r["application_status"],
        "version": r["application_version"],
    }


async def list_subjects(ctx: ServiceContext, principal: Principal, q: SubjectQuery) -> dict[str, Any]:
    rows, total = await store.list_subjects(ctx.pool, principal, q)
    items = [
        {
            "id": str(r["id"]),
            "name": r["name"],
            "nature": r["nature"],
            "nature_name": codes.name_zh("unit_natures", r["nature"]),
            "cert_type": r["cert_type"],
            "cert_number": r["cert_number"],
            "province": r["province"],
            "subject_no": r["subject_no"],
            "status": r["status"],
            "filing_method": r["filing_method"],
            "website_count": r["website_count"],
            "application": _app_brief(r),
            "created_at": r["created_at"],
            "approved_at": r["approved_at"],
            "updated_at": r["updated_at"],
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": q.page, "page_size": q.page_size}


async def list_websites(ctx: ServiceContext, principal: Principal, q: WebsiteQuery) -> dict[str, Any]:
    rows, total = await store.list_websites(ctx.pool, principal, q)
    items = [
        {
            "id": str(r["id"]),
            "subject_id": str(r["subject_id"]),
            "subject_name": r["subject_name"],
            "subject_no": r["subject_no"],
            "name": r["name"],
            "domains": r["domains"],
            "home_urls": r["home_urls"],
            "website_no": r["website_no"],
            "status": r["status"],
            "filing_method": r["filing_method"],
            "province": r["province"],
            "needs_preapproval": r["needs_preapproval"],
            "application": _app_brief(r),
            "created_at": r["created_at"],
            "approved_at": r["approved_at"],
            "updated_at": r["updated_at"],
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": q.page, "page_size": q.page_size}


# ---------------------------------------------------------------- details


def _website_out(w, domains, accesses, subject_principal: dict, principal: Principal) -> dict[str, Any]:
    return {
        "id": str(w["id"]),
        "subject_id": str(w["subject_id"]),
        "position": w["position"],
        "website_no": w["website_no"],
        "status": w["status"],
        "service_type": w["service_type"],
        "name": w["name"],
        "domains": [
            {"domain": d["ascii"], "unicode": d["unicode"], "status": d["status"]}
            for d in domains if d["website_id"] == w["id"]
        ],
        "home_urls": w["home_urls"],
        "service_content": w["service_content"],
        "preapprovals": w["preapprovals"],
        "needs_preapproval": w["needs_preapproval"],
        "languages": w["languages"],
        "remark": w["remark"],
        "principal_same_as_subject": w["principal_same_as_subject"],
        "principal": subject_principal if w["principal_same_as_subject"] or w["principal"] is None else w["principal"],
        "accesses": [
            {
                "id": str(a["id"]),
                "provider_id": a["provider_id"],
                "access_methods": a["access_methods"],
                "ip_ranges": a["ip_ranges"],
                "server_locations": a["server_locations"],
                "status": a["status"],
                "created_at": a["created_at"],
            }
            for a in accesses
            if a["website_id"] == w["id"]
            and (principal.role != Role.PROVIDER or a["provider_id"] == principal.provider_id)
        ],
        "created_at": w["created_at"],
        "approved_at": w["approved_at"],
        "updated_at": w["updated_at"],
    }


def _applications_out(apps, history) -> tuple[list[dict[str, Any]], str | None, str | None]:
    by_app: dict[Any, list[dict[str, Any]]] = {}
    last_return = last_reject = None
    for h in history:
        by_app.setdefault(h["application_id"], []).append(
            {"status": h["status"], "status_name": codes.name_zh("application_statuses", h["status"]) or h["status"],
             "version": h["version"], "note": h["note"], "actor": h["actor"], "at": h["at"]}
        )
    out = []
    for a in apps:
        out.append(
            {
                "id": str(a["id"]),
                "type": a["type"],
                "type_name": codes.name_zh("filing_types", a["type"]) or a["type"],
                "status": a["status"],
                "status_name": codes.name_zh("application_statuses", a["status"]) or a["status"],
                "version": a["version"],
                "province": a["province"],
                "source": a["source"],
                "needs_preapproval": a["needs_preapproval"],
                "verify_opinion": a["verify_opinion"],
                "verified_at": a["verified_at"],
                "bureau_reason": a["bureau_reason"],
                "decided_at": a["decided_at"],
                "submitted_at": a["submitted_at"],
                "submitted_by": a["submitted_by"],
                "corrected_at": a["corrected_at"],
                "history": by_app.get(a["id"], []),
            }
        )
    # newest first across applications
    for h in sorted(history, key=lambda h: h["id"], reverse=True):
        if h["status"] == "VERIFY_RETURNED" and last_return is None:
            last_return = h["note"]
        if h["status"] == "REJECTED" and last_reject is None:
            last_reject = h["note"]
    return out, last_return, last_reject


async def subject_detail(ctx: ServiceContext, principal: Principal, subject_id: str) -> dict[str, Any]:
    sid = as_uuid(subject_id, "主体")
    async with ctx.pool.acquire() as conn:
        s = await store.subject_visible(conn, principal, sid)
        if s is None:
            raise not_found("主体")
        websites, domains, accesses = await store.subject_parts(conn, sid)
        apps = await store.applications_of(conn, sid)
        history = await store.history_of(conn, [a["id"] for a in apps])
        sponsor = (
            await conn.fetchval("SELECT username FROM users WHERE id = $1", s["sponsor_user_id"])
            if s["sponsor_user_id"] else None
        )
    applications, last_return, last_reject = _applications_out(apps, history)
    return {
        "id": str(s["id"]),
        "provider_id": s["provider_id"],
        "subject_no": s["subject_no"],
        "status": s["status"],
        "filing_method": s["filing_method"],
        "nature": s["nature"],
        "nature_name": codes.name_zh("unit_natures", s["nature"]),
        "cert_type": s["cert_type"],
        "cert_number": s["cert_number"],
        "name": s["name"],
        "cert_address": s["cert_address"],
        "province": s["province"],
        "city": s["city"],
        "county": s["county"],
        "mail_address": s["mail_address"],
        "investor_or_superior": s["investor_or_superior"],
        "remark": s["remark"],
        "principal": s["principal"],
        "sponsor_username": sponsor,
        "websites": [_website_out(w, domains, accesses, s["principal"], principal) for w in websites],
        "applications": applications,
        "last_return_reason": last_return,
        "last_rejection_reason": last_reject,
        "created_at": s["created_at"],
        "approved_at": s["approved_at"],
        "updated_at": s["updated_at"],
    }


async def website_detail(ctx: ServiceContext, principal: Principal, website_id: str) -> dict[str, Any]:
    wid = as_uuid(website_id, "网站")
    async with ctx.pool.acquire() as conn:
        w = await store.website_visible(conn, principal, wid)
        if w is None:
            raise not_found("网站")
        s = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1", w["subject_id"])
        domains = await conn.fetch("SELECT * FROM domains WHERE website_id = $1 ORDER BY position", wid)
        accesses = await conn.fetch("SELECT * FROM accesses WHERE website_id = $1 ORDER BY created_at", wid)
        apps = await store.applications_of(conn, w["subject_id"])
        history = await store.history_of(conn, [a["id"] for a in apps])
    applications, last_return, last_reject = _applications_out(apps, history)
    return {
        **_website_out(w, domains, accesses, s["principal"], principal),
        "subject": {
            "id": str(s["id"]),
            "name": s["name"],
            "subject_no": s["subject_no"],
            "status": s["status"],
            "nature": s["nature"],
            "province": s["province"],
            "filing_method": s["filing_method"],
        },
        "applications": applications,
        "last_return_reason": last_return,
        "last_rejection_reason": last_reject,
    }


async def subject_history(ctx: ServiceContext, principal: Principal, subject_id: str, q: HistoryQuery) -> dict[str, Any]:
    sid = as_uuid(subject_id, "主体")
    async with ctx.pool.acquire() as conn:
        if await store.subject_visible(conn, principal, sid) is None:
            raise not_found("主体")
        items, total = await audit.subject_history(conn, str(sid), limit=q.page_size, offset=(q.page - 1) * q.page_size)
    return {"items": items, "total": total, "page": q.page, "page_size": q.page_size}
