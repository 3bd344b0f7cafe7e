"""Proof that filing numbers stay unique and gap-free under concurrent approvals from two
worker processes (DOMAIN §6, issue 4).

Two `icp serve verification --worker` processes run against the test database and vhost with
auto-review set to approve this test's cases, 8 approvals at a time each. The cases become
approvable in one commit, so both processes race on the same (province, year) serial row.
"""

from __future__ import annotations

import asyncio
import re
import signal
import uuid
from pathlib import Path

import asyncpg

from services.verification import review, store
from shared.db import transaction
from tests.conftest import System
from tests.integration.test_verification import YEAR, application, case_of, submit, uid, website
from tests.worker_process import spawn_worker, worker_ready

N = 360
PROVINCE = "650000"  # 新 — no other test numbers in Xinjiang


async def _spawn(system: System, pg_dsn: str, amqp_url: str, pid: str, log: Path):
    return await spawn_worker(
        "verification", system.settings.secret_key, pg_dsn, amqp_url, log, ICP_LOG_LEVEL="warning",
        ICP_DB_POOL_MAX="12", ICP_AUTO_REVIEW=f"decision=approve,after=0s,providers={pid},concurrency=8,interval=50ms",
    )


async def _serial_retries(port: int) -> float:
    """The worker's `icp_filing_number_serial_retries_total`, from its /metrics."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /api/verification/metrics HTTP/1.0\r\n\r\n")
    await writer.drain()
    text = (await reader.read()).decode()
    writer.close()
    found = re.search(r'^icp_filing_number_serial_retries_total\{service="verification"\} (\S+)$', text, re.M)
    assert found, "the worker exports no serial retry counter"
    return float(found.group(1))


async def test_two_worker_processes_approve_hundreds_of_cases_without_duplicate_or_gap(
    system: System, pg_dsn: str, amqp_url: str, tmp_path: Path
):
    pid = uid("p")
    apps = [
        application(pid, province=PROVINCE, subject_name=f"新疆并发测试{i}有限公司",
                    websites=[website() for _ in range(1 + i % 3)])
        for i in range(N)
    ]
    await submit(system, *apps)
    for a in apps:
        await case_of(system, a)
    pool = system.ctx("verification").pool

    workers = [await _spawn(system, pg_dsn, amqp_url, pid, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        for proc, port, _ in workers:
            await system.eventually(lambda proc=proc, port=port: worker_ready("verification", port, proc), limit=60)
        # every case passes provider verification in ONE commit: both workers see all of them at once
        ctx = system.ctx("verification")
        actor = review.Actor("provider", "op-" + pid)
        async with transaction(pool) as conn:
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM cases WHERE provider_id = $1", pid)]
            assert len(ids) == N
            for cid in ids:
                case = await store.lock_case(conn, cid, store.Scope(provider_id=pid))
                await review.verify(conn, ctx.outbox, case, result="pass", opinion="批量核实", actor=actor)

        async def all_approved():
            return await pool.fetchval(
                "SELECT count(*) FROM cases WHERE provider_id = $1 AND status = 'APPROVED'", pid) == N

        try:
            await system.eventually(all_approved, limit=120, interval=0.2)
        except AssertionError:
            retries = [await _serial_retries(port) for _proc, port, _ in workers]
            raise AssertionError(f"not all approved in time; serial retries per worker: {retries}") from None
        # every serial was taken by one atomic increment under the row lock: no approval had to retry
        # past a number a concurrent approval had just issued (the unique index would hide a lost lock)
        retries = [await _serial_retries(port) for _proc, port, _ in workers]
        assert retries == [0, 0], retries
    finally:
        for proc, _, _out in workers:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _, out in workers:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
            out.close()

    # both processes did approve (the race was real)
    by_worker = await pool.fetch(
        """SELECT h.actor_id, count(*) AS n FROM case_history h JOIN cases c ON c.id = h.case_id
           WHERE c.provider_id = $1 AND h.action = 'APPROVE' GROUP BY h.actor_id""", pid)
    assert len(by_worker) == 2 and all(r["n"] > 0 for r in by_worker), [dict(r) for r in by_worker]
    assert sum(r["n"] for r in by_worker) == N
    logs = "".join((tmp_path / f"worker{i}.log").read_text() for i in range(2))
    assert "auto_review.refused" not in logs and "service.background_failed" not in logs, logs[-3000:]

    # subject numbers: unique, and the (province, year) serials 1..last without a gap
    rows = await pool.fetch("SELECT subject_no, website_numbers FROM cases WHERE provider_id = $1", pid)
    subject_nos = [r["subject_no"] for r in rows]
    assert len(set(subject_nos)) == N
    assert all(re.fullmatch(rf"新ICP备{YEAR}\d{{6}}号", no) for no in subject_nos)
    serials = [r["seq"] for r in await pool.fetch(
        "SELECT seq FROM subject_numbers WHERE province = $1 AND year = $2 AND origin = 'ISSUED' ORDER BY seq",
        PROVINCE, YEAR)]
    last = await pool.fetchval("SELECT last_seq FROM number_sequences WHERE province = $1 AND year = $2",
                               PROVINCE, YEAR)
    assert serials == list(range(1, last + 1))
    ours = sorted(int(no[len("新ICP备") + 4:-1]) for no in subject_nos)
    assert ours == list(range(ours[0], ours[0] + N))  # one contiguous block: nothing else numbered here

    # website numbers: unique, -1..-k per subject in application order
    expected = {a.subject.subject_id: [w.website_id for w in a.websites] for a in apps}
    all_website_nos = []
    for r in rows:
        numbers = r["website_numbers"]
        assert [n["website_no"] for n in numbers] == [f"{r['subject_no']}-{i}" for i in range(1, len(numbers) + 1)]
        all_website_nos += [n["website_no"] for n in numbers]
    assert len(all_website_nos) == len(set(all_website_nos)) == sum(len(v) for v in expected.values())
    db_rows = await pool.fetch(
        "SELECT subject_id, array_agg(website_id ORDER BY seq) AS ids FROM website_numbers "
        "WHERE subject_id = ANY($1::text[]) GROUP BY subject_id", list(expected))
    assert {r["subject_id"]: list(r["ids"]) for r in db_rows} == expected

    # one approved event per case, carrying the numbers
    n_events = await pool.fetchval(
        """SELECT count(*) FROM outbox WHERE routing_key = 'verification.application.approved'
           AND convert_from(body, 'UTF8')::jsonb->'payload'->>'provider_id' = $1""", pid)
    assert n_events == N


async def test_unique_constraints_refuse_a_duplicate_number_even_past_the_code(system: System):
    """The database itself refuses a second holder of an issued number (belt and braces)."""
    pool = system.ctx("verification").pool
    no = f"新ICP备{YEAR}9{uuid.uuid4().int % 10**5:05d}号"
    await pool.execute("INSERT INTO subject_numbers (subject_no, subject_id, province, year, seq) "
                       "VALUES ($1, $2, $3, $4, $5)", no, uid("s"), PROVINCE, YEAR - 100, 1)
    for args in ((no, uid("s"), PROVINCE, YEAR - 99, 1), (no + "x", uid("s"), PROVINCE, YEAR - 100, 1)):
        try:
            await pool.execute("INSERT INTO subject_numbers (subject_no, subject_id, province, year, seq) "
                               "VALUES ($1, $2, $3, $4, $5)", *args)
        except asyncpg.UniqueViolationError:
            continue
        raise AssertionError(f"duplicate accepted: {args}")
