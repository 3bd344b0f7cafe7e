"""Every command and event, as pydantic models, and the envelope that carries them.

One module per producing service. A contract is registered with `@message(type,
consumers=...)`: the type is the routing key (`<producer>.<noun>.<verb>` for events,
`<handler>.<noun>.<verb>` for commands) and `consumers` names the services whose inbox
receives it. The topology is declared from this registry by every service at start,
so a message is routable even when its consumer has not started yet.

Payloads evolve by adding optional fields; a breaking change is a new type.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.ids import uuid7

EVENTS_EXCHANGE = "icp.events"
COMMANDS_EXCHANGE = "icp.commands"


class Contract(BaseModel):
    """Base of every payload. Unknown fields are ignored so producers may add fields first."""

    model_config = ConfigDict(extra="ignore", frozen=True)


@dataclass(frozen=True)
class MessageSpec:
    type: str
    kind: Literal["event", "command"]
    model: type[Contract]
    consumers: tuple[str, ...]
    summary: str
    # heavy (an import chunk): each gets a transaction of its own, so that the consumer's workers
    # handle two of them side by side instead of one after the other in one delivery batch
    solo: bool = False

    @property
    def exchange(self) -> str:
        return EVENTS_EXCHANGE if self.kind == "event" else COMMANDS_EXCHANGE

    @property
    def producer(self) -> str:
        return self.type.split(".", 1)[0]


REGISTRY: dict[str, MessageSpec] = {}
_BY_MODEL: dict[type[Contract], MessageSpec] = {}


def message(type_: str, *, kind: Literal["event", "command"] = "event", consumers: tuple[str, ...] = (),
            solo: bool = False):
    """Register a payload model under its message type (`solo`: see `MessageSpec.solo`)."""

    def register(model: type[Contract]) -> type[Contract]:
        if type_ in REGISTRY:
            raise RuntimeError(f"message type {type_} registered twice")
        if len(type_.split(".")) != 3:
            raise RuntimeError(f"message type {type_} must be <service>.<noun>.<verb>")
        spec = MessageSpec(type_, kind, model, tuple(consumers), (model.__doc__ or "").strip(), solo)
        REGISTRY[type_] = spec
        _BY_MODEL[model] = spec
        return model

    return register


def spec_of(payload: Contract | type[Contract]) -> MessageSpec:
    model = payload if isinstance(payload, type) else type(payload)
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not a registered contract") from None


def subscriptions(service: str) -> list[MessageSpec]:
    return [s for s in REGISTRY.values() if service in s.consumers]


class Envelope(BaseModel):
    """The one envelope of DESIGN §3. `id` is also the AMQP message_id."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID = Field(default_factory=uuid7)  # time-ordered: outbox and inbox index entries stay at the B-tree's edge
    type: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: str | None = None
    producer: str
    provider_id: str | None = None
    payload: dict[str, Any]

    def parse_payload(self) -> Contract:
        return REGISTRY[self.type].model.model_validate(self.payload)


def load_all() -> None:
    """Import every contract module so the registry is complete."""
    from shared.contracts import detection, filing, importer, reporting, verification  # noqa: F401


load_all()
