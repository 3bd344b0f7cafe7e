"""Account use cases: login with captcha (seed 1.2), logout (1.15), me and password (1.11, 1.12),
and the administrator's management of operator, reviewer and admin accounts."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from services.filing.accounts import captcha, store
from services.filing.accounts.model import (
    BAD_CREDENTIALS,
    LoginIn,
    LoginOut,
    PasswordChanged,
    PasswordChangeIn,
    ProfilePatch,
    UserCreated,
    UserCreateIn,
    UserList,
    UserOut,
    UserPatch,
    UserQuery,
    after_failure,
    check_new_password,
    is_locked,
    locked_message,
    login_field_errors,
    user_create_errors,
    user_out,
)
from shared import codes, ratelimit
from shared import validate as v
from shared.auth import (
    ROLE_NAMES_ZH,
    Principal,
    Role,
    generate_password,
    hash_password,
    issue_token,
    needs_rehash,
    new_principal,
    verify_password,
)
from shared.contracts.filing import SessionRevoked
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem, invalid, not_found

log = structlog.get_logger(__name__)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("dummy-password-for-timing")


async def _verify(stored: str, password: str) -> bool:
    # argon2 costs tens of milliseconds of CPU: keep it off the event loop
    return await asyncio.to_thread(verify_password, stored, password)


async def refusal_work(stored: str | None, password: str) -> None:
    """Make every refused login cost one argon2 verification, as an unknown name's does: a wrong
    password for an account with a generated (PBKDF2, ~50 µs) password, or any attempt on a locked
    account, would otherwise answer in a few milliseconds instead of ~100 and reveal the account."""
    if stored is None or not stored.startswith("$argon2"):
        await _verify(_dummy_hash(), password)


def _address_failures(ctx: ServiceContext) -> ratelimit.Limit:
    s = ctx.settings
    return ratelimit.Limit("login", s.login_address_max_failures, s.login_address_window_minutes * 60,
                           "该地址登录失败次数过多")


async def _address_allowed(ctx: ServiceContext, client_ip: str | None) -> None:
    """429 once this client address made its quota of failures: it cannot go on locking accounts."""
    if client_ip:
        await ratelimit.ensure_room(ctx.pool, _address_failures(ctx), client_ip)


async def _address_failed(ctx: ServiceContext, conn: asyncpg.Connection, client_ip: str | None) -> None:
    if client_ip:
        await ratelimit.hit(conn, _address_failures(ctx), client_ip)


async def _hash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


def _ts(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


# ---------------------------------------------------------------- login / logout


@dataclass(frozen=True)
class LoginSuccess:
    token: str
    out: LoginOut
    ttl: int


async def login(ctx: ServiceContext, body: LoginIn, *, client_ip: str | None = None,
                user_agent: str | None = None) -> LoginSuccess:
    secret = ctx.settings.secret_key
    await _address_allowed(ctx, client_ip)
    # The captcha is used up by any attempt (committed on its own, whatever happens next).
    check = None
    if body.captcha_id and body.captcha_id.strip():
        check = await captcha.consume(ctx.pool, secret, body.captcha_id.strip(), body.captcha)
    errors = login_field_errors(body.model_dump())
    if errors:
        raise invalid(errors, detail="用户名、密码、验证码和登录角色均不能为空：" + "；".join(e["message"] for e in errors))
    if check is not captcha.Check.OK:
        raise invalid([{"field": "captcha", "message": captcha.CHECK_MESSAGES[check]}])

    role = Role(body.role.strip())
    username = body.username.strip()
    now = dt.datetime.now(dt.UTC)
    outcome: tuple[str, Any] = ("bad", None)
    # Same work and same answers for a name that is no account: its failures are counted and locked
    # like an account's, and every refusal costs one argon2 verification (`refusal_work`).
    async with transaction(ctx.pool) as conn:
        user = await store.user_by_username(conn, username, for_update=True)
        if user is None:
            record = await store.unknown_name_failures(conn, username)
            await refusal_work(None, body.password)
            if is_locked(record["locked_until"], now):
                outcome = ("locked", record["locked_until"])
            else:
                failed, until = after_failure(record["failed_logins"], now, failed_since=record["failed_since"])
                await store.record_unknown_failure(conn, username, failed, until, now)
                outcome = ("just_locked", until) if until else ("bad", None)
        elif is_locked(user["locked_until"], now):
            await refusal_work(None, body.password)
            outcome = ("locked", user["locked_until"])
        elif not await _verify(user["password_hash"], body.password) or user["role"] != role.value:
            await refusal_work(user["password_hash"], body.password)
            failed, until = after_failure(user["failed_logins"], now, failed_since=user["failed_since"])
            await store.record_failure(conn, user["id"], failed, until, now)
            outcome = ("just_locked", until) if until else ("bad", None)
        elif user["disabled"]:
            outcome = ("disabled", None)
        else:
            outcome = ("ok", await _open_session(ctx, conn, user, role, body.password, client_ip, user_agent))
        if outcome[0] in ("bad", "locked", "just_locked"):
            await _address_failed(ctx, conn, client_ip)
    kind, value = outcome
    if kind == "ok":
        log.info("auth.login", user_id=str(value.out.user.id), role=role.value)
        return value
    log.info("auth.login_refused", reason=kind, user_id=str(user["id"]) if user is not None else None)
    if kind in ("locked", "just_locked"):
        raise Problem(423, locked_message(value, just_locked=kind == "just_locked"), locked_until=value.isoformat())
    if kind == "disabled":
        raise Problem(403, "该账户已停用，请联系系统管理员")
    raise Problem(401, BAD_CREDENTIALS)


async def _open_session(ctx: ServiceContext, conn: asyncpg.Connection, user, role: Role, password: str,
                        client_ip: str | None, user_agent: str | None) -> LoginSuccess:
    ttl = ctx.settings.token_ttl
    principal = new_principal(
        user_id=str(user["id"]), role=role, username=user["username"], ttl=ttl,
        provider_id=user["provider_id"] if role in (Role.PROVIDER, Role.SPONSOR) else None,
        province=user["province"] if role == Role.BUREAU else None,
    )
    expires_at = _ts(principal.expires_at)
    new_hash = await _hash(password) if needs_rehash(user["password_hash"]) else None
    await store.record_success(conn, user, session_id=principal.session_id, expires_at=expires_at,
                               client_ip=client_ip, user_agent=user_agent, new_hash=new_hash)
    fresh = await store.user_by_id(conn, user["id"])
    out = LoginOut(token=issue_token(ctx.settings.secret_key, principal), expires_at=expires_at, user=user_out(fresh))
    return LoginSuccess(out.token, out, ttl)


async def logout(ctx: ServiceContext, principal: Principal) -> None:
    """Revoke the caller's session at once here, and everywhere else through `SessionRevoked`."""
    async with transaction(ctx.pool) as conn:
        await _revoke(ctx, conn, [(principal.session_id, _ts(principal.expires_at))], principal.provider_id)
    _known_here(ctx, [principal.session_id])
    log.info("auth.logout", user_id=principal.user_id)


async def _revoke(ctx: ServiceContext, conn: asyncpg.Connection, sessions, provider_id: str | None) -> int:
    n = 0
    for session_id, expires_at in sessions:
        if await store.revoke_session(conn, session_id, expires_at):
            await ctx.outbox.add(conn, SessionRevoked(session_id=session_id, expires_at=expires_at),
                                 provider_id=provider_id)
            n += 1
    return n


async def _revoke_user(ctx: ServiceContext, conn: asyncpg.Connection, user, *, keep: str | None = None) -> list[str]:
    """Revoke a user's sessions in `conn`'s transaction; the caller passes the ids to `_known_here` after commit."""
    rows = await store.revoke_user_sessions(conn, user["id"], keep=keep)
    for r in rows:  # already in revoked_sessions; tell the other services
        await ctx.outbox.add(conn, SessionRevoked(session_id=r["session_id"], expires_at=r["expires_at"]),
                             provider_id=user["provider_id"])
    return [r["session_id"] for r in rows]


def _known_here(ctx: ServiceContext, session_ids: list[str]) -> None:
    """This process refuses the sessions at once; the NOTIFY that follows the commit may come later."""
    if ctx.revocations is not None:
        for session_id in session_ids:
            ctx.revocations.add(session_id)


# ---------------------------------------------------------------- me


async def get_me(ctx: ServiceContext, principal: Principal) -> UserOut:
    row = await store.user_by_id(ctx.pool, principal.user_id)
    if row is not None:
        return user_out(row)
    # a token minted outside login (`icp admin token`): show what the token says
    return UserOut(
        id=principal.user_id, username=principal.username, role=principal.role.value,
        role_name=ROLE_NAMES_ZH[principal.role], display_name=principal.username,
        provider_id=principal.provider_id, province=principal.province,
        province_name=codes.name_zh("provinces", principal.province) if principal.province else None,
    )


async def _my_row(conn, principal: Principal):
    row = await store.user_by_id(conn, principal.user_id, for_update=True)
    if row is None:
        raise Problem(404, "当前登录身份没有对应的用户账户")
    return row


async def update_me(ctx: ServiceContext, principal: Principal, patch: ProfilePatch) -> UserOut:
    changes = {k: getattr(patch, k) for k in patch.model_fields_set}
    async with transaction(ctx.pool) as conn:
        row = await _my_row(conn, principal)
        await store.update_profile(conn, row["id"], changes)
        return user_out(await store.user_by_id(conn, row["id"]))


async def change_password(ctx: ServiceContext, principal: Principal, body: PasswordChangeIn, *,
                          client_ip: str | None = None) -> PasswordChanged:
    """A wrong old password counts like a failed login (a stolen session must not guess the password
    without limit): the account locks after the same number of failures, and the address counts too."""
    await _address_allowed(ctx, client_ip)
    now = dt.datetime.now(dt.UTC)
    refused: tuple[str, dt.datetime | None] | None = None
    async with transaction(ctx.pool) as conn:
        row = await _my_row(conn, principal)
        if is_locked(row["locked_until"], now):
            refused = ("locked", row["locked_until"])
        elif not await _verify(row["password_hash"], body.old_password):
            failed, until = after_failure(row["failed_logins"], now, failed_since=row["failed_since"])
            await store.record_failure(conn, row["id"], failed, until, now)
            refused = ("just_locked", until) if until else ("bad", None)
        if refused is not None:
            await _address_failed(ctx, conn, client_ip)
        else:
            try:
                check_new_password(row["role"], body.new_password, username=row["username"])
            except v.InvalidValue as e:
                raise invalid([{"field": "new_password", "message": e.message}]) from None
            if body.new_password == body.old_password:
                raise invalid([{"field": "new_password", "message": "新密码不能与原密码相同"}])
            await store.set_password(conn, row["id"], await _hash(body.new_password))
            revoked_ids = await _revoke_user(ctx, conn, row, keep=principal.session_id)
    if refused is not None:  # after the commit: the failure stays counted
        kind, until = refused
        log.info("auth.password_change_refused", reason=kind, user_id=str(row["id"]))
        if until is not None:
            raise Problem(423, locked_message(until, just_locked=kind == "just_locked"), locked_until=until.isoformat())
        raise invalid([{"field": "old_password", "message": "原密码不正确"}])
    _known_here(ctx, revoked_ids)
    revoked = len(revoked_ids)
    log.info("auth.password_changed", user_id=str(row["id"]), revoked_sessions=revoked)
    return PasswordChanged(detail="密码已修改" + (f"，已注销该账户的其他 {revoked} 个会话" if revoked else ""),
                           revoked_sessions=revoked)


# ---------------------------------------------------------------- administration


async def create_account(ctx: ServiceContext, cmd: UserCreateIn, *, actor: str) -> UserCreated:
    """Create a provider operator, bureau reviewer or administrator (admin only)."""
    errors = user_create_errors(cmd)
    if not errors and cmd.provider_id and not await store.provider_exists(ctx.pool, cmd.provider_id):
        errors.append({"field": "provider_id", "message": f"接入服务提供者 {cmd.provider_id} 不存在"})
    if errors:
        raise invalid(errors)
    password = generate_password() if cmd.generate_password else cmd.password
    pw_hash = await _hash(password)
    async with transaction(ctx.pool) as conn:
        row = await store.insert_user(
            conn, username=cmd.username, password_hash=pw_hash, role=cmd.role,
            display_name=cmd.display_name or cmd.username, provider_id=cmd.provider_id, province=cmd.province,
            phone=cmd.phone, email=cmd.email, created_by=actor,
        )
    if row is None:
        raise Problem(409, f"用户名 {cmd.username} 已被使用", errors=[{"field": "username", "message": "用户名已被使用"}])
    log.info("accounts.created", user_id=str(row["id"]), role=cmd.role, actor=actor)
    return UserCreated(user=user_out(row), password=password if cmd.generate_password else None)


async def list_accounts(ctx: ServiceContext, q: UserQuery) -> UserList:
    total, rows = await store.list_users(
        ctx.pool, role=q.role, provider_id=q.provider_id, province=q.province, q=q.q,
        limit=q.page_size, offset=(q.page - 1) * q.page_size,
    )
    return UserList(items=[user_out(r) for r in rows], total=total, page=q.page, page_size=q.page_size)


async def get_account(ctx: ServiceContext, user_id: str) -> UserOut:
    row = await store.user_by_id(ctx.pool, user_id)
    if row is None:
        raise not_found("用户")
    return user_out(row)


async def update_account(ctx: ServiceContext, user_id: str, patch: UserPatch, *, actor: str) -> UserOut:
    """Disable/enable an account (disabling ends its sessions at once) or lift a login lock."""
    async with transaction(ctx.pool) as conn:
        row = await store.user_by_id(conn, user_id, for_update=True)
        if row is None:
            raise not_found("用户")
        await store.set_flags(conn, row["id"], disabled=patch.disabled, unlock=bool(patch.unlock))
        revoked_ids = await _revoke_user(ctx, conn, row) if patch.disabled else []
        out = user_out(await store.user_by_id(conn, row["id"]))
    _known_here(ctx, revoked_ids)
    log.info("accounts.updated", user_id=str(row["id"]), actor=actor, disabled=patch.disabled, unlock=patch.unlock)
    return out

