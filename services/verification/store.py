"""SQL of the verification schema: cases, their versions and history."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from services.verification.model import BUREAU_VISIBLE, CaseQuery

CHINA = dt.timezone(dt.timedelta(hours=8))  # dates in filters are Beijing dates

CASE_COLUMNS = """c.id, c.application_id, c.provider_id, c.type, c.source, c.province, c.province_code,
    c.subject_id, c.subject_name, c.domains, c.version, c.status, c.needs_preapproval, c.submitted_at,
    c.first_submitted_at, c.submitted_by, c.opened_at, c.updated_at, c.verified_at, c.decided_at,
    c.decision_reason, c.subject_no, c.website_numbers, c.retired_numbers,
    (SELECT p.name FROM providers p WHERE p.provider_id = c.provider_id) AS provider_name"""


# ---------------------------------------------------------------- visibility


class Scope:
    """Which cases a caller may see: `provider_id` (a provider's own) or `province` (a bureau's,
    only once they reached the bureau) or neither (admin)."""

    def __init__(self, *, provider_id: str | None = None, province: str | None = None) -> None:
        self.provider_id = provider_id
        self.province = province

    def where(self, args: list[Any]) -> list[str]:
        out: list[str] = []
        if self.provider_id is not None:
            args.append(self.provider_id)
            out.append(f"c.provider_id = ${len(args)}")
        if self.province is not None:
            args.append(self.province)
            out.append(f"c.province = ${len(args)}")
            args.append(list(BUREAU_VISIBLE))
            out.append(f"c.status = ANY(${len(args)}::text[])")
        return out


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _day_start(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=CHINA)


async def list_cases(
    pool: asyncpg.Pool, scope: Scope, q: CaseQuery, statuses: tuple[str, ...]
) -> tuple[list[asyncpg.Record], int]:
    args: list[Any] = []
    where = scope.where(args)
    args.append(list(statuses))
    where.append(f"c.status = ANY(${len(args)}::text[])")
    if q.name:
        args.append(_like(q.name))
        where.append(f"c.subject_name ILIKE ${len(args)}")
    if q.domain:
        args.append(_like(q.domain.lower()))
        where.append(f"EXISTS (SELECT 1 FROM unnest(c.domains) d WHERE d LIKE ${len(args)})")
    if q.type:
        args.append(q.type)
        where.append(f"c.type = ${len(args)}")
    if q.submitted_from:
        args.append(_day_start(q.submitted_from))
        where.append(f"c.submitted_at >= ${len(args)}")
    if q.submitted_to:
        args.append(_day_start(q.submitted_to) + dt.timedelta(days=1))
        where.append(f"c.submitted_at < ${len(args)}")
    for col in ("application_id", "subject_id", "provider_id"):
        value = getattr(q, col)
        if value:
            args.append(value)
            where.append(f"c.{col} = ${len(args)}")
    clause = " AND ".join(where) if where else "true"
    total = await pool.fetchval(f"SELECT count(*) FROM cases c WHERE {clause}", *args)
    args += [q.page_size, (q.page - 1) * q.page_size]
    rows = await pool.fetch(
        f"""SELECT {CASE_COLUMNS} FROM cases c WHERE {clause}
            ORDER BY c.submitted_at, c.id LIMIT ${len(args) - 1} OFFSET ${len(args)}""",
        *args,
    )
    return rows, total


async def get_case(conn: asyncpg.Connection | asyncpg.Pool, case_id: uuid.UUID, scope: Scope) -> asyncpg.Record | None:
    args: list[Any] = [case_id]
    where = ["c.id = $1", *scope.where(args)]
    return await conn.fetchrow(f"SELECT {CASE_COLUMNS}, c.application FROM cases c WHERE {' AND '.join(where)}", *args)


async def lock_case(conn: asyncpg.Connection, case_id: uuid.UUID, scope: Scope, *, skip_locked: bool = False):
    """The case row, locked for this transaction (None when absent or outside the scope)."""
    args: list[Any] = [case_id]
    where = ["c.id = $1", *scope.where(args)]
    lock = "FOR UPDATE OF c SKIP LOCKED" if skip_locked else "FOR UPDATE OF c"
    return await conn.fetchrow(f"SELECT c.* FROM cases c WHERE {' AND '.join(where)} {lock}", *args)


async def versions(conn, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT version, submitted_at, submitted_by FROM case_versions WHERE case_id = $1 ORDER BY version", case_id
    )


async def version_payload(conn, case_id: uuid.UUID, version: int) -> dict | None:
    """A version's application: its own row's for an earlier version, the case's for the current one."""
    return await conn.fetchval(
        """SELECT coalesce(v.application, CASE WHEN v.version = c.version THEN c.application END)
             FROM case_versions v JOIN cases c ON c.id = v.case_id WHERE v.case_id = $1 AND v.version = $2""",
        case_id, version)


async def history(conn, case_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM case_history WHERE case_id = $1 ORDER BY id", case_id)


# ---------------------------------------------------------------- writes


# One round trip for the common case of `filing.application.submitted` (a new application): the
# tombstone lookup, the case, its first version and its SUBMITTED history entry. The case is not
# inserted when a withdrawal of this version (or a later one) is on record, nor when a case exists
# for the application already (`case_id` NULL: the caller locks it and decides). The snapshot ($13, the
# JSON text of `application_text`) is stored once, in the case: the version row of the current version
# holds no copy (`version_payload`).
OPEN_CASE_SQL = """
WITH withdrawn AS (
    SELECT version FROM withdrawals WHERE application_id = $1
), opened AS (
    INSERT INTO cases (application_id, provider_id, type, source, province, province_code, subject_id,
        subject_name, domains, version, status, needs_preapproval, application, submitted_at,
        first_submitted_at, submitted_by)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::json, $14, $14, $15
    WHERE NOT EXISTS (SELECT 1 FROM withdrawn WHERE withdrawn.version >= $10)
    ON CONFLICT (application_id) DO NOTHING
    RETURNING id
), first_version AS (
    INSERT INTO case_versions (case_id, version, application, submitted_at, submitted_by, message_id)
    SELECT id, $10, NULL, $14, $15, $16 FROM opened
    ON CONFLICT DO NOTHING
), submitted AS (
    INSERT INTO case_history (case_id, version, action, status_from, status_to, text, actor_role, actor_id,
        actor_name, at, details)
    SELECT id, $10, 'SUBMITTED', NULL, $11, '', CASE WHEN $2 = '' THEN 'sponsor' ELSE 'provider' END, $15, '', $14,
           NULL FROM opened
)
SELECT (SELECT version FROM withdrawn) AS withdrawn, (SELECT id FROM opened) AS case_id"""


async def open_case(conn: asyncpg.Connection, c: dict[str, Any], message_id: uuid.UUID | None) -> asyncpg.Record:
    """A new case with its first version and history entry, in one statement (`OPEN_CASE_SQL`).
    Returns (withdrawn, case_id): `withdrawn` the version of a recorded withdrawal (the case was
    not opened when it is ≥ this version), `case_id` None when the case was not inserted."""
    return await conn.fetchrow(
        OPEN_CASE_SQL,
        c["application_id"], c["provider_id"], c["type"], c["source"], c["province"], c["province_code"],
        c["subject_id"], c["subject_name"], c["domains"], c["version"], c["status"], c["needs_preapproval"],
        c["application"], c["submitted_at"], c["submitted_by"], message_id,
    )


# `OPEN_CASE_SQL` for many applications at once (the consumer's batch of `filing.application.submitted`):
# the same rows; returns the application ids it opened. An application with a case already, or with a
# withdrawal of this version or later, is not in the answer: its message goes the single-message way.
# $1: the short fields of every case (a JSON array of objects); $2: their applications' JSON texts, in the
# same order, stored as they are (`json`). One array of objects holding the applications too was parsed
# whole into jsonb, then each application again for its column: twice the backend's CPU.
OPEN_CASES_SQL = """
WITH x AS (
    SELECT * FROM ROWS FROM (
        jsonb_to_recordset($1::jsonb) AS (application_id text, provider_id text, type text, source text,
            province text, province_code text, subject_id text, subject_name text, domains text[], version integer,
            status text, needs_preapproval boolean, submitted_at timestamptz, submitted_by text, message_id uuid),
        unnest($2::text[])
    ) AS x(application_id, provider_id, type, source, province, province_code, subject_id, subject_name, domains,
           version, status, needs_preapproval, submitted_at, submitted_by, message_id, application)
), opened AS (
    INSERT INTO cases (application_id, provider_id, type, source, province, province_code, subject_id,
        subject_name, domains, version, status, needs_preapproval, application, submitted_at,
        first_submitted_at, submitted_by)
    SELECT x.application_id, x.provider_id, x.type, x.source, x.province, x.province_code, x.subject_id,
        x.subject_name, x.domains, x.version, x.status, x.needs_preapproval, x.application::json, x.submitted_at,
        x.submitted_at, x.submitted_by
    FROM x
    WHERE NOT EXISTS (SELECT 1 FROM withdrawals w WHERE w.application_id = x.application_id
                                                    AND w.version >= x.version)
    ON CONFLICT (application_id) DO NOTHING
    RETURNING id, application_id
), first_version AS (
    INSERT INTO case_versions (case_id, version, application, submitted_at, submitted_by, message_id)
    SELECT o.id, x.version, NULL, x.submitted_at, x.submitted_by, x.message_id
    FROM opened o JOIN x ON x.application_id = o.application_id
    ON CONFLICT DO NOTHING
), submitted AS (
    INSERT INTO case_history (case_id, version, action, status_from, status_to, text, actor_role, actor_id,
        actor_name, at, details)
    SELECT o.id, x.version, 'SUBMITTED', NULL, x.status, '', CASE WHEN x.provider_id = '' THEN 'sponsor' ELSE 'provider' END,
        x.submitted_by, '', x.submitted_at, NULL
    FROM opened o JOIN x ON x.application_id = o.application_id
)
SELECT id, application_id FROM opened"""


async def open_cases(conn: asyncpg.Connection, cases: list[tuple[dict[str, Any], uuid.UUID]]) -> dict[str, uuid.UUID]:
    """`open_case` for many (fields, message id) in one statement; application id → case id of those
    it opened. The applications must be distinct (a repeated one would meet its own new case)."""
    short: list[dict[str, Any]] = []
    texts: list[str] = []
    for c, m in cases:
        row = dict(c)
        texts.append(row.pop("application"))
        row["message_id"] = m
        short.append(row)
    rows = await conn.fetch(OPEN_CASES_SQL, short, texts)
    return {r["application_id"]: r["id"] for r in rows}


# A later version reopening a case (VERIFY_RETURNED / REJECTED …): the case row, the version and
# the RESUBMITTED history entry in one statement; the snapshot ($9, JSON text) is encoded once.
REOPEN_CASE_SQL = """
WITH previous AS (
    -- the version being replaced keeps its application in its version row (every CTE reads the case as
    -- it was before this statement)
    UPDATE case_versions v SET application = c.application FROM cases c
    WHERE c.id = $1 AND v.case_id = c.id AND v.version = c.version AND v.application IS NULL
), reopened AS (
    UPDATE cases SET version = $2, status = $3, type = $4, source = $5, subject_name = $6, domains = $7,
        needs_preapproval = $8, application = $9::text::json, submitted_at = $10, submitted_by = $11,
        updated_at = now(), verified_at = NULL, decided_at = NULL, decision_reason = NULL
    WHERE id = $1
    RETURNING id
), new_version AS (
    INSERT INTO case_versions (case_id, version, application, submitted_at, submitted_by, message_id)
    SELECT id, $2, NULL, $10, $11, $12 FROM reopened
    ON CONFLICT DO NOTHING
)
INSERT INTO case_history (case_id, version, action, status_from, status_to, text, actor_role, actor_id,
    actor_name, at, details)
SELECT id, $2, 'RESUBMITTED', $13, $3, '', 'provider', $11, '', $10, NULL FROM reopened"""


async def reopen_and_record(conn: asyncpg.Connection, case_id: uuid.UUID, status_from: str, c: dict[str, Any],
                            message_id: uuid.UUID | None) -> None:
    await conn.execute(
        REOPEN_CASE_SQL,
        case_id, c["version"], c["status"], c["type"], c["source"], c["subject_name"], c["domains"],
        c["needs_preapproval"], c["application"], c["submitted_at"], c["submitted_by"], message_id, status_from,
    )


async def add_history(
    conn: asyncpg.Connection, case_id: uuid.UUID, version: int, action: str, *, status_from: str | None,
    status_to: str, text: str, actor_role: str, actor_id: str, actor_name: str, at: dt.datetime,
    details: dict | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO case_history (case_id, version, action, status_from, status_to, text, actor_role,
               actor_id, actor_name, at, details)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        case_id, version, action, status_from, status_to, text, actor_role, actor_id, actor_name, at, details,
    )


async def set_status(conn: asyncpg.Connection, case_id: uuid.UUID, status: str, at: dt.datetime, **fields: Any) -> None:
    allowed = {"verified_at", "decided_at", "decision_reason", "subject_no", "website_numbers", "retired_numbers"}
    sets = ["status = $2", "updated_at = $3"]
    args: list[Any] = [case_id, status, at]
    for k, v in fields.items():
        assert k in allowed, k
        args.append(v)
        sets.append(f"{k} = ${len(args)}")
    await conn.execute(f"UPDATE cases SET {', '.join(sets)} WHERE id = $1", *args)
