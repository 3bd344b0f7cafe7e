"""1.4.1 / 1.4.3 finding a filed subject to add a website to or to change, across all providers.

The answer holds only what the public lookup shows (numbers, names, nature, province, websites and
their domains) plus 备案方式 and whether this provider already serves the subject; everything else
("view all") needs the sponsor's username and password (权限验证), checked like a login.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from services.filing.changes import store as cs
from services.filing.changes.model import SponsorCredentials
from services.filing.records import handlers as records
from services.filing.records.store import LIVE, Where, like
from shared import codes
from shared import validate as v
from shared.auth import Principal, Role
from shared.fields import optional_text_field
from shared.service import ServiceContext, ctx
from shared.web import Api, invalid, not_found, tenant_of

api = Api("filing", "ICP 备案 — 查找已备案主体")
TAGS = ["changes"]
LIMIT = 20
FILING_METHODS = {"SELF": "自主备案", "PROXY": "代为备案"}


class SearchQuery(BaseModel):
    number: optional_text_field(40) = Field("", description="主体备案号或网站备案号")
    cert_number: optional_text_field(50) = Field("", description="主办单位证件号码（精确）")
    sponsor_name: optional_text_field(100) = Field("", description="主办单位名称包含（至少 2 个字）")
    domain: optional_text_field(253) = Field("", description="网站域名")


class FoundWebsite(BaseModel):
    website_no: str | None
    name: str
    domains: list[str]


class FoundSubject(BaseModel):
    id: str
    subject_no: str | None
    name: str
    nature_name: str
    province_name: str
    filing_method: str
    filing_method_name: str
    served_by_me: bool = Field(description="本接入服务提供者已为其提供接入（或代为备案）")
    websites: list[FoundWebsite]


class SearchOut(BaseModel):
    items: list[FoundSubject]
    total: int
    truncated: bool


class ViewIn(BaseModel):
    sponsor: SponsorCredentials


def _where(q: SearchQuery) -> Where:
    w = Where()
    w.add(f"s.status {LIVE} AND s.subject_no IS NOT NULL")  # filed subjects only
    errors = []
    if q.number:
        p = w.param(v.normalize_text(q.number).upper())
        w.add(f"(upper(s.subject_no) = {p} OR EXISTS (SELECT 1 FROM websites x WHERE x.subject_id = s.id "
              f"AND upper(x.website_no) = {p}))")
    if q.cert_number:
        w.add(f"upper(s.cert_number) = {w.param(v.normalize_text(q.cert_number).upper())}")
    if q.sponsor_name:
        if len(q.sponsor_name) < 2:
            errors.append({"field": "sponsor_name", "message": "至少输入 2 个字"})
        w.add(f"s.name ILIKE {w.param(like(q.sponsor_name))}")
    if q.domain:
        try:
            d = v.validate_domain(q.domain, allow_gov_subdomain=True).ascii
        except v.InvalidValue as e:
            errors.append({"field": "domain", "message": e.message})
            d = ""
        w.add(f"EXISTS (SELECT 1 FROM domains d WHERE d.subject_id = s.id AND d.ascii = {w.param(d)} "
              f"AND d.status {LIVE})")
    if not (q.number or q.cert_number or q.sponsor_name or q.domain):
        errors.append({"field": "number", "message": "请至少填写备案号、证件号码、主办单位名称或域名中的一项"})
    if errors:
        raise invalid(errors)
    return w


async def search(c: ServiceContext, provider_id: str, q: SearchQuery) -> SearchOut:
    w = _where(q)
    pid = w.param(provider_id)
    rows = await c.pool.fetch(
        f"""SELECT s.id, s.subject_no, s.name, s.nature, s.province, s.filing_method,
                   (coalesce(s.provider_id = {pid}, false) OR EXISTS (SELECT 1 FROM accesses a WHERE a.subject_id = s.id
                        AND a.provider_id = {pid} AND a.status {LIVE})) AS served
            FROM subjects s WHERE {w.sql()} ORDER BY s.approved_at DESC NULLS LAST, s.id LIMIT {LIMIT + 1}""",
        *w.params)
    truncated = len(rows) > LIMIT
    rows = rows[:LIMIT]
    sites = await c.pool.fetch(
        f"""SELECT x.subject_id, x.website_no, x.name,
                   array(SELECT d.unicode FROM domains d WHERE d.website_id = x.id AND d.status {LIVE}
                         ORDER BY d.position) AS domains
            FROM websites x WHERE x.subject_id = ANY($1::uuid[]) AND x.status {LIVE} AND x.website_no IS NOT NULL
            ORDER BY x.position""", [r["id"] for r in rows])
    by_subject: dict[Any, list[FoundWebsite]] = {}
    for s in sites:
        by_subject.setdefault(s["subject_id"], []).append(
            FoundWebsite(website_no=s["website_no"], name=s["name"], domains=list(s["domains"])))
    items = []
    for r in rows:
        prov = codes.province_by_gb(r["province"])
        items.append(FoundSubject(
            id=str(r["id"]), subject_no=r["subject_no"], name=r["name"],
            nature_name=codes.name_zh("unit_natures", r["nature"]), province_name=prov["name_zh"] if prov else "",
            filing_method=r["filing_method"], filing_method_name=FILING_METHODS[r["filing_method"]],
            served_by_me=r["served"], websites=by_subject.get(r["id"], []),
        ))
    return SearchOut(items=items, total=len(items), truncated=truncated)


async def view_all(c: ServiceContext, subject_id: str, body: ViewIn) -> dict[str, Any]:
    """The whole subject as its sponsor sees it, once the sponsor's credentials check out."""
    try:
        sid = uuid.UUID(subject_id)
    except ValueError:
        raise not_found("主体") from None
    subject = await c.pool.fetchrow("SELECT * FROM subjects WHERE id = $1 AND subject_no IS NOT NULL", sid)
    if subject is None or subject["sponsor_user_id"] is None:
        raise not_found("主体")
    await cs.verify_sponsor(c, subject, body.sponsor.username, body.sponsor.password)
    sponsor = Principal(session_id="", user_id=str(subject["sponsor_user_id"]), role=Role.SPONSOR,
                        username=body.sponsor.username)
    return await records.subject_detail(c, sponsor, subject_id)


@api.get("/filed-subjects", query=SearchQuery, response=SearchOut, roles=["provider"], tags=TAGS)
async def search_subjects(request: web.Request, query: SearchQuery) -> SearchOut:
    """查找已备案主体（所有接入服务提供者）：按备案号、证件号码、主办单位名称或域名；仅返回公开信息、备案方式及本单位是否已提供接入"""
    return await search(ctx(request), tenant_of(request), query)


@api.post("/filed-subjects/{subject_id}/view", body=ViewIn, roles=["provider"], tags=TAGS, errors=[403, 404, 423])
async def view_subject(request: web.Request, body: ViewIn) -> dict:
    """查看全部（权限验证）：凭主办者提供的用户名和密码查看该主体的全部备案信息"""
    tenant_of(request)  # providers only
    return to_jsonable_python(await view_all(ctx(request), request.match_info["subject_id"], body))
