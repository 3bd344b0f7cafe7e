"""Publishing through the transactional outbox, and the relay that empties it.

`Outbox.add(conn, payload)` writes the message in the caller's transaction and
NOTIFYs the relay (delivered at commit). The relay claims a batch with
`FOR UPDATE SKIP LOCKED` (so several replicas never publish the same row at the same
time), publishes it with publisher confirms and `mandatory` (an unroutable message is an
error), and marks the confirmed rows sent in the same transaction. A crash between
confirm and commit republishes the batch; consumers dedupe by message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
import structlog
from prometheus_client import Counter

from shared import logs, ratelimit
from shared.bus import Outgoing, Transport, encode, headers_of
from shared.contracts import Contract, Envelope, spec_of
from shared.listener import Listener

log = structlog.get_logger(__name__)

OUTBOX_PUBLISHED = Counter("icp_outbox_published_total", "Messages the relay published", ["service"])
OUTBOX_FAILED = Counter("icp_outbox_publish_failures_total", "Publish attempts that failed", ["service"])


def notify_channel(schema: str) -> str:
    return f"icp_outbox_{schema}"


INSERT_SQL = """WITH row AS (INSERT INTO outbox (id, exchange, routing_key, body, headers)
                            VALUES ($1, $2, $3, $4, $5) RETURNING 1)
               SELECT pg_notify($6, '') FROM row"""


class Outbox:
    """The writing side, bound to one service (its producer name and schema)."""

    def __init__(self, service: str, schema: str | None = None, exchange_prefix: str = "") -> None:
        self.service = service
        self.schema = schema or service
        self.prefix = exchange_prefix

    async def add(
        self,
        conn: asyncpg.Connection,
        payload: Contract,
        *,
        provider_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        env, params = self.row(payload, provider_id=provider_id, correlation_id=correlation_id,
                               causation_id=causation_id)
        # one round trip: the row, and a NOTIFY that PostgreSQL delivers at commit (and folds
        # into one per transaction and channel)
        await conn.execute(INSERT_SQL, *params)
        return env

    def row(
        self,
        payload: Contract,
        *,
        provider_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> tuple[Envelope, list]:
        """The envelope and the parameters of `INSERT_SQL`, for callers that fold the outbox
        write into a larger statement of their own (one definition of the row)."""
        spec = spec_of(payload)
        env = Envelope(
            type=spec.type,
            producer=self.service,
            provider_id=provider_id,
            correlation_id=correlation_id or logs.correlation_id.get() or logs.new_id(),
            causation_id=causation_id or logs.causation_id.get(),
            payload=payload.model_dump(mode="json"),
        )
        return env, [
            env.id,
            self.prefix + spec.exchange,
            spec.type,
            encode(env),
            headers_of(env),
            notify_channel(self.schema),
        ]

    def row_json(
        self,
        model: type[Contract],
        payload: dict[str, Any],
        *,
        provider_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> tuple[Envelope, list]:
        """`row` for a payload already in `model`'s JSON form (what `model_dump(mode="json")` gives; not
        validated again), for a producer that writes hundreds of events at once and builds them so (an
        import chunk's `filing.applications.submitted`: validating, dumping and encoding 250 snapshots
        through the models cost more than building them; its tests hold the two equal). The body is the
        same envelope, encoded with orjson."""
        spec = spec_of(model)
        env = Envelope(
            type=spec.type,
            producer=self.service,
            provider_id=provider_id,
            correlation_id=correlation_id or logs.correlation_id.get() or logs.new_id(),
            causation_id=causation_id or logs.causation_id.get(),
            payload=payload,
        )
        body = orjson.dumps({**env.model_dump(mode="json", exclude={"payload"}), "payload": payload})
        return env, [
            env.id,
            self.prefix + spec.exchange,
            spec.type,
            body,
            headers_of(env),
            notify_channel(self.schema),
        ]

    async def add_many(self, conn: asyncpg.Connection, payloads: list[Contract], **kw) -> list[Envelope]:
        return [await self.add(conn, p, **kw) for p in payloads]


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        listener: Listener | str,
        schema: str,
        transport: Transport,
        *,
        batch: int = 500,
        poll_interval: float = 2.0,
        retention_hours: float = 72,
        inbox_retention_days: float = 30,
        linger: float = 0.0,
    ) -> None:
        self.pool = pool
        self._own_listener = isinstance(listener, str)  # a DSN: a listener of its own (tools, tests)
        self.listener = Listener(listener) if isinstance(listener, str) else listener
        self.schema = schema
        self.transport = transport
        self.batch = batch
        self.poll_interval = poll_interval
        self.retention_hours = retention_hours
        self.inbox_retention_days = inbox_retention_days
        self.linger = linger
        self.published = 0
        self.rounds = 0  # rounds that published something (tests, the bench)
        self.failed = 0
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._last_purge = 0.0

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}")

    async def stop(self, grace: float = 20.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, grace)
            except TimeoutError:
                self._task.cancel()
            self._task = None
        self.listener.off_state(self._on_listener_state)
        await self.listener.unsubscribe(notify_channel(self.schema), self._on_notify)
        if self._own_listener:
            await self.listener.stop()

    def wake(self) -> None:
        self._wake.set()

    def _on_notify(self, _payload: str) -> None:
        self._wake.set()

    def _on_listener_state(self, _up: bool) -> None:
        self._wake.set()  # reconnected: drain what was written meanwhile; lost: poll

    async def _run(self) -> None:
        # NOTIFYs come through the process's shared listener; polling covers the time it is down
        if self._own_listener:
            await self.listener.start()
        await self.listener.subscribe(notify_channel(self.schema), self._on_notify)
        self.listener.on_state(self._on_listener_state)
        while not self._stop.is_set():
            self._wake.clear()
            try:
                n = await self.drain_once()
            except Exception as e:
                log.warning("outbox.round_failed", schema=self.schema, error=repr(e))
                n = 0
                await asyncio.sleep(0.5)
            if n >= self.batch:
                continue  # more waiting: no pause
            await self._maybe_purge()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            if self.linger > 0 and self._wake.is_set() and not self._stop.is_set():
                # Woken by a commit while not behind: the commits of the next few ms share this round.
                # At a low rate every event would otherwise get a round of its own (a transaction and
                # a commit here, and downstream a delivery batch, inbox transaction and commit in each
                # consuming service); nobody waits on the relay (the writer has its answer already),
                # so this delays only the event's arrival, by at most `linger`.
                await asyncio.sleep(self.linger)

    async def drain_once(self) -> int:
        """Publish one batch; return how many rows it claimed."""
        async with self.pool.acquire() as conn, conn.transaction():
            # Claim and mark in one statement; the row locks hold until commit, and rows whose
            # publish fails are put back below, so only confirmed messages commit as sent.
            rows = await conn.fetch(
                """WITH claim AS (
                       SELECT seq FROM outbox
                       WHERE published_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                       ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
                   UPDATE outbox o SET published_at = now() FROM claim WHERE o.seq = claim.seq
                   RETURNING o.seq, o.id, o.exchange, o.routing_key, o.body, o.headers, o.attempts""",
                self.batch,
            )
            if not rows:
                return 0
            rows.sort(key=lambda r: r["seq"])
            msgs = [
                Outgoing(str(r["id"]), r["exchange"], r["routing_key"], bytes(r["body"]), r["headers"] or {})
                for r in rows
            ]
            results = await self.transport.publish_many(msgs)
            bad = [(r, err) for r, err in zip(rows, results, strict=True) if err is not None]
            if bad:  # put back, each with its own back-off, in one statement
                await conn.execute(
                    """UPDATE outbox o SET published_at = NULL, attempts = o.attempts + 1, last_error = x.error,
                              next_attempt_at = now() + make_interval(secs => x.delay)
                         FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS x(seq, error, delay)
                        WHERE o.seq = x.seq""",
                    [r["seq"] for r, _ in bad],
                    [repr(err)[:500] for _, err in bad],
                    [min(60.0, 0.5 * 2 ** min(r["attempts"], 7)) for r, _ in bad],
                )
                log.warning(
                    "outbox.publish_failed",
                    schema=self.schema,
                    failed=len(bad),
                    first_error=repr(bad[0][1])[:200],
                )
            ok = len(rows) - len(bad)
            self.rounds += 1
            self.published += ok
            self.failed += len(bad)
            OUTBOX_PUBLISHED.labels(self.schema).inc(ok)
            if bad:
                OUTBOX_FAILED.labels(self.schema).inc(len(bad))
            return len(rows)

    async def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < 600:
            return
        self._last_purge = now
        try:
            await self.housekeeping()
        except Exception as e:
            log.warning("outbox.purge_failed", error=repr(e))

    async def housekeeping(self) -> None:
        """Purge the schema's platform tables; plain DELETEs, done by whichever replica gets here."""
        await self.pool.execute(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)",
            self.retention_hours * 3600,
        )
        await self.pool.execute(
            "DELETE FROM inbox WHERE handled_at < now() - make_interval(secs => $1)",
            self.inbox_retention_days * 86400,
        )
        await self.pool.execute("DELETE FROM revoked_sessions WHERE expires_at < now()")
        await ratelimit.purge(self.pool)

    async def pending(self) -> int:
        return await self.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = ["Outbox", "OutboxRelay", "notify_channel"]
