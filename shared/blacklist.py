"""The certificate key of the filing blacklist, shared by detection (which lists entries) and filing
(which refuses filings naming a listed certificate).

A blacklisted subject is named by its certificate; the key is (certificate family, normalised
number) as filing compares subjects (`shared.filing_data.subject_key`: a USCC on a business licence
and on a USCC certificate is the same organisation). Messages carry only a keyed digest of that key
(HMAC-SHA256 with a key derived from ICP_SECRET_KEY), never a full ID number.
"""

from __future__ import annotations

import hashlib
import hmac
from types import SimpleNamespace

from shared.config import get_settings
from shared.filing_data import subject_key


def cert_key(cert_type: str, cert_number: str) -> tuple[str, str]:
    """(family, normalised number) of a certificate entered without a unit nature (a blacklist entry)."""
    return subject_key(SimpleNamespace(cert_type=cert_type, cert_number=cert_number, nature=""))  # type: ignore[arg-type]


def cert_digest(family: str, number: str, secret: str | None = None) -> str:
    key = hashlib.sha256(b"icp-blacklist-cert:" + (secret or get_settings().secret_key).encode()).digest()
    return hmac.new(key, f"{family}:{number}".encode(), hashlib.sha256).hexdigest()
