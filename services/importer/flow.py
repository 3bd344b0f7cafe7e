"""The message-driven part of a job: chunks go to filing a few at a time (flow control), and the
replies move the job forward. Every step runs in the transaction that records it (the inbox row
of the reply, the chunk state, the job counters, the next commands in the outbox), with the job
row locked, so concurrent replies of one job serialise and a redelivered reply changes nothing.

Phases: CHECKING (`filing.batch.check` → `filing.batch.chunk_checked`: the database rules as a dry
run, nothing written; while the file is clean a chunk's check goes out as soon as the chunk is
validated, so most of the dry run overlaps the validation) → IMPORTING (`filing.batch.import` → `filing.batch.chunk_imported`: one
transaction per chunk in filing, idempotent per (job, chunk)) → COMPLETED. Any conflict found by
the dry run rejects the whole file (nothing imported); a sponsor username found taken sends the
job back to be planned again with new credentials.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import orjson
import structlog

from services.importer import columns as C
from services.importer.errors import ErrorSink, RowError
from services.importer.settings import import_settings
from shared.bus import MessageContext
from shared.contracts import Contract
from shared.contracts.filing import BatchCheck, BatchChunkChecked, BatchChunkImported, BatchImport
from shared.contracts.importer import ImportJobFinished

log = structlog.get_logger(__name__)

Publish = Callable[..., Awaitable[object]]
WAKE: list[asyncio.Event] = []  # one per job loop of this process: set to make it look for work now


async def send_next(conn: asyncpg.Connection, publish: Publish, job: asyncpg.Record, phase: str, limit: int) -> int:
    """Send up to `limit` pending chunks of the phase ('check' | 'import'); return how many."""
    if limit <= 0:
        return 0
    col = "check_state" if phase == "check" else "state"
    rows = await conn.fetch(
        f"""SELECT chunk_no, items, check_items, subjects FROM import_chunks
            WHERE job_id = $1 AND {col} = 'PENDING' ORDER BY chunk_no LIMIT $2 FOR UPDATE SKIP LOCKED""",
        job["id"],
        limit,
    )
    for r in rows:
        await publish(_command(phase, job, r), provider_id=job["provider_id"])
    if rows:
        await conn.execute(
            f"UPDATE import_chunks SET {col} = 'SENT', sent_at = now() WHERE job_id = $1 AND chunk_no = ANY($2)",
            job["id"],
            [r["chunk_no"] for r in rows],
        )
    return len(rows)


def _command(phase: str, job, chunk) -> BatchCheck | BatchImport:
    """The chunk's command. A check reserves the chunk's keys in filing for the job (so a file that
    passed its check is imported whole), except for a file already rejected for its own errors
    (checked only to list every error)."""
    if phase == "check":
        keys_only = chunk["check_items"] is not None  # (a chunk planned before migration 005: the items)
        return BatchCheck(job_id=str(job["id"]), chunk_no=chunk["chunk_no"], provider_id=job["provider_id"],
                          actor=job["created_by"], items_sealed=chunk["check_items"] if keys_only else chunk["items"],
                          item_count=chunk["subjects"], keys_only=keys_only, attempt=job["attempts"],
                          reserve_hours=None if job["check_only"] else import_settings().reservation_hours)
    return BatchImport(job_id=str(job["id"]), chunk_no=chunk["chunk_no"], provider_id=job["provider_id"],
                       actor=job["created_by"], items_sealed=chunk["items"], item_count=chunk["subjects"])


async def in_flight(conn: asyncpg.Connection, job_id: uuid.UUID, phase: str) -> int:
    col = "check_state" if phase == "check" else "state"
    return await conn.fetchval(f"SELECT count(*) FROM import_chunks WHERE job_id = $1 AND {col} = 'SENT'", job_id)


async def resend_stalled(conn: asyncpg.Connection, publish: Publish, stall_seconds: float) -> int:
    """Chunks sent long ago and still unanswered are sent again (filing is idempotent per chunk)."""
    rows = await conn.fetch(
        """SELECT c.job_id AS id, c.chunk_no, c.items, c.check_items, c.subjects, c.check_state, c.state, j.provider_id, j.created_by,
                  j.status, j.check_only, j.attempts
           FROM import_chunks c JOIN import_jobs j ON j.id = c.job_id
           WHERE c.sent_at < now() - make_interval(secs => $1)
             AND ((j.status IN ('VALIDATING', 'CHECKING') AND c.check_state = 'SENT')
                  OR (j.status = 'IMPORTING' AND c.state = 'SENT'))
           ORDER BY c.sent_at LIMIT 50 FOR UPDATE OF c SKIP LOCKED""",
        stall_seconds,
    )
    for r in rows:
        await publish(_command("import" if r["status"] == "IMPORTING" else "check", r, r), provider_id=r["provider_id"])
        await conn.execute(
            "UPDATE import_chunks SET sent_at = now() WHERE job_id = $1 AND chunk_no = $2", r["id"], r["chunk_no"]
        )
        log.warning("import.chunk_resent", job_id=str(r["id"]), chunk_no=r["chunk_no"], phase=r["status"])
    return len(rows)


async def _lock_job(conn: asyncpg.Connection, job_id: str) -> asyncpg.Record | None:
    try:
        jid = uuid.UUID(job_id)
    except ValueError:
        return None
    return await conn.fetchrow("SELECT * FROM import_jobs WHERE id = $1 FOR UPDATE", jid)


async def conflicts_to_errors(conn: asyncpg.Connection, job: asyncpg.Record, chunks: list[asyncpg.Record]) -> int:
    """Record the conflicts reported by filing as row errors (sheet, row, column, value, reason)."""
    sink = ErrorSink(job["id"], job["file_columns"] or {}, import_settings().max_errors)
    recorded = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM import_errors WHERE job_id = $1", job["id"])
    sink.count = max(recorded, job["error_count"] or 0)
    # subjects with a file-wide repeat (validation.finish): reported for that only, as a subject with
    # errors of its own is never checked against the existing filings
    repeated = {r["key"] for r in await conn.fetch(
        "SELECT key FROM import_keys WHERE job_id = $1 AND kind = 0", job["id"])} if job["check_only"] else set()
    for chunk in chunks:
        refs = chunk["refs"]
        for c in chunk["conflicts"] or []:
            if job["check_only"] and c["field"].startswith("sponsor"):
                continue  # a placeholder username (no credentials for a rejected file)
            ref = refs[c["item"]] if 0 <= c["item"] < len(refs) else None
            if ref is not None and ref["k"] in repeated:
                continue
            if ref is None:
                sink.add(RowError(C.SUBJECT_SHEET, None, None, "", c["message"]))
                continue
            sheet, index, key = C.locate(c["field"])
            if c["field"].startswith("sponsor"):
                sheet, index, key = C.SUBJECT_SHEET, None, "subject_key"
            row_no = ref["s"] if index is None else ref["w"][min(index, len(ref["w"]) - 1)]
            cells = await conn.fetchval(
                "SELECT cells FROM import_rows WHERE job_id = $1 AND sheet = $2 AND key = $3 AND row_no = $4",
                job["id"], C.SHEET_NO[sheet], ref["k"], row_no,
            )
            cells = orjson.loads(cells) if cells else None
            idx = C.column_index(sheet)
            value = cells[idx[key]] if cells and key in idx else ""
            sink.add(RowError(sheet, row_no, key, value, c["message"]))
    await sink.flush(conn)
    return sink.count


async def cleanup_after(conn: asyncpg.Connection, job_id: uuid.UUID) -> None:
    """The job has ended: what it staged goes once this transaction commits (`staged_cleanup`, run by a
    worker's job loop: woken here, it finds the job row locked until the commit and takes it on its next
    pass, within `ICP_IMPORT_POLL_SECONDS`) — deleting a large file's rows and payloads in the finishing
    transaction kept the job from completing for seconds."""
    await conn.execute("UPDATE import_jobs SET cleanup_pending = true WHERE id = $1", job_id)
    for event in WAKE:
        event.set()


async def staged_cleanup(pool: asyncpg.Pool) -> bool:
    """Delete what one ended job staged: its rows (cells with ID numbers), file-wide keys, chunk errors, the
    sealed chunk payloads and, once it completed, its upload (a rejected file keeps it for the annotated
    copy). True when a job was cleaned."""
    async with pool.acquire() as conn, conn.transaction():
        job = await conn.fetchrow(
            "SELECT id, status FROM import_jobs WHERE cleanup_pending LIMIT 1 FOR UPDATE SKIP LOCKED")
        if job is None:
            return False
        job_id = job["id"]
        await conn.execute("DELETE FROM import_rows WHERE job_id = $1", job_id)
        await conn.execute("DELETE FROM import_keys WHERE job_id = $1", job_id)
        await conn.execute("DELETE FROM import_chunk_errors WHERE job_id = $1", job_id)
        # the validation chunks stay (who validated what), without their subject keys
        await conn.execute("UPDATE import_vchunks SET keys = '{}' WHERE job_id = $1", job_id)
        await conn.execute("UPDATE import_chunks SET items = NULL, check_items = NULL WHERE job_id = $1", job_id)
        if job["status"] == "COMPLETED":
            await conn.execute("DELETE FROM import_files WHERE job_id = $1", job_id)
        await conn.execute("UPDATE import_jobs SET cleanup_pending = false WHERE id = $1", job_id)
    return True


async def reject(conn: asyncpg.Connection, job_id: uuid.UUID, message: str, error_count: int) -> None:
    """The whole file is refused; a worker builds its annotated copy once (`annotate.annotate_next`)."""
    await conn.execute(
        """UPDATE import_jobs SET status = 'REJECTED', message = $2, error_count = $3, finished_at = now(),
               updated_at = now(), lease_owner = NULL, lease_until = NULL,
               annotation = CASE WHEN $3 > 0 THEN 'PENDING' ELSE 'NONE' END WHERE id = $1""",
        job_id, message, error_count,
    )
    await conn.execute("DELETE FROM import_chunks WHERE job_id = $1", job_id)
    await cleanup_after(conn, job_id)
    for event in WAKE:  # this process's job loop builds the annotated copy at once
        event.set()


async def finished(publish: Publish, job: asyncpg.Record, status: str) -> None:
    """Tell filing the job ended after its chunks were checked there: it releases the job's reservations."""
    await publish(ImportJobFinished(job_id=str(job["id"]), provider_id=job["provider_id"], status=status,
                                         finished_at=datetime.now(UTC)))


async def on_chunk_checked(payload: BatchChunkChecked, mctx: MessageContext) -> None:
    conn = mctx.conn
    job = await _lock_job(conn, payload.job_id)
    if job is None or job["status"] not in ("VALIDATING", "CHECKING") or payload.attempt != job["attempts"]:
        return  # a late or repeated reply, or one to an earlier attempt's check (the file was planned again)
    updated = await conn.fetchval(
        """UPDATE import_chunks SET check_state = 'DONE', conflicts = $3
           WHERE job_id = $1 AND chunk_no = $2 AND check_state <> 'DONE' RETURNING true""",
        job["id"], payload.chunk_no, [c.model_dump() for c in payload.conflicts] or None,
    )
    if not updated:
        return
    job = await conn.fetchrow(
        "UPDATE import_jobs SET chunks_checked = chunks_checked + 1, updated_at = now() WHERE id = $1 RETURNING *",
        job["id"],
    )
    window = import_settings().check_window
    if job["status"] == "VALIDATING":  # checked early: the next validated chunk's check, while the file is clean
        if job["error_count"] == 0:
            await send_next(conn, mctx.publish, job, "check", window - await in_flight(conn, job["id"], "check"))
        return
    if job["chunks_checked"] < job["chunks_total"]:
        await send_next(conn, mctx.publish, job, "check", window - await in_flight(conn, job["id"], "check"))
        return
    await all_checked(conn, mctx.publish, job)


async def all_checked(conn: asyncpg.Connection, publish: Publish, job: asyncpg.Record) -> None:
    """Every chunk's check is answered (the job row is locked, CHECKING): reject, plan again, or import."""
    window = import_settings().window
    bad = await conn.fetch(
        "SELECT chunk_no, refs, conflicts FROM import_chunks WHERE job_id = $1 AND conflicts IS NOT NULL ORDER BY chunk_no",
        job["id"],
    )
    if bad and not job["check_only"]:
        only_usernames = all(c["field"].startswith("sponsor") for b in bad for c in b["conflicts"])
        if only_usernames:
            # a generated username is taken in filing: plan again with new credentials
            log.info("import.replan_usernames", job_id=str(job["id"]))
            await conn.execute("DELETE FROM import_chunks WHERE job_id = $1", job["id"])
            await conn.execute(
                """UPDATE import_jobs SET status = 'QUEUED', chunks_total = NULL, chunks_checked = 0, vchunks_total = NULL,
                       lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE id = $1""",
                job["id"],
            )
            return
    if bad or job["check_only"]:
        count = await conflicts_to_errors(conn, job, bad)
        if job["check_only"]:
            message = f"文件中有 {count} 处错误（含与已备案信息的冲突），整个文件未导入；请按错误列表修改后重新上传"
        else:
            message = f"文件中有 {count} 处与已备案信息或正在导入的其他文件冲突，整个文件未导入"
        await reject(conn, job["id"], message, count)
        # a file found wrong after some of its chunks were checked early reserved their keys too
        await finished(publish, job, "REJECTED")
        return
    job = await conn.fetchrow(
        "UPDATE import_jobs SET status = 'IMPORTING', updated_at = now() WHERE id = $1 RETURNING *", job["id"]
    )
    await send_next(conn, publish, job, "import", window)


async def on_chunk_imported(payload: BatchChunkImported, mctx: MessageContext) -> None:
    conn = mctx.conn
    job = await _lock_job(conn, payload.job_id)
    if job is None or job["status"] not in ("IMPORTING", "FAILED"):
        return
    state = "DONE" if payload.ok else "FAILED"
    updated = await conn.fetchval(
        """UPDATE import_chunks SET state = $3, conflicts = $4, application_ids = $5
           WHERE job_id = $1 AND chunk_no = $2 AND state NOT IN ('DONE', 'FAILED') RETURNING true""",
        job["id"], payload.chunk_no, state, [c.model_dump() for c in payload.conflicts] or None,
        payload.application_ids,
    )
    if not updated:
        return
    job = await conn.fetchrow(
        """UPDATE import_jobs SET chunks_done = chunks_done + 1, rows_imported = rows_imported + $2,
               subjects_imported = subjects_imported + $3, updated_at = now() WHERE id = $1 RETURNING *""",
        job["id"], payload.websites_created, payload.subjects_created,
    )
    if not payload.ok:
        bad = await conn.fetch(
            "SELECT chunk_no, refs, conflicts FROM import_chunks WHERE job_id = $1 AND chunk_no = $2",
            job["id"], payload.chunk_no,
        )
        count = await conflicts_to_errors(conn, job, bad)
        first_failure = job["status"] != "FAILED"
        await conn.execute(
            """UPDATE import_jobs SET status = 'FAILED', error_count = $2, finished_at = now(), updated_at = now(),
                   result_expires_at = coalesce(result_expires_at, now() + make_interval(secs => $4)),
                   annotation = coalesce(annotation, 'PENDING'), message = $3 WHERE id = $1""",
            job["id"], count,
            "导入过程中发现与其他同时提交的备案冲突（校验之后发生），导入已停止；已导入的主体见进度，"
            "其主办者账号可在结果文件中下载；冲突所在的主体未导入",
            import_settings().result_ttl_hours * 3600,
        )
        if first_failure:
            await finished(mctx.publish, job, "FAILED")
            for event in WAKE:  # the annotated copy marks the conflicts in the upload
                event.set()
        return
    if job["status"] == "FAILED":
        return
    if job["chunks_done"] < job["chunks_total"]:
        await send_next(conn, mctx.publish, job, "import", import_settings().window - await in_flight(conn, job["id"], "import"))
        return
    ttl = import_settings().result_ttl_hours
    await conn.execute(
        """UPDATE import_jobs SET status = 'COMPLETED', finished_at = now(), updated_at = now(),
               result_expires_at = now() + make_interval(secs => $2), message = $3 WHERE id = $1""",
        job["id"], ttl * 3600, f"成功导入 {job['subjects_imported']} 个主体、{job['rows_imported']} 个网站",
    )
    await cleanup_after(conn, job["id"])
    await finished(mctx.publish, job, "COMPLETED")
    log.info("import.completed", job_id=str(job["id"]), subjects=job["subjects_imported"], websites=job["rows_imported"])


def publisher(outbox, conn: asyncpg.Connection) -> Publish:
    async def publish(payload: Contract, **kw):
        return await outbox.add(conn, payload, **kw)

    return publish
