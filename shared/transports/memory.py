"""In-process broker for the single-process embedded run (`icp up` with no RabbitMQ).

Same semantics as the AMQP topology where they matter: topic routing with unroutable
messages reported as errors, per-queue delivery with ack/nack, a delivery limit that
dead-letters, and delay queues that feed back into the inbox. Messages live in memory:
the outbox keeps anything not yet published across a restart, but deliveries queued
here are lost with the process — acceptable for the one-machine demo run only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shared.bus import Delivery, Outgoing
from shared.topology import Topology


class Unroutable(Exception):
    pass


@dataclass
class MemoryDelivery:
    body: bytes
    headers: dict[str, Any]
    message_id: str | None
    queue: _Queue
    redelivered: bool = False
    delivery_count: int = 0
    _settled: bool = False

    async def ack(self) -> None:
        self._settle()

    async def nack(self, requeue: bool = True) -> None:
        self._settle()
        if requeue:
            self.queue.requeue(self)

    def _settle(self) -> None:
        if self._settled:
            raise RuntimeError("delivery already settled")
        self._settled = True
        self.queue.unacked -= 1
        self.queue.space.set()


@dataclass
class _Queue:
    name: str
    arguments: dict[str, Any]
    broker: MemoryBroker
    items: asyncio.Queue = field(default_factory=asyncio.Queue)
    unacked: int = 0
    space: asyncio.Event = field(default_factory=asyncio.Event)  # set when a delivery settles

    def put(self, body: bytes, headers: dict, message_id: str | None, count: int = 0) -> None:
        ttl = self.arguments.get("x-message-ttl")
        if ttl is not None:  # a delay queue: dead-letter after the TTL
            asyncio.get_running_loop().call_later(ttl / 1000, self._expire, (body, headers, message_id))
            return
        self.items.put_nowait((body, headers, message_id, count))

    def _expire(self, item) -> None:
        target = self.arguments.get("x-dead-letter-routing-key")
        if target:
            self.broker.queues[target].put(item[0], item[1], item[2])

    def requeue(self, d: MemoryDelivery) -> None:
        limit = self.arguments.get("x-delivery-limit")
        count = d.delivery_count + 1
        if limit is not None and count > limit:
            target = self.arguments.get("x-dead-letter-routing-key")
            if target:
                self.broker.queues[target].put(d.body, d.headers, d.message_id)
            return
        self.items.put_nowait((d.body, d.headers, d.message_id, count))


class MemoryBroker:
    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}
        self.bindings: dict[str, list[tuple[re.Pattern, str]]] = {}

    def declare(self, topology: Topology) -> None:
        for ex in topology.exchanges:
            self.bindings.setdefault(ex, [])
        for q in topology.queues:
            if q.name not in self.queues:
                self.queues[q.name] = _Queue(q.name, dict(q.arguments), self)
            for ex, key in q.bindings:
                entry = (_topic_regex(key), q.name)
                if entry not in self.bindings[ex]:
                    self.bindings[ex].append(entry)

    def route(self, exchange: str, routing_key: str) -> list[str]:
        if exchange == "":
            return [routing_key] if routing_key in self.queues else []
        return sorted({q for rx, q in self.bindings.get(exchange, []) if rx.match(routing_key)})

    def depth(self, queue: str) -> int:
        return self.queues[queue].items.qsize()


def _topic_regex(key: str) -> re.Pattern:
    parts = [r"[^.]+" if p == "*" else (r".*" if p == "#" else re.escape(p)) for p in key.split(".")]
    return re.compile("^" + r"\.".join(parts) + "$")


class MemoryTransport:
    """One per service, all sharing a `MemoryBroker` in the process."""

    name = "memory"

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker
        self._tasks: list[asyncio.Task] = []
        self._closed = False

    async def start(self, topology: Topology) -> None:
        self.broker.declare(topology)

    async def publish_many(self, messages: list[Outgoing]) -> list[Exception | None]:
        results: list[Exception | None] = []
        for m in messages:
            targets = self.broker.route(m.exchange, m.routing_key)
            if not targets:
                results.append(Unroutable(f"{m.exchange}/{m.routing_key} has no bound queue"))
                continue
            for t in targets:
                self.broker.queues[t].put(m.body, dict(m.headers), m.id)
            results.append(None)
        return results

    async def send_to_queue(self, queue: str, delivery: Delivery, headers: dict[str, Any]) -> None:
        if queue not in self.broker.queues:
            raise Unroutable(queue)
        self.broker.queues[queue].put(delivery.body, dict(headers), delivery.message_id)

    async def consume(self, queue: str, prefetch: int, on_message: Callable[[Delivery], Awaitable[None]]) -> None:
        q = self.broker.queues[queue]

        async def pump() -> None:
            while True:
                while q.unacked >= prefetch:  # the prefetch window is full
                    q.space.clear()
                    await q.space.wait()
                body, headers, mid, count = await q.items.get()
                q.unacked += 1
                await on_message(MemoryDelivery(body, headers, mid, q, count > 0, count))

        self._tasks.append(asyncio.create_task(pump()))

    async def stop_consuming(self) -> None:
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []

    async def ping(self) -> bool:
        return not self._closed

    async def queue_depth(self, queue: str) -> int:
        return self.broker.depth(queue)

    async def close(self) -> None:
        await self.stop_consuming()
        self._closed = True
