"""Per-client-address rate limits shared by every replica of a service.

Counters live in the service's own schema (`rate_counters`, a platform migration, like the
outbox): a per-process memory counter would multiply the limit by the number of replicas and
reset on every restart. A row holds two buckets, the current window and the one before, and a
request is allowed while

    prev_hits × (1 − elapsed fraction of the current window) + hits  <  limit

(the usual two-bucket approximation of a sliding window: no burst of 2 × limit across a window
boundary as with fixed windows, at the cost of one row per client). Windows start at the client's
first hit, so a burst is refused until a full window after it, and then eases off.

`hit` decides and counts in ONE upsert: under concurrency PostgreSQL locks the row for the
conflicting statements and each re-reads the latest version, so N parallel requests never let
more than `limit` through. Refused requests are not counted (a client that keeps knocking is
let in again as the window slides, not held off forever). `purge` deletes rows whose two windows
have passed; the outbox relay's housekeeping runs it in every schema.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import asyncpg

from shared.web import Problem


@dataclass(frozen=True)
class Limit:
    bucket: str  # what is counted ("captcha", "login", "lookup"), per client address
    limit: int  # allowed per window
    window: float  # seconds
    detail: str  # the 429's message before "，请 … 后再试", e.g. "获取验证码过于频繁"


# The row is rolled forward first (same window / the next one / later: start afresh), then the hit
# is allowed and counted only while the estimate stays under the limit. $3 = window, $4 = limit.
_HIT = """
INSERT INTO rate_counters AS r (bucket, client, window_start, hits, prev_hits, allowed, expires_at)
VALUES ($1, $2, now(), 1, 0, true, now() + make_interval(secs => 2 * $3))
ON CONFLICT (bucket, client) DO UPDATE SET (window_start, prev_hits, hits, allowed, expires_at) = (
    SELECT s.start, s.prev, s.cur + a.ok, a.ok = 1, s.start + make_interval(secs => 2 * $3)
      FROM (SELECT CASE WHEN k.n <= 0 THEN r.window_start
                        WHEN k.n = 1 THEN r.window_start + make_interval(secs => $3) ELSE now() END AS start,
                   CASE WHEN k.n <= 0 THEN r.prev_hits WHEN k.n = 1 THEN r.hits ELSE 0 END AS prev,
                   CASE WHEN k.n <= 0 THEN r.hits ELSE 0 END AS cur,
                   CASE WHEN k.n <= 0 THEN greatest(k.e, 0) WHEN k.n = 1 THEN k.e - 1 ELSE 0 END AS frac
              FROM (SELECT x.e, floor(x.e) AS n
                      FROM (SELECT extract(epoch FROM now() - r.window_start)::float8 / $3 AS e) x) k) s,
           LATERAL (SELECT CASE WHEN s.prev * (1 - s.frac) + s.cur < $4 THEN 1 ELSE 0 END AS ok) a)
RETURNING allowed, hits, prev_hits, extract(epoch FROM now() - window_start)::float8 AS elapsed
"""

_PEEK = """
SELECT hits, prev_hits, extract(epoch FROM now() - window_start)::float8 AS elapsed
  FROM rate_counters WHERE bucket = $1 AND client = $2 AND expires_at > now()
"""


def _roll(hits: int, prev_hits: int, elapsed: float, window: float) -> tuple[int, int, float]:
    """(prev, cur, seconds into the current window) as of now, for a row last rolled `elapsed` ago."""
    n = math.floor(elapsed / window)
    if n <= 0:
        return prev_hits, hits, max(elapsed, 0.0)
    if n == 1:
        return hits, 0, elapsed - window
    return 0, 0, 0.0


def _estimate(prev: int, cur: int, into: float, window: float) -> float:
    return prev * (1 - into / window) + cur


def wait_seconds(prev: int, cur: int, into: float, limit: int, window: float) -> float:
    """Seconds until the estimate drops under `limit` (the Retry-After of a refusal)."""
    if cur >= limit:
        # not before the next window, where `cur` becomes the previous bucket and fades
        return window - into + window * max(0.0, 1 - limit / cur)
    # prev × (1 − t / window) + cur < limit  ⇔  t > window × (1 − (limit − cur) / prev)
    return max(0.0, window * (1 - (limit - cur) / prev) - into) if prev else 0.0


async def hit(conn: asyncpg.Connection | asyncpg.Pool, limit: Limit, client: str) -> float | None:
    """Count one request of `client`; None when allowed, else the seconds to wait (nothing counted)."""
    row = await conn.fetchrow(_HIT, limit.bucket, client, float(limit.window), limit.limit)
    if row["allowed"]:
        return None
    return wait_seconds(row["prev_hits"], row["hits"], max(row["elapsed"], 0.0), limit.limit, limit.window)


async def exhausted(conn: asyncpg.Connection | asyncpg.Pool, limit: Limit, client: str) -> float | None:
    """Without counting: the seconds to wait when `client` has no room left, else None."""
    row = await conn.fetchrow(_PEEK, limit.bucket, client)
    if row is None:
        return None
    prev, cur, into = _roll(row["hits"], row["prev_hits"], row["elapsed"], limit.window)
    if _estimate(prev, cur, into, limit.window) < limit.limit:
        return None
    return wait_seconds(prev, cur, into, limit.limit, limit.window)


def too_many(limit: Limit, wait: float) -> Problem:
    """The 429 (problem+json with Retry-After and retry_after, in whole seconds, at least 1)."""
    seconds = max(1, math.ceil(wait))
    when = f"{math.ceil(seconds / 60)} 分钟" if seconds >= 60 else f"{seconds} 秒"
    return Problem(429, f"{limit.detail}，请 {when}后再试", headers={"Retry-After": str(seconds)},
                   retry_after=seconds)


async def take(conn: asyncpg.Connection | asyncpg.Pool, limit: Limit, client: str) -> None:
    """Count one request; raise the 429 when `client` is over `limit`."""
    wait = await hit(conn, limit, client)
    if wait is not None:
        raise too_many(limit, wait)


async def ensure_room(conn: asyncpg.Connection | asyncpg.Pool, limit: Limit, client: str) -> None:
    """Raise the 429 when `client` has no room left, without counting (e.g. before a login attempt
    whose failure alone is counted)."""
    wait = await exhausted(conn, limit, client)
    if wait is not None:
        raise too_many(limit, wait)


async def purge(conn: asyncpg.Connection | asyncpg.Pool) -> str:
    """Delete counters whose two windows have passed."""
    return await conn.execute("DELETE FROM rate_counters WHERE expires_at < now()")
