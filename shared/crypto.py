"""Sealing sensitive data at rest and in messages (AES-256-GCM, key derived from the secret).

`seal(secret, purpose, data, context)` returns an ASCII token `v1.<base64url(nonce | ciphertext)>`;
`open_sealed` reverses it. The key is HKDF-SHA256(secret_key, info="icp-seal:<purpose>"), so a
token sealed for one purpose (e.g. "batch-import") cannot be opened as another, and `context`
(associated data, e.g. "job-id:chunk-no") binds a token to the record or message it belongs to:
a token copied elsewhere fails to open. Used for full ID numbers in `filing.batch.*` commands
(DESIGN §3: none in plaintext in messages) and for the credentials workbook at rest.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


class SealError(Exception):
    """A token that is malformed, was sealed with another key/purpose/context, or was altered."""


@functools.lru_cache(maxsize=32)
def _key(secret: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"icp-filing-seal", info=f"icp-seal:{purpose}".encode()).derive(
        secret.encode()
    )


def seal_bytes(secret: str, purpose: str, data: bytes, context: str = "") -> bytes:
    """nonce (12 bytes) | ciphertext+tag, binary form (for bytea columns)."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_key(secret, purpose)).encrypt(nonce, data, context.encode())


def open_bytes(secret: str, purpose: str, blob: bytes, context: str = "") -> bytes:
    if len(blob) < 28:
        raise SealError("sealed data too short")
    try:
        return AESGCM(_key(secret, purpose)).decrypt(blob[:12], blob[12:], context.encode())
    except InvalidTag:
        raise SealError("sealed data cannot be opened (wrong key, purpose or context, or altered)") from None


def seal(secret: str, purpose: str, data: bytes, context: str = "") -> str:
    """Text token for JSON messages."""
    return f"{_VERSION}." + base64.urlsafe_b64encode(seal_bytes(secret, purpose, data, context)).decode()


def open_sealed(secret: str, purpose: str, token: str, context: str = "") -> bytes:
    version, _, body = token.partition(".")
    if version != _VERSION or not body:
        raise SealError("unknown sealed token format")
    try:
        blob = base64.urlsafe_b64decode(body)
    except (ValueError, TypeError):
        raise SealError("sealed token is not base64") from None
    return open_bytes(secret, purpose, blob, context)
