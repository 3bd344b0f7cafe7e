"""Verification opens the cases of a run of `filing.application.submitted` in one statement
(`handlers.on_applications_submitted`, `store.OPEN_CASES_SQL`): every case exactly as the
message-by-message handler opens it, and every other kind of message in the run (a repeated
version, a reopening, a withdrawn version, the same application twice) answered as before."""

from __future__ import annotations

import datetime as dt

from services.verification import handlers
from shared.contracts.filing import ApplicationSubmitted
from shared.db import transaction
from tests.conftest import System
from tests.integration.test_verification import application, case_of, submit, uid


async def _publish(system: System, apps: list[ApplicationSubmitted], tenants: list[str] | None = None) -> list:
    """Write the events into filing's outbox in one transaction (the relay publishes them together);
    their message ids."""
    filing = system.ctx("filing")
    async with transaction(filing.pool) as conn:
        return [(await filing.outbox.add(conn, a, provider_id=t)).id
                for a, t in zip(apps, tenants or [a.provider_id for a in apps], strict=True)]


async def _handled(system: System, ids: list) -> None:
    """Wait until verification's inbox holds every one of these message ids."""
    pool = system.ctx("verification").pool

    async def done():
        return await pool.fetchval("SELECT count(*) FROM inbox WHERE message_id = ANY($1::uuid[])", ids) == len(ids)

    await system.eventually(done)


async def _run_sizes(system: System):
    """Wrap the registered batch handler to record the size of each run it gets."""
    table = system.ctx("verification").consumer.handlers
    sizes: list[int] = []

    async def spy(items):
        sizes.append(len(items))
        await handlers.on_applications_submitted(items)

    table.on_many(ApplicationSubmitted)(spy)
    return table, sizes


async def test_a_run_of_submissions_opens_each_case_as_one_by_one(system: System):
    vctx = system.ctx("verification")
    pool = vctx.pool
    pid = uid("p")
    existing, reopened = application(pid), application(pid)
    await submit(system, existing, reopened)
    await case_of(system, existing)
    await case_of(system, reopened)
    tombstoned = application(pid)
    await pool.execute(
        "INSERT INTO withdrawals (application_id, provider_id, version, reason, withdrawn_at) VALUES ($1, $2, 1, 'x', now())",
        tombstoned.application_id, pid,
    )
    fresh = [application(pid) for _ in range(12)]
    twice = application(pid)
    again = existing.model_copy()  # the same version under a new message id
    v2 = reopened.model_copy(update={"version": 2, "submitted_at": dt.datetime.now(dt.UTC)})
    run = [*fresh[:6], again, twice, tombstoned, twice, v2, *fresh[6:]]

    table, sizes = await _run_sizes(system)
    try:
        await _handled(system, await _publish(system, run))
    finally:
        table.on_many(ApplicationSubmitted)(handlers.on_applications_submitted)
    assert sizes and max(sizes) > 1, sizes  # the run went through the batch handler

    for app in fresh + [twice]:
        case = await pool.fetchrow("SELECT * FROM cases WHERE application_id = $1", app.application_id)
        assert (case["status"], case["version"], case["provider_id"]) == ("PENDING_VERIFICATION", 1, pid)
        assert case["domains"] == [d for w in app.websites for d in w.domains]
        assert case["province_code"] == "BJ" and case["first_submitted_at"] == case["submitted_at"]
        versions = await pool.fetch("SELECT version, message_id FROM case_versions WHERE case_id = $1", case["id"])
        assert [v["version"] for v in versions] == [1] and versions[0]["message_id"] is not None
        history = await pool.fetch("SELECT action, status_to, actor_id FROM case_history WHERE case_id = $1", case["id"])
        assert [(h["action"], h["status_to"], h["actor_id"]) for h in history] == [
            ("SUBMITTED", "PENDING_VERIFICATION", app.submitted_by)]
    # the repeated version changed nothing; the withdrawn version opened nothing; v2 reopened its case
    case = await pool.fetchrow("SELECT * FROM cases WHERE application_id = $1", existing.application_id)
    assert case["version"] == 1
    assert await pool.fetchval("SELECT count(*) FROM case_versions WHERE case_id = $1", case["id"]) == 1
    assert await pool.fetchval("SELECT count(*) FROM cases WHERE application_id = $1", tombstoned.application_id) == 0
    case = await pool.fetchrow("SELECT * FROM cases WHERE application_id = $1", reopened.application_id)
    assert case["version"] == 2
    assert [r["action"] for r in await pool.fetch(
        "SELECT action FROM case_history WHERE case_id = $1 ORDER BY at, id", case["id"])] == ["SUBMITTED", "RESUBMITTED"]


async def test_a_message_the_run_cannot_take_is_settled_alone(system: System):
    """A message of another tenant than its envelope says: the batch handler refuses the run, the
    consumer redoes it one by one — that message is dead-lettered, the others open their cases."""
    pid = uid("p")
    good = [application(pid) for _ in range(6)]
    forged = application(pid)
    vctx = system.ctx("verification")
    dead_before = vctx.consumer.stats.dead
    table, sizes = await _run_sizes(system)
    try:
        run = good[:3] + [forged] + good[3:]
        ids = await _publish(system, run, [pid, pid, pid, uid("other"), pid, pid, pid])  # envelope ≠ payload tenant
        await _handled(system, [i for i, a in zip(ids, run, strict=True) if a is not forged])
        await system.eventually(lambda: _ge(vctx.consumer.stats.dead, dead_before + 1))
    finally:
        table.on_many(ApplicationSubmitted)(handlers.on_applications_submitted)
    assert sizes and max(sizes) > 1, sizes  # the run reached the batch handler, which refused it
    pool = system.ctx("verification").pool
    assert await pool.fetchval("SELECT count(*) FROM cases WHERE application_id = $1", forged.application_id) == 0
    assert await pool.fetchval("SELECT count(*) FROM cases WHERE provider_id = $1", pid) == 6
    assert await pool.fetchval(
        "SELECT count(*) FROM case_versions v JOIN cases c ON c.id = v.case_id WHERE c.provider_id = $1", pid) == 6


async def _ge(value, minimum) -> bool:
    return value >= minimum
