"""Helpers for the detection tests: source keys, providers known to detection, events over HTTP and
over RabbitMQ (published as an external system does), the dead-letter queue."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika

from shared.contracts import Envelope
from tests.conftest import System
from tests.integration.filing_helpers import Tenant, new_tenant

D = "/api/detection"


async def source_key(system: System, name: str | None = None) -> str:
    from services.detection import handlers

    out = await handlers.create_source(system.ctx("detection").pool, name or f"probe-{uuid.uuid4().hex[:8]}", "test")
    return out["api_key"]


async def provider(system: System, province: str = "BJ") -> Tenant:
    """A new provider, once detection's own copy of the provider directory has it."""
    t = await new_tenant(system, province)
    pool = system.ctx("detection").pool
    await system.eventually(lambda: pool.fetchval("SELECT true FROM providers WHERE provider_id = $1", t.provider_id))
    return t


def ago(**kw) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def event(provider_id: str, domain: str, *, province: str = "BJ", ip: str = "203.0.113.7",
          detected_at: str | None = None, **over) -> dict:
    e = {"id": str(uuid.uuid4()), "domain": domain, "ip": ip, "province": province, "provider_id": provider_id,
         "detected_at": detected_at or ago(minutes=5), "source": "probe-bj-01"}
    e.update(over)
    return e


def unfiled_domain() -> str:
    return f"u{uuid.uuid4().hex[:12]}.cn"


async def post_events(system: System, key: str | None, body, expect: int | None = 200) -> dict:
    headers = {"X-API-Key": key} if key else {}
    r = await system.client.post(D + "/events", json=body, headers=headers)
    out = await r.json()
    if expect is not None:
        assert r.status == expect, out
    return out


async def get(system: System, path: str, headers: dict, expect: int = 200, **params) -> dict:
    r = await system.client.get(D + path, params={k: str(x) for k, x in params.items()}, headers=headers)
    out = await r.json()
    assert r.status == expect, out
    return out


async def unfiled(t: Tenant, **params) -> dict:
    return await get(t.system, "/unfiled", t.headers, **params)


async def publish(amqp_url: str, payloads: list[dict], *, ids: list[uuid.UUID] | None = None,
                  raw: list[bytes] | None = None) -> list[uuid.UUID]:
    """Publish `detection.site.detected` envelopes to icp.events as an external monitor does
    (persistent, message_id = envelope id, publisher confirms); `raw`: bodies sent as they are."""
    conn = await aio_pika.connect(amqp_url)
    out = []
    try:
        ch = await conn.channel(publisher_confirms=True)
        ex = await ch.get_exchange("icp.events")
        for i, p in enumerate(payloads):
            eid = ids[i] if ids else uuid.UUID(p["id"]) if "id" in p else uuid.uuid4()  # the envelope id is the event id
            env = Envelope(id=eid, type="detection.site.detected", producer="monitor",
                           provider_id=p.get("provider_id"), payload=p)
            await ex.publish(aio_pika.Message(env.model_dump_json().encode(), message_id=str(env.id),
                                              delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                             routing_key="detection.site.detected", mandatory=True)
            out.append(env.id)
        for body in raw or []:
            await ex.publish(aio_pika.Message(body, message_id=str(uuid.uuid4())), routing_key="detection.site.detected",
                             mandatory=True)
    finally:
        await conn.close()
    return out


async def dead_letters(system: System, amqp_url: str) -> dict[str, dict]:
    """message id → {headers, body} of every message now in detection.dead (all left in the queue:
    fetched unacknowledged on one channel, then given back by closing it)."""
    queue_name = system.ctx("detection").consumer.prefix + "detection.dead"
    conn = await aio_pika.connect(amqp_url)
    found: dict[str, dict] = {}
    try:
        ch = await conn.channel()
        q = await ch.declare_queue(queue_name, passive=True)
        n = q.declaration_result.message_count
        for _ in range(n):
            m = await q.get(no_ack=False, fail=False)
            if m is None:
                break
            found[m.message_id or ""] = {"headers": dict(m.headers or {}), "body": json.loads(m.body or b"null")
                                         if m.body.startswith(b"{") else m.body}
    finally:
        await conn.close()
    return found
