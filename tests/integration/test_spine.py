"""The spine through real services: an HTTP call on filing writes a row and an event in one
transaction; the event crosses RabbitMQ; reporting (and every other service) records it."""

from __future__ import annotations

import uuid

from tests.conftest import System


async def test_provider_registered_on_filing_reaches_every_service(system: System):
    pid = "p" + uuid.uuid4().hex[:10]
    r = await system.client.post(
        "/api/filing/providers", json={"name": "示例云计算有限公司", "province": "BJ", "provider_id": pid},
        headers=system.auth("admin") | {"X-Request-ID": "req-" + pid},
    )
    assert r.status == 201, await r.text()
    assert r.headers["X-Request-ID"] == "req-" + pid
    assert (await r.json())["provider_id"] == pid

    # the row and its event were written together
    filing = system.ctx("filing")
    row = await filing.pool.fetchrow(
        "SELECT id, correlation_id FROM outbox o, LATERAL (SELECT o.headers->>'correlation_id' AS correlation_id) h "
        "WHERE routing_key = 'filing.provider.registered' AND convert_from(body, 'UTF8')::jsonb->'payload'->>'provider_id' = $1",
        pid,
    )
    assert row is not None and row["correlation_id"] == "req-" + pid

    async def listed():
        resp = await system.client.get("/api/reporting/providers", headers=system.auth("admin"))
        body = await resp.json()
        return [p for p in body["items"] if p["provider_id"] == pid]

    entry = await system.eventually(listed)
    assert entry[0]["name"] == "示例云计算有限公司" and entry[0]["province"] == "BJ"
    for service in ("verification", "importer", "detection", "reporting"):
        ctx = system.ctx(service)
        await system.eventually(lambda ctx=ctx: ctx.pool.fetchval("SELECT true FROM inbox WHERE message_id = $1", row["id"]))
        assert await ctx.pool.fetchval("SELECT name FROM providers WHERE provider_id = $1", pid) == "示例云计算有限公司"


async def test_duplicate_provider_is_a_conflict_and_writes_no_second_event(system: System):
    pid = "p" + uuid.uuid4().hex[:10]
    body = {"name": "重复测试有限公司", "province": "SH", "provider_id": pid}
    assert (await system.client.post("/api/filing/providers", json=body, headers=system.auth())).status == 201
    r = await system.client.post("/api/filing/providers", json=body, headers=system.auth())
    assert r.status == 409
    assert pid in (await r.json())["detail"]
    n = await system.ctx("filing").pool.fetchval(
        "SELECT count(*) FROM outbox WHERE convert_from(body, 'UTF8')::jsonb->'payload'->>'provider_id' = $1", pid
    )
    assert n == 1


async def test_external_detection_event_over_rabbitmq_is_recorded_once(system: System, amqp_url):
    import aio_pika

    from shared.contracts import Envelope
    from tests.integration.detection_helpers import provider

    t = await provider(system)
    env = Envelope(
        type="detection.site.detected", producer="monitor",
        payload={"domain": "unfiled-example.com", "ip": "203.0.113.7", "province": "GD", "provider_id": t.provider_id,
                 "detected_at": "2026-11-01T08:00:00+08:00", "source": "probe-1"},
    )
    conn = await aio_pika.connect(amqp_url)
    ch = await conn.channel(publisher_confirms=True)
    ex = await ch.get_exchange("icp.events")
    for _ in range(2):  # an external publisher retrying after a lost confirm
        await ex.publish(aio_pika.Message(env.model_dump_json().encode(), message_id=str(env.id)),
                         routing_key="detection.site.detected", mandatory=True)
    await conn.close()
    det = system.ctx("detection")
    sql = "SELECT sightings FROM detections WHERE domain = 'unfiled-example.com' AND provider_id = $1"
    await system.eventually(lambda: det.pool.fetchval(sql, t.provider_id))
    await system.eventually(lambda: _ge(det.consumer.stats.duplicates, 1))
    assert await det.pool.fetchval(sql, t.provider_id) == 1


async def _ge(v, n):
    return v >= n
