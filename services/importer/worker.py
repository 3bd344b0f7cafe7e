"""Import workers: the background loops of the importer's worker role.

`job_loop` claims a QUEUED (or abandoned) job with `FOR UPDATE SKIP LOCKED` and a lease that a
heartbeat renews; a worker that dies stops renewing, the lease expires and another worker starts
the job again from the file (reading and validation are deterministic and write nothing but
staging rows, errors and planned chunks, all replaced on restart). No broker delivery is held
while a job runs. Steps:

1. read both sheets (`services.importer.reading`: the websites sheet in a thread, the subjects sheet beside
   it in a short-lived process; streaming, bounded memory), normalise cells, stage rows (COPY into
   `import_rows`), note cell-level and file-wide key errors;
2. split the subjects (key order) into validation chunks and publish them, each an
   `importer.chunk.validate` command that any importer worker takes (`services.importer.validation`:
   the wizard's rules per subject, the planned import chunk; the worker recording the last chunk runs
   the file-wide rules across the file and moves the job to CHECKING or REJECTED). This lease ends
   with the commands; the rest is driven by messages (`services.importer.flow`).

`purge_loop` deletes expired result workbooks and the files of finished jobs; `job_loop` also
resends chunks left unanswered (idempotent in filing; validation chunks are recorded once).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid

import asyncpg
import structlog

from services.importer import columns as C
from services.importer import validation
from services.importer.annotate import annotate_next, trim_heap
from services.importer.assess import Plan, _assess_one  # noqa: F401  (the validation of one subject)
from services.importer.errors import ErrorSink, RowError
from services.importer.flow import WAKE, publisher, resend_stalled, staged_cleanup
from services.importer.reading import read_and_stage
from services.importer.sealing import load_upload
from services.importer.settings import ImportSettings, import_settings
from services.importer.validation import pack, publish_chunks
from shared.service import ServiceContext

log = structlog.get_logger(__name__)


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
                 AND vchunks_total IS NULL
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
    validation._CTX[:] = [ctx]
    while True:
        if await staged_cleanup(ctx.pool):  # an ended job's staged rows and payloads (personal data): first
            continue
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
            await validation.resend_stalled(conn, publisher(ctx.outbox, conn), s.stall_seconds)
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


# ---------------------------------------------------------------- planning the validation chunks


async def process(ctx: ServiceContext, job: asyncpg.Record, me: str, s: ImportSettings) -> None:
    job_id = job["id"]
    async with ctx.pool.acquire() as conn, conn.transaction():
        for table in ("import_errors", "import_rows", "import_chunks", "import_vchunks", "import_chunk_errors",
                      "import_keys"):
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
    # validation in chunks that any importer worker takes (`validation.on_validate_chunk`): this lease ends
    # with their commands, in one transaction with the errors found while reading
    chunks = pack(list(reading.subject_keys), reading.websites_of, s.chunk_websites)
    if not chunks:  # no subject row (every website row is an error): nothing to validate further
        async with ctx.pool.acquire() as conn, conn.transaction():
            await sink.flush(conn)
            await _reject(conn, job_id, me, f"文件中有 {sink.count} 处错误，整个文件未导入；请按错误列表修改后重新上传",
                          sink.count)
        return
    async with ctx.pool.acquire() as conn, conn.transaction():
        locked = await conn.fetchval(
            "SELECT true FROM import_jobs WHERE id = $1 AND lease_owner = $2 FOR UPDATE", job_id, me
        )
        if locked is None:
            log.warning("import.lease_lost_at_commit", job_id=str(job_id))
            return
        await sink.flush(conn)
        await conn.execute(
            """UPDATE import_jobs SET vchunks_total = $2, vchunks_done = 0, read_errors = $3, error_count = $3,
                   rows_validated = 0, lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1""",
            job_id, len(chunks), sink.count,
        )
        await publish_chunks(conn, publisher(ctx.outbox, conn), job_id, job["provider_id"], chunks, sink.count == 0)
    log.info("import.read", job_id=str(job_id), subjects=reading.subject_rows, websites=reading.website_rows,
             chunks=len(chunks), errors=sink.count, seconds=reading.seconds)


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
