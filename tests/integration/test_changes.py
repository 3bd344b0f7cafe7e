"""Business changes (seed 1.4) over HTTP: filing submits, the real verification verifies and the
bureau decides, filing applies the outcome — 新增网站, 新增接入, 变更主体/网站/接入, 取消接入."""

from __future__ import annotations

import pytest

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import (
    application_reaches,
    approve,
    case_detail,
    case_of,
    filed,
    reject,
)
from tests.integration.filing_helpers import Tenant, new_tenant

pytestmark = pytest.mark.usefixtures("no_dead_letters")


def _site(**over) -> dict:
    return fs.website(name="示例科技博客站", **over)



def _sponsor(f: dict) -> dict:
    """The sponsor's credentials: a change of a subject needs them also for the provider's own filing
    (ICP_SPONSOR_AUTH_OWN_CHANGES, every province by default; issue 11)."""
    return {"username": f["username"], "password": f["password"]}

async def test_add_website_is_verified_and_approved_with_the_next_number(system: System, tenant: Tenant):
    f = await filed(tenant)
    sid = f["subject_id"]
    site = _site()
    status, created = await tenant.call("POST", f"/subjects/{sid}/websites", json={"website": site})
    assert status == 201, created
    assert created["type"] == "ADD_WEBSITE" and created["status"] == "PENDING_VERIFICATION"
    new_id = created["website_id"]
    app_id = created["application_id"]

    # the snapshot carries the subject with its number and only the new website
    case = await case_of(tenant, app_id)
    assert case["type"] == "ADD_WEBSITE"
    detail = await case_detail(tenant, case["id"])
    assert detail["application"]["subject"]["subject_no"] == f["subject_no"]
    assert [w["website_id"] for w in detail["application"]["websites"]] == [new_id]
    assert detail["application"]["websites"][0]["domains"] == site["domains"]

    # pending: the domain is taken (another tenant is refused), the subject has an in-flight application
    other = await new_tenant(system)
    data = fs.filing()
    data["websites"][0] = fs.website(domain=site["domains"][0])
    status, body = await other.call("POST", "/filings", json=data)
    assert status == 409 and body["conflicts"][0]["in_progress"] is True
    status, body = await tenant.call("POST", f"/subjects/{sid}/websites", json={"website": _site()})
    assert status == 409, body
    assert body["in_flight_application"]["id"] == app_id and body["in_flight_application"]["type"] == "ADD_WEBSITE"
    assert "新增网站" in body["detail"]

    out = await approve(tenant, app_id)
    assert out["website_numbers"] == [{"website_id": new_id, "website_no": f["subject_no"] + "-2"}]
    code, website = await tenant.call("GET", f"/websites/{new_id}")
    assert code == 200, website
    assert website["website_no"] == f["subject_no"] + "-2" and website["status"] == "ACTIVE"
    assert [a["status"] for a in website["accesses"]] == ["ACTIVE"]
    code, subject = await tenant.call("GET", f"/subjects/{sid}")
    assert subject["subject_no"] == f["subject_no"]
    assert [w["website_no"] for w in subject["websites"]] == [f["subject_no"] + "-1", f["subject_no"] + "-2"]
    assert subject["applications"][0]["type"] == "ADD_WEBSITE" and subject["applications"][0]["status"] == "APPROVED"


async def test_add_website_is_validated_with_the_filing_rules_and_paths(tenant: Tenant):
    f = await filed(tenant)
    sid = f["subject_id"]
    two = _site()
    two["domains"].append(fs.domain())
    status, body = await tenant.call("POST", f"/subjects/{sid}/websites", json={"website": two})
    assert status == 422 and body["errors"][0]["field"] == "website.domains"
    # the subject's own filed domain: already filed
    taken = _site(domain=f["data"]["websites"][0]["domains"][0])
    status, body = await tenant.call("POST", f"/subjects/{sid}/websites", json={"website": taken})
    assert status == 409 and body["errors"][0]["field"] == "website.domains[0]"
    assert f["subject_no"] + "-1" in body["errors"][0]["message"]
    # a subject not yet approved
    status, pending = await tenant.call("POST", "/filings", json=fs.filing())
    status, body = await tenant.call("POST", f"/subjects/{pending['subject_id']}/websites", json={"website": _site()})
    assert status == 409 and "备案号" in body["detail"]


async def test_self_filed_subject_needs_the_sponsor_credentials_to_add_a_website(system: System, tenant: Tenant):
    f = await filed(tenant)
    sid = f["subject_id"]
    await system.ctx("filing").pool.execute("UPDATE subjects SET filing_method = 'SELF' WHERE id = $1::uuid", sid)
    status, body = await tenant.call("POST", f"/subjects/{sid}/websites", json={"website": _site()})
    assert status == 422 and body["errors"][0]["field"] == "sponsor"
    status, body = await tenant.call("POST", f"/subjects/{sid}/websites", json={
        "website": _site(), "sponsor": {"username": f["username"], "password": "wrong-password1"}})
    assert status == 403 and "用户名或密码不正确" in body["detail"]
    status, body = await tenant.call("POST", f"/subjects/{sid}/websites", json={
        "website": _site(), "sponsor": {"username": f["username"], "password": f["password"]}})
    assert status == 201, body


async def test_change_subject_approved_applies_the_data_and_keeps_the_numbers(system: System, tenant: Tenant):
    f = await filed(tenant, websites=2)
    sid = f["subject_id"]
    _, before = await tenant.call("GET", f"/subjects/{sid}")
    subject = dict(f["data"]["subject"])
    subject["name"] = "示例网络科技(北京)有限公司"
    subject["mail_address"] = "示例路8号1号楼101室"
    old_mobile = subject["principal"]["mobile"]
    subject["principal"] = {**subject["principal"], "mobile": fs.mobile()}
    status, created = await tenant.call("POST", f"/subjects/{sid}/changes", json={"subject": subject, "sponsor": _sponsor(f)})
    assert status == 201, created
    app_id = created["application_id"]
    case = await case_of(tenant, app_id)
    detail = await case_detail(tenant, case["id"])
    assert detail["type"] == "CHANGE_SUBJECT"
    assert detail["application"]["subject"]["name"] == subject["name"]
    assert detail["application"]["changes"]["subject"]["name"] == [before["name"], subject["name"]]
    assert "*" in detail["application"]["subject"]["principal"]["id_number_masked"]
    # nothing changed yet
    _, now = await tenant.call("GET", f"/subjects/{sid}")
    assert now["name"] == before["name"]

    await approve(tenant, app_id)
    _, after = await tenant.call("GET", f"/subjects/{sid}")
    assert after["name"] == subject["name"] and after["mail_address"] == subject["mail_address"]
    assert after["principal"]["mobile"] == subject["principal"]["mobile"]
    assert after["subject_no"] == f["subject_no"] and after["status"] == "ACTIVE"
    assert [w["website_no"] for w in after["websites"]] == f["website_nos"]
    # the old mobile is free for another subject; the new one is not
    pool = system.ctx("filing").pool
    assert not await pool.fetchval("SELECT active FROM subject_mobiles WHERE mobile = $1", old_mobile)
    other = await new_tenant(system)
    data = fs.filing()
    data["subject"]["principal"]["mobile"] = subject["principal"]["mobile"]
    status, body = await other.call("POST", "/filings", json=data)
    assert status == 422 and body["errors"][0]["field"] == "subject.principal.mobile"
    _, hist = await tenant.call("GET", f"/subjects/{sid}/history")
    change = next(h for h in hist["items"] if (h["entity"], h["action"]) == ("subject", "change"))
    assert change["changes"]["name"] == [before["name"], subject["name"]]


async def test_change_subject_rules(system: System, tenant: Tenant):
    f = await filed(tenant)
    sid = f["subject_id"]
    subject = dict(f["data"]["subject"])
    status, body = await tenant.call("POST", f"/subjects/{sid}/changes", json={"subject": subject, "sponsor": _sponsor(f)})
    assert status == 422 and "未作任何修改" in body["detail"]
    moved = {**subject, "province": "310000", "city": "310100", "county": "310101"}
    status, body = await tenant.call("POST", f"/subjects/{sid}/changes", json={"subject": moved, "sponsor": _sponsor(f)})
    assert status == 422 and body["errors"][0]["field"] == "subject.province"
    other = await filed(tenant)
    taken = {**subject, "principal": {**subject["principal"], "mobile": other["data"]["subject"]["principal"]["mobile"]}}
    status, body = await tenant.call("POST", f"/subjects/{sid}/changes", json={"subject": taken, "sponsor": _sponsor(f)})
    assert status == 422 and body["errors"][0]["field"] == "subject.principal.mobile"
    bad = {**subject, "principal": {**subject["principal"], "email": "not-an-email"}}
    status, body = await tenant.call("POST", f"/subjects/{sid}/changes", json={"subject": bad, "sponsor": _sponsor(f)})
    assert status == 422 and body["errors"][0]["field"] == "subject.principal.email"


async def test_rejected_change_leaves_the_record_unchanged_then_corrected_and_resubmitted(tenant: Tenant):
    f = await filed(tenant)
    wid = f["website_ids"][0]
    site = f["data"]["websites"][0]
    change = {k: site[k] for k in ("name", "domains", "home_urls", "service_content", "preapprovals", "languages",
                                   "principal_same_as_subject")}
    change["name"] = "示例科技资讯站"
    status, created = await tenant.call("POST", f"/websites/{wid}/changes", json={"website": change})
    assert status == 201, created
    app_id = created["application_id"]
    await reject(tenant, app_id, "网站名称与内容不符")
    _, website = await tenant.call("GET", f"/websites/{wid}")
    assert website["name"] == site["name"] and website["website_no"] == f["website_nos"][0]
    # a rejected change still holds the subject: another change is refused, naming it
    status, body = await tenant.call("POST", f"/websites/{wid}/changes", json={"website": change})
    assert status == 409 and body["in_flight_application"]["id"] == app_id
    code, app = await tenant.call("GET", f"/applications/{app_id}")
    assert app["correctable"] and app["bureau_reason"] == "网站名称与内容不符"
    assert app["proposal"]["website"]["name"] == "示例科技资讯站"

    change["name"] = "示例科技产品站"
    status, body = await tenant.call("PUT", f"/applications/{app_id}/proposal", json={"website": change})
    assert status == 200, body
    status, body = await tenant.call("POST", f"/applications/{app_id}/resubmit")
    assert status == 200 and body["version"] == 2, body
    case = await case_of(tenant, app_id, version=2)
    detail = await case_detail(tenant, case["id"])
    assert detail["application"]["websites"][0]["name"] == "示例科技产品站"
    await approve(tenant, app_id, version=2)
    _, website = await tenant.call("GET", f"/websites/{wid}")
    assert website["name"] == "示例科技产品站" and website["website_no"] == f["website_nos"][0]


async def test_change_website_domains_may_only_be_removed_and_abandon_frees_the_subject(tenant: Tenant):
    f = await filed(tenant)
    wid = f["website_ids"][0]
    site = f["data"]["websites"][0]
    change = {k: site[k] for k in ("name", "domains", "home_urls", "service_content", "preapprovals", "languages",
                                   "principal_same_as_subject")}
    added = {**change, "domains": [*site["domains"], fs.domain()]}
    status, body = await tenant.call("POST", f"/websites/{wid}/changes", json={"website": added})
    assert status == 422 and body["errors"][0]["field"] == "website.domains[1]"
    assert "只能删除域名" in body["errors"][0]["message"]
    status, body = await tenant.call("POST", f"/websites/{wid}/changes", json={"website": change})
    assert status == 422 and "未作任何修改" in body["detail"]

    change["remark"] = "主要发布公司产品信息"
    status, created = await tenant.call("POST", f"/websites/{wid}/changes", json={"website": change})
    assert status == 201, created
    await reject(tenant, created["application_id"], "请补充说明")
    status, body = await tenant.call("POST", f"/applications/{created['application_id']}/abandon")
    assert status == 200 and body["status"] == "ABANDONED", body
    status, again = await tenant.call("POST", f"/websites/{wid}/changes", json={"website": change})
    assert status == 201, again


async def test_change_access_approved_then_cancel_access_takes_effect_at_once(system: System, tenant: Tenant):
    f = await filed(tenant)
    wid, sid = f["website_ids"][0], f["subject_id"]
    access = {"access_methods": ["CLOUD", "COLOCATION"],
              "ip_ranges": [{"start_ip": "198.51.100.1", "end_ip": "198.51.100.9"}], "server_locations": ["BJ", "SH"]}
    status, created = await tenant.call("PUT", f"/websites/{wid}/accesses/current", json=access)
    assert status == 201 and created["type"] == "CHANGE_ACCESS", created
    case = await case_of(tenant, created["application_id"])
    detail = await case_detail(tenant, case["id"])
    assert detail["application"]["websites"][0]["access"]["ip_ranges"] == ["198.51.100.1-198.51.100.9"]
    await approve(tenant, created["application_id"])
    _, website = await tenant.call("GET", f"/websites/{wid}")
    [acc] = website["accesses"]
    assert acc["ip_ranges"] == ["198.51.100.1-198.51.100.9"] and acc["access_methods"] == ["CLOUD", "COLOCATION"]

    bad = {**access, "ip_ranges": [{"start_ip": "198.51.100.9", "end_ip": "198.51.100.1"}]}
    status, body = await tenant.call("PUT", f"/websites/{wid}/accesses/current", json=bad)
    assert status == 422 and body["errors"][0]["field"] == "ip_ranges[0]"

    status, body = await tenant.call("DELETE", f"/websites/{wid}/accesses/current")
    assert status == 200, body
    assert body["access_status"] == "CANCELLED" and body["website_status"] == "NO_ACCESS"
    assert body["subject_status"] == "SHELL"
    _, website = await tenant.call("GET", f"/websites/{wid}")
    assert website["status"] == "NO_ACCESS" and website["website_no"] == f["website_nos"][0]
    assert [a["status"] for a in website["accesses"]] == ["CANCELLED"]
    _, subject = await tenant.call("GET", f"/subjects/{sid}")
    assert subject["status"] == "SHELL"
    assert subject["applications"][0]["type"] == "CANCEL_ACCESS" and subject["applications"][0]["status"] == "APPROVED"
    status, body = await tenant.call("DELETE", f"/websites/{wid}/accesses/current")
    assert status == 409
    status, body = await tenant.call("PUT", f"/websites/{wid}/accesses/current", json=access)
    assert status == 409
    # the domain stays filed: the website still holds its number
    other = await new_tenant(system)
    data = fs.filing()
    data["websites"][0] = fs.website(domain=f["data"]["websites"][0]["domains"][0])
    status, body = await other.call("POST", "/filings", json=data)
    assert status == 409


async def test_add_access_needs_the_sponsor_credentials(system: System, tenant: Tenant):
    f = await filed(tenant)
    wid, sid = f["website_ids"][0], f["subject_id"]
    status, _ = await tenant.call("DELETE", f"/websites/{wid}/accesses/current")
    assert status == 200
    other = await new_tenant(system)
    access = {"access_methods": ["CLOUD"],
              "ip_ranges": [{"start_ip": "192.0.2.10", "end_ip": "192.0.2.10"}], "server_locations": ["BJ"]}
    number = f["website_nos"][0]
    # the other provider cannot see the website yet
    code, _ = await other.call("GET", f"/websites/{wid}")
    assert code == 404
    status, body = await other.call("POST", f"/websites/{number}/accesses", json={"access": access})
    assert status == 422 and body["errors"][0]["field"] == "sponsor"
    wrong = {"access": access, "sponsor": {"username": f["username"], "password": "Wrong-pass-1"}}
    status, body_wrong = await other.call("POST", f"/websites/{number}/accesses", json=wrong)
    unknown = {"access": access, "sponsor": {"username": "nobody-" + f["username"], "password": f["password"]}}
    status2, body_unknown = await other.call("POST", f"/websites/{number}/accesses", json=unknown)
    assert status == status2 == 403 and body_wrong["detail"] == body_unknown["detail"]
    status, body = await other.call("POST", f"/websites/{fs.domain()}/accesses", json=wrong)
    assert status == 404

    domain = f["data"]["websites"][0]["domains"][0]
    good = {"access": access, "sponsor": {"username": f["username"], "password": f["password"]}}
    status, created = await other.call("POST", f"/websites/{domain}/accesses", json=good)
    assert status == 201 and created["type"] == "ADD_ACCESS" and created["website_id"] == wid, created
    status, body = await other.call("POST", f"/websites/{domain}/accesses", json=good)
    assert status == 409
    code, _ = await tenant.call("GET", f"/applications/{created['application_id']}")
    assert code == 404  # the other provider's application stays its own
    await approve(other, created["application_id"])
    _, website = await other.call("GET", f"/websites/{wid}")
    assert website["status"] == "ACTIVE" and website["website_no"] == number
    assert [(a["provider_id"], a["status"]) for a in website["accesses"]] == [(other.provider_id, "ACTIVE")]
    _, subject = await other.call("GET", f"/subjects/{sid}")
    assert subject["status"] == "ACTIVE"


async def test_one_application_in_flight_per_subject(tenant: Tenant):
    f = await filed(tenant)
    sid, wid = f["subject_id"], f["website_ids"][0]
    subject = {**f["data"]["subject"], "remark": "变更备注"}
    status, created = await tenant.call("POST", f"/subjects/{sid}/changes", json={"subject": subject, "sponsor": _sponsor(f)})
    assert status == 201, created
    calls = [
        ("POST", f"/subjects/{sid}/websites", {"website": _site()}),
        ("POST", f"/subjects/{sid}/changes", {"subject": {**subject, "remark": "再改一次"}, "sponsor": _sponsor(f)}),
        ("PUT", f"/websites/{wid}/accesses/current",
         {"access_methods": ["CLOUD"], "ip_ranges": [{"start_ip": "192.0.2.1", "end_ip": "192.0.2.1"}],
          "server_locations": ["BJ"]}),
        ("DELETE", f"/websites/{wid}/accesses/current", None),
        ("POST", "/cancellations", {"target_type": "SUBJECT", "target_id": sid, "reason_code": "NO_LONGER_OPERATED"}),
    ]
    for method, path, body in calls:
        status, out = await tenant.call(method, path, json=body) if body is not None else await tenant.call(method, path)
        assert status == 409, (path, out)
        assert out["in_flight_application"]["id"] == created["application_id"], out
        assert out["in_flight_application"]["type"] == "CHANGE_SUBJECT"


async def test_other_providers_ids_answer_404(system: System, tenant: Tenant):
    f = await filed(tenant)
    sid, wid = f["subject_id"], f["website_ids"][0]
    status, created = await tenant.call("POST", f"/subjects/{sid}/changes",
                                        json={"subject": {**f["data"]["subject"], "remark": "x"}, "sponsor": _sponsor(f)})
    assert status == 201
    other = await new_tenant(system)
    access = {"access_methods": ["CLOUD"], "ip_ranges": [{"start_ip": "192.0.2.1", "end_ip": "192.0.2.1"}],
              "server_locations": ["BJ"]}
    site = f["data"]["websites"][0]
    change = {k: site[k] for k in ("name", "domains", "home_urls", "service_content", "preapprovals", "languages",
                                   "principal_same_as_subject")}
    calls = [
        ("POST", f"/subjects/{sid}/websites", {"website": _site()}),
        ("POST", f"/subjects/{sid}/changes", {"subject": f["data"]["subject"]}),
        ("POST", f"/websites/{wid}/changes", {"website": change}),
        ("PUT", f"/websites/{wid}/accesses/current", access),
        ("DELETE", f"/websites/{wid}/accesses/current", None),
        ("PUT", f"/applications/{created['application_id']}/proposal", {"subject": f["data"]["subject"]}),
        ("POST", f"/applications/{created['application_id']}/abandon", None),
        ("POST", f"/applications/{created['application_id']}/resubmit", None),
        ("GET", f"/applications/{created['application_id']}", None),
        ("POST", "/subjects/not-a-uuid/websites", {"website": _site()}),
    ]
    for method, path, body in calls:
        status, out = await other.call(method, path, json=body) if body is not None else await other.call(method, path)
        assert status == 404, (method, path, out)
    await application_reaches(tenant, created["application_id"], "PENDING_VERIFICATION")


async def test_returned_add_website_is_corrected_and_resubmitted(system: System, tenant: Tenant):
    from tests.integration.change_helpers import bureau, v_post

    f = await filed(tenant)
    sid = f["subject_id"]
    first = _site()
    status, created = await tenant.call("POST", f"/subjects/{sid}/websites", json={"website": first})
    assert status == 201, created
    app_id, wid = created["application_id"], created["website_id"]
    case = await case_of(tenant, app_id)
    await v_post(system, f"/cases/{case['id']}/verification", {"result": "return", "opinion": "域名实名信息不符"},
                 tenant.headers)
    app = await application_reaches(tenant, app_id, "VERIFY_RETURNED")
    assert app["correctable"] and app["abandonable"] and app["verify_opinion"] == "域名实名信息不符"
    # correction: another domain; the first one is free again at once
    second = _site()
    status, body = await tenant.call("PUT", f"/applications/{app_id}/proposal", json={"access": first["access"]})
    assert status == 422 and body["errors"][0]["field"] == "website"
    status, body = await tenant.call("PUT", f"/applications/{app_id}/proposal", json={"website": second})
    assert status == 200, body
    pool = system.ctx("filing").pool
    assert await pool.fetchval("SELECT count(*) FROM domains WHERE ascii = $1", first["domains"][0]) == 0
    status, body = await tenant.call("POST", f"/applications/{app_id}/resubmit")
    assert status == 200 and body["version"] == 2, body
    case = await case_of(tenant, app_id, version=2)
    await v_post(system, f"/cases/{case['id']}/verification", {"result": "pass", "opinion": "已更正"}, tenant.headers)
    await application_reaches(tenant, app_id, "SUBMITTED_TO_BUREAU", 2)
    out = await v_post(system, f"/cases/{case['id']}/decision", {"decision": "approve"}, bureau(system))
    assert out["website_numbers"] == [{"website_id": wid, "website_no": f["subject_no"] + "-2"}]
    await application_reaches(tenant, app_id, "APPROVED", 2)
    _, website = await tenant.call("GET", f"/websites/{wid}")
    assert [d["domain"] for d in website["domains"]] == second["domains"] and website["status"] == "ACTIVE"


async def test_abandoned_first_filing_frees_its_certificate_and_domains(system: System, tenant: Tenant):
    data = fs.filing()
    status, done = await tenant.call("POST", "/filings", json=data)
    assert status == 201
    status, body = await tenant.call("POST", f"/applications/{done['application_id']}/abandon")
    assert status == 409  # still waiting for verification: not abandonable yet
    await reject(tenant, done["application_id"], "证件照片不清晰")
    status, body = await tenant.call("POST", f"/applications/{done['application_id']}/abandon")
    assert status == 200 and body["status"] == "ABANDONED", body
    _, subject = await tenant.call("GET", f"/subjects/{done['subject_id']}")
    assert subject["status"] == "WITHDRAWN"
    status, again = await tenant.call("POST", "/filings", json=data)
    assert status == 201, again
