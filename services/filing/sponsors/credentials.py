"""Sponsor (主办者) accounts created when a provider files on someone's behalf."""

from __future__ import annotations

from shared.auth import generate_password, generate_username, hash_generated_password


def new_credentials() -> tuple[str, str, str]:
    """A generated sponsor login: (username, password, its hash). The plaintext password is shown once
    to the operator, never stored or sent anywhere; a username clash is the caller's to retry."""
    password = generate_password()
    return generate_username(), password, hash_generated_password(password)
