"""Models and pure rules of the detection service: ingest items, page queries, handling, scopes."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator

from shared import codes
from shared.auth import Principal, Role
from shared.contracts.detection import SiteDetected
from shared.fields import code_field, optional_text_field
from shared.web import Problem

CHINA = ZoneInfo("Asia/Shanghai")
MAX_BATCH = 1000


# ---------------------------------------------------------------- ingest


class EventIn(SiteDetected):
    """One detection as POSTed to /api/detection/events: the payload of `detection.site.detected` plus
    the event id (the same id counts once, over HTTP and over the bus)."""

    id: uuid.UUID = Field(description="the event id, chosen by the source system; a retry sends the same id")


class IngestItemResult(BaseModel):
    index: int
    id: str | None = None
    outcome: Literal["recorded", "duplicate", "filed", "rejected"]
    filing_no: str | None = None
    errors: list[dict[str, str]] = []


class IngestResult(BaseModel):
    received: int
    recorded: int
    duplicates: int
    filed: int
    rejected: int
    items: list[IngestItemResult]


# ---------------------------------------------------------------- source keys

KEY_PREFIX = "icpsrc"


def new_source_key() -> tuple[str, str, str]:
    """(key, prefix, sha256) of a new source system key: `icpsrc_<12 hex>_<43 url-safe chars>`."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, key_hash(key)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


# ---------------------------------------------------------------- scopes


def scope_of(who: Principal, provider_id: str | None = None) -> tuple[str, list[Any]]:
    """SQL condition on detections `d` (and its parameters) for what `who` may see: a provider its own
    detections, a regulator its province's across providers, an admin everything."""
    if who.role == Role.PROVIDER:
        if not who.provider_id:
            raise Problem(403, "仅接入服务提供者可执行此操作")
        return "d.provider_id = $1", [who.provider_id]
    if who.role == Role.BUREAU:
        if not who.province:
            raise Problem(403, "当前管局账号未设置省份")
        if provider_id:
            return "d.province = $1 AND d.provider_id = $2", [who.province, provider_id]
        return "d.province = $1", [who.province]
    if who.role == Role.ADMIN:
        if provider_id:
            return "d.provider_id = $1", [provider_id]
        return "true", []
    raise Problem(403, "当前角色无权查看未备案检测结果")


# ---------------------------------------------------------------- queries


class DateRange(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        # a form sends every condition, the empty ones as "": they are no condition
        return {k: x for k, x in data.items() if x != ""} if isinstance(data, dict) else data

    date_from: dt.date | None = Field(None, description="检测日期起（含），北京时间")
    date_to: dt.date | None = Field(None, description="检测日期止（含），北京时间")

    @model_validator(mode="after")
    def _ordered(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("检测日期起不能晚于检测日期止")
        return self

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        start = dt.datetime.combine(self.date_from, dt.time(), CHINA) if self.date_from else None
        end = dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), CHINA) if self.date_to else None
        return start, end


HandlingStatus = Literal["handled", "unhandled"]


class UnfiledQuery(DateRange):
    """未备案检测结果查询（1.8.1）：条件可组合；全部为空列出本接入服务提供者被检测到的全部未备案网站。"""

    domain: optional_text_field(253) | None = Field(None, description="域名（包含）")
    ip: optional_text_field(45) | None = Field(None, description="IP 地址（前缀）")
    province: code_field("provinces") | None = None
    handling_status: HandlingStatus | None = Field(None, description="handled 已处理 / unhandled 未处理")
    handling_code: str | None = Field(None, description="处理结果代码；UNHANDLED 为未处理")
    filed_meanwhile: bool | None = Field(None, description="true：仅检测后已完成备案的")
    month: str | None = Field(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="检测月份 YYYY-MM（统计的按月分组）")
    provider_id: optional_text_field(64) | None = Field(None, description="接入服务提供者（管局、管理员）")
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=200)


    @field_validator("handling_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and value != "UNHANDLED" and not codes.is_valid("detection_handling", value):
            raise ValueError("无效的代码")
        return value


class HandlingIn(BaseModel):
    code: code_field("detection_handling")
    note: optional_text_field(500) = ""


def closes_case(code: str) -> bool:
    row = codes.get("detection_handling", code)
    return row is not None and row["closes_case"].strip().lower() == "true"


def handling_name(code: str | None) -> str | None:
    return codes.name_zh("detection_handling", code) if code else None


GroupBy = Literal["province", "handling", "month"]


class StatisticsQuery(DateRange):
    """未备案检测结果统计（1.8.2）：按省份（默认）、处理状态或检测月份分组。"""

    group_by: GroupBy = "province"
    handling_status: HandlingStatus | None = None
    provider_id: optional_text_field(64) | None = None
