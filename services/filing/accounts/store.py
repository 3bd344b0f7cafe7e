"""SQL of accounts: users, issued sessions, revocations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

_USER_COLUMNS = """u.id, u.username, u.password_hash, u.role, u.provider_id, u.province, u.display_name, u.phone,
    u.email, u.failed_logins, u.failed_since, u.locked_until, u.disabled, u.password_changed_at, u.last_login_at, u.created_at,
    p.name AS provider_name"""


def as_uuid(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


async def user_by_username(conn: asyncpg.Connection, username: str, *, for_update: bool = False):
    lock = " FOR UPDATE OF u" if for_update else ""
    return await conn.fetchrow(
        f"""SELECT {_USER_COLUMNS} FROM users u LEFT JOIN providers p ON p.provider_id = u.provider_id
            WHERE lower(u.username) = lower($1){lock}""",
        username,
    )


async def user_by_id(conn: asyncpg.Connection | asyncpg.Pool, user_id: object, *, for_update: bool = False):
    key = as_uuid(user_id)
    if key is None:
        return None
    lock = " FOR UPDATE OF u" if for_update else ""
    return await conn.fetchrow(
        f"""SELECT {_USER_COLUMNS} FROM users u LEFT JOIN providers p ON p.provider_id = u.provider_id
            WHERE u.id = $1{lock}""",
        key,
    )


async def insert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    password_hash: str,
    role: str,
    display_name: str,
    provider_id: str | None = None,
    province: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    created_by: str,
):
    """Insert an account; None when the username (case-insensitive) is taken."""
    user_id = await conn.fetchval(
        """INSERT INTO users (username, password_hash, role, provider_id, province, display_name, phone, email,
                              created_by, password_changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
           ON CONFLICT DO NOTHING RETURNING id""",
        username, password_hash, role, provider_id, province, display_name, phone, email, created_by,
    )
    return None if user_id is None else await user_by_id(conn, user_id)


async def provider_exists(conn: asyncpg.Connection | asyncpg.Pool, provider_id: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM providers WHERE provider_id = $1", provider_id))


# failed_since: when the run of failures began (a new run at its first failure; none after a lock)
_FAILURE_SET = """failed_logins = $2, locked_until = COALESCE($3, locked_until),
    failed_since = CASE WHEN $2 = 1 THEN $4 WHEN $2 = 0 THEN NULL ELSE failed_since END"""


async def record_failure(conn: asyncpg.Connection, user_id: uuid.UUID, failed: int, locked_until: dt.datetime | None,
                         now: dt.datetime):
    await conn.execute(f"UPDATE users SET {_FAILURE_SET} WHERE id = $1", user_id, failed, locked_until, now)


async def unknown_name_failures(conn: asyncpg.Connection, username: str):
    """The failure record of a name that is no account, created and locked (FOR UPDATE) like an account's row."""
    return await conn.fetchrow(
        """INSERT INTO unknown_login_failures (username) VALUES (lower($1))
           ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username
           RETURNING failed_logins, failed_since, locked_until""",
        username,
    )


async def record_unknown_failure(conn: asyncpg.Connection, username: str, failed: int,
                                 locked_until: dt.datetime | None, now: dt.datetime):
    await conn.execute(f"UPDATE unknown_login_failures SET {_FAILURE_SET} WHERE username = lower($1)",
                       username, failed, locked_until, now)


async def purge_unknown_failures(conn: asyncpg.Connection | asyncpg.Pool, window: dt.timedelta) -> str:
    """Records that no longer lock and whose run of failures is outside the window: answering from a
    missing row (0 failures) is then what the kept row would have answered."""
    return await conn.execute(
        """DELETE FROM unknown_login_failures
           WHERE (locked_until IS NULL OR locked_until <= now())
             AND (failed_since IS NULL OR failed_since <= now() - make_interval(secs => $1))""",
        window.total_seconds(),
    )


async def record_success(
    conn: asyncpg.Connection,
    user: Any,
    *,
    session_id: str,
    expires_at: dt.datetime,
    client_ip: str | None,
    user_agent: str | None,
    new_hash: str | None,
) -> None:
    await conn.execute(
        """UPDATE users SET failed_logins = 0, failed_since = NULL, locked_until = NULL, last_login_at = now(),
               password_hash = COALESCE($2, password_hash)
           WHERE id = $1""",
        user["id"], new_hash,
    )
    await conn.execute(
        """INSERT INTO sessions (session_id, user_id, role, expires_at, client_ip, user_agent)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        session_id, user["id"], user["role"], expires_at, client_ip, (user_agent or "")[:300] or None,
    )


async def revoke_session(conn: asyncpg.Connection, session_id: str, expires_at: dt.datetime) -> bool:
    """Record a revoked session; False when it was revoked already."""
    await conn.execute("UPDATE sessions SET revoked_at = now() WHERE session_id = $1 AND revoked_at IS NULL", session_id)
    status = await conn.execute(
        "INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        session_id, expires_at,
    )
    return status.endswith(" 1")


async def revoke_user_sessions(conn: asyncpg.Connection, user_id: uuid.UUID, *, keep: str | None = None):
    """Mark every live session of a user revoked (except `keep`); return (session_id, expires_at) rows."""
    rows = await conn.fetch(
        """UPDATE sessions SET revoked_at = now()
           WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() AND session_id IS DISTINCT FROM $2
           RETURNING session_id, expires_at""",
        user_id, keep,
    )
    if rows:
        await conn.execute(
            """INSERT INTO revoked_sessions (session_id, expires_at)
               SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT DO NOTHING""",
            [r["session_id"] for r in rows], [r["expires_at"] for r in rows],
        )
    return rows


async def update_profile(conn: asyncpg.Connection, user_id: uuid.UUID, changes: dict[str, Any]) -> None:
    allowed = ("display_name", "phone", "email")
    cols = [c for c in allowed if c in changes]
    if not cols:
        return
    sets = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(cols))
    await conn.execute(f"UPDATE users SET {sets}, updated_at = now() WHERE id = $1", user_id, *[changes[c] for c in cols])


async def set_password(conn: asyncpg.Connection, user_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute(
        """UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now(),
               failed_logins = 0, failed_since = NULL, locked_until = NULL
           WHERE id = $1""",
        user_id, password_hash,
    )


async def set_flags(conn: asyncpg.Connection, user_id: uuid.UUID, *, disabled: bool | None, unlock: bool) -> None:
    await conn.execute(
        """UPDATE users SET disabled = COALESCE($2, disabled),
               locked_until = CASE WHEN $3 THEN NULL ELSE locked_until END,
               failed_logins = CASE WHEN $3 THEN 0 ELSE failed_logins END,
               failed_since = CASE WHEN $3 THEN NULL ELSE failed_since END,
               updated_at = now()
           WHERE id = $1""",
        user_id, disabled, unlock,
    )


async def list_users(
    pool: asyncpg.Pool,
    *,
    role: str | None,
    provider_id: str | None,
    province: str | None,
    q: str | None,
    limit: int,
    offset: int,
):
    where, args = [], []
    for column, value in (("u.role", role), ("u.provider_id", provider_id), ("u.province", province)):
        if value:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if q:
        args.append(f"%{_escape_like(q)}%")
        where.append(f"(u.username ILIKE ${len(args)} OR u.display_name ILIKE ${len(args)})")
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    total = await pool.fetchval(f"SELECT count(*) FROM users u {clause}", *args)
    rows = await pool.fetch(
        f"""SELECT {_USER_COLUMNS} FROM users u LEFT JOIN providers p ON p.provider_id = u.provider_id {clause}
            ORDER BY u.created_at DESC, u.id LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}""",
        *args, limit, offset,
    )
    return total, rows


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
