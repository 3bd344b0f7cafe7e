"""Blacklists (issue 13): the filing blacklist (1.9.1) maintained by the regulator and the admin,
its query rules and detail, the refusal at entry through filing's own projection; the
illegal-access list (1.9.2) from filing's record events."""

from __future__ import annotations

import uuid

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import bureau, filed
from tests.integration.detection_helpers import D, get, provider

B = D + "/blacklist"


async def _post(system: System, path: str, body: dict, headers: dict, expect: int) -> dict:
    r = await system.client.post(path, json=body, headers=headers)
    out = await r.json()
    assert r.status == expect, out
    return out


async def _filing_knows(system: System, entry_id: str, active: bool) -> None:
    pool = system.ctx("filing").pool
    await system.eventually(lambda: _is(pool, entry_id, active))


async def _is(pool, entry_id: str, active: bool) -> bool:
    return await pool.fetchval("SELECT active FROM blacklist WHERE entry_id = $1", uuid.UUID(entry_id)) is active


async def test_regulator_lists_and_removes_entries_with_the_query_rules(system: System):
    bj, gd = bureau(system, "BJ"), bureau(system, "GD")
    name = f"黑名单测试公司{uuid.uuid4().hex[:6]}"
    subj = await _post(system, B, {"kind": "SUBJECT", "sponsor_name": name, "cert_type": "BIZ_LICENSE",
                                   "cert_number": fs.uscc(), "reason": "提供虚假材料"}, bj, 201)
    dom = fs.domain()
    site = await _post(system, B, {"kind": "WEBSITE", "website_name": "违规网站", "domains": [dom.upper()],
                                   "reason": "传播违法信息"}, bj, 201)
    assert site["domains"] == [dom] and subj["active"] and subj["listed_province"] == "BJ"
    t = await provider(system)
    # exactly one of sponsor_name / domain
    await get(system, "/blacklist", t.headers, expect=400)
    await get(system, "/blacklist", t.headers, expect=400, sponsor_name="x", domain="y")
    subjects = await get(system, "/blacklist", t.headers, sponsor_name="", page_size=200)
    assert all(i["kind"] == "SUBJECT" for i in subjects["items"]) and subj["id"] in {i["id"] for i in subjects["items"]}
    websites = await get(system, "/blacklist", t.headers, domain="", page_size=200)
    assert all(i["kind"] == "WEBSITE" for i in websites["items"]) and site["id"] in {i["id"] for i in websites["items"]}
    assert [i["id"] for i in (await get(system, "/blacklist", t.headers, sponsor_name=name[-8:]))["items"]] == [subj["id"]]
    assert [i["id"] for i in (await get(system, "/blacklist", t.headers, domain=dom[1:10]))["items"]] == [site["id"]]
    detail = await get(system, f"/blacklist/{subj['id']}", t.headers)
    assert detail["reason"] == "提供虚假材料" and detail["cert_type_name"]
    await get(system, f"/blacklist/{uuid.uuid4()}", t.headers, expect=404)
    await get(system, "/blacklist/not-a-uuid", t.headers, expect=404)
    # refusals: providers cannot maintain; bad input names the field; duplicates; other provinces' entries
    await _post(system, B, {"kind": "WEBSITE", "domains": [fs.domain()], "reason": "x"}, t.headers, 403)
    out = await _post(system, B, {"kind": "SUBJECT", "sponsor_name": "某", "cert_type": "BIZ_LICENSE",
                                  "cert_number": "123", "reason": "x"}, bj, 422)
    assert out["errors"][0]["field"] == "cert_number"
    out = await _post(system, B, {"kind": "WEBSITE", "domains": ["not a domain"], "reason": "x"}, bj, 422)
    assert out["errors"][0]["field"] == "domains[0]"
    await _post(system, B, {"kind": "WEBSITE", "domains": [fs.domain()]}, bj, 422)  # no reason
    await _post(system, B, {"kind": "WEBSITE", "domains": [fs.domain(), dom], "reason": "x"}, gd, 409)
    await _post(system, f"{B}/{site['id']}/removal", {"reason": "误列"}, gd, 403)
    await _post(system, f"{B}/{site['id']}/removal", {"reason": "误列"}, t.headers, 403)
    removed = await _post(system, f"{B}/{site['id']}/removal", {"reason": "误列"}, system.auth("admin"), 200)
    assert not removed["active"] and removed["removal_reason"] == "误列"
    await _post(system, f"{B}/{site['id']}/removal", {"reason": "again"}, bj, 409)
    assert site["id"] not in {i["id"] for i in (await get(system, "/blacklist", t.headers, domain=dom))["items"]}
    assert not (await get(system, f"/blacklist/{site['id']}", t.headers))["active"]  # the detail keeps it


async def test_personal_certificates_are_masked_for_providers_and_never_in_messages(system: System):
    number = fs.resident_id()
    e = await _post(system, B, {"kind": "SUBJECT", "sponsor_name": "张某", "cert_type": "RESIDENT_ID",
                                "cert_number": number, "reason": "冒用他人身份"}, bureau(system), 201)
    assert e["cert_number"] == number  # the regulator sees it
    t = await provider(system)
    seen = (await get(system, f"/blacklist/{e['id']}", t.headers))["cert_number"]
    assert seen != number and seen[:6] == number[:6] and "*" in seen
    body = await system.ctx("detection").pool.fetchval(
        "SELECT convert_from(body, 'UTF8') FROM outbox WHERE convert_from(body, 'UTF8') LIKE $1", f"%{e['id']}%")
    assert body and number not in body


async def test_filing_refuses_blacklisted_certificates_and_domains_until_removed(system: System):
    t = await provider(system)
    bj = bureau(system)
    data = fs.filing(2)
    cert = data["subject"]["cert_number"]
    subj = await _post(system, B, {"kind": "SUBJECT", "sponsor_name": data["subject"]["name"],
                                   "cert_type": "BIZ_LICENSE", "cert_number": cert.lower(), "reason": "虚假备案"}, bj, 201)
    await _filing_knows(system, subj["id"], True)
    status, out = await t.call("POST", "/filings", json=data)
    assert status == 422 and out["errors"][0]["field"] == "subject.cert_number", out
    assert "黑名单" in out["errors"][0]["message"] and "虚假备案" in out["errors"][0]["message"]
    # a domain of the second website
    dom = data["websites"][1]["domains"][0]
    site = await _post(system, B, {"kind": "WEBSITE", "domains": [dom], "reason": "涉赌"}, bj, 201)
    await _post(system, f"{B}/{subj['id']}/removal", {"reason": "已核实"}, bj, 200)
    await _filing_knows(system, subj["id"], False)
    await _filing_knows(system, site["id"], True)
    status, out = await t.call("POST", "/filings", json=data)
    assert status == 422 and [e["field"] for e in out["errors"]] == ["websites[1].domains[0]"], out
    # removal lets the filing through; it is filed, then adding a blacklisted website to it is refused
    await _post(system, f"{B}/{site['id']}/removal", {"reason": "已整改"}, bj, 200)
    await _filing_knows(system, site["id"], False)
    done = await filed(t, data=data)
    new_dom = fs.domain()
    later = await _post(system, B, {"kind": "WEBSITE", "domains": [new_dom], "reason": "涉诈"}, bj, 201)
    await _filing_knows(system, later["id"], True)
    status, out = await t.call("POST", f"/subjects/{done['subject_id']}/websites",
                               json={"website": fs.website(domain=new_dom)})
    assert status == 422 and out["errors"][0]["field"].endswith("domains[0]") and "黑名单" in out["detail"], out


async def test_illegal_access_lists_blacklisted_filings_the_provider_still_serves(system: System):
    t, other = await provider(system), await provider(system)
    bj = bureau(system)
    data = fs.filing(2)
    done = await filed(t, data=data)
    subject_pool = system.ctx("detection").pool
    await system.eventually(lambda: subject_pool.fetchval(
        "SELECT count(*) = 2 FROM filed_accesses a JOIN filed_websites w USING (website_id) WHERE w.subject_id = $1",
        uuid.UUID(done["subject_id"])))
    assert (await get(system, "/illegal-access", t.headers, website_no=done["subject_no"]))["total"] == 0
    dom = data["websites"][1]["domains"][0]
    entry = await _post(system, B, {"kind": "WEBSITE", "domains": [dom], "reason": "涉赌"}, bj, 201)
    page = await get(system, "/illegal-access", t.headers, domain=dom)
    assert page["total"] == 1
    item = page["items"][0]
    assert (item["website_no"], item["blacklist_id"], item["blacklist_reason"]) == (
        done["website_nos"][1], entry["id"], "涉赌")
    assert item["ip_ranges"] == ["203.0.113.10-203.0.113.20"] and item["provider_id"] == t.provider_id
    # combinable conditions; other providers do not serve it
    assert (await get(system, "/illegal-access", t.headers, domain=dom, kind="SUBJECT"))["total"] == 0
    assert (await get(system, "/illegal-access", t.headers, domain=dom, website_no=done["website_nos"][1]))["total"] == 1
    assert (await get(system, "/illegal-access", other.headers, domain=dom))["total"] == 0
    assert (await get(system, "/illegal-access", bj, domain=dom))["total"] == 1
    assert (await get(system, "/illegal-access", bureau(system, "GD"), domain=dom))["total"] == 0
    # the whole subject listed: both websites
    subj = await _post(system, B, {"kind": "SUBJECT", "sponsor_name": data["subject"]["name"], "cert_type": "BIZ_LICENSE",
                                   "cert_number": data["subject"]["cert_number"], "reason": "主体违规"}, bj, 201)
    listed = await get(system, "/illegal-access", t.headers, kind="SUBJECT", website_no=done["subject_no"])
    assert {i["website_no"] for i in listed["items"]} == set(done["website_nos"])
    # the provider stops serving the website: it leaves the list (filing's access event)
    website_id = next(i["website_id"] for i in listed["items"] if i["website_no"] == done["website_nos"][1])
    status, out = await t.call("DELETE", f"/websites/{website_id}/accesses/current")
    assert status == 200, out

    async def gone():
        page = await get(system, "/illegal-access", t.headers, domain=dom)
        return page["total"] == 0

    await system.eventually(gone)
    await _post(system, f"{B}/{subj['id']}/removal", {"reason": "已整改"}, bj, 200)
    assert (await get(system, "/illegal-access", t.headers, website_no=done["subject_no"]))["total"] == 0


async def test_the_entry_wizard_refuses_a_blacklisted_certificate_and_domain_at_their_steps(system: System):
    t = await provider(system)
    bj = bureau(system)
    data = fs.filing(1)
    dom = data["websites"][0]["domains"][0]
    subj = await _post(system, B, {"kind": "SUBJECT", "sponsor_name": data["subject"]["name"], "cert_type": "BIZ_LICENSE",
                                   "cert_number": data["subject"]["cert_number"], "reason": "虚假备案"}, bj, 201)
    site = await _post(system, B, {"kind": "WEBSITE", "domains": [dom], "reason": "涉赌"}, bj, 201)
    await _filing_knows(system, subj["id"], True)
    await _filing_knows(system, site["id"], True)
    status, draft = await t.call("POST", "/drafts")
    assert status == 201, draft
    status, body = await t.call("PUT", f"/drafts/{draft['id']}/subject", json=data["subject"])
    assert status == 422 and body["saved"] is True, body
    assert body["errors"][0]["field"] == "subject.cert_number" and "黑名单" in body["errors"][0]["message"]
    status, body = await t.call("POST", f"/drafts/{draft['id']}/websites", json=data["websites"][0])
    assert status == 422 and body["errors"][0]["field"] == "websites[0].domains[0]", body
    assert "涉赌" in body["errors"][0]["message"]


async def test_publish_records_fills_the_projection_with_records_filed_before_it(system: System, pg_dsn, amqp_url,
                                                                              monkeypatch, capsys):
    """`icp admin publish-records`: a read model that lost (or never had) a filed record gets it back."""
    import asyncio
    import json

    from shared import cli, config

    t = await provider(system)
    data = fs.filing(1)
    done = await filed(t, data=data)
    dom = data["websites"][0]["domains"][0]
    pool = system.ctx("detection").pool
    await system.eventually(lambda: pool.fetchval("SELECT true FROM filed_domains WHERE domain = $1", dom))
    await pool.execute("DELETE FROM filed_websites WHERE subject_id = $1", uuid.UUID(done["subject_id"]))
    await pool.execute("DELETE FROM filed_subjects WHERE subject_id = $1", uuid.UUID(done["subject_id"]))
    monkeypatch.setenv("ICP_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("ICP_AMQP_URL", amqp_url)
    monkeypatch.setenv("ICP_LOG_FORMAT", "console")
    config.get_settings.cache_clear()
    try:
        await asyncio.to_thread(cli.main, ["admin", "publish-records", "--batch", "50"])
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["published"] >= 1
    finally:
        config.get_settings.cache_clear()
    await system.eventually(lambda: pool.fetchval("SELECT true FROM filed_domains WHERE domain = $1", dom), limit=30)


async def test_publish_blacklist_sends_every_active_entry_again(system: System, pg_dsn, amqp_url, monkeypatch, capsys):
    import asyncio
    import json

    from shared import cli, config

    e = await _post(system, B, {"kind": "WEBSITE", "domains": [fs.domain()], "reason": "重发测试"}, bureau(system), 201)
    await _filing_knows(system, e["id"], True)
    fpool = system.ctx("filing").pool
    await fpool.execute("DELETE FROM blacklist WHERE entry_id = $1", uuid.UUID(e["id"]))  # filing lost it
    monkeypatch.setenv("ICP_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("ICP_AMQP_URL", amqp_url)
    monkeypatch.setenv("ICP_LOG_FORMAT", "console")
    config.get_settings.cache_clear()
    try:
        await asyncio.to_thread(cli.main, ["admin", "publish-blacklist"])
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["published"] >= 1
    finally:
        config.get_settings.cache_clear()
    await _filing_knows(system, e["id"], True)
