"""UUID version 7 (shared.ids): the layout of RFC 9562, ordered by time, random within a millisecond."""

from __future__ import annotations

import time
import uuid

from shared.ids import uuid7


def test_layout_is_rfc_9562_version_7():
    before = time.time_ns() // 1_000_000
    u = uuid7()
    after = time.time_ns() // 1_000_000
    assert u.version == 7 and u.variant == uuid.RFC_4122
    assert before <= u.int >> 80 <= after  # the first 48 bits: Unix time in milliseconds


def test_ids_follow_time_and_differ_within_a_millisecond():
    first = uuid7()
    time.sleep(0.002)
    second = uuid7()
    assert first < second and str(first) < str(second)  # index order is creation order across milliseconds
    many = {uuid7() for _ in range(20_000)}
    assert len(many) == 20_000
    # the random part really varies (not a counter): both halves of rand_b's top bit occur
    assert {(u.int >> 61) & 1 for u in many} == {0, 1}
