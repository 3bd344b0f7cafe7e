"""`/readyz` reflects a dead connection, not a slow or busy one (issue 9: a 2-second ping on a
busy machine answered "broker: down", and Kubernetes would take pods out when they are busiest).

A reporting runtime of its own (own database and vhost) reaches PostgreSQL and RabbitMQ only
through TCP proxies the test cuts (`tests.tcp_proxy`); the shared servers keep running.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import AMQP_BASE, PG_ADMIN, RUN_ID, _rabbitmqctl
from tests.tcp_proxy import TcpProxy

POOL_MAX = 2


@pytest.fixture
async def proxied(tmp_path):
    from shared.config import Settings
    from shared.runtime import Endpoints, Runtime

    name = f"icp_test_{RUN_ID}_ready"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    amqp_host, amqp_port = AMQP_BASE.rsplit("@", 1)[1].split(":")
    pg_host, pg_port = PG_ADMIN.split("@", 1)[1].split("/", 1)[0].split(":")
    broker, database = TcpProxy(amqp_host, int(amqp_port)), TcpProxy(pg_host, int(pg_port))
    await broker.start()
    await database.start()
    dsn = f"{PG_ADMIN.split('@', 1)[0]}@127.0.0.1:{database.port}/{name}"
    amqp = f"{AMQP_BASE.rsplit('@', 1)[0]}@127.0.0.1:{broker.port}/{name}"
    settings = Settings(
        env="test", database_url=dsn, amqp_url=amqp, secret_key="test-secret-" + RUN_ID,
        retry_delays=[0.2, 0.5], outbox_poll_interval=0.5, log_format="console", shutdown_grace=5,
        db_pool_min=1, db_pool_max=POOL_MAX, data_dir=str(tmp_path),
    )
    rt = Runtime(settings, Endpoints(dsn, amqp), ["reporting"], "all")
    client = None
    try:
        root = await rt.start()
        client = TestClient(TestServer(root))
        await client.start_server()
        yield rt, client, broker, database
    finally:
        await broker.restore()
        await database.restore()
        if client is not None:
            await client.close()
        await rt.stop()
        await broker.close()
        await database.close()
        _rabbitmqctl("delete_vhost", name)
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _ready(client) -> tuple[int, dict]:
    r = await client.get("/api/reporting/readyz")
    return r.status, await r.json()


async def _until(client, status: int, limit: float = 30) -> dict:
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        got, body = await _ready(client)
        if got == status:
            return body
        assert asyncio.get_running_loop().time() < deadline, (got, body)
        await asyncio.sleep(0.2)


async def test_readiness_tells_a_busy_process_from_a_dead_connection(proxied):
    rt, client, broker, database = proxied
    ctx = next(rs.ctx for rs in rt.running if rs.definition.name == "reporting")
    status, body = await _ready(client)
    assert status == 200 and body["database"] == "ok" and body["broker"] == "ok", body

    # busy: every pooled connection is at work for longer than any probe waits
    held = [await ctx.pool.acquire() for _ in range(POOL_MAX)]
    try:
        busy = [asyncio.create_task(c.execute("SELECT pg_sleep(4)")) for c in held]
        started = asyncio.get_running_loop().time()
        status, body = await _ready(client)
        assert status == 200 and body["database"] == "ok", body
        assert asyncio.get_running_loop().time() - started < 3  # answered within the probe's timeout
        await asyncio.gather(*busy)
    finally:
        for c in held:
            await ctx.pool.release(c)

    # a dead broker connection: down at once, the database still up
    await broker.cut()
    body = await _until(client, 503)
    assert body["broker"] == "down" and body["database"] == "ok", body
    await broker.restore()
    await _until(client, 200, limit=60)

    # a dead database: down (its connections reset, new ones refused)
    await database.cut()
    body = await _until(client, 503)
    assert body["database"] == "down", body
    await database.restore()
    await _until(client, 200, limit=60)
