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
queue's `x-delivery-limit` dead-letters a message that keeps killing workers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import structlog
from pydantic import ValidationError

from shared import logs
from shared.contracts import COMMANDS_EXCHANGE, EVENTS_EXCHANGE, REGISTRY, Contract, Envelope, subscriptions

log = structlog.get_logger(__name__)

ATTEMPT_HEADER = "x-icp-attempt"


class PermanentError(Exception):
    """The message can never succeed (bad data, broken invariant): dead-letter without retrying."""


# ---------------------------------------------------------------- topology


@dataclass(frozen=True)
class QueueSpec:
    name: str
    arguments: dict[str, Any]
    bindings: tuple[tuple[str, str], ...] = ()  # (exchange, routing key)


@dataclass(frozen=True)
class Topology:
    exchanges: tuple[str, ...]
    queues: tuple[QueueSpec, ...]

    def queue(self, name: str) -> QueueSpec:
        return next(q for q in self.queues if q.name == name)


def inbox_queue(service: str) -> str:
    return f"{service}.inbox"


def dead_queue(service: str) -> str:
    return f"{service}.dead"


def retry_queue(service: str, delay: float) -> str:
    return f"{service}.retry.{int(delay * 1000)}ms"


def build_topology(
    services: tuple[str, ...], *, delivery_limit: int, retry_delays: list[float], prefix: str = ""
) -> Topology:
    """Every service's queues, declared identically by every service at start.

    Declaring all of them (not only one's own) means an event is routable as soon as any
    service has started, so the relay never drops a message for a consumer not yet up.
    """
    queues: list[QueueSpec] = []
    for svc in services:
        subs = subscriptions(svc)
        queues.append(
            QueueSpec(
                prefix + inbox_queue(svc),
                {
                    "x-queue-type": "quorum",
                    "x-delivery-limit": delivery_limit,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": prefix + dead_queue(svc),
                    # at-least-once dead-lettering: a message is never lost between queues
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                },
                tuple((prefix + s.exchange, s.type) for s in subs),
            )
        )
        queues.append(QueueSpec(prefix + dead_queue(svc), {"x-queue-type": "quorum"}))
        for delay in sorted(set(retry_delays)):
            queues.append(
                QueueSpec(
                    prefix + retry_queue(svc, delay),
                    {
                        "x-queue-type": "quorum",
                        "x-message-ttl": int(delay * 1000),
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": prefix + inbox_queue(svc),
                        "x-dead-letter-strategy": "at-least-once",
                        "x-overflow": "reject-publish",
                    },
                )
            )
    return Topology((prefix + EVENTS_EXCHANGE, prefix + COMMANDS_EXCHANGE), tuple(queues))


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


class HandlerTable:
    """Message type → handler, one table per service (the composition root fills it)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def on(self, model: type[Contract]):
        from shared.contracts import spec_of

        spec = spec_of(model)

        def register(fn: Handler) -> Handler:
            self._handlers[spec.type] = fn
            return fn

        return register

    def add(self, type_: str, fn: Handler) -> None:
        if type_ not in REGISTRY:
            raise LookupError(f"unknown message type {type_}")
        self._handlers[type_] = fn

    def get(self, type_: str) -> Handler | None:
        return self._handlers.get(type_)

    def types(self) -> set[str]:
        return set(self._handlers)


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
    """Consumes `<service>.inbox` in batches: one transaction per batch, a savepoint per message."""

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
        await self.transport.consume(self.queue, self.prefetch, self._pending.put)

    async def stop(self, grace: float = 20.0) -> None:
        """Stop taking deliveries, finish the batches in flight, hand back the rest."""
        self._stopping = True
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
            while len(batch) < self.batch_size and not self._pending.empty():
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
        parsed: list[tuple[Delivery, Envelope | None, Exception | None]] = []
        for d in batch:
            try:
                parsed.append((d, Envelope.model_validate_json(d.body), None))
            except (ValidationError, ValueError) as e:
                parsed.append((d, None, e))
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                for d, env, err in parsed:
                    if env is None:
                        outcomes.append((d, "dead", PermanentError(f"unreadable message: {err}")))
                        continue
                    outcomes.append((d, *await self._handle_one(conn, env)))
        except Exception as e:  # the transaction as a whole failed: nothing of it committed
            log.warning("consumer.commit_failed", service=self.service, error=repr(e), size=len(batch))
            await asyncio.sleep(0.5)
            for d in batch:
                await _safe(self._retry(d, attempt_counts=False, error=e))
            return
        self.stats.batches += 1
        for d, outcome, err in outcomes:
            if outcome in ("ok", "duplicate"):
                await _safe(d.ack())
            elif outcome == "retry":
                await _safe(self._retry(d, attempt_counts=True, error=err))
            else:
                await _safe(self._dead(d, err))

    async def _handle_one(self, conn: asyncpg.Connection, env: Envelope) -> tuple[str, Exception | None]:
        handler = self.handlers.get(env.type)
        token_c = logs.correlation_id.set(env.correlation_id)
        token_k = logs.causation_id.set(str(env.id))
        try:
            if handler is None:
                return "dead", PermanentError(f"no handler for {env.type} in {self.service}")
            try:
                payload = env.parse_payload()
            except (ValidationError, KeyError) as e:
                return "dead", PermanentError(f"payload does not match {env.type}: {e}")
            try:
                async with conn.transaction():  # savepoint: a failure leaves nothing behind
                    fresh = await conn.fetchval(
                        "INSERT INTO inbox (message_id, type) VALUES ($1, $2) "
                        "ON CONFLICT DO NOTHING RETURNING true",
                        env.id,
                        env.type,
                    )
                    if not fresh:
                        self.stats.duplicates += 1
                        return "duplicate", None

                    async def publish(payload: Contract, **kw) -> Envelope:
                        kw.setdefault("provider_id", env.provider_id)
                        return await self.outbox.add(conn, payload, **kw)

                    await handler(payload, MessageContext(env, conn, publish))
            except PermanentError as e:
                log.warning("consumer.permanent_failure", type=env.type, id=str(env.id), error=str(e))
                return "dead", e
            except Exception as e:
                log.warning("consumer.handler_failed", type=env.type, id=str(env.id), error=repr(e))
                return "retry", e
            self.stats.handled += 1
            self.stats.last_handled_at = time.monotonic()
            if self.on_handled:
                self.on_handled(self.service, env.type)
            return "ok", None
        finally:
            logs.correlation_id.reset(token_c)
            logs.causation_id.reset(token_k)

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
    return (repr(error) if error else "")[:500]


async def _safe(aw: Awaitable[Any]) -> None:
    try:
        await aw
    except Exception as e:  # a closed channel: the broker will redeliver, the inbox dedupes
        log.warning("consumer.settle_failed", error=repr(e))


def encode(env: Envelope) -> bytes:
    return env.model_dump_json().encode()


def headers_of(env: Envelope) -> dict[str, Any]:
    return {
        "type": env.type,
        "producer": env.producer,
        "correlation_id": env.correlation_id or "",
        "provider_id": env.provider_id or "",
    }


__all__ = [
    "Consumer",
    "Delivery",
    "HandlerTable",
    "MessageContext",
    "Outgoing",
    "PermanentError",
    "Topology",
    "Transport",
    "build_topology",
    "encode",
    "json",
]
