"""Pure rules of the verification service: pre-approval, provinces, request models, auto-review config."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from services.verification import auto_review, numbers
from services.verification.model import (
    CaseQuery,
    DecisionIn,
    PreapprovalIn,
    VerificationIn,
    gb_of,
    needs_preapproval,
    province_row,
    stage_of,
)
from shared.errors_zh import translate_errors


def test_preapproval_needed_only_for_items_other_than_none_on_content_applications():
    none = [{"preapprovals": [{"type": "NONE"}]}]
    news = [{"preapprovals": [{"type": "NONE"}]}, {"preapprovals": [{"type": "NEWS", "approval_no": "京-1号"}]}]
    assert not needs_preapproval("FIRST_FILING", none)
    assert needs_preapproval("FIRST_FILING", news)
    assert needs_preapproval("ADD_WEBSITE", news) and needs_preapproval("CHANGE_WEBSITE", news)
    assert not needs_preapproval("ADD_ACCESS", news) and not needs_preapproval("CANCEL_WEBSITE", news)
    assert not needs_preapproval("FIRST_FILING", [{"preapprovals": []}, {}])


@pytest.mark.parametrize("value", ["BJ", "bj", "110000", "11", "京"])
def test_province_in_any_notation(value):
    row = province_row(value)
    assert row is not None and row["code"] == "BJ" and gb_of(row) == "110000"


@pytest.mark.parametrize("value", [None, "", "XX", "710000", "HK", "999999"])
def test_province_without_a_filing_bureau_is_none(value):
    assert province_row(value) is None


def test_stages():
    assert stage_of("PENDING_VERIFICATION") == "verification"
    assert stage_of("SUBMITTED_TO_BUREAU") == "bureau" and stage_of("PREAPPROVAL_PENDING") == "preapproval"


def _errors(model, data):
    with pytest.raises(ValidationError) as e:
        model.model_validate(data)
    return {x["field"]: x["message"] for x in translate_errors(e.value)}


def test_request_models_speak_chinese():
    assert _errors(VerificationIn, {"result": "pass"}) == {"opinion": "必填项，不能为空"}
    assert _errors(VerificationIn, {"result": "pass", "opinion": "x" * 501})["opinion"].startswith("长度不能超过")
    assert "result" in _errors(VerificationIn, {"result": "ok", "opinion": "好"})
    assert _errors(DecisionIn, {"decision": "reject"}) == {"reason": "驳回时须填写驳回原因"}
    assert DecisionIn.model_validate({"decision": "approve"}).reason == ""
    assert "note" in _errors(PreapprovalIn, {"result": "fail", "note": " "})
    assert PreapprovalIn.model_validate({"result": "pass"}).note == ""


def test_case_query_splits_statuses_and_checks_codes():
    q = CaseQuery.model_validate({"status": ["PENDING_VERIFICATION, approved"], "type": "add_website"})
    assert q.status == ["PENDING_VERIFICATION", "APPROVED"] and q.type == "ADD_WEBSITE"
    errs = _errors(CaseQuery, {"status": ["DONE"], "type": "X", "page": "0", "page_size": "101",
                               "submitted_from": "yesterday"})
    assert set(errs) == {"status", "type", "page", "page_size", "submitted_from"}


def test_auto_review_rules():
    assert auto_review.parse_rules(None) is None and auto_review.parse_rules("off") is None
    rules = auto_review.parse_rules("verify=pass, decision=approve, after=0s, providers=a;b, provinces=BJ;310000")
    assert rules.verify == "pass" and rules.decision == "approve" and rules.after == 0
    assert rules.providers == ("a", "b") and rules.provinces == ("110000", "310000")
    assert rules.statuses() == ["PENDING_VERIFICATION", "SUBMITTED_TO_BUREAU"]
    assert auto_review.parse_rules("decision=approve,after=500ms").after == 0.5
    assert auto_review.parse_rules("decision=approve,after=1m,interval=2s").interval == 2
    assert auto_review.parse_rules("preapproval=fail").after == 2.0


@pytest.mark.parametrize("bad", ["verify=maybe", "after=soon", "colour=red", "after=2s", "concurrency=0",
                                 "provinces=XX", "verify"])
def test_auto_review_rejects_bad_rules(bad):
    with pytest.raises(ValueError):
        auto_review.parse_rules(bad)


def test_the_number_year_is_the_beijing_year():
    late = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 January in Beijing
    assert numbers.approval_year(late) == 2026
    assert numbers.approval_year(late - dt.timedelta(hours=1)) == 2025


def test_application_text_refuses_a_nul_as_jsonb_did():
    """cases.application is json (stored as the text received): a NUL, which jsonb refused (the message
    went to the dead letters), is refused before the statement; a backslash followed by "u0000" is text."""
    from services.verification.handlers import application_text
    from shared.bus import PermanentError, is_permanent

    with pytest.raises(PermanentError) as refused:
        application_text({"websites": [{"remark": "a\x00b"}]})
    assert is_permanent(refused.value)
    with pytest.raises(PermanentError):
        application_text({"name": "\\\x00"})  # an escaped backslash, then the NUL
    assert application_text({"name": "\\u0000", "n": "北京"}) == '{"name":"\\\\u0000","n":"北京"}'
