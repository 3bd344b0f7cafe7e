"""reporting message handlers: every consumed event is logged (`event_log`), then applied to the
read models (`projection.apply`), in the inbox transaction of the delivery."""

from __future__ import annotations

from services.reporting import projection
from shared.bus import HandlerTable, MessageContext
from shared.contracts import Contract


async def on_event(payload: Contract, mctx: MessageContext) -> None:
    await projection.log_event(mctx.conn, mctx.envelope)
    await projection.apply(mctx.conn, mctx.envelope.id, payload)


def register(table: HandlerTable) -> None:
    """Every event the read models are built from (the provider directory included, so that a
    rebuild restores it too)."""
    for model in projection.LOGGED:
        table.on(model)(on_event)
