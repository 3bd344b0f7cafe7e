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
from aiormq.abc import ChannelFrame
from pamqp import commands as spec
from pamqp.header import ContentHeader

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

    async def publish_many(self, messages: list[Outgoing]) -> list[Exception | None]:
        """Publish with confirms and `mandatory`; per message None or the error (nack, unroutable,
        timeout, channel closed). One AMQP message per outbox row, as always, but the batch's frames
        go to the socket in one write (`_write_batch`): aio-pika's per-message publish (a lock,
        a timeout scope and a queue hand-off per message) cost about as much CPU as the rest of a
        submit's request."""
        if not messages:
            return []
        if not await self.ping():
            # The broker is unreachable: fail now rather than wait for the reconnect (the robust
            # channel would block until then) while the relay holds its claim open in a transaction.
            return [ConnectionError("broker connection is down")] * len(messages)
        try:
            channel = await self._pub.get_underlay_channel()
            if not supports_batch(channel):  # another aiormq: its own per-message publish
                return await self._publish_each(messages)
            futures = await _write_batch(channel, messages)
        except Exception as e:  # channel closed or recovering: the relay puts the rows back
            return [e] * len(messages)
        _done, pending = await asyncio.wait(futures, timeout=self.publish_timeout)
        for f in pending:
            f.cancel()  # aiormq ignores a late confirm of a cancelled publish
        out: list[Exception | None] = []
        for f in futures:
            if f.cancelled():
                out.append(TimeoutError(f"no publisher confirm within {self.publish_timeout} s"))
            else:
                out.append(f.exception())  # type: ignore[arg-type]
        return out

    async def _publish_each(self, messages: list[Outgoing]) -> list[Exception | None]:
        async def one(m: Outgoing) -> None:
            exchange = self._exchanges.get(m.exchange) or await self._pub.get_exchange(m.exchange, ensure=False)
            await exchange.publish(
                aio_pika.Message(
                    m.body, message_id=m.id, content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=m.routing_key,
                    correlation_id=m.headers.get("correlation_id") or None, app_id=m.headers.get("app_id"),
                ),
                routing_key=m.routing_key, mandatory=True, timeout=self.publish_timeout,
            )

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

    async def ack_many(self, deliveries: list[Delivery]) -> None:
        """Acknowledge a delivery batch: its Basic.Ack frames in one write per channel. aiormq's
        `basic_ack` writes and drains the socket once per message, which cost the detection consumer
        about a third of its time (bench/detection.py). Each delivery is still acknowledged by its
        own tag (never `multiple`: the consumer's other worker may hold earlier tags)."""
        by_channel: dict[int, tuple[Any, list[Any]]] = {}
        for d in deliveries:
            channel = getattr(d, "channel", None)
            by_channel.setdefault(id(channel), (channel, []))[1].append(d)
        for channel, ds in by_channel.values():
            if channel is None or not hasattr(channel, "write_queue") or not hasattr(channel, "number"):
                for d in ds:  # not an aiormq delivery: its own ack
                    await d.ack()
                continue
            if channel.is_closed:
                raise ConnectionError("consuming channel is closed: the broker redelivers, the inbox dedupes")
            frames = [spec.Basic.Ack(delivery_tag=d.delivery_tag, multiple=False) for d in ds]
            await channel.write_queue.put(ChannelFrame.marshall(frames=frames, channel_number=channel.number))

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
        """Whether the connection and its channels are open — their state, no round trip (a robust
        connection stays "not closed" while it reconnects; its channels show the outage)."""
        return bool(self.connection and not self.connection.is_closed and self._pub and not self._pub.is_closed
                    and (self._con is None or not self._con.is_closed))

    async def queue_depth(self, queue: str) -> int:
        # the robust channel caches declarations; ask the broker on the underlying channel
        raw = await self._pub.get_underlay_channel()
        ok = await raw.queue_declare(queue, passive=True)
        return ok.message_count or 0

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None


_BATCH_ATTRS = ("publisher_confirms", "lock", "is_closed", "delivery_tag", "confirmations",
                "message_id_delivery_tag", "create_future", "write_queue", "number", "_split_body")


def supports_batch(channel) -> bool:
    """Whether this aiormq channel has what `_write_batch` uses (aiormq 7.x does; a test says so)."""
    return all(hasattr(channel, a) for a in _BATCH_ATTRS)


async def _write_batch(channel, messages: list[Outgoing]) -> list[asyncio.Future]:
    """The frames of every message (publish, header, body) marshalled into one `ChannelFrame` and
    queued for the connection's writer in one step, each with its own delivery tag and confirmation
    future — what aiormq's `Channel.basic_publish` registers for one message (confirmations by
    delivery tag; message ids for `Basic.Return` of an unroutable message, answered with
    `PublishError` since the channel has `on_return_raises`). Under the channel's lock, like
    `basic_publish`, so delivery tags follow the order of the frames on the wire."""
    if not channel.publisher_confirms:
        raise RuntimeError("the publishing channel must have publisher confirms")
    futures: list[asyncio.Future] = []
    frames: list = []
    async with channel.lock:
        if channel.is_closed:
            raise ConnectionError("publishing channel is closed")
        for m in messages:
            properties = spec.Basic.Properties(
                message_id=m.id,
                content_type="application/json",
                delivery_mode=2,  # persistent
                message_type=m.routing_key,
                correlation_id=m.headers.get("correlation_id") or None,
                app_id=m.headers.get("app_id"),
            )
            frames.append(spec.Basic.Publish(exchange=m.exchange, routing_key=m.routing_key, mandatory=True))
            frames.append(ContentHeader(properties=properties, body_size=len(m.body)))
            frames += channel._split_body(m.body)
            channel.delivery_tag += 1
            tag = channel.delivery_tag
            future = channel.create_future()
            channel.confirmations[tag] = future
            channel.message_id_delivery_tag[m.id] = tag
            future.add_done_callback(_forget(channel, m.id, tag))
            futures.append(future)
        await channel.write_queue.put(ChannelFrame.marshall(frames=frames, channel_number=channel.number))
    return futures


def _forget(channel, message_id: str, tag: int):
    def forget(_: asyncio.Future) -> None:
        if channel.message_id_delivery_tag.get(message_id) == tag:
            channel.message_id_delivery_tag.pop(message_id)

    return forget
