"""Readiness: is a dependency dead, not merely slow.

Kubernetes takes a pod out of the Service while `/readyz` fails, so a check that fails when the
process is busy removes pods exactly when they are needed most (a 2-second ping on a loaded
machine answered "broker: down"). Each check therefore asks about the state of the connections:

- broker: the transport's connection and channels are open (`Transport.ping`, no network round
  trip: a dead connection is noticed by the client library's heartbeat and socket errors);
- database: a pool whose connections are all at work is busy, not dead; otherwise one `SELECT 1`
  with a generous timeout, and a timeout counts as down only when the pool holds no connection at
  all (it could not connect). An error from the server or the socket (refused, reset) is down.
"""

from __future__ import annotations

import asyncio

import asyncpg

DB_TIMEOUT = 2.5  # seconds; under Kubernetes' 3-second probe timeout (deploy/k8s)


async def database_ready(pool: asyncpg.Pool, limit: float = DB_TIMEOUT) -> bool:
    if pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size():
        return True  # every connection is at work: a dead server would have failed and freed them
    try:
        async with asyncio.timeout(limit):
            await pool.fetchval("SELECT 1")
        return True
    except TimeoutError:
        return pool.get_size() > 0  # slow, but connected
    except Exception:
        return False


async def broker_ready(transport, limit: float = DB_TIMEOUT) -> bool:
    try:
        async with asyncio.timeout(limit):
            return bool(await transport.ping())
    except Exception:
        return False


async def readiness(pool: asyncpg.Pool, transport) -> dict[str, bool]:
    database, broker = await asyncio.gather(database_ready(pool), broker_ready(transport))
    return {"database": database, "broker": broker}
