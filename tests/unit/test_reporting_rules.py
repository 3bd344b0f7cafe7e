"""Pure rules of the reporting service: date shifts of 同比/环比, changes with zero bases, IP keys,
certificate codes, progress states."""

from __future__ import annotations

import datetime as dt

from services.reporting import model
from services.reporting import statistics as st


def test_shift_months_clamps_to_the_month_end():
    assert st.shift_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    assert st.shift_months(dt.date(2024, 2, 29), -12) == dt.date(2023, 2, 28)
    assert st.shift_months(dt.date(2026, 1, 15), -1) == dt.date(2025, 12, 15)
    assert st.shift_months(dt.date(2026, 5, 31), -3) == dt.date(2026, 2, 28)


def test_change_shows_a_dash_for_a_zero_base():
    assert st.change(5, 0) == {"base": 0, "change": 5, "pct": None, "pct_text": "—"}
    assert st.change(0, 0)["pct_text"] == "—"
    assert st.change(3, 4) == {"base": 4, "change": -1, "pct": -25.0, "pct_text": "-25.0%"}
    assert st.change(4, 3)["pct_text"] == "33.3%"


def test_month_windows_end_with_the_cutoff_day():
    windows = st.month_windows(dt.date(2026, 3, 15))
    assert [k for k, _ in windows][0] == "2025-04" and windows[-1][0] == "2026-03"
    assert windows[-1][1] == st.Window(dt.date(2026, 3, 1), dt.date(2026, 3, 15))
    assert windows[-2][1] == st.Window(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert windows[-1][1].shifted(-1) == st.Window(dt.date(2026, 2, 1), dt.date(2026, 2, 15))


def test_the_cutoff_day_is_inclusive_in_china_time():
    end = st.day_end(dt.date(2026, 3, 15))
    assert end.utcoffset() == dt.timedelta(hours=8) and end.isoformat().startswith("2026-03-16T00:00")


def test_ip_keys_keep_ipv4_and_ipv6_apart():
    assert model.ip_range("10.0.0.9-10.0.0.1") == (model.ip_key("10.0.0.1"), model.ip_key("10.0.0.9"))
    assert model.ip_key("::1") > model.ip_key("255.255.255.255")
    assert model.ip_range("not-an-ip") is None


def test_certificate_codes_are_stable_and_differ_per_website():
    a = model.cert_code("0b6c0c5e-1111-4a4a-9a9a-000000000001", "京ICP备2026000001号-1")
    assert a == model.cert_code("0b6c0c5e-1111-4a4a-9a9a-000000000001", "京ICP备2026000001号-1")
    assert a != model.cert_code("0b6c0c5e-1111-4a4a-9a9a-000000000002", "京ICP备2026000001号-1")
    assert len(a) == 19 and model.normalise_code(a.lower().replace("-", " ")) == a


def test_progress_maps_statuses_to_the_seeds_three_states():
    assert model.progress_of("VERIFY_RETURNED")[1] == "审核中"
    assert model.progress_of("PREAPPROVAL_PENDING")[1] == "前置审批中"
    assert model.progress_of("REJECTED")[1] == "已驳回"
    assert model.rank("APPROVED") > model.rank("SUBMITTED_TO_BUREAU") > model.rank("PENDING_VERIFICATION")
