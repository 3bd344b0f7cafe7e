"""One LISTEN connection per process, shared by every service it runs.

Each service's revocation cache and outbox relay subscribe to their channels here instead of
opening connections of their own (`icp up` used to hold ten). The connection goes to
`ICP_DATABASE_LISTEN_URL` (default `ICP_DATABASE_URL`): LISTEN needs a session of its own, so behind
a transaction-mode PgBouncer it must go to PostgreSQL directly.

When the connection is lost, subscribers hear `False` at once (the revocation cache answers from the
table meanwhile; the relay polls), the listener reconnects with back-off, re-issues every LISTEN and
then tells them `True` (the cache reloads the set, the relay drains what was written meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

log = structlog.get_logger(__name__)

OnNotify = Callable[[str], None]
OnState = Callable[[bool], Awaitable[None] | None]


class Listener:
    def __init__(
        self, dsn: str, *, retry_seconds: float = 2.0, max_retry_seconds: float = 30.0, keepalive: float = 30.0
    ) -> None:
        self.dsn = dsn
        self.keepalive = keepalive
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self._channels: dict[str, list[OnNotify]] = {}
        self._states: list[OnState] = []
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    @property
    def healthy(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        """Connect (a failure is logged; the supervisor keeps trying) and supervise the connection."""
        if self._task is not None:
            return
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="pg-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def subscribe(self, channel: str, on_notify: OnNotify) -> None:
        async with self._lock:
            first = channel not in self._channels
            self._channels.setdefault(channel, []).append(on_notify)
            if first and self.healthy:
                await self._conn.add_listener(channel, self._dispatch)

    async def unsubscribe(self, channel: str, on_notify: OnNotify) -> None:
        async with self._lock:
            callbacks = self._channels.get(channel, [])
            if on_notify in callbacks:
                callbacks.remove(on_notify)
            if not callbacks and channel in self._channels:
                del self._channels[channel]
                if self.healthy:
                    with contextlib.suppress(Exception):
                        await self._conn.remove_listener(channel, self._dispatch)

    def on_state(self, callback: OnState) -> None:
        """`callback(True)` after every (re)connect with all channels listened to, `callback(False)`
        when the connection is lost."""
        self._states.append(callback)

    def off_state(self, callback: OnState) -> None:
        with contextlib.suppress(ValueError):
            self._states.remove(callback)

    # ------------------------------------------------------------ internals

    def _dispatch(self, _conn, _pid, channel: str, payload: str) -> None:
        for cb in list(self._channels.get(channel, ())):
            try:
                cb(payload)
            except Exception:
                log.exception("listener.callback_failed", channel=channel)

    def _on_terminated(self, _conn) -> None:
        self._lost.set()

    async def _connect(self) -> bool:
        async with self._lock:
            try:
                conn = await asyncpg.connect(self.dsn, server_settings={"application_name": "icp-listen"})
                for channel in self._channels:
                    await conn.add_listener(channel, self._dispatch)
            except Exception as e:
                log.warning("listener.connect_failed", error=repr(e))
                return False
            conn.add_termination_listener(self._on_terminated)
            self._lost.clear()
            self._conn = conn
        await self._tell(True)
        return True

    async def _supervise(self) -> None:
        delay = self.retry_seconds
        while True:
            if self.healthy:
                await self._wait_lost()
            if self._conn is not None:
                log.warning("listener.lost")
                with contextlib.suppress(Exception):
                    self._conn.terminate()
                self._conn = None
                await self._tell(False)
            if await self._connect():
                delay = self.retry_seconds
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_seconds)

    async def _wait_lost(self) -> None:
        """Until the connection is lost: a closed socket tells at once; a silent one (a host gone
        without a FIN) is found by a `SELECT 1` every `keepalive` seconds."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), self.keepalive)
                return
            conn = self._conn
            if conn is None:
                return
            try:
                async with self._lock:
                    await conn.fetchval("SELECT 1", timeout=self.keepalive / 2)
            except Exception as e:
                log.warning("listener.keepalive_failed", error=repr(e))
                self._lost.set()
                return

    async def _tell(self, up: bool) -> None:
        for cb in list(self._states):
            try:
                result = cb(up)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("listener.state_callback_failed")
