"""Sponsor (主办者) accounts created when a provider files on someone's behalf."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from shared.auth import generate_password, generate_username, hash_generated_password


@dataclass(frozen=True)
class NewSponsorAccount:
    user_id: uuid.UUID
    username: str
    password: str  # plaintext: shown once to the operator, never stored or sent anywhere


async def create_sponsor_account(
    conn: asyncpg.Connection, *, provider_id: str, display_name: str, created_by: str
) -> NewSponsorAccount:
    """Insert a sponsor user with a generated username and password (retrying a username clash)."""
    password = generate_password()
    pw_hash = hash_generated_password(password)
    for _ in range(10):
        username = generate_username()
        user_id = await conn.fetchval(
            """INSERT INTO users (username, password_hash, role, provider_id, display_name, created_by)
               VALUES ($1, $2, 'sponsor', $3, $4, $5)
               ON CONFLICT DO NOTHING RETURNING id""",
            username,
            pw_hash,
            provider_id,
            display_name,
            created_by,
        )
        if user_id is not None:
            return NewSponsorAccount(user_id, username, password)
    raise RuntimeError("could not allocate a unique sponsor username")
