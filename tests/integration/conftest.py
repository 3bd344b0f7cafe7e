"""Fixtures shared by the integration tests (the `system` itself is in tests/conftest.py)."""

from __future__ import annotations

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
    assert {s: system.ctx(s).consumer.stats.dead for s in services} == before
