"""Withdrawals: a cancellation request deleted or an application abandoned in filing closes the
verification case (`filing.application.withdrawn` → ABANDONED); once the case is with the bureau the
withdrawal, or a newer version, is refused (`verification.application.withdrawal_refused`) and filing
restores the request to what verification has — both services end in agreement."""

from __future__ import annotations

import uuid

import pytest

from services.verification import review
from services.verification import store as vstore
from shared.contracts.filing import ApplicationWithdrawn
from shared.contracts.verification import ApplicationStatusChanged
from shared.db import transaction
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import (
    V,
    application_reaches,
    apply_cancellation,
    bureau,
    case_detail,
    case_of,
    filed,
    v_post,
)
from tests.integration.filing_helpers import Tenant, now, publish_outcome, wait_handled

pytestmark = pytest.mark.usefixtures("no_dead_letters")


async def _case_reaches(t: Tenant, case_id: str, status: str) -> dict:
    async def reached():
        body = await case_detail(t, case_id)
        return body if body["status"] == status else None

    return await t.system.eventually(reached)


async def _waiting(t: Tenant, application_id: str) -> list[dict]:
    """The provider's default list: the cases waiting for its verification."""
    r = await t.system.client.get(f"{V}/cases", params={"application_id": application_id}, headers=t.headers)
    body = await r.json()
    assert r.status == 200, body
    return body["items"]


async def _as_if_verified(system: System, t: Tenant, case: dict):
    """The provider passed verification, but filing has not heard yet: the status change is held back;
    the returned coroutine function delivers it (late)."""
    at = now()
    await system.ctx("verification").pool.execute(
        "UPDATE cases SET status = 'SUBMITTED_TO_BUREAU', verified_at = $2 WHERE id = $1::uuid", case["id"], at
    )

    async def deliver():
        env = await publish_outcome(system, ApplicationStatusChanged(
            application_id=case["application_id"], version=case["version"], case_id=case["id"],
            provider_id=t.provider_id, status="SUBMITTED_TO_BUREAU", note="已核实", changed_at=at,
            changed_by="verifier"), t.provider_id)
        await wait_handled(system, env.id)

    return deliver


async def test_deleted_cancellation_closes_the_case(system: System, tenant: Tenant):
    f = await filed(tenant)
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=f["website_ids"][0])
    case = await case_of(tenant, c["application_id"])
    assert [i["id"] for i in await _waiting(tenant, c["application_id"])] == [case["id"]]
    status, _ = await tenant.call("DELETE", f"/cancellations/{c['id']}")
    assert status == 204
    await application_reaches(tenant, c["application_id"], "ABANDONED")
    detail = await _case_reaches(tenant, case["id"], "ABANDONED")
    assert detail["status_name"] == "已放弃" and detail["stage"] == "abandoned"
    assert detail["history"][-1]["action"] == "WITHDRAWN" and detail["history"][-1]["text"] == "删除注销申请"
    assert await _waiting(tenant, c["application_id"]) == []
    r = await system.client.post(f"{V}/cases/{case['id']}/verification", json={"result": "pass", "opinion": "已核实"},
                                 headers=tenant.headers)
    body = await r.json()
    assert r.status == 409 and "已放弃" in body["detail"] and body["case_status"] == "ABANDONED"
    # not visible to the bureau (never reached it): no decision possible
    r = await system.client.post(f"{V}/cases/{case['id']}/decision", json={"decision": "approve"},
                                 headers=bureau(system))
    assert r.status == 404
    # listed under its own stage
    r = await system.client.get(f"{V}/cases", params={"application_id": c["application_id"], "stage": "abandoned"},
                                headers=tenant.headers)
    assert [i["id"] for i in (await r.json())["items"]] == [case["id"]]

    # a duplicate withdrawal (same content, another message) changes nothing
    before = await case_detail(tenant, case["id"])
    fctx = system.ctx("filing")
    async with transaction(fctx.pool) as conn:
        env = await fctx.outbox.add(conn, ApplicationWithdrawn(
            application_id=c["application_id"], version=1, provider_id=tenant.provider_id, reason="deleted",
            withdrawn_at=now(), withdrawn_by="again"), provider_id=tenant.provider_id)
    vpool = system.ctx("verification").pool
    await system.eventually(lambda: vpool.fetchval("SELECT true FROM inbox WHERE message_id = $1", env.id))
    after = await case_detail(tenant, case["id"])
    assert after == before
    _, app = await tenant.call("GET", f"/applications/{c['application_id']}")
    assert app["status"] == "ABANDONED"


async def test_abandoned_returned_application_closes_the_case(system: System, tenant: Tenant):
    status, done = await tenant.call("POST", "/filings", json=fs.filing())
    assert status == 201, done
    case = await case_of(tenant, done["application_id"])
    await v_post(system, f"/cases/{case['id']}/verification", {"result": "return", "opinion": "请补充材料"},
                 tenant.headers)
    await application_reaches(tenant, done["application_id"], "VERIFY_RETURNED")
    status, body = await tenant.call("POST", f"/applications/{done['application_id']}/abandon")
    assert status == 200, body
    detail = await _case_reaches(tenant, case["id"], "ABANDONED")
    assert [h["action"] for h in detail["history"]] == ["SUBMITTED", "VERIFY_RETURN", "WITHDRAWN"]
    assert detail["history"][-1]["status_from"] == "VERIFY_RETURNED"
    r = await system.client.post(f"{V}/cases/{case['id']}/verification", json={"result": "pass", "opinion": "x"},
                                 headers=tenant.headers)
    assert r.status == 409 and "撤回" in (await r.json())["detail"]


async def test_deletion_racing_verification_is_refused_and_the_request_restored(system: System, tenant: Tenant):
    """The provider verified the request (the status change still on its way to filing) while the request
    was deleted, and the bureau approved before the withdrawal was handled: verification refuses the
    withdrawal; filing restores the request and applies the approval it had put aside."""
    f = await filed(tenant, websites=2)
    w1 = f["website_ids"][0]
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=w1)
    case = await case_of(tenant, c["application_id"])
    deliver = await _as_if_verified(system, tenant, case)
    vctx = system.ctx("verification")
    # the bureau approves, holding the case until filing has deleted the request
    async with transaction(vctx.pool) as conn:
        row = await vstore.lock_case(conn, uuid.UUID(case["id"]), vstore.Scope())
        await review.decide(conn, vctx.outbox, row, decision="approve", reason="同意",
                            actor=review.Actor(role="bureau", id="bj-reviewer"))
        status, _ = await tenant.call("DELETE", f"/cancellations/{c['id']}")
        assert status == 204
    await deliver()  # the held-back status change, after all: ignored
    app = await application_reaches(tenant, c["application_id"], "APPROVED")
    assert app["version"] == 1
    notes = [h["note"] for h in app["history"]]
    assert any("撤回未受理" in n and "审核通过" in n for n in notes), notes
    detail = await case_detail(tenant, case["id"])
    assert detail["status"] == "APPROVED"
    assert detail["history"][-1]["action"] == "WITHDRAWAL_REFUSED"
    status, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert status == 200 and body["status"] == "APPROVED"
    assert [h["action"] for h in body["history"] if h["kind"] == "request"] == ["APPLY", "DELETE", "RESTORE"]
    _, website = await tenant.call("GET", f"/websites/{w1}")
    assert website["status"] == "CANCELLED"
    assert await system.ctx("filing").pool.fetchval(
        "SELECT count(*) FROM deferred_outcomes WHERE application_id = $1::uuid", c["application_id"]) == 0


async def test_deletion_refused_while_with_the_bureau_then_decided(system: System, tenant: Tenant):
    f = await filed(tenant)
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=f["website_ids"][0])
    case = await case_of(tenant, c["application_id"])
    deliver = await _as_if_verified(system, tenant, case)
    status, _ = await tenant.call("DELETE", f"/cancellations/{c['id']}")
    assert status == 204
    await deliver()  # arrives while the request is deleted (put aside) or after it is restored

    async def refused():
        d = await case_detail(tenant, case["id"])
        return d if d["history"][-1]["action"] == "WITHDRAWAL_REFUSED" else None

    detail = await system.eventually(refused)
    assert detail["status"] == "SUBMITTED_TO_BUREAU" and detail["history"][-1]["status_to"] == "SUBMITTED_TO_BUREAU"
    app = await application_reaches(tenant, c["application_id"], "SUBMITTED_TO_BUREAU", version=1)
    assert any("撤回未受理" in h["note"] and "已提交管局" in h["note"] for h in app["history"])
    status, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert status == 200 and body["status"] == "APPLIED" and not body["can_delete"] and not body["can_modify"]
    # the bureau rejects: both services agree
    await v_post(system, f"/cases/{case['id']}/decision", {"decision": "reject", "reason": "材料不全"}, bureau(system))
    await application_reaches(tenant, c["application_id"], "REJECTED")
    _, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert body["status"] == "REJECTED" and body["can_reapply"]


async def test_modification_racing_verification_is_refused_and_the_version_restored(system: System, tenant: Tenant):
    f = await filed(tenant)
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=f["website_ids"][0])
    case = await case_of(tenant, c["application_id"])
    deliver = await _as_if_verified(system, tenant, case)
    status, body = await tenant.call("PUT", f"/cancellations/{c['id']}", json={"reason_code": "OTHER",
                                                                               "reason": "网站迁移"})
    assert status == 200 and body["reason_code"] == "OTHER"
    await deliver()  # v1's status change: stale while v2 is current (put aside), or applied after the restore
    app = await application_reaches(tenant, c["application_id"], "SUBMITTED_TO_BUREAU", version=1)
    assert [v["version"] for v in app["versions"]] == [1]
    assert any("第2版未受理" in h["note"] for h in app["history"])
    _, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert body["reason_code"] == "NO_LONGER_OPERATED" and body["status"] == "APPLIED"
    detail = await case_detail(tenant, case["id"])
    assert detail["version"] == 1 and detail["history"][-1]["action"] == "VERSION_REFUSED"
    # the bureau approves version 1: filing follows
    await v_post(system, f"/cases/{case['id']}/decision", {"decision": "approve", "reason": "同意"}, bureau(system))
    await application_reaches(tenant, c["application_id"], "APPROVED", version=1)
