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


def test_an_id_is_a_plain_uuid_and_a_forked_child_draws_its_own():
    import os
    import pickle

    u = uuid7()
    assert u == uuid.UUID(str(u)) and hash(u) == hash(uuid.UUID(str(u))) and pickle.loads(pickle.dumps(u)) == u
    assert u.is_safe is uuid.SafeUUID.unknown and u.hex == str(u).replace("-", "")
    uuid7()  # spares left in this process
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids are not the ones the parent draws next
        os.write(write, "".join(str(uuid7())[14:] for _ in range(3)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 4096).decode()
    os.close(read)
    os.close(write)
    assert len(child) == 3 * 22 and child != "".join(str(uuid7())[14:] for _ in range(3))
