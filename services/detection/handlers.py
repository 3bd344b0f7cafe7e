"""detection use cases and message handlers."""

from __future__ import annotations

from services.detection import store
from shared.auth import Principal, Role
from shared.bus import HandlerTable, MessageContext
from shared.contracts import Envelope
from shared.contracts.detection import SiteDetected
from shared.db import transaction
from shared.service import ServiceContext


async def ingest(ctx: ServiceContext, event: SiteDetected, who: Principal) -> Envelope:
    """HTTP ingest takes the same path as events published to RabbitMQ: through the bus."""
    if who.role == Role.PROVIDER:
        event = event.model_copy(update={"provider_id": who.provider_id})
    async with transaction(ctx.pool) as conn:
        return await ctx.outbox.add(conn, event, provider_id=event.provider_id)


async def on_site_detected(event: SiteDetected, mctx: MessageContext) -> None:
    await store.record_sighting(mctx.conn, event, message_id=mctx.envelope.id)


def register(table: HandlerTable) -> None:
    table.on(SiteDetected)(on_site_detected)
