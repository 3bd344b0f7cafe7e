"""RabbitMQ topology of the platform, derived from the contract registry.

Exchanges `icp.events` and `icp.commands` (topic, durable); per service a quorum queue
`<service>.inbox` bound to the message types it consumes, with a delivery limit and
at-least-once dead-lettering to `<service>.dead`; and per retry delay a quorum queue
`<service>.retry.<ms>ms` whose messages expire back into the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.contracts import COMMANDS_EXCHANGE, EVENTS_EXCHANGE, subscriptions


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
