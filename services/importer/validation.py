"""Validation in chunks that any importer worker takes (competing consumers on the importer's queue).

The worker that read the file (`worker.process`, under its lease) stages the rows and splits the
subjects, in key order, into validation chunks packed as the import chunks are (whole subjects, up to
`ICP_IMPORT_CHUNK_WEBSITES` websites): one `import_vchunks` row and one `importer.chunk.validate`
command each, in the transaction that ends its lease. From then on the job is driven by messages:

- `on_validate_chunk` (any worker): gathers the chunk's subjects, validates and plans them in a thread
  (`assess.assess`), then — with the job row locked, in the consumer's transaction — records the result
  once: the chunk's row errors (`import_chunk_errors`), its file-wide keys (`import_keys`), its planned
  import chunk (chunk_no = the validation chunk's number) and the job's counters. A chunk delivered again
  (a redelivery after a worker died, a resent command) finds its row DONE and records nothing; a worker
  killed mid-chunk rolls back with its connection and the broker redelivers the chunk to another.
- the worker recording the last chunk (`finish`): the file-wide rules across the whole file in one query
  (the same certificate, domain or principal mobile in two subjects; a generated username twice →
  planned again), every error merged into `import_errors` in file order (reading errors first, then by
  subject), then the job goes on as before: CHECKING with the first `filing.batch.check` commands, or
  REJECTED (nothing imported) when no subject is left to check.
- `resend_stalled`: a chunk unanswered for `ICP_IMPORT_STALL_SECONDS` is sent again (recorded once).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid

import asyncpg
import orjson
import structlog

from services.importer import columns as C
from services.importer.assess import CERT, DOMAIN, MOBILE, USERNAME, Plan, assess
from services.importer.errors import COLUMNS, RowError
from services.importer.flow import Publish, all_checked, in_flight, publisher, reject, send_next
from services.importer.settings import import_settings
from shared.bus import MessageContext
from shared.config import get_settings
from shared.contracts.importer import ValidateChunk
from shared.service import ServiceContext

log = structlog.get_logger(__name__)

# this process, as recorded on the chunks it takes (`import_vchunks.taken_by` / `done_by`)
WORKER = f"{socket.gethostname()}:{os.getpid()}"
_CTX: list[ServiceContext] = []  # the importer's context in a worker process (set by worker.job_loop)

# one index probe per subject key (`= ANY` over the chunk's keys was answered with a sequential scan of
# the job's staged rows, per chunk: PostgreSQL CPU quadratic in the file). `OFFSET 0` keeps the probe a
# probe: the staged rows are never analysed before validation, so the planner (4 rows expected) flattened
# the LATERAL into a hash join over every subject of the job, per chunk (36 → 4.5 ms a chunk at 10,000 subjects)
_GATHER_SQL = """
SELECT s.key, s.row_no, s.cells, s.bad,
       (SELECT coalesce(json_agg(json_build_array(w.row_no, w.cells::json, w.bad) ORDER BY w.row_no), '[]')::text
          FROM import_rows w WHERE w.job_id = s.job_id AND w.sheet = 2 AND w.key = s.key) AS websites
  FROM unnest($2::text[]) WITH ORDINALITY AS k(key, n),
       LATERAL (SELECT * FROM import_rows s WHERE s.job_id = $1 AND s.sheet = 1 AND s.key = k.key OFFSET 0) s
 ORDER BY k.n
"""

_INSERT_CHUNK = """INSERT INTO import_chunks (job_id, chunk_no, subjects, websites, items, refs, credentials,
                                              check_items)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""

_KEY_COLUMNS = ("job_id", "vchunk_no", "kind", "key", "pos", "subject", "sheet", "row_no", "field", "value",
                "first_row", "quiet")
_CHUNK_ERROR_COLUMNS = ("job_id", "vchunk_no", "pos", *COLUMNS[1:])


def pack(subject_keys: list[str], websites_of: dict[str, int], chunk_websites: int) -> list[list[str]]:
    """The subjects in key order, split as the import chunks are packed (whole subjects, a chunk closed
    before the subject that would take it past `chunk_websites` websites)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    n_websites = 0
    for key in sorted(subject_keys):
        n = websites_of.get(key, 0)
        if current and n_websites + n > chunk_websites:
            chunks.append(current)
            current, n_websites = [], 0
        current.append(key)
        n_websites += n
    if current:
        chunks.append(current)
    return chunks


async def publish_chunks(conn: asyncpg.Connection, publish: Publish, job_id: uuid.UUID, provider_id: str,
                         chunks: list[list[str]], clean: bool) -> None:
    """The validation chunks of a job and their commands (the caller's transaction)."""
    await conn.copy_records_to_table(
        "import_vchunks", records=[(job_id, n, keys) for n, keys in enumerate(chunks, start=1)],
        columns=("job_id", "vchunk_no", "keys"),
    )
    for n in range(1, len(chunks) + 1):
        await publish(ValidateChunk(job_id=str(job_id), vchunk_no=n, clean=clean), provider_id=provider_id)


async def _mark_taken(job_id: uuid.UUID, vchunk_no: int) -> None:
    """Note that this worker started the chunk, outside the consumer's transaction (so a worker killed
    mid-chunk leaves its mark; progress and the per-worker counts read it)."""
    try:
        await _CTX[0].pool.execute(
            """UPDATE import_vchunks SET takes = takes + 1, taken_by = $3
               WHERE job_id = $1 AND vchunk_no = $2 AND state <> 'DONE'""", job_id, vchunk_no, WORKER)
    except (asyncpg.PostgresError, OSError) as e:  # only a mark: the chunk goes on
        log.warning("import.vchunk_mark_failed", job_id=str(job_id), vchunk_no=vchunk_no, error=repr(e))


async def on_validate_chunk(cmd: ValidateChunk, mctx: MessageContext) -> None:
    conn = mctx.conn
    try:
        job_id = uuid.UUID(cmd.job_id)
    except ValueError:
        return
    row = await conn.fetchrow(
        """SELECT v.keys, v.state, j.status, j.file_columns FROM import_vchunks v JOIN import_jobs j ON j.id = v.job_id
           WHERE v.job_id = $1 AND v.vchunk_no = $2""", job_id, cmd.vchunk_no)
    if row is None or row["state"] == "DONE" or row["status"] != "VALIDATING":
        return  # recorded already, or the job moved on (a late or repeated delivery)
    if not _CTX:  # the worker's loops are not started yet: try again in a moment
        raise RuntimeError("importer worker not started yet")
    await _mark_taken(job_id, cmd.vchunk_no)
    started = time.perf_counter()
    group = [(r["key"], r["row_no"], orjson.loads(r["cells"]), r["bad"], orjson.loads(r["websites"]))
             for r in await conn.fetch(_GATHER_SQL, job_id, row["keys"])]
    s = import_settings()
    # the chunk is packed already (`pack`): it plans exactly one import chunk, numbered as itself
    plan = Plan(get_settings().secret_key, _CTX[0].settings.secret_key, job_id, 1 << 30, clean=cmd.clean)
    plan.chunk_no = cmd.vchunk_no - 1
    errors: list[tuple[int, RowError]] = []

    def work() -> None:
        assess(group, plan, errors)
        plan.flush()

    await asyncio.get_running_loop().run_in_executor(None, work)
    # record once: the job row first (every recording of the job serialises on it), then the chunk's
    job = await conn.fetchrow("SELECT * FROM import_jobs WHERE id = $1 FOR UPDATE", job_id)
    if job is None or job["status"] != "VALIDATING":
        return
    fresh = await conn.fetchval(
        """UPDATE import_vchunks SET state = 'DONE', done_by = $3, errors = $4
           WHERE job_id = $1 AND vchunk_no = $2 AND state <> 'DONE' RETURNING true""",
        job_id, cmd.vchunk_no, WORKER, len(errors))
    if not fresh:
        log.info("import.vchunk_repeated", job_id=cmd.job_id, vchunk_no=cmd.vchunk_no)
        return
    file_columns = job["file_columns"] or {}
    if errors:
        await conn.copy_records_to_table(
            "import_chunk_errors", columns=_CHUNK_ERROR_COLUMNS,
            records=[(job_id, cmd.vchunk_no, pos, *e.record(job_id, seq, file_columns)[1:])
                     for seq, (pos, e) in enumerate(errors[: s.max_errors], start=1)],
        )
    if plan.keys:
        await conn.copy_records_to_table(
            "import_keys", columns=_KEY_COLUMNS, records=[(job_id, cmd.vchunk_no, *k) for k in plan.keys])
    if plan.chunks:
        await conn.executemany(_INSERT_CHUNK, plan.chunks)
    job = await conn.fetchrow(
        """UPDATE import_jobs SET vchunks_done = vchunks_done + 1, rows_validated = rows_validated + $2,
               error_count = error_count + $3, updated_at = now() WHERE id = $1 RETURNING *""",
        job_id, plan.validated, len(errors))
    log.info("import.vchunk_validated", job_id=cmd.job_id, vchunk_no=cmd.vchunk_no, subjects=plan.subjects,
             errors=len(errors), ms=round((time.perf_counter() - started) * 1000), worker=WORKER)
    if job["vchunks_done"] >= job["vchunks_total"]:
        await finish(conn, mctx.publish, job)
    elif plan.chunks and job["error_count"] == 0:
        # the file is clean so far: check the chunk against the existing filings now (reserving its keys), while
        # the other chunks are validated, instead of in a phase of its own after them (`flow.send_next` keeps
        # at most `check_window` checks in flight; each answer sends the next)
        await send_next(conn, mctx.publish, job, "check", s.check_window - await in_flight(conn, job_id, "check"))


# ---------------------------------------------------------------- the last chunk: the file-wide rules


_REPEATS_SQL = """
SELECT k.kind, k.key, k.vchunk_no, k.pos, k.subject, k.sheet, k.row_no, k.field, k.value, k.first_row, k.quiet
  FROM import_keys k
  JOIN (SELECT kind, key FROM import_keys WHERE job_id = $1 GROUP BY kind, key HAVING count(*) > 1) r
       USING (kind, key)
 WHERE k.job_id = $1
 ORDER BY k.kind, k.key, k.vchunk_no, k.pos
"""

_SHEETS = {1: C.SUBJECT_SHEET, 2: C.WEBSITE_SHEET}


def repeat_errors(rows: list) -> tuple[list[tuple[int, int, int, RowError]], set[str], bool]:
    """The file-wide rules' errors from the repeated keys (ordered by kind, key, file order): every
    occurrence after the first (of another subject) is an error naming the first's row — as (chunk,
    subject position, rule order, error) —, the subjects concerned, and whether a generated username
    came twice."""
    found: list[tuple[int, int, int, RowError]] = []
    subjects: set[str] = set()
    usernames = False
    cells: set[tuple[str, int, int, str]] = set()  # one error per subject and cell (as `_assess_one` reports)
    first = None
    for r in rows:
        if first is None or (first["kind"], first["key"]) != (r["kind"], r["key"]):
            first = r
            continue
        if r["kind"] == USERNAME:
            usernames = True
            continue
        subjects.add(r["subject"])
        cell = (r["subject"], r["sheet"], r["row_no"], r["field"])
        if r["quiet"] or cell in cells:
            continue
        cells.add(cell)
        if r["kind"] == CERT:
            message = f"与主体表第 {first['first_row']} 行的主体证件相同：同一主体在文件中只能出现一次"
        elif r["kind"] == DOMAIN:
            message = f"域名 {r['key']} 在文件中重复（网站表第 {first['first_row']} 行已填写）"
        else:
            assert r["kind"] == MOBILE
            message = f"手机号码已用于文件中另一个主体（主体表第 {first['first_row']} 行），一个手机号码只能用于一个主体"
        found.append((r["vchunk_no"], r["pos"], r["kind"],
                      RowError(_SHEETS[r["sheet"]], r["row_no"], r["field"], r["value"], message)))
    # in the order the rules report them: by subject, then certificate, domains, mobiles
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    return found, subjects, usernames


async def finish(conn: asyncpg.Connection, publish: Publish, job: asyncpg.Record) -> None:
    """Every chunk is recorded (the job row is locked): the file-wide rules, the errors in file order,
    then CHECKING (or REJECTED)."""
    job_id = job["id"]
    s = import_settings()
    found, subjects, usernames = repeat_errors(await conn.fetch(_REPEATS_SQL, job_id))
    total = job["error_count"] + len(found)
    if usernames and total == 0:
        # a generated username came twice (in two chunks): plan the file again with new credentials
        log.info("import.replan_usernames", job_id=str(job_id))
        await conn.execute(
            """UPDATE import_jobs SET status = 'QUEUED', vchunks_total = NULL, lease_owner = NULL, lease_until = NULL,
                   updated_at = now() WHERE id = $1""", job_id)
        return
    file_columns = job["file_columns"] or {}
    if found:
        await conn.copy_records_to_table(
            "import_chunk_errors", columns=_CHUNK_ERROR_COLUMNS,
            records=[(job_id, vchunk_no, pos, *e.record(job_id, 1_000_000 + i, file_columns)[1:])
                     for i, (vchunk_no, pos, _kind, e) in enumerate(found)],
        )
    if subjects:  # their conflicts with the existing filings are not reported (`flow.conflicts_to_errors`)
        await conn.copy_records_to_table(
            "import_keys", columns=("job_id", "kind", "key", "vchunk_no", "pos", "subject", "sheet", "row_no",
                                    "field", "value", "first_row"),
            records=[(job_id, 0, k, 0, 0, k, 1, 0, "", "", 0) for k in sorted(subjects)])
    # the errors after those found while reading (seq 1…), in file order, at most `max_errors` kept
    read = job["read_errors"]
    await conn.execute(
        """INSERT INTO import_errors (job_id, seq, sheet, row_no, col, column_name, field, value, message)
           SELECT job_id, $2 + row_number() OVER (ORDER BY vchunk_no, pos, seq), sheet, row_no, col, column_name,
                  field, value, message
             FROM import_chunk_errors WHERE job_id = $1 ORDER BY vchunk_no, pos, seq LIMIT $3""",
        job_id, read, max(0, s.max_errors - read))
    await conn.execute("DELETE FROM import_chunk_errors WHERE job_id = $1", job_id)
    chunks = await conn.fetchval("SELECT count(*) FROM import_chunks WHERE job_id = $1", job_id)
    check_only = total > 0
    if check_only and chunks == 0:  # nothing left to check against the existing filings
        await reject(conn, job_id, f"文件中有 {total} 处错误，整个文件未导入；请按错误列表修改后重新上传", total)
        return
    # the chunks checked while the file was validated (`on_validate_chunk`) count; a file found wrong now checks
    # the rest without reserving (`check_only`), and its end releases what the early checks reserved
    checked = await conn.fetchval(
        "SELECT count(*) FROM import_chunks WHERE job_id = $1 AND check_state = 'DONE'", job_id)
    job2 = await conn.fetchrow(
        """UPDATE import_jobs SET status = 'CHECKING', chunks_total = $2, chunks_checked = $5, chunks_done = 0,
               check_only = $3, error_count = $4, updated_at = now() WHERE id = $1 RETURNING *""",
        job_id, chunks, check_only, total, checked)
    log.info("import.validated", job_id=str(job_id), chunks=chunks, errors=total, checked_early=checked)
    if checked >= chunks:
        await all_checked(conn, publish, job2)
        return
    await send_next(conn, publish, job2, "check", s.check_window - await in_flight(conn, job_id, "check"))


async def repeated_subjects(conn: asyncpg.Connection, job_id: uuid.UUID) -> set[str]:
    """Subjects with a file-wide repeat (recorded by `finish`)."""
    return {r["key"] for r in await conn.fetch("SELECT key FROM import_keys WHERE job_id = $1 AND kind = 0", job_id)}


async def resend_stalled(conn: asyncpg.Connection, publish: Publish, stall_seconds: float) -> int:
    """Validation chunks sent long ago and still not recorded are sent again (recorded once)."""
    rows = await conn.fetch(
        """SELECT v.job_id, v.vchunk_no, j.provider_id, j.read_errors FROM import_vchunks v
             JOIN import_jobs j ON j.id = v.job_id
            WHERE v.state = 'SENT' AND j.status = 'VALIDATING' AND v.sent_at < now() - make_interval(secs => $1)
            ORDER BY v.sent_at LIMIT 50 FOR UPDATE OF v SKIP LOCKED""",
        stall_seconds,
    )
    for r in rows:
        await publish(ValidateChunk(job_id=str(r["job_id"]), vchunk_no=r["vchunk_no"], clean=r["read_errors"] == 0),
                      provider_id=r["provider_id"])
        await conn.execute("UPDATE import_vchunks SET sent_at = now() WHERE job_id = $1 AND vchunk_no = $2",
                           r["job_id"], r["vchunk_no"])
        log.warning("import.vchunk_resent", job_id=str(r["job_id"]), vchunk_no=r["vchunk_no"])
    return len(rows)


__all__ = ["on_validate_chunk", "pack", "publish_chunks", "publisher", "resend_stalled", "finish"]
