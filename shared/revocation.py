"""Revoked sessions of one schema, held in memory and kept current by LISTEN/NOTIFY.

Authentication asks `is_revoked` on every request; answering from memory saves a query
per request. The NOTIFYs arrive through the process's one shared `Listener`
(`shared.listener`). The set is loaded after LISTEN starts (so nothing inserted in between
is missed) and reloaded after every reconnect. While the listening connection is down the
answer comes from the table itself, so a revocation is never missed.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import structlog

from shared.listener import Listener

log = structlog.get_logger(__name__)


def channel(schema: str) -> str:
    return f"icp_revoked_{schema}"


class RevocationCache:
    def __init__(self, pool: asyncpg.Pool, listener: Listener | str, schema: str, *, retry_seconds: float = 5.0) -> None:
        self.pool = pool
        self._own = isinstance(listener, str)  # a DSN: a listener of its own (tools, tests)
        self.listener = Listener(listener) if isinstance(listener, str) else listener
        self.schema = schema
        self.retry_seconds = retry_seconds
        self._ids: set[str] = set()
        self._synced = False  # the set is complete: loaded while listening, nothing lost since
        self._arrived: set[str] | None = None  # ids that came in during a reload
        self._last_attempt = 0.0
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        if self._own:
            await self.listener.start()
        await self.listener.subscribe(channel(self.schema), self._on_notify)
        self.listener.on_state(self._on_state)
        if self.listener.healthy:
            await self._reload()

    async def _on_state(self, up: bool) -> None:
        if up:
            await self._reload()
        else:
            self._synced = False

    async def _reload(self) -> None:
        async with self._lock:
            self._last_attempt = time.monotonic()
            self._arrived = set()
            try:
                rows = await self.pool.fetch("SELECT session_id FROM revoked_sessions WHERE expires_at > now()")
            except Exception as e:
                log.warning("revocations.load_failed", schema=self.schema, error=repr(e))
                return
            finally:
                arrived, self._arrived = self._arrived, None
            self._ids = {r["session_id"] for r in rows} | arrived
            self._synced = self.listener.healthy

    def _on_notify(self, payload: str) -> None:
        self._ids.add(payload)
        if self._arrived is not None:
            self._arrived.add(payload)

    def add(self, session_id: str) -> None:
        """Known at once in this process (the NOTIFY follows for the others)."""
        self._on_notify(session_id)

    async def is_revoked(self, session_id: str) -> bool:
        if session_id in self._ids:
            return True
        if self._synced and self.listener.healthy:
            return False
        if self.listener.healthy and time.monotonic() - self._last_attempt > self.retry_seconds:
            asyncio.get_running_loop().create_task(self._reload())
        return bool(await self.pool.fetchval("SELECT true FROM revoked_sessions WHERE session_id = $1", session_id))

    async def stop(self) -> None:
        self._synced = False
        self.listener.off_state(self._on_state)
        await self.listener.unsubscribe(channel(self.schema), self._on_notify)
        if self._own:
            await self.listener.stop()
