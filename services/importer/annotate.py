"""The annotated copy of a rejected upload (errors.xlsx), built once per rejected job by a worker,
streaming, and stored sealed; the download serves the stored bytes.

Why not load the upload with openpyxl and save it again (what the download did): a 20,000-row file
becomes ~185 MiB of cell objects per request, which the allocator keeps, and takes 9-10 s each time.
Here the upload is read row by row (python-calamine-plus, as the job read it) and written with
openpyxl's write-only mode: each row is serialised as it is appended (to a temporary file that
openpyxl deletes when the workbook is saved), so memory holds one row plus the errors (at most
`max_errors`). openpyxl rather than xlsxwriter's constant_memory: it is already a dependency, writes
styled cells and comments in write-only mode, and the build runs once per rejected file, where
xlsxwriter's faster serialisation would save a second or two, not change the bound.

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
import io
import re
from collections import defaultdict
from typing import IO

import structlog
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from python_calamine_plus import CalamineWorkbook

from services.importer import columns as C
from services.importer.errors import error_out
from services.importer.sealing import ANNOTATED_PURPOSE, load_upload
from shared import crypto

log = structlog.get_logger(__name__)

BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
BAD_FONT = Font(color="9C0006")
BOLD = Font(bold=True)
ERRORS_SHEET = "错误列表"
_MAX_COLUMNS = 200  # an upload's stray cells far to the right are not copied


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML


def _plain(value: object) -> object:
    """A calamine value as openpyxl writes it (dates and numbers as they are; text without control characters)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return value


def build(original: bytes, errors: list[dict], out: IO[bytes]) -> None:
    """Write the annotated copy of `original` to `out`. `errors`: dicts of `errors.error_out`."""
    src = CalamineWorkbook.from_object(io.BytesIO(original))
    by_cell: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for e in errors:
        if e["row"] and e["column"]:
            by_cell[(e["sheet"], e["row"], e["column"])].append(e["message"])
    wb = Workbook(write_only=True)

    ws = wb.create_sheet(ERRORS_SHEET)
    for letter, width in zip("ABCDE", (10, 8, 20, 30, 70), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    header = []
    for title in ("工作表", "行", "列", "填写的值", "错误原因"):
        cell = WriteOnlyCell(ws, value=title)
        cell.font = BOLD
        header.append(cell)
    ws.append(header)
    for e in errors:
        ws.append([e["sheet"], e["row"], e["column_name"], _plain(e["value"] or ""), e["message"]])

    hidden = {m.name for m in src.sheets_metadata if str(m.visible).endswith("Hidden")}
    for name in src.sheet_names:
        if name == ERRORS_SHEET:
            continue  # an annotated copy uploaded again: its old error list goes
        ws = wb.create_sheet(name)
        if name in hidden:
            ws.sheet_state = "hidden"
        template = C.SHEETS.get(name)
        if template:
            for i, col in enumerate(template, start=1):
                ws.column_dimensions[get_column_letter(i)].width = col.width
            ws.row_dimensions[C.MACHINE_ROW].hidden = True
            ws.freeze_panes = "B3"
        last_bad: dict[int, int] = {}  # row → its last bad column
        for (s, r, c) in by_cell:
            if s == name:
                last_bad[r] = max(c, last_bad.get(r, 0))
        for r0, raw in enumerate(src.stream_sheet_by_name(name)):
            row_no = r0 + 1
            values = raw[:_MAX_COLUMNS]
            if row_no not in last_bad and not (template and row_no == C.HEADER_ROW):
                ws.append([_plain(v) if v != "" else None for v in values])
                continue
            width = max(len(values), last_bad.get(row_no, 0))
            cells = []
            for c in range(1, width + 1):
                value = values[c - 1] if c <= len(values) else ""
                cell = WriteOnlyCell(ws, value=_plain(value) if value != "" else None)
                messages = by_cell.get((name, row_no, c))
                if messages:
                    cell.fill = BAD_FILL
                    cell.font = BAD_FONT
                    cell.comment = Comment("\n".join(dict.fromkeys(messages)), "导入校验", width=300, height=120)
                elif template and row_no == C.HEADER_ROW:
                    cell.font = BOLD
                cells.append(cell)
            ws.append(cells)
        # a bad cell below the last row read (an empty required cell is a row calamine gave; a row
        # past the end is not): nothing to mark
    for d in src.defined_names:
        if d["name"] == C.VERSION_NAME:
            wb.defined_names[d["name"]] = DefinedName(d["name"], attr_text=d["value"])
    wb.save(out)


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
    job = await ctx.pool.fetchrow(_CLAIM, me, settings.lease_seconds)
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
