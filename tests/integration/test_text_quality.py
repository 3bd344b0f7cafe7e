"""Chinese text quality over HTTP (issue 11): free text kept as typed, identifiers normalised,
error details as Chinese sentences, code tables without English notes, `icp demo` role codes."""

from __future__ import annotations

import re

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import new_tenant
from tests.integration.test_verification import application, open_case, prov, uid, verify


async def test_free_text_keeps_full_width_punctuation_identifiers_are_normalised(system: System):
    t = await new_tenant(system)
    data = fs.filing()
    cert = data["subject"]["cert_number"]
    # full-width letters and digits in the certificate number: normalised to half-width
    data["subject"]["cert_number"] = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in cert)
    data["subject"]["name"] = "示例（北京）网络科技有限公司"
    data["subject"]["remark"] = "身份，信息真实一致；门牌号：无。"
    data["subject"]["mail_address"] = "示例路1号（东门）301室"
    data["subject"]["principal"]["email"] = "ＺＨＡＮＧ@ＥＸＡＭＰＬＥ.ＣＯＭ"
    status, done = await t.call("POST", "/filings", json=data)
    assert status == 201, done
    status, subject = await t.call("GET", f"/subjects/{done['subject_id']}")
    assert status == 200, subject
    s = subject["subject"] if "subject" in subject else subject
    assert s["name"] == "示例（北京）网络科技有限公司"
    assert s["remark"] == "身份，信息真实一致；门牌号：无。"
    assert s["mail_address"] == "示例路1号（东门）301室"
    assert s["cert_number"] == cert.upper()
    assert s["principal"]["email"] == "ZHANG@example.com"


async def test_verification_opinion_is_stored_and_shown_as_typed(system: System):
    pid = uid("p")
    case_id = await open_case(system, application(pid))
    r = await verify(system, case_id, pid, opinion="身份，信息真实一致")
    body = await r.json()
    assert r.status == 200, body
    assert body["history"][-1]["text"] == "身份，信息真实一致"
    r = await system.client.get(f"/api/verification/cases/{case_id}", headers=prov(system, pid))
    assert (await r.json())["history"][-1]["text"] == "身份，信息真实一致"


async def test_error_detail_lists_every_error_by_its_chinese_label(system: System):
    t = await new_tenant(system)
    data = fs.filing(2)
    data["subject"]["name"] = ""
    data["websites"][1]["domains"] = ["not a domain"]
    data["subject"]["principal"]["mobile"] = "12345"
    status, body = await t.call("POST", "/filings", json=data)
    assert status == 422, body
    fields = {e["field"] for e in body["errors"]}
    assert {"subject.name", "websites[1].domains[0]", "subject.principal.mobile"} <= fields
    detail = body["detail"]
    assert "主办单位名称：不能为空" in detail
    assert "第2个网站的网站域名（第1项）：" in detail
    assert "主体负责人手机号码：" in detail
    assert f"共 {len(body['errors'])} 处错误" in detail
    assert not re.search(r"[a-z_]+\.[a-z_]+|\[\d\]", detail), detail  # no English path in the sentence
    # an invalid value is named invalid, never "empty"
    mobile_error = next(e for e in body["errors"] if e["field"] == "subject.principal.mobile")
    assert "不能为空" not in mobile_error["message"]


async def test_query_error_names_the_field_in_chinese(system: System):
    t = await new_tenant(system)
    status, body = await t.call("GET", "/subjects", params={"page": "abc"})
    assert status == 422 and body["errors"][0]["field"] == "page"
    assert body["detail"].startswith("页码："), body


async def test_code_tables_carry_no_english_notes(system: System):
    r = await system.client.get("/api/filing/codes")
    tables = (await r.json())["items"]
    english = re.compile(r"[A-Za-z]{2,}[ ,/()-]+[A-Za-z]{2,}|[a-z]{3,}")
    for t in tables:
        assert "name_en" not in t["columns"] and "comment" not in t["columns"], t
        rows = (await (await system.client.get(f"/api/filing/codes/{t['table']}")).json())["items"]
        for row in rows:
            for key, value in row.items():
                if isinstance(value, str) and not re.search(r"[\u4e00-\u9fff]", value):
                    # codes and flags only: upper-case identifiers, digits, true/false
                    assert value in ("true", "false") or not english.search(value), (t["table"], key, value)


async def test_demo_prints_the_role_codes_beside_their_labels(system: System):
    from services.filing.demo import load_demo

    lines: list[str] = []
    await load_demo(system.ctx("filing"), out=lines.append)
    text = "\n".join(lines)
    assert "ICP报备(接入服务商) / provider / demo / demo123" in text
    assert "管局审核人员 / bureau / bj-reviewer" in text and "系统管理员 / admin / admin" in text
