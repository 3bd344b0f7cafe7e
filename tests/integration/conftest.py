"""Fixtures shared by the integration tests (the `system` itself is in tests/conftest.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import System
from tests.integration.filing_helpers import Tenant, new_tenant


@pytest.fixture
async def tenant(system: System) -> Tenant:
    """A new provider with one operator."""
    return await new_tenant(system)


@pytest.fixture
async def no_dead_letters(system: System):
    """Every outcome and submission of the test is handled: none dead-lettered."""
    services = ("filing", "verification")
    before = {s: system.ctx(s).consumer.stats.dead for s in services}
    yield
    # what the test's last requests published is still on its way: wait until nothing is left in the
    # outboxes and the consumers have been idle for a moment, so a late dead letter is this test's
    quiet = {"since": None, "handled": None}

    async def settled() -> bool:
        for s in services:
            if await system.ctx(s).pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                return False
        handled = tuple(system.ctx(s).consumer.stats.handled + system.ctx(s).consumer.stats.dead for s in services)
        now = asyncio.get_running_loop().time()
        if handled != quiet["handled"]:
            quiet.update(since=now, handled=handled)
        return now - quiet["since"] >= 0.3

    await system.eventually(settled, limit=30)
    assert {s: system.ctx(s).consumer.stats.dead for s in services} == before
