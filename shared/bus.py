"""The message bus: topology, transports, and the idempotent inbox consumer.

Publishing never goes straight to a transport: callers write to the outbox
(`shared.outbox`) in their own transaction, and the relay publishes. Consuming goes
through `Consumer`, which records each message id in the schema's `inbox` table in the
same transaction as the handler's writes, so a redelivery is acknowledged and skipped.

Failures: a handler error rolls back that message's savepoint (nothing half-written),
then the message is retried after `retry_delays[attempt]` (a delay queue that
dead-letters back into the inbox); after the last delay, or at once for a
`PermanentError` or an unreadable message, it goes to `<service>.dead`. A worker that
dies mid-message leaves it unacknowledged; the broker redelivers it, and the quorum
queue's `x-delivery-limit` dead-letters a message that keeps killing workers (for a run of
events, `EventRun`, that is the whole run: its handled events are duplicates when replayed).
An `EventRun`'s events are handled as if delivered one by one, and settled so: a failed one is
retried or dead-lettered as a message of its own, the run acknowledged once all are settled.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import orjson
import structlog
from prometheus_client import Counter
from pydantic import ValidationError

from shared import logs
from shared.contracts import REGISTRY, Contract, Envelope
from shared.topology import Topology, dead_queue, inbox_queue, retry_queue

log = structlog.get_logger(__name__)

MESSAGES = Counter(
    "icp_messages_total", "Messages consumed, by type and outcome", ["service", "type", "outcome"]
)  # outcome: handled | duplicate | retried | dead; type "unreadable" when the envelope cannot be read

BATCHES = Counter("icp_consumer_batches_total", "Delivery batches handled (a transaction each)", ["service"])

ATTEMPT_HEADER = "x-icp-attempt"


class PermanentError(Exception):
    """The message can never succeed (bad data, broken invariant): dead-letter without retrying."""


# Errors that the same message meets again on every attempt: retrying them only delays the dead
# letter (a NUL in a text field was retried for 12 minutes). A unique or foreign-key violation, an
# exclusion, a deadlock, a serialization failure or a lost connection may be a race or an outage
# and keeps the back-off.
_NEVER_SUCCEED: tuple[type[BaseException], ...] = (
    PermanentError,
    asyncpg.DataError,  # SQLSTATE 22: NUL in text, value out of range, bad date/number text
    asyncpg.exceptions._base.DataError,  # the client-side encoder's refusal (an int past int4, a wrong type)
    asyncpg.NotNullViolationError,
    asyncpg.CheckViolationError,
    ValidationError,  # a payload (or a model built from it) that its schema refuses
)


def is_permanent(error: BaseException) -> bool:
    """Whether a handler's error can never succeed on a retry (→ `<service>.dead` at once)."""
    return isinstance(error, _NEVER_SUCCEED)


class _BatchFailed(Exception):
    """A batch handler raised: nothing of the delivery batch committed; it is redone message by message."""


class _HandlerFailed(Exception):
    """A handler raised inside the fast path; the batch is rolled back and redone message by message."""

    def __init__(self, delivery, error: Exception, envelope=None) -> None:
        super().__init__(repr(error))
        self.delivery = delivery
        self.error = error
        self.envelope = envelope  # which message of the delivery (a run's deliveries carry several)


# ---------------------------------------------------------------- transport interface


@dataclass
class Outgoing:
    id: str
    exchange: str
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)


class Delivery(Protocol):
    body: bytes
    headers: dict[str, Any]
    message_id: str | None
    redelivered: bool

    async def ack(self) -> None: ...
    async def nack(self, requeue: bool = True) -> None: ...


class Transport(Protocol):
    name: str

    async def start(self, topology: Topology) -> None: ...
    async def publish_many(self, messages: list[Outgoing]) -> list[Exception | None]: ...
    async def send_to_queue(self, queue: str, delivery: Delivery, headers: dict[str, Any]) -> None: ...
    async def consume(self, queue: str, prefetch: int, on_message: Callable[[Delivery], Awaitable[None]]) -> None: ...
    async def stop_consuming(self) -> None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


# ---------------------------------------------------------------- handlers


@dataclass
class MessageContext:
    """What a handler gets besides its payload: the envelope and a publisher bound to its transaction."""

    envelope: Envelope
    conn: asyncpg.Connection
    publish: Callable[..., Awaitable[Envelope]]

    @property
    def provider_id(self) -> str | None:
        return self.envelope.provider_id


Handler = Callable[[Contract, MessageContext], Awaitable[None]]
# Several messages of one type at once, in delivery order, in the batch's transaction; each item
# has its own MessageContext (its envelope; `publish` defaults to its tenant, correlation and causation).
BatchHandler = Callable[[list[tuple[Contract, MessageContext]]], Awaitable[None]]
BeforeBatch = Callable[[asyncpg.Connection, list[Contract]], Awaitable[None]]


class HandlerTable:
    """Message type → handler, one table per service (the composition root fills it).

    A type may also have a batch handler (`on_many`): the consumer hands it runs of consecutive
    messages of that type from one delivery batch, so it can write them set-based. It is an
    optimisation only: if it raises, the whole delivery batch is redone one message at a time with
    the single-message handler (which must exist), so an error is settled on the message it
    belongs to."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._many: dict[str, BatchHandler] = {}
        self.before_batch: BeforeBatch | None = None

    def before(self, fn: BeforeBatch) -> BeforeBatch:
        """`fn(conn, payloads)` runs first in every consumer transaction, with the payloads the transaction
        is about to handle: a service takes there the locks its handlers need, all at once and in one order
        (two delivery batches that each took their locks as their messages came could deadlock)."""
        self.before_batch = fn
        return fn

    def on(self, model: type[Contract]):
        return _registrar(self._handlers, model)

    def on_many(self, model: type[Contract]):
        return _registrar(self._many, model)

    def get_many(self, type_: str) -> BatchHandler | None:
        return self._many.get(type_) if type_ in self._handlers else None

    def add(self, type_: str, fn: Handler) -> None:
        if type_ not in REGISTRY:
            raise LookupError(f"unknown message type {type_}")
        self._handlers[type_] = fn

    def get(self, type_: str) -> Handler | None:
        return self._handlers.get(type_)

    def types(self) -> set[str]:
        return set(self._handlers)


def _registrar(table: dict, model: type[Contract]):
    from shared.contracts import spec_of

    spec = spec_of(model)

    def register(fn):
        table[spec.type] = fn
        return fn

    return register


# ---------------------------------------------------------------- bodies parsed once per process


class _Parsed:
    """A message body's envelope, and once asked for its payload (a run: and its events' envelopes),
    parsed from JSON and validated; a failed part is not kept (each consumer meets its error)."""

    __slots__ = ("envelope", "_payload", "_inner")

    def __init__(self, envelope: Envelope) -> None:
        self.envelope = envelope
        self._payload: Contract | None = None
        self._inner: list[Envelope] | None = None

    def payload(self) -> Contract:
        if self._payload is None:
            self._payload = self.envelope.parse_payload()
        return self._payload

    def run_envelopes(self) -> list[Envelope]:
        if self._inner is None:
            self._inner = self.payload().envelopes(self.envelope)  # type: ignore[attr-defined]  # an EventRun
        return self._inner


class _SharedParses:
    """When several services consume in one process (`icp up`), the broker hands each of them the same
    body (a submit's run of `filing.application.submitted` goes to verification and reporting): the
    first consumer to read it parses and validates it, the others take that result (~20 µs per event
    each, bench/verification_open.py). Kept by body until every other consuming service of this
    process took it, or pushed out past `max_bytes` of bodies (a consumer lagging far behind parses
    again). Only messages that more than one live consumer of this process receives are kept; parsed
    messages are frozen contracts and envelopes that handlers only read."""

    def __init__(self, max_bytes: int = 4 << 20) -> None:
        self.max_bytes = max_bytes
        self.consumers: weakref.WeakSet[Consumer] = weakref.WeakSet()  # the started ones
        self._takers: dict[str, int] | None = None  # message type → services of this process receiving it (> 1)
        self._entries: dict[bytes, list] = {}  # body → [parsed, services that took it, services receiving it]
        self._bytes = 0

    def changed(self) -> None:
        services = {c.service for c in self.consumers}
        takers = {t: n for t, spec in REGISTRY.items() if (n := len(services & set(spec.consumers))) > 1}
        self._takers = takers or None
        if not takers:
            self._entries.clear()
            self._bytes = 0

    def parse(self, body: bytes, service: str) -> _Parsed:
        """The body parsed for `service`: another service's parse when it is kept; never one this service
        took before (a redelivery, or a repeat in one delivery batch, gets objects of its own, as before)."""
        if self._takers is None:  # one consuming service here (or none): nothing to share
            return _parse(body)
        entry = self._entries.get(body)
        if entry is not None and service not in entry[1]:
            entry[1].add(service)
            if len(entry[1]) >= entry[2]:  # every receiving service took it
                del self._entries[body]
                self._bytes -= len(body)
            return entry[0]
        parsed = _parse(body)
        takers = self._takers.get(parsed.envelope.type, 0)
        if entry is None and takers > 1 and len(body) <= self.max_bytes:
            self._entries[body] = [parsed, {service}, takers]
            self._bytes += len(body)
            while self._bytes > self.max_bytes:  # the oldest first
                old = next(iter(self._entries))
                del self._entries[old]
                self._bytes -= len(old)
        return parsed


def _parse(body: bytes) -> _Parsed:
    # orjson builds the payload's dicts faster than pydantic's JSON parser: ~20 µs less per
    # message of an import's 2.8 KB application (bench/verification_open.py)
    return _Parsed(Envelope.model_validate(orjson.loads(body)))


SHARED_PARSES = _SharedParses()


# ---------------------------------------------------------------- consumer


@dataclass
class ConsumerStats:
    handled: int = 0
    duplicates: int = 0
    retried: int = 0
    dead: int = 0
    batches: int = 0
    last_handled_at: float = 0.0


class Consumer:
    """Consumes `<service>.inbox` in batches: one transaction and one inbox statement per batch;
    a failing handler sends the rest of its batch through per-message savepoints."""

    def __init__(
        self,
        service: str,
        pool: asyncpg.Pool,
        transport: Transport,
        handlers: HandlerTable,
        outbox,  # shared.outbox.Outbox (typed loosely to avoid an import cycle)
        *,
        prefetch: int = 200,
        batch_size: int = 100,
        concurrency: int = 2,
        retry_delays: list[float] | None = None,
        queue_prefix: str = "",
        on_handled: Callable[[str, str], None] | None = None,
        linger: float = 0.003,
    ) -> None:
        self.service = service
        self.pool = pool
        self.transport = transport
        self.handlers = handlers
        self.outbox = outbox
        self.prefetch = prefetch
        self.batch_size = max(1, batch_size)
        self.concurrency = max(1, concurrency)
        self.retry_delays = list(retry_delays if retry_delays is not None else [1, 5, 30, 120, 600])
        self.prefix = queue_prefix
        self.on_handled = on_handled
        self.linger = linger
        self.stats = ConsumerStats()
        self._pending: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self._workers: list[asyncio.Task] = []
        self._stopping = False

    @property
    def queue(self) -> str:
        return self.prefix + inbox_queue(self.service)

    async def start(self) -> None:
        self._stopping = False
        self._workers = [asyncio.create_task(self._work(i)) for i in range(self.concurrency)]
        SHARED_PARSES.consumers.add(self)
        SHARED_PARSES.changed()
        await self.transport.consume(self.queue, self.prefetch, self._pending.put)

    async def stop(self, grace: float = 20.0) -> None:
        """Stop taking deliveries, finish the batches in flight, hand back the rest."""
        self._stopping = True
        SHARED_PARSES.consumers.discard(self)
        SHARED_PARSES.changed()
        await self.transport.stop_consuming()
        # Deliveries received but not started go back to the broker at once.
        while not self._pending.empty():
            d = self._pending.get_nowait()
            if d is not None:
                await _safe(d.nack(requeue=True))
        for _ in self._workers:
            self._pending.put_nowait(None)  # wakes an idle worker; a busy one sees it after its batch
        if self._workers:
            _, late = await asyncio.wait(self._workers, timeout=grace)
            for w in late:
                w.cancel()
        self._workers = []

    async def _work(self, index: int) -> None:
        while True:
            first = await self._pending.get()
            if first is None:
                return
            batch = [first]
            # Take what is waiting, and linger once for more: under load one commit then
            # covers many messages; when idle it costs at most `linger` seconds. (No
            # wait_for on Queue.get: on Python 3.11 a timeout racing a put loses the item.)
            lingered = False
            while len(batch) < self.batch_size:
                if self._pending.empty():
                    if lingered or self.linger <= 0:
                        break
                    lingered = True
                    await asyncio.sleep(self.linger)
                    continue
                nxt = self._pending.get_nowait()
                if nxt is None:
                    self._pending.put_nowait(None)
                    break
                batch.append(nxt)
            try:
                await self._handle_batch(batch)
            except Exception:
                log.exception("consumer.batch_crashed", service=self.service)

    async def _handle_batch(self, batch: list[Delivery]) -> None:
        outcomes: list[tuple[Delivery, str, Exception | None]] = []
        runnable: list[tuple[Delivery, Envelope, Contract, Handler]] = []
        types: dict[int, str] = {}  # id(delivery) → message type, for the metrics
        run_events = 0  # events of the runs taken into this batch
        for d in batch:
            try:
                parsed = SHARED_PARSES.parse(d.body, self.service)
            except (ValidationError, ValueError) as e:
                outcomes.append((d, "dead", PermanentError(f"unreadable message: {e}")))
                continue
            env = parsed.envelope
            types[id(d)] = env.type if env.type in REGISTRY else "unknown"  # bounded label values
            spec = REGISTRY.get(env.type)
            if spec is not None and spec.run_of is not None:
                ids = env.payload.get("event_ids")
                size = len(ids) if isinstance(ids, list) else 0  # known before parsing it (hundreds of events)
                if run_events and run_events + size > self.batch_size and not self._stopping:
                    # runs up to `batch_size` events per delivery batch (an import's run is hundreds): a
                    # transaction of bounded size; the next run goes back to this consumer's queue
                    self._pending.put_nowait(d)
                    continue
                events = self._unpack_run(d, parsed, spec.run_of, outcomes, types)
                run_events += len(events)
                runnable += events
                continue
            handler = self.handlers.get(env.type)
            if handler is None:
                outcomes.append((d, "dead", PermanentError(f"no handler for {env.type} in {self.service}")))
                continue
            try:
                payload = parsed.payload()
            except (ValidationError, KeyError) as e:
                outcomes.append((d, "dead", PermanentError(f"payload does not match {env.type}: {e}")))
                continue
            runnable.append((d, env, payload, handler))
        runnable = self._one_solo(runnable)
        # the deliveries themselves (a run's events are parts of one), for a retry of the whole batch
        deliveries = list({id(d): d for d in (_delivery_of(r[0]) for r in runnable)}.values())
        retried_whole = False
        try:
            if runnable:
                outcomes += await self._fast_path(runnable)
        except Exception as e:  # the transaction as a whole failed: nothing of it committed
            retried_whole = True
            log.warning("consumer.commit_failed", service=self.service, error=repr(e), size=len(batch))
            await asyncio.sleep(0.5)
            for d in deliveries:
                await _safe(self._retry(d, attempt_counts=False, error=e))
            outcomes = [o for o in outcomes if o[1] == "dead"]
        self.stats.batches += 1
        BATCHES.labels(self.service).inc()
        counted: dict[tuple[str, str], int] = {}
        for d, outcome, _ in outcomes:
            key = (types.get(id(d), "unreadable"), {"ok": "handled", "retry": "retried"}.get(outcome, outcome))
            counted[key] = counted.get(key, 0) + 1
        if retried_whole:  # the batch's commit failed: each of its messages went back for another try
            for d, *_ in runnable:
                key = (types.get(id(d), "unreadable"), "retried")
                counted[key] = counted.get(key, 0) + 1
        for (type_, outcome), n in counted.items():
            MESSAGES.labels(self.service, type_, outcome).inc(n)
        runs: dict[int, tuple[Delivery, list]] = {}  # a run's delivery → its events that failed
        acks: list[Delivery] = []
        for d, outcome, err in outcomes:
            run = getattr(d, "run_delivery", None)
            if run is not None:
                failed = runs.setdefault(id(run), (run, []))[1]
                if outcome not in ("ok", "duplicate"):
                    failed.append((d, outcome, err))
            elif outcome in ("ok", "duplicate"):
                acks.append(d)
        acks += [run for run, failed in runs.values() if not failed]
        if acks:
            await _safe(self._ack(acks))
        for d, outcome, err in outcomes:
            if outcome in ("ok", "duplicate") or getattr(d, "run_delivery", None) is not None:
                continue
            if outcome == "retry":
                await _safe(self._retry(d, attempt_counts=True, error=err))
            else:
                await _safe(self._dead(d, err))
        for run, failed in runs.values():
            if failed:
                await self._settle_run(run, failed)

    async def _settle_run(self, run: Delivery, failed: list[tuple[Delivery, str, Exception | None]]) -> None:
        """A run whose events did not all succeed: each failed event goes on as a message of its own (its
        own envelope, to the retry delay or the dead letters, as if it had come alone), then the run's
        delivery is acknowledged. Should a send fail, the run is not acknowledged: the broker delivers it
        again, where its handled events are duplicates."""
        try:
            for part, outcome, err in failed:
                if outcome == "retry":
                    await self._retry(part, attempt_counts=True, error=err)
                else:
                    await self._dead(part, err)
        except Exception as e:
            log.warning("consumer.settle_failed", error=repr(e))
            return
        await _safe(run.ack())

    def _unpack_run(self, d: Delivery, parsed: _Parsed, type_: str, outcomes: list, types: dict) -> list:
        """An `EventRun`'s events as the messages they stand for, each as a part of its delivery
        (`_RunPart`): handled as if delivered alone, a failed one retried or dead-lettered alone, the run's
        delivery acknowledged once all are settled (`_settle_run`)."""
        types[id(d)] = type_
        handler = self.handlers.get(type_)
        if handler is None:
            outcomes.append((d, "dead", PermanentError(f"no handler for {type_} in {self.service}")))
            return []
        env = parsed.envelope
        try:
            run = parsed.payload()
            inner = parsed.run_envelopes()
        except (ValidationError, KeyError, ValueError, TypeError) as e:
            outcomes.append((d, "dead", PermanentError(f"payload does not match {env.type}: {e}")))
            return []
        if not inner:
            outcomes.append((d, "ok", None))  # an empty run: nothing to do
        out = []
        for ie, payload in zip(inner, run.events, strict=True):
            part = _RunPart(d, ie)
            types[id(part)] = type_
            out.append((part, ie, payload, handler))
        return out

    async def _ack(self, deliveries: list[Delivery]) -> None:
        """The batch's acks together when the transport can (`ack_many`: one socket write), else one by one."""
        many = getattr(self.transport, "ack_many", None)
        if many is not None:
            await many(deliveries)
            return
        for d in deliveries:
            await d.ack()

    def _one_solo(self, runnable: list) -> list:
        """At most one `solo` message (MessageSpec.solo: an import chunk) per delivery batch: the others
        go back to this consumer's queue, where an idle worker takes them in a transaction of its own."""
        if self._stopping:
            return runnable
        solo = [r for r in runnable if REGISTRY[r[1].type].solo]
        if len(solo) < 2:
            return runnable
        back = {id(r) for r in solo[1:]}
        for r in solo[1:]:
            self._pending.put_nowait(r[0])
        return [r for r in runnable if id(r) not in back]

    async def _fast_path(self, runnable) -> list[tuple[Delivery, str, Exception | None]]:
        """The whole batch in one transaction with one inbox statement and no savepoints.

        When a handler fails, the transaction is rolled back; that message is settled from
        this attempt and the others are redone each in its own savepoint (`_slow_path`).
        """
        outcomes: list[tuple[Delivery, str, Exception | None]] = []
        handled: list[Envelope] = []
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                fresh = {
                    r["message_id"]
                    for r in await conn.fetch(
                        "INSERT INTO inbox (message_id, type) SELECT * FROM unnest($1::uuid[], $2::text[]) "
                        "ON CONFLICT DO NOTHING RETURNING message_id",
                        [env.id for _, env, _, _ in runnable],
                        [env.type for _, env, _, _ in runnable],
                    )
                }
                todo = []
                for item in runnable:
                    d, env = item[0], item[1]
                    if env.id not in fresh:  # handled before, or twice in this batch
                        outcomes.append((d, "duplicate", None))
                        continue
                    fresh.discard(env.id)
                    todo.append(item)
                if todo and self.handlers.before_batch is not None:
                    try:
                        await self.handlers.before_batch(conn, [item[2] for item in todo])
                    except Exception as e:
                        raise _BatchFailed() from e
                for run, many in self._runs(todo):
                    if many is not None:
                        try:
                            await self._run_many(conn, run, many)
                        except Exception as e:
                            raise _BatchFailed() from e
                    else:
                        d, env, payload, handler = run[0]
                        try:
                            await self._run(conn, env, payload, handler)
                        except Exception as e:
                            raise _HandlerFailed(d, e, env) from e
                    outcomes += [(item[0], "ok", None) for item in run]
                    handled += [item[1] for item in run]
        except _HandlerFailed as failed:
            return await self._after_failure(runnable, failed)
        except _BatchFailed as failed:
            log.warning("consumer.batch_handler_failed", service=self.service, size=len(runnable),
                        error=repr(failed.__cause__))
            return await self._slow_path(runnable)
        self.stats.duplicates += len(outcomes) - len(handled)
        self._count_handled(handled)
        return outcomes

    async def _after_failure(self, runnable, failed: _HandlerFailed) -> list[tuple[Delivery, str, Exception | None]]:
        """One handler failed in the fast path: settle it from that attempt, redo the others one by one."""
        error = failed.error
        permanent = is_permanent(error)
        log.warning("consumer.permanent_failure" if permanent else "consumer.handler_failed",
                    service=self.service, id=failed.delivery.message_id, error=repr(error))
        rest = [r for r in runnable if r[1] is not failed.envelope]
        outcome = (failed.delivery, "dead" if permanent else "retry", error)
        return [outcome] + (await self._slow_path(rest) if rest else [])

    async def _slow_path(self, runnable) -> list[tuple[Delivery, str, Exception | None]]:
        async with self.pool.acquire() as conn, conn.transaction():
            if runnable and self.handlers.before_batch is not None:
                await self.handlers.before_batch(conn, [payload for _d, _env, payload, _h in runnable])
            return [(d, *await self._handle_one(conn, env, payload, handler)) for d, env, payload, handler in runnable]

    async def _run(self, conn: asyncpg.Connection, env: Envelope, payload: Contract, handler: Handler) -> None:
        token_c = logs.correlation_id.set(env.correlation_id)
        token_k = logs.causation_id.set(str(env.id))
        try:
            await handler(payload, MessageContext(env, conn, self._publisher(conn, env)))
        finally:
            logs.correlation_id.reset(token_c)
            logs.causation_id.reset(token_k)

    def _runs(self, todo: list):
        """The messages in order, as (run, batch handler): consecutive messages of a type with a batch
        handler together (when more than one), every other message alone with None."""
        k = 0
        while k < len(todo):
            many = self.handlers.get_many(todo[k][1].type)
            j = k + 1
            while many is not None and j < len(todo) and todo[j][1].type == todo[k][1].type:
                j += 1
            yield todo[k:j], (many if j - k > 1 else None)
            k = j

    async def _run_many(self, conn: asyncpg.Connection, group, many: BatchHandler) -> None:
        await many([(payload, MessageContext(env, conn, self._publisher(conn, env))) for _d, env, payload, _h in group])

    def _publisher(self, conn: asyncpg.Connection, env: Envelope):
        """`ctx.publish` of a handler: into the outbox in the handler's transaction, as a consequence of
        `env` (its tenant, correlation id, and `env` as the cause) unless the handler says otherwise."""

        async def publish(p: Contract, **kw) -> Envelope:
            kw.setdefault("provider_id", env.provider_id)
            kw.setdefault("correlation_id", env.correlation_id)
            kw.setdefault("causation_id", str(env.id))
            return await self.outbox.add(conn, p, **kw)

        return publish

    def _count_handled(self, envs: list[Envelope]) -> None:
        self.stats.handled += len(envs)
        self.stats.last_handled_at = time.monotonic()
        if self.on_handled:
            for env in envs:
                self.on_handled(self.service, env.type)

    async def _handle_one(
        self, conn: asyncpg.Connection, env: Envelope, payload: Contract, handler: Handler
    ) -> tuple[str, Exception | None]:
        try:
            async with conn.transaction():  # savepoint: a failure leaves nothing behind
                fresh = await conn.fetchval(
                    "INSERT INTO inbox (message_id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
                    env.id,
                    env.type,
                )
                if not fresh:
                    self.stats.duplicates += 1
                    return "duplicate", None
                await self._run(conn, env, payload, handler)
        except Exception as e:
            if is_permanent(e):
                log.warning("consumer.permanent_failure", type=env.type, id=str(env.id), error=repr(e))
                return "dead", e
            log.warning("consumer.handler_failed", type=env.type, id=str(env.id), error=repr(e))
            return "retry", e
        self._count_handled([env])
        return "ok", None

    async def _retry(self, d: Delivery, *, attempt_counts: bool, error: Exception | None) -> None:
        attempt = int(d.headers.get(ATTEMPT_HEADER, 0) or 0)
        if attempt_counts and attempt >= len(self.retry_delays):
            await self._dead(d, error)
            return
        delay = self.retry_delays[min(attempt, len(self.retry_delays) - 1)] if self.retry_delays else 0
        headers = dict(d.headers)
        headers[ATTEMPT_HEADER] = attempt + 1 if attempt_counts else attempt
        headers["x-icp-last-error"] = _short(error)
        if not self.retry_delays:
            await self._dead(d, error)
            return
        await self.transport.send_to_queue(self.prefix + retry_queue(self.service, delay), d, headers)
        await d.ack()
        self.stats.retried += 1

    async def _dead(self, d: Delivery, error: Exception | None) -> None:
        headers = dict(d.headers)
        headers["x-icp-error"] = _short(error)
        headers["x-icp-dead-at"] = datetime.now(UTC).isoformat()
        await self.transport.send_to_queue(self.prefix + dead_queue(self.service), d, headers)
        await d.ack()
        self.stats.dead += 1
        log.error("consumer.dead_lettered", service=self.service, id=d.message_id, error=_short(error))


def _short(error: Exception | None) -> str:
    """The reason a dead letter carries: the error's class first (a ValidationError's repr does not
    name it), then its message."""
    if error is None:
        return ""
    text = repr(error)
    name = type(error).__name__
    return (text if text.startswith(name) else f"{name}: {error}")[:500]


async def _safe(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except Exception as e:  # a closed channel: the broker will redeliver, the inbox dedupes
        log.warning("consumer.settle_failed", error=repr(e))


class _RunPart:
    """One event of an `EventRun`'s delivery, settled as a delivery of its own: its body is the event's own
    envelope (what a retry or a dead letter of it carries), its headers (the attempt count) the run's.
    Acknowledging it does nothing: the run's delivery is acknowledged once all its events are settled
    (`Consumer._settle_run`)."""

    __slots__ = ("run_delivery", "envelope", "headers", "message_id", "redelivered")

    def __init__(self, run: Delivery, envelope: Envelope) -> None:
        self.run_delivery = run
        self.envelope = envelope
        self.headers = run.headers or {}
        self.message_id = str(envelope.id)
        self.redelivered = run.redelivered

    @property
    def body(self) -> bytes:
        return encode(self.envelope)

    async def ack(self) -> None:
        return None

    async def nack(self, requeue: bool = True) -> None:
        return None


def _delivery_of(d) -> Delivery:
    return getattr(d, "run_delivery", d)


def encode(env: Envelope) -> bytes:
    return env.model_dump_json().encode()


def headers_of(env: Envelope) -> dict[str, Any]:
    """AMQP properties beyond the body (which carries the whole envelope)."""
    return {"correlation_id": env.correlation_id or "", "app_id": env.producer}


__all__ = [
    "Consumer",
    "Delivery",
    "HandlerTable",
    "MessageContext",
    "Outgoing",
    "PermanentError",
    "Transport",
    "is_permanent",
    "encode",
]
