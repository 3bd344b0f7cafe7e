"""Filing statistics (seed 1.7.4, DOMAIN §8.1): the value at the cutoff, 同比 (the same date a year
earlier) and 环比 (the end of the previous period), with absolute and percentage change; "—" where
the base is 0.

- Stock measures (grouped by province, nature, access method, service content): the websites (or
  subjects with at least one such website) approved on or before the cutoff day and not cancelled
  by then. The cutoff is a calendar day in China Standard Time, inclusive.
- Flows (grouped by month): websites approved in each of the twelve months ending with the cutoff's
  month (that month up to the cutoff day); 同比 is the same window a year earlier, 环比 the same
  window a month earlier.
- A multi-valued dimension (access methods, service content) counts a website in each of its
  values; the totals row counts it once.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import codes
from shared.fields import code_field

CST = ZoneInfo("Asia/Shanghai")
DASH = "—"

GROUPS = {"province": "省份", "nature": "主办单位性质", "access_method": "接入方式", "service_content": "网站服务内容",
          "month": "月份"}
MEASURES = {"websites": "已备案网站数量", "subjects": "已备案主体数量"}
PERIODS = {"month": 1, "quarter": 3, "year": 12}


class StatisticsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cutoff: dt.date | None = Field(None, description="统计截止日期（必填，含当日）")
    group_by: Literal["province", "nature", "access_method", "service_content", "month"] = Field(
        "province", description="统计分组项")
    measure: Literal["websites", "subjects"] = Field("websites", description="统计指标：已备案网站数量（默认）或主体数量")
    period: Literal["month", "quarter", "year"] = Field("month", description="环比的上一周期：月（默认）、季度、年")
    province: str | None = Field(None, max_length=6, description="主体所属省份")
    nature: code_field("unit_natures") | None = Field(None, description="主办单位性质")
    access_method: code_field("access_methods") | None = Field(None, description="接入方式")
    service_content: code_field("service_content") | None = Field(None, description="网站服务内容")
    filing_method: Literal["SELF", "PROXY"] | None = Field(None, description="备案方式")

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: val for k, val in data.items() if val not in ("", None)}
        return data

    @field_validator("province")
    @classmethod
    def _province(cls, value: str | None) -> str | None:
        from services.reporting.queries import province_gb

        if value is None:
            return None
        gb = province_gb(value)
        if gb is None:
            raise ValueError("无效的省份代码")
        return gb


# ---------------------------------------------------------------- dates


def shift_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months, clamped to the month's last day (3-31 − 1 month = 2-28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def day_end(day: dt.date) -> dt.datetime:
    """The first instant after `day` in China Standard Time (the cutoff is inclusive)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), CST)


@dataclass(frozen=True)
class Window:
    """A span of days [first, last], both inclusive."""

    first: dt.date
    last: dt.date

    def shifted(self, months: int) -> Window:
        return Window(shift_months(self.first, months), shift_months(self.last, months))


def month_windows(cutoff: dt.date, count: int = 12) -> list[tuple[str, Window]]:
    """The `count` months ending with the cutoff's month (that one up to the cutoff day), oldest first."""
    out = []
    for back in range(count - 1, -1, -1):
        start = shift_months(cutoff.replace(day=1), -back)
        last = cutoff if back == 0 else shift_months(start, 1) - dt.timedelta(days=1)
        out.append((f"{start.year:04d}-{start.month:02d}", Window(start, last)))
    return out


# ---------------------------------------------------------------- changes


def change(value: int, base: int) -> dict[str, Any]:
    """Absolute and percentage change against `base`; the percentage is None ("—") for a zero base."""
    pct = None if base == 0 else round((value - base) * 100.0 / base, 1)
    return {"base": base, "change": value - base, "pct": pct, "pct_text": DASH if pct is None else f"{pct:.1f}%"}


def row(key: str, name: str, value: int, yoy: int, pop: int) -> dict[str, Any]:
    y, p = change(value, yoy), change(value, pop)
    return {"key": key, "name": name, "value": value,
            "yoy_base": y["base"], "yoy_change": y["change"], "yoy_pct": y["pct"], "yoy_pct_text": y["pct_text"],
            "pop_base": p["base"], "pop_change": p["change"], "pop_pct": p["pct"], "pop_pct_text": p["pct_text"]}


def key_name(group_by: str, key: str) -> str:
    if group_by == "province":
        row_ = codes.province_by_gb(key[:2]) if key else None
        return row_["name_zh"] if row_ else key
    table = {"nature": "unit_natures", "access_method": "access_methods", "service_content": "service_content"}.get(
        group_by)
    return (codes.name_zh(table, key) or key) if table else key
