"""Pure rules of the reporting service: progress states, IP keys, certificate codes."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from shared import codes

CST = ZoneInfo("Asia/Shanghai")

# ---------------------------------------------------------------- progress (seed 1.7.1, DOMAIN §7.2)

SUBMITTED = "PENDING_VERIFICATION"
IN_REVIEW = frozenset({"SUBMITTED_TO_BUREAU", "SMS_PENDING", "PREAPPROVAL_PENDING"})
FINAL = frozenset({"VERIFY_RETURNED", "APPROVED", "REJECTED", "ABANDONED", "EXPIRED"})

# The seed's three public progress states (plus the provider's own ends: withdrawn/expired).
PROGRESS = {
    "PENDING_VERIFICATION": ("REVIEWING", "审核中"),
    "VERIFY_RETURNED": ("REVIEWING", "审核中"),
    "SUBMITTED_TO_BUREAU": ("REVIEWING", "审核中"),
    "SMS_PENDING": ("REVIEWING", "审核中"),
    "PREAPPROVAL_PENDING": ("PREAPPROVAL", "前置审批中"),
    "APPROVED": ("APPROVED", "已通过"),
    "REJECTED": ("REJECTED", "已驳回"),
    "ABANDONED": ("ABANDONED", "已放弃"),
    "EXPIRED": ("ABANDONED", "已过期"),
}
PROGRESS_STATES = {"REVIEWING": "审核中", "PREAPPROVAL": "前置审批中", "APPROVED": "已通过", "REJECTED": "已驳回",
                   "ABANDONED": "已放弃"}


def rank(status: str) -> int:
    """Order of the statuses of one version: submitted < in review < final. The current status of
    an application is its history row with the highest (version, rank, time)."""
    if status in FINAL:
        return 2
    if status in IN_REVIEW:
        return 1
    return 0


def progress_of(status: str) -> tuple[str, str]:
    return PROGRESS.get(status, ("REVIEWING", "审核中"))


def statuses_of(progress: str) -> list[str]:
    return [s for s, (p, _) in PROGRESS.items() if p == progress]


# ---------------------------------------------------------------- IP addresses

IPV6_OFFSET = 2 ** 32


def ip_key(text: str) -> Decimal:
    """An address as a number: IPv4 its integer, IPv6 2^32 + its integer (no overlap)."""
    ip = ipaddress.ip_address(text.strip())
    return Decimal(int(ip) + (IPV6_OFFSET if ip.version == 6 else 0))


def ip_range(text: str) -> tuple[Decimal, Decimal] | None:
    """"start-end" (or one address) as a numeric pair; None when unreadable (never stored then)."""
    start, _, end = text.partition("-")
    try:
        lo, hi = ip_key(start), ip_key(end or start)
    except ValueError:
        return None
    return (lo, hi) if lo <= hi else (hi, lo)


# ---------------------------------------------------------------- e-certificates


def cert_code(website_id: str, website_no: str) -> str:
    """The verification code printed on a website's certificate and accepted by the public lookup.
    A hash of the website's internal id (random, never shown to the public) and its number: not
    guessable from public data, and the same after a rebuild of the read model."""
    digest = hashlib.sha256(f"icp-cert:{website_id}:{website_no}".encode()).digest()
    n = int.from_bytes(digest[:10], "big")
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    chars = []
    for _ in range(16):
        n, r = divmod(n, 32)
        chars.append(alphabet[r])
    code = "".join(chars)
    return "-".join(code[i:i + 4] for i in range(0, 16, 4))


def normalise_code(text: str) -> str:
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


# ---------------------------------------------------------------- names


@lru_cache(maxsize=256)
def province_name(gb: str) -> str:
    row = codes.province_by_gb(gb[:2]) if gb else None
    return row["name_zh"] if row else gb


@lru_cache(maxsize=4096)
def code_name(table: str, code: str) -> str:
    return codes.name_zh(table, code) or code


def names(table: str, values: list[str]) -> list[str]:
    return [code_name(table, v) for v in values]


def cst_date(at: dt.datetime):
    """The calendar day of an instant in China Standard Time."""
    return at.astimezone(CST).date()
