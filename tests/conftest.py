"""Shared fixtures: a throwaway PostgreSQL database and RabbitMQ vhost per test run.

Both are created on the local servers (127.0.0.1:5432, 127.0.0.1:5672) and removed
afterwards. A test that cannot reach them fails — it never skips.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import asyncpg
import pytest

PG_ADMIN = os.environ.get("ICP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("ICP_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
RUN_ID = uuid.uuid4().hex[:10]

os.environ.setdefault("ICP_ENV", "test")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


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


def close_vhost_connections(vhost: str) -> None:
    """Close every client connection of the vhost from the broker side."""
    _rabbitmqctl("close_all_connections", "--vhost", vhost, "test: broker closed connections")
