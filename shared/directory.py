"""Platform handlers every service registers: the provider directory and revoked sessions.

Each service keeps its own copy of these (in its own schema), filled from events, so it
never reads another service's tables.
"""

from __future__ import annotations

from shared.bus import HandlerTable, MessageContext
from shared.contracts.filing import ProviderRegistered, SessionRevoked


async def record_provider(p: ProviderRegistered, ctx: MessageContext) -> None:
    # Upsert guarded by time so an older event arriving late cannot overwrite a newer one.
    await ctx.conn.execute(
        """INSERT INTO providers (provider_id, name, province, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (provider_id) DO UPDATE SET name = EXCLUDED.name, province = EXCLUDED.province,
               updated_at = EXCLUDED.updated_at
           WHERE providers.updated_at <= EXCLUDED.updated_at""",
        p.provider_id,
        p.name,
        p.province,
        p.registered_at,
    )


async def record_revoked_session(p: SessionRevoked, ctx: MessageContext) -> None:
    await ctx.conn.execute(
        "INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        p.session_id,
        p.expires_at,
    )


def platform_handlers(*, provider_directory: bool = True, revocations: bool = True) -> HandlerTable:
    table = HandlerTable()
    if provider_directory:
        table.on(ProviderRegistered)(record_provider)
    if revocations:
        table.on(SessionRevoked)(record_revoked_session)
    return table

