"""The entry wizard (代为录入) through the HTTP API on the real system."""

from __future__ import annotations

import asyncio

import pytest

from shared.auth import verify_password
from shared.field_labels import label
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import Tenant, events_for, new_tenant


async def _new_draft(t: Tenant) -> str:
    status, body = await t.call("POST", "/drafts")
    assert status == 201, body
    return body["id"]


async def test_full_wizard_walk(system: System, tenant: Tenant):
    status, _ = await tenant.call("GET", "/drafts/current")
    assert status == 404
    draft = await _new_draft(tenant)
    status, body = await tenant.call("GET", "/drafts/current")
    assert status == 200 and body["id"] == draft and body["step"] == 1

    # step 1: subject
    subject = fs.subject()
    subject["principal"]["mobile"] = " " + subject["principal"]["mobile"] + " "
    status, body = await tenant.call("PUT", f"/drafts/{draft}/subject", json=subject)
    assert status == 200, body
    assert body["step"] == 2 and body["subject"]["principal"]["mobile"] == subject["principal"]["mobile"].strip()

    # step 2: a website; step 3: "another website?" yes → step 2 again
    w1, w2, w3 = fs.website(), fs.website(name="示例科技资料站"), fs.website(name="示例科技帮助站")
    status, body = await tenant.call("POST", f"/drafts/{draft}/websites", json=w1)
    assert status == 201, body
    assert body["step"] == 3
    wid1 = body["website_id"]
    status, body = await tenant.call("PUT", f"/drafts/{draft}/step", json={"another_website": True})
    assert status == 200 and body["another_website"] is True
    status, body = await tenant.call("POST", f"/drafts/{draft}/websites", json=w2)
    assert status == 201
    wid2 = body["website_id"]
    status, body = await tenant.call("POST", f"/drafts/{draft}/websites", json=w3)
    assert status == 201
    wid3 = body["website_id"]
    # step 3 "修改": modify one, delete one
    w2["name"] = "示例科技文档站"
    status, body = await tenant.call("PUT", f"/drafts/{draft}/websites/{wid2}", json=w2)
    assert status == 200 and body["websites"][1]["data"]["name"] == "示例科技文档站"
    status, body = await tenant.call("DELETE", f"/drafts/{draft}/websites/{wid3}")
    assert status == 200 and [w["id"] for w in body["websites"]] == [wid1, wid2]
    # "否" → step 4: the full review
    status, body = await tenant.call("PUT", f"/drafts/{draft}/step", json={"another_website": False})
    assert status == 200 and body["step"] == 4
    status, body = await tenant.call("GET", f"/drafts/{draft}")
    assert body["complete"] is True and body["errors"] == [] and len(body["websites"]) == 2
    # step 4 "修改": the subject
    subject["name"] = "示例网络技术有限公司"
    status, body = await tenant.call("PUT", f"/drafts/{draft}/subject", json=subject)
    assert status == 200 and body["step"] == 4 and body["subject"]["name"] == "示例网络技术有限公司"

    # submit → step 5
    status, done = await tenant.call("POST", f"/drafts/{draft}/submit")
    assert status == 201, done
    assert done["sponsor_name"] == "示例网络技术有限公司"
    assert done["username"] and done["password"] and len(done["password"]) >= 10
    assert done["status"] == "PENDING_VERIFICATION" and done["preapproval_contacts"] == []
    pool = system.ctx("filing").pool
    user = await pool.fetchrow("SELECT * FROM users WHERE username = $1", done["username"])
    assert user["role"] == "sponsor" and user["provider_id"] == tenant.provider_id
    assert done["password"] not in user["password_hash"] and verify_password(user["password_hash"], done["password"])
    app = await pool.fetchrow("SELECT * FROM applications WHERE id = $1::uuid", done["application_id"])
    assert (app["type"], app["status"], app["version"]) == ("FIRST_FILING", "PENDING_VERIFICATION", 1)
    subj = await pool.fetchrow("SELECT * FROM subjects WHERE id = $1::uuid", done["subject_id"])
    assert subj["sponsor_user_id"] == user["id"] and subj["status"] == "PENDING" and subj["filing_method"] == "PROXY"
    assert await pool.fetchval("SELECT count(*) FROM websites WHERE subject_id = $1", subj["id"]) == 2
    assert await pool.fetchval("SELECT count(*) FROM accesses WHERE subject_id = $1", subj["id"]) == 2
    domains = await pool.fetch("SELECT ascii FROM domains WHERE subject_id = $1", subj["id"])
    assert {d["ascii"] for d in domains} == {w1["domains"][0], w2["domains"][0]}
    assert await pool.fetchval("SELECT count(*) FROM application_versions WHERE application_id = $1", app["id"]) == 1
    # the draft is done: no current draft, no more changes
    assert (await tenant.call("GET", "/drafts/current"))[0] == 404
    status, body = await tenant.call("PUT", f"/drafts/{draft}/subject", json=subject)
    assert status == 409
    assert (await tenant.call("POST", f"/drafts/{draft}/submit"))[0] == 409
    # the event: exactly one, full snapshot, masked ID numbers, no password
    events = await events_for(system, done["application_id"])
    assert len(events) == 1
    payload = events[0]["payload"]
    assert payload["version"] == 1 and payload["type"] == "FIRST_FILING" and payload["province"] == "110000"
    assert len(payload["websites"]) == 2 and payload["subject"]["subject_id"] == done["subject_id"]
    masked = payload["subject"]["principal"]["id_number_masked"]
    full = subject["principal"]["id_number"]
    assert "*" in masked and masked[:6] == full[:6] and full not in str(events[0])
    assert done["password"] not in str(events[0])
    # the relay publishes it (the filing statement's NOTIFY wakes it)
    await system.eventually(lambda: pool.fetchval(
        "SELECT published_at IS NOT NULL FROM outbox WHERE id = $1::uuid", events[0]["id"]), limit=5)
    # audit trail
    status, hist = await tenant.call("GET", f"/subjects/{done['subject_id']}/history")
    assert status == 200 and {(h["entity"], h["action"]) for h in hist["items"]} >= {
        ("subject", "create"), ("website", "create"), ("application", "submit")}
    assert full not in str(hist)


async def test_a_second_draft_is_refused_with_the_unfinished_one(tenant: Tenant):
    draft = await _new_draft(tenant)
    await tenant.call("PUT", f"/drafts/{draft}/subject", json=fs.subject(name="未完成测试有限公司"))
    status, body = await tenant.call("POST", "/drafts")
    assert status == 409
    assert body["draft_id"] == draft
    assert body["summary"]["subject_name"] == "未完成测试有限公司" and body["summary"]["step"] == 2
    # another operator of the same provider has drafts of their own
    other = await tenant.operator()
    assert (await other.call("POST", "/drafts"))[0] == 201
    assert (await other.call("GET", f"/drafts/{draft}"))[0] == 404
    # "delete it and start again"
    status, _ = await tenant.call("DELETE", f"/drafts/{draft}")
    assert status == 204
    assert (await tenant.call("GET", f"/drafts/{draft}"))[0] == 404
    assert (await tenant.call("POST", "/drafts"))[0] == 201


async def test_concurrent_draft_starts_give_one_draft(tenant: Tenant):
    results = await asyncio.gather(*(tenant.call("POST", "/drafts") for _ in range(5)))
    assert sorted(s for s, _ in results) == [201, 409, 409, 409, 409]


def _contains(saved, sent) -> bool:
    """`sent` is kept in `saved` (which may add defaults such as remark "")."""
    if isinstance(sent, dict):
        return isinstance(saved, dict) and all(_contains(saved.get(k), v) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(saved, list) and len(saved) == len(sent) and all(map(_contains, saved, sent))
    return saved == sent


def _bad_uscc() -> str:
    good = fs.uscc()
    return good[:-1] + ("1" if good[-1] != "1" else "2")


@pytest.mark.parametrize(
    "mutate, field, message",
    [
        (lambda s: s.update(cert_number=_bad_uscc()), "subject.cert_number", "统一社会信用代码校验位不正确，请核对"),
        (lambda s: s.update(cert_number="9111010512345"), "subject.cert_number",
         "营业执照号码应为18位统一社会信用代码或15位工商注册号"),
        (lambda s: s["principal"].update(id_number=s["principal"]["id_number"][:17]), "subject.principal.id_number",
         "身份证号码应为18位"),
        (lambda s: s["principal"].update(id_number=s["principal"]["id_number"][:17] + "Y"),
         "subject.principal.id_number", "身份证号码前17位应为数字，最后一位应为数字或X"),
        (lambda s: s.update(name="   "), "subject.name", "不能为空"),
        (lambda s: s.update(name="测" * 101), "subject.name", "长度不能超过100个字符"),
        (lambda s: s.update(name=["示例公司"]), "subject.name", "类型不正确，应为文本"),
        (lambda s: s.update(principal="张三"), "subject.principal", "须为对象"),
        (lambda s: s.update(nature="FOO"), "subject.nature", "无效的代码"),
        (lambda s: s.update(cert_type="RESIDENT_ID"), "subject.cert_type", "证件类型与主办单位性质（企业）不符"),
        (lambda s: s["principal"].update(mobile="1234567890"), "subject.principal.mobile",
         "手机号码格式不正确，应为11位中国大陆手机号码"),
        (lambda s: s["principal"].update(email="not-an-email"), "subject.principal.email", "电子邮件地址格式不正确"),
        (lambda s: s.pop("cert_address"), "subject.cert_address", "必填项，不能为空"),
        (lambda s: s.update(city="310100"), "subject.province", "所选城市不属于所选省份"),
        (lambda s: s.update(unknown_field=1), "subject.unknown_field", "不允许的字段"),
    ],
)
async def test_invalid_subject_is_saved_and_answered_with_the_field(tenant: Tenant, mutate, field, message):
    draft = await _new_draft(tenant)
    subject = fs.subject()
    mutate(subject)
    status, body = await tenant.call("PUT", f"/drafts/{draft}/subject", json=subject)
    assert status == 422, body
    assert {"field": field, "message": message} in body["errors"], body["errors"]
    assert body["saved"] is True and body["draft_id"] == draft
    assert body["detail"].startswith(label(field) + "：")  # the field by its Chinese label (issue 11)
    # nothing typed is lost: the draft holds it, and lists the error
    _, saved = await tenant.call("GET", f"/drafts/{draft}")
    assert _contains(saved["subject"], subject) and saved["complete"] is False
    assert {"field": field, "message": message} in saved["errors"]
    await tenant.call("DELETE", f"/drafts/{draft}")


@pytest.mark.parametrize(
    "mutate, field, message",
    [
        (lambda w: w.update(domains=["www.example.com"]), "websites[1].domains[0]",
         "只能填写主域名，不能填写子域名（如 www），应填写“example.com”"),
        (lambda w: w.update(domains=["example.jp"]), "websites[1].domains[0]",
         "顶级域名“.jp”不在工信部批准可备案的顶级域名列表中"),
        (lambda w: w.update(domains=["a.com", "b.com"]), "websites[1].domains", "新增网站只能填写一个域名"),
        (lambda w: w.update(home_urls=["www.other-site.com"]), "websites[1].home_urls[0]",
         "首页URL必须使用本网站的域名或其子域名（如 www.example.com）"),
        (lambda w: w.update(name="ab"), "websites[1].name", "网站名称不能少于3个字符"),
        (lambda w: w.update(preapprovals=[{"type": "NEWS"}]), "websites[1].preapprovals[0].approval_no",
         "涉及前置审批时须填写审批文号"),
        (lambda w: w["access"]["ip_ranges"][0].update(start_ip="10.0.0.300"), "websites[1].access.ip_ranges[0]",
         "起始IP“10.0.0.300”不是有效的IPv4或IPv6地址"),
        (lambda w: w["access"].update(server_locations=["HK"]), "websites[1].access.server_locations[0]",
         "服务器放置地只能选择中国大陆的省份"),
        (lambda w: w.update(principal_same_as_subject=False), "websites[1].principal",
         "必填项，不能为空（或选择同主体负责人）"),
        (lambda w: w.update(languages="ZH_HANS"), "websites[1].languages", "须为列表"),
    ],
)
async def test_invalid_website_is_saved_and_answered_with_the_field(tenant: Tenant, mutate, field, message):
    draft = await _new_draft(tenant)
    assert (await tenant.call("PUT", f"/drafts/{draft}/subject", json=fs.subject()))[0] == 200
    assert (await tenant.call("POST", f"/drafts/{draft}/websites", json=fs.website()))[0] == 201
    site = fs.website()
    mutate(site)
    status, body = await tenant.call("POST", f"/drafts/{draft}/websites", json=site)
    assert status == 422, body
    assert {"field": field, "message": message} in body["errors"], body["errors"]
    assert body["saved"] is True and body["website_id"]
    _, saved = await tenant.call("GET", f"/drafts/{draft}")
    assert _contains(saved["websites"][1]["data"], site)
    assert (await tenant.call("POST", f"/drafts/{draft}/submit"))[0] == 422
    await tenant.call("DELETE", f"/drafts/{draft}")


async def test_full_width_digits_and_spaces_are_normalised(tenant: Tenant):
    draft = await _new_draft(tenant)
    subject = fs.subject()
    mobile = subject["principal"]["mobile"]
    wide = "".join(chr(ord(c) + 0xFEE0) for c in mobile)
    subject["principal"]["mobile"] = "\u3000" + wide + " "
    subject["name"] = "  示例网络科技有限公司\u3000"
    subject["cert_number"] = " " + subject["cert_number"].lower() + " "
    status, body = await tenant.call("PUT", f"/drafts/{draft}/subject", json=subject)
    assert status == 200, body
    assert body["subject"]["principal"]["mobile"] == mobile
    assert body["subject"]["name"] == "示例网络科技有限公司"
    site = fs.website()
    site["domains"] = ["  HTTP://WWW.Example-Normalise.COM/ "]
    site["domains"] = [" " + fs.domain().upper() + " "]
    site["home_urls"] = ["https://WWW." + site["domains"][0].strip().lower() + "/"]
    status, body = await tenant.call("POST", f"/drafts/{draft}/websites", json=site)
    assert status == 201, body
    assert body["websites"][0]["data"]["domains"] == [site["domains"][0].strip().lower()]
    status, done = await tenant.call("POST", f"/drafts/{draft}/submit")
    assert status == 201, done
    _, detail = await tenant.call("GET", f"/subjects/{done['subject_id']}")
    assert detail["cert_number"] == subject["cert_number"].strip().upper()
    assert detail["websites"][0]["home_urls"] == ["www." + site["domains"][0].strip().lower()]


async def test_malformed_json_and_wrong_content_type(tenant: Tenant):
    draft = await _new_draft(tenant)
    r = await tenant.system.client.put(
        f"/api/filing/drafts/{draft}/subject", data=b'{"name": ', headers=tenant.headers | {"Content-Type": "application/json"}
    )
    assert r.status == 400 and "JSON" in (await r.json())["detail"]
    r = await tenant.system.client.put(
        f"/api/filing/drafts/{draft}/subject", data="name=x", headers=tenant.headers | {"Content-Type": "text/plain"}
    )
    assert r.status == 415
    r = await tenant.system.client.post(
        f"/api/filing/drafts/{draft}/websites", data=b"[1, 2]", headers=tenant.headers | {"Content-Type": "application/json"}
    )
    assert r.status == 400
    r = await tenant.system.client.put("/api/filing/drafts/not-a-uuid/subject", json=fs.subject(), headers=tenant.headers)
    assert r.status == 404
    # only provider operators enter filings
    r = await tenant.system.client.post("/api/filing/drafts", headers=tenant.system.auth("bureau", province="BJ"))
    assert r.status == 403
    r = await tenant.system.client.post("/api/filing/drafts")
    assert r.status == 401


async def test_website_before_subject_is_refused(tenant: Tenant):
    draft = await _new_draft(tenant)
    status, body = await tenant.call("POST", f"/drafts/{draft}/websites", json=fs.website())
    assert status == 409 and "第一步" in body["detail"]


async def test_preapproval_contacts_of_the_subject_province(tenant: Tenant):
    data = fs.filing()
    data["subject"].update(province="440000", city="440300", county="440305", cert_address="广东省深圳市示例路1号")
    data["websites"][0]["preapprovals"] = [{"type": "NEWS", "approval_no": "粤-12345号"}]
    data["websites"][0]["access"]["server_locations"] = ["GD"]
    status, done = await tenant.call("POST", "/filings", json=data)
    assert status == 201, done
    assert done["needs_preapproval"] is True
    [contact] = done["preapproval_contacts"]
    assert contact["preapproval_type"] == "NEWS" and contact["province_name"] == "广东省"
    assert contact["department"].startswith("广东省") and contact["note"] == "示例数据，请按实际配置"


async def test_api_filing_refuses_invalid_data_with_paths(tenant: Tenant):
    data = fs.filing(2)
    data["websites"][1]["domains"] = [data["websites"][0]["domains"][0]]
    data["websites"][1]["home_urls"] = ["www." + data["websites"][0]["domains"][0]]
    data["subject"]["principal"]["emergency_phone"] = data["subject"]["principal"]["mobile"]
    status, body = await tenant.call("POST", "/filings", json=data)
    assert status == 422
    assert {"field": "websites[1].domains[0]", "message": "域名与第 1 个网站重复"} in body["errors"]
    assert {"field": "subject.principal.emergency_phone", "message": "应急联系电话不能与手机号码相同"} in body["errors"]


# ---------------------------------------------------------------- database rules


async def test_domain_in_progress_elsewhere_is_a_conflict(system: System, tenant: Tenant):
    first = fs.filing()
    assert (await tenant.call("POST", "/filings", json=first))[0] == 201
    other = await new_tenant(system)
    second = fs.filing()
    second["websites"][0] = fs.website(domain=first["websites"][0]["domains"][0])
    status, body = await other.call("POST", "/filings", json=second)
    assert status == 409
    assert body["errors"][0]["field"] == "websites[0].domains[0]"
    assert "正在办理中" in body["errors"][0]["message"]
    assert body["conflicts"][0]["in_progress"] is True
    # and at the wizard's step 2 already
    draft = await _new_draft(other)
    await other.call("PUT", f"/drafts/{draft}/subject", json=second["subject"])
    status, body = await other.call("POST", f"/drafts/{draft}/websites", json=second["websites"][0])
    assert status == 409 and body["saved"] is True and body["errors"][0]["field"] == "websites[0].domains[0]"


async def test_certificate_already_filed_points_to_add_website(tenant: Tenant):
    first = fs.filing()
    assert (await tenant.call("POST", "/filings", json=first))[0] == 201
    again = fs.filing()
    again["subject"]["cert_number"] = first["subject"]["cert_number"]
    status, body = await tenant.call("POST", "/filings", json=again)
    assert status == 409
    assert body["errors"][0]["field"] == "subject.cert_number" and "新增网站" in body["errors"][0]["message"]


async def test_mobile_of_another_subject_is_refused_on_its_field(tenant: Tenant):
    first = fs.filing()
    assert (await tenant.call("POST", "/filings", json=first))[0] == 201
    again = fs.filing()
    again["subject"]["principal"]["mobile"] = first["subject"]["principal"]["mobile"]
    status, body = await tenant.call("POST", "/filings", json=again)
    assert status == 422
    assert body["errors"] == [
        {"field": "subject.principal.mobile", "message": "该手机号码已被其他备案主体使用，一个手机号码只能用于一个主体"}
    ]


async def test_concurrent_submits_of_one_domain_exactly_one_wins(system: System, tenant: Tenant):
    domain = fs.domain()
    bodies = []
    for _ in range(8):
        data = fs.filing()
        data["websites"][0] = fs.website(domain=domain)
        bodies.append(data)
    tenants = [tenant] + [await tenant.operator() for _ in range(7)]
    results = await asyncio.gather(*(t.call("POST", "/filings", json=b) for t, b in zip(tenants, bodies, strict=True)))
    statuses = sorted(s for s, _ in results)
    assert statuses == [201] + [409] * 7, results
    pool = system.ctx("filing").pool
    assert await pool.fetchval("SELECT count(*) FROM domains WHERE ascii = $1", domain) == 1
    # the losers left nothing behind: no extra sponsor accounts or subjects
    for b in bodies:
        n = await pool.fetchval("SELECT count(*) FROM subjects WHERE cert_number = $1", b["subject"]["cert_number"])
        assert n in (0, 1)
    assert sum([
        await pool.fetchval("SELECT count(*) FROM subjects WHERE cert_number = $1", b["subject"]["cert_number"])
        for b in bodies
    ]) == 1


async def test_concurrent_draft_submits_of_one_domain(system: System, tenant: Tenant):
    domain = fs.domain()
    ops = [tenant] + [await tenant.operator() for _ in range(3)]
    drafts = []
    for op in ops:
        d = await _new_draft(op)
        assert (await op.call("PUT", f"/drafts/{d}/subject", json=fs.subject()))[0] == 200
        assert (await op.call("POST", f"/drafts/{d}/websites", json=fs.website(domain=domain)))[0] == 201
        drafts.append((op, d))
    results = await asyncio.gather(*(op.call("POST", f"/drafts/{d}/submit") for op, d in drafts))
    assert sorted(s for s, _ in results) == [201, 409, 409, 409]
    # the losing drafts stay unfinished (nothing lost)
    for (op, d), (s, _) in zip(drafts, results, strict=True):
        _, view = await op.call("GET", f"/drafts/{d}")
        assert view["status"] == ("SUBMITTED" if s == 201 else "DRAFT")
