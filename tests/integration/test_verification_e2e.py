"""End to end over HTTP: the filing wizard submits, verification verifies and reviews, filing
applies the outcome — nothing injected, every hop through the real relay and RabbitMQ."""

from __future__ import annotations

import re

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import V
from tests.integration.change_helpers import application_reaches as _application
from tests.integration.change_helpers import bureau as _bureau
from tests.integration.change_helpers import case_of as _case
from tests.integration.change_helpers import v_post as _post
from tests.integration.filing_helpers import new_tenant
from tests.integration.test_verification import YEAR


async def test_entry_verify_preapproval_approve_numbers_visible_in_filing(system: System):
    t = await new_tenant(system)
    data = fs.filing(websites=2)
    data["websites"][1] = fs.website(
        name="示例科技新闻站", service_content=["NEWS"],
        preapprovals=[{"type": "NEWS", "approval_no": "京-12345号", "document": "doc-news-1"}],
    )
    status, done = await t.call("POST", "/filings", json=data)
    assert status == 201, done
    case = await _case(t, done["application_id"])
    assert case["status"] == "PENDING_VERIFICATION" and case["needs_preapproval"] is True
    assert case["subject_id"] == done["subject_id"] and case["province_code"] == "BJ"
    r = await system.client.get(f"{V}/cases/{case['id']}", headers=t.headers)
    detail = await r.json()
    assert [w["website_id"] for w in detail["application"]["websites"]] == done["website_ids"]

    out = await _post(system, f"/cases/{case['id']}/verification", {"result": "pass", "opinion": "已当面核验"},
                      t.headers)
    assert out["status"] == "PREAPPROVAL_PENDING"
    await _application(t, done["application_id"], "PREAPPROVAL_PENDING")
    await _post(system, f"/cases/{case['id']}/preapproval", {"result": "pass", "note": "新闻办已批复"},
                _bureau(system))
    await _application(t, done["application_id"], "SUBMITTED_TO_BUREAU")
    out = await _post(system, f"/cases/{case['id']}/decision", {"decision": "approve", "reason": "同意"},
                      _bureau(system))
    subject_no = out["subject_no"]
    assert re.fullmatch(rf"京ICP备{YEAR}\d{{6}}号", subject_no)
    app = await _application(t, done["application_id"], "APPROVED")
    assert app["subject_no"] == subject_no

    for i, wid in enumerate(done["website_ids"], start=1):
        code, website = await t.call("GET", f"/websites/{wid}")
        assert code == 200, website
        assert website["website_no"] == f"{subject_no}-{i}" and website["status"] == "ACTIVE"
    code, subject = await t.call("GET", f"/subjects/{done['subject_id']}")
    assert subject["subject_no"] == subject_no and subject["status"] == "ACTIVE"


async def test_entry_return_correct_resubmit_approve(system: System):
    t = await new_tenant(system)
    status, done = await t.call("POST", "/filings", json=fs.filing())
    assert status == 201, done
    app_id = done["application_id"]
    case = await _case(t, app_id)
    await _post(system, f"/cases/{case['id']}/verification",
                {"result": "return", "opinion": "网站名称与内容不符、请修改"}, t.headers)
    detail = await _application(t, app_id, "VERIFY_RETURNED")
    assert detail["verify_opinion"] == "网站名称与内容不符、请修改"

    data = detail["data"]
    data["websites"][0]["name"] = "示例科技产品站"
    code, body = await t.call("PUT", f"/applications/{app_id}", json=data)
    assert code == 200, body
    code, body = await t.call("POST", f"/applications/{app_id}/resubmit")
    assert code == 200 and body["version"] == 2, body

    case2 = await _case(t, app_id, version=2)
    assert case2["id"] == case["id"] and case2["status"] == "PENDING_VERIFICATION"
    r = await system.client.get(f"{V}/cases/{case['id']}", headers=t.headers)
    full = await r.json()
    assert full["application"]["websites"][0]["name"] == "示例科技产品站"
    assert [h["action"] for h in full["history"]] == ["SUBMITTED", "VERIFY_RETURN", "RESUBMITTED"]

    await _post(system, f"/cases/{case['id']}/verification", {"result": "pass", "opinion": "已更正"}, t.headers)
    out = await _post(system, f"/cases/{case['id']}/decision", {"decision": "approve"}, _bureau(system))
    await _application(t, app_id, "APPROVED")
    code, website = await t.call("GET", f"/websites/{done['website_ids'][0]}")
    assert website["website_no"] == out["subject_no"] + "-1" and website["name"] == "示例科技产品站"


async def test_entry_reject_reason_visible_to_the_provider(system: System):
    t = await new_tenant(system)
    status, done = await t.call("POST", "/filings", json=fs.filing())
    assert status == 201, done
    case = await _case(t, done["application_id"])
    await _post(system, f"/cases/{case['id']}/verification", {"result": "pass", "opinion": "核实通过"}, t.headers)
    await _application(t, done["application_id"], "SUBMITTED_TO_BUREAU")
    await _post(system, f"/cases/{case['id']}/decision", {"decision": "reject", "reason": "主办单位证件照片不清晰"},
                _bureau(system))
    app = await _application(t, done["application_id"], "REJECTED")
    assert app["bureau_reason"] == "主办单位证件照片不清晰"
    code, subject = await t.call("GET", f"/subjects/{done['subject_id']}")
    assert subject["last_rejection_reason"] == "主办单位证件照片不清晰" and subject["subject_no"] is None
