"""Blacklists: the filing blacklist (备案信息黑名单, seed 1.9.1), maintained by the regulator and the
admin and published to filing, and the illegal-access list (非法接入黑名单, seed 1.9.2): blacklisted
filings a provider still serves, from the projection of filing's records."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from services.detection.queries import Where, _like
from shared import codes
from shared import validate as v
from shared.auth import Principal, Role
from shared.blacklist import cert_digest, cert_key
from shared.contracts.detection import BlacklistChanged
from shared.db import transaction
from shared.fields import DomainName, code_field, optional_text_field, text_field
from shared.service import ctx
from shared.web import Api, Problem, invalid, not_found, principal_of

api = Api("detection", "ICP 备案 — 未备案检测服务")
READERS = ["admin", "bureau", "provider"]
MAINTAINERS = ["admin", "bureau"]


# ---------------------------------------------------------------- models


class BlacklistIn(BaseModel):
    """列入备案信息黑名单：主体（主办单位名称、证件）或网站（域名），须填写原因。"""

    kind: Literal["SUBJECT", "WEBSITE"]
    sponsor_name: optional_text_field(100) = ""
    cert_type: code_field("certificate_types") | None = None
    cert_number: optional_text_field(50) = ""
    website_name: optional_text_field(100) = ""
    domains: list[DomainName] = Field([], max_length=50)
    reason: text_field(500)

    def missing(self) -> list[dict[str, str]]:
        """The fields this kind of entry needs and lacks."""
        if self.kind == "WEBSITE":
            return [] if self.domains else [{"field": "domains", "message": "列入网站时至少须填写一个"}]
        need = ("sponsor_name", "cert_type", "cert_number")  # named by field_labels in the detail
        return [{"field": k, "message": "列入主体时必填"} for k in need if not getattr(self, k)]


class RemovalIn(BaseModel):
    reason: text_field(500)


class BlacklistQuery(BaseModel):
    """备案信息黑名单查询（1.9.1）：只能使用一个条件——主办单位名称或域名；值为空时列出该类全部。"""

    sponsor_name: str | None = Field(None, max_length=100)
    domain: str | None = Field(None, max_length=253)
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


class BlacklistEntry(BaseModel):
    id: str
    kind: str
    sponsor_name: str
    cert_type: str
    cert_type_name: str | None
    cert_number: str  # masked for a personal ID unless the caller maintains the list
    website_name: str
    domains: list[str]
    reason: str
    listed_at: dt.datetime
    listed_by: str
    listed_province: str | None
    active: bool
    removed_at: dt.datetime | None = None
    removed_by: str | None = None
    removal_reason: str | None = None


class BlacklistPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[BlacklistEntry]


def _entry(r: Any, who: Principal) -> BlacklistEntry:
    number = r["cert_number"]
    if number and r["cert_family"] == "PERSON_ID" and who.role not in (Role.ADMIN, Role.BUREAU):
        number = v.mask_id_number(number)
    return BlacklistEntry(
        id=str(r["id"]), kind=r["kind"], sponsor_name=r["sponsor_name"], cert_type=r["cert_type"],
        cert_type_name=codes.name_zh("certificate_types", r["cert_type"]) if r["cert_type"] else None,
        cert_number=number, website_name=r["website_name"], domains=list(r["domains"]), reason=r["reason"],
        listed_at=r["listed_at"], listed_by=r["listed_by"], listed_province=r["listed_province"],
        active=r["removed_at"] is None, removed_at=r["removed_at"], removed_by=r["removed_by"],
        removal_reason=r["removal_reason"],
    )


def _event(r: Any, action: str, at: dt.datetime) -> BlacklistChanged:
    return BlacklistChanged(
        entry_id=str(r["id"]), action=action, kind=r["kind"], sponsor_name=r["sponsor_name"], cert_type=r["cert_type"],
        cert_digest=r["cert_digest"],
        cert_number_masked=v.mask_id_number(r["cert_number"]) if r["cert_number"] else "",
        website_name=r["website_name"], domains=list(r["domains"]),
        reason=r["reason"] if action == "listed" else (r["removal_reason"] or ""), changed_at=at,
    )


def _entry_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["id"])
    except ValueError:
        raise not_found("黑名单记录") from None


# ---------------------------------------------------------------- filing blacklist (1.9.1)


@api.post("/blacklist", body=BlacklistIn, response=BlacklistEntry, roles=MAINTAINERS, status=201, tags=["blacklist"])
async def add_entry(request: web.Request, body: BlacklistIn) -> BlacklistEntry:
    """列入备案信息黑名单（管局、管理员）：主体按证件、网站按域名；发布事件，备案服务据此拒绝新的备案"""
    who = principal_of(request)
    c = ctx(request)
    family = number = digest = ""
    if body.missing():
        raise invalid(body.missing())
    if body.kind == "SUBJECT":
        try:
            number = v.validate_cert_number(body.cert_type or "", body.cert_number)
        except v.InvalidValue as e:
            raise invalid([{"field": "cert_number", "message": e.message}]) from None
        family, number = cert_key(body.cert_type or "", number)
        digest = cert_digest(family, number)
    domains = sorted(set(body.domains)) if body.kind == "WEBSITE" else []
    async with transaction(c.pool) as conn:
        # one active entry per certificate / domain (serialised per list, so two regulators listing the
        # same certificate at once cannot both succeed)
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('detection.blacklist'))")
        if body.kind == "SUBJECT":
            dup = await conn.fetchval(
                "SELECT id FROM blacklist WHERE removed_at IS NULL AND kind = 'SUBJECT' AND cert_digest = $1", digest)
            if dup:
                raise Problem(409, "该证件已在备案信息黑名单中", errors=[
                    {"field": "cert_number", "message": "该证件已在备案信息黑名单中"}], existing_id=str(dup))
        else:
            dup = await conn.fetchrow(
                """SELECT id, d FROM blacklist, unnest(domains) d
                    WHERE removed_at IS NULL AND kind = 'WEBSITE' AND domains && $1::text[] AND d = ANY($1::text[])
                    LIMIT 1""", domains)
            if dup:
                i = body.domains.index(dup["d"]) if dup["d"] in body.domains else 0
                raise Problem(409, f"域名 {dup['d']} 已在备案信息黑名单中", errors=[
                    {"field": f"domains[{i}]", "message": "该域名已在备案信息黑名单中"}], existing_id=str(dup["id"]))
        row = await conn.fetchrow(
            """INSERT INTO blacklist (id, kind, sponsor_name, cert_type, cert_number, cert_family, cert_digest,
                                      website_name, domains, reason, listed_by, listed_province)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
            uuid.uuid4(), body.kind, body.sponsor_name, body.cert_type or "", number, family, digest,
            body.website_name, domains, body.reason, who.user_id, who.province if who.role == Role.BUREAU else None,
        )
        await c.outbox.add(conn, _event(row, "listed", row["listed_at"]))
    return _entry(row, who)


@api.post("/blacklist/{id}/removal", body=RemovalIn, response=BlacklistEntry, roles=MAINTAINERS, tags=["blacklist"])
async def remove_entry(request: web.Request, body: RemovalIn) -> BlacklistEntry:
    """移出备案信息黑名单（管局：本省列入的；管理员：全部），须填写原因；发布事件"""
    who = principal_of(request)
    c = ctx(request)
    async with transaction(c.pool) as conn:
        row = await conn.fetchrow("SELECT * FROM blacklist WHERE id = $1 FOR UPDATE", _entry_id(request))
        if row is None:
            raise not_found("黑名单记录")
        if who.role == Role.BUREAU and row["listed_province"] != who.province:
            raise Problem(403, "只能移出本省管局列入的黑名单记录")
        if row["removed_at"] is not None:
            raise Problem(409, "该记录已移出黑名单")
        row = await conn.fetchrow(
            """UPDATE blacklist SET removed_at = now(), removed_by = $2, removal_reason = $3 WHERE id = $1
               RETURNING *""", row["id"], who.user_id, body.reason)
        await c.outbox.add(conn, _event(row, "removed", row["removed_at"]))
    return _entry(row, who)


@api.get("/blacklist", query=BlacklistQuery, response=BlacklistPage, roles=READERS, tags=["blacklist"])
async def query_blacklist(request: web.Request, query: BlacklistQuery) -> BlacklistPage:
    """备案信息黑名单查询（1.9.1）：sponsor_name 与 domain 二选一；值为空列出全部黑名单主体或全部黑名单网站"""
    who = principal_of(request)
    given = [k for k in ("sponsor_name", "domain") if k in request.query]
    if len(given) != 1:
        raise Problem(400, "查询条件只能使用一个：主办单位名称（sponsor_name）或域名（domain）", errors=[
            {"field": "sponsor_name", "message": "主办单位名称与域名须且只能填写其一（值可为空）"}])
    w = Where("removed_at IS NULL", [])
    if given[0] == "sponsor_name":
        w.add("kind = 'SUBJECT'")
        if (query.sponsor_name or "").strip():
            w.add(f"sponsor_name LIKE {w.param('%' + _like(query.sponsor_name.strip()) + '%')}")
    else:
        w.add("kind = 'WEBSITE'")
        text = (query.domain or "").strip().lower()
        if text:
            w.add(f"EXISTS (SELECT 1 FROM unnest(domains) d WHERE d LIKE {w.param('%' + _like(text) + '%')})")
    pool = ctx(request).pool
    total = await pool.fetchval(f"SELECT count(*) FROM blacklist WHERE {w.sql}", *w.args)
    rows = await pool.fetch(
        f"SELECT * FROM blacklist WHERE {w.sql} ORDER BY listed_at DESC, id LIMIT {w.param(query.page_size)} "
        f"OFFSET {w.param((query.page - 1) * query.page_size)}", *w.args)
    return BlacklistPage(total=total, page=query.page, page_size=query.page_size, items=[_entry(r, who) for r in rows])


@api.get("/blacklist/{id}", response=BlacklistEntry, roles=READERS, tags=["blacklist"])
async def blacklist_detail(request: web.Request) -> BlacklistEntry:
    """黑名单记录详细信息"""
    row = await ctx(request).pool.fetchrow("SELECT * FROM blacklist WHERE id = $1", _entry_id(request))
    if row is None:
        raise not_found("黑名单记录")
    return _entry(row, principal_of(request))


# ---------------------------------------------------------------- illegal access (1.9.2)


class IllegalAccessQuery(BaseModel):
    """非法接入黑名单查询（1.9.2）：条件可组合；为空时列出已列入黑名单但本单位仍在接入的全部备案。"""

    website_no: optional_text_field(50) | None = Field(None, description="网站备案号（包含）")
    sponsor_name: optional_text_field(100) | None = Field(None, description="主办单位名称（包含）")
    website_name: optional_text_field(100) | None = Field(None, description="网站名称（包含）")
    domain: optional_text_field(253) | None = Field(None, description="域名（包含）")
    kind: Literal["SUBJECT", "WEBSITE"] | None = Field(None, description="列入黑名单的是主体还是网站")
    provider_id: optional_text_field(64) | None = Field(None, description="接入服务提供者（管局、管理员）")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        return {k: x for k, x in data.items() if x != ""} if isinstance(data, dict) else data


class IllegalAccess(BaseModel):
    provider_id: str
    website_id: str
    website_no: str | None
    website_name: str
    domains: list[str]
    ip_ranges: list[str]
    subject_no: str | None
    sponsor_name: str
    cert_number: str  # masked for personal IDs
    blacklist_id: str
    blacklist_kind: str
    blacklist_reason: str
    listed_at: dt.datetime


class IllegalAccessPage(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[IllegalAccess]


@api.get("/illegal-access", query=IllegalAccessQuery, response=IllegalAccessPage, roles=READERS, tags=["blacklist"])
async def illegal_access(request: web.Request, query: IllegalAccessQuery) -> IllegalAccessPage:
    """非法接入黑名单（1.9.2）：已列入黑名单、本单位仍有有效接入的备案（管局：本省主体；管理员：全部）"""
    who = principal_of(request)
    if who.role == Role.PROVIDER:
        w = Where("a.provider_id = $1", [who.provider_id])
    elif who.role == Role.BUREAU:
        gb = (codes.get("provinces", who.province or "") or {}).get("gb2260", "")
        w = Where("left(s.province, 2) = $1", [gb])
    else:
        w = Where("true", [])
    if query.provider_id and who.role != Role.PROVIDER:
        w.add(f"a.provider_id = {w.param(query.provider_id)}")
    if query.website_no:
        w.add(f"w.website_no LIKE {w.param('%' + _like(query.website_no) + '%')}")
    if query.sponsor_name:
        w.add(f"s.name LIKE {w.param('%' + _like(query.sponsor_name) + '%')}")
    if query.website_name:
        w.add(f"w.name LIKE {w.param('%' + _like(query.website_name) + '%')}")
    if query.domain:
        w.add(f"EXISTS (SELECT 1 FROM unnest(w.domains) x WHERE x LIKE {w.param('%' + _like(query.domain.lower()) + '%')})")
    if query.kind:
        w.add(f"b.kind = {w.param(query.kind)}")
    base = f"""FROM filed_accesses a
               JOIN filed_websites w ON w.website_id = a.website_id
               JOIN filed_subjects s ON s.subject_id = w.subject_id
               JOIN blacklist b ON b.removed_at IS NULL AND (
                    (b.kind = 'SUBJECT' AND b.cert_digest = s.cert_digest)
                 OR (b.kind = 'WEBSITE' AND b.domains && w.domains))
              WHERE w.status IN ('ACTIVE', 'NO_ACCESS', 'BLACKLISTED') AND {w.sql}"""
    pool = ctx(request).pool
    total = await pool.fetchval(f"SELECT count(*) {base}", *w.args)
    rows = await pool.fetch(
        f"""SELECT a.provider_id, a.ip_ranges, w.website_id, w.website_no, w.name AS website_name, w.domains,
                   s.subject_no, s.name AS sponsor_name, s.cert_masked, b.id AS blacklist_id, b.kind, b.reason,
                   b.listed_at
            {base} ORDER BY b.listed_at DESC, w.website_no, a.provider_id
            LIMIT {w.param(query.page_size)} OFFSET {w.param((query.page - 1) * query.page_size)}""", *w.args)
    return IllegalAccessPage(total=total, page=query.page, page_size=query.page_size, items=[IllegalAccess(
        provider_id=r["provider_id"], website_id=str(r["website_id"]), website_no=r["website_no"],
        website_name=r["website_name"], domains=list(r["domains"]), ip_ranges=list(r["ip_ranges"]),
        subject_no=r["subject_no"], sponsor_name=r["sponsor_name"], cert_number=r["cert_masked"],
        blacklist_id=str(r["blacklist_id"]), blacklist_kind=r["kind"], blacklist_reason=r["reason"],
        listed_at=r["listed_at"]) for r in rows])
