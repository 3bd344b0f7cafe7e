"""Cancellation requests (注销主体 / 注销网站, seed 1.5.2–1.5.3) through the real verification:
apply, list, modify / delete before review, refusal after, rejection and re-apply, approval."""

from __future__ import annotations

import pytest

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import (
    application_reaches,
    apply_cancellation,
    approve,
    case_detail,
    case_of,
    filed,
    reject,
    verify_pass,
)
from tests.integration.filing_helpers import Tenant, new_tenant
from tests.integration.test_changes import _sponsor

pytestmark = pytest.mark.usefixtures("no_dead_letters")


async def test_website_cancellation_approved_frees_the_domain_for_a_new_filing(system: System, tenant: Tenant):
    f = await filed(tenant, websites=2)
    w1, w2 = f["website_ids"]
    no1 = f["website_nos"][0]
    # not applied yet: the subject and both websites are candidates
    status, cands = await tenant.call("GET", "/cancellations", params={"status": "NOT_APPLIED", "number": f["subject_no"]})
    assert status == 200, cands
    assert {(i["target_type"], i["target_no"]) for i in cands["items"]} == {
        ("SUBJECT", f["subject_no"]), ("WEBSITE", no1), ("WEBSITE", f["website_nos"][1])}
    assert all(i["can_apply"] and i["id"] is None for i in cands["items"])
    site_name = f["data"]["websites"][1]["name"]  # the name filter: a target's name or its subject's
    assert site_name not in f["data"]["subject"]["name"]
    status, by_name = await tenant.call("GET", "/cancellations", params={"status": "NOT_APPLIED", "name": site_name})
    assert {i["target_no"] for i in by_name["items"]} == set(f["website_nos"])

    c = await apply_cancellation(tenant, target_type="WEBSITE", target_no=no1, reason_code="DOMAIN_NOT_OWNED")
    assert c["status"] == "APPLIED" and c["target_id"] == w1 and c["can_modify"] and c["can_delete"]
    assert c["reason_name"] == "域名已到期或已不属于主办者"
    case = await case_of(tenant, c["application_id"])
    detail = await case_detail(tenant, case["id"])
    assert detail["type"] == "CANCEL_WEBSITE"
    assert [w["website_no"] for w in detail["application"]["websites"]] == [no1]
    assert detail["application"]["changes"]["reason_code"] == "DOMAIN_NOT_OWNED"
    status, listed = await tenant.call("GET", "/cancellations", params={"status": "APPLIED", "number": no1})
    assert [i["id"] for i in listed["items"]] == [c["id"]]
    subject_name = f["data"]["subject"]["name"]
    status, listed = await tenant.call("GET", "/cancellations", params={"status": "APPLIED", "name": subject_name})
    assert [i["id"] for i in listed["items"]] == [c["id"]]
    status, cands = await tenant.call("GET", "/cancellations", params={"status": "NOT_APPLIED", "number": no1})
    assert cands["total"] == 0
    status, body = await tenant.call("POST", "/cancellations", json={
        "target_type": "WEBSITE", "target_id": w1, "reason_code": "NO_LONGER_OPERATED"})
    assert status == 409 and body["cancellation_id"] == c["id"]

    out = await approve(tenant, c["application_id"])
    assert out["retired_numbers"] == [no1]
    status, c2 = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert c2["status"] == "APPROVED" and c2["target_status"] == "CANCELLED"
    assert not (c2["can_modify"] or c2["can_delete"] or c2["can_reapply"])
    assert [h["action"] for h in c2["history"] if h["kind"] == "request"] == ["APPLY"]
    _, website = await tenant.call("GET", f"/websites/{w1}")
    assert website["status"] == "CANCELLED" and website["website_no"] == no1
    assert {d["status"] for d in website["domains"]} == {"CANCELLED"}
    assert {a["status"] for a in website["accesses"]} == {"CANCELLED"}
    _, subject = await tenant.call("GET", f"/subjects/{f['subject_id']}")
    assert subject["status"] == "ACTIVE"
    assert {w["id"]: w["status"] for w in subject["websites"]} == {w1: "CANCELLED", w2: "ACTIVE"}
    # the cancelled website's domain can be filed again, by a new first filing of another provider
    other = await new_tenant(system)
    data = fs.filing()
    data["websites"][0] = fs.website(domain=f["data"]["websites"][0]["domains"][0])
    status, body = await other.call("POST", "/filings", json=data)
    assert status == 201, body
    status, listed = await tenant.call("GET", "/cancellations", params={"status": "APPROVED", "target_type": "WEBSITE",
                                                                        "number": no1})
    assert listed["total"] == 1


async def test_subject_cancellation_cancels_every_website(system: System, tenant: Tenant):
    f = await filed(tenant, websites=2)
    sid = f["subject_id"]
    c = await apply_cancellation(tenant, target_type="SUBJECT", target_id=sid, reason_code="OTHER", reason="公司业务调整")
    assert c["target_no"] == f["subject_no"] and c["reason"] == "公司业务调整"
    # the subject is busy: no other business meanwhile
    status, body = await tenant.call("POST", f"/subjects/{sid}/websites", json={"website": fs.website()})
    assert status == 409 and body["in_flight_application"]["type"] == "CANCEL_SUBJECT"
    out = await approve(tenant, c["application_id"])
    assert set(out["retired_numbers"]) == {*f["website_nos"], f["subject_no"]}
    _, subject = await tenant.call("GET", f"/subjects/{sid}")
    assert subject["status"] == "CANCELLED" and subject["subject_no"] == f["subject_no"]
    assert {w["status"] for w in subject["websites"]} == {"CANCELLED"}
    assert [w["website_no"] for w in subject["websites"]] == f["website_nos"]
    # the certificate, the mobiles and the domains are free: the same sponsor files again
    again = fs.clone(f["data"])
    status, body = await tenant.call("POST", "/filings", json=again)
    assert status == 201, body
    # a cancelled subject is no candidate any more, and business on it is refused
    status, cands = await tenant.call("GET", "/cancellations", params={"status": "NOT_APPLIED", "number": f["subject_no"]})
    assert cands["total"] == 0
    status, body = await tenant.call("POST", f"/subjects/{sid}/changes", json={"subject": f["data"]["subject"], "sponsor": _sponsor(f)})
    assert status == 409 and "已注销" in body["detail"]


async def test_modify_and_delete_before_review_refused_once_with_the_bureau(tenant: Tenant):
    f = await filed(tenant)
    wid = f["website_ids"][0]
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=wid)
    status, body = await tenant.call("PUT", f"/cancellations/{c['id']}",
                                     json={"reason_code": "OTHER", "reason": "网站迁移至其他域名"})
    assert status == 200, body
    assert body["reason_code"] == "OTHER" and body["status"] == "APPLIED"
    case = await case_of(tenant, c["application_id"], version=2)
    detail = await case_detail(tenant, case["id"])
    assert detail["application"]["changes"]["reason"] == "网站迁移至其他域名"
    status, body = await tenant.call("PUT", f"/cancellations/{c['id']}", json={"reason_code": "OTHER"})
    assert status == 422 and body["errors"][0]["field"] == "reason"
    status, body = await tenant.call("PUT", f"/cancellations/{c['id']}", json={"reason_code": "SUBJECT_DISSOLVED"})
    assert status == 422 and body["errors"][0]["field"] == "reason_code"
    status, _ = await tenant.call("DELETE", f"/cancellations/{c['id']}")
    assert status == 204
    status, _ = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert status == 404
    await application_reaches(tenant, c["application_id"], "ABANDONED")
    # the website is a candidate again; a new request goes to the bureau and can no longer be withdrawn
    status, cands = await tenant.call("GET", "/cancellations", params={"status": "NOT_APPLIED", "target_type": "WEBSITE",
                                                                       "number": f["website_nos"][0]})
    assert cands["total"] == 1
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=wid)
    await verify_pass(tenant, c["application_id"])
    status, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert body["status"] == "APPLIED" and not body["can_modify"] and not body["can_delete"]
    status, body = await tenant.call("PUT", f"/cancellations/{c['id']}", json={"reason_code": "DUPLICATE_FILING"})
    assert status == 409 and "已提交管局" in body["detail"]
    status, body = await tenant.call("DELETE", f"/cancellations/{c['id']}")
    assert status == 409
    status, body = await tenant.call("POST", f"/cancellations/{c['id']}/reapply", json={"reason_code": "OTHER",
                                                                                     "reason": "x"})
    assert status == 409


async def test_rejected_cancellation_can_be_reapplied(tenant: Tenant):
    f = await filed(tenant)
    sid = f["subject_id"]
    c = await apply_cancellation(tenant, target_type="SUBJECT", target_no=f["subject_no"])
    await reject(tenant, c["application_id"], "请由主办单位法定代表人确认")
    status, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert body["status"] == "REJECTED" and body["bureau_reason"] == "请由主办单位法定代表人确认"
    assert body["can_reapply"] and not body["can_modify"]
    status, listed = await tenant.call("GET", "/cancellations", params={"status": "REJECTED", "number": f["subject_no"]})
    assert [i["id"] for i in listed["items"]] == [c["id"]]
    status, body = await tenant.call("PUT", f"/cancellations/{c['id']}", json={"reason_code": "DUPLICATE_FILING"})
    assert status == 409 and "再次提出" in body["detail"]
    # a new request for the same subject is refused: the rejected one is to be re-applied
    status, body = await tenant.call("POST", "/cancellations", json={
        "target_type": "SUBJECT", "target_id": sid, "reason_code": "NO_LONGER_OPERATED"})
    assert status == 409 and body["cancellation_id"] == c["id"] and "再次提出" in body["detail"]
    _, subject = await tenant.call("GET", f"/subjects/{sid}")
    assert subject["status"] == "ACTIVE"

    status, body = await tenant.call("POST", f"/cancellations/{c['id']}/reapply",
                                     json={"reason_code": "SUBJECT_DISSOLVED", "reason": "已办理工商注销"})
    assert status == 200, body
    assert body["status"] == "APPLIED" and body["reason_code"] == "SUBJECT_DISSOLVED"
    assert [h["action"] for h in body["history"] if h["kind"] == "request"] == ["APPLY", "REAPPLY"]
    await approve(tenant, c["application_id"], version=2)
    status, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert body["status"] == "APPROVED"
    _, subject = await tenant.call("GET", f"/subjects/{sid}")
    assert subject["status"] == "CANCELLED"


async def test_reapply_waits_for_the_subject_to_be_free(tenant: Tenant):
    f = await filed(tenant, websites=2)
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=f["website_ids"][0])
    await reject(tenant, c["application_id"], "材料不全")
    status, change = await tenant.call("POST", f"/subjects/{f['subject_id']}/changes",
                                       json={"subject": {**f["data"]["subject"], "remark": "变更"}, "sponsor": _sponsor(f)})
    assert status == 201, change
    status, body = await tenant.call("POST", f"/cancellations/{c['id']}/reapply",
                                     json={"reason_code": "NO_LONGER_OPERATED"})
    assert status == 409 and body["in_flight_application"]["id"] == change["application_id"]


async def test_cancellation_validation_and_tenant_isolation(system: System, tenant: Tenant):
    f = await filed(tenant)
    sid, wid = f["subject_id"], f["website_ids"][0]
    status, body = await tenant.call("POST", "/cancellations", json={
        "target_type": "SUBJECT", "target_id": sid, "reason_code": "NOPE"})
    assert status == 422 and body["errors"][0]["field"] == "reason_code"
    status, body = await tenant.call("POST", "/cancellations", json={
        "target_type": "WEBSITE", "target_id": wid, "reason_code": "MOVE_PROVINCE"})
    assert status == 422 and body["errors"][0]["field"] == "reason_code"
    status, body = await tenant.call("POST", "/cancellations", json={
        "target_type": "SUBJECT", "reason_code": "NO_LONGER_OPERATED"})
    assert status == 422 and body["errors"][0]["field"] == "target_id"
    status, body = await tenant.call("POST", "/cancellations", json={
        "target_type": "SUBJECT", "target_no": "京ICP备123号", "reason_code": "NO_LONGER_OPERATED"})
    assert status == 422 and body["errors"][0]["field"] == "target_no"
    status, body = await tenant.call("GET", "/cancellations", params={"status": "WHATEVER"})
    assert status == 422
    # a first filing not yet approved cannot be cancelled
    _, pending = await tenant.call("POST", "/filings", json=fs.filing())
    status, body = await tenant.call("POST", "/cancellations", json={
        "target_type": "SUBJECT", "target_id": pending["subject_id"], "reason_code": "NO_LONGER_OPERATED"})
    assert status == 409 and "备案号" in body["detail"]

    c = await apply_cancellation(tenant, target_type="WEBSITE", target_id=wid)
    other = await new_tenant(system)
    calls = [
        ("POST", "/cancellations", {"target_type": "SUBJECT", "target_id": sid, "reason_code": "NO_LONGER_OPERATED"}),
        ("POST", "/cancellations", {"target_type": "WEBSITE", "target_no": f["website_nos"][0],
                                    "reason_code": "NO_LONGER_OPERATED"}),
        ("GET", f"/cancellations/{c['id']}", None),
        ("PUT", f"/cancellations/{c['id']}", {"reason_code": "NO_LONGER_OPERATED"}),
        ("DELETE", f"/cancellations/{c['id']}", None),
        ("POST", f"/cancellations/{c['id']}/reapply", {"reason_code": "NO_LONGER_OPERATED"}),
        ("GET", "/cancellations/not-a-uuid", None),
    ]
    for method, path, body in calls:
        status, out = await other.call(method, path, json=body) if body is not None else await other.call(method, path)
        assert status == 404, (method, path, out)
    for params in ({}, {"status": "NOT_APPLIED"}, {"status": "APPLIED"}):
        status, listed = await other.call("GET", "/cancellations", params=params)
        assert status == 200 and listed["total"] == 0, listed
    status, body = await tenant.call("GET", f"/cancellations/{c['id']}")
    assert status == 200 and body["status"] == "APPLIED"
    # other roles cannot use the endpoints
    r = await system.client.get("/api/filing/cancellations", headers=system.auth("bureau", province="BJ"))
    assert r.status == 403
