"""Recovery after a real RabbitMQ restart (`rabbitmqctl stop_app` / `start_app`).

Named to run last: it restarts the broker the whole test run shares, then waits until
every service of the `system` fixture is ready again.
"""

from __future__ import annotations

import asyncio
import functools
import uuid

from shared.config import SERVICES
from shared.contracts.detection import SiteDetected
from shared.db import transaction
from tests.conftest import System, _rabbitmqctl

rabbitmqctl = functools.partial(_rabbitmqctl, timeout=120)


async def test_events_written_while_the_broker_is_down_arrive_once_after_it_restarts(system: System):
    det = system.ctx("detection")
    domains = [f"restart-{uuid.uuid4().hex[:8]}-{i}.cn" for i in range(50)]

    async def write(batch: list[str]) -> None:
        async with transaction(det.pool) as conn:
            for d in batch:
                await det.outbox.add(conn, SiteDetected(domain=d, detected_at="2026-11-01T00:00:00Z", source="restart"))

    async def recorded(n: int):
        return n == await det.pool.fetchval(
            "SELECT count(*) FROM detections WHERE domain = ANY($1::text[]) AND sightings = 1", domains)

    await write(domains[:10])
    await system.eventually(lambda: recorded(10))  # delivered before the restart
    await asyncio.to_thread(rabbitmqctl, "stop_app")
    try:
        await write(domains[10:])  # written while the broker is down: they wait in the outbox
        pending = await det.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert pending >= 1
    finally:
        await asyncio.to_thread(rabbitmqctl, "start_app")
        await asyncio.to_thread(rabbitmqctl, "await_startup")

    await system.eventually(lambda: recorded(len(domains)), limit=120, interval=0.5)

    async def ready():
        for service in SERVICES:
            r = await system.client.get(f"/api/{service}/readyz")
            if r.status != 200:
                return False
        return True

    await system.eventually(ready, limit=60, interval=0.5)
    assert await det.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
