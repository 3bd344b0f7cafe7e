"""SQL of the filing schema."""

from __future__ import annotations

import asyncpg


async def insert_provider(conn: asyncpg.Connection, provider_id: str, name: str, province: str, actor: str):
    return await conn.fetchrow(
        """INSERT INTO providers (provider_id, name, province, updated_at, created_by)
           VALUES ($1, $2, $3, now(), $4) RETURNING *""",
        provider_id,
        name,
        province,
        actor,
    )


async def list_providers(pool: asyncpg.Pool):
    return await pool.fetch("SELECT * FROM providers ORDER BY created_at")
