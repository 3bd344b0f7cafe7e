"""HTTP surface of the statistics (seed 1.7.4): table and .xlsx export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from services.reporting import export, stats_store
from services.reporting.statistics import StatisticsQuery
from shared.service import ctx
from shared.web import Api, Problem, principal_of

api = Api("reporting", "ICP 备案 — 查询统计服务")
ROLES = ["provider", "bureau", "admin"]


class StatRow(BaseModel):
    key: str
    name: str
    value: int
    yoy_base: int
    yoy_change: int
    yoy_pct: float | None
    yoy_pct_text: str
    pop_base: int
    pop_change: int
    pop_pct: float | None
    pop_pct_text: str


class Statistics(BaseModel):
    """每组：截止日的值、同比（上年同日）与环比（上一周期末）的基数、增减量与增减率（基数为 0 时为“—”），及合计行。"""

    cutoff: dt.date
    group_by: str
    group_by_name: str
    measure: str
    measure_name: str
    period: str
    yoy_date: dt.date
    pop_date: dt.date
    rows: list[StatRow]
    total: StatRow


def _required(q: StatisticsQuery) -> StatisticsQuery:
    if q.cutoff is None:
        raise Problem(400, "统计截止时间为必填项", errors=[{"field": "cutoff", "message": "统计截止时间为必填项"}])
    return q


@api.get("/statistics", query=StatisticsQuery, response=Statistics, roles=ROLES, tags=["statistics"])
async def statistics(request: web.Request, query: StatisticsQuery) -> dict[str, Any]:
    """网站备案信息统计：统计截止时间必填；分组项（省份、性质、接入方式、服务内容、月份）；同比、环比"""
    return await stats_store.compute(ctx(request).pool, principal_of(request), _required(query))


STAT_COLUMNS = [("分组", 16), ("截止日数量", 12), ("同比基数", 12), ("同比增减", 12), ("同比增减率", 12),
                ("环比基数", 12), ("环比增减", 12), ("环比增减率", 12)]


@api.get("/statistics/export", query=StatisticsQuery, roles=ROLES, tags=["statistics"])
async def export_statistics(request: web.Request, query: StatisticsQuery) -> web.StreamResponse:
    """统计结果导出为 Excel（.xlsx）"""
    result = await stats_store.compute(ctx(request).pool, principal_of(request), _required(query))

    async def batches():
        yield [[r["name"], r["value"], r["yoy_base"], r["yoy_change"], r["yoy_pct_text"], r["pop_base"],
                r["pop_change"], r["pop_pct_text"]] for r in [*result["rows"], result["total"]]]

    title = f"{result['measure_name']}（截至{result['cutoff'].isoformat()}，按{result['group_by_name']}）"
    headers = [(title if i == 0 else t, w) for i, (t, w) in enumerate(STAT_COLUMNS)]
    return await export.send_xlsx(request, f"备案统计_{result['cutoff'].isoformat()}.xlsx",
                                  export.xlsx_chunks("统计", headers, batches()))
