"""The platform's per-client-address rate limit (shared/ratelimit.py) on the real PostgreSQL: atomic under
concurrency, shared by replicas (two apps, two pools, one database), sliding windows, purged by the
platform's housekeeping."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager

import asyncpg
import pytest

from shared import db, ratelimit
from tests.conftest import System, service_app


def _limit(limit: int, window: float, detail: str = "查询过于频繁") -> ratelimit.Limit:
    return ratelimit.Limit(f"test-{uuid.uuid4().hex[:8]}", limit, window, detail)


@pytest.fixture
async def schema(pg_dsn):
    """A schema of its own with the platform's migrations (rate_counters among them)."""
    name = f"rl_{uuid.uuid4().hex[:8]}"
    await db.migrate(pg_dsn, name, None)
    yield name
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await conn.close()


async def _shift(conn, limit: ratelimit.Limit, client: str, seconds: float) -> None:
    """Move a counter `seconds` into the past, as if its hits were made that long ago."""
    await conn.execute(
        """UPDATE rate_counters SET window_start = window_start - make_interval(secs => $3),
                  expires_at = expires_at - make_interval(secs => $3) WHERE bucket = $1 AND client = $2""",
        limit.bucket, client, seconds)


async def test_parallel_hits_never_let_more_than_the_limit_through(pg_dsn, schema):
    limit = _limit(25, 60)
    conns = [await db.connect(pg_dsn, schema) for _ in range(16)]
    try:
        start = asyncio.Event()

        async def knock(conn) -> list[bool]:
            await start.wait()
            return [await ratelimit.hit(conn, limit, "203.0.113.7") is None for _ in range(6)]

        tasks = [asyncio.create_task(knock(c)) for c in conns]
        await asyncio.sleep(0.05)
        start.set()
        allowed = sum(sum(r) for r in await asyncio.gather(*tasks))
        assert allowed == 25  # 96 hits from 16 connections at once: exactly the limit
        assert await conns[0].fetchval(
            "SELECT hits FROM rate_counters WHERE bucket = $1", limit.bucket) == 25  # refusals not counted
        # another client is not affected
        assert await ratelimit.hit(conns[0], limit, "203.0.113.8") is None
    finally:
        for c in conns:
            await c.close()


async def test_the_window_slides_and_ends(pg_dsn, schema):
    limit = _limit(4, 60)
    client = "203.0.113.9"
    conn = await db.connect(pg_dsn, schema)
    try:
        assert [await ratelimit.hit(conn, limit, client) for _ in range(4)] == [None] * 4
        wait = await ratelimit.hit(conn, limit, client)
        assert wait is not None and 59 < wait <= 60  # a burst waits until a window after it
        assert 59 < await ratelimit.exhausted(conn, limit, client) <= 60
        # 70 s later (10 s into the next window) the 4 hits are the previous window's, weighted by the 5/6
        # of it still in sight: 3.3, room for one
        await _shift(conn, limit, client, 70)
        assert await ratelimit.exhausted(conn, limit, client) is None
        assert await ratelimit.hit(conn, limit, client) is None
        wait = await ratelimit.hit(conn, limit, client)  # a fixed window would let 3 more through here
        assert wait is not None and 4 < wait <= 5  # 4 × (1 − f) + 1 < 4 once f > 1/4, i.e. 15 s into it
        await _shift(conn, limit, client, 6)
        assert await ratelimit.hit(conn, limit, client) is None
        assert await ratelimit.hit(conn, limit, client) is not None
        # two windows later nothing counts any more
        await _shift(conn, limit, client, 120)
        assert [await ratelimit.hit(conn, limit, client) for _ in range(4)] == [None] * 4
        assert await ratelimit.hit(conn, limit, client) is not None
    finally:
        await conn.close()


async def test_a_window_ends_in_real_time(pg_dsn, schema):
    limit = _limit(2, 1.0)
    conn = await db.connect(pg_dsn, schema)
    try:
        assert [await ratelimit.hit(conn, limit, "203.0.113.10") for _ in range(2)] == [None, None]
        wait = await ratelimit.hit(conn, limit, "203.0.113.10")
        assert wait is not None and 0 < wait <= 1
        await asyncio.sleep(wait + 0.1)
        assert await ratelimit.hit(conn, limit, "203.0.113.10") is None
    finally:
        await conn.close()


async def test_the_platform_housekeeping_purges_passed_counters(system: System):
    ctx = system.ctx("reporting")
    short, long = _limit(1, 0.5), _limit(1, 600)
    await ratelimit.hit(ctx.pool, short, "203.0.113.11")
    await ratelimit.hit(ctx.pool, long, "203.0.113.11")
    await asyncio.sleep(1.1)  # two of the short windows
    await ctx.relay.housekeeping()
    left = {r["bucket"] for r in await ctx.pool.fetch(
        "SELECT bucket FROM rate_counters WHERE bucket = ANY($1)", [short.bucket, long.bucket])}
    assert left == {long.bucket}


@asynccontextmanager
async def reporting_replica(system: System, limit: ratelimit.Limit):
    """Another reporting API process: its own pool on the same database (as a second pod)."""
    pool = await db.create_pool(system.runtime.endpoints.dsn, "reporting", max_size=2)
    try:
        async with service_app(system, "reporting", pool=pool, extras={"lookup_limit": limit}) as client:
            yield client
    finally:
        await pool.close()


async def test_two_replicas_share_the_count(system: System):
    limit = _limit(3, 60)
    async with reporting_replica(system, limit) as a, reporting_replica(system, limit) as b:
        statuses = []
        for client in (a, b, a, b):
            r = await client.get("/api/reporting/public/lookup", params={"domain": "nothing-here.cn"})
            statuses.append(r.status)
        assert statuses == [200, 200, 200, 429]  # 3 in all, not 3 each
        body = await r.json()
        assert r.content_type == "application/problem+json" and "查询过于频繁" in body["detail"], body
        assert "后再试" in body["detail"] and 1 <= int(r.headers["Retry-After"]) <= 60
        assert body["retry_after"] == int(r.headers["Retry-After"])
