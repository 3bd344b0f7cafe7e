"""Pure rules of business changes and cancellations (shared.filing_data, changes_model)."""

from __future__ import annotations

import pytest

from services.filing.changes.model import (
    cancel_status,
    ip_texts,
    masked_diff,
    reason_errors,
    rebase,
    subject_snap,
)
from shared.filing_data import (
    Access,
    Subject,
    WebsiteChange,
    canonical_access,
    check_access,
    check_subject_change,
    check_website_change,
)
from tests import filing_samples as fs


def test_rebase_and_paths():
    errors = [{"field": "websites[0].domains[0]", "message": "x"}, {"field": "websites[0]", "message": "y"},
              {"field": "subject.name", "message": "z"}]
    assert [e["field"] for e in rebase(errors, "websites[0]", "website")] == ["website.domains[0]", "website",
                                                                               "subject.name"]
    assert [e["field"] for e in rebase(errors, "websites[0]", "")][:1] == ["domains[0]"]


@pytest.mark.parametrize(
    ("target", "code", "reason", "field"),
    [
        ("SUBJECT", "NO_LONGER_OPERATED", "", None),
        ("WEBSITE", "DOMAIN_NOT_OWNED", "", None),
        ("SUBJECT", "DOMAIN_NOT_OWNED", "", "reason_code"),  # applies to websites only
        ("WEBSITE", "MOVE_PROVINCE", "", "reason_code"),
        ("SUBJECT", "UNKNOWN", "", "reason_code"),
        ("SUBJECT", "OTHER", "", "reason"),
        ("SUBJECT", "OTHER", "业务调整", None),
    ],
)
def test_cancel_reasons(target, code, reason, field):
    errors = reason_errors(target, code, reason)
    assert [e["field"] for e in errors] == ([field] if field else [])


def test_cancel_status_follows_the_application():
    assert cancel_status("PENDING_VERIFICATION", False) == "APPLIED"
    assert cancel_status("SUBMITTED_TO_BUREAU", False) == "APPLIED"
    assert cancel_status("REJECTED", False) == "REJECTED"
    assert cancel_status("APPROVED", False) == "APPROVED"
    assert cancel_status("ABANDONED", True) == "DELETED"


def test_website_change_may_only_remove_domains():
    change = WebsiteChange.model_validate({**{k: v for k, v in fs.website().items() if k not in ("access",)},
                                           "domains": ["a-example.com"], "home_urls": ["www.a-example.com"]})
    errors: list = []
    check_website_change(change, ["a-example.com", "b-example.com"], errors)
    assert errors == []
    check_website_change(change, ["b-example.com"], errors)
    assert errors[0]["field"] == "website.domains[0]" and "只能删除域名" in errors[0]["message"]


def test_subject_change_keeps_province_and_certificate():
    current = Subject.model_validate(fs.subject())
    errors: list = []
    check_subject_change(current, current.model_copy(update={"name": "新名称有限公司"}), errors)
    assert errors == []
    moved = current.model_copy(update={"province": "310000"})
    other_cert = current.model_copy(update={"cert_number": fs.uscc()})
    check_subject_change(current, moved, errors)
    check_subject_change(current, other_cert, errors)
    assert [e["field"] for e in errors] == ["subject.province", "subject.cert_number"]


def test_access_rules_and_canonical_form():
    access = Access.model_validate({"access_methods": ["CLOUD", "CLOUD"], "ip_ranges": [
        {"start_ip": "192.0.2.9", "end_ip": "192.0.2.1"}], "server_locations": ["BJ"]})
    errors: list = []
    check_access(access, "", errors)
    assert errors[0]["field"] == "ip_ranges[0]"
    ok = Access.model_validate({"access_methods": ["CLOUD", "CLOUD"], "ip_ranges": [
        {"start_ip": "192.0.2.1", "end_ip": "192.0.2.9"}], "server_locations": ["BJ", "BJ"]})
    errors = []
    check_access(ok, "access", errors, normalize=True)
    assert errors == []
    canon = canonical_access(ok)
    assert canon.access_methods == ["CLOUD"] and canon.server_locations == ["BJ"]
    assert ip_texts([r.model_dump() for r in canon.ip_ranges]) == ["192.0.2.1-192.0.2.9"]


def test_snapshots_mask_id_numbers_and_diff():
    s = fs.subject(nature="PERSONAL", cert_type="RESIDENT_ID", cert_number=fs.resident_id())
    snap = subject_snap(s, "sid", "京ICP备2026000001号").model_dump(mode="json")
    assert "*" in snap["cert_number"] and "*" in snap["principal"]["id_number_masked"]
    assert s["cert_number"] not in str(snap)
    assert masked_diff({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": [2, 3]}
