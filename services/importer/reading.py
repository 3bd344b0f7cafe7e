"""The reading stage of an import job (`worker.process`, under the job's lease): both sheets read, their rows
staged in `import_rows` for the validation chunks to gather, their row-level errors noted. The websites sheet
(the larger) is read in a thread (streaming, bounded memory: a bounded queue between it and the event loop);
the subjects sheet beside it, in a short-lived process of its own (`sheet_process`, on the other core), or
before it in the same thread when `read_process` is off. A file that cannot be read, or a sheet past its row
limit, ends the stage with `Reading.fatal` (the job is rejected); a reading process that dies raises (the job
is tried again).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field

import asyncpg
import structlog

from services.importer import columns as C
from services.importer.errors import ErrorSink, RowError
from services.importer.reader import sheet_batches
from services.importer.settings import ImportSettings
from services.importer.sheet_process import SheetReader
from shared.service import ServiceContext

log = structlog.get_logger(__name__)


def _produce(data: bytes, file_columns: dict[str, list[str]], s: ImportSettings, q: queue.Queue,
             stop: threading.Event, sheets: tuple[str, ...]) -> None:
    """Reader thread: streams the sheets into `q` in batches (bounded queue = bounded memory)."""

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    limits = {C.SUBJECT_SHEET: s.max_subject_rows, C.WEBSITE_SHEET: s.max_website_rows}
    for item in sheet_batches(data, sheets, file_columns, limits):
        if not put(item):
            return


def _take(q: queue.Queue, thread: threading.Thread) -> tuple:
    while True:
        try:
            return q.get(timeout=0.5)
        except queue.Empty:
            if not thread.is_alive() and q.empty():
                return ("crash", "reader stopped")


@dataclass
class Reading:
    subject_rows: int = 0
    website_rows: int = 0
    subject_keys: dict[str, int] = field(default_factory=dict)
    websites_of: dict[str, int] = field(default_factory=dict)  # subject key → its website rows
    fatal: str | None = None
    # the website rows read (row number, key, cell errors): their key rules run once every subject row is read
    later: list[tuple[int, str, list]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # when each part ended, from the start (the log)

    def subject(self, sink: ErrorSink, row_no: int, key: str, errors: list) -> bool:
        """A subject row's key rules and cell errors ([column key, value, reason]); whether it is staged."""
        sheet = C.SUBJECT_SHEET
        if not key:
            sink.add(RowError(sheet, row_no, "subject_key", "", "必填项，不能为空（用于关联主体与网站）"))
            return False
        first = self.subject_keys.get(key)
        if first is not None:
            sink.add(RowError(sheet, row_no, "subject_key", key, f"主体编号重复（与第 {first} 行相同）"))
            return False
        self.subject_keys[key] = row_no
        self.subject_rows += 1
        for k, value, message in errors:
            sink.add(RowError(sheet, row_no, k, value, message))
        return True

    def website(self, sink: ErrorSink, row_no: int, key: str, errors: list) -> None:
        """A website row's key rules and cell errors, once every subject row is read."""
        sheet = C.WEBSITE_SHEET
        if not key:
            sink.add(RowError(sheet, row_no, "subject_key", "", "必填项，不能为空（用于关联主体与网站）"))
            return
        self.website_rows += 1
        if key not in self.subject_keys:
            sink.add(RowError(sheet, row_no, "subject_key", key, "主体表中没有此主体编号，网站无法关联到主体"))
            return
        self.websites_of[key] = self.websites_of.get(key, 0) + 1
        for k, value, message in errors:
            sink.add(RowError(sheet, row_no, k, value, message))


_ROW_COLUMNS = ("job_id", "sheet", "key", "row_no", "cells", "bad")


async def _stage(ctx: ServiceContext, job: asyncpg.Record, records: list[tuple], sink: ErrorSink, out: Reading
                 ) -> None:
    """Staged rows (COPY into `import_rows`), the errors noted so far, the progress."""
    async with ctx.pool.acquire() as conn:
        if records:
            await conn.copy_records_to_table("import_rows", records=records, columns=_ROW_COLUMNS)
        await sink.flush(conn)
        await conn.execute("UPDATE import_jobs SET rows_read = $2, updated_at = now() WHERE id = $1",
                           job["id"], out.subject_rows + len(out.later))


def _records(job: asyncpg.Record, sheet: str, rows: list, sink: ErrorSink, out: Reading) -> list[tuple]:
    """Rows of a sheet in their staged form (`SheetRow.staged`, or a sheet process's frame) as `import_rows`
    records: a subject row once its key rules pass, a website row with a key (its key rules wait in
    `out.later` until every subject row is read)."""
    records = []
    for row_no, key, cells, bad, errors in rows:
        if sheet == C.WEBSITE_SHEET:
            out.later.append((row_no, key, errors))
            if not key:
                continue
        elif not out.subject(sink, row_no, key, errors):
            continue
        records.append((job["id"], C.SHEET_NO[sheet], key, row_no, cells, bad))
    return records


async def _subjects_apart(ctx: ServiceContext, job: asyncpg.Record, data: bytes, sink: ErrorSink,
                          s: ImportSettings, out: Reading) -> dict:
    """The subjects sheet read by a process of its own (`sheet_process`) while the reader thread reads the
    websites sheet; its rows checked and staged as they come. Returns the last frame."""
    sheet = C.SUBJECT_SHEET
    reader = await SheetReader.start(data, sheet, (job["file_columns"] or {}).get(sheet, []), s.max_subject_rows)
    try:
        async for frame in reader.frames():
            if isinstance(frame, dict):
                return frame
            await _stage(ctx, job, _records(job, sheet, frame, sink, out), sink, out)
    finally:
        await reader.close()
    raise AssertionError("unreachable: frames ends with its last frame")


def _failure(s: ImportSettings, kind: str, detail: str, job_id) -> str:
    """The job's rejection for a sheet past its row limit or a file that cannot be read."""
    if kind == "too_many":
        limit = s.max_subject_rows if detail == C.SUBJECT_SHEET else s.max_website_rows
        return f"工作表“{detail}”超过 {limit} 行数据，请拆分为多个文件分批导入"
    log.warning("import.read_failed", job_id=str(job_id), error=detail)
    return "文件内容无法读取（可能已损坏），请用 Excel 重新保存为 .xlsx 后上传"


async def read_and_stage(ctx: ServiceContext, job: asyncpg.Record, data: bytes, sink: ErrorSink,
                         s: ImportSettings) -> Reading:
    """Both sheets read, their rows staged (`import_rows`) and their row-level errors noted, the subjects'
    first, then the websites' (whose key rules need every subject). The websites sheet (the larger) in the
    reader thread; the subjects sheet beside it in a process of its own (`read_process`, the default), else
    before it in the same thread. Website rows are staged as read, those of an unknown subject key too (no
    chunk gathers them)."""
    apart = s.read_process
    q: queue.Queue = queue.Queue(maxsize=3)
    stop = threading.Event()
    sheets = (C.WEBSITE_SHEET,) if apart else (C.SUBJECT_SHEET, C.WEBSITE_SHEET)
    thread = threading.Thread(
        target=_produce, args=(data, job["file_columns"], s, q, stop, sheets), name="import-reader", daemon=True
    )
    thread.start()
    out = Reading()
    started = time.perf_counter()
    subjects = asyncio.create_task(_subjects_apart(ctx, job, data, sink, s, out)) if apart else None
    loop = asyncio.get_running_loop()
    failed: tuple[str, str] | None = None
    try:
        while True:
            kind, batch = await loop.run_in_executor(None, _take, q, thread)
            if kind == "end":
                break
            if kind in ("too_many", "crash"):
                failed = (kind, batch)
                break
            idx = C.SUBJECT_IDX if kind == C.SUBJECT_SHEET else C.WEBSITE_IDX
            await _stage(ctx, job, _records(job, kind, [r.staged(idx) for r in batch], sink, out), sink, out)
        out.seconds["thread"] = round(time.perf_counter() - started, 2)
        if subjects is not None:
            last = await subjects  # (also after the thread failed: the subjects sheet's failure comes first)
            out.seconds["apart"] = round(time.perf_counter() - started, 2)
            if "end" not in last:
                kind = "too_many" if "too_many" in last else "crash"
                failed = (kind, last[kind])
        if failed is not None:
            out.fatal = _failure(s, *failed, job["id"])
            return out
        for row_no, key, errors in out.later:  # in file order, after every subject row's
            out.website(sink, row_no, key, errors)
        await _stage(ctx, job, [], sink, out)
        out.later = []
    finally:
        stop.set()
        if subjects is not None and not subjects.done():
            subjects.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subjects
        await loop.run_in_executor(None, thread.join)
    out.seconds["all"] = round(time.perf_counter() - started, 2)
    return out
