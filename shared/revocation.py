"""Revoked sessions of one schema, held in memory and kept current by LISTEN/NOTIFY.

Authentication asks `is_revoked` on every request; answering from memory saves a query
per request. The set is loaded after LISTEN starts (so nothing inserted in between is
missed) and refreshed on every (re)connect. While the listening connection is down the
answer comes from the table itself, so a revocation is never missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg
import structlog

log = structlog.get_logger(__name__)


def channel(schema: str) -> str:
    return f"icp_revoked_{schema}"


class RevocationCache:
    def __init__(self, pool: asyncpg.Pool, dsn: str, schema: str, *, retry_seconds: float = 5.0) -> None:
        self.pool = pool
        self.dsn = dsn
        self.schema = schema
        self.retry_seconds = retry_seconds
        self._ids: set[str] = set()
        self._listener: asyncpg.Connection | None = None
        self._healthy = False
        self._last_attempt = 0.0
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._connect()

    async def _connect(self) -> None:
        async with self._lock:
            if self._healthy:
                return
            self._last_attempt = time.monotonic()
            try:
                conn = await asyncpg.connect(self.dsn)
                await conn.add_listener(channel(self.schema), self._on_notify)
                conn.add_termination_listener(self._on_lost)
                rows = await self.pool.fetch("SELECT session_id FROM revoked_sessions WHERE expires_at > now()")
            except Exception as e:
                log.warning("revocations.listen_failed", schema=self.schema, error=repr(e))
                return
            self._ids = {r["session_id"] for r in rows}
            self._listener = conn
            self._healthy = True

    def _on_notify(self, _conn, _pid, _channel, payload: str) -> None:
        self._ids.add(payload)

    def _on_lost(self, _conn) -> None:
        self._healthy = False

    def add(self, session_id: str) -> None:
        """Known at once in this process (the NOTIFY follows for the others)."""
        self._ids.add(session_id)

    async def is_revoked(self, session_id: str) -> bool:
        if session_id in self._ids:
            return True
        if self._healthy:
            return False
        if time.monotonic() - self._last_attempt > self.retry_seconds:
            asyncio.get_running_loop().create_task(self._connect())
        return bool(await self.pool.fetchval("SELECT true FROM revoked_sessions WHERE session_id = $1", session_id))

    async def stop(self) -> None:
        self._healthy = False
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None
