"""The principal fields of DOMAIN §4.2 added by issue 11: instant messaging, and the legal
representative when the principal is not the legal representative — API, events, audit."""

from __future__ import annotations

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import events_for, new_tenant


async def test_im_and_legal_representative_are_filed_shown_and_masked(system: System):
    t = await new_tenant(system)
    data = fs.filing()
    legal_id = fs.resident_id()
    data["subject"]["principal"] |= {"im_type": "QQ", "im_account": "12345678", "legal_rep_name": "李四",
                                     "legal_rep_id": legal_id.lower()}
    status, done = await t.call("POST", "/filings", json=data)
    assert status == 201, done
    _, subject = await t.call("GET", f"/subjects/{done['subject_id']}")
    p = subject["principal"]
    assert (p["im_type"], p["im_account"], p["legal_rep_name"], p["legal_rep_id"]) == ("QQ", "12345678", "李四",
                                                                                        legal_id.upper())
    event = (await events_for(system, done["application_id"]))[0]["payload"]
    ep = event["subject"]["principal"]
    assert ep["im_type"] == "QQ" and ep["legal_rep_name"] == "李四"
    assert legal_id.upper() not in str(event) and "*" in ep["legal_rep_id_masked"]
    _, history = await t.call("GET", f"/subjects/{done['subject_id']}/history")
    assert legal_id.upper() not in str(history)
    audit = await system.ctx("filing").pool.fetch("SELECT changes::text AS c FROM audit_log WHERE subject_id = $1",
                                                  __import__("uuid").UUID(done["subject_id"]))
    assert audit and not any(legal_id.upper() in r["c"] for r in audit)


async def test_principal_field_rules_answer_the_field(system: System):
    t = await new_tenant(system)
    cases = [
        ({"im_type": "WECHAT"}, "subject.principal.im_account"),
        ({"im_account": "abc123"}, "subject.principal.im_type"),
        ({"im_type": "QQ", "im_account": "qq-abc"}, "subject.principal.im_account"),
        ({"im_type": "MSN", "im_account": "x"}, "subject.principal.im_type"),
        ({"legal_rep_name": "李四"}, "subject.principal.legal_rep_id"),
        ({"legal_rep_id": fs.resident_id()}, "subject.principal.legal_rep_name"),
        ({"legal_rep_name": "李四", "legal_rep_id": "110101199003071234"}, "subject.principal.legal_rep_id"),
    ]
    for extra, field in cases:
        data = fs.filing()
        data["subject"]["principal"] |= extra
        status, body = await t.call("POST", "/filings", json=data)
        assert status == 422 and field in {e["field"] for e in body["errors"]}, (extra, body)
    # the same person as principal and legal representative is refused as "not the legal representative"
    data = fs.filing()
    data["subject"]["principal"] |= {"legal_rep_name": "张三", "legal_rep_id": data["subject"]["principal"]["id_number"]}
    status, body = await t.call("POST", "/filings", json=data)
    assert status == 422 and body["errors"][0]["field"] == "subject.principal.legal_rep_id", body
    assert "法定代表人证件号码" in body["detail"]
