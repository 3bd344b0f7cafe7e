"""The annotated copy of a rejected upload (errors.xlsx), built once per rejected job by a worker,
streaming, and stored sealed; the download serves the stored bytes.

Why not load the upload with openpyxl and save it again (what the download did): a 20,000-row file
becomes ~185 MiB of cell objects per request, which the allocator keeps, and takes 9-10 s each time.
Here the upload is read row by row (python-calamine-plus, as the job read it) and written with
xlsxwriter in `constant_memory` mode: each row goes to a temporary file as soon as the next one starts
(removed when the workbook is closed), so memory holds one row plus the errors (at most `max_errors`,
kept as cell comments). xlsxwriter rather than openpyxl's write-only mode: it is declared in pyproject
for this, and on the 20,000-row bench file (bench/errors_xlsx.py) it needed 3.9 s of CPU
against 6.7 s for openpyxl write-only (7.5 s without lxml), and peaked at 68 MiB against 116 MiB
(openpyxl keeps a Python object per comment until it saves).

What the copy holds: a first sheet 错误列表 (every error: sheet, row, column, value, reason), then the
upload's sheets with their values, each bad cell filled red and commented with its reasons, the
template's column widths, hidden sheets and hidden machine row kept, and the template version
(defined name), so the user can correct the copy and upload it again. Formatting and drop-down
lists of the upload are not copied (the template has them).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import io
import re
from collections import defaultdict
from typing import IO

import structlog
import xlsxwriter
from python_calamine_plus import CalamineWorkbook

from services.importer import columns as C
from services.importer.errors import error_out
from services.importer.sealing import ANNOTATED_PURPOSE, load_upload
from shared import crypto

log = structlog.get_logger(__name__)

ERRORS_SHEET = "错误列表"
_MAX_COLUMNS = 200  # an upload's stray cells far to the right are not copied
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML
# values are written as what they are: text starting with "=" or "http" stays text
_OPTIONS = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False}


class _Writer:
    """One cell at a time, by type (calamine gives str, int, float, bool, date, datetime, time)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.bold = wb.add_format({"bold": True})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.bad_date = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": "yyyy-mm-dd"})

    def cell(self, ws, r: int, c: int, value: object, fmt=None, *, bad: bool = False) -> None:
        if value is None or value == "":
            if fmt is not None:
                ws.write_blank(r, c, None, fmt)
            return
        if isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, fmt)
        elif isinstance(value, dt.datetime | dt.date):
            ws.write_datetime(r, c, value, self.bad_date if bad else self.date)
        else:
            ws.write_string(r, c, _CONTROL.sub("", str(value)), fmt)


def build(original: bytes, errors: list[dict], out: IO[bytes]) -> None:
    """Write the annotated copy of `original` to `out`. `errors`: dicts of `errors.error_out`."""
    src = CalamineWorkbook.from_object(io.BytesIO(original))
    by_cell: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    last_bad: dict[tuple[str, int], int] = {}  # (sheet, row) → its last bad column
    for e in errors:
        if e["row"] and e["column"]:
            by_cell[(e["sheet"], e["row"], e["column"])].append(e["message"])
            key = (e["sheet"], e["row"])
            last_bad[key] = max(e["column"], last_bad.get(key, 0))
    wb = xlsxwriter.Workbook(out, _OPTIONS)
    w = _Writer(wb)

    ws = wb.add_worksheet(ERRORS_SHEET)
    for i, width in enumerate((10, 8, 20, 30, 70)):
        ws.set_column(i, i, width)
    ws.freeze_panes(1, 0)
    for i, title in enumerate(("工作表", "行", "列", "填写的值", "错误原因")):
        ws.write_string(0, i, title, w.bold)
    for n, e in enumerate(errors, start=1):
        for i, value in enumerate((e["sheet"], e["row"], e["column_name"], e["value"], e["message"])):
            w.cell(ws, n, i, value)

    hidden = {m.name for m in src.sheets_metadata if str(m.visible).endswith("Hidden")}
    for name in src.sheet_names:
        if name == ERRORS_SHEET:
            continue  # an annotated copy uploaded again: its old error list goes
        ws = wb.add_worksheet(name)
        if name in hidden:
            ws.hide()
        template = C.SHEETS.get(name)
        if template:
            for i, col in enumerate(template):
                ws.set_column(i, i, col.width)
            ws.set_row(C.MACHINE_ROW - 1, None, None, {"hidden": True})
            ws.freeze_panes(C.FIRST_DATA_ROW - 1, 1)
        for r0, raw in enumerate(src.stream_sheet_by_name(name)):
            row_no = r0 + 1
            values = raw[:_MAX_COLUMNS]
            header = template is not None and row_no == C.HEADER_ROW
            width = max(len(values), last_bad.get((name, row_no), 0))
            for c0 in range(width):
                value = values[c0] if c0 < len(values) else ""
                messages = by_cell.get((name, row_no, c0 + 1))
                if messages:
                    w.cell(ws, r0, c0, value, w.bad, bad=True)
                    ws.write_comment(r0, c0, "\n".join(dict.fromkeys(messages)),
                                     {"author": "导入校验", "width": 300, "height": 120})
                else:
                    w.cell(ws, r0, c0, value, w.bold if header else None)
    wb.worksheets()[0].activate()
    for d in src.defined_names:
        if d["name"] == C.VERSION_NAME:
            wb.define_name(d["name"], "=" + d["value"])
    wb.close()


def trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc keeps them after a big build)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# ---------------------------------------------------------------- the worker's step

_CLAIM = """
UPDATE import_jobs SET annotation = 'BUILDING', lease_owner = $1, lease_until = now() + make_interval(secs => $2)
 WHERE id = (SELECT id FROM import_jobs
              WHERE annotation = 'PENDING' OR (annotation = 'BUILDING' AND lease_until < now())
              ORDER BY finished_at LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, rows_read, attempts
"""


async def annotate_next(ctx, me: str, settings) -> bool:
    """Build the annotated copy of one rejected job, if one waits; True when one was handled.
    The upload is deleted once the copy is stored (the copy is all the error report needs)."""
    # no heartbeat here: a lease long enough for the largest file's build on a busy host (a worker that dies
    # leaves it to expire; another then builds the copy again)
    job = await ctx.pool.fetchrow(_CLAIM, me, settings.lease_seconds * 10)
    if job is None:
        return False
    job_id = job["id"]
    secret = ctx.settings.secret_key
    async with ctx.pool.acquire() as conn:
        original = await load_upload(conn, secret, job_id)
        errors = [error_out(e) for e in await conn.fetch(
            "SELECT * FROM import_errors WHERE job_id = $1 ORDER BY seq", job_id)]
    sealed = None
    if original is not None and (job["rows_read"] or 0) <= settings.errors_xlsx_max_rows:
        try:
            sealed = await asyncio.to_thread(_build_sealed, original, errors, secret, str(job_id))
        except Exception as e:  # an upload the reader took but the copy cannot be built from: no copy
            log.warning("import.annotation_failed", job_id=str(job_id), error=repr(e)[:300])
    del original, errors
    async with ctx.pool.acquire() as conn, conn.transaction():
        owner = await conn.fetchval(
            "SELECT lease_owner FROM import_jobs WHERE id = $1 AND annotation = 'BUILDING' FOR UPDATE", job_id)
        if owner != me:
            return True  # taken over after our lease ran out: the other worker stores it
        if sealed is not None:
            await conn.execute(
                """INSERT INTO import_annotated (job_id, content) VALUES ($1, $2)
                   ON CONFLICT (job_id) DO UPDATE SET content = EXCLUDED.content""", job_id, sealed)
        await conn.execute("DELETE FROM import_files WHERE job_id = $1", job_id)
        await conn.execute(
            """UPDATE import_jobs SET annotation = $2, lease_owner = NULL, lease_until = NULL, updated_at = now()
               WHERE id = $1""", job_id, "READY" if sealed is not None else "NONE")
    await asyncio.to_thread(trim_heap)
    log.info("import.annotated", job_id=str(job_id), built=sealed is not None)
    return True


def _build_sealed(original: bytes, errors: list[dict], secret: str, context: str) -> bytes:
    buf = io.BytesIO()
    build(original, errors, buf)
    return crypto.seal_bytes(secret, ANNOTATED_PURPOSE, buf.getvalue(), context)
