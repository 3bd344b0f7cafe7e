"""Import workers: the background loops of the importer's worker role.

`job_loop` claims a QUEUED (or abandoned) job with `FOR UPDATE SKIP LOCKED` and a lease that a
heartbeat renews; a worker that dies stops renewing, the lease expires and another worker starts
the job again from the file (reading and validation are deterministic and write nothing but
staging rows, errors and planned chunks, all replaced on restart). No broker delivery is held
while a job runs. Steps:

1. read both sheets in a thread (streaming, bounded memory), normalise cells, stage rows (COPY
   into `import_rows`), note cell-level and file-wide key errors;
2. gather each subject with its websites (one ordered query), validate it with the wizard's rules
   (`FilingData` + `check_filing`) and the file-wide ones (same domain, certificate or mobile twice),
   and — while the file is still clean — plan it: the canonical form (so filing need not validate
   the normalised values again), generated sponsor credentials (hash only in the chunk, plaintext
   only in the result workbook), chunks of whole subjects, sealed;
3. any error: the job is REJECTED, nothing planned is kept. Otherwise, in one transaction: the
   chunks, the sealed result workbook, status CHECKING and the first `filing.batch.check` commands
   (the rest is driven by replies, `services.importer.flow`).

`purge_loop` deletes expired result workbooks and the files of finished jobs; `job_loop` also
resends chunks left unanswered (idempotent in filing).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import queue
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import asyncpg
import orjson
import structlog
from pydantic import ValidationError
from python_calamine_plus import CalamineWorkbook

from services.importer import columns as C
from services.importer.annotate import annotate_next, trim_heap
from services.importer.errors import ErrorSink, RowError
from services.importer.flow import WAKE, publisher, resend_stalled, send_next
from services.importer.reader import TooManyRows, read_sheet
from services.importer.sealing import RESULT_PURPOSE, SEAL_PURPOSE, load_upload
from services.importer.settings import ImportSettings, import_settings
from shared import crypto
from shared.auth import generate_password, generate_username, hash_generated_password
from shared.config import get_settings
from shared.errors_zh import translate_errors
from shared.filing_data import FilingData, canonical, check_filing, principal_mobiles, rule_keys, subject_key
from shared.service import ServiceContext

log = structlog.get_logger(__name__)

_READ_BATCH = 2000
_GATHER_BATCH = 400
_MAX_UNSEALED = 2  # closed chunks waiting for their password hashes
_hash_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="import-hash")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeaseLost(Exception):
    pass


# ---------------------------------------------------------------- claiming


async def claim(pool: asyncpg.Pool, me: str, s: ImportSettings) -> asyncpg.Record | None:
    async with pool.acquire() as conn, conn.transaction():
        job = await conn.fetchrow(
            """SELECT id, attempts FROM import_jobs
               WHERE status IN ('QUEUED', 'VALIDATING') AND (lease_until IS NULL OR lease_until < now())
               ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED"""
        )
        if job is None:
            return None
        if job["attempts"] >= s.max_attempts:
            await conn.execute(
                """UPDATE import_jobs SET status = 'FAILED', finished_at = now(), updated_at = now(),
                       lease_owner = NULL, lease_until = NULL,
                       message = '文件处理多次中断，已停止；请检查文件后重新上传，如仍失败请联系管理员'
                   WHERE id = $1""",
                job["id"],
            )
            return None
        return await conn.fetchrow(
            """UPDATE import_jobs SET status = 'VALIDATING', lease_owner = $2,
                   lease_until = now() + make_interval(secs => $3), attempts = attempts + 1,
                   started_at = coalesce(started_at, now()), updated_at = now(),
                   rows_read = 0, rows_validated = 0, error_count = 0, message = NULL
               WHERE id = $1 RETURNING *""",
            job["id"], me, s.lease_seconds,
        )


async def _heartbeat(pool: asyncpg.Pool, job_id: uuid.UUID, me: str, s: ImportSettings, work: asyncio.Task) -> None:
    """Renew the lease while `work` runs; when the lease is lost (expired and taken by another
    worker), cancel `work`: the job is someone else's now."""
    while not work.done():
        await asyncio.sleep(s.lease_seconds / 3)
        try:
            ok = await pool.fetchval(
                """UPDATE import_jobs SET lease_until = now() + make_interval(secs => $3)
                   WHERE id = $1 AND lease_owner = $2 AND status = 'VALIDATING' RETURNING true""",
                job_id, me, s.lease_seconds,
            )
        except Exception as e:  # the database is away: keep trying while the lease may still hold
            log.warning("import.heartbeat_failed", job_id=str(job_id), error=repr(e))
            continue
        if not ok and not work.done():
            log.warning("import.lease_lost", job_id=str(job_id))
            work.cancel()
            return


# ---------------------------------------------------------------- the loops


async def job_loop(ctx: ServiceContext) -> None:
    s = import_settings()
    me = worker_id()
    wake = asyncio.Event()
    WAKE.append(wake)
    while True:
        if await annotate_next(ctx, me, s):  # quick next to a job, and the user is waiting for it
            continue
        job = await claim(ctx.pool, me, s)
        if job is not None:
            await run_job(ctx, job, me, s)
            # a job's transient objects (staged batches, workbooks, chunk payloads) leave freed pages in the
            # C heap that glibc keeps: hand them back so the process returns to its level after each job
            await asyncio.to_thread(trim_heap)
            continue
        async with ctx.pool.acquire() as conn, conn.transaction():
            await resend_stalled(conn, publisher(ctx.outbox, conn), s.stall_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), s.poll_seconds)
        wake.clear()


async def purge_loop(ctx: ServiceContext) -> None:
    while True:
        try:
            await purge(ctx.pool)
        except Exception as e:
            log.warning("import.purge_failed", error=repr(e))
        await asyncio.sleep(60)


async def purge(pool: asyncpg.Pool) -> int:
    """Delete the credentials past their expiry (completed or failed jobs), and what a rejected file
    left (its sealed annotated copy, the values of its error list) after `rejected_ttl_hours`."""
    s = import_settings()
    async with pool.acquire() as conn, conn.transaction():
        ids = await conn.fetch(
            """UPDATE import_jobs SET purged_at = now()
               WHERE purged_at IS NULL AND (
                     (status IN ('COMPLETED', 'FAILED') AND result_expires_at < now())
                  OR (status = 'FAILED' AND result_expires_at IS NULL
                      AND finished_at < now() - make_interval(secs => $1))
                  OR (status = 'REJECTED' AND finished_at < now() - make_interval(secs => $2)))
               RETURNING id""",
            s.result_ttl_hours * 3600, s.rejected_ttl_hours * 3600,
        )
        job_ids = [r["id"] for r in ids]
        if job_ids:
            await conn.execute("UPDATE import_chunks SET credentials = NULL WHERE job_id = ANY($1)", job_ids)
            await conn.execute("DELETE FROM import_annotated WHERE job_id = ANY($1)", job_ids)
            # the values of the error list may hold ID numbers: gone with the file
            await conn.execute("UPDATE import_errors SET value = '' WHERE job_id = ANY($1) AND value <> ''", job_ids)
            await conn.execute("DELETE FROM import_files WHERE job_id = ANY($1)", job_ids)
            await conn.execute("DELETE FROM import_rows WHERE job_id = ANY($1)", job_ids)
            await conn.execute("UPDATE import_chunks SET items = NULL WHERE job_id = ANY($1)", job_ids)
            log.info("import.purged", jobs=len(job_ids))
    return len(job_ids)


async def run_job(ctx: ServiceContext, job: asyncpg.Record, me: str, s: ImportSettings) -> None:
    log.info("import.job_started", job_id=str(job["id"]), attempt=job["attempts"], worker=me)
    work = asyncio.create_task(process(ctx, job, me, s))
    hb = asyncio.create_task(_heartbeat(ctx.pool, job["id"], me, s, work))
    try:
        await asyncio.wait({work})  # an outer cancellation (shutdown) raises here
        if work.cancelled():
            log.warning("import.job_abandoned", job_id=str(job["id"]))  # lease lost: another worker has it
        elif work.exception() is not None:
            # leave the lease to expire: another attempt (bounded by max_attempts) starts again
            log.error("import.job_crashed", job_id=str(job["id"]), exc_info=work.exception())
    finally:
        hb.cancel()
        if not work.done():
            work.cancel()


# ---------------------------------------------------------------- reading


def _produce(data: bytes, file_columns: dict[str, list[str]], s: ImportSettings, q: queue.Queue,
             stop: threading.Event) -> None:
    """Reader thread: streams both sheets into `q` in batches (bounded queue = bounded memory)."""

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    sheet = C.SUBJECT_SHEET
    try:
        wb = CalamineWorkbook.from_object(io.BytesIO(data))
        limits = {C.SUBJECT_SHEET: s.max_subject_rows, C.WEBSITE_SHEET: s.max_website_rows}
        for sheet in (C.SUBJECT_SHEET, C.WEBSITE_SHEET):
            batch = []
            for row in read_sheet(wb, sheet, file_columns.get(sheet, []), max_rows=limits[sheet]):
                batch.append(row)
                if len(batch) >= _READ_BATCH:
                    if not put((sheet, batch)):
                        return
                    batch = []
            if batch and not put((sheet, batch)):
                return
        put(("end", None))
    except TooManyRows:
        put(("too_many", sheet))
    except BaseException as e:  # unreadable content (a reader panic is a BaseException): a file error
        put(("crash", repr(e)[:300]))


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
    fatal: str | None = None


async def read_and_stage(ctx: ServiceContext, job: asyncpg.Record, data: bytes, sink: ErrorSink,
                         s: ImportSettings) -> Reading:
    q: queue.Queue = queue.Queue(maxsize=3)
    stop = threading.Event()
    thread = threading.Thread(
        target=_produce, args=(data, job["file_columns"], s, q, stop), name="import-reader", daemon=True
    )
    thread.start()
    loop = asyncio.get_running_loop()
    out = Reading()
    sidx = C.SUBJECT_IDX
    try:
        while True:
            kind, batch = await loop.run_in_executor(None, _take, q, thread)
            if kind == "end":
                break
            if kind == "too_many":
                limit = s.max_subject_rows if batch == C.SUBJECT_SHEET else s.max_website_rows
                out.fatal = f"工作表“{batch}”超过 {limit} 行数据，请拆分为多个文件分批导入"
                break
            if kind == "crash":
                out.fatal = "文件内容无法读取（可能已损坏），请用 Excel 重新保存为 .xlsx 后上传"
                log.warning("import.read_failed", job_id=str(job["id"]), error=batch)
                break
            sheet_no = C.SHEET_NO[kind]
            records = []
            for r in batch:
                key = r.cells[0]
                if not key:
                    sink.add(RowError(kind, r.row_no, "subject_key", "", "必填项，不能为空（用于关联主体与网站）"))
                    continue
                if kind == C.SUBJECT_SHEET:
                    first = out.subject_keys.get(key)
                    if first is not None:
                        sink.add(RowError(kind, r.row_no, "subject_key", key, f"主体编号重复（与第 {first} 行相同）"))
                        continue
                    out.subject_keys[key] = r.row_no
                    out.subject_rows += 1
                else:
                    if key not in out.subject_keys:
                        sink.add(RowError(kind, r.row_no, "subject_key", key,
                                          "主体表中没有此主体编号，网站无法关联到主体"))
                        out.website_rows += 1
                        continue
                    out.website_rows += 1
                idx = sidx if kind == C.SUBJECT_SHEET else C.WEBSITE_IDX
                for k, message in r.errors:
                    sink.add(RowError(kind, r.row_no, k, r.cells[idx[k]], message))
                records.append((job["id"], sheet_no, key, r.row_no, r.cells, [k for k, _ in r.errors]))
            async with ctx.pool.acquire() as conn:
                if records:
                    await conn.copy_records_to_table(
                        "import_rows", records=records, columns=("job_id", "sheet", "key", "row_no", "cells", "bad")
                    )
                await sink.flush(conn)
                await conn.execute(
                    "UPDATE import_jobs SET rows_read = $2, updated_at = now() WHERE id = $1",
                    job["id"], out.subject_rows + out.website_rows,
                )
    finally:
        stop.set()
        await loop.run_in_executor(None, thread.join)
    return out


# ---------------------------------------------------------------- gathering, validating, planning


@dataclass
class Plan:
    """The chunks of a file being planned. While the file is clean, each subject gets generated
    credentials (the hash travels sealed with the item, the plaintext is sealed per chunk in
    `import_chunks.credentials`, so the result holds exactly the chunks filing committed). Once an
    error is found the rest is planned for the existing-filings check only (no credentials)."""

    secret: str  # the key filing opens the items with (get_settings: every service's)
    result_secret: str  # the key this service opens the credentials with (ctx.settings)
    job_id: uuid.UUID
    chunk_websites: int
    clean: bool = True
    certs: dict[tuple[str, str], int] = field(default_factory=dict)
    domains: dict[str, int] = field(default_factory=dict)
    mobiles: dict[str, int] = field(default_factory=dict)
    usernames: set[str] = field(default_factory=set)
    items: list[dict] = field(default_factory=list)
    refs: list[dict] = field(default_factory=list)
    creds: list[list] = field(default_factory=list)
    websites_in_chunk: int = 0
    chunk_no: int = 0
    chunks: list[tuple] = field(default_factory=list)  # rows ready for import_chunks
    subjects: int = 0
    websites: int = 0
    validated: int = 0

    closed: list[tuple[int, list[dict], list[dict], int, list[list]]] = field(default_factory=list)

    def flush(self) -> None:
        """Close the current chunk; it is sealed once its hashes are ready (`seal`)."""
        if not self.items:
            return
        self.chunk_no += 1
        self.closed.append((self.chunk_no, self.items, self.refs, self.websites_in_chunk, self.creds))
        self.items, self.refs, self.websites_in_chunk, self.creds = [], [], 0, []

    def seal(self, wait: bool) -> None:
        """Seal closed chunks whose password hashes are done (all of them when `wait`)."""
        keep = []
        for n, (chunk_no, items, refs, websites, creds) in enumerate(self.closed):
            behind = len(self.closed) - n > _MAX_UNSEALED  # bounded memory: wait for the oldest
            pending = [item["sponsor"] for item in items if isinstance(item["sponsor"][1], Future)]
            if not wait and not behind and not all(sp[1].done() for sp in pending):
                keep.append((chunk_no, items, refs, websites, creds))
                continue
            for sponsor in pending:  # the hashes were computed on the hashing threads meanwhile
                sponsor[1] = sponsor[1].result()
            body = orjson.dumps(items)  # UTF-8, compact: what json.dumps(ensure_ascii=False) gave
            context = f"{self.job_id}:{chunk_no}"
            sealed = crypto.seal(self.secret, SEAL_PURPOSE, body, context)
            secret_creds = (crypto.seal_bytes(self.result_secret, RESULT_PURPOSE, orjson.dumps(creds), context)
                            if creds and len(creds) == len(items) else None)
            self.chunks.append((self.job_id, chunk_no, len(items), websites, sealed, refs, secret_creds))
        self.closed = keep


def _assess_one(key: str, s_row: int, s_cells: list[str], s_bad: list[str], websites: list, plan: Plan
                ) -> tuple[list[RowError], FilingData | None]:
    """One subject with its websites: the wizard's rules, then the file-wide ones. A clean subject is
    returned in canonical form (`canonical`), ready to be sealed for filing."""
    sidx, widx = C.SUBJECT_IDX, C.WEBSITE_IDX
    found: list[RowError] = []
    seen = {(C.SUBJECT_SHEET, s_row, k) for k in s_bad}
    for w_row, _, w_bad in websites:
        seen.update((C.WEBSITE_SHEET, w_row, k) for k in w_bad)

    def report(sheet: str, row: int, col: str, message: str, cells: list[str], idx: dict[str, int]) -> None:
        if (sheet, row, col) in seen:
            return
        seen.add((sheet, row, col))
        found.append(RowError(sheet, row, col, cells[idx[col]] if col in idx else "", message))

    def report_path(path: str, message: str) -> None:
        sheet, index, col = C.locate(path)
        if sheet == C.WEBSITE_SHEET and index is not None and index < len(websites):
            w_row, w_cells, _ = websites[index]
            report(sheet, w_row, col, message, w_cells, widx)
            return
        if path == "websites":
            message = f"该主体的网站（网站表中的行）：{message}"
        report(C.SUBJECT_SHEET, s_row, col if sheet == C.SUBJECT_SHEET else "subject_key", message, s_cells, sidx)

    if not websites:
        report(C.SUBJECT_SHEET, s_row, "subject_key", "该主体没有网站：网站表中没有使用此主体编号的行", s_cells, sidx)
        return found, None
    cell_errors: list = []
    s_input = C.subject_input(s_cells, cell_errors)
    for ce in cell_errors:
        report(C.SUBJECT_SHEET, s_row, ce.key, ce.message, s_cells, sidx)
    w_inputs = []
    for w_row, w_cells, _ in websites:
        cell_errors = []
        w_inputs.append(C.website_input(w_cells, cell_errors))
        for ce in cell_errors:
            report(C.WEBSITE_SHEET, w_row, ce.key, ce.message, w_cells, widx)
    data = None
    try:
        data = FilingData.model_validate({"subject": s_input, "websites": w_inputs})
    except ValidationError as e:
        for err in translate_errors(e):
            report_path(err["field"], err["message"])
    if data is None:
        return found, None
    # check_filing with normalize=True validates each certificate/ID number, home URL and IP range once
    # and keeps its normalised form, so `canonical` need not validate them again; its answer is the
    # plain check's (principals are compared in normalised form either way)
    errors = check_filing(data, normalize=True)
    for err in errors:
        report_path(err["field"], err["message"])
    if found:
        return found, None
    # file-wide rules: the same certificate, domain or mobile in two subjects
    cert = subject_key(data.subject, normalized=True)
    mobiles = principal_mobiles(data)
    if cert in plan.certs:
        report_path("subject.cert_number", f"与主体表第 {plan.certs[cert]} 行的主体证件相同：同一主体在文件中只能出现一次")
    for i, w in enumerate(data.websites):
        for j, d in enumerate(w.domains):
            first = plan.domains.get(d)
            if first is not None:
                report_path(f"websites[{i}].domains[{j}]", f"域名 {d} 在文件中重复（网站表第 {first} 行已填写）")
    for mobile, path in mobiles.items():
        first = plan.mobiles.get(mobile)
        if first is not None:
            report_path(path, f"手机号码已用于文件中另一个主体（主体表第 {first} 行），一个手机号码只能用于一个主体")
    plan.certs.setdefault(cert, s_row)
    for i, w in enumerate(data.websites):
        for d in w.domains:
            plan.domains.setdefault(d, websites[i][0])
    for mobile in mobiles:
        plan.mobiles.setdefault(mobile, s_row)
    if found:
        return found, None
    # the canonical form (certificate/ID numbers, home URLs, IPs normalised; same-as-subject principal
    # dropped): filing finishes it without validating those values again (`"c": 1`, services/filing/batch.py)
    return found, canonical(data, copy=False, checked=True)


def _assess(group: list[tuple], plan: Plan, errors: list[RowError]) -> None:
    """Validate a batch of subjects with their websites and plan the clean ones (runs in a thread)."""
    plan.seal(wait=False)
    accepted: list[tuple[FilingData, dict]] = []
    for key, s_row, s_cells, s_bad, websites in group:
        found, data = _assess_one(key, s_row, s_cells, s_bad, websites, plan)
        plan.validated += len(websites)
        if found:
            errors.extend(found)
            plan.clean = False
        elif data is not None:
            accepted.append((data, {"k": key, "s": s_row, "w": [w[0] for w in websites]}))
    if not accepted:
        return
    if not plan.clean:
        # the file is rejected already: its clean subjects are still checked against the existing
        # filings (every error in one pass), with a placeholder username and no credentials
        for data, ref in accepted:
            _plan_item(plan, data, ref, ["", ""], None)
        return
    # credentials: random username/password, the hash for filing, the plaintext only in the sealed
    # credentials of the chunk
    creds = []
    for _ in accepted:
        username = generate_username()
        while username in plan.usernames:
            username = generate_username()
        plan.usernames.add(username)
        creds.append((username, generate_password()))
    # PBKDF2 releases the GIL: hash on other cores while this thread goes on validating
    hashes = [_hash_pool.submit(hash_generated_password, p) for _, p in creds]
    for (data, ref), (username, password), pw_hash in zip(accepted, creds, hashes, strict=True):
        _plan_item(plan, data, ref, [username, pw_hash],
                   [ref["k"], data.subject.name, username, password, [d for w in data.websites for d in w.domains]])


def _plan_item(plan: Plan, data: FilingData, ref: dict, sponsor: list, cred: list | None) -> None:
    n = len(data.websites)
    if plan.websites_in_chunk and plan.websites_in_chunk + n > plan.chunk_websites:
        plan.flush()
    # "c": the data is in canonical form (_assess_one)
    # the data as pydantic's JSON, embedded as is when the chunk is encoded (`seal`); the hash: a future
    # "k": what filing's dry run looks up (certificate, mobiles, domains), so it need not parse "data"
    plan.items.append({"data": orjson.Fragment(data.model_dump_json()), "sponsor": sponsor, "c": 1,
                       "k": rule_keys(data)})
    plan.refs.append(ref)
    if cred is not None:
        plan.creds.append(cred)
    plan.websites_in_chunk += n
    plan.subjects += 1
    plan.websites += n


_GATHER_SQL = """
SELECT s.key, s.row_no, s.cells, s.bad,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(w.row_no, w.cells, w.bad) ORDER BY w.row_no), '[]'::jsonb)
          FROM import_rows w WHERE w.job_id = s.job_id AND w.sheet = 2 AND w.key = s.key) AS websites
FROM import_rows s WHERE s.job_id = $1 AND s.sheet = 1 ORDER BY s.key
"""


_INSERT_CHUNK = """INSERT INTO import_chunks (job_id, chunk_no, subjects, websites, items, refs, credentials)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)"""


class _Rejected(Exception):
    pass


async def process(ctx: ServiceContext, job: asyncpg.Record, me: str, s: ImportSettings) -> None:
    job_id = job["id"]
    async with ctx.pool.acquire() as conn, conn.transaction():
        for table in ("import_errors", "import_rows", "import_chunks"):
            await conn.execute(f"DELETE FROM {table} WHERE job_id = $1", job_id)
        data = await load_upload(conn, ctx.settings.secret_key, job_id)
    if data is None:
        await _finish_failed(ctx.pool, job_id, "上传的文件已不存在（可能已过期），请重新上传")
        return
    sink = ErrorSink(job_id, job["file_columns"] or {}, s.max_errors)
    reading = await read_and_stage(ctx, job, data, sink, s)
    del data
    if reading.fatal:
        async with ctx.pool.acquire() as conn, conn.transaction():
            await sink.flush(conn)
            await _reject(conn, job_id, me, reading.fatal, sink.count)
        return
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            "UPDATE import_jobs SET rows_total = $2, subjects_total = $3, updated_at = now() WHERE id = $1",
            job_id, reading.website_rows, reading.subject_rows,
        )
    if reading.subject_rows == 0 and reading.website_rows == 0:
        async with ctx.pool.acquire() as conn, conn.transaction():
            sink.add(RowError(C.SUBJECT_SHEET, None, None, "", "文件中没有数据行（第3行起填写，示例行不导入）"))
            await sink.flush(conn)
            await _reject(conn, job_id, me, "文件中没有可导入的数据", sink.count)
        return
    plan = Plan(get_settings().secret_key, ctx.settings.secret_key, job_id, s.chunk_websites)
    plan.clean = sink.count == 0
    loop = asyncio.get_running_loop()
    async with ctx.pool.acquire() as conn:
        try:
            async with conn.transaction():
                group: list[tuple] = []

                async def assess(group: list[tuple]) -> None:
                    errors: list[RowError] = []
                    await loop.run_in_executor(None, _assess, group, plan, errors)
                    for e in errors:
                        sink.add(e)
                    async with ctx.pool.acquire() as other:
                        await sink.flush(other)
                        await other.execute(
                            "UPDATE import_jobs SET rows_validated = $2, updated_at = now() WHERE id = $1",
                            job_id, plan.validated,
                        )
                    if plan.chunks:
                        await conn.executemany(_INSERT_CHUNK, plan.chunks)
                        plan.chunks = []

                async for r in conn.cursor(_GATHER_SQL, job_id, prefetch=_GATHER_BATCH):
                    group.append((r["key"], r["row_no"], r["cells"], r["bad"], r["websites"]))
                    if len(group) >= _GATHER_BATCH:
                        await assess(group)
                        group = []
                await assess(group)
                plan.flush()
                await loop.run_in_executor(None, plan.seal, True)
                if plan.chunks:
                    await conn.executemany(_INSERT_CHUNK, plan.chunks)
                    plan.chunks = []
                check_only = bool(sink.count) or not plan.clean
                if check_only and plan.chunk_no == 0:
                    raise _Rejected  # nothing left to check against the existing filings
                locked = await conn.fetchrow(
                    "SELECT * FROM import_jobs WHERE id = $1 AND lease_owner = $2 FOR UPDATE", job_id, me
                )
                if locked is None:
                    raise LeaseLost
                job2 = await conn.fetchrow(
                    """UPDATE import_jobs SET status = 'CHECKING', chunks_total = $2, chunks_checked = 0,
                           chunks_done = 0, rows_validated = $3, lease_owner = NULL, lease_until = NULL,
                           check_only = $4, error_count = $5, updated_at = now() WHERE id = $1 RETURNING *""",
                    job_id, plan.chunk_no, plan.validated, check_only, sink.count,
                )
                await send_next(conn, publisher(ctx.outbox, conn), job2, "check", s.window)
                log.info("import.validated", job_id=str(job_id), subjects=plan.subjects, websites=plan.websites,
                         chunks=plan.chunk_no, errors=sink.count)
        except _Rejected:
            async with conn.transaction():
                await sink.flush(conn)
                await _reject(conn, job_id, me, f"文件中有 {sink.count} 处错误，整个文件未导入；请按错误列表修改后重新上传",
                              sink.count)
        except LeaseLost:
            log.warning("import.lease_lost_at_commit", job_id=str(job_id))


async def _reject(conn: asyncpg.Connection, job_id: uuid.UUID, me: str, message: str, count: int) -> None:
    from services.importer.flow import reject

    owner = await conn.fetchval("SELECT lease_owner FROM import_jobs WHERE id = $1 FOR UPDATE", job_id)
    if owner != me:
        raise LeaseLost
    await reject(conn, job_id, message, count)


async def _finish_failed(pool: asyncpg.Pool, job_id: uuid.UUID, message: str) -> None:
    await pool.execute(
        """UPDATE import_jobs SET status = 'FAILED', message = $2, finished_at = now(), updated_at = now(),
               lease_owner = NULL, lease_until = NULL WHERE id = $1""",
        job_id, message,
    )
