"""Periodic clean-up of filing's short-lived rows (worker role)."""

from __future__ import annotations

import asyncio

import structlog

from shared.service import ServiceContext

log = structlog.get_logger(__name__)

INTERVAL_SECONDS = 600


async def purge_expired(ctx: ServiceContext) -> None:
    """Expired captchas, sessions and import reservations; safe on every replica (plain DELETEs)."""
    captchas = await ctx.pool.execute("DELETE FROM captchas WHERE expires_at < now() - interval '1 hour'")
    sessions = await ctx.pool.execute("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")
    # an import job that never ended (importer.job.finished lost with its job) holds nothing past expiry
    reservations = await ctx.pool.execute("DELETE FROM batch_reservations WHERE expires_at < now()")
    log.info("filing.housekeeping", captchas=captchas, sessions=sessions, reservations=reservations)


async def housekeeping_loop(ctx: ServiceContext) -> None:
    while True:
        await purge_expired(ctx)
        await asyncio.sleep(INTERVAL_SECONDS)
