"""Excel exports, streamed: rows come from a server-side cursor a page at a time and go straight
into an xlsxwriter workbook in `constant_memory` mode (each row is flushed to a temporary file as
soon as the next begins), so 100,000 rows never sit in memory at once; the finished file is then
sent in chunks. The workbook is written in a worker thread so the event loop keeps serving."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any
from urllib.parse import quote

import xlsxwriter
from aiohttp import web

from services.reporting import store, views
from services.reporting.queries import FilingQuery, filing_where
from services.reporting.settings import reporting_settings
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


async def write_xlsx(path: str, sheet: str, headers: Sequence[tuple[str, int]],
                     batches: AsyncIterator[list[list[Any]]]) -> int:
    """Write `batches` of rows under `headers` into a new workbook at `path`; returns the row count."""
    loop = asyncio.get_running_loop()
    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": os.path.dirname(path),
                                    "strings_to_numbers": False, "strings_to_formulas": False,
                                    "strings_to_urls": False})
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True})
    for i, (title, width) in enumerate(headers):
        ws.set_column(i, i, width)
        ws.write_string(0, i, title, bold)
    count = 0

    def put(rows: list[list[Any]], start: int) -> None:
        for n, row in enumerate(rows, start):
            for i, value in enumerate(row):
                if isinstance(value, int | float):
                    ws.write_number(n, i, value)
                else:
                    ws.write_string(n, i, "" if value is None else str(value))

    try:
        async for rows in batches:
            await loop.run_in_executor(None, put, rows, count + 1)
            count += len(rows)
    finally:
        await loop.run_in_executor(None, wb.close)
    return count


async def send_file(request: web.Request, path: str, filename: str) -> web.StreamResponse:
    resp = web.StreamResponse(headers={
        "Content-Type": XLSX,
        "Content-Disposition": f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store",
    })
    loop = asyncio.get_running_loop()
    f = await loop.run_in_executor(None, open, path, "rb")
    try:
        resp.content_length = await loop.run_in_executor(None, lambda: os.fstat(f.fileno()).st_size)
        await resp.prepare(request)
        while chunk := await loop.run_in_executor(None, f.read, CHUNK):
            await resp.write(chunk)
    finally:
        f.close()
    await resp.write_eof()
    return resp


async def filings_xlsx(request: web.Request, pool, principal: Principal, q: FilingQuery) -> web.StreamResponse:
    w = filing_where(principal, q)
    total = await pool.fetchval(f"SELECT count(*) FROM websites w WHERE {w.sql()}", *w.params)
    if total > MAX_ROWS:
        raise Problem(400, f"查询结果共 {total} 条，超过导出上限 {MAX_ROWS} 条，请增加查询条件后再导出")

    async def batches() -> AsyncIterator[list[list[Any]]]:
        async for rows in store.stream_filings(pool, principal, q, batch=reporting_settings().export_batch):
            items = [views.filing_item(r) for r in rows]
            yield [[fn(item) for _, _, fn in FILING_COLUMNS] for item in items]

    with tempfile.TemporaryDirectory(prefix="icp-export-") as tmp:
        path = os.path.join(tmp, "filings.xlsx")
        await write_xlsx(path, "备案信息", [(t, wd) for t, wd, _ in FILING_COLUMNS], batches())
        return await send_file(request, path, "备案信息.xlsx")
