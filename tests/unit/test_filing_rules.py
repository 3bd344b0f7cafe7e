"""Pure rules of a first filing: shared/filing_data.py, the draft evaluation, contacts, audit helpers."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.filing import audit
from services.filing.entry import handlers as entry
from services.filing.entry import model as filing_model
from services.filing.entry import preapproval as preapproval_contacts
from shared.filing_data import (
    FilingData,
    canonical,
    check_filing,
    filing_warnings,
    masked,
    principal_mobiles,
    subject_key,
)
from shared.validate import org_code_check_char
from tests import filing_samples as fs

TODAY = dt.date(2026, 6, 1)


def _data(raw=None) -> FilingData:
    return FilingData.model_validate(raw or fs.filing())


def test_sample_is_valid():
    assert check_filing(_data(), TODAY) == []


def test_gov_subdomain_only_for_government():
    raw = fs.filing()
    raw["websites"][0]["domains"] = ["jyj.beijing.gov.cn"]
    raw["websites"][0]["home_urls"] = ["jyj.beijing.gov.cn"]
    errors = check_filing(_data(raw), TODAY)
    assert errors and errors[0]["field"] == "websites[0].domains[0]" and "子域名" in errors[0]["message"]
    raw["subject"].update(nature="GOVERNMENT", cert_type="USCC_GOVERNMENT", cert_number="1211000040000000XT")
    raw["subject"]["cert_type"] = "ORG_CODE_GOVERNMENT"
    raw["subject"]["cert_number"] = "40000000-" + org_code_check_char("40000000")
    errs = [e for e in check_filing(_data(raw), TODAY) if e["field"].startswith("websites")]
    assert errs == []


def test_a_different_website_principal_needs_own_contacts():
    raw = fs.filing()
    other = fs.principal(emergency_phone=raw["subject"]["principal"]["emergency_phone"])
    raw["websites"][0].update(principal_same_as_subject=False, principal=other)
    errors = check_filing(_data(raw), TODAY)
    assert {e["field"] for e in errors} == {"websites[0].principal.emergency_phone", "websites[0].principal.email"}


def test_office_phone_must_not_be_the_mobile_in_listed_provinces():
    raw = fs.filing()
    p = raw["subject"]["principal"]
    p["office_phone"] = p["mobile"]
    errors = check_filing(_data(raw), TODAY)  # Beijing
    assert [e["field"] for e in errors] == ["subject.principal.office_phone"]
    raw["subject"].update(province="310000", city="310100", county="310115")
    assert check_filing(_data(raw), TODAY) == []


def test_personal_subject_rules_and_masking():
    raw = fs.filing()
    rid = fs.resident_id()
    raw["subject"].update(nature="PERSONAL", cert_type="RESIDENT_ID", cert_number=rid, name="李四")
    raw["subject"]["principal"]["id_number"] = rid
    raw["websites"][0].update(name="李四的读书笔记", service_content=["ORG_PORTAL"])
    errors = check_filing(_data(raw), TODAY)
    assert errors == [{"field": "websites[0].service_content[0]", "message": "个人网站的服务内容只能选择博客/个人空间或其他"}]
    raw["websites"][0]["service_content"] = ["BLOG"]
    data = _data(raw)
    assert check_filing(data, TODAY) == []
    out = masked(data)
    assert rid not in str(out) and out["subject"]["cert_number"].startswith(rid[:6])
    assert subject_key(data.subject) == ("PERSON_ID", rid)


def test_canonical_form():
    raw = fs.filing()
    raw["subject"]["cert_number"] = raw["subject"]["cert_number"].lower()
    raw["subject"]["principal"]["id_number"] = raw["subject"]["principal"]["id_number"].lower()
    d = raw["websites"][0]["domains"][0]
    raw["websites"][0].update(
        home_urls=[f"HTTPS://WWW.{d.upper()}/", f"www.{d}"], languages=["ZH_HANS", "ZH_HANS"],
    )
    raw["websites"][0]["access"]["ip_ranges"] = [{"start_ip": "2001:db8:0::1", "end_ip": "2001:db8::ff"}]
    c = canonical(_data(raw))
    assert c.subject.cert_number == raw["subject"]["cert_number"].upper()
    assert c.websites[0].home_urls == [f"www.{d}"] and c.websites[0].languages == ["ZH_HANS"]
    assert c.websites[0].access.ip_ranges[0].start_ip == "2001:db8::1"


def test_subject_key_families():
    s = _data().subject
    assert subject_key(s) == ("USCC", s.cert_number)
    check = org_code_check_char("40000000")
    s2 = s.model_copy(update={"cert_type": "ORG_CODE_ENTERPRISE", "cert_number": "40000000" + check})
    assert subject_key(s2) == ("ORG_CODE", "40000000-" + check)


def test_principal_mobiles_paths():
    raw = fs.filing(2)
    other = fs.principal()
    raw["websites"][1].update(principal_same_as_subject=False, principal=other)
    data = _data(raw)
    assert principal_mobiles(data) == {
        raw["subject"]["principal"]["mobile"]: "subject.principal.mobile",
        other["mobile"]: "websites[1].principal.mobile",
    }


def test_sector_word_warning():
    raw = fs.filing()
    raw["websites"][0]["name"] = "示例科技新闻网"
    warnings = filing_warnings(_data(raw))
    assert warnings and warnings[0]["field"] == "websites[0].name"


# ---------------------------------------------------------------- drafts


def test_draft_evaluation_and_steps():
    data = entry.empty_data()
    assert entry.step_of(data) == 1
    state = entry.evaluate(data)
    assert not state["complete"] and {e["field"] for e in state["errors"]} == {"subject", "websites"}
    data["subject"] = fs.subject()
    assert entry.step_of(data) == 2
    data["websites"] = [{"id": "a", "data": fs.website()}, {"id": "b", "data": {"name": 1}}]
    assert entry.step_of(data) == 3
    state = entry.evaluate(data)
    assert any(e["field"] == "websites[1].domains" for e in state["errors"])
    data["websites"].pop()
    data["another_website"] = False
    assert entry.step_of(data) == 4 and entry.evaluate(data)["complete"]


def test_conflict_messages_name_the_number_and_the_field():
    rows = [
        {"kind": "domain", "key": "example.com", "number": "京ICP备2026000001号-1", "status": "ACTIVE"},
        {"kind": "mobile", "key": "13900000000", "number": None, "status": None},
    ]
    err = filing_model.conflict_error(rows, {"13900000000": "websites[0].principal.mobile"},
                                 {"example.com": "websites[0].domains[0]"})
    assert err.status == 409
    assert err.errors[0] == {"field": "websites[0].domains[0]",
                             "message": "域名 example.com 已备案（京ICP备2026000001号-1），不能重复备案"}
    assert err.errors[1]["field"] == "websites[0].principal.mobile"
    assert "京ICP备2026000001号-1" in err.detail


def test_preapproval_contacts_file_and_override(tmp_path, monkeypatch):
    out = preapproval_contacts.contacts_for("310000", ["NONE", "DRUGS_DEVICES"])
    assert [c["department"] for c in out] == ["上海市药品监督管理局"]
    custom = tmp_path / "contacts.csv"
    custom.write_text(
        "province,preapproval_type,department,phone,address,website,note\n"
        "SH,DRUGS_DEVICES,上海市药监局审批处,021-00000000,示例路1号,,\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(preapproval_contacts.ENV_VAR, str(custom))
    out = preapproval_contacts.contacts_for("310000", ["DRUGS_DEVICES", "NEWS"])
    assert out[0]["department"] == "上海市药监局审批处" and out[0]["phone"] == "021-00000000"
    assert out[1]["department"].startswith("上海市") and "未配置" in out[1]["note"]
    bad = tmp_path / "bad.csv"
    bad.write_text("province,preapproval_type,department,phone,address,website,note\nXX,NEWS,a,,,,\n", encoding="utf-8")
    monkeypatch.setenv(preapproval_contacts.ENV_VAR, str(bad))
    with pytest.raises(RuntimeError):
        preapproval_contacts.contacts_for("310000", ["NEWS"])
    with pytest.raises(RuntimeError):  # even when no type needs a contact
        preapproval_contacts.contacts_for("310000", ["NONE"])
    monkeypatch.delenv(preapproval_contacts.ENV_VAR)
    assert preapproval_contacts.contacts_for("310000", ["NONE"]) == preapproval_contacts.contacts_for("310000", []) == []


def test_audit_diff_and_scrub():
    assert audit.diff({"a": 1, "b": [1]}, {"a": 1, "b": [2], "c": None}) == {"b": [[1], [2]]}
    scrubbed = audit.scrub({"principal": {"id_number": "11010519491231002X", "name": "张三"}})
    assert scrubbed["principal"]["id_number"] == "110105********002X"


def test_a_lost_race_is_answered_like_the_check():
    import asyncpg

    data = _data()
    domain = data.websites[0].domains[0]
    e = asyncpg.UniqueViolationError("duplicate key")
    e.constraint_name, e.detail = "domains_live", f"Key (ascii)=({domain}) already exists."
    err = filing_model.race_error(e, data)
    assert err.status == 409 and err.errors[0]["field"] == "websites[0].domains[0]"
    assert "正在办理中" in err.errors[0]["message"]
    mobile = data.subject.principal.mobile
    e.constraint_name, e.detail = "subject_mobiles_live", f"Key (mobile)=({mobile}) already exists."
    err = filing_model.race_error(e, data)
    assert err.status == 422 and err.errors[0]["field"] == "subject.principal.mobile"
    e.constraint_name = "subjects_cert_live"
    assert filing_model.race_error(e, data).errors[0]["field"] == "subject.cert_number"


def test_rule_keys_are_what_the_dry_run_would_compute_from_the_parsed_filing():
    """The importer seals `rule_keys` beside each item; filing's dry run uses them instead of parsing
    the item, so they must equal the keys it computes from the parsed, canonical data."""
    from shared.filing_data import FilingData, domain_paths, principal_mobiles, rule_keys, subject_key

    raw = fs.filing(websites=2)
    raw["websites"][1]["principal_same_as_subject"] = False
    raw["websites"][1]["principal"] = fs.principal(name="李四", email="lisi@example.com")
    raw["subject"]["cert_number"] = " " + raw["subject"]["cert_number"].lower() + " "  # normalised on the way
    data = filing_model.validate_filing(FilingData.model_validate(raw), copy=False)
    keys = rule_keys(data)
    assert keys["cert"] == list(subject_key(data.subject, normalized=True)) == list(subject_key(data.subject))
    assert keys["cert"][1] == raw["subject"]["cert_number"].strip().upper()
    assert keys["mobiles"] == principal_mobiles(data) and len(keys["mobiles"]) == 2
    assert keys["domains"] == domain_paths(data) == {
        raw["websites"][0]["domains"][0]: "websites[0].domains[0]",
        raw["websites"][1]["domains"][0]: "websites[1].domains[0]",
    }


@pytest.mark.parametrize("copy", [True, False])
def test_a_same_as_subject_principal_with_a_lower_case_x_is_accepted_on_every_path(copy):
    """Normalising writes the subject principal's ID number back (`x` → `X`) before its websites'
    copies are compared: the copy is still the same person."""
    import copy as copying

    from services.filing.entry.model import validate_filing
    from shared import validate as v

    first17 = next(f"11010519800101{n:03d}" for n in range(1000)
                   if v.resident_id_check_char(f"11010519800101{n:03d}") == "X")
    raw = fs.filing()
    raw["subject"]["principal"]["id_number"] = first17 + "x"
    raw["websites"][0]["principal_same_as_subject"] = True
    raw["websites"][0]["principal"] = copying.deepcopy(raw["subject"]["principal"])
    data = validate_filing(FilingData.model_validate(raw), copy=copy)
    assert data.subject.principal.id_number == first17 + "X"
    raw["websites"][0]["principal"]["mobile"] = fs.mobile()
    with pytest.raises(filing_model.FilingError) as refused:
        validate_filing(FilingData.model_validate(raw), copy=copy)
    assert refused.value.errors == [{"field": "websites[0].principal",
                                     "message": "选择“同主体负责人”时，网站负责人信息须与主体负责人完全一致"}]


def _varied_filings() -> list[FilingData]:
    """Filings that exercise every branch of the rows and snapshots: a personal subject, a website with its own
    principal (a legal representative, a dated validity), preapprovals, several websites."""
    personal = fs.filing()
    rid = fs.resident_id()
    personal["subject"].update(nature="PERSONAL", cert_type="RESIDENT_ID", cert_number=rid, name="李四")
    personal["subject"]["principal"]["id_number"] = rid
    personal["websites"][0].update(name="李四的读书笔记", service_content=["BLOG"])
    own = fs.filing(3)
    own["websites"][1].update(
        principal_same_as_subject=False,
        principal=fs.principal(name="王五", id_valid_to="2030-01-01", legal_rep_name="赵六",
                               legal_rep_id=fs.resident_id(), office_phone="086-010-87654321", email="wangwu@example.com"),
        preapprovals=[{"type": "NEWS", "approval_no": "京-1号"}, {"type": "PUBLISHING", "approval_no": "京-2号"}],
    )
    return [filing_model.validate_filing(FilingData.model_validate(raw), TODAY) for raw in (personal, own)]


def test_the_bulk_event_and_rows_from_a_dump_are_those_of_the_model():
    """The import's chunk write builds each filing's event (in its JSON form, sent without the models) and
    rows from one `model_dump` (entry/bulk.py): the same as `submitted_event`'s dump and the rows built
    from the model."""
    from pydantic_core import to_jsonable_python

    from services.filing.entry import rows
    from shared.contracts.filing import ApplicationsSubmitted, ApplicationSubmitted

    for at in (dt.datetime(2026, 6, 1, 8, 30, 15, 123456, tzinfo=dt.UTC), dt.datetime(2026, 6, 1, tzinfo=dt.UTC)):
        for data in _varied_filings():
            dump = data.model_dump(mode="json")
            ids = [f"w{i}" for i in range(len(data.websites))]
            args = dict(application_id="a1", type_="FIRST_FILING", provider_id="p1", subject_id="s1",
                        website_ids=ids, submitted_by="op", source="import", import_job_id="job")
            expected = rows.submitted_event(version=1, data=data, submitted_at=at, **args)
            got = rows.submitted_event_json(dump=dump, submitted_at=to_jsonable_python(at), **args)
            assert got == expected.model_dump(mode="json")
            assert ApplicationSubmitted.model_validate(got) == expected
            run = {"event_ids": [str(uuid.uuid4())], "events": [got]}
            assert ApplicationsSubmitted.model_validate(run).model_dump(mode="json") == run
            assert rows.subject_row(data, dump) == rows.subject_row(data)
            for i, (w, wdump) in enumerate(zip(data.websites, dump["websites"], strict=True)):
                assert rows.website_row(w, i, wdump) == rows.website_row(w, i)
            assert rows.version_payload(data, "s1", ids, dump) == rows.version_payload(data, "s1", ids)


def test_an_outbox_row_from_a_json_payload_is_the_models():
    """`Outbox.row_json` (a payload already in its contract's JSON form) writes the row `Outbox.row` writes."""
    import orjson

    from shared.contracts.filing import ApplicationsSubmitted
    from shared.outbox import Outbox

    data = _varied_filings()[1]
    from services.filing.entry import rows

    event = rows.submitted_event(version=1, data=data, application_id="a1", type_="FIRST_FILING", provider_id="p1",
                                 subject_id="s1", website_ids=["w0", "w1", "w2"],
                                 submitted_at=dt.datetime.now(dt.UTC), submitted_by="op", source="import",
                                 import_job_id="job")
    run = ApplicationsSubmitted(events=[event], event_ids=[uuid.uuid4()])
    outbox = Outbox("filing", exchange_prefix="x.")
    env, params = outbox.row(run, provider_id="p1", correlation_id="c1")
    env2, params2 = outbox.row_json(ApplicationsSubmitted, run.model_dump(mode="json"), provider_id="p1",
                                    correlation_id="c1")
    body, body2 = orjson.loads(params[3]), orjson.loads(params2[3])
    assert {k: x for k, x in body.items() if k not in ("id", "occurred_at")} == \
        {k: x for k, x in body2.items() if k not in ("id", "occurred_at")}
    assert sorted(body) == sorted(body2) and body2["id"] == str(env2.id)
    assert [params[i] for i in (1, 2, 4, 5)] == [params2[i] for i in (1, 2, 4, 5)]
    assert env2.payload == env.payload


def test_validate_filing_output_is_already_what_the_group_commit_writes():
    # the API's group commit skips the bulk write's canonical pass (`canonical_form`): validate_filing's
    # output must be its fixed point, repeats, same-as-subject principals and uncompressed IPs included
    from services.filing.entry import bulk

    body = fs.filing(websites=2)
    w0, w1 = body["websites"]
    w0.update(service_content=["ORG_PORTAL", "ORG_PORTAL"], languages=["ZH_HANS", "EN", "ZH_HANS"],
              principal=fs.clone(body["subject"]["principal"]), home_urls=[f"HTTP://www.{w0['domains'][0]}/", f"www.{w0['domains'][0]}"])
    w0["access"].update(access_methods=["CLOUD", "CLOUD"], server_locations=["BJ", "BJ", "SH"],
                        ip_ranges=[{"start_ip": "2001:db8:0:0::1", "end_ip": "2001:0db8::0002"}])
    w1.update(principal_same_as_subject=False, principal=fs.principal(email="lisi@example.com"))
    body["subject"]["cert_number"] = body["subject"]["cert_number"].lower()
    data = filing_model.validate_filing(FilingData.model_validate(body))
    once = data.model_dump()
    assert once == bulk._prepare(data.model_copy(deep=True), True).model_dump()
    assert once == bulk._prepare(data.model_copy(deep=True), False).model_dump()
    assert once["websites"][0]["service_content"] == ["ORG_PORTAL"] and once["websites"][0]["principal"] is None
