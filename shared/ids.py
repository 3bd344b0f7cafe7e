"""Time-ordered ids: UUID version 7 (RFC 9562) — 48 bits of Unix time in milliseconds, then 74 random
bits. Rows written at a high rate (an import's subjects, websites and applications, every outbox and
inbox row) get ids whose index entries land at the right edge of the B-tree instead of on a random
page: ~10 % less PostgreSQL CPU per imported subject than uuid4 (issue 14, bench/README.md). The ids
still carry 74 random bits (not guessable from one another); they reveal the creation time, which
every such row shows anyway."""

from __future__ import annotations

import os
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62

# The random parts, 80 bits each, drawn 64 at a time: one read of the OS random source per 64 ids
# instead of one per id (a submit makes ~8 ids). `list.pop` and `extend` are atomic, so threads never
# share a value; a forked child drops its parent's spares (it would repeat them).
_BLOCK = 64
_spare: list[int] = []
os.register_at_fork(after_in_child=_spare.clear)

_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown


def _random80() -> int:
    try:
        return _spare.pop()
    except IndexError:
        block = os.urandom(10 * _BLOCK)
        _spare.extend([int.from_bytes(block[i:i + 10], "big") for i in range(0, len(block), 10)])
        return _spare.pop()


def uuid7() -> uuid.UUID:
    ms = time.time_ns() // 1_000_000
    rand = _random80()  # 80 bits, 74 used: rand_a (12) and rand_b (62)
    # what uuid.UUID(int=...) builds, without its argument checks (half the cost of an id)
    u = _new(uuid.UUID)
    _set(u, "int", (ms << 80) | _VERSION_7 | ((rand >> 62) & 0xFFF) << 64 | _VARIANT_RFC | (rand & (1 << 62) - 1))
    _set(u, "is_safe", _UNKNOWN)
    return u
