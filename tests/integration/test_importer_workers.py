"""Validation in chunks that any importer worker takes (issue 14): the file-wide rules still hold across
chunks, a chunk delivered twice is recorded once, two worker processes both validate chunks, a
worker killed mid-chunk leaves the chunk to another and the job completes exactly once, and a chunk's
dry run starts while the others are validated (its reservations released when the file is found wrong)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import socket
import uuid
from pathlib import Path

from openpyxl import load_workbook

from services.importer import flow, validation
from services.importer.settings import import_settings
from shared.bus import MessageContext
from shared.config import get_settings
from shared.contracts import Envelope, spec_of
from shared.contracts.filing import BatchChunkChecked
from shared.contracts.importer import ValidateChunk
from shared.db import transaction
from tests.conftest import System
from tests.integration.importer_workbooks import filled, mobile, subject_row, website_row
from tests.integration.test_importer import imported, new_provider, upload, wait_annotated, wait_done
from tests.integration.test_importer_whole import reservations, small_chunks
from tests.worker_process import spawn_worker, worker_ready


async def _vchunks(system: System, job_id: str) -> list[dict]:
    rows = await system.ctx("importer").pool.fetch(
        "SELECT * FROM import_vchunks WHERE job_id = $1 ORDER BY vchunk_no", uuid.UUID(job_id))
    return [dict(r) for r in rows]


async def test_a_repeat_seen_only_across_chunks_rejects_the_file_with_each_error_once(system: System):
    """One subject per chunk: the repeated domain, certificate and mobile are in other chunks than their
    first occurrence, so only the file-wide rules across chunks can see them."""
    pid, h = await new_provider(system)
    subjects = [subject_row(f"S{i}") for i in range(6)]
    websites = [website_row(f"S{i}") for i in range(6)]
    shared_mobile = mobile()
    subjects[1]["principal_mobile"] = shared_mobile
    subjects[5]["principal_mobile"] = shared_mobile  # S5 ↔ S1
    subjects[4]["cert_number"] = subjects[0]["cert_number"]  # S4 ↔ S0
    websites[3]["domains"], websites[3]["home_urls"] = websites[2]["domains"], websites[2]["home_urls"]  # S3 ↔ S2
    with small_chunks(1):
        r = await upload(system, h, filled(subjects, websites))
        body = await wait_done(system, h, (await r.json())["job_id"])
    assert body["status"] == "REJECTED", body
    job_id = body["job_id"]
    chunks = await _vchunks(system, job_id)
    assert len(chunks) == 6 and all(c["state"] == "DONE" for c in chunks)
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}
    errors = (await (await system.client.get(f"/api/importer/jobs/{job_id}/errors?page_size=100", headers=h)).json())["items"]
    located = [(e["sheet"], e["row"], e["column_name"], e["message"]) for e in errors]
    # data from row 4 (row 3 is the example); each repeat once, at the later subject, naming the first
    assert located == [
        ("网站", 7, "网站域名", f"域名 {websites[2]['domains']} 在文件中重复（网站表第 6 行已填写）"),
        ("主体", 8, "主办单位证件号码", "与主体表第 4 行的主体证件相同：同一主体在文件中只能出现一次"),
        ("主体", 9, "手机号码", "手机号码已用于文件中另一个主体（主体表第 5 行），一个手机号码只能用于一个主体"),
    ], located
    assert body["error_count"] == 3
    await wait_annotated(system, h, job_id)
    wb = load_workbook(io.BytesIO(await (await system.client.get(
        f"/api/importer/jobs/{job_id}/errors.xlsx", headers=h)).read()))
    assert wb["错误列表"].max_row == 3 + 1


async def test_a_chunk_delivered_twice_is_recorded_once(system: System):
    ctx = system.ctx("importer")
    pool = ctx.pool
    await ctx.consumer.stop()  # the chunks wait on the queue while this test delivers one itself
    try:
        pid, h = await new_provider(system)
        subjects = [subject_row(f"D{i}") for i in range(5)]
        websites = [website_row(f"D{i}") for i in range(5)] + [website_row("D0")]
        with small_chunks(2):
            r = await upload(system, h, filled(subjects, websites))
            job_id = (await r.json())["job_id"]
            jid = uuid.UUID(job_id)

            async def published():
                return await pool.fetchval("SELECT vchunks_total FROM import_jobs WHERE id = $1", jid)

            assert await system.eventually(published, limit=30) == 3  # [D0 (2 websites)], [D1, D2], [D3, D4]
            cmd = ValidateChunk(job_id=job_id, vchunk_no=1)

            async def deliver():
                env = Envelope(type="importer.chunk.validate", producer="importer", provider_id=pid,
                               payload=cmd.model_dump(mode="json"))
                async with transaction(pool) as conn:
                    async def publish(p, **kw):
                        return await ctx.outbox.add(conn, p, **kw)

                    await validation.on_validate_chunk(cmd, MessageContext(env, conn, publish))

            await asyncio.gather(deliver(), deliver())  # two at once: both validate, one records
            await deliver()  # and once more afterwards: nothing to do
            job = await pool.fetchrow("SELECT * FROM import_jobs WHERE id = $1", jid)
            assert (job["status"], job["vchunks_done"], job["rows_validated"]) == ("VALIDATING", 1, 2)
            assert await pool.fetchval("SELECT count(*) FROM import_chunks WHERE job_id = $1", jid) == 1
            assert await pool.fetchval("SELECT count(*) FROM import_keys WHERE job_id = $1 AND vchunk_no = 1",
                                       jid) == 1 + 1 + 2 + 1  # certificate, mobile, 2 domains, username
            first = (await _vchunks(system, job_id))[0]
            # both usually start it (takes 2); one that starts after the other recorded it returns at once
            assert first["state"] == "DONE" and first["takes"] in (1, 2), first
            # the queued delivery of chunk 1 and a resent command come later: recorded once still
            async with transaction(pool) as conn:
                await ctx.outbox.add(conn, cmd, provider_id=pid)
            await ctx.consumer.start()
            body = await wait_done(system, h, job_id)
    finally:
        if not ctx.consumer._workers:
            await ctx.consumer.start()
    assert body["status"] == "COMPLETED", body
    assert (body["subjects_imported"], body["rows_imported"], body["rows_validated"]) == (5, 6, 6)
    assert await imported(system, job_id) == {"subjects": 5, "applications": 5, "websites": 6}
    chunks = await _vchunks(system, job_id)
    assert [c["state"] for c in chunks] == ["DONE"] * 3


# ---------------------------------------------------------------- worker processes


async def _spawn_worker(system: System, pg_dsn: str, amqp_url: str, log: Path):
    return await spawn_worker(
        "importer", system.settings.secret_key, pg_dsn, amqp_url, log, ICP_LOG_LEVEL="info",
        ICP_IMPORT_CHUNK_WEBSITES=str(import_settings().chunk_websites), ICP_IMPORT_POLL_SECONDS="0.5",
        ICP_RETRY_DELAYS="0.2,0.5", ICP_OUTBOX_POLL_INTERVAL="0.5",
    )


async def test_two_worker_processes_share_the_chunks_and_one_killed_mid_chunk_changes_nothing(
    system: System, pg_dsn: str, amqp_url: str, tmp_path: Path
):
    """The importer of this process stops consuming and claiming: two `icp serve importer --worker`
    processes run the jobs. First file: both validate chunks. Second file: while every worker waits to
    record its chunk (this test holds the job row), one is killed; its chunks go to the other and the job
    completes exactly once."""
    from shared.runtime import _forever

    ctx = system.ctx("importer")
    rs = next(r for r in system.runtime.running if r.definition.name == "importer")
    # one key everywhere, as in a deployment: filing here opens the items the workers seal (get_settings),
    # the workers open the upload this process's API sealed (the system's settings)
    old_key = os.environ.get("ICP_SECRET_KEY")
    os.environ["ICP_SECRET_KEY"] = system.settings.secret_key
    get_settings.cache_clear()
    await ctx.consumer.stop()
    for t in rs.tasks:
        t.cancel()
    await asyncio.gather(*rs.tasks, return_exceptions=True)
    workers = []
    pool = ctx.pool
    try:
        with small_chunks(2):
            workers = [await _spawn_worker(system, pg_dsn, amqp_url, tmp_path / f"worker{i}.log") for i in range(2)]
            for proc, port, _ in workers:
                await system.eventually(lambda proc=proc, port=port: worker_ready("importer", port, proc), limit=60)
            ids = {f"{socket.gethostname()}:{proc.pid}": i for i, (proc, _, _) in enumerate(workers)}

            pid, h = await new_provider(system)
            n = 40
            subjects = [subject_row(f"W{i:02d}") for i in range(n)]
            websites = [website_row(f"W{i:02d}") for i in range(n)]
            r = await upload(system, h, filled(subjects, websites))
            job_id = (await r.json())["job_id"]
            body = await wait_done(system, h, job_id, limit=120)
            assert body["status"] == "COMPLETED" and body["subjects_imported"] == n, body
            chunks = await _vchunks(system, job_id)
            per_worker = {i: sum(1 for c in chunks if ids.get(c["done_by"]) == i) for i in range(2)}
            assert len(chunks) == n // 2 and sum(per_worker.values()) == n // 2, per_worker
            assert all(v > 0 for v in per_worker.values()), per_worker  # both processes validated chunks

            # the second file: every worker blocks when it records a chunk (the job row is ours)
            subjects = [subject_row(f"K{i:02d}") for i in range(n)]
            websites = [website_row(f"K{i:02d}") for i in range(n)]
            r = await upload(system, h, filled(subjects, websites))
            job_id = (await r.json())["job_id"]
            jid = uuid.UUID(job_id)

            async def published():
                return await pool.fetchval("SELECT vchunks_total FROM import_jobs WHERE id = $1", jid)

            await system.eventually(published, limit=60)
            victim, _, _ = workers[0]
            victim_id = f"{socket.gethostname()}:{victim.pid}"
            async with transaction(pool) as conn:
                await conn.execute("SELECT 1 FROM import_jobs WHERE id = $1 FOR UPDATE", jid)

                async def victim_holds_a_chunk():
                    return await pool.fetch(
                        "SELECT vchunk_no FROM import_vchunks WHERE job_id = $1 AND taken_by = $2 AND state = 'SENT'",
                        jid, victim_id)

                held = await system.eventually(victim_holds_a_chunk, limit=60)
                victim.send_signal(signal.SIGKILL)
                await victim.wait()
            body = await wait_done(system, h, job_id, limit=120)
            assert body["status"] == "COMPLETED", body
            assert (body["subjects_imported"], body["rows_imported"]) == (n, n)
            assert await imported(system, job_id) == {"subjects": n, "applications": n, "websites": n}
            chunks = {c["vchunk_no"]: c for c in await _vchunks(system, job_id)}
            assert all(c["state"] == "DONE" for c in chunks.values())
            for r in held:  # the killed worker's chunks were taken again and recorded by the other
                c = chunks[r["vchunk_no"]]
                assert c["takes"] >= 2 and c["done_by"] != victim_id, c
            assert await pool.fetchval("SELECT count(*) FROM import_chunks WHERE job_id = $1", jid) == n // 2
            logs = (tmp_path / "worker1.log").read_text()
            assert "service.background_failed" not in logs and "dead_lettered" not in logs, logs[-3000:]
    finally:
        for proc, _, _ in workers:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _, out in workers:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
            out.close()
        await ctx.consumer.start()
        rs.tasks = [asyncio.create_task(_forever(loop, rs.ctx, "importer")) for loop in rs.definition.background]
        if old_key is None:
            os.environ.pop("ICP_SECRET_KEY", None)
        else:
            os.environ["ICP_SECRET_KEY"] = old_key
        get_settings.cache_clear()


# ---------------------------------------------------------------- checks while the file is validated


async def _deliver(system: System, pid: str, message, handler) -> None:
    """`message` handled by `handler` in a transaction of the importer, as its consumer would."""
    ctx = system.ctx("importer")
    env = Envelope(type=spec_of(message).type, producer="test", provider_id=pid,
                   payload=message.model_dump(mode="json"))
    async with transaction(ctx.pool) as conn:
        async def publish(p, **kw):
            return await ctx.outbox.add(conn, p, **kw)

        await handler(message, MessageContext(env, conn, publish))


async def _deliver_validate(system: System, pid: str, job_id: str, vchunk_no: int) -> None:
    await _deliver(system, pid, ValidateChunk(job_id=job_id, vchunk_no=vchunk_no), validation.on_validate_chunk)


@contextlib.asynccontextmanager
async def _paused(system: System, subjects: list[dict], websites: list[dict]):
    """The file uploaded in chunks of one website with the importer's consumer stopped, so its validation
    commands wait on the queue (the test delivers chunks itself): yields (provider, headers, job id); the
    consumer runs again on leaving."""
    ctx = system.ctx("importer")
    await ctx.consumer.stop()
    try:
        pid, h = await new_provider(system)
        with small_chunks(1, window=2):
            job_id = (await (await upload(system, h, filled(subjects, websites))).json())["job_id"]

            async def published():
                return await ctx.pool.fetchval("SELECT vchunks_total FROM import_jobs WHERE id = $1",
                                               uuid.UUID(job_id))

            assert await system.eventually(published, limit=30) == len(subjects)
            yield pid, h, job_id
    finally:
        if not ctx.consumer._workers:
            await ctx.consumer.start()


async def test_a_validated_chunk_is_checked_while_the_others_are_validated(system: System):
    """While the file is clean a chunk's dry run (with its reservation) goes to filing as soon as the chunk is
    validated; an answer to another attempt's check changes nothing; the job completes exactly."""
    ctx = system.ctx("importer")
    pool = ctx.pool
    subjects, websites = [subject_row(f"E{i}") for i in range(3)], [website_row(f"E{i}") for i in range(3)]
    async with _paused(system, subjects, websites) as (pid, h, job_id):
        jid = uuid.UUID(job_id)
        await _deliver_validate(system, pid, job_id, 1)
        job = await pool.fetchrow("SELECT * FROM import_jobs WHERE id = $1", jid)
        chunk = await pool.fetchrow("SELECT * FROM import_chunks WHERE job_id = $1 AND chunk_no = 1", jid)
        assert (job["status"], job["vchunks_done"], chunk["check_state"]) == ("VALIDATING", 1, "SENT")

        async def reserved():  # filing ran the check and reserved the chunk's keys for the job
            return await reservations(system, job_id) or None

        assert await system.eventually(reserved, limit=30) >= 3  # certificate, mobile, domain
        # an answer to a check of another attempt at the job (planned again meanwhile) is not this one's
        await _deliver(system, pid, BatchChunkChecked(job_id=job_id, chunk_no=1, attempt=job["attempts"] + 1),
                       flow.on_chunk_checked)
        chunk = await pool.fetchrow("SELECT * FROM import_chunks WHERE job_id = $1 AND chunk_no = 1", jid)
        assert chunk["check_state"] == "SENT"
        assert await pool.fetchval("SELECT chunks_checked FROM import_jobs WHERE id = $1", jid) == 0
        await ctx.consumer.start()
        body = await wait_done(system, h, job_id)
    assert body["status"] == "COMPLETED", body
    assert await imported(system, job_id) == {"subjects": 3, "applications": 3, "websites": 3}
    states = await pool.fetch("SELECT check_state, state FROM import_chunks WHERE job_id = $1", jid)
    assert [tuple(r) for r in states] == [("DONE", "DONE")] * 3
    assert await reservations(system, job_id) == 0  # the imported chunks hold their keys as filings now


async def test_a_file_found_wrong_after_early_checks_releases_what_they_reserved(system: System):
    """Two chunks are checked (and reserve their keys) before the third, which has a row error, is validated:
    the file is rejected with that error only, and the job's end releases the early reservations."""
    subjects, websites = [subject_row(f"W{i}") for i in range(3)], [website_row(f"W{i}") for i in range(3)]
    subjects[2]["principal_mobile"] = "12345"
    async with _paused(system, subjects, websites) as (pid, h, job_id):
        await _deliver_validate(system, pid, job_id, 1)
        await _deliver_validate(system, pid, job_id, 2)

        async def reserved():
            n = await reservations(system, job_id)
            return n if n >= 6 else None  # both chunks': certificate, mobile, domain each

        await system.eventually(reserved, limit=30)
        await system.ctx("importer").consumer.start()
        body = await wait_done(system, h, job_id)
    assert body["status"] == "REJECTED", body
    assert body["error_count"] == 1, body
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}

    async def released():
        return await reservations(system, job_id) == 0 or None

    assert await system.eventually(released, limit=30)


async def test_what_an_ended_job_staged_is_deleted_after_its_last_transaction(system: System):
    """The job completes without deleting its staging in the last chunk's answer; a worker's job loop then
    deletes the staged rows, keys, sealed chunk payloads and the upload."""
    pool = system.ctx("importer").pool
    pid, h = await new_provider(system)
    subjects, websites = [subject_row(f"T{i}") for i in range(3)], [website_row(f"T{i}") for i in range(3)]
    with small_chunks(1):
        job_id = (await (await upload(system, h, filled(subjects, websites))).json())["job_id"]
        body = await wait_done(system, h, job_id)
    assert body["status"] == "COMPLETED", body
    jid = uuid.UUID(job_id)

    async def staged():
        return await pool.fetchrow(
            """SELECT (SELECT count(*) FROM import_rows WHERE job_id = $1) AS rows,
                      (SELECT count(*) FROM import_keys WHERE job_id = $1) AS keys,
                      (SELECT count(*) FROM import_chunks WHERE job_id = $1 AND items IS NOT NULL) AS payloads,
                      (SELECT count(*) FROM import_files WHERE job_id = $1) AS files,
                      (SELECT cleanup_pending FROM import_jobs WHERE id = $1) AS pending""", jid)

    async def cleaned():
        r = await staged()
        return r if (r["rows"], r["keys"], r["payloads"], r["files"], r["pending"]) == (0, 0, 0, 0, False) else None

    assert await system.eventually(cleaned, limit=15)
    # the credentials workbook is built from the chunks' sealed credentials, which stay
    r = await system.client.get(f"/api/importer/jobs/{job_id}/result", headers=h)
    assert r.status == 200
