"""自主备案 (issue 11) over HTTP, with the real PostgreSQL and RabbitMQ: public sponsor registration
(captcha, per-address limit, account rules), the sponsor's own filing through the wizard's drafts (no
provider, no access record), the province's bureau reviewing it without a provider verification, the
SELF record in filing, search, reporting and detection, a provider adding its access with the sponsor's
credentials, and every refusal and tenant boundary on the way."""

from __future__ import annotations

import json
import uuid

import pytest

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import V, approve, bureau, filed, v_post
from tests.integration.filing_helpers import new_tenant
from tests.integration.selffiling_helpers import (
    SelfSponsor,
    login,
    new_self_sponsor,
    register,
    self_data,
    wizard,
)

ACCESS = {"access_methods": ["CLOUD"], "ip_ranges": [{"start_ip": "198.51.100.7", "end_ip": "198.51.100.7"}],
          "server_locations": ["BJ"]}


@pytest.fixture(autouse=True)
async def registrations_unlimited(system: System):
    """Every test registers from 127.0.0.1: the per-address limit is raised (its own test lowers it)."""
    settings = system.ctx("filing").settings
    saved = settings.sponsor_registrations_per_hour
    settings.sponsor_registrations_per_hour = 10_000
    yield
    settings.sponsor_registrations_per_hour = saved
    await system.ctx("filing").pool.execute("DELETE FROM rate_counters WHERE bucket = 'sponsor_registration'")


async def case_for(system: System, application_id: str, headers: dict) -> list[dict]:
    r = await system.client.get(f"{V}/cases", params={"application_id": application_id, "stage": "all"},
                                headers=headers)
    body = await r.json()
    assert r.status == 200, body
    return body["items"]


async def app_status(s: SelfSponsor, application_id: str, status: str) -> dict:
    async def reached():
        code, body = await s.call("GET", f"/applications/{application_id}")
        assert code == 200, body
        return body if body["status"] == status else None

    return await s.system.eventually(reached)


# ---------------------------------------------------------------- registration


async def test_registration_and_login_as_a_sponsor_owning_nothing(system: System):
    username = "SfReg" + uuid.uuid4().hex[:8]
    status, out = await register(system, username=username, phone="13900001111", email="a@example.com")
    assert status == 201, out
    user = out["user"]
    assert user["role"] == "sponsor" and user["provider_id"] is None and user["province"] == "BJ"
    status, out = await login(system, username, "selfpass1")
    assert status == 201, out
    headers = {"Authorization": f"Bearer {out['token']}"}
    r = await system.client.get("/api/filing/me/applications", headers=headers)
    assert r.status == 200 and (await r.json())["items"] == []
    r = await system.client.get("/api/filing/subjects", headers=headers)
    assert r.status == 200 and (await r.json())["total"] == 0
    # the same name in another case is taken
    status, out = await register(system, username=username.lower())
    assert status == 409 and out["errors"][0]["field"] == "username", out
    # a password stored only as its hash
    stored = await system.ctx("filing").pool.fetchval("SELECT password_hash FROM users WHERE id = $1",
                                                      uuid.UUID(user["id"]))
    assert "selfpass1" not in stored


async def test_registration_refuses_bad_captcha_and_bad_fields(system: System):
    status, out = await register(system, captcha="ZZZZZ")
    assert status == 422 and out["errors"] == [{"field": "captcha", "message": "验证码错误，请重新输入"}], out
    status, out = await register(system, captcha_id=None)
    assert status == 422 and out["errors"][0]["field"] == "captcha"
    status, out = await register(system, username="x", password="123456", province="XX", display_name="")
    assert status == 422, out
    fields = {e["field"]: e["message"] for e in out["errors"]}
    assert set(fields) == {"username", "password", "province", "display_name"}, out
    assert "数字" in fields["password"] and "省份" in fields["province"]
    name = "sf" + uuid.uuid4().hex[:8]
    status, out = await register(system, username=name, password=name)
    assert status == 422 and out["errors"][0]["field"] == "password"
    # nothing half-written
    assert not await system.ctx("filing").pool.fetchval("SELECT true FROM users WHERE username = $1", name)


async def test_registration_is_rate_limited_per_address(system: System):
    pool = system.ctx("filing").pool
    await pool.execute("DELETE FROM rate_counters WHERE bucket = 'sponsor_registration'")
    system.ctx("filing").settings.sponsor_registrations_per_hour = 2
    assert (await register(system))[0] == 201
    assert (await register(system, captcha="WRONG"))[0] == 422  # a refused attempt counts too
    cid_status, out = await register(system)
    assert cid_status == 429 and out["retry_after"] > 0 and "频繁" in out["detail"], out


# ---------------------------------------------------------------- the whole flow


async def test_self_filing_reviewed_by_the_bureau_then_a_provider_adds_access(system: System):
    s = await new_self_sponsor(system)
    provider = await new_tenant(system)
    data = self_data(2)
    data["websites"][0]["access"] = {}  # a form's empty access fields are ignored in a self-filing
    status, done, draft = await wizard(s, data)
    assert status == 201, done
    assert done["status"] == "SUBMITTED_TO_BUREAU" and done["username"] == s.username and done["password"] is None
    app_id, sid = done["application_id"], done["subject_id"]

    # the sponsor follows it; nobody's provider sees it
    status, mine = await s.call("GET", "/me/applications")
    assert status == 200 and [a["id"] for a in mine["items"]] == [app_id]
    assert mine["items"][0]["filing_method"] == "SELF" and mine["items"][0]["progress"] == "审核中"
    code, _ = await provider.call("GET", f"/subjects/{sid}")
    assert code == 404
    code, _ = await provider.call("GET", f"/applications/{app_id}")
    assert code == 404
    _, subjects = await provider.call("GET", "/subjects")
    assert sid not in {x["id"] for x in subjects["items"]}

    # verification: with the bureau at once (no provider verification), only the province's bureau sees it
    cases = await system.eventually(lambda: case_for(system, app_id, bureau(system)))
    case = cases[0]
    assert case["status"] == "SUBMITTED_TO_BUREAU" and case["provider_id"] == ""
    assert await case_for(system, app_id, provider.headers) == []
    assert await case_for(system, app_id, bureau(system, "SH")) == []
    r = await system.client.get(f"{V}/cases", headers=bureau(system))
    assert case["id"] in {c["id"] for c in (await r.json())["items"]}  # the bureau's default queue
    r = await system.client.post(f"{V}/cases/{case['id']}/verification", json={"result": "pass", "opinion": "x"},
                                 headers=provider.headers)
    assert r.status == 404
    out = await v_post(system, f"/cases/{case['id']}/decision", {"decision": "approve", "reason": "同意"},
                       bureau(system))
    subject_no = out["subject_no"]
    assert subject_no.startswith("京ICP备") and len(out["website_numbers"]) == 2

    # back in filing: numbers, a SELF record, no access
    app = await app_status(s, app_id, "APPROVED")
    assert app["subject_no"] == subject_no
    status, subject = await s.call("GET", f"/subjects/{sid}")
    assert status == 200 and subject["status"] == "ACTIVE" and subject["filing_method"] == "SELF"
    assert all(w["accesses"] == [] and w["website_no"] for w in subject["websites"]), subject["websites"]
    status, mine = await s.call("GET", "/me/applications")
    assert mine["items"][0]["progress"] == "已通过" and mine["items"][0]["subject_no"] == subject_no
    domain = data["websites"][0]["domains"][0]
    _, found = await provider.call("GET", "/filed-subjects", params={"domain": domain})
    assert [(x["id"], x["filing_method"], x["filing_method_name"], x["served_by_me"]) for x in found["items"]] == [
        (sid, "SELF", "自主备案", False)]

    # filing.record.changed carries SELF and no provider; reporting and detection take it without errors
    pool = system.ctx("filing").pool
    body = await pool.fetchval(
        """SELECT convert_from(body, 'UTF8') FROM outbox WHERE routing_key = 'filing.record.changed'
           AND convert_from(body, 'UTF8')::jsonb->'payload'->>'subject_id' = $1 ORDER BY seq DESC LIMIT 1""", sid)
    event = json.loads(body)
    assert event["payload"]["filing_method"] == "SELF" and event["payload"]["provider_id"] == ""
    assert event["provider_id"] is None
    for service in ("reporting", "detection"):
        spool = system.ctx(service).pool
        assert await system.eventually(
            lambda spool=spool: spool.fetchval("SELECT true FROM inbox WHERE message_id = $1",
                                               uuid.UUID(event["id"]))), service

    async def in_reporting():
        r = await system.client.get("/api/reporting/filings", params={"domain": domain}, headers=bureau(system))
        items = (await r.json()).get("items") or []
        return items if r.status == 200 and items else None

    items = await system.eventually(in_reporting)
    assert items[0]["filing_method"] == "SELF" and items[0]["filing_method_name"] == "自主备案"
    r = await system.client.get("/api/reporting/filings", params={"domain": domain}, headers=provider.headers)
    assert r.status == 200 and (await r.json())["items"] == []  # not the provider's before it serves it

    # 1.4.2: the provider adds its access with the sponsor's credentials
    wid = subject["websites"][0]["id"]
    status, out = await provider.call("POST", f"/websites/{domain}/accesses", json={"access": ACCESS})
    assert status == 422 and out["errors"][0]["field"] == "sponsor"
    wrong = {"access": ACCESS, "sponsor": {"username": s.username, "password": "wrong-pass1"}}
    status, out = await provider.call("POST", f"/websites/{domain}/accesses", json=wrong)
    assert status == 403, out
    good = {"access": ACCESS, "sponsor": {"username": s.username, "password": s.password}}
    status, created = await provider.call("POST", f"/websites/{domain}/accesses", json=good)
    assert status == 201 and created["type"] == "ADD_ACCESS" and created["website_id"] == wid, created
    await approve(provider, created["application_id"])
    _, found = await provider.call("GET", "/filed-subjects", params={"domain": domain})
    assert found["items"][0]["served_by_me"] is True and found["items"][0]["filing_method"] == "SELF"
    status, website = await provider.call("GET", f"/websites/{wid}")
    assert status == 200 and [(a["provider_id"], a["status"]) for a in website["accesses"]] == [
        (provider.provider_id, "ACTIVE")]
    # the sponsor sees the provider's application for its subject too
    status, mine = await s.call("GET", "/me/applications")
    assert {a["type"] for a in mine["items"]} == {"FIRST_FILING", "ADD_ACCESS"}


# ---------------------------------------------------------------- refusals


async def test_self_filing_of_a_filed_certificate_or_domain_is_refused(system: System):
    provider = await new_tenant(system)
    f = await filed(provider)
    s = await new_self_sponsor(system)

    data = self_data()
    data["subject"]["cert_number"] = f["data"]["subject"]["cert_number"]
    status, out, draft = await wizard(s, data)
    assert status == 409 and out["errors"][0]["field"] == "subject.cert_number", out
    assert "已备案" in out["errors"][0]["message"] and out["saved"] is True

    status, _ = await s.call("DELETE", f"/drafts/{draft}")
    assert status == 204
    data = self_data()
    data["websites"][0]["domains"] = f["data"]["websites"][0]["domains"]
    data["websites"][0]["home_urls"] = f["data"]["websites"][0]["home_urls"]
    status, out, draft = await wizard(s, data)
    assert status == 409 and out["errors"][0]["field"] == "websites[0].domains[0]", out
    assert f["website_nos"][0] in out["errors"][0]["message"]

    # a domain in a provider's application still in progress
    await s.call("DELETE", f"/drafts/{draft}")
    pending = fs.filing(1)
    status, done = await provider.call("POST", "/filings", json=pending)
    assert status == 201, done
    data = self_data()
    data["websites"][0]["domains"] = pending["websites"][0]["domains"]
    data["websites"][0]["home_urls"] = pending["websites"][0]["home_urls"]
    status, out, draft = await wizard(s, data)
    assert status == 409 and out["errors"][0]["field"] == "websites[0].domains[0]", out
    assert "办理中" in out["errors"][0]["message"]

    # another province than the one registered in: 422 on the subject's province
    await s.call("DELETE", f"/drafts/{draft}")
    data = self_data()
    data["subject"].update(province="310000", city="310100", county="310101", cert_address="上海市黄浦区示例路1号")
    status, out, draft = await wizard(s, data)
    assert status == 422 and out["errors"][0]["field"] == "subject.province", out
    await s.call("DELETE", f"/drafts/{draft}")
    assert await system.ctx("filing").pool.fetchval(
        "SELECT count(*) FROM subjects WHERE sponsor_user_id = $1", uuid.UUID(s.user_id)) == 0

    # one subject per sponsor account
    status, done, _ = await wizard(s, self_data())
    assert status == 201, done
    status, out = await s.call("POST", "/drafts")
    assert status == 409 and "一个主办者账号只能自主备案一个主体" in out["detail"], out


async def test_drafts_and_applications_are_the_owners_alone(system: System):
    a, b = await new_self_sponsor(system), await new_self_sponsor(system)
    provider = await new_tenant(system)
    status, draft = await a.call("POST", "/drafts")
    assert status == 201 and draft["filing_method"] == "SELF"
    did = draft["id"]
    data = self_data()
    for who in (b, provider):
        assert (await who.call("GET", f"/drafts/{did}"))[0] == 404
        assert (await who.call("PUT", f"/drafts/{did}/subject", json=data["subject"]))[0] == 404
        assert (await who.call("POST", f"/drafts/{did}/websites", json=data["websites"][0]))[0] == 404
        assert (await who.call("POST", f"/drafts/{did}/submit"))[0] == 404
        assert (await who.call("DELETE", f"/drafts/{did}"))[0] == 404
    assert (await b.call("GET", "/drafts/current"))[0] == 404
    status, current = await provider.call("GET", "/drafts/current")
    assert status == 404
    # a provider's operator draft is not the sponsor's either
    status, pdraft = await provider.call("POST", "/drafts")
    assert status == 201 and pdraft["filing_method"] == "PROXY"
    assert (await a.call("GET", f"/drafts/{pdraft['id']}"))[0] == 404

    assert (await a.call("DELETE", f"/drafts/{did}"))[0] == 204
    status, done, _ = await wizard(a, data)
    assert status == 201, done
    app_id, sid = done["application_id"], done["subject_id"]
    for who in (b, provider):
        assert (await who.call("GET", f"/applications/{app_id}"))[0] == 404
        assert (await who.call("GET", f"/subjects/{sid}"))[0] == 404
    _, mine = await b.call("GET", "/me/applications")
    assert mine["items"] == []
    # a sponsor account a provider made (代为备案) does not self-file, nor see the self-filing
    f = await filed(provider)
    status, out = await login(system, f["username"], f["password"])
    assert status == 201, out
    proxy = SelfSponsor(system, out["user"]["id"], f["username"], f["password"], out["token"])
    status, out = await proxy.call("POST", "/drafts")
    assert status == 403, out
    assert (await proxy.call("GET", f"/applications/{app_id}"))[0] == 404
    _, mine = await proxy.call("GET", "/me/applications")
    assert [x["subject_id"] for x in mine["items"]] == [f["subject_id"]]
    # the provider cannot add access with another sponsor's credentials
    cases = await system.eventually(lambda: case_for(system, app_id, bureau(system)))
    await v_post(system, f"/cases/{cases[0]['id']}/decision", {"decision": "approve", "reason": "同意"},
                 bureau(system))
    await app_status(a, app_id, "APPROVED")
    domain = data["websites"][0]["domains"][0]
    other = {"access": ACCESS, "sponsor": {"username": b.username, "password": b.password}}
    status, out = await provider.call("POST", f"/websites/{domain}/accesses", json=other)
    assert status == 403, out
    # registration and the sponsor's list are not for other roles
    r = await system.client.get("/api/filing/me/applications", headers=provider.headers)
    assert r.status == 403


async def test_a_rejected_self_filing_is_abandoned_by_its_sponsor_and_filed_again(system: System):
    s, other = await new_self_sponsor(system), await new_self_sponsor(system)
    provider = await new_tenant(system)
    data = self_data()
    status, done, _ = await wizard(s, data)
    assert status == 201, done
    app_id = done["application_id"]
    # not before a rejection; not another sponsor, not a provider
    status, out = await s.call("POST", f"/me/applications/{app_id}/abandon")
    assert status == 409, out
    case = (await system.eventually(lambda: case_for(system, app_id, bureau(system))))[0]
    await v_post(system, f"/cases/{case['id']}/decision", {"decision": "reject", "reason": "网站名称与内容不符"},
                 bureau(system))
    await app_status(s, app_id, "REJECTED")
    _, mine = await s.call("GET", "/me/applications")
    assert mine["items"][0]["progress"] == "已驳回" and mine["items"][0]["bureau_reason"] == "网站名称与内容不符"
    assert mine["items"][0]["abandonable"] is True
    # still in flight: the same sponsor cannot file again, nor anybody else the same domain
    assert (await s.call("POST", "/drafts"))[0] == 409
    assert (await other.call("POST", f"/me/applications/{app_id}/abandon"))[0] == 404
    assert (await provider.call("POST", f"/me/applications/{app_id}/abandon"))[0] == 403
    status, _ = await s.call("POST", f"/me/applications/{app_id}/abandon")
    assert status == 204
    await app_status(s, app_id, "ABANDONED")

    async def closed():
        r = await system.client.get(f"{V}/cases/{case['id']}", headers=system.auth("admin"))
        body = await r.json()
        return body if body["status"] == "ABANDONED" else None

    await system.eventually(closed)
    # certificate and domain released: the sponsor files them again
    status, again, _ = await wizard(s, data)
    assert status == 201 and again["subject_id"] != done["subject_id"], again


async def test_a_self_filing_with_preapproval_waits_for_it_with_the_bureau(system: System):
    s = await new_self_sponsor(system)
    data = self_data()
    data["websites"][0]["preapprovals"] = [{"type": "NEWS", "approval_no": "京-12345号"}]
    status, done, _ = await wizard(s, data)
    assert status == 201 and done["needs_preapproval"] is True and done["preapproval_contacts"], done
    app_id = done["application_id"]
    case = (await system.eventually(lambda: case_for(system, app_id, bureau(system))))[0]
    assert case["status"] == "PREAPPROVAL_PENDING"
    await app_status(s, app_id, "PREAPPROVAL_PENDING")  # told by verification, as after a provider's 核实
    _, mine = await s.call("GET", "/me/applications")
    assert mine["items"][0]["progress"] == "前置审批中" and mine["items"][0]["abandonable"] is False
    await v_post(system, f"/cases/{case['id']}/preapproval", {"result": "pass", "note": "已取得前置审批"}, bureau(system))
    await app_status(s, app_id, "SUBMITTED_TO_BUREAU")
    await v_post(system, f"/cases/{case['id']}/decision", {"decision": "approve", "reason": "同意"}, bureau(system))
    await app_status(s, app_id, "APPROVED")
