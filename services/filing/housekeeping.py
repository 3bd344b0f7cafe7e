"""Periodic clean-up of filing's short-lived rows (worker role)."""

from __future__ import annotations

import asyncio
import datetime as dt

import structlog

from services.filing.accounts import store as accounts_store
from shared.service import ServiceContext

log = structlog.get_logger(__name__)

INTERVAL_SECONDS = 600


async def purge_expired(ctx: ServiceContext) -> None:
    """Expired captchas, sessions, import reservations and failed logins of unknown names; safe on every replica (plain DELETEs)."""
    captchas = await ctx.pool.execute("DELETE FROM captchas WHERE expires_at < now() - interval '1 hour'")
    sessions = await ctx.pool.execute("DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")
    # an import job that never ended (importer.job.finished lost with its job) holds nothing past expiry
    reservations = await ctx.pool.execute("DELETE FROM batch_reservations WHERE expires_at < now()")
    # (per-address rate counters are platform tables: the outbox relay's housekeeping purges them)
    names = await accounts_store.purge_unknown_failures(
        ctx.pool, dt.timedelta(minutes=ctx.settings.login_lock_minutes))
    log.info("filing.housekeeping", captchas=captchas, sessions=sessions, reservations=reservations,
             unknown_names=names)


async def housekeeping_loop(ctx: ServiceContext) -> None:
    while True:
        await purge_expired(ctx)
        await asyncio.sleep(INTERVAL_SECONDS)
