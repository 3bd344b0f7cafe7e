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
from shared.contracts import Contract, Envelope, run_types, spec_of
from shared.ids import uuid7
from shared.listener import Listener

log = structlog.get_logger(__name__)

OUTBOX_PUBLISHED = Counter("icp_outbox_published_total", "Outbox rows (events) the relay published", ["service"])
OUTBOX_FAILED = Counter("icp_outbox_publish_failures_total", "Publish attempts that failed", ["service"])
OUTBOX_ROUNDS = Counter("icp_outbox_rounds_total", "Relay rounds that published (a transaction each)", ["service"])
OUTBOX_MESSAGES = Counter("icp_outbox_messages_total", "Broker messages the relay sent (a run of events is one)",
                          ["service"])


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
        return self._row(type(payload), payload.model_dump(mode="json"), None, provider_id, correlation_id,
                         causation_id)

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
        return self._row(model, payload, orjson.dumps, provider_id, correlation_id, causation_id)

    def _row(self, model: type[Contract], payload: dict[str, Any], dumps, provider_id: str | None,
             correlation_id: str | None, causation_id: str | None) -> tuple[Envelope, list]:
        spec = spec_of(model)
        env = Envelope(
            type=spec.type,
            producer=self.service,
            provider_id=provider_id,
            correlation_id=correlation_id or logs.correlation_id.get() or logs.new_id(),
            causation_id=causation_id or logs.causation_id.get(),
            payload=payload,
        )
        body = encode(env) if dumps is None else dumps(
            {**env.model_dump(mode="json", exclude={"payload"}), "payload": payload})
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
        linger_busy: float | None = None,
        runs: bool = True,
        run_max: int = 100,
    ) -> None:
        self.pool = pool
        self.runs = runs  # consecutive events of a type that has an EventRun go out as one (`pack_runs`)
        self.run_max = run_max
        self._own_listener = isinstance(listener, str)  # a DSN: a listener of its own (tools, tests)
        self.listener = Listener(listener) if isinstance(listener, str) else listener
        self.schema = schema
        self.transport = transport
        self.batch = batch
        self.poll_interval = poll_interval
        self.retention_hours = retention_hours
        self.inbox_retention_days = inbox_retention_days
        self.linger = linger
        # the linger under a steady flow: the previous round published less than this ago
        self.linger_busy = max(linger, linger_busy if linger_busy is not None else linger)
        self._last_published = float("-inf")  # loop time of the last round that published
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
            if n:
                self._last_published = asyncio.get_running_loop().time()
            await self._maybe_purge()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            if self.linger > 0 and self._wake.is_set() and not self._stop.is_set():
                # Woken by a commit while not behind: the commits of the next few ms share this round.
                # At a low rate every event would otherwise get a round of its own (a transaction and
                # a commit here, and downstream a delivery batch, inbox transaction and commit in each
                # consuming service); nobody waits on the relay (the writer has its answer already),
                # so this delays only the event's arrival, by at most the linger: `linger_busy` under a
                # steady flow (a round published within it), where the round then takes that many more
                # events (one run message, one delivery and transaction in each consumer), else `linger`.
                steady = asyncio.get_running_loop().time() - self._last_published < self.linger_busy
                await asyncio.sleep(self.linger_busy if steady else self.linger)

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
            if self.runs:
                packed = pack_runs(msgs, self.run_max)
                OUTBOX_MESSAGES.labels(self.schema).inc(len(packed))
                sent = await self.transport.publish_many([m for m, _ in packed])
                results = [None] * len(msgs)
                for (_m, idx), err in zip(packed, sent, strict=True):
                    for i in idx:
                        results[i] = err
            else:
                OUTBOX_MESSAGES.labels(self.schema).inc(len(msgs))
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
            OUTBOX_ROUNDS.labels(self.schema).inc()
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


def pack_runs(msgs: list[Outgoing], run_max: int = 100) -> list[tuple[Outgoing, list[int]]]:
    """A relay round's messages as published: consecutive events (in outbox order) of a type that has an
    `EventRun` (`shared.contracts.run_types`) as one run message of at most `run_max` events, every other
    message as it is; each with the indexes of the rows it carries. The run carries each event's payload
    as written and, in `heads`, its own time, tenant, correlation and cause: the consumer unpacks it into
    exactly the envelopes it would have received one by one (same ids: the inbox dedupes a republished
    row either way). One message instead of many through the broker and each consuming service: one
    delivery, one inbox statement and one transaction per round instead of per event when the round's
    events come from separate transactions (the API's submits)."""
    runs = run_types()
    out: list[tuple[Outgoing, list[int]]] = []
    i = 0
    while i < len(msgs):
        m = msgs[i]
        j = i + 1
        if m.routing_key in runs:
            while (j < len(msgs) and j - i < run_max and msgs[j].routing_key == m.routing_key
                   and msgs[j].exchange == m.exchange):
                j += 1
        if j - i < 2:
            out.append((m, [i]))
            i += 1
            continue
        try:
            run = _run_message(msgs[i:j], runs[m.routing_key])
        except (ValueError, KeyError, TypeError, AttributeError):  # not envelopes (a row written by hand): as they are
            out += [(msgs[k], [k]) for k in range(i, j)]
        else:
            out.append((run, list(range(i, j))))
        i = j
    return out


def _run_message(msgs: list[Outgoing], run_type: str) -> Outgoing:
    envs = [orjson.loads(m.body) for m in msgs]
    heads = [{"occurred_at": e["occurred_at"], "correlation_id": e.get("correlation_id"),
              "causation_id": e.get("causation_id"), "provider_id": e.get("provider_id")} for e in envs]

    def common(key: str):
        first = heads[0][key]
        return first if all(h[key] == first for h in heads) else None

    run_id = str(uuid7())
    body = orjson.dumps({
        "id": run_id, "type": run_type, "occurred_at": envs[0]["occurred_at"],
        "correlation_id": common("correlation_id"), "causation_id": common("causation_id"),
        "producer": envs[0]["producer"], "provider_id": common("provider_id"),
        "payload": {"events": [e["payload"] for e in envs], "event_ids": [e["id"] for e in envs], "heads": heads},
    })
    return Outgoing(run_id, msgs[0].exchange, run_type, body,
                    {"correlation_id": common("correlation_id") or "", "app_id": envs[0]["producer"]})


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = ["Outbox", "OutboxRelay", "notify_channel"]
