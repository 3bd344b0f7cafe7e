"""Filed records: filters, paging, details, and tenant isolation on every endpoint of the feature."""

from __future__ import annotations

import datetime as dt
import uuid

from shared.contracts.verification import ApplicationReturned
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import Tenant, new_tenant, now, publish_outcome, wait_handled


async def _file(t: Tenant, **subject) -> tuple[dict, dict]:
    data = fs.filing()
    data["subject"].update(subject)
    status, done = await t.call("POST", "/filings", json=data)
    assert status == 201, done
    return data, done


async def test_empty_query_lists_everything_of_the_provider_with_paging(tenant: Tenant):
    created = [await _file(tenant, name=f"分页测试{i}有限公司") for i in range(5)]
    status, page1 = await tenant.call("GET", "/subjects", params={"page_size": "2"})
    assert status == 200 and page1["total"] == 5 and len(page1["items"]) == 2
    status, page3 = await tenant.call("GET", "/subjects", params={"page_size": "2", "page": "3"})
    assert len(page3["items"]) == 1 and page3["total"] == 5
    status, beyond = await tenant.call("GET", "/subjects", params={"page_size": "2", "page": "9"})
    assert beyond["items"] == [] and beyond["total"] == 5
    ids = {i["id"] for p in (page1, page3) for i in p["items"]}
    _, page2 = await tenant.call("GET", "/subjects", params={"page_size": "2", "page": "2"})
    ids |= {i["id"] for i in page2["items"]}
    assert ids == {d["subject_id"] for _, d in created}
    item = page1["items"][0]
    assert item["status"] == "PENDING" and item["filing_method"] == "PROXY" and item["website_count"] == 1
    assert item["application"]["status"] == "PENDING_VERIFICATION"
    status, sites = await tenant.call("GET", "/websites")
    assert sites["total"] == 5


async def test_combined_filters(tenant: Tenant):
    data, done = await _file(tenant, name="组合查询甲科技有限公司")
    await _file(tenant, name="组合查询乙科技有限公司")
    domain = data["websites"][0]["domains"][0]
    today = dt.date.today().isoformat()
    cases = [
        ({"name": "甲科技"}, 1),
        ({"name": "组合查询"}, 2),
        ({"name": "组合查询", "cert_number": data["subject"]["cert_number"].lower()}, 1),
        ({"domain": domain[3:12]}, 1),
        ({"domain": domain.upper()}, 1),
        ({"status": "PENDING", "filing_method": "PROXY", "name": "组合查询"}, 2),
        ({"status": "ACTIVE", "name": "组合查询"}, 0),
        ({"filing_method": "SELF"}, 0),
        ({"created_from": today, "created_to": today, "name": "组合查询"}, 2),
        ({"created_to": "2000-01-01"}, 0),
        ({"approved_from": "2000-01-01"}, 0),
        ({"application_status": "PENDING_VERIFICATION", "name": "甲科技"}, 1),
        ({"name": "100%_no_match"}, 0),
    ]
    for params, expected in cases:
        status, body = await tenant.call("GET", "/subjects", params=params)
        assert status == 200, (params, body)
        assert body["total"] == expected, params
    status, body = await tenant.call("GET", "/websites", params={"domain": domain, "subject_name": "甲科技"})
    assert body["total"] == 1 and body["items"][0]["domains"] == [domain]
    status, body = await tenant.call("GET", "/websites", params={"subject_id": done["subject_id"]})
    assert body["total"] == 1
    # invalid filter values are a 422 naming the parameter, not a 500
    status, body = await tenant.call("GET", "/subjects", params={"status": "NOPE"})
    assert status == 422 and body["errors"][0]["field"] == "status"
    status, body = await tenant.call("GET", "/subjects", params={"created_from": "yesterday"})
    assert status == 422 and body["errors"][0]["field"] == "created_from"
    status, body = await tenant.call("GET", "/subjects", params={"page_size": "1000"})
    assert status == 422


async def test_details_show_websites_access_and_history(tenant: Tenant):
    data, done = await _file(tenant)
    status, detail = await tenant.call("GET", f"/subjects/{done['subject_id']}")
    assert status == 200
    assert detail["name"] == data["subject"]["name"] and detail["sponsor_username"] == done["username"]
    [site] = detail["websites"]
    assert site["domains"][0]["domain"] == data["websites"][0]["domains"][0]
    assert site["principal"] == detail["principal"]  # same as the subject principal
    assert site["accesses"][0]["ip_ranges"] == ["203.0.113.10-203.0.113.20"]
    assert detail["applications"][0]["history"][0]["status"] == "PENDING_VERIFICATION"
    status, wdetail = await tenant.call("GET", f"/websites/{site['id']}")
    assert status == 200 and wdetail["subject"]["id"] == done["subject_id"]
    assert wdetail["applications"][0]["id"] == done["application_id"]


async def test_another_tenant_gets_404_on_every_endpoint(system: System, tenant: Tenant):
    _, done = await _file(tenant)
    draft_status, draft = await tenant.call("POST", "/drafts")
    assert draft_status == 201
    did = draft["id"]
    await tenant.call("PUT", f"/drafts/{did}/subject", json=fs.subject())
    _, with_site = await tenant.call("POST", f"/drafts/{did}/websites", json=fs.website())
    wid = with_site["website_id"]
    env = await publish_outcome(system, ApplicationReturned(
        application_id=done["application_id"], version=1, case_id="c", provider_id=tenant.provider_id,
        opinion="请更正", returned_at=now(), returned_by="v"), tenant.provider_id)
    await wait_handled(system, env.id)
    _, app_detail = await tenant.call("GET", f"/applications/{done['application_id']}")

    other = await new_tenant(system)
    sid, aid, site_id = done["subject_id"], done["application_id"], done["website_ids"][0]
    calls = [
        ("GET", f"/drafts/{did}", None),
        ("PUT", f"/drafts/{did}/subject", fs.subject()),
        ("POST", f"/drafts/{did}/websites", fs.website()),
        ("PUT", f"/drafts/{did}/websites/{wid}", fs.website()),
        ("DELETE", f"/drafts/{did}/websites/{wid}", None),
        ("PUT", f"/drafts/{did}/step", {"another_website": False}),
        ("POST", f"/drafts/{did}/submit", None),
        ("DELETE", f"/drafts/{did}", None),
        ("GET", f"/subjects/{sid}", None),
        ("GET", f"/subjects/{sid}/history", None),
        ("GET", f"/websites/{site_id}", None),
        ("GET", f"/applications/{aid}", None),
        ("PUT", f"/applications/{aid}", app_detail["data"]),
        ("POST", f"/applications/{aid}/resubmit", None),
    ]
    for method, path, body in calls:
        status, answer = await other.call(method, path, json=body) if body is not None else await other.call(method, path)
        assert status == 404, (method, path, status, answer)
    # and the lists do not show A's records to B
    for path, params in (("/subjects", {}), ("/websites", {}), ("/subjects", {"cert_number": "x"})):
        _, lst = await other.call("GET", path, params=params)
        assert sid not in {i.get("id") for i in lst["items"]} and all(i.get("subject_id") != sid for i in lst["items"])
    _, lst = await other.call("GET", "/subjects")
    assert lst["total"] == 0
    # A still has all of it, untouched
    assert (await tenant.call("GET", f"/drafts/{did}"))[0] == 200
    assert (await tenant.call("GET", f"/subjects/{sid}"))[0] == 200
    # unknown or malformed ids are 404 too
    for path in (f"/subjects/{uuid.uuid4()}", "/subjects/nope", "/websites/nope", "/applications/nope", "/drafts/nope"):
        assert (await tenant.call("GET", path))[0] == 404


async def test_bureau_sees_its_province_and_sponsor_its_subject(system: System, tenant: Tenant):
    data, done = await _file(tenant)
    sid = done["subject_id"]
    bj = system.auth("bureau", user_id="bj-reviewer", province="BJ")
    sh = system.auth("bureau", user_id="sh-reviewer", province="SH")
    status, body = await tenant.call("GET", f"/subjects/{sid}", headers=bj)
    assert status == 200
    assert (await tenant.call("GET", f"/subjects/{sid}", headers=sh))[0] == 404
    _, lst = await tenant.call("GET", "/subjects", params={"cert_number": data["subject"]["cert_number"]}, headers=bj)
    assert lst["total"] == 1
    _, lst = await tenant.call("GET", "/subjects", params={"cert_number": data["subject"]["cert_number"]}, headers=sh)
    assert lst["total"] == 0
    sponsor_id = str(await system.ctx("filing").pool.fetchval(
        "SELECT id FROM users WHERE username = $1", done["username"]))
    own = system.auth("sponsor", user_id=sponsor_id, provider_id=tenant.provider_id)
    status, body = await tenant.call("GET", f"/subjects/{sid}", headers=own)
    assert status == 200
    _, lst = await tenant.call("GET", "/websites", headers=own)
    assert lst["total"] == 1 and lst["items"][0]["subject_id"] == sid
    stranger = system.auth("sponsor", user_id=str(uuid.uuid4()), provider_id=tenant.provider_id)
    assert (await tenant.call("GET", f"/subjects/{sid}", headers=stranger))[0] == 404
    # sponsors and bureaus do not enter filings
    assert (await tenant.call("POST", "/filings", json=fs.filing(), headers=own))[0] == 403
