"""Query conditions of the reporting pages (pydantic query models) and the SQL they become.

Scope (DOMAIN §7.6): a provider sees the filings it gives access to (an active access record) and
its own applications; a bureau its province; the admin everything.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.reporting import model
from shared import codes
from shared import validate as v
from shared.auth import Principal, Role
from shared.fields import code_field
from shared.where import Where, like


def contains(w: Where, column: str, text: str) -> None:
    """`column` contains `text` (ILIKE '%text%'). A fragment of 1–2 characters (trigram indexes need 3)
    is looked up in the index of the lower-cased name's characters and character pairs (migration 014)
    instead: the same matches, as ILIKE compares the lower-cased texts and lower() maps a character to
    one character. (No ILIKE besides: its estimate would hide the index's, and its trigram index reads
    itself whole for a pattern without a trigram.)"""
    if len(text) > 2:
        w.add(f"{column} ILIKE {w.param(like(text))}")
    else:
        w.add(f"name_grams({column}) @> ARRAY[lower({w.param(text)}::text)]")


def province_gb(value: str | None) -> str | None:
    """A province as the GB/T 2260 code the read model stores (BJ, 11 or 110000 → 110000)."""
    if not value:
        return None
    row = codes.get("provinces", value.upper()) or (codes.province_by_gb(value[:2]) if value.isdigit() else None)
    return f"{row['gb2260']}0000" if row else None


def scope(w: Where, principal: Principal, *, provider_sql: str, province_sql: str) -> None:
    if principal.role == Role.PROVIDER:
        w.add(provider_sql.format(w.param(principal.provider_id)))
    elif principal.role == Role.BUREAU:
        w.add(f"{province_sql} = {w.param(province_gb(principal.province) or '-')}")
    elif principal.role != Role.ADMIN:
        w.add("false")


def website_scope(w: Where, principal: Principal, providers: str = "provider_ids") -> None:
    """`providers`: the column naming the providers that see a website (`stat_provider_ids` for the
    statistics: those with an access until the website was cancelled)."""
    scope(w, principal, provider_sql=f"w.{providers} @> ARRAY[{{}}]::text[]", province_sql="w.province")


def date_range(w: Where, column: str, start: dt.date | None, end: dt.date | None) -> None:
    if start is not None:
        w.add(f"{column} >= {w.param(start)}::date")
    if end is not None:
        w.add(f"{column} < {w.param(end)}::date + 1")


class Paged(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    page: int = Field(1, ge=1, le=100000, description="页码，从 1 开始")
    page_size: int = Field(20, ge=1, le=200, description="每页条数（最多 200）")
    order: Literal["asc", "desc"] = Field("desc", description="排序方向")

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        """An empty condition (a blank form field) is no condition."""
        if isinstance(data, dict):
            return {k: val for k, val in data.items() if val not in ("", None)}
        return data


def _province(value: str | None) -> str | None:
    if value is None:
        return None
    gb = province_gb(value)
    if gb is None:
        raise ValueError("无效的省份代码")
    return gb


# ---------------------------------------------------------------- progress (1.7.1)


class ProgressQuery(Paged):
    sponsor_name: str | None = Field(None, max_length=100, description="主办单位名称（包含）")
    domain: str | None = Field(None, max_length=253, description="域名（精确）")
    type: code_field("filing_types") | None = Field(None, description="申请类型（filing_types）")
    progress: Literal["REVIEWING", "PREAPPROVAL", "APPROVED", "REJECTED", "ABANDONED"] | None = Field(
        None, description="进度：审核中 / 前置审批中 / 已通过 / 已驳回 / 已放弃")
    province: str | None = Field(None, max_length=6, description="主体所属省份（BJ 或 110000）")
    submitted_from: dt.date | None = Field(None, description="提交日期起")
    submitted_to: dt.date | None = Field(None, description="提交日期止（含）")
    decided_from: dt.date | None = Field(None, description="审核日期起")
    decided_to: dt.date | None = Field(None, description="审核日期止（含）")
    sort: Literal["submitted_at", "status_at", "sponsor_name"] = Field("submitted_at", description="排序字段")

    _prov = field_validator("province")(lambda cls, value: _province(value))


def progress_where(principal: Principal, q: ProgressQuery) -> Where:
    w = Where()
    scope(w, principal, provider_sql="a.provider_id = {}", province_sql="a.province")
    if q.sponsor_name:
        contains(w, "a.sponsor_name", q.sponsor_name)
    if q.domain:
        w.add(f"a.domains @> ARRAY[{w.param(domain_key(q.domain))}]::text[]")
    if q.type:
        w.add(f"a.type = {w.param(q.type)}")
    if q.progress:
        w.add(f"a.status = ANY({w.param(model.statuses_of(q.progress))}::text[])")
    if q.province:
        w.add(f"a.province = {w.param(q.province)}")
    date_range(w, "a.submitted_at", q.submitted_from, q.submitted_to)
    date_range(w, "a.decided_at", q.decided_from, q.decided_to)
    return w


def domain_key(text: str) -> str:
    """A domain as the read model stores it (display form, lower case)."""
    try:
        return v.validate_domain(text, allow_gov_subdomain=True).unicode
    except v.InvalidValue:
        return v.normalize_text(text).lower()


# ---------------------------------------------------------------- filings and combined query (1.7.2, 1.7.3, 1.5.1)


class FilingQuery(Paged):
    province: str | None = Field(None, max_length=6, description="主体所属省份（BJ 或 110000）")
    nature: code_field("unit_natures") | None = Field(None, description="主办单位性质")
    sponsor_name: str | None = Field(None, max_length=100, description="主办单位名称（包含）")
    cert_number: str | None = Field(None, max_length=50, description="主办单位证件号码（精确）")
    domain: str | None = Field(None, max_length=253, description="域名（精确）")
    number: str | None = Field(None, max_length=60, description="主体或网站备案号（精确）")
    website_name: str | None = Field(None, max_length=100, description="网站名称（包含）")
    service_content: code_field("service_content") | None = Field(None, description="网站服务内容")
    language: code_field("languages") | None = Field(None, description="网站语言")
    preapproval_type: code_field("preapproval_types") | None = Field(None, description="前置审批类型")
    access_method: code_field("access_methods") | None = Field(None, description="接入方式")
    ip: str | None = Field(None, max_length=45, description="IP 地址（落在备案的 IP 段内）")
    server_location: str | None = Field(None, max_length=6, description="服务器放置地（省份）")
    principal_name: str | None = Field(None, max_length=50, description="负责人姓名（主体或网站负责人，精确）")
    status: Literal["LIVE", "ACTIVE", "NO_ACCESS", "CANCELLED", "ALL"] = Field(
        "LIVE", description="状态：LIVE（正常，默认）、ACTIVE、NO_ACCESS（空壳网站）、CANCELLED（已注销）、ALL")
    filing_method: Literal["SELF", "PROXY"] | None = Field(None, description="备案方式")
    approved_from: dt.date | None = Field(None, description="审核通过日期起")
    approved_to: dt.date | None = Field(None, description="审核通过日期止（含）")
    sort: Literal["approved_at", "website_no", "sponsor_name", "name"] = Field("approved_at", description="排序字段")

    _prov = field_validator("province")(lambda cls, value: _province(value))

    @field_validator("server_location")
    @classmethod
    def _location(cls, value: str | None) -> str | None:
        if value is None:
            return None
        row = codes.get("provinces", value.upper()) or (codes.province_by_gb(value[:2]) if value.isdigit() else None)
        if row is None:
            raise ValueError("无效的省份代码")
        return row["code"]

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("不是有效的 IP 地址") from None


SORTS = {"approved_at": "w.approved_at", "website_no": "w.website_no", "sponsor_name": "w.sponsor_name",
         "name": "w.name"}


def filing_where(principal: Principal, q: FilingQuery) -> Where:
    w = Where()
    website_scope(w, principal)
    if q.status == "LIVE":
        w.add("w.status IN ('ACTIVE', 'NO_ACCESS')")
    elif q.status != "ALL":
        w.add(f"w.status = {w.param(q.status)}")
    if q.province:
        w.add(f"w.province = {w.param(q.province)}")
    if q.nature:
        w.add(f"w.nature = {w.param(q.nature)}")
    if q.sponsor_name:
        contains(w, "w.sponsor_name", q.sponsor_name)
    if q.cert_number:
        w.add(f"upper(w.cert_number) = {w.param(v.normalize_text(q.cert_number).upper())}")
    if q.domain:
        w.add(f"w.domains @> ARRAY[{w.param(domain_key(q.domain))}]::text[]")
    if q.number:
        p = w.param(v.normalize_text(q.number))
        w.add(f"(w.website_no = {p} OR w.subject_no = {p})")
    if q.website_name:
        contains(w, "w.name", q.website_name)
    for column, value in (("service_content", q.service_content), ("languages", q.language),
                          ("preapproval_types", q.preapproval_type), ("access_methods", q.access_method),
                          ("server_locations", q.server_location), ("principal_names", q.principal_name)):
        if value:
            w.add(f"w.{column} @> ARRAY[{w.param(value)}]::text[]")
    if q.ip:
        w.add(f"w.website_id IN (SELECT i.website_id FROM website_ips i WHERE i.ips @> {w.param(model.ip_key(q.ip))}::numeric)")
    if q.filing_method:
        w.add(f"w.filing_method = {w.param(q.filing_method)}")
    date_range(w, "w.approved_at", q.approved_from, q.approved_to)
    return w


def order_by(q: FilingQuery) -> str:
    direction = "ASC" if q.order == "asc" else "DESC"
    return f"{SORTS[q.sort]} {direction}, w.website_id {direction}"
