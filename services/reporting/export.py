"""Excel exports, streamed end to end: rows come from a server-side cursor a page at a time
(`store.stream_filings`), each page becomes the next bytes of the workbook (`xlsx_stream`), and
those bytes go to the client at once (chunked HTTP). The next page is fetched while one is written;
nothing holds more than two pages, whatever the size of the export. The XML is built in a worker
thread so the event loop keeps serving other requests meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any
from urllib.parse import quote

from aiohttp import web

from services.reporting import model, store, views
from services.reporting.queries import FilingQuery, filing_where
from services.reporting.settings import reporting_settings
from services.reporting.xlsx_stream import XlsxStream
from shared.auth import Principal
from shared.web import Problem

MAX_ROWS = 1_000_000  # an .xlsx sheet holds 1,048,576 rows
CHUNK = 256 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (title, width, SQL of the value): lists are joined and dates formatted by PostgreSQL, codes named
# by `filing_row` from dictionaries: per row, Python only looks up five names (the export's cost per row
# was mostly building the page's full view of each row and formatting it in Python).
FILING_COLUMNS: list[tuple[str, int, str]] = [
    ("网站备案号", 22, "w.website_no"),
    ("主体备案号", 20, "w.subject_no"),
    ("主办单位名称", 30, "w.sponsor_name"),
    ("主办单位性质", 12, "w.nature"),
    ("省份", 10, "w.province"),
    ("网站名称", 24, "w.name"),
    ("网站域名", 30, "array_to_string(w.domains, '；')"),
    ("首页网址", 30, "array_to_string(w.home_urls, '；')"),
    ("服务内容", 20, "array_to_string(w.service_content, ',')"),
    ("接入方式", 14, "array_to_string(w.access_methods, ',')"),
    ("备案方式", 10, "w.filing_method"),
    ("状态", 12, "w.status"),
    # the UTC day, as the page's approved_at.date()
    ("审核通过日期", 12, "coalesce(to_char(w.approved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '')"),
]
EXPORT_SQL = ", ".join(sql for _, _, sql in FILING_COLUMNS)


class _Names(dict):
    """code (or comma-separated codes) → Chinese name(s), computed once per distinct value."""

    def __init__(self, fn: Callable[[str], str]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, key: str) -> str:
        self[key] = value = self.fn(key)
        return value


_NATURE = _Names(lambda c: views.name("unit_natures", c))
_PROVINCE = _Names(model.province_name)
_CONTENT = _Names(lambda cs: "、".join(model.names("service_content", cs.split(","))) if cs else "")
_ACCESS = _Names(lambda cs: "、".join(model.names("access_methods", cs.split(","))) if cs else "")
_METHOD = _Names(lambda c: views.METHOD_NAMES.get(c, c))
_STATUS = _Names(lambda c: views.STATUS_NAMES.get(c, c))


def filing_row(r: Sequence[Any]) -> list[str]:
    """One export row from a row of EXPORT_SQL (the same texts as the page's row views)."""
    return [r[0], r[1], r[2], _NATURE[r[3]], _PROVINCE[r[4]], r[5], r[6], r[7], _CONTENT[r[8]], _ACCESS[r[9]],
            _METHOD[r[10]], _STATUS[r[11]], r[12]]


async def xlsx_chunks(sheet: str, headers: Sequence[tuple[str, float]],
                      batches: AsyncIterator[list[list[Any]]]) -> AsyncIterator[bytes]:
    """The bytes of a workbook of `batches` under `headers`, produced as the rows arrive."""
    loop = asyncio.get_running_loop()
    x = XlsxStream(sheet, [w for _, w in headers])
    yield x.start([t for t, _ in headers])
    queue: asyncio.Queue = asyncio.Queue(maxsize=1)  # the next page is fetched while this one is written

    async def produce() -> None:
        try:
            async for rows in batches:
                await queue.put(rows)
        finally:
            await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while (rows := await queue.get()) is not None:
            yield await loop.run_in_executor(None, x.rows, rows)
        await producer  # re-raises a failure of the query
    finally:
        producer.cancel()
    yield x.finish()


async def send_xlsx(request: web.Request, filename: str, chunks: AsyncIterator[bytes]) -> web.StreamResponse:
    resp = web.StreamResponse(headers={
        "Content-Type": XLSX,
        "Content-Disposition": f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store",
    })
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    async for chunk in chunks:
        if chunk:
            await resp.write(chunk)
    await resp.write_eof()
    return resp


def filing_rows(pool, principal: Principal, q: FilingQuery) -> AsyncIterator[list[list[Any]]]:
    async def batches() -> AsyncIterator[list[list[Any]]]:
        async for rows in store.stream_filings(pool, principal, q, batch=reporting_settings().export_batch,
                                               columns=EXPORT_SQL):
            yield list(map(filing_row, rows))

    return batches()


async def filings_xlsx(request: web.Request, pool, principal: Principal, q: FilingQuery) -> web.StreamResponse:
    w = filing_where(principal, q)
    total = await pool.fetchval(f"SELECT count(*) FROM websites w WHERE {w.sql()}", *w.params)
    if total > MAX_ROWS:
        raise Problem(400, f"查询结果共 {total} 条，超过导出上限 {MAX_ROWS} 条，请增加查询条件后再导出")
    chunks = xlsx_chunks("备案信息", [(t, wd) for t, wd, _ in FILING_COLUMNS], filing_rows(pool, principal, q))
    return await send_xlsx(request, "备案信息.xlsx", chunks)
