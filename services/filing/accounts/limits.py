"""Per-client-address limits (captcha issuance, failed logins), shared by every API replica.

Fixed-window counters in PostgreSQL (`rate_limits`): one upsert per counted request on the
service's pool, no extra connection. A window of a per-process memory counter would multiply by
the number of replicas and reset on every restart. Housekeeping purges rows whose window passed.
"""

from __future__ import annotations

import datetime as dt
import math

import asyncpg

from shared.web import Problem

_HIT = """
INSERT INTO rate_limits AS r (bucket, client, window_start, hits) VALUES ($1, $2, now(), 1)
ON CONFLICT (bucket, client) DO UPDATE SET
    window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $3) THEN now() ELSE r.window_start END,
    hits = CASE WHEN r.window_start <= now() - make_interval(secs => $3) THEN 1 ELSE r.hits + 1 END
RETURNING hits, extract(epoch FROM r.window_start + make_interval(secs => $3) - now()) AS remaining
"""

_PEEK = """
SELECT hits, extract(epoch FROM window_start + make_interval(secs => $3) - now()) AS remaining
FROM rate_limits WHERE bucket = $1 AND client = $2 AND window_start > now() - make_interval(secs => $3)
"""

CAPTCHA = "captcha"
LOGIN_FAILURES = "login"


def too_many(detail: str, remaining: float) -> Problem:
    seconds = max(1, math.ceil(remaining))
    wait = f"{math.ceil(seconds / 60)} 分钟" if seconds >= 60 else f"{seconds} 秒"
    return Problem(429, f"{detail}，请 {wait}后再试", headers={"Retry-After": str(seconds)}, retry_after=seconds)


async def hit(conn: asyncpg.Connection | asyncpg.Pool, bucket: str, client: str, *, limit: int,
              window: dt.timedelta) -> float | None:
    """Count one request; the seconds until the window ends when this one is over `limit`, else None."""
    row = await conn.fetchrow(_HIT, bucket, client, window.total_seconds())
    return float(row["remaining"]) if row["hits"] > limit else None


async def exhausted(conn: asyncpg.Connection | asyncpg.Pool, bucket: str, client: str, *, limit: int,
                    window: dt.timedelta) -> float | None:
    """Without counting: the seconds until the window ends when `limit` is reached, else None."""
    row = await conn.fetchrow(_PEEK, bucket, client, window.total_seconds())
    return float(row["remaining"]) if row is not None and row["hits"] >= limit else None


async def purge(conn: asyncpg.Connection | asyncpg.Pool, *, longest: dt.timedelta) -> str:
    """Counters whose window (at most `longest`) has passed."""
    return await conn.execute("DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => $1)",
                              longest.total_seconds())
