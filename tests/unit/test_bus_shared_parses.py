"""shared.bus: a body that several consuming services of one process receive is parsed once."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from shared.bus import _SharedParses
from shared.contracts import Envelope
from shared.contracts.filing import ApplicationsSubmitted
from shared.ids import uuid7


def payload(i: int) -> dict:
    """A `filing.application.submitted` payload (one website)."""
    principal = {"name": "张三", "id_type": "RESIDENT_ID", "id_number_masked": "110105********1238",
                 "mobile": f"130{i:08d}"}
    return {
        "application_id": str(uuid7()), "type": "FIRST_FILING", "provider_id": "p1", "province": "440000",
        "subject": {"subject_id": str(uuid7()), "nature": "ENTERPRISE", "cert_type": "BIZ_LICENSE",
                    "cert_number": f"9144030000{i:07d}X", "name": f"深圳市测试科技有限公司{i}", "province": "440000",
                    "principal": principal},
        "websites": [{"website_id": str(uuid7()), "name": "测试科技官网", "domains": [f"b{i}.com"],
                      "home_urls": [f"www.b{i}.com"], "service_content": ["ORG_PORTAL"],
                      "preapprovals": [{"type": "NONE"}], "languages": ["ZH_HANS"], "principal": principal}],
        "submitted_at": "2026-12-07T02:22:36Z", "submitted_by": "op",
    }


class _Consumer:  # what the cache reads of a started consumer
    def __init__(self, service: str) -> None:
        self.service = service


def _run_body(n: int = 2, **changes) -> bytes:
    events = [{**payload(i), **changes} for i in range(n)]
    env = Envelope(type="filing.applications.submitted", producer="filing", provider_id="p1",
                   payload={"event_ids": [str(uuid7()) for _ in events], "events": events})
    return env.model_dump_json().encode()


def _cache(*services: str, max_bytes: int = 1 << 20) -> tuple[_SharedParses, list[_Consumer]]:
    cache = _SharedParses(max_bytes)
    started = [_Consumer(s) for s in services]
    for c in started:
        cache.consumers.add(c)
    cache.changed()
    return cache, started


def test_each_service_of_the_process_takes_the_one_parse_then_it_is_dropped():
    cache, _started = _cache("verification", "reporting")
    body = _run_body()
    first = cache.parse(body, "verification")
    run, inner = first.payload(), first.run_envelopes()
    again = cache.parse(body, "verification")  # a repeat for the same service: objects of its own
    assert again is not first and again.payload() == run and again.run_envelopes() == inner
    second = cache.parse(bytes(body), "reporting")  # the other queue's delivery: equal bytes, another object
    assert second is first and second.payload() is run and second.run_envelopes() is inner
    assert isinstance(run, ApplicationsSubmitted) and [e.id for e in inner] == run.event_ids
    third = cache.parse(body, "reporting")  # a redelivery after both took it: parsed again, the same answer
    assert third is not first and third.payload() == run and third.run_envelopes() == inner


def test_nothing_is_kept_with_one_consuming_service_or_for_a_message_only_one_receives():
    cache, _started = _cache("verification", "importer")
    body = _run_body()
    assert cache.parse(body, "verification") is not cache.parse(body, "importer")
    cache, _started = _cache("verification", "reporting")
    env = Envelope(type="filing.application.withdrawn", producer="filing", payload={"application_id": "a"})
    other = Envelope(type="verification.application.status_changed", producer="verification", payload={})
    assert cache.parse(env.model_dump_json().encode(), "reporting") is cache.parse(env.model_dump_json().encode(),
                                                                                   "verification")
    body = other.model_dump_json().encode()  # only filing and reporting receive it: reporting alone here
    assert cache.parse(body, "reporting") is not cache.parse(body, "verification")


def test_a_payload_its_model_refuses_fails_for_every_consumer():
    cache, _started = _cache("verification", "reporting")
    body = _run_body(version="not a number")
    for service in ("verification", "reporting", "verification"):
        parsed = cache.parse(body, service)
        with pytest.raises(ValidationError):
            parsed.payload()
    with pytest.raises(ValueError):
        cache.parse(b"{not json", "reporting")
    with pytest.raises(ValidationError):
        cache.parse(orjson.dumps({"type": "filing.applications.submitted"}), "reporting")  # no producer, no payload


def test_bodies_past_the_budget_push_out_the_oldest_and_a_stopped_consumer_ends_the_sharing():
    body = _run_body()
    cache, started = _cache("verification", "reporting", max_bytes=3 * len(body) + 10)
    bodies = [_run_body() for _ in range(5)]
    kept = [cache.parse(b, "verification") for b in bodies]
    # the three newest are kept (taken now, which drops them); the two oldest were pushed out
    assert [cache.parse(bodies[i], "reporting") is kept[i] for i in (4, 3, 2, 1, 0)] == [True, True, True, False, False]
    again = cache.parse(bodies[0], "verification")
    cache.consumers.discard(started[1])  # reporting's consumer stopped: nothing kept any more
    cache.changed()
    assert cache.parse(bodies[0], "reporting") is not again
