"""Pure rules of detection: host normalisation and parents, the event contract's checks, source keys,
handling codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.detection.model import closes_case, key_hash, key_prefix, new_source_key
from shared import validate as v
from shared.contracts.detection import SiteDetected


def test_hosts_are_normalised_and_sub_domains_have_their_parents():
    assert v.validate_host("HTTPS://WWW.Example.CN:8080/path?q=1") == "www.example.cn"
    assert v.validate_host("例子.中国") == "xn--fsqu00a.xn--fiqs8s"
    assert v.host_suffixes("a.b.example.com.cn") == ["a.b.example.com.cn", "b.example.com.cn", "example.com.cn",
                                                     "com.cn"]
    for bad in ("localhost", "1.2.3.4", "bad_name.cn", "-a.cn", ""):
        with pytest.raises(v.InvalidValue):
            v.validate_host(bad)
    assert v.validate_ip("2001:0db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1"
    with pytest.raises(v.InvalidValue):
        v.validate_ip("300.1.1.1")


def _event(**over):
    base = {"domain": "www.x.cn", "province": "bj", "provider_id": "p1", "source": "probe",
            "detected_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    return SiteDetected.model_validate({**base, **over})


def test_the_event_contract_names_each_bad_field():
    assert _event().province == "BJ"
    assert _event(ip="").ip is None
    # a monitor's clock a little ahead is accepted; a time in the future or without a zone is not
    assert _event(detected_at=(datetime.now(UTC) + timedelta(minutes=2)).isoformat())
    for field, value in (("detected_at", (datetime.now(UTC) + timedelta(hours=1)).isoformat()),
                         ("detected_at", "2026-11-01T08:00:00"), ("province", "XX"), ("ip", "1.2.3"),
                         ("domain", "nodot"), ("provider_id", "")):
        with pytest.raises(ValidationError) as e:
            _event(**{field: value})
        assert e.value.errors()[0]["loc"] == (field,)


def test_source_keys_are_random_and_found_by_their_prefix():
    key, prefix, digest = new_source_key()
    assert key_prefix(key) == prefix and key_hash(key) == digest and digest != key
    assert key != new_source_key()[0]
    assert key_prefix("icpsrc_short_x") is None and key_prefix("Bearer abc") is None


def test_handling_codes_that_close_a_case():
    assert closes_case("ACCESS_STOPPED") and closes_case("FILED")
    assert not closes_case("RECTIFYING") and not closes_case("NOPE")
