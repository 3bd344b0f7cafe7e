"""Reporting read model end to end: entry → verification → approval over the real services,
RabbitMQ and PostgreSQL, then what each reporting page shows; changes, a cancelled access and a
cancellation; scoping (provider / bureau / admin); rebuild from the event log; disorder."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.reporting import handlers, projection
from services.reporting.rebuild import rebuild
from shared.bus import HandlerTable, MessageContext
from shared.contracts import Envelope, spec_of
from shared.contracts.filing import (
    AccessState,
    ApplicationSubmitted,
    FiledRecordChanged,
    FiledWebsite,
    PrincipalSnapshot,
    SubjectSnapshot,
    WebsiteSnapshot,
)
from shared.contracts.verification import ApplicationApproved, ApplicationStatusChanged
from shared.ids import uuid7
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import apply_cancellation, approve, bureau, filed, reject
from tests.integration.filing_helpers import Tenant, new_tenant
from tests.integration.reporting_helpers import dump, rget, until, website_nos


async def test_entry_to_approval_visible_in_progress_filings_and_detail(system: System, tenant: Tenant):
    data = fs.filing(2)
    data["subject"]["name"] = f"报表测试{uuid.uuid4().hex[:6]}科技有限公司"
    status, done = await tenant.call("POST", "/filings", json=data)
    assert status == 201, done
    app_id = done["application_id"]
    h = tenant.headers
    # submitted: 审核中
    body = await until(system, "/progress", h, lambda b: b["total"] == 1, {"sponsor_name": data["subject"]["name"]})
    item = body["items"][0]
    assert item["application_id"] == app_id and item["progress_name"] == "审核中" and item["type_name"] == "首次备案"
    assert set(item["domains"]) == {w["domains"][0] for w in data["websites"]}
    out = await approve(tenant, app_id)
    nos = {w["website_no"] for w in out["website_numbers"]}
    detail = await until(system, f"/progress/{app_id}", h, lambda b: b["progress"] == "APPROVED")
    assert detail["progress_name"] == "已通过" and detail["decided_at"]
    assert [x["status"] for x in detail["history"]] == ["PENDING_VERIFICATION", "SUBMITTED_TO_BUREAU", "APPROVED"]

    # filing information: the numbered websites, with combinable conditions
    name = data["subject"]["name"]
    listed = await until(system, "/filings", h, lambda b: b["total"] == 2, {"sponsor_name": name[2:10]})
    assert website_nos(listed) == nos, listed
    row = listed["items"][0]
    assert row["nature_name"] == "企业" and row["province_name"] == "北京市" and row["filing_method_name"] == "代为备案"
    assert row["status_name"] == "正常" and row["access_method_names"] == ["云接入"]
    one = data["websites"][1]["domains"][0]
    got = await rget(system, "/filings", h, {"domain": one})
    assert [i["domains"] for i in got["items"]] == [[one]]
    both = {"sponsor_name": name, "ip": "203.0.113.15", "province": "BJ", "nature": "ENTERPRISE",
            "access_method": "CLOUD", "server_location": "BJ", "language": "ZH_HANS", "service_content": "ORG_PORTAL",
            "principal_name": "张三", "approved_from": datetime.now(UTC).date().isoformat()}
    assert website_nos(await rget(system, "/filings", h, both)) == nos
    for miss in ({"ip": "203.0.113.21"}, {"province": "SH"}, {"access_method": "COLOCATION"},
                 {"approved_to": "2000-01-01"}, {"status": "CANCELLED"}, {"principal_name": "李四"}):
        assert (await rget(system, "/filings", h, {"sponsor_name": name, **miss}))["total"] == 0, miss
    by_no = await rget(system, "/filings", h, {"number": out["subject_no"]})
    assert website_nos(by_no) == nos

    # detail: everything filed, ID numbers masked
    wid = row["website_id"]
    d = await rget(system, f"/filings/{wid}", h)
    full_id = data["subject"]["principal"]["id_number"]
    assert d["subject"]["subject_no"] == out["subject_no"] and d["subject"]["name"] == name
    assert d["subject"]["principal"]["id_number_masked"] != full_id and "*" in d["subject"]["principal"]["id_number_masked"]
    assert full_id not in str(d)
    assert {w["website_no"] for w in d["websites"]} == nos and d["filing_method_name"] == "代为备案"
    acc = d["websites"][0]["accesses"][0]
    assert acc["ip_ranges"] == ["203.0.113.10-203.0.113.20"] and acc["provider_id"] == tenant.provider_id
    assert acc["provider_name"].startswith("测试接入商")

    # scope: another provider and another province see nothing, the bureau and the admin see it
    other = await new_tenant(system)
    assert (await rget(system, "/filings", other.headers, {"sponsor_name": name}))["total"] == 0
    assert (await rget(system, "/progress", other.headers, {"sponsor_name": name}))["total"] == 0
    await rget(system, f"/filings/{wid}", other.headers, expect=404)
    await rget(system, f"/progress/{app_id}", other.headers, expect=404)
    assert (await rget(system, "/filings", bureau(system, "SH"), {"sponsor_name": name}))["total"] == 0
    await rget(system, f"/filings/{wid}", bureau(system, "SH"), expect=404)
    assert (await rget(system, "/progress", bureau(system, "SH"), {"sponsor_name": name}))["total"] == 0
    assert website_nos(await rget(system, "/filings", bureau(system, "BJ"), {"sponsor_name": name})) == nos
    assert website_nos(await rget(system, "/filings", system.auth("admin"), {"sponsor_name": name})) == nos
    assert (await rget(system, "/progress", bureau(system, "BJ"), {"sponsor_name": name}))["total"] == 1
    await rget(system, "/filings", system.auth("sponsor", user_id="s1"), expect=403)
    await rget(system, "/filings", {}, expect=401)


async def test_rejection_shows_the_reason_and_bad_conditions_are_refused(system: System, tenant: Tenant):
    data = fs.filing()
    status, done = await tenant.call("POST", "/filings", json=data)
    assert status == 201
    await reject(tenant, done["application_id"], "网站名称不符合规范")
    body = await until(system, f"/progress/{done['application_id']}", tenant.headers,
                       lambda b: b["progress"] == "REJECTED")
    assert body["progress_name"] == "已驳回" and body["reason"] == "网站名称不符合规范"
    listed = await rget(system, "/progress", tenant.headers, {"progress": "REJECTED"})
    assert done["application_id"] in {i["application_id"] for i in listed["items"]}
    listed = await rget(system, "/progress", tenant.headers, {"progress": "APPROVED"})
    assert done["application_id"] not in {i["application_id"] for i in listed["items"]}
    for bad, field in (({"ip": "300.1.1.1"}, "ip"), ({"province": "XX"}, "province"), ({"nature": "NOPE"}, "nature"),
                       ({"page_size": "1000"}, "page_size"), ({"approved_from": "yesterday"}, "approved_from")):
        status, problem = await rget(system, "/filings", tenant.headers, bad, expect=None)
        assert status == 422 and problem["errors"][0]["field"] == field, problem
    await rget(system, "/filings/not-a-uuid", tenant.headers, expect=404)


async def test_change_cancelled_access_and_cancellation_change_what_the_pages_show(system: System, tenant: Tenant):
    f = await filed(tenant, websites=2)
    w1, w2 = f["website_ids"]
    no1, no2 = f["website_nos"]
    h, bj = tenant.headers, bureau(system, "BJ")
    await until(system, "/filings", h, lambda b: b["total"] == 2, {"number": f["subject_no"]})

    # a change of the website's name, approved
    site = f["data"]["websites"][0]
    change = {k: site[k] for k in ("name", "domains", "home_urls", "service_content", "preapprovals", "languages",
                                   "principal_same_as_subject")}
    change["name"] = "报表变更后的网站"
    status, created = await tenant.call("POST", f"/websites/{w1}/changes", json={"website": change})
    assert status == 201, created
    await approve(tenant, created["application_id"])
    await until(system, "/filings", h, lambda b: b["total"] == 1 and b["items"][0]["website_no"] == no1,
                {"website_name": "报表变更后"})
    progress = await rget(system, f"/progress/{created['application_id']}", h)
    assert progress["type_name"] == "变更网站" and progress["progress_name"] == "已通过"

    # 取消接入: gone from the provider's pages, a shell website for the bureau
    status, _ = await tenant.call("DELETE", f"/websites/{w1}/accesses/current")
    assert status == 200
    await until(system, "/filings", h, lambda b: website_nos(b) == {no2}, {"number": f["subject_no"]})
    await rget(system, f"/filings/{w1}", h, expect=404)
    seen = await rget(system, "/filings", bj, {"number": no1})
    assert seen["items"][0]["status"] == "NO_ACCESS" and seen["items"][0]["access_method_names"] == []
    assert (await rget(system, "/filings", bj, {"number": no1, "ip": "203.0.113.15"}))["total"] == 0

    # 注销网站: cancelled, listed only when asked for
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_no=no2)
    await approve(tenant, c["application_id"])
    await until(system, "/filings", bj, lambda b: b["total"] == 1, {"number": no2, "status": "CANCELLED"})
    gone = await rget(system, "/filings", bj, {"number": no2, "status": "CANCELLED"})
    assert gone["items"][0]["cancelled_at"] is not None
    assert (await rget(system, "/filings", h, {"number": f["subject_no"]}))["total"] == 0
    assert (await rget(system, "/filings", bj, {"number": f["subject_no"]}))["total"] == 1  # the shell one


def _state(subject_id: str, website_id: str, seq: int, name: str, status: str = "ACTIVE") -> FiledRecordChanged:
    p = PrincipalSnapshot(name="王五", id_type="RESIDENT_ID", id_number_masked="110105********0011", mobile="13800000000")
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return FiledRecordChanged(
        subject_id=subject_id, seq=seq, provider_id="p-x", subject_no="京ICP备2026999999号", name=name,
        status="ACTIVE", province="110000", cert_type="BIZ_LICENSE", cert_digest="d",
        cert_number_masked="91110000000000000X",
        subject=SubjectSnapshot(subject_id=subject_id, subject_no="京ICP备2026999999号", nature="ENTERPRISE",
                                cert_type="BIZ_LICENSE", cert_number="91110000000000000X", name=name,
                                province="110000", principal=p),
        approved_at=at,
        websites=[FiledWebsite(
            website_id=website_id, website_no="京ICP备2026999999号-1", name=name, domains=["disorder.example.com"],
            service_content=["OTHER"], languages=["ZH_HANS"], principal=p, status=status, approved_at=at,
            accesses=[AccessState(provider_id="p-x", access_methods=["CLOUD"], ip_ranges=["10.0.0.1-10.0.0.9"],
                                  server_locations=["BJ"], status="ACTIVE")])],
        changed_at=at + timedelta(days=seq), cause="TEST",
    )


async def test_duplicates_and_disorder_per_entity_do_not_corrupt(system: System):
    pool = system.ctx("reporting").pool
    sid, wid = str(uuid.uuid4()), str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        # states: the newest first, then an older one, then the newest again
        for version, name, status in ((3, "第三版", "ACTIVE"), (2, "第二版", "CANCELLED"), (3, "第三版", "ACTIVE")):
            await projection.apply(conn, uuid.uuid4(), _state(sid, wid, version, name, status=status))
            rows = await conn.fetch("SELECT name, status, state_version FROM websites WHERE subject_id = $1",
                                    uuid.UUID(sid))
            assert [tuple(r) for r in rows] == [("第三版", "ACTIVE", 3)]
        assert await conn.fetchval("SELECT count(*) FROM website_ips WHERE website_id = $1", uuid.UUID(wid)) == 1

        # an application's approval before its submission, and a late intermediate status
        app_id = str(uuid.uuid4())
        t0 = datetime(2026, 3, 1, tzinfo=UTC)
        approved = ApplicationApproved(application_id=app_id, version=1, case_id="c", provider_id="p-x",
                                       subject_id=sid, approved_at=t0 + timedelta(hours=2), approved_by="bj")
        late = ApplicationStatusChanged(application_id=app_id, version=1, case_id="c", provider_id="p-x",
                                        status="SUBMITTED_TO_BUREAU", changed_at=t0 + timedelta(hours=1),
                                        changed_by="op")
        submitted = ApplicationSubmitted(
            application_id=app_id, type="FIRST_FILING", provider_id="p-x", province="110000",
            subject=_state(sid, wid, 1, "乱序").subject, websites=[], submitted_at=t0, submitted_by="op")
        for event in (approved, late, submitted):
            await projection.apply(conn, uuid.uuid4(), event)
        row = await conn.fetchrow("SELECT status, decided_at FROM applications WHERE application_id = $1",
                                  uuid.UUID(app_id))
        assert row["status"] == "APPROVED" and row["decided_at"] == t0 + timedelta(hours=2)
        # leave nothing of these made-up entities behind
        await conn.execute("DELETE FROM websites WHERE subject_id = $1", uuid.UUID(sid))
        await conn.execute("DELETE FROM website_ips WHERE website_id = $1", uuid.UUID(wid))
        await conn.execute("DELETE FROM subjects WHERE subject_id = $1", uuid.UUID(sid))
        await conn.execute("DELETE FROM application_history WHERE application_id = $1", uuid.UUID(app_id))
        await conn.execute("DELETE FROM applications WHERE application_id = $1", uuid.UUID(app_id))


async def test_rebuild_from_the_event_log_gives_identical_tables(system: System, tenant: Tenant):
    f = await filed(tenant, websites=2)
    status, _ = await tenant.call("DELETE", f"/websites/{f['website_ids'][0]}/accesses/current")
    assert status == 200
    data = fs.filing()
    status, done = await tenant.call("POST", "/filings", json=data)
    await reject(tenant, done["application_id"], "材料不全")
    await until(system, "/filings", bureau(system), lambda b: b["items"] and b["items"][0]["status"] == "NO_ACCESS",
                {"number": f["website_nos"][0]})
    await until(system, f"/progress/{done['application_id']}", tenant.headers, lambda b: b["progress"] == "REJECTED")
    pool = system.ctx("reporting").pool
    async with pool.acquire() as conn, conn.transaction():
        # no event is applied meanwhile: live consumers wait for the lock (as during a real rebuild)
        await conn.execute("LOCK TABLE event_log IN SHARE MODE")
        before = await dump(conn, projection.QUERY_TABLES)
        assert any(f["website_nos"][0] in r for r in before["websites"])
        await conn.execute("TRUNCATE websites, website_ips")
        assert (await dump(conn, ["websites"]))["websites"] == []
        events = await rebuild(conn)
        after = await dump(conn, projection.QUERY_TABLES)
    assert events > 0
    assert after == before


def _submitted(app_id: str, version: int, at: datetime, names: list[str], pre: str = "NONE") -> ApplicationSubmitted:
    p = PrincipalSnapshot(name="王五", id_type="RESIDENT_ID", id_number_masked="110105********0011", mobile="13800000000")
    sid = str(uuid.uuid5(uuid.NAMESPACE_URL, app_id))
    return ApplicationSubmitted(
        application_id=app_id, version=version, type="FIRST_FILING", provider_id="p-run", province="110000",
        subject=SubjectSnapshot(subject_id=sid, nature="ENTERPRISE", cert_type="BIZ_LICENSE",
                                cert_number="91110000000000000X", name=f"主体{version}", province="110000", principal=p),
        websites=[WebsiteSnapshot(website_id=str(uuid.uuid4()), name=n, domains=[f"{n}-{version}.example.com"],
                                  home_urls=[], service_content=["OTHER"], languages=["ZH_HANS"], principal=p,
                                  preapprovals=[{"type": pre, "approval_no": ""}]) for n in names],
        submitted_at=at, submitted_by="op")


async def test_a_run_of_submitted_events_written_set_based_equals_applying_them_one_by_one(system: System):
    """The consumer's batch handler of `filing.application.submitted` (two statements per run) leaves
    the same log, history and applications rows as `log_event` + `apply` per event, in order: new
    applications, one already approved (disorder), an older version after a newer one, and a run
    where an application comes twice (then one by one)."""

    t0 = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
    a, b, c, d = (str(uuid.uuid4()) for _ in range(4))
    before = [  # already applied when the run arrives
        ApplicationApproved(application_id=b, version=1, case_id="c", provider_id="p-run", subject_id=a,
                            approved_at=t0 + timedelta(hours=2), approved_by="bj"),
        _submitted(c, 2, t0 + timedelta(days=1), ["新版"]),
    ]
    runs = [
        [_submitted(a, 1, t0, ["甲", "乙"], pre="NEWS"), _submitted(b, 1, t0, ["丙"]),
         _submitted(c, 1, t0 - timedelta(days=1), ["旧版"])],
        [_submitted(d, 1, t0, ["丁"]), _submitted(d, 2, t0 + timedelta(hours=1), ["丁二"])],
    ]
    ids = [uuid.UUID(x) for x in (a, b, c, d)]

    def env(p) -> Envelope:
        return Envelope(type=spec_of(p).type, producer="test", provider_id="p-run",
                        payload=p.model_dump(mode="json"))

    async def rows(conn, envs) -> dict:
        return {
            "applications": [dict(r) for r in await conn.fetch(
                "SELECT * FROM applications WHERE application_id = ANY($1) ORDER BY application_id", ids)],
            "history": [tuple(r) for r in await conn.fetch(
                "SELECT * FROM application_history WHERE application_id = ANY($1) ORDER BY message_id", ids)],
            "log": [tuple(r) for r in await conn.fetch(  # in the order of seq (the rebuild's)
                "SELECT message_id, type, provider_id, occurred_at, payload FROM event_log"
                " WHERE message_id = ANY($1) ORDER BY seq", [e.id for e in envs])],
        }

    envs = [[env(p) for p in run] for run in runs]
    before_ids = [uuid.uuid4() for _ in before]
    pool = system.ctx("reporting").pool
    async with pool.acquire() as conn:
        found = {}
        for way in ("one by one", "run"):
            tr = conn.transaction()
            await tr.start()
            try:
                for p, message_id in zip(before, before_ids, strict=True):
                    await projection.apply(conn, message_id, p)
                for run, run_envs in zip(runs, envs, strict=True):
                    if way == "run":
                        await handlers.on_submitted_run(
                            [(p, MessageContext(e, conn, None)) for p, e in zip(run, run_envs, strict=True)])
                    else:
                        for p, e in zip(run, run_envs, strict=True):
                            await projection.log_event(conn, e)
                            await projection.apply(conn, e.id, p)
                found[way] = await rows(conn, [e for run_envs in envs for e in run_envs])
            finally:
                await tr.rollback()  # leave nothing of these made-up applications behind
    assert found["run"] == found["one by one"]
    apps = {str(r["application_id"]): r for r in found["run"]["applications"]}
    assert len(apps) == 4 and len(found["run"]["log"]) == 5 and len(found["run"]["history"]) == 7
    assert apps[a]["needs_preapproval"] and apps[a]["domains"] == ["甲-1.example.com", "乙-1.example.com"]
    assert apps[b]["status"] == "APPROVED"  # its approval came first
    assert (apps[c]["version"], apps[c]["website_names"], apps[c]["submitted_at"]) == (2, ["新版"], t0 - timedelta(days=1))
    assert (apps[d]["version"], apps[d]["website_names"]) == (2, ["丁二"])


@pytest.mark.parametrize("first", ["submitted", "approved"])
async def test_an_applications_events_in_concurrent_transactions_miss_nothing(system: System, first: str):
    """The consumer applies two batches at once: an application's submission and its approval in two open
    transactions, through the live handlers after the consumer's `before` (`handlers.lock_batch`). Whichever
    commits first, the application ends APPROVED (the lock: without it, the approval's refresh found no
    application row and the submission's found no approval, and the read model kept 审核中 until a rebuild;
    seen in a full run)."""
    app_id, sid, wid = str(uuid7()), str(uuid.uuid4()), str(uuid.uuid4())
    t0 = datetime.now(UTC)
    submitted = ApplicationSubmitted(
        application_id=app_id, type="FIRST_FILING", provider_id="p-race", province="110000",
        subject=_state(sid, wid, 1, "并发").subject, websites=[], submitted_at=t0, submitted_by="op")
    approved = ApplicationApproved(application_id=app_id, version=1, case_id="c", provider_id="p-race",
                                   subject_id=sid, approved_at=t0 + timedelta(seconds=1), approved_by="bj")

    def context(p, conn) -> MessageContext:
        return MessageContext(Envelope(type=spec_of(p).type, producer="test", provider_id="p-race",
                                       payload=p.model_dump(mode="json")), conn, None)

    async def submit(conn):  # a delivery batch's run, as the consumer hands it over (its `before` first)
        await handlers.lock_batch(conn, [submitted])
        await handlers.on_submitted_run([(submitted, context(submitted, conn))])

    async def approve(conn):
        await handlers.lock_batch(conn, [approved])
        await handlers.on_event(approved, context(approved, conn))

    steps = {"submitted": submit, "approved": approve}
    second = "approved" if first == "submitted" else "submitted"
    pool = system.ctx("reporting").pool
    async with pool.acquire() as c1, pool.acquire() as c2:
        tr1 = c1.transaction()
        await tr1.start()
        await steps[first](c1)

        async def other():
            async with c2.transaction():
                await steps[second](c2)

        task = asyncio.create_task(other())
        await asyncio.sleep(0.3)  # the other transaction has run (or waits for the lock) by now
        waited = not task.done()
        await tr1.commit()
        await task
    row = await pool.fetchrow("SELECT status, decided_at FROM applications WHERE application_id = $1",
                              uuid.UUID(app_id))
    assert (row["status"], row["decided_at"]) == ("APPROVED", approved.approved_at)
    assert waited  # the second transaction waited for the first
    await pool.execute("DELETE FROM application_history WHERE application_id = $1", uuid.UUID(app_id))
    await pool.execute("DELETE FROM applications WHERE application_id = $1", uuid.UUID(app_id))


async def test_a_delivery_batchs_application_locks_are_all_taken_first(system: System):
    """Reporting's `before` (handlers.lock_batch): a consumer transaction holds the lock of every application
    its batch touches before its first handler runs, so two batches never take them in opposite orders."""
    a, b = str(uuid7()), str(uuid7())
    t0 = datetime.now(UTC)
    payloads = [ApplicationApproved(application_id=x, version=1, case_id="c", provider_id="p-lock", subject_id=str(uuid.uuid4()),
                                    approved_at=t0, approved_by="bj") for x in (a, b)]
    table = HandlerTable()
    handlers.register(table)
    assert table.before_batch is handlers.lock_batch
    pool = system.ctx("reporting").pool
    async with pool.acquire() as c1, pool.acquire() as c2:
        async with c1.transaction():
            await table.before_batch(c1, payloads)
            for x in (a, b):
                async with c2.transaction():
                    await c2.execute("SET LOCAL lock_timeout = '100ms'")
                    with pytest.raises(asyncpg.LockNotAvailableError):
                        await projection.lock_applications(c2, [x])
        async with c2.transaction():  # released with the first transaction
            await projection.lock_applications(c2, [a, b])
