"""Shared fixtures: a throwaway PostgreSQL database and RabbitMQ vhost per test run.

Both are created on the local servers (127.0.0.1:5432, 127.0.0.1:5672) and removed
afterwards. A test that cannot reach them fails — it never skips.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid

import asyncpg
import pytest

PG_ADMIN = os.environ.get("ICP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("ICP_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
RUN_ID = uuid.uuid4().hex[:10]

os.environ.setdefault("ICP_ENV", "test")


def _rabbitmqctl(*args: str, timeout: float = 60) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=timeout)


@pytest.fixture(scope="session")
async def pg_dsn():
    name = f"icp_test_{RUN_ID}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture(scope="session")
def amqp_vhost():
    vhost = f"icp_test_{RUN_ID}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield vhost
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def amqp_url(amqp_vhost):
    return f"{AMQP_BASE}/{amqp_vhost}"


@contextlib.asynccontextmanager
async def own_backends(suffix: str):
    """A database and a vhost of one test's own (for a process whose consumers must not take the shared
    run's messages): yields (dsn, vhost); both are removed afterwards."""
    name = f"icp_test_{RUN_ID}_{suffix}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name, name
    finally:
        _rabbitmqctl("delete_vhost", name)
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def close_vhost_connections(vhost: str) -> None:
    """Close every client connection of the vhost from the broker side."""
    _rabbitmqctl("close_all_connections", "--vhost", vhost, "test: broker closed connections")


# ---------------------------------------------------------------- the running system


class System:
    """All five services in this process on the test database and vhost, behind one HTTP client."""

    def __init__(self, runtime, client, settings) -> None:
        self.runtime = runtime
        self.client = client
        self.settings = settings

    def ctx(self, service: str):
        return next(rs.ctx for rs in self.runtime.running if rs.definition.name == service)

    def token(self, role: str = "admin", *, user_id: str = "admin", provider_id=None, province=None) -> str:
        from shared.auth import Role, issue_token, new_principal

        p = new_principal(
            user_id=user_id, role=Role(role), username=user_id, ttl=3600, provider_id=provider_id, province=province
        )
        return issue_token(self.settings.secret_key, p)

    def auth(self, role: str = "admin", **kw) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kw)}"}

    async def eventually(self, check, limit: float = 15.0, interval: float = 0.05):
        """Poll an async predicate until it returns a truthy value; return that value."""
        import asyncio

        deadline = asyncio.get_running_loop().time() + limit
        while True:
            value = await check()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def service_app(system: System, name: str, *, settings=None, pool=None, extras: dict | None = None):
    """Another HTTP app of one service on the test database and broker, as another replica would be: the
    run's settings (or `settings`), the running service's pool (or `pool`, e.g. one of its own), `extras`
    in its context; yields a client of it (no cookie jar)."""
    import aiohttp
    from aiohttp.test_utils import TestClient, TestServer

    from shared.outbox import Outbox
    from shared.runtime import build_service_app, load_service
    from shared.service import ServiceContext
    from shared.web import mount, root_app

    base = system.ctx(name)
    ctx = ServiceContext(name, settings or system.settings, pool or base.pool, Outbox(name), base.transport,
                         revocations=base.revocations, extras=dict(extras or {}))
    root = root_app()
    mount(root, name, build_service_app(load_service(name), ctx))
    client = TestClient(TestServer(root), cookie_jar=aiohttp.DummyCookieJar())
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture(scope="session")
async def system(pg_dsn, amqp_url):
    from aiohttp.test_utils import TestClient, TestServer

    from shared.config import SERVICES, Settings
    from shared.runtime import Endpoints, Runtime

    settings = Settings(
        env="test",
        database_url=pg_dsn,
        amqp_url=amqp_url,
        secret_key="test-secret-" + RUN_ID,
        retry_delays=[0.2, 0.5],
        outbox_poll_interval=0.5,
        metrics_interval=0.5,
        log_format="console",
        shutdown_grace=5,
        # every test's requests come from 127.0.0.1: the per-address limits are tested on their own
        # (tests/integration/test_login_abuse.py), with distinct addresses
        captcha_per_minute=1_000_000,
        login_address_max_failures=1_000_000,
    )
    # console=True as `icp up`: the browser tests (tests/browser) open the web console on this server
    rt = Runtime(settings, Endpoints(pg_dsn, amqp_url), list(SERVICES), "all", console=True)
    root = await rt.start()
    client = TestClient(TestServer(root))
    await client.start_server()
    yield System(rt, client, settings)
    await client.close()
    await rt.stop()
