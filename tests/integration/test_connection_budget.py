"""The PostgreSQL connection budget of a process (README, "Connection budget").

An idle `icp up` (five services in one process), on a database of its own so that every connection
to it is this process's, settles to at most one idle pool connection per service plus one LISTEN
connection for the whole process — whatever its pools grew to under load before.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid

import aiohttp
import asyncpg

from shared.config import SERVICES
from shared.db import idle_connection_budget
from tests.conftest import AMQP_BASE, PG_ADMIN, own_backends


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_idle_icp_up_settles_to_the_documented_connection_budget():
    budget = idle_connection_budget(len(SERVICES))
    assert budget == len(SERVICES) + 1  # the figure the README documents for `icp up`
    async with own_backends("budget") as (dsn, vhost):
        port = _free_port()
        env = dict(os.environ, ICP_DATABASE_URL=dsn, ICP_AMQP_URL=f"{AMQP_BASE}/{vhost}", ICP_LOG_FORMAT="json",
                   ICP_LOG_LEVEL="warning", ICP_DB_POOL_IDLE_SECONDS="1")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "shared.cli", "up", "--port", str(port),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        admin = await asyncpg.connect(PG_ADMIN)
        name = dsn.rsplit("/", 1)[1]

        async def connections() -> dict[str, int]:
            rows = await admin.fetch(
                """SELECT application_name AS kind, count(*) FROM pg_stat_activity
                   WHERE datname = $1 AND pid <> pg_backend_pid() GROUP BY 1""", name)
            return {r["kind"]: r["count"] for r in rows}

        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:
                await _wait_ready(http, base, proc)
                # load: every service's pool grows past one connection
                for _ in range(3):
                    await asyncio.gather(*(_get(http, f"{base}/api/{s}/readyz") for s in SERVICES for _ in range(20)))
                busy = await connections()

                # settled: several samples in a row within the budget
                deadline = asyncio.get_running_loop().time() + 60
                within = 0
                while within < 6:
                    seen = await connections()
                    within = within + 1 if sum(seen.values()) <= budget else 0
                    if asyncio.get_running_loop().time() > deadline:
                        raise AssertionError(f"idle icp up holds {sum(seen.values())} connections "
                                             f"(budget {budget}): {seen}; under load {busy}")
                    await asyncio.sleep(0.5)
            print("connections under load:", busy, "settled:", seen)
            assert seen.get("icp-listen", 0) == 1, seen  # one LISTEN connection for the whole process
            assert all(seen.get(f"icp-{s}", 0) <= 1 for s in SERVICES), seen
            assert sum(busy.values()) > budget, busy  # the pools did grow, and shrank again
        finally:
            await admin.close()
            proc.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, out.decode()[-3000:]


async def _wait_ready(http: aiohttp.ClientSession, base: str, proc, limit: float = 150) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        if proc.returncode is not None:
            raise AssertionError(f"icp up exited with {proc.returncode}")
        try:
            statuses = []
            for s in SERVICES:
                async with http.get(f"{base}/api/{s}/readyz") as r:
                    statuses.append(r.status)
            if statuses == [200] * len(SERVICES):
                return
        except aiohttp.ClientError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("icp up did not become ready")
        await asyncio.sleep(0.2)


async def _get(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as r:
        await r.read()
        return r.status


async def test_behind_pgbouncer_a_pool_sends_no_session_setting_and_refuses_a_role_without_its_schema(system, pg_dsn):
    """ICP_DATABASE_PGBOUNCER: a transaction-mode PgBouncer refuses (or loses between transactions) a
    search_path sent at connect, so none is sent and the role must supply it; a role whose current schema is
    not the service's is refused at start, naming the role to use, instead of writing into the wrong schema."""
    from shared import db

    pool = await db.create_pool(pg_dsn, "filing", min_size=0, max_size=1)
    try:
        assert await pool.fetchval("SELECT current_schema()") == "filing"  # direct: the startup packet sets it
    finally:
        await pool.close()
    try:
        await db.create_pool(pg_dsn, "filing", min_size=0, max_size=1, pgbouncer=True, statement_cache_size=0)
    except RuntimeError as e:
        assert "'filing'" in str(e) and "'public'" in str(e)
    else:
        raise AssertionError("a pool whose role does not lead to the service's schema was accepted")


async def test_the_shared_listener_reconnects_and_its_subscribers_catch_up(system, pg_dsn):
    """The process's one LISTEN connection is killed: revocations are answered from the table meanwhile, the
    listener reconnects (still one connection), re-LISTENs, and the caches reload and hear NOTIFYs again."""
    from datetime import UTC, datetime, timedelta

    listener = system.runtime.listener
    name = pg_dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN)
    query = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'icp-listen'"
    try:
        (old,) = [r["pid"] for r in await admin.fetch(query, name)]
        det = system.ctx("detection")
        cache = det.revocations

        async def revoke() -> str:
            sid = f"listener-{uuid.uuid4().hex}"
            await det.pool.execute("INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2)",
                                   sid, datetime.now(UTC) + timedelta(hours=1))
            return sid

        assert await admin.fetchval("SELECT pg_terminate_backend($1)", old)
        # written while (or just before) the listener is down: its NOTIFY may be lost. Whether the cache
        # has noticed the loss yet (then the table answers) or reconnects first (then the reload brings
        # it), the revocation must be honoured; the process notices a closed socket only a moment later.
        missed = await revoke()
        await system.eventually(lambda: cache.is_revoked(missed), limit=30, interval=0.05)

        async def back() -> bool:
            pids = [r["pid"] for r in await admin.fetch(query, name)]
            return listener.healthy and len(pids) == 1 and pids[0] != old and cache._synced

        await system.eventually(back, limit=30, interval=0.2)
        assert missed in cache._ids  # reloaded after the reconnect
        heard = await revoke()
        await system.eventually(lambda: _true(heard in cache._ids))  # NOTIFYs arrive again
    finally:
        await admin.close()


async def _true(value: bool) -> bool:
    return value
