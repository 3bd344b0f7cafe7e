"""Verification service (issue 4): cases, provider verification (核实提交), bureau review,
pre-approval and filing numbers — through real PostgreSQL and RabbitMQ.

Applications enter the way filing sends them: an `ApplicationSubmitted` written into filing's
outbox; the real relay publishes it over RabbitMQ to verification's inbox.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import aio_pika

from services.verification import auto_review
from shared.contracts import Envelope
from shared.contracts.filing import (
    AccessSnapshot,
    ApplicationSubmitted,
    PrincipalSnapshot,
    SubjectSnapshot,
    WebsiteSnapshot,
)
from shared.db import transaction
from tests.conftest import System

CHINA = dt.timezone(dt.timedelta(hours=8))
YEAR = dt.datetime.now(CHINA).year
BASE = "/api/verification"


def uid(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:10]


def principal(name: str = "张三") -> PrincipalSnapshot:
    return PrincipalSnapshot(name=name, id_type="RESIDENT_ID", id_number_masked="110105********1234",
                             mobile="13800138000", email="zs@example.com")


def website(*, name: str = "示例网站", domain: str | None = None, preapprovals=None, website_id: str | None = None,
            website_no: str | None = None, service_type: str = "WEBSITE") -> WebsiteSnapshot:
    domain = domain or f"{uid('d')}.com"
    return WebsiteSnapshot(
        website_id=website_id or uid("w"), website_no=website_no, service_type=service_type, name=name,
        domains=[domain], home_urls=[f"www.{domain}"], service_content=["OTHER"],
        preapprovals=preapprovals or [{"type": "NONE", "approval_no": ""}], languages=["ZH_CN"],
        principal=principal(), access=AccessSnapshot(access_methods=["CLOUD"], ip_ranges=["203.0.113.1-203.0.113.1"],
                                                     server_locations=["BJ"]),
    )


def application(pid: str, *, app_id: str | None = None, type: str = "FIRST_FILING", version: int = 1,
                province: str = "110000", subject_id: str | None = None, subject_name: str = "北京示例科技有限公司",
                subject_no: str | None = None, websites: list[WebsiteSnapshot] | None = None,
                submitted_at: dt.datetime | None = None) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=app_id or uid("app-"), version=version, type=type, provider_id=pid, province=province,
        subject=SubjectSnapshot(
            subject_id=subject_id or uid("s"), subject_no=subject_no, nature="ENTERPRISE", cert_type="USCC",
            cert_number="91110105MA01234567", name=subject_name, province=province,
            city=province[:4] + "00", principal=principal(),
        ),
        websites=websites if websites is not None else [website()],
        submitted_at=submitted_at or dt.datetime.now(dt.UTC), submitted_by="op-" + pid,
    )


async def submit(system: System, *apps: ApplicationSubmitted) -> None:
    filing = system.ctx("filing")
    async with transaction(filing.pool) as conn:
        for a in apps:
            await filing.outbox.add(conn, a, provider_id=a.provider_id)


async def case_of(system: System, app: ApplicationSubmitted) -> dict:
    """Wait until verification holds the case at this version; its id and row."""
    pool = system.ctx("verification").pool

    async def row():
        return await pool.fetchrow("SELECT * FROM cases WHERE application_id = $1 AND version >= $2",
                                   app.application_id, app.version)

    return dict(await system.eventually(row))


async def open_case(system: System, app: ApplicationSubmitted) -> str:
    await submit(system, app)
    return str((await case_of(system, app))["id"])


def prov(system: System, pid: str) -> dict:
    return system.auth("provider", provider_id=pid, user_id="op-" + pid)


def bureau(system: System, province: str = "BJ") -> dict:
    return system.auth("bureau", province=province, user_id="reviewer-" + province)


async def events(system: System, case_id: str, type_: str) -> list[dict]:
    rows = await system.ctx("verification").pool.fetch(
        """SELECT convert_from(body, 'UTF8')::jsonb AS env FROM outbox
           WHERE routing_key = $1 AND convert_from(body, 'UTF8')::jsonb->'payload'->>'case_id' = $2 ORDER BY seq""",
        type_, case_id,
    )
    return [r["env"]["payload"] for r in rows]


async def verify(system: System, case_id: str, pid: str, result: str = "pass", opinion: str = "资料真实、核实通过"):
    return await system.client.post(f"{BASE}/cases/{case_id}/verification", json={"result": result, "opinion": opinion},
                                    headers=prov(system, pid))


async def decide(system: System, case_id: str, decision: str = "approve", reason: str = "", province: str = "BJ"):
    return await system.client.post(f"{BASE}/cases/{case_id}/decision", json={"decision": decision, "reason": reason},
                                    headers=bureau(system, province))


async def approve(system: System, app: ApplicationSubmitted, province: str = "BJ") -> dict:
    """Open (or find) the case, verify and approve it; the case detail after approval."""
    await submit(system, app)
    case_id = str((await case_of(system, app))["id"])
    r = await verify(system, case_id, app.provider_id)
    assert r.status == 200, await r.text()
    r = await decide(system, case_id, province=province)
    assert r.status == 200, await r.text()
    return await r.json()


# ---------------------------------------------------------------- opening cases


async def test_case_opened_once_on_redelivery_and_on_a_repeated_version(system: System, amqp_url):
    pid = uid("p")
    app = application(pid)
    env = Envelope(type="filing.application.submitted", producer="filing", provider_id=pid,
                   payload=app.model_dump(mode="json"))
    conn = await aio_pika.connect(amqp_url)
    ch = await conn.channel(publisher_confirms=True)
    ex = await ch.get_exchange("icp.events")
    for _ in range(2):  # the same message delivered twice
        await ex.publish(aio_pika.Message(env.model_dump_json().encode(), message_id=str(env.id)),
                         routing_key="filing.application.submitted", mandatory=True)
    await conn.close()
    case = await case_of(system, app)
    await submit(system, app)  # the same version again under a new message id
    vctx = system.ctx("verification")

    async def all_handled():
        n = await system.ctx("filing").pool.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL AND routing_key = 'filing.application.submitted'")
        return n == 0

    await system.eventually(all_handled)
    await system.eventually(lambda: _ge(vctx.consumer.stats.duplicates, 1))
    pool = vctx.pool
    assert await pool.fetchval("SELECT count(*) FROM cases WHERE application_id = $1", app.application_id) == 1
    assert await pool.fetchval("SELECT count(*) FROM case_versions WHERE case_id = $1", case["id"]) == 1
    assert await pool.fetchval("SELECT count(*) FROM case_history WHERE case_id = $1", case["id"]) == 1
    assert case["status"] == "PENDING_VERIFICATION" and case["province_code"] == "BJ"

    r = await system.client.get(f"{BASE}/cases/{case['id']}", headers=prov(system, pid))
    body = await r.json()
    assert r.status == 200, body
    assert body["application"]["application_id"] == app.application_id
    assert body["application"]["websites"][0]["domains"] == app.websites[0].domains
    assert [h["action"] for h in body["history"]] == ["SUBMITTED"]
    assert body["stage"] == "verification" and body["status_name"] == "待核实"


async def _ge(v, n):
    return v >= n


async def test_provider_list_is_scoped_filtered_and_paged(system: System):
    pid, other = uid("p"), uid("p")
    day = dt.datetime(2025, 3, 10, 9, 0, tzinfo=CHINA)
    a1 = application(pid, subject_name="北京甲乙科技有限公司", websites=[website(domain=f"alpha-{pid}.com")],
                     submitted_at=day)
    a2 = application(pid, subject_name="北京丙丁网络有限公司", type="ADD_WEBSITE",
                     submitted_at=day + dt.timedelta(days=2))
    a3 = application(pid, subject_name="北京戊己文化有限公司", submitted_at=day + dt.timedelta(days=5))
    b1 = application(other, subject_name="北京甲乙科技有限公司")
    await submit(system, a1, a2, a3, b1)
    for a in (a1, a2, a3, b1):
        await case_of(system, a)
    h = prov(system, pid)

    async def get(qs: str, headers=h):
        r = await system.client.get(f"{BASE}/cases{qs}", headers=headers)
        body = await r.json()
        assert r.status == 200, body
        return body

    body = await get("")
    assert body["total"] == 3 and {i["application_id"] for i in body["items"]} == {a1.application_id, a2.application_id,
                                                                                    a3.application_id}
    assert all(i["provider_id"] == pid for i in body["items"])
    assert [i["application_id"] for i in body["items"]] == [a1.application_id, a2.application_id, a3.application_id]
    assert (await get("?name=甲乙"))["total"] == 1
    body = await get(f"?domain=ALPHA-{pid}")
    assert [i["application_id"] for i in body["items"]] == [a1.application_id]
    assert [i["application_id"] for i in (await get("?type=ADD_WEBSITE"))["items"]] == [a2.application_id]
    body = await get("?submitted_from=2025-03-11&submitted_to=2025-03-12")
    assert [i["application_id"] for i in body["items"]] == [a2.application_id]
    body = await get("?submitted_to=2025-03-10&name=北京")
    assert [i["application_id"] for i in body["items"]] == [a1.application_id]
    body = await get("?page=2&page_size=2")
    assert body["total"] == 3 and len(body["items"]) == 1 and body["page"] == 2
    assert (await get("?stage=bureau"))["total"] == 0
    assert (await get("?status=PENDING_VERIFICATION,APPROVED"))["total"] == 3
    # the other tenant sees only its own
    body = await get("", headers=prov(system, other))
    assert [i["application_id"] for i in body["items"]] == [b1.application_id]
    # a provider asking for another tenant's cases gets nothing
    assert (await get(f"?provider_id={other}"))["total"] == 0
    # bad input is a 422 with Chinese messages
    r = await system.client.get(f"{BASE}/cases?page_size=1000&status=FOO", headers=h)
    body = await r.json()
    assert r.status == 422
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert "page_size" in fields and "status" in fields and "未知的申请状态" in fields["status"]
    # roles
    assert (await system.client.get(f"{BASE}/cases")).status == 401
    assert (await system.client.get(f"{BASE}/cases", headers=system.auth("sponsor", provider_id=pid))).status == 403
    admin = await get(f"?provider_id={pid}", headers=system.auth("admin"))
    assert admin["total"] == 3


# ---------------------------------------------------------------- provider verification


async def test_verification_pass_is_once_per_version_and_isolated_by_tenant(system: System):
    pid, other = uid("p"), uid("p")
    app = application(pid)
    case_id = await open_case(system, app)

    r = await verify(system, case_id, other)
    assert r.status == 404 and (await r.json())["detail"] == "案件不存在"
    assert (await system.client.get(f"{BASE}/cases/{case_id}", headers=prov(system, other))).status == 404
    r = await system.client.post(f"{BASE}/cases/{case_id}/verification", json={"result": "pass", "opinion": "  "},
                                 headers=prov(system, pid))
    body = await r.json()
    assert r.status == 422 and body["errors"] == [{"field": "opinion", "message": "不能为空"}]
    r = await system.client.post(f"{BASE}/cases/{case_id}/verification", json={"result": "ok", "opinion": "x"},
                                 headers=prov(system, pid))
    assert r.status == 422
    r = await system.client.post(f"{BASE}/cases/{case_id}/verification", json={"result": "pass", "opinion": "好"},
                                 headers=bureau(system))
    assert r.status == 403
    assert (await verify(system, "not-a-uuid", pid)).status == 404
    assert (await verify(system, str(uuid.uuid4()), pid)).status == 404
    r = await system.client.post(f"{BASE}/cases/{case_id}/verification",
                                 json={"result": "pass", "opinion": "好", "version": 2}, headers=prov(system, pid))
    assert r.status == 409 and "第1版" in (await r.json())["detail"]

    r = await verify(system, case_id, pid, opinion="已当面核验、资料真实")
    body = await r.json()
    assert r.status == 200, body
    assert body["status"] == "SUBMITTED_TO_BUREAU" and body["stage"] == "bureau"
    assert body["history"][-1]["action"] == "VERIFY_PASS" and body["history"][-1]["text"] == "已当面核验、资料真实"
    assert body["history"][-1]["actor_id"] == "op-" + pid

    r = await verify(system, case_id, pid, result="return", opinion="再核一次")
    body = await r.json()
    assert r.status == 409 and "已核实，不能重复核实" in body["detail"] and body["case_status"] == "SUBMITTED_TO_BUREAU"
    assert (await verify(system, case_id, other)).status == 404

    changed = await events(system, case_id, "verification.application.status_changed")
    assert len(changed) == 1
    assert changed[0]["status"] == "SUBMITTED_TO_BUREAU" and changed[0]["note"] == "已当面核验、资料真实"
    assert changed[0]["application_id"] == app.application_id and changed[0]["provider_id"] == pid
    # no longer in the provider's default (waiting) list
    r = await system.client.get(f"{BASE}/cases?application_id={app.application_id}", headers=prov(system, pid))
    assert (await r.json())["total"] == 0


async def test_concurrent_double_verification_lets_exactly_one_through(system: System):
    import asyncio

    pid = uid("p")
    case_id = await open_case(system, application(pid))
    results = await asyncio.gather(*(verify(system, case_id, pid, result=("pass", "return")[i % 2]) for i in range(6)))
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 409, 409, 409, 409, 409]
    n = await system.ctx("verification").pool.fetchval(
        "SELECT count(*) FROM case_history WHERE case_id = $1 AND action LIKE 'VERIFY%'", uuid.UUID(case_id))
    assert n == 1


async def test_return_then_resubmission_reopens_the_case_with_history(system: System):
    pid = uid("p")
    app = application(pid, subject_name="北京退回测试有限公司")
    case_id = await open_case(system, app)
    r = await verify(system, case_id, pid, result="return", opinion="网站负责人证件照片不清晰、请重新上传")
    body = await r.json()
    assert r.status == 200 and body["status"] == "VERIFY_RETURNED"
    assert body["decision_reason"] == "网站负责人证件照片不清晰、请重新上传"
    returned = await events(system, case_id, "verification.application.returned")
    assert len(returned) == 1 and returned[0]["opinion"] == "网站负责人证件照片不清晰、请重新上传"
    assert returned[0]["version"] == 1
    assert (await verify(system, case_id, pid)).status == 409  # returned: nothing to verify until resubmitted

    # a bureau never sees a case that did not reach it
    assert (await system.client.get(f"{BASE}/cases/{case_id}", headers=bureau(system))).status == 404

    v2 = app.model_copy(update={"version": 2, "subject": app.subject.model_copy(update={"name": "北京退回测试科技有限公司"}),
                                "submitted_at": dt.datetime.now(dt.UTC)})
    await submit(system, v2)
    row = await case_of(system, v2)
    assert str(row["id"]) == case_id and row["version"] == 2 and row["status"] == "PENDING_VERIFICATION"
    await submit(system, app)  # a late copy of version 1 changes nothing
    r = await system.client.get(f"{BASE}/cases/{case_id}", headers=prov(system, pid))
    body = await r.json()
    assert body["version"] == 2 and body["subject_name"] == "北京退回测试科技有限公司"
    assert body["decision_reason"] is None
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert [(h["version"], h["action"]) for h in body["history"]] == [
        (1, "SUBMITTED"), (1, "VERIFY_RETURN"), (2, "RESUBMITTED")]
    r = await system.client.get(f"{BASE}/cases/{case_id}?version=1", headers=prov(system, pid))
    old = await r.json()
    assert old["shown_version"] == 1 and old["application"]["subject"]["name"] == "北京退回测试有限公司"
    assert (await system.client.get(f"{BASE}/cases/{case_id}?version=7", headers=prov(system, pid))).status == 404
    r = await system.client.get(f"{BASE}/cases/{case_id}?version=2", headers=prov(system, pid))
    assert (await r.json())["application"]["subject"]["name"] == "北京退回测试科技有限公司"
    # each application stored once: the current one in the case, the earlier one in its version row
    copies = await system.ctx("verification").pool.fetch(
        "SELECT version, application IS NOT NULL AS own FROM case_versions WHERE case_id = $1 ORDER BY version",
        uuid.UUID(case_id))
    assert [(c["version"], c["own"]) for c in copies] == [(1, True), (2, False)]

    r = await system.client.post(f"{BASE}/cases/{case_id}/verification",
                                 json={"result": "pass", "opinion": "已更正", "version": 2}, headers=prov(system, pid))
    assert r.status == 200
    body = await (await decide(system, case_id)).json()
    assert body["status"] == "APPROVED" and body["subject_no"]
    approved = await events(system, case_id, "verification.application.approved")
    assert len(approved) == 1 and approved[0]["version"] == 2


# ---------------------------------------------------------------- bureau review


async def test_bureau_sees_only_its_province_and_only_cases_submitted_to_it(system: System):
    pid = uid("p")
    bj = application(pid, province="110000")
    sh = application(pid, province="310000", subject_name="上海示例有限公司")
    bj_id, sh_id = await open_case(system, bj), await open_case(system, sh)
    assert (await system.client.get(f"{BASE}/cases/{bj_id}", headers=bureau(system, "BJ"))).status == 404
    assert (await verify(system, bj_id, pid)).status == 200
    assert (await verify(system, sh_id, pid)).status == 200

    r = await system.client.get(f"{BASE}/cases?provider_id={pid}", headers=bureau(system, "BJ"))
    body = await r.json()
    assert r.status == 200 and [i["id"] for i in body["items"]] == [bj_id]
    assert body["items"][0]["province"] == "110000" and body["items"][0]["province_name"] == "北京市"
    r = await system.client.get(f"{BASE}/cases?stage=bureau&provider_id={pid}", headers=bureau(system, "SH"))
    assert [i["id"] for i in (await r.json())["items"]] == [sh_id]
    # the GB/T 2260 code in a reviewer's token means the same province
    r = await system.client.get(f"{BASE}/cases?provider_id={pid}", headers=bureau(system, "310000"))
    assert [i["id"] for i in (await r.json())["items"]] == [sh_id]

    assert (await system.client.get(f"{BASE}/cases/{bj_id}", headers=bureau(system, "SH"))).status == 404
    assert (await decide(system, bj_id, province="SH")).status == 404
    r = await system.client.post(f"{BASE}/cases/{bj_id}/preapproval", json={"result": "pass", "note": ""},
                                 headers=bureau(system, "SH"))
    assert r.status == 404
    r = await system.client.get(f"{BASE}/cases", headers=system.auth("bureau", province=None))
    assert r.status == 403
    r = await system.client.post(f"{BASE}/cases/{bj_id}/decision", json={"decision": "approve"}, headers=prov(system, pid))
    assert r.status == 403
    r = await system.client.get(f"{BASE}/cases/{bj_id}", headers=bureau(system, "BJ"))
    body = await r.json()
    assert r.status == 200 and body["application"]["subject"]["name"] == bj.subject.name
    assert body["history"][-1]["action"] == "VERIFY_PASS"


async def test_approval_assigns_subject_and_website_numbers(system: System):
    pid = uid("p")
    w1, w2 = website(name="第一网站"), website(name="第二网站", service_type="APP")
    app = application(pid, websites=[w1, w2], province="120000", subject_name="天津示例有限公司")
    detail = await approve(system, app, province="TJ")
    assert detail["status"] == "APPROVED" and detail["stage"] == "approved"
    subject_no = detail["subject_no"]
    m = re.fullmatch(rf"津ICP备{YEAR}(\d{{6}})号", subject_no)
    assert m, subject_no
    assert detail["website_numbers"] == [
        {"website_id": w1.website_id, "website_no": subject_no + "-1"},
        {"website_id": w2.website_id, "website_no": subject_no + "-2A"},
    ]
    assert detail["history"][-1]["action"] == "APPROVE"
    case_id = detail["id"]
    ev = await events(system, case_id, "verification.application.approved")
    assert len(ev) == 1
    e = ev[0]
    assert e["subject_no"] == subject_no and e["subject_id"] == app.subject.subject_id
    assert e["websites"] == detail["website_numbers"] and e["application_type"] == "FIRST_FILING"
    assert e["new_numbers"] == [subject_no, subject_no + "-1", subject_no + "-2A"] and e["retired_numbers"] == []
    assert e["province"] == "120000" and e["approved_by"] == "reviewer-TJ"

    r = await decide(system, case_id, province="TJ")
    body = await r.json()
    assert r.status == 409 and "不能重复审核" in body["detail"]
    r = await decide(system, case_id, "reject", "重复", province="TJ")
    assert r.status == 409

    # the next subject in the same province and year gets the next serial
    nxt = await approve(system, application(pid, province="120000"), province="TJ")
    assert nxt["subject_no"] == f"津ICP备{YEAR}{int(m[1]) + 1:06d}号"


async def test_reject_needs_a_reason_and_can_be_resubmitted(system: System):
    pid = uid("p")
    app = application(pid, province="440000", subject_name="广东示例有限公司")
    case_id = await open_case(system, app)
    assert (await verify(system, case_id, pid)).status == 200
    r = await decide(system, case_id, "reject", "", province="GD")
    body = await r.json()
    assert r.status == 422 and body["errors"] == [{"field": "reason", "message": "驳回时须填写驳回原因"}]
    r = await decide(system, case_id, "reject", "网站名称与主办单位不符", province="GD")
    body = await r.json()
    assert r.status == 200 and body["status"] == "REJECTED" and body["decision_reason"] == "网站名称与主办单位不符"
    ev = await events(system, case_id, "verification.application.rejected")
    assert len(ev) == 1 and ev[0]["reason"] == "网站名称与主办单位不符" and ev[0]["stage"] == "bureau"
    assert ev[0]["rejected_by"] == "reviewer-GD"
    assert (await decide(system, case_id, province="GD")).status == 409
    # the provider sees the reason
    r = await system.client.get(f"{BASE}/cases/{case_id}", headers=prov(system, pid))
    body = await r.json()
    assert body["decision_reason"] == "网站名称与主办单位不符" and body["history"][-1]["action"] == "REJECT"

    await submit(system, app.model_copy(update={"version": 2}))
    row = await system.eventually(lambda: system.ctx("verification").pool.fetchrow(
        "SELECT * FROM cases WHERE id = $1 AND version = 2", uuid.UUID(case_id)))
    assert row["status"] == "PENDING_VERIFICATION"
    assert (await verify(system, case_id, pid)).status == 200
    assert (await (await decide(system, case_id, province="GD")).json())["status"] == "APPROVED"


async def test_preapproval_gates_the_decision(system: System):
    pid = uid("p")
    news = [{"type": "NEWS", "approval_no": "京-12345号"}]
    app = application(pid, websites=[website(preapprovals=news), website()])
    case_id = await open_case(system, app)
    r = await system.client.get(f"{BASE}/cases/{case_id}", headers=prov(system, pid))
    assert (await r.json())["needs_preapproval"] is True
    body = await (await verify(system, case_id, pid)).json()
    assert body["status"] == "PREAPPROVAL_PENDING" and body["stage"] == "preapproval"
    changed = await events(system, case_id, "verification.application.status_changed")
    assert [c["status"] for c in changed] == ["PREAPPROVAL_PENDING"]

    r = await system.client.get(f"{BASE}/cases?stage=preapproval&provider_id={pid}", headers=bureau(system))
    assert [i["id"] for i in (await r.json())["items"]] == [case_id]
    r = await decide(system, case_id)
    assert r.status == 409 and "前置审批" in (await r.json())["detail"]
    r = await system.client.post(f"{BASE}/cases/{case_id}/preapproval", json={"result": "pass", "note": "新闻办已批复"},
                                 headers=bureau(system))
    body = await r.json()
    assert r.status == 200 and body["status"] == "SUBMITTED_TO_BUREAU"
    changed = await events(system, case_id, "verification.application.status_changed")
    assert [c["status"] for c in changed] == ["PREAPPROVAL_PENDING", "SUBMITTED_TO_BUREAU"]
    r = await system.client.post(f"{BASE}/cases/{case_id}/preapproval", json={"result": "pass", "note": ""},
                                 headers=bureau(system))
    assert r.status == 409
    body = await (await decide(system, case_id)).json()
    assert body["status"] == "APPROVED" and len(body["website_numbers"]) == 2
    assert [h["action"] for h in body["history"]] == ["SUBMITTED", "VERIFY_PASS", "PREAPPROVAL_PASS", "APPROVE"]


async def test_failed_preapproval_rejects_with_its_note(system: System):
    pid = uid("p")
    app = application(pid, websites=[website(preapprovals=[{"type": "DRUGS_DEVICES", "approval_no": "京-1号"}])])
    case_id = await open_case(system, app)
    assert (await (await verify(system, case_id, pid)).json())["status"] == "PREAPPROVAL_PENDING"
    r = await system.client.post(f"{BASE}/cases/{case_id}/preapproval", json={"result": "fail"}, headers=bureau(system))
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "note"
    r = await system.client.post(f"{BASE}/cases/{case_id}/preapproval",
                                 json={"result": "fail", "note": "药监部门未批准互联网药品信息服务"}, headers=bureau(system))
    body = await r.json()
    assert r.status == 200 and body["status"] == "REJECTED"
    ev = await events(system, case_id, "verification.application.rejected")
    assert len(ev) == 1 and ev[0]["stage"] == "preapproval" and ev[0]["reason"] == "药监部门未批准互联网药品信息服务"
    assert await system.ctx("verification").pool.fetchval(
        "SELECT subject_no FROM cases WHERE id = $1", uuid.UUID(case_id)) is None


# ---------------------------------------------------------------- numbers across applications


async def test_numbers_continue_for_added_websites_are_kept_by_changes_and_never_reused(system: System):
    pid = uid("p")
    sid = uid("s")
    w1, w2 = website(name="一号网站"), website(name="二号网站")
    first = await approve(system, application(pid, subject_id=sid, websites=[w1, w2], province="330000"), "ZJ")
    sno = first["subject_no"]
    assert sno.startswith(f"浙ICP备{YEAR}")
    assert [w["website_no"] for w in first["website_numbers"]] == [sno + "-1", sno + "-2"]

    w3 = website(name="三号网站")
    added = await approve(system, application(pid, subject_id=sid, type="ADD_WEBSITE", websites=[w3],
                                              subject_no=sno, province="330000"), "ZJ")
    assert added["subject_no"] == sno
    assert added["website_numbers"] == [{"website_id": w3.website_id, "website_no": sno + "-3"}]
    ev = (await events(system, added["id"], "verification.application.approved"))[0]
    assert ev["new_numbers"] == [sno + "-3"] and ev["application_type"] == "ADD_WEBSITE"

    changed = await approve(system, application(pid, subject_id=sid, type="CHANGE_WEBSITE", subject_no=sno,
                                                websites=[w1.model_copy(update={"name": "一号网站新名",
                                                                                "website_no": sno + "-1"})],
                                                province="330000"), "ZJ")
    assert changed["subject_no"] == sno
    assert changed["website_numbers"] == [{"website_id": w1.website_id, "website_no": sno + "-1"}]
    assert (await events(system, changed["id"], "verification.application.approved"))[0]["new_numbers"] == []

    cancel_w3 = await approve(system, application(pid, subject_id=sid, type="CANCEL_WEBSITE", subject_no=sno,
                                                  websites=[w3.model_copy(update={"website_no": sno + "-3"})],
                                                  province="330000"), "ZJ")
    assert cancel_w3["retired_numbers"] == [sno + "-3"]
    ev = (await events(system, cancel_w3["id"], "verification.application.approved"))[0]
    assert ev["retired_numbers"] == [sno + "-3"] and ev["retired_subject_no"] is None
    assert ev["retired_websites"] == [{"website_id": w3.website_id, "website_no": sno + "-3"}]

    w4 = website(name="四号网站")
    added = await approve(system, application(pid, subject_id=sid, type="ADD_WEBSITE", websites=[w4], subject_no=sno,
                                              province="330000"), "ZJ")
    assert added["website_numbers"] == [{"website_id": w4.website_id, "website_no": sno + "-4"}]  # -3 is never reused

    gone = await approve(system, application(pid, subject_id=sid, type="CANCEL_SUBJECT", subject_no=sno,
                                             websites=[], province="330000"), "ZJ")
    ev = (await events(system, gone["id"], "verification.application.approved"))[0]
    assert ev["retired_subject_no"] == sno
    assert ev["retired_numbers"] == [sno + "-1", sno + "-2", sno + "-4", sno]
    pool = system.ctx("verification").pool
    rows = await pool.fetch("SELECT website_no, status FROM website_numbers WHERE subject_id = $1 ORDER BY seq", sid)
    assert [(r["website_no"], r["status"]) for r in rows] == [
        (sno + f"-{i}", "RETIRED") for i in (1, 2, 3, 4)]
    assert await pool.fetchval("SELECT status FROM subject_numbers WHERE subject_no = $1", sno) == "RETIRED"

    # the same subject filed again later gets a new subject number and a fresh series
    again = await approve(system, application(pid, subject_id=sid, websites=[website()], province="330000"), "ZJ")
    assert again["subject_no"] != sno and again["website_numbers"][0]["website_no"] == again["subject_no"] + "-1"


async def test_numbers_issued_elsewhere_are_adopted_and_continued(system: System):
    pid = uid("p")
    sid = uid("s")
    legacy = "沪ICP备12345678号"
    old = website(name="老网站", website_no=legacy + "-5")
    new = website(name="新网站")
    detail = await approve(system, application(pid, subject_id=sid, type="ADD_WEBSITE", subject_no=legacy,
                                               websites=[old, new], province="310000"), "SH")
    assert detail["subject_no"] == legacy
    assert detail["website_numbers"] == [{"website_id": old.website_id, "website_no": legacy + "-5"},
                                         {"website_id": new.website_id, "website_no": legacy + "-6"}]


async def test_auto_review_applies_the_same_transitions(system: System):
    pid = uid("p")
    plain, news = application(pid), application(pid, websites=[website(preapprovals=[{"type": "NEWS",
                                                                                        "approval_no": "1"}])])
    ids = [await open_case(system, plain), await open_case(system, news)]
    ctx = system.ctx("verification")
    rules = auto_review.parse_rules(f"verify=pass,preapproval=pass,decision=approve,after=0s,providers={pid}")
    for _ in range(3):
        await auto_review.run_once(ctx, rules)
    rows = await ctx.pool.fetch("SELECT status, subject_no FROM cases WHERE id = ANY($1::uuid[])", ids)
    assert all(r["status"] == "APPROVED" and r["subject_no"] for r in rows)
    history = await ctx.pool.fetch("SELECT action, actor_role FROM case_history WHERE case_id = $1 ORDER BY id",
                                   uuid.UUID(ids[1]))
    assert [h["action"] for h in history] == ["SUBMITTED", "VERIFY_PASS", "PREAPPROVAL_PASS", "APPROVE"]
    assert {h["actor_role"] for h in history[1:]} == {"system"}
