"""Filing use cases: one function per command."""

from __future__ import annotations

import uuid

import asyncpg

from services.filing.providers import store
from services.filing.providers.model import ProviderIn, ProviderList, ProviderOut
from shared.contracts.filing import ProviderRegistered
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem


async def register_provider(ctx: ServiceContext, cmd: ProviderIn, *, actor: str) -> ProviderOut:
    provider_id = cmd.provider_id or uuid.uuid4().hex[:12]
    async with transaction(ctx.pool) as conn:
        try:
            row = await store.insert_provider(conn, provider_id, cmd.name, cmd.province, actor)
        except asyncpg.UniqueViolationError:
            raise Problem(409, f"接入服务提供者标识 {provider_id} 已存在") from None
        await ctx.outbox.add(
            conn,
            ProviderRegistered(
                provider_id=provider_id, name=cmd.name, province=cmd.province, registered_at=row["updated_at"]
            ),
            provider_id=provider_id,
        )
    return ProviderOut(**{k: row[k] for k in ("provider_id", "name", "province", "created_at")})


async def list_providers(ctx: ServiceContext) -> ProviderList:
    rows = await store.list_providers(ctx.pool)
    return ProviderList(
        items=[ProviderOut(**{k: r[k] for k in ("provider_id", "name", "province", "created_at")}) for r in rows],
        total=len(rows),
    )
