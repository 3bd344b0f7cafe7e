"""Recovery after RabbitMQ becomes unreachable, simulated with a TCP proxy the test controls.

The shared broker keeps running (other test runs use it): a runtime of its own — own database,
own vhost — reaches RabbitMQ only through `tests.tcp_proxy.TcpProxy`. Cutting the proxy resets
every AMQP connection of that runtime and refuses new ones; restoring it lets them reconnect.
"""

from __future__ import annotations

import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer

from shared.contracts.detection import SiteDetected
from shared.db import transaction
from tests.conftest import AMQP_BASE, RUN_ID, System, own_backends
from tests.tcp_proxy import TcpProxy


@pytest.fixture
async def isolated(tmp_path):
    """A detection runtime on its own database and vhost whose broker traffic goes through a proxy."""
    from shared.config import Settings
    from shared.runtime import Endpoints, Runtime

    host, port = AMQP_BASE.rsplit("@", 1)[1].split(":")
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    async with own_backends("outage") as (dsn, vhost):
        amqp = f"{AMQP_BASE.rsplit('@', 1)[0]}@127.0.0.1:{proxy.port}/{vhost}"
        settings = Settings(
            env="test", database_url=dsn, amqp_url=amqp, secret_key="test-secret-" + RUN_ID,
            retry_delays=[0.2, 0.5], outbox_poll_interval=0.5, log_format="console", shutdown_grace=5,
            db_pool_min=0, db_pool_max=3, data_dir=str(tmp_path),
        )
        rt = Runtime(settings, Endpoints(dsn, amqp), ["detection"], "all")
        client = None
        try:
            root = await rt.start()
            client = TestClient(TestServer(root))
            await client.start_server()
            yield System(rt, client, settings), proxy
        finally:
            await proxy.restore()  # so that the runtime can close its connections cleanly
            if client is not None:
                await client.close()
            await rt.stop()
            await proxy.close()


async def test_events_written_while_the_broker_is_unreachable_arrive_once_after_it_is_back(isolated):
    system, proxy = isolated
    det = system.ctx("detection")
    domains = [f"outage-{uuid.uuid4().hex[:8]}-{i}.cn" for i in range(50)]

    # detection records sightings of providers it knows (its copy of the provider directory)
    await det.pool.execute("INSERT INTO providers (provider_id, name, province, updated_at) "
                           "VALUES ('outage-idc', '断网测试接入商', 'BJ', now()) ON CONFLICT DO NOTHING")

    async def write(batch: list[str]) -> None:
        async with transaction(det.pool) as conn:
            for d in batch:
                await det.outbox.add(conn, SiteDetected(domain=d, detected_at="2026-11-01T00:00:00Z", source="outage",
                                                        province="BJ", provider_id="outage-idc"))

    async def recorded() -> int:
        return await det.pool.fetchval("SELECT count(*) FROM detections WHERE domain = ANY($1::text[])", domains)

    async def readyz() -> int:
        return (await system.client.get("/api/detection/readyz")).status

    await write(domains[:10])
    await system.eventually(lambda: _eq(recorded, 10))  # through the proxy before the outage
    assert proxy.open_connections >= 1

    await proxy.cut()
    # the runtime notices: readiness says the broker is down (a dead connection, not a slow one)
    await system.eventually(lambda: _eq(readyz, 503), limit=30, interval=0.2)
    await write(domains[10:])  # written while the broker is unreachable: they wait in the outbox

    async def tried_and_failed() -> bool:
        return bool(await det.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL AND attempts > 0"))

    await system.eventually(tried_and_failed, limit=30, interval=0.2)  # the relay tried, the rows stay
    assert await det.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 40
    assert await recorded() == 10

    await proxy.restore()
    await system.eventually(lambda: _eq(recorded, 50), limit=120, interval=0.5)
    await system.eventually(lambda: _eq(readyz, 200), limit=60, interval=0.5)
    assert await det.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0

    # exactly once: one sighting per event, each counted once, nothing dead-lettered
    async def settled() -> bool:
        return det.consumer.stats.handled == 50 and not await det.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL")

    await system.eventually(settled, limit=30)
    assert await det.pool.fetchval(
        "SELECT count(*) FROM detections WHERE domain = ANY($1::text[]) AND sightings = 1", domains) == 50
    assert await det.pool.fetchval(
        "SELECT count(*) FROM sightings WHERE domain = ANY($1::text[])",
        domains) == 50
    assert det.consumer.stats.dead == 0
    assert proxy.accepted >= 2  # it really reconnected through the proxy


async def _eq(fn, expected) -> bool:
    return await fn() == expected
