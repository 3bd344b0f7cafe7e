"""SQL of the detection schema: sightings, detections, handlings, source keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared import validate as v
from shared.contracts.detection import SiteDetected


@dataclass(frozen=True)
class Sighting:
    event_id: uuid.UUID
    event: SiteDetected
    source_system: str | None


async def known_providers(conn: asyncpg.Connection, provider_ids: set[str]) -> set[str]:
    rows = await conn.fetch("SELECT provider_id FROM providers WHERE provider_id = ANY($1::text[])", list(provider_ids))
    return {r["provider_id"] for r in rows}


async def filed_hosts(conn: asyncpg.Connection, hosts: set[str]) -> dict[str, str]:
    """host → the filing number covering it (the host or a parent domain is filed), for filed hosts."""
    suffixes = {h: v.host_suffixes(h) for h in hosts}
    rows = await conn.fetch(
        "SELECT DISTINCT ON (domain) domain, website_no FROM filed_domains WHERE domain = ANY($1::text[])",
        list({s for ss in suffixes.values() for s in ss}),
    )
    if not rows:
        return {}
    filed = {r["domain"]: r["website_no"] for r in rows}
    out = {}
    for h, ss in suffixes.items():
        for s in ss:
            if s in filed:
                out[h] = filed[s]
                break
    return out


# One statement: the sightings not seen before (ON CONFLICT on the event id, which also waits for a
# concurrent insert of the same id), then the detections they belong to, created or counted up.
# Rows are inserted and upserted in key order so that concurrent batches (a client's retry racing its
# first attempt, the consumer's two workers) lock them in the same order and never deadlock.
_RECORD_SQL = """
WITH ins AS (
    INSERT INTO sightings (event_id, provider_id, domain, ip, province, detected_at, source, source_system, url, title)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                         $7::text[], $8::text[], $9::text[], $10::text[]) ORDER BY 1
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id, provider_id, domain, ip, province, detected_at
), agg AS (
    SELECT provider_id, domain, min(detected_at) AS first_seen, max(detected_at) AS last_seen, count(*) AS n,
           (array_agg(province ORDER BY detected_at DESC))[1] AS province,
           (array_agg(ip ORDER BY detected_at DESC))[1] AS ip
      FROM ins GROUP BY provider_id, domain
), up AS (
    INSERT INTO detections AS d (provider_id, domain, province, ip, first_seen, last_seen, sightings)
    SELECT provider_id, domain, province, ip, first_seen, last_seen, n FROM agg ORDER BY provider_id, domain
    ON CONFLICT (provider_id, domain) DO UPDATE SET
        sightings = d.sightings + EXCLUDED.sightings,
        first_seen = LEAST(d.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(d.last_seen, EXCLUDED.last_seen),
        province = CASE WHEN EXCLUDED.last_seen >= d.last_seen THEN EXCLUDED.province ELSE d.province END,
        ip = CASE WHEN EXCLUDED.last_seen >= d.last_seen THEN coalesce(EXCLUDED.ip, d.ip) ELSE d.ip END,
        filed_at = NULL, filed_no = NULL  -- seen again while not filed (filing cancelled since)
    RETURNING 1
)
SELECT ins.event_id FROM ins
"""


async def record_sightings(conn: asyncpg.Connection, items: list[Sighting]) -> set[uuid.UUID]:
    """Record sightings of unfiled hosts (the caller has removed filed ones); returns the event ids
    recorded now (the others were recorded before)."""
    if not items:
        return set()
    seen: set[uuid.UUID] = set()
    cols: list[list[Any]] = [[] for _ in range(10)]
    for s in items:
        if s.event_id in seen:  # twice in one batch: the statement may insert a key only once
            continue
        seen.add(s.event_id)
        e = s.event
        for col, value in zip(cols, (s.event_id, e.provider_id, e.domain, e.ip, e.province, e.detected_at,
                                     e.source, s.source_system, e.url, e.title), strict=True):
            col.append(value)
    rows = await conn.fetch(_RECORD_SQL, *cols)
    return {r["event_id"] for r in rows}


# ---------------------------------------------------------------- handling


async def detection_for_update(conn: asyncpg.Connection, detection_id: int, where: str, args: list[Any]):
    return await conn.fetchrow(
        f"SELECT * FROM detections d WHERE d.id = ${len(args) + 1} AND {where} FOR UPDATE", *args, detection_id
    )


async def add_handling(conn: asyncpg.Connection, detection_id: int, code: str, note: str, actor: str,
                       closes: bool, at: datetime | None = None, actor_name: str = "") -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO handlings (detection_id, code, note, handled_by, handled_at, handled_by_name)
           VALUES ($1, $2, $3, $4, coalesce($5, now()), $6) RETURNING *""",
        detection_id, code, note, actor, at, actor_name,
    )
    await conn.execute(
        """UPDATE detections SET handling_code = $2, handling_note = $3, handled_by = $4, handled_at = $5,
               closed = $6 WHERE id = $1""",
        detection_id, code, note, actor, row["handled_at"], closes,
    )
    return row


async def handlings_of(conn: asyncpg.Connection | asyncpg.Pool, detection_id: int) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM handlings WHERE detection_id = $1 ORDER BY id", detection_id)


async def sightings_of(pool: asyncpg.Pool, provider_id: str, domain: str, limit: int, offset: int):
    total = await pool.fetchval("SELECT count(*) FROM sightings WHERE provider_id = $1 AND domain = $2",
                                provider_id, domain)
    rows = await pool.fetch(
        """SELECT event_id, ip, province, detected_at, source, source_system, url, title, received_at
             FROM sightings WHERE provider_id = $1 AND domain = $2
            ORDER BY detected_at DESC, event_id LIMIT $3 OFFSET $4""",
        provider_id, domain, limit, offset,
    )
    return total, rows


# ---------------------------------------------------------------- filed meanwhile


async def mark_filed(conn: asyncpg.Connection, domains: list[str], numbers: list[str], at: datetime) -> None:
    """Detections of these newly filed domains (or of their sub-domains) are marked filed meanwhile;
    an unhandled one gets the system's handling FILED, kept in its history like any other."""
    rows = await conn.fetch(
        """UPDATE detections d SET filed_at = $3, filed_no = f.no
             FROM unnest($1::text[], $2::text[]) AS f(domain, no)
            WHERE (d.domain = f.domain OR right(d.domain, length(f.domain) + 1) = '.' || f.domain)
              AND d.filed_at IS NULL
        RETURNING d.id, d.closed, f.no""",
        domains, numbers, at,
    )
    for r in rows:
        if not r["closed"]:
            await add_handling(conn, r["id"], "FILED", f"检测后该域名已完成备案（{r['no']}），系统自动标记", "system",
                               True, at)


# ---------------------------------------------------------------- source systems


async def insert_source(conn: asyncpg.Connection | asyncpg.Pool, name: str, prefix: str, key_hash: str, actor: str):
    return await conn.fetchrow(
        """INSERT INTO sources (name, key_prefix, key_hash, created_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (name) DO UPDATE SET key_prefix = EXCLUDED.key_prefix, key_hash = EXCLUDED.key_hash,
               created_at = now(), created_by = EXCLUDED.created_by, revoked_at = NULL, revoked_by = NULL
           RETURNING id, name, created_at""",
        name, prefix, key_hash, actor,
    )


async def source_by_prefix(pool: asyncpg.Pool, prefix: str):
    return await pool.fetchrow("SELECT * FROM sources WHERE key_prefix = $1 AND revoked_at IS NULL", prefix)


async def revoke_source(pool: asyncpg.Pool, name: str, actor: str) -> bool:
    return bool(await pool.fetchval(
        "UPDATE sources SET revoked_at = now(), revoked_by = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING true",
        name, actor,
    ))


async def list_sources(pool: asyncpg.Pool):
    return await pool.fetch("SELECT id, name, key_prefix, created_at, created_by, revoked_at FROM sources ORDER BY name")
