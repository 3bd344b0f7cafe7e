"""Checks of stored password hashes that any test creating generated credentials can use."""

from __future__ import annotations

from shared.auth import GENERATED_ITERATIONS, GENERATED_SCHEME, _unb64


def assert_generated_hashes(stored: list[str]) -> None:
    """Each hash of a generated password is PBKDF2 with the configured iteration count and a salt of its
    own (16 random bytes): no two accounts share a salt, so equal passwords never give equal hashes."""
    assert stored
    salts = []
    for value in stored:
        _, scheme, iterations, salt, digest = value.split("$")
        assert scheme == GENERATED_SCHEME, value
        assert int(iterations) == GENERATED_ITERATIONS, value
        assert len(_unb64(salt)) == 16 and len(_unb64(digest)) == 32, value
        salts.append(salt)
    assert len(set(salts)) == len(salts), "two generated passwords share a salt"
