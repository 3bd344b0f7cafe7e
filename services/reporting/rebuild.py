"""`icp reporting rebuild`: the query tables rebuilt from `event_log` alone.

In one transaction: the log is locked against new entries (live consumers wait, then go on from
the rebuilt state), the query tables are emptied, and every logged event is applied again in log
order through `projection.apply` — the same code as live — read from a server-side cursor a page at
a time. A failure rolls everything back: the old tables stay.
"""

from __future__ import annotations

import asyncpg
import structlog

from services.reporting import projection
from shared.contracts import REGISTRY

log = structlog.get_logger(__name__)


async def rebuild(conn: asyncpg.Connection, batch: int = 1000) -> int:
    """Rebuild inside the caller's connection (its own transaction); returns the events applied."""
    count = 0
    async with conn.transaction():
        await conn.execute("LOCK TABLE event_log IN SHARE MODE")
        await conn.execute(f"TRUNCATE {', '.join(projection.QUERY_TABLES)}")
        cursor = await conn.cursor("SELECT message_id, type, payload FROM event_log ORDER BY seq")
        while rows := await cursor.fetch(batch):
            for r in rows:
                spec = REGISTRY.get(r["type"])
                if spec is None:
                    log.warning("reporting.rebuild_unknown_type", type=r["type"], message_id=str(r["message_id"]))
                    continue
                await projection.apply(conn, r["message_id"], spec.model.model_validate(r["payload"]))
                count += 1
    log.info("reporting.rebuilt", events=count)
    return count
