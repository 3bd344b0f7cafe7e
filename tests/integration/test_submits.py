"""Group commit of `POST /filings` (services/filing/entry/submits.py): batched submits answer exactly as
they would alone — every conflict refused on its own field, nothing half-written, one event,
audit trail and sponsor account per filing, each request's correlation id kept."""

from __future__ import annotations

import asyncio
import contextvars

from services.filing.entry import model as filing_model
from services.filing.entry.submits import SubmitBatcher
from shared import logs
from shared.auth import verify_password
from shared.filing_data import FilingData, subject_key
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import Tenant, new_tenant
from tests.password_checks import assert_generated_hashes


async def _submit(batcher: SubmitBatcher, who: Tenant, raw: dict, request_id: str):
    """One request's part: validate (as the handler does), then the batcher, in its own context."""

    async def call():
        logs.correlation_id.set(request_id)
        data = filing_model.validate_filing(FilingData.model_validate(raw), copy=False)
        return await batcher.submit(who.provider_id, who.operator_id, data)

    try:
        return await asyncio.get_running_loop().create_task(call(), context=contextvars.Context())
    except filing_model.FilingError as e:
        return e


async def test_a_batch_refuses_each_conflict_on_its_field_and_writes_the_rest(system: System, tenant: Tenant):
    ctx = system.ctx("filing")
    other = await new_tenant(system)
    filed = fs.filing()
    assert (await tenant.call("POST", "/filings", json=filed))[0] == 201

    bodies = [fs.filing() for _ in range(24)]
    owners = [tenant if i % 3 else other for i in range(24)]
    # planted conflicts: pairs inside the batch, and one against the filing already made
    bodies[5]["websites"][0] = fs.website(domain=bodies[4]["websites"][0]["domains"][0])
    bodies[9]["subject"]["cert_number"] = bodies[8]["subject"]["cert_number"]
    bodies[13]["subject"]["principal"]["mobile"] = bodies[12]["subject"]["principal"]["mobile"]
    bodies[17]["websites"][0] = fs.website(domain=filed["websites"][0]["domains"][0])

    # one writer: the first submit goes alone, the other 23 wait and are written as one batch
    batcher = SubmitBatcher(ctx.pool, ctx.outbox, writers=1, max_batch=32)
    results = await asyncio.gather(*(
        _submit(batcher, who, body, f"req-{i}") for i, (who, body) in enumerate(zip(owners, bodies, strict=True))
    ))
    assert batcher.batches >= 1 and batcher.batched >= 19, (batcher.batches, batcher.batched)

    refused = {i: r for i, r in enumerate(results) if isinstance(r, filing_model.FilingError)}
    detail = {i: (r.status, r.errors) for i, r in refused.items()}
    # of each planted pair exactly one is refused (which one: the order they are written in), on its field
    loser = {pair: [i for i in pair if i in refused] for pair in [(4, 5), (8, 9), (12, 13)]}
    assert all(len(v) == 1 for v in loser.values()) and 17 in refused and len(refused) == 4, detail
    (d,), (c,), (m,) = loser.values()
    assert refused[d].status == 409 and refused[d].errors[0]["field"] == "websites[0].domains[0]", detail
    assert refused[c].status == 409 and refused[c].errors[0]["field"] == "subject.cert_number", detail
    assert refused[m].status == 422 and refused[m].errors[0]["field"] == "subject.principal.mobile", detail
    assert refused[17].status == 409 and "正在办理中" in refused[17].errors[0]["message"], detail

    pool = ctx.pool
    for i, created in enumerate(results):
        if i in refused:  # nothing of it was written (its principal's mobile is its own, but for 12/13)
            n = await pool.fetchval("SELECT count(*) FROM subjects WHERE principal->>'mobile' = $1",
                                    bodies[i]["subject"]["principal"]["mobile"])
            assert n == (1 if i in (12, 13) else 0)
            continue
        who = owners[i]
        subject = await pool.fetchrow("SELECT * FROM subjects WHERE id = $1", created.subject_id)
        assert subject["provider_id"] == who.provider_id and subject["created_by"] == who.operator_id
        user = await pool.fetchrow("SELECT * FROM users WHERE id = $1", subject["sponsor_user_id"])
        assert user["username"] == created.sponsor_username
        assert created.sponsor_password and verify_password(user["password_hash"], created.sponsor_password)
        app = await pool.fetchrow("SELECT * FROM applications WHERE id = $1", created.application_id)
        assert (app["status"], app["type"], app["source"]) == ("PENDING_VERIFICATION", "FIRST_FILING", "entry")
        # the audit entries and the event carry this request's id, not a batch-mate's
        ids = {r["request_id"] for r in await pool.fetch("SELECT request_id FROM audit_log WHERE subject_id = $1",
                                                          created.subject_id)}
        assert ids == {f"req-{i}"}
        events = await pool.fetch(
            "SELECT body FROM outbox WHERE routing_key = 'filing.application.submitted' AND id = $1::uuid",
            created.event_id,
        )
        assert len(events) == 1 and f'"correlation_id":"req-{i}"' in bytes(events[0]["body"]).decode()
    written = [r for i, r in enumerate(results) if i not in refused]
    assert len({r.sponsor_username for r in written}) == len(written) == 20
    assert_generated_hashes([r["password_hash"] for r in await pool.fetch(
        "SELECT password_hash FROM users WHERE username = ANY($1::text[])", [r.sponsor_username for r in written])])


async def test_a_loser_only_to_a_refused_batch_mate_is_written(system: System, tenant: Tenant):
    """Item B conflicts only with item A of the same batch, and A is refused for another reason:
    alone, B would be accepted — so it is."""
    ctx = system.ctx("filing")
    filed = fs.filing()
    assert (await tenant.call("POST", "/filings", json=filed))[0] == 201
    first, a, b = fs.filing(), fs.filing(), fs.filing()
    a["subject"]["cert_number"] = filed["subject"]["cert_number"]  # refused: certificate in progress
    b["websites"][0] = fs.website(domain=a["websites"][0]["domains"][0])  # meets A in the batch
    batcher = SubmitBatcher(ctx.pool, ctx.outbox, writers=1, max_batch=32)
    r_first, r_a, r_b = await asyncio.gather(
        _submit(batcher, tenant, first, "req-first"), _submit(batcher, tenant, a, "req-a"),
        _submit(batcher, tenant, b, "req-b"),
    )
    assert isinstance(r_a, filing_model.FilingError) and r_a.errors[0]["field"] == "subject.cert_number"
    assert isinstance(r_b, filing_model.CreatedFiling) and isinstance(r_first, filing_model.CreatedFiling)
    assert await ctx.pool.fetchval("SELECT count(*) FROM domains WHERE ascii = $1",
                                   b["websites"][0]["domains"][0]) == 1
    # B was written alone by the writer of the first submit: its audit entries and event carry its own
    # request's id, not the writer's
    ids = {r["request_id"] for r in await ctx.pool.fetch("SELECT request_id FROM audit_log WHERE subject_id = $1",
                                                          r_b.subject_id)}
    assert ids == {"req-b"}, ids
    body = await ctx.pool.fetchval("SELECT body FROM outbox WHERE id = $1::uuid", r_b.event_id)
    assert '"correlation_id":"req-b"' in bytes(body).decode()


async def test_concurrent_api_submits_are_each_answered_with_their_own_credentials(system: System, tenant: Tenant):
    bodies = [fs.filing() for _ in range(30)]
    results = await asyncio.gather(*(tenant.call("POST", "/filings", json=b) for b in bodies))
    assert [s for s, _ in results] == [201] * 30, [b for s, b in results if s != 201][:2]
    pool = system.ctx("filing").pool
    hashes = []
    for body, (_s, answer) in zip(bodies, results, strict=True):
        row = await pool.fetchrow(
            """SELECT s.name, u.username, u.password_hash FROM subjects s JOIN users u ON u.id = s.sponsor_user_id
               WHERE s.id = $1""", answer["subject_id"])
        assert row["name"] == body["subject"]["name"] == answer["sponsor_name"]
        assert row["username"] == answer["username"] and verify_password(row["password_hash"], answer["password"])
        hashes.append(row["password_hash"])
    assert_generated_hashes(hashes)


async def test_a_submit_written_alone_respects_import_reservations_and_the_blacklist_in_its_one_statement(
    system: System, tenant: Tenant,
):
    """The single-filing statement (a submit that finds a free writer) refuses keys reserved by a file
    being imported, each on its field, as the batch path does; a blacklisted domain is refused on its
    own, ahead of any other conflict; nothing is written either time."""
    from services.filing import reservations

    ctx = system.ctx("filing")
    data = fs.filing()
    dom = data["websites"][0]["domains"][0]
    mobile = data["subject"]["principal"]["mobile"]
    async with ctx.pool.acquire() as conn:
        await reservations.reserve(conn, [("domain", dom), ("mobile", mobile)], job_id="job-x", chunk_no=1,
                                   provider_id="p-other", seconds=600)
    try:
        status, out = await tenant.call("POST", "/filings", json=data)
        assert status == 409, out
        assert {e["field"] for e in out["errors"]} == {"websites[0].domains[0]", "subject.principal.mobile"}, out
        assert all("正在导入的另一个文件" in e["message"] for e in out["errors"]), out
        # a blacklisted domain besides: the blacklist alone is the answer
        await ctx.pool.execute(
            "INSERT INTO blacklist (entry_id, kind, cert_digest, domains, reason, active, changed_at)"
            " VALUES (gen_random_uuid(), 'WEBSITE', '', $1, '涉诈', true, now())", [dom])
        status, out = await tenant.call("POST", "/filings", json=data)
        assert status == 422 and [e["field"] for e in out["errors"]] == ["websites[0].domains[0]"], out
        assert "黑名单" in out["errors"][0]["message"] and "涉诈" in out["errors"][0]["message"], out
        await ctx.pool.execute("DELETE FROM blacklist WHERE $1 = ANY(domains)", dom)
    finally:
        async with ctx.pool.acquire() as conn:
            await reservations.release(conn, "job-x")
    assert await ctx.pool.fetchval("SELECT count(*) FROM domains WHERE ascii = $1", dom) == 0
    status, out = await tenant.call("POST", "/filings", json=data)  # released: it goes through
    assert status == 201, out


async def test_a_batch_refuses_blacklisted_and_reserved_items_in_its_one_statement_and_writes_nothing_of_them(
    system: System, tenant: Tenant,
):
    """The batch's one statement (rules and inserts together, no transaction) refuses a blacklisted
    certificate (known by its digest only), a blacklisted domain and a key reserved by a file being
    imported, each on its field; nothing of those items is written (the inserts are gated on the rules:
    none of them would meet a unique index), the others are."""
    from services.filing import reservations
    from shared.blacklist import cert_digest

    ctx = system.ctx("filing")
    bodies = [fs.filing() for _ in range(6)]
    listed_domain = bodies[3]["websites"][0]["domains"][0]
    reserved_mobile = bodies[4]["subject"]["principal"]["mobile"]
    family, number = subject_key(filing_model.validate_filing(FilingData.model_validate(bodies[2])).subject)
    await ctx.pool.execute(
        "INSERT INTO blacklist (entry_id, kind, cert_digest, domains, reason, active, changed_at)"
        " VALUES (gen_random_uuid(), 'SUBJECT', $1, '{}', '虚假证件', true, now()),"
        "        (gen_random_uuid(), 'WEBSITE', '', $2, '涉诈', true, now())",
        cert_digest(family, number), [listed_domain])
    async with ctx.pool.acquire() as conn:
        await reservations.reserve(conn, [("mobile", reserved_mobile)], job_id="job-b", chunk_no=1,
                                   provider_id="p-other", seconds=600)
    try:
        # one writer: the first submit goes alone, the other five wait and are written as one batch
        batcher = SubmitBatcher(ctx.pool, ctx.outbox, writers=1, max_batch=32)
        results = await asyncio.gather(*(_submit(batcher, tenant, b, f"req-{i}") for i, b in enumerate(bodies)))
    finally:
        async with ctx.pool.acquire() as conn:
            await reservations.release(conn, "job-b")
    assert batcher.batches >= 1, batcher.batches
    refused = {i: r for i, r in enumerate(results) if isinstance(r, filing_model.FilingError)}
    detail = {i: (r.status, r.errors) for i, r in refused.items()}
    assert set(refused) == {2, 3, 4}, detail
    assert refused[2].errors[0]["field"] == "subject.cert_number" and "虚假证件" in refused[2].errors[0]["message"]
    assert refused[3].errors[0]["field"] == "websites[0].domains[0]" and "涉诈" in refused[3].errors[0]["message"]
    assert refused[4].status == 409 and refused[4].errors[0]["field"] == "subject.principal.mobile", detail
    assert "正在导入的另一个文件" in refused[4].errors[0]["message"], detail
    for i, body in enumerate(bodies):
        n = await ctx.pool.fetchval("SELECT count(*) FROM domains WHERE ascii = $1", body["websites"][0]["domains"][0])
        assert n == (0 if i in refused else 1), (i, n)


async def test_with_a_linger_the_submits_arriving_meanwhile_are_one_batch(system: System, tenant: Tenant):
    """ICP_SUBMIT_LINGER: under a steady flow a free writer waits for more submits, and those arriving
    meanwhile start no writer of their own — they are its batch (one write), each answered with its own
    filing. A submit after a pause (none within the linger before it) is written at once, alone."""
    ctx = system.ctx("filing")
    batcher = SubmitBatcher(ctx.pool, ctx.outbox, writers=3, max_batch=32, linger=0.3)
    bodies = [fs.filing() for _ in range(7)]
    loop = asyncio.get_running_loop()
    answered: dict[int, float] = {}

    async def later(i: int, body: dict):
        await asyncio.sleep(0.03 * i)  # one after the other, well within the linger
        r = await _submit(batcher, tenant, body, f"req-{i}")
        answered[i] = loop.time()
        return r

    started = loop.time()
    results = await asyncio.gather(*(later(i, b) for i, b in enumerate(bodies)))
    assert all(isinstance(r, filing_model.CreatedFiling) for r in results), results
    # the first came after a pause: written alone, at once; the six after it: one batch
    assert answered[0] - started < 0.2, answered[0] - started
    assert (batcher.batches, batcher.batched) == (1, 6), (batcher.batches, batcher.batched)
    for i, r in enumerate(results):
        ids = {x["request_id"] for x in await ctx.pool.fetch(
            "SELECT request_id FROM audit_log WHERE subject_id = $1", r.subject_id)}
        assert ids == {f"req-{i}"}, (i, ids)

