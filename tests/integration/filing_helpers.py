"""Helpers for the filing integration tests: tenants, operators, verification outcomes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.db import transaction
from tests.conftest import System


@dataclass
class Tenant:
    system: System
    provider_id: str
    operator_id: str

    @property
    def headers(self) -> dict[str, str]:
        return self.system.auth("provider", user_id=self.operator_id, provider_id=self.provider_id)

    async def call(self, method: str, path: str, **kw):
        headers = kw.pop("headers", None) or self.headers
        resp = await self.system.client.request(method, "/api/filing" + path, headers=headers, **kw)
        text = await resp.text()
        body = json.loads(text) if text else None
        return resp.status, body

    async def operator(self) -> Tenant:
        """Another operator of the same provider (a real users row)."""
        return await new_operator(self.system, self.provider_id)


async def new_operator(system: System, provider_id: str) -> Tenant:
    pool = system.ctx("filing").pool
    uid = await pool.fetchval(
        """INSERT INTO users (username, password_hash, role, provider_id, display_name, created_by)
           VALUES ($1, 'x', 'provider', $2, '备案专员', 'test') RETURNING id""",
        "op" + uuid.uuid4().hex[:10],
        provider_id,
    )
    return Tenant(system, provider_id, str(uid))


async def new_tenant(system: System, province: str = "BJ") -> Tenant:
    pid = "p" + uuid.uuid4().hex[:10]
    r = await system.client.post(
        "/api/filing/providers", json={"name": f"测试接入商{pid}", "province": province, "provider_id": pid},
        headers=system.auth("admin"),
    )
    assert r.status == 201, await r.text()
    return await new_operator(system, pid)


async def publish_outcome(system: System, payload, provider_id: str):
    """Write a verification event into verification's outbox: the real relay publishes it over RabbitMQ."""
    vctx = system.ctx("verification")
    async with transaction(vctx.pool) as conn:
        return await vctx.outbox.add(conn, payload, provider_id=provider_id)


async def wait_handled(system: System, message_id) -> None:
    pool = system.ctx("filing").pool
    await system.eventually(lambda: pool.fetchval("SELECT true FROM inbox WHERE message_id = $1", message_id))


def now() -> datetime:
    return datetime.now(UTC)


async def events_for(system: System, application_id: str) -> list[dict]:
    rows = await system.ctx("filing").pool.fetch(
        """SELECT convert_from(body, 'UTF8') AS body FROM outbox
           WHERE routing_key = 'filing.application.submitted'
             AND convert_from(body, 'UTF8')::jsonb->'payload'->>'application_id' = $1 ORDER BY seq""",
        application_id,
    )
    return [json.loads(r["body"]) for r in rows]


@dataclass(frozen=True)
class Sponsor:
    user_id: uuid.UUID
    username: str
    password: str


async def new_sponsor(system: System, provider_id: str, display_name: str = "某某公司") -> Sponsor:
    """A sponsor (主办者) account with generated credentials, as a first filing creates it."""
    from services.filing.sponsors.credentials import new_credentials

    username, password, pw_hash = new_credentials()
    user_id = await system.ctx("filing").pool.fetchval(
        """INSERT INTO users (username, password_hash, role, provider_id, display_name, created_by)
           VALUES ($1, $2, 'sponsor', $3, $4, 'test') RETURNING id""",
        username, pw_hash, provider_id, display_name,
    )
    return Sponsor(user_id, username, password)
