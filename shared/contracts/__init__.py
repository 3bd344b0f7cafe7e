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

from pydantic import BaseModel, ConfigDict, Field, model_serializer

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
    # an `EventRun`: several events of this type in one message, handled as those events
    run_of: str | None = None

    @property
    def exchange(self) -> str:
        return EVENTS_EXCHANGE if self.kind == "event" else COMMANDS_EXCHANGE

    @property
    def producer(self) -> str:
        return self.type.split(".", 1)[0]


REGISTRY: dict[str, MessageSpec] = {}
_BY_MODEL: dict[type[Contract], MessageSpec] = {}


def message(type_: str, *, kind: Literal["event", "command"] = "event", consumers: tuple[str, ...] = (),
            solo: bool = False, run_of: str | None = None):
    """Register a payload model under its message type (`solo`: see `MessageSpec.solo`; `run_of`: the
    model is an `EventRun` of that event type, which must be registered first with the same consumers)."""

    def register(model: type[Contract]) -> type[Contract]:
        if type_ in REGISTRY:
            raise RuntimeError(f"message type {type_} registered twice")
        if len(type_.split(".")) != 3:
            raise RuntimeError(f"message type {type_} must be <service>.<noun>.<verb>")
        if run_of is not None and not (issubclass(model, EventRun) and run_of in REGISTRY
                                       and set(REGISTRY[run_of].consumers) == set(consumers)):
            raise RuntimeError(f"{type_}: a run of a registered event type, for the same consumers")
        spec = MessageSpec(type_, kind, model, tuple(consumers), (model.__doc__ or "").strip(), solo, run_of)
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


class EventHead(BaseModel):
    """An event's own envelope fields in a run of events written separately (`EventRun.heads`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    occurred_at: datetime
    correlation_id: str | None = None
    causation_id: str | None = None
    provider_id: str | None = None


class EventRun(Contract):
    """Several events of one type in one message (registered with `message(..., run_of=<their type>)`):
    `events`, which the subclass declares as a list of that type's model, with the id each has as an
    event (`event_ids`, same order). A consumer handles them exactly as those events delivered together
    in one batch (`shared.bus.Consumer`): each recorded in its inbox under its own id, a run handler
    (`HandlerTable.on_many`) taking them at once. So a producer that writes many events at once (an
    import chunk's applications) sends one message through the outbox, the broker and each consumer
    instead of one per event, and nothing downstream changes. The outbox relay also packs consecutive
    events of such a type that separate transactions wrote (`shared.outbox.pack_runs`): each keeps its
    own time, tenant, correlation and cause in `heads`."""

    event_ids: list[uuid.UUID]
    # per event, its own envelope's fields (a run the relay packed); None: the run's (a producer's run)
    heads: list[EventHead] | None = None

    @model_serializer(mode="wrap")
    def _without_absent_heads(self, handler):
        # a producer's run dumps as before `heads` existed (the import's chunk write builds its JSON by hand)
        data = handler(self)
        if isinstance(data, dict) and data.get("heads") is None:
            data.pop("heads", None)
        return data

    def envelopes(self, outer: Envelope) -> list[Envelope]:
        """The events as the envelopes they would have travelled in: with `heads`, exactly theirs; else the
        run's time, tenant, correlation and cause."""
        events: list[Contract] = self.events  # type: ignore[attr-defined]  # declared by the subclass
        if len(events) != len(self.event_ids) or len(set(self.event_ids)) != len(self.event_ids):
            raise ValueError("a run needs one distinct event id per event")
        if self.heads is not None and len(self.heads) != len(self.event_ids):
            raise ValueError("a run's heads need one per event")
        type_ = REGISTRY[outer.type].run_of
        raw = outer.payload["events"]  # each event's payload as it travelled (what its own envelope holds)
        heads = self.heads or [EventHead(occurred_at=outer.occurred_at, correlation_id=outer.correlation_id,
                                         causation_id=outer.causation_id, provider_id=outer.provider_id)
                               ] * len(self.event_ids)
        return [
            Envelope(id=eid, type=type_, occurred_at=h.occurred_at, correlation_id=h.correlation_id,
                     causation_id=h.causation_id, producer=outer.producer, provider_id=h.provider_id,
                     payload=payload)
            for eid, h, payload in zip(self.event_ids, heads, raw, strict=True)
        ]


def run_types() -> dict[str, str]:
    """Event type → the type of its runs (`EventRun`), for the types that have one."""
    return {spec.run_of: spec.type for spec in REGISTRY.values() if spec.run_of is not None}


def load_all() -> None:
    """Import every contract module so the registry is complete."""
    from shared.contracts import detection, filing, importer, reporting, verification  # noqa: F401


load_all()
