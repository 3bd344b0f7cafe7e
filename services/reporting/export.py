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

from services.reporting import store, views
from services.reporting.queries import FilingQuery, filing_where
from services.reporting.settings import reporting_settings
from services.reporting.xlsx_stream import XlsxStream
from shared.auth import Principal
from shared.web import Problem

MAX_ROWS = 1_000_000  # an .xlsx sheet holds 1,048,576 rows
CHUNK = 256 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FILING_COLUMNS: list[tuple[str, int, Callable[[dict[str, Any]], Any]]] = [
    ("网站备案号", 22, lambda r: r["website_no"]),
    ("主体备案号", 20, lambda r: r["subject_no"]),
    ("主办单位名称", 30, lambda r: r["sponsor_name"]),
    ("主办单位性质", 12, lambda r: r["nature_name"]),
    ("省份", 10, lambda r: r["province_name"]),
    ("网站名称", 24, lambda r: r["website_name"]),
    ("网站域名", 30, lambda r: "；".join(r["domains"])),
    ("首页网址", 30, lambda r: "；".join(r["home_urls"])),
    ("服务内容", 20, lambda r: "、".join(r["service_content_names"])),
    ("接入方式", 14, lambda r: "、".join(r["access_method_names"])),
    ("备案方式", 10, lambda r: r["filing_method_name"]),
    ("状态", 12, lambda r: r["status_name"]),
    ("审核通过日期", 12, lambda r: r["approved_at"].date().isoformat() if r["approved_at"] else ""),
]


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
        async for rows in store.stream_filings(pool, principal, q, batch=reporting_settings().export_batch):
            yield [[fn(item) for _, _, fn in FILING_COLUMNS] for item in map(views.filing_item, rows)]

    return batches()


async def filings_xlsx(request: web.Request, pool, principal: Principal, q: FilingQuery) -> web.StreamResponse:
    w = filing_where(principal, q)
    total = await pool.fetchval(f"SELECT count(*) FROM websites w WHERE {w.sql()}", *w.params)
    if total > MAX_ROWS:
        raise Problem(400, f"查询结果共 {total} 条，超过导出上限 {MAX_ROWS} 条，请增加查询条件后再导出")
    chunks = xlsx_chunks("备案信息", [(t, wd) for t, wd, _ in FILING_COLUMNS], filing_rows(pool, principal, q))
    return await send_xlsx(request, "备案信息.xlsx", chunks)
