"""Review outcomes published by verification (over the real relay and RabbitMQ) applied by filing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import aio_pika

from shared.contracts.verification import (
    ApplicationApproved,
    ApplicationRejected,
    ApplicationReturned,
    ApplicationStatusChanged,
    NumberAssignment,
)
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import (
    Tenant,
    events_for,
    new_tenant,
    now,
    publish_outcome,
    wait_handled,
)


async def _file(t: Tenant, websites: int = 1) -> dict:
    status, done = await t.call("POST", "/filings", json=fs.filing(websites))
    assert status == 201, done
    return done


async def _app(system: System, application_id: str):
    return await system.ctx("filing").pool.fetchrow("SELECT * FROM applications WHERE id = $1::uuid", application_id)


def _number() -> str:
    return f"京ICP备2026{uuid.uuid4().int % 10**6:06d}号"


async def test_status_changes_and_approval_are_applied_and_redelivery_changes_nothing(
    system: System, tenant: Tenant, amqp_url
):
    done = await _file(tenant, websites=2)
    app_id, pid = done["application_id"], tenant.provider_id
    env = await publish_outcome(system, ApplicationStatusChanged(
        application_id=app_id, version=1, case_id="c1", provider_id=pid, status="SUBMITTED_TO_BUREAU",
        note="材料齐全，核实通过", changed_at=now(), changed_by="op-verifier"), pid)
    await wait_handled(system, env.id)
    app = await _app(system, app_id)
    assert app["status"] == "SUBMITTED_TO_BUREAU" and app["verify_opinion"] == "材料齐全，核实通过"

    subject_no = _number()
    w1, w2 = done["website_ids"]
    approved = ApplicationApproved(
        application_id=app_id, version=1, case_id="c1", provider_id=pid, subject_id=done["subject_id"],
        subject_no=subject_no,
        websites=[NumberAssignment(website_id=w1, website_no=subject_no + "-1"),
                  NumberAssignment(website_id=w2, website_no=subject_no + "-2")],
        approved_at=now(), approved_by="bj-reviewer", opinion="同意")
    env = await publish_outcome(system, approved, pid)
    await wait_handled(system, env.id)

    status, detail = await tenant.call("GET", f"/subjects/{done['subject_id']}")
    assert detail["status"] == "ACTIVE" and detail["subject_no"] == subject_no
    assert [w["website_no"] for w in detail["websites"]] == [subject_no + "-1", subject_no + "-2"]
    assert {w["status"] for w in detail["websites"]} == {"ACTIVE"}
    assert {a["status"] for w in detail["websites"] for a in w["accesses"]} == {"ACTIVE"}
    [application] = detail["applications"]
    assert application["status"] == "APPROVED"
    assert [h["status"] for h in application["history"]] == ["PENDING_VERIFICATION", "SUBMITTED_TO_BUREAU", "APPROVED"]

    # a redelivery of the same message (same id) is skipped; a late intermediate status is ignored
    consumer = system.ctx("filing").consumer
    before = consumer.stats.duplicates
    conn = await aio_pika.connect(amqp_url)
    ch = await conn.channel(publisher_confirms=True)
    ex = await ch.get_exchange("icp.events")
    await ex.publish(aio_pika.Message(env.model_dump_json().encode(), message_id=str(env.id)),
                     routing_key=env.type, mandatory=True)
    await conn.close()
    await system.eventually(lambda: _ge(consumer.stats.duplicates, before + 1))
    late = await publish_outcome(system, ApplicationStatusChanged(
        application_id=app_id, version=1, case_id="c1", provider_id=pid, status="PREAPPROVAL_PENDING",
        changed_at=now() - timedelta(minutes=5), changed_by="bureau"), pid)
    await wait_handled(system, late.id)
    app = await _app(system, app_id)
    assert app["status"] == "APPROVED"
    n = await system.ctx("filing").pool.fetchval(
        "SELECT count(*) FROM application_status_history WHERE application_id = $1", app["id"])
    assert n == 3
    # the domain is now filed: another tenant is told its number
    other = await new_tenant(system)
    data = fs.filing()
    data["websites"][0] = fs.website(domain=detail["websites"][0]["domains"][0]["domain"])
    status, body = await other.call("POST", "/filings", json=data)
    assert status == 409 and subject_no + "-1" in body["errors"][0]["message"]
    assert body["conflicts"][0]["filing_no"] == subject_no + "-1"
    # records: filter by filing number
    status, lst = await tenant.call("GET", "/subjects", params={"filing_no": subject_no})
    assert lst["total"] == 1 and lst["items"][0]["subject_no"] == subject_no
    status, lst = await tenant.call("GET", "/websites", params={"filing_no": subject_no + "-2"})
    assert lst["total"] == 1 and lst["items"][0]["id"] == w2


async def _ge(v, n):
    return v >= n


async def test_return_correction_resubmit_gives_version_2(system: System, tenant: Tenant):
    done = await _file(tenant)
    app_id, pid = done["application_id"], tenant.provider_id
    # correction is refused while the application waits for verification
    status, _ = await tenant.call("POST", f"/applications/{app_id}/resubmit")
    assert status == 409
    env = await publish_outcome(system, ApplicationReturned(
        application_id=app_id, version=1, case_id="c2", provider_id=pid, opinion="网站名称与实际内容不符，请修改",
        returned_at=now(), returned_by="op-verifier"), pid)
    await wait_handled(system, env.id)
    status, detail = await tenant.call("GET", f"/applications/{app_id}")
    assert detail["status"] == "VERIFY_RETURNED" and detail["verify_opinion"] == "网站名称与实际内容不符，请修改"
    assert detail["correctable"] is True
    _, subj = await tenant.call("GET", f"/subjects/{done['subject_id']}")
    assert subj["last_return_reason"] == "网站名称与实际内容不符，请修改"

    # correct: rename the website, change its domain, add a second website
    data = detail["data"]
    old_domain = data["websites"][0]["domains"][0]
    new_domain = fs.domain()
    data["websites"][0]["name"] = "示例科技产品站"
    data["websites"][0]["domains"] = [new_domain]
    data["websites"][0]["home_urls"] = ["www." + new_domain]
    data["websites"].append(fs.website(name="示例科技服务站"))
    status, corrected = await tenant.call("PUT", f"/applications/{app_id}", json=data)
    assert status == 200, corrected
    assert [w["name"] for w in corrected["data"]["websites"]] == ["示例科技产品站", "示例科技服务站"]
    assert corrected["data"]["websites"][0]["website_id"] == done["website_ids"][0]
    # the old domain is free again, the new one is taken
    pool = system.ctx("filing").pool
    assert await pool.fetchval("SELECT count(*) FROM domains WHERE ascii = $1", old_domain) == 0
    assert await pool.fetchval("SELECT count(*) FROM domains WHERE ascii = $1 AND status = 'PENDING'", new_domain) == 1

    status, body = await tenant.call("POST", f"/applications/{app_id}/resubmit")
    assert status == 200, body
    assert body["version"] == 2 and body["status"] == "PENDING_VERIFICATION"
    events = await events_for(system, app_id)
    assert [e["payload"]["version"] for e in events] == [1, 2]
    v2 = events[1]["payload"]
    assert [w["name"] for w in v2["websites"]] == ["示例科技产品站", "示例科技服务站"]
    assert v2["websites"][0]["domains"] == [new_domain]
    assert await pool.fetchval(
        "SELECT count(*) FROM application_versions WHERE application_id = $1::uuid", app_id) == 2

    # an outcome of the old version arriving now is ignored
    stale = await publish_outcome(system, ApplicationRejected(
        application_id=app_id, version=1, case_id="c2", provider_id=pid, reason="旧版本", rejected_at=now(),
        rejected_by="bureau"), pid)
    await wait_handled(system, stale.id)
    assert (await _app(system, app_id))["status"] == "PENDING_VERIFICATION"
    # the current version's rejection applies; the application may be corrected again
    env = await publish_outcome(system, ApplicationRejected(
        application_id=app_id, version=2, case_id="c2", provider_id=pid, reason="主办单位证件不清晰",
        rejected_at=now(), rejected_by="bureau"), pid)
    await wait_handled(system, env.id)
    app = await _app(system, app_id)
    assert app["status"] == "REJECTED" and app["bureau_reason"] == "主办单位证件不清晰"
    _, subj = await tenant.call("GET", f"/subjects/{done['subject_id']}")
    assert subj["last_rejection_reason"] == "主办单位证件不清晰"
    status, hist = await tenant.call("GET", f"/subjects/{done['subject_id']}/history")
    actions = {(h["entity"], h["action"]) for h in hist["items"]}
    assert {("application", "return"), ("application", "correct"), ("application", "resubmit"),
            ("website", "update"), ("website", "create"), ("application", "reject")} <= actions
    update = next(h for h in hist["items"] if (h["entity"], h["action"]) == ("website", "update"))
    assert update["changes"]["name"] == ["示例科技官网", "示例科技产品站"]


async def test_correction_is_validated_and_checked_against_other_filings(system: System, tenant: Tenant):
    done = await _file(tenant)
    taken = await _file(tenant)
    app_id, pid = done["application_id"], tenant.provider_id
    env = await publish_outcome(system, ApplicationReturned(
        application_id=app_id, version=1, case_id="c3", provider_id=pid, opinion="请更正", returned_at=now(),
        returned_by="v"), pid)
    await wait_handled(system, env.id)
    _, detail = await tenant.call("GET", f"/applications/{app_id}")
    data = detail["data"]
    data["subject"]["principal"]["id_number"] = "110105199001011234"
    status, body = await tenant.call("PUT", f"/applications/{app_id}", json=data)
    assert status == 422
    assert body["errors"][0]["field"] == "subject.principal.id_number"
    _, taken_detail = await tenant.call("GET", f"/subjects/{taken['subject_id']}")
    data = detail["data"]
    data["subject"]["principal"]["id_number"] = taken_detail["principal"]["id_number"]
    data["subject"]["principal"]["mobile"] = taken_detail["principal"]["mobile"]
    status, body = await tenant.call("PUT", f"/applications/{app_id}", json=data)
    assert status == 422 and body["errors"][0]["field"] == "subject.principal.mobile"


async def test_unknown_application_outcome_is_dead_lettered_not_applied(system: System, tenant: Tenant):
    consumer = system.ctx("filing").consumer
    before = consumer.stats.dead
    env = await publish_outcome(system, ApplicationReturned(
        application_id=str(uuid.uuid4()), version=1, case_id="c4", provider_id=tenant.provider_id, opinion="x",
        returned_at=now(), returned_by="v"), tenant.provider_id)
    await system.eventually(lambda: _ge(consumer.stats.dead, before + 1))
    assert not await system.ctx("filing").pool.fetchval("SELECT true FROM inbox WHERE message_id = $1", env.id)
