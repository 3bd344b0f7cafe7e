"""Session tokens, roles, and password hashing.

Tokens are HMAC-SHA256-signed claims (session id, user, role, tenant, province,
expiry) so every service can check them without calling `filing`. Logout revokes the
session id: `filing` records it at once and publishes `filing.session.revoked`, which
every other service records in its own `revoked_sessions` table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC


class Role(StrEnum):
    PROVIDER = "provider"  # 接入服务提供者 operator; tenant = provider_id
    BUREAU = "bureau"  # 管局 reviewer, scoped to a province
    SPONSOR = "sponsor"  # 网站主办者
    ADMIN = "admin"  # platform administrator


ROLE_NAMES_ZH = {Role.PROVIDER: "接入服务提供者", Role.BUREAU: "管局", Role.SPONSOR: "网站主办者", Role.ADMIN: "系统管理员"}


@dataclass(frozen=True)
class Principal:
    session_id: str
    user_id: str
    role: Role
    username: str
    provider_id: str | None = None  # the tenant, for provider operators (and sponsors' filing provider)
    province: str | None = None  # for bureau reviewers
    expires_at: int = 0


class TokenError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: str, principal: Principal) -> str:
    claims = asdict(principal)
    claims["role"] = str(principal.role)
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    sig = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}"


def new_principal(*, user_id: str, role: Role, username: str, ttl: int, provider_id=None, province=None) -> Principal:
    return Principal(
        session_id=secrets.token_urlsafe(18),
        user_id=user_id,
        role=Role(role),
        username=username,
        provider_id=provider_id,
        province=province,
        expires_at=int(time.time()) + ttl,
    )


# Tokens whose signature verified, keyed by (secret, token): a client sends the same token on
# every request, so the HMAC and JSON decoding run once per token, not once per request. The
# expiry is still checked on every call; the cache only ever holds validly signed tokens.
_VERIFIED: dict[tuple[str, str], Principal] = {}
_VERIFIED_MAX = 4096


def read_token(secret: str, token: str, *, now: float | None = None) -> Principal:
    key = (secret, token)
    p = _VERIFIED.get(key)
    if p is None:
        p = _verify(secret, token)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = p
    if p.expires_at < (now if now is not None else time.time()):
        raise TokenError("登录已过期，请重新登录")
    return p


def _verify(secret: str, token: str) -> Principal:
    try:
        body, sig = token.split(".", 1)
        want = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(want, sig):
            raise TokenError("签名无效")
        claims = json.loads(_unb64(body))
        p = Principal(**{**claims, "role": Role(claims["role"])})
    except TokenError:
        raise
    except Exception as e:
        raise TokenError("令牌格式错误") from e
    return p


# ---------------------------------------------------------------- passwords

_argon = PasswordHasher()  # argon2id, library defaults


def hash_password(password: str) -> str:
    """Memory-hard hash for passwords people choose. The stored string names its scheme."""
    return _argon.hash(password)


# Generated passwords (sponsor accounts made at filing or import) are random: 12 characters
# from 55 symbols, about 69 bits. Guessing them offline costs 2^68 hashes on average
# whatever the hash, so a memory-hard hash adds nothing there but costs ~100 ms each
# (100,000 imported accounts ≈ 2 h on 2 cores). PBKDF2-SHA256 with a per-password salt and
# a modest iteration count keeps them out of reach (2^68 × 100 SHA-256 ≈ 10^9 GPU-years)
# at ~50 µs. The stored string records scheme and iterations, so the count can rise later;
# a password a person chooses is stored with argon2id.
GENERATED_SCHEME = "pbkdf2-sha256"
GENERATED_ITERATIONS = 100
_SHA256 = hashes.SHA256()


def pbkdf2_sha256(password: bytes, salt: bytes, iterations: int) -> bytes:
    """PBKDF2-HMAC-SHA256, 32 bytes: the same bytes as `hashlib.pbkdf2_hmac("sha256", …)`, from
    cryptography's OpenSSL (its wheel brings its own, 4.x), which costs less than half the CPU of the
    system's OpenSSL 3.0 behind hashlib (≈ 25 against 60 µs at 100 iterations: bench/README.md,
    Importer, sixth round). Equal work per guess for an attacker either way, so no weaker."""
    return PBKDF2HMAC(_SHA256, 32, salt, iterations).derive(password)


def hash_generated_password(password: str, *, iterations: int = GENERATED_ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    dk = pbkdf2_sha256(password.encode(), salt, iterations)
    return f"${GENERATED_SCHEME}${iterations}${_b64(salt)}${_b64(dk)}"


_ALPHABET_LETTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"  # no i, l, o, I, O
_ALPHABET_DIGITS = "23456789"  # no 0, 1


def generate_password(length: int = 12) -> str:
    """Random password of letters and digits without look-alike characters (at least one of each)."""
    if length < 10:
        raise ValueError("generated passwords have at least 10 characters")
    alphabet = _ALPHABET_LETTERS + _ALPHABET_DIGITS
    while True:
        pw = random_chars(alphabet, length)
        if any(c in _ALPHABET_DIGITS for c in pw) and any(c in _ALPHABET_LETTERS for c in pw):
            return pw


def generate_username(prefix: str = "zbz") -> str:
    """Readable sponsor username: a prefix (主办者) and 8 unambiguous characters, e.g. zbz7k3m9q2a."""
    return prefix + random_chars("abcdefghjkmnpqrstuvwxyz23456789", 8)


def random_chars(alphabet: str, n: int) -> str:
    """`n` characters drawn uniformly from `alphabet` (≤ 256 characters) out of one `secrets.token_bytes`
    call: bytes at or above the largest multiple of len(alphabet) are rejected, so none is favoured.
    (`secrets.choice` per character reads the OS random source once per character: a third of the
    credential cost of a batch import.)"""
    size = len(alphabet)
    limit = 256 - 256 % size
    out: list[str] = []
    while len(out) < n:
        out += [alphabet[b % size] for b in secrets.token_bytes(2 * n) if b < limit]
    return "".join(out[:n])


def verify_password(stored: str, password: str) -> bool:
    if stored.startswith(f"${GENERATED_SCHEME}$"):
        try:
            _, _, iterations, salt, want = stored.split("$")
            got = pbkdf2_sha256(password.encode(), _unb64(salt), int(iterations))
        except (ValueError, TypeError):
            return False
        return hmac.compare_digest(_b64(got), want)
    if stored.startswith("$argon2"):
        try:
            return _argon.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return False


def needs_rehash(stored: str) -> bool:
    return stored.startswith("$argon2") and _argon.check_needs_rehash(stored)
