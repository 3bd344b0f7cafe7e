"""RabbitMQ transport (aio-pika).

A robust connection re-opens channels, re-declares the topology and restores the
consumer after the broker restarts. Publishing uses its own channel with publisher
confirms and `on_return_raises`, so a nack or an unroutable message is an error the
outbox relay retries; consuming uses another channel with a prefetch window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection

from shared.bus import Delivery, Outgoing
from shared.topology import Topology

log = structlog.get_logger(__name__)


class AmqpTransport:
    name = "amqp"

    def __init__(self, url: str, *, publish_timeout: float = 30.0) -> None:
        self.url = url
        self.publish_timeout = publish_timeout
        self.connection: AbstractRobustConnection | None = None
        self._pub = None
        self._con = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._consumers: list[tuple[AbstractQueue, str]] = []

    async def start(self, topology: Topology) -> None:
        self.connection = await aio_pika.connect_robust(self.url, client_properties={"connection_name": "icp"})
        self._pub = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
        for name in topology.exchanges:
            self._exchanges[name] = await self._pub.declare_exchange(
                name, aio_pika.ExchangeType.TOPIC, durable=True
            )
        for q in topology.queues:
            queue = await self._pub.declare_queue(q.name, durable=True, arguments=q.arguments)
            for exchange, key in q.bindings:
                await queue.bind(self._exchanges[exchange], routing_key=key)
        self._exchanges[""] = self._pub.default_exchange

    async def _exchange(self, name: str) -> AbstractExchange:
        ex = self._exchanges.get(name)
        if ex is None:
            ex = await self._pub.get_exchange(name, ensure=False)
            self._exchanges[name] = ex
        return ex

    async def publish_many(self, messages: list[Outgoing]) -> list[Exception | None]:
        async def one(m: Outgoing) -> None:
            ex = await self._exchange(m.exchange)
            await ex.publish(
                aio_pika.Message(
                    m.body,
                    message_id=m.id,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    type=m.routing_key,
                    correlation_id=m.headers.get("correlation_id") or None,
                    app_id=m.headers.get("app_id"),
                ),
                routing_key=m.routing_key,
                mandatory=True,
                timeout=self.publish_timeout,
            )

        # All confirms in flight at once: awaiting each would cap us near 1,500/s.
        results = await asyncio.gather(*(one(m) for m in messages), return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]  # type: ignore[misc]

    async def send_to_queue(self, queue: str, delivery: Delivery, headers: dict[str, Any]) -> None:
        await self._pub.default_exchange.publish(
            aio_pika.Message(
                delivery.body,
                message_id=delivery.message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=headers,
            ),
            routing_key=queue,
            mandatory=True,
            timeout=self.publish_timeout,
        )

    async def consume(
        self, queue: str, prefetch: int, on_message: Callable[[Delivery], Awaitable[None]]
    ) -> None:
        if self._con is None:
            self._con = await self.connection.channel(publisher_confirms=False)
            await self._con.set_qos(prefetch_count=prefetch)
        q = await self._con.get_queue(queue, ensure=True)

        async def deliver(message: AbstractIncomingMessage) -> None:
            await on_message(message)  # IncomingMessage has body, headers, ack(), nack()

        tag = await q.consume(deliver, no_ack=False)
        self._consumers.append((q, tag))

    async def stop_consuming(self) -> None:
        for q, tag in self._consumers:
            try:
                await q.cancel(tag)
            except Exception as e:
                log.warning("amqp.cancel_failed", error=repr(e))
        self._consumers = []

    async def ping(self) -> bool:
        return bool(self.connection and not self.connection.is_closed and self._pub and not self._pub.is_closed)

    async def queue_depth(self, queue: str) -> int:
        # the robust channel caches declarations; ask the broker on the underlying channel
        raw = await self._pub.get_underlay_channel()
        ok = await raw.queue_declare(queue, passive=True)
        return ok.message_count or 0

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None
