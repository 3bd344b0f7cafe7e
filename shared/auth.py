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


def read_token(secret: str, token: str, *, now: float | None = None) -> Principal:
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
    if p.expires_at < (now if now is not None else time.time()):
        raise TokenError("登录已过期，请重新登录")
    return p


# ---------------------------------------------------------------- passwords

_argon = PasswordHasher()  # argon2id, library defaults


def hash_password(password: str) -> str:
    """Memory-hard hash for passwords people choose. The stored string names its scheme."""
    return _argon.hash(password)


def verify_password(stored: str, password: str) -> bool:
    if stored.startswith("$argon2"):
        try:
            return _argon.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    return False


def needs_rehash(stored: str) -> bool:
    return stored.startswith("$argon2") and _argon.check_needs_rehash(stored)
