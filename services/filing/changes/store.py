"""SQL and shared steps of the change and cancellation flows: locking, the one-in-flight rule,
database rules of proposed data, mobile reservations, sponsor credentials, and the insertion of
an application with its version, history, audit entry and `filing.application.submitted`.

Lock order (no deadlocks with the outcome handlers, which lock the application first): a flow
that touches an existing application locks it first, then the subject; a flow that creates an
application locks only the subject. The subject lock serialises every change of one subject.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import asyncpg

from services.filing import audit, reservations
from services.filing.accounts import handlers as accounts
from services.filing.accounts import store as accounts_store
from services.filing.accounts.model import after_failure, is_locked, locked_message
from services.filing.blacklist import blacklist_rows
from services.filing.changes.model import LIVE_WEBSITE
from services.filing.entry import model as filing_model
from services.filing.entry import rows as filing_rows
from services.filing.entry import store as filing_store
from services.filing.records import handlers as records
from shared import codes
from shared.auth import verify_password
from shared.contracts.filing import ApplicationSubmitted
from shared.db import transaction
from shared.outbox import Outbox
from shared.service import ServiceContext
from shared.web import Problem, not_found

IN_FLIGHT = filing_model.IN_FLIGHT
SPONSOR_BAD = "主办者用户名或密码不正确，未通过权限验证"


as_uuid = records.as_uuid  # 404 naming `what` for an id that is no UUID


# ---------------------------------------------------------------- reads and locks


async def lock_subject(conn: asyncpg.Connection, subject_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1 FOR UPDATE", subject_id)
    if row is None:
        raise not_found("主体")
    return row


async def live_websites(conn: asyncpg.Connection, subject_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM websites WHERE subject_id = $1 AND status = ANY($2::text[]) ORDER BY position, created_at",
        subject_id, list(LIVE_WEBSITE),
    )


async def live_domains(conn: asyncpg.Connection, website_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    rows = await conn.fetch(
        """SELECT website_id, ascii FROM domains WHERE website_id = ANY($1::uuid[])
             AND status NOT IN ('CANCELLED', 'WITHDRAWN') ORDER BY position""",
        website_ids,
    )
    out: dict[uuid.UUID, list[str]] = {w: [] for w in website_ids}
    for r in rows:
        out[r["website_id"]].append(r["ascii"])
    return out


async def provider_access(
    conn: asyncpg.Connection, website_id: uuid.UUID, provider_id: str, statuses: tuple[str, ...] = ("ACTIVE",)
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM accesses WHERE website_id = $1 AND provider_id = $2 AND status = ANY($3::text[])",
        website_id, provider_id, list(statuses),
    )


async def active_accesses(
    conn: asyncpg.Connection, website_ids: list[uuid.UUID], provider_id: str
) -> dict[uuid.UUID, asyncpg.Record]:
    """`provider_access` of several websites in one query (one live access per website and provider)."""
    rows = await conn.fetch(
        "SELECT * FROM accesses WHERE website_id = ANY($1::uuid[]) AND provider_id = $2 AND status = 'ACTIVE'",
        website_ids, provider_id,
    )
    return {r["website_id"]: r for r in rows}


async def in_flight(conn: asyncpg.Connection, subject_id: uuid.UUID) -> asyncpg.Record | None:
    """The subject's in-flight application (DOMAIN §5.10; a rejected cancellation does not count)."""
    return await conn.fetchrow(
        """SELECT id, type, status, provider_id FROM applications
           WHERE subject_id = $1 AND status = ANY($2::text[])
             AND NOT (status = 'REJECTED' AND type IN ('CANCEL_SUBJECT', 'CANCEL_WEBSITE'))
           LIMIT 1""",
        subject_id, list(IN_FLIGHT),
    )


def in_flight_problem(app: Any, provider_id: str) -> Problem:
    type_name = codes.name_zh("filing_types", app["type"]) or app["type"]
    status_name = codes.name_zh("application_statuses", app["status"]) or app["status"]
    own = app["provider_id"] == provider_id
    where = f"（申请编号 {app['id']}）" if own else (
        "（由主办者自主备案提交）" if app["provider_id"] is None else "（由其他接入服务提供者提交）")
    return Problem(
        409,
        f"该主体已有正在办理中的“{type_name}”申请{where}，状态为“{status_name}”；"
        "一个主体同时只能有一个办理中的申请，请在其办结（或放弃）后再提交",
        in_flight_application={
            "id": str(app["id"]) if own else None, "type": app["type"], "type_name": type_name,
            "status": app["status"], "status_name": status_name,
        },
    )


async def ensure_none_in_flight(conn: asyncpg.Connection, subject_id: uuid.UUID, provider_id: str) -> None:
    app = await in_flight(conn, subject_id)
    if app is not None:
        raise in_flight_problem(app, provider_id)


def require_filed_subject(subject: Any) -> None:
    if subject["subject_no"] is None or subject["status"] not in ("ACTIVE", "SHELL"):
        if subject["status"] == "CANCELLED":
            raise Problem(409, f"该主体已注销（{subject['subject_no']}），不能办理此业务", subject_status="CANCELLED")
        raise Problem(409, "该主体尚未备案通过（没有主体备案号），不能办理此业务；请等待首次备案审核通过",
                      subject_status=subject["status"])


def require_filed_website(website: Any) -> None:
    if website["website_no"] is None or website["status"] not in LIVE_WEBSITE:
        if website["status"] == "CANCELLED":
            raise Problem(409, f"该网站已注销（{website['website_no']}），不能办理此业务", website_status="CANCELLED")
        raise Problem(409, "该网站尚未备案通过（没有网站备案号），不能办理此业务", website_status=website["status"])


# ---------------------------------------------------------------- database rules of proposed data

_CONFLICTS_SQL = """
SELECT 'mobile' AS kind, m.mobile AS key, m.subject_id AS subject_id, NULL AS number, NULL AS status
  FROM subject_mobiles m
 WHERE m.mobile = ANY($1::text[]) AND m.active AND m.subject_id <> $4
UNION ALL
SELECT 'domain', d.ascii, d.subject_id, w.website_no, d.status
  FROM domains d JOIN websites w ON w.id = d.website_id
 WHERE d.ascii = ANY($2::text[]) AND d.status <> ALL($3::text[]) AND d.website_id <> $5
"""


async def check_conflicts(
    conn: asyncpg.Connection, *, subject_id: uuid.UUID, mobiles: dict[str, str] | None = None,
    domains: dict[str, str] | None = None, own_website_id: uuid.UUID | None = None,
) -> None:
    """Database rules (DOMAIN §5.10) of proposed data; FilingError naming the body fields. (A change
    never brings a new certificate: that is a new subject, cancelled and filed again.)

    A mobile of this subject is no conflict; a domain is one wherever it is live (also under this
    subject: a domain already filed there is added by 新增接入, not 新增网站), except in
    `own_website_id` (the pending website of the application being corrected)."""
    mobiles, domains = mobiles or {}, domains or {}
    rows = await conn.fetch(
        _CONFLICTS_SQL, list(mobiles), list(domains), list(filing_model.LIVE_EXCLUDED), subject_id,
        own_website_id or filing_store._NIL,
    )
    rows = [*rows, *await blacklist_rows(conn, [], list(domains), subject_id=subject_id),
            *await reservations.rows(conn, [], mobiles, domains)]
    if rows:
        raise filing_model.conflict_error(rows, mobiles, domains)


async def insert_pending_domains(conn: asyncpg.Connection, website_id: uuid.UUID, subject_id: uuid.UUID,
                                 site: Any) -> None:
    """The domains of a website in an application (PENDING until it is approved), in their order."""
    await conn.executemany(
        """INSERT INTO domains (website_id, subject_id, position, ascii, unicode, status)
           VALUES ($1, $2, $3, $4, $5, 'PENDING')""",
        [(website_id, subject_id, d["position"], d["ascii"], d["unicode"])
         for d in filing_rows.domain_rows(site, str(website_id), str(subject_id))],
    )


async def current_mobiles(conn: asyncpg.Connection, subject_id: uuid.UUID) -> set[str]:
    """The principal mobiles of the subject's filed data: its principal and its live (or pending)
    websites' own principals."""
    subject = await conn.fetchrow("SELECT principal FROM subjects WHERE id = $1", subject_id)
    found = {subject["principal"]["mobile"]}
    rows = await conn.fetch(
        """SELECT principal FROM websites WHERE subject_id = $1 AND status NOT IN ('CANCELLED', 'WITHDRAWN')
             AND NOT principal_same_as_subject AND principal IS NOT NULL""",
        subject_id,
    )
    found |= {r["principal"]["mobile"] for r in rows if r["principal"].get("mobile")}
    return found


async def sync_mobiles(conn: asyncpg.Connection, subject_id: uuid.UUID, mobiles: Iterable[str]) -> None:
    """Make exactly `mobiles` the subject's active mobiles (the filed ones plus those an in-flight
    proposal reserves). A mobile active under another subject violates `subject_mobiles_live`."""
    wanted = sorted(set(mobiles))
    await conn.execute(
        "UPDATE subject_mobiles SET active = (mobile = ANY($2::text[])) WHERE subject_id = $1", subject_id, wanted
    )
    await conn.execute(
        """INSERT INTO subject_mobiles (subject_id, mobile, active) SELECT $1, m, true FROM unnest($2::text[]) AS m
           ON CONFLICT (subject_id, mobile) DO UPDATE SET active = true""",
        subject_id, wanted,
    )


# ---------------------------------------------------------------- sponsor credentials


def credentials_needed(subject: Any, provider_id: str, *, own_changes: list[str] | None = None) -> bool:
    """The sponsor's username and password are needed for a self-filed subject (自主备案) or one
    another provider filed; a provider's own proxy filings (代为备案) need none, except for a change of
    the subject in the provinces of `own_changes` (setting ICP_SPONSOR_AUTH_OWN_CHANGES, every
    province by default: the seed asks the sponsor's consent for every change of a subject)."""
    if subject["filing_method"] == "SELF" or subject["provider_id"] != provider_id:
        return True
    return own_changes is not None and province_listed(subject["province"], own_changes)


def province_listed(gb: str, provinces: list[str]) -> bool:
    """Whether a subject's province (GB/T 2260, 110000) is in a setting's list ('*', BJ, 11 or 110000)."""
    if "*" in provinces:
        return True
    row = codes.province_by_gb(gb)
    names = {gb, gb[:2]} | ({row["code"]} if row else set())
    return any(p.strip().upper() in names for p in provinces)


async def verify_sponsor(ctx: ServiceContext, subject: Any, username: str, password: str) -> None:
    """权限验证: the credentials must be those of this subject's sponsor account. Failures count
    towards the account's login lock (committed on their own); every mismatch gets the same
    answer, so nothing tells whether a username exists."""
    now = dt.datetime.now(dt.UTC)
    outcome = "bad"
    until = None
    # the same work and answers as a login (services/filing/accounts/handlers.py): a name that is no sponsor
    # account is counted and locked like one, and every refusal costs one argon2 verification
    async with transaction(ctx.pool) as conn:
        user = await accounts_store.user_by_username(conn, username.strip(), for_update=True)
        if user is None or user["role"] != "sponsor":  # only sponsor accounts authorise
            record = await accounts_store.unknown_name_failures(conn, username.strip())
            await accounts.refusal_work(None, password)
            if is_locked(record["locked_until"], now):
                outcome, until = "locked", record["locked_until"]
            else:
                failed, until = after_failure(record["failed_logins"], now, failed_since=record["failed_since"])
                await accounts_store.record_unknown_failure(conn, username.strip(), failed, until, now)
                outcome = "just_locked" if until else "bad"
        elif is_locked(user["locked_until"], now):
            await accounts.refusal_work(None, password)
            outcome, until = "locked", user["locked_until"]
        else:
            ok = await asyncio.to_thread(verify_password, user["password_hash"], password)
            if ok and user["id"] == subject["sponsor_user_id"] and not user["disabled"]:
                outcome = "ok"
                if user["failed_logins"]:
                    await conn.execute("UPDATE users SET failed_logins = 0, failed_since = NULL WHERE id = $1",
                                       user["id"])
            else:
                await accounts.refusal_work(user["password_hash"], password)
                failed, until = after_failure(user["failed_logins"], now, failed_since=user["failed_since"])
                await accounts_store.record_failure(conn, user["id"], failed, until, now)
                outcome = "just_locked" if until else "bad"
    if outcome == "ok":
        return
    if outcome in ("locked", "just_locked"):
        raise Problem(423, "主办者" + locked_message(until, just_locked=outcome == "just_locked"),
                      locked_until=until.isoformat())
    raise Problem(403, SPONSOR_BAD, errors=[{"field": "sponsor", "message": SPONSOR_BAD}])


def credentials_missing() -> Problem:
    msg = "该主体为自主备案或由其他接入服务提供者备案，须填写主办者提供的用户名和密码（权限验证）"
    return Problem(422, msg, errors=[{"field": "sponsor", "message": msg}])


# ---------------------------------------------------------------- applications

_INSERT_APP_SQL = """
WITH app AS (
  INSERT INTO applications (id, type, status, version, subject_id, provider_id, province, filing_method, source,
                            needs_preapproval, status_at, submitted_at, submitted_by, proposal, website_id)
  VALUES ($1, $2, $3, 1, $4, $5, $6, $7, 'entry', $8, $9, $9, $10, $11, $12)
  RETURNING id
),
ver AS (
  INSERT INTO application_versions (application_id, version, payload, submitted_at, submitted_by)
  SELECT id, 1, $13, $9, $10 FROM app
)
INSERT INTO application_status_history (application_id, version, status, note, actor, at)
SELECT id, 1, $3, $14, $10, $9 FROM app
"""


def version_payload(proposal: dict[str, Any], subject_id: uuid.UUID, website_ids: list[str]) -> dict[str, Any]:
    return {"proposal": proposal, "subject_id": str(subject_id), "website_ids": website_ids}


async def insert_application(
    conn: asyncpg.Connection, *, application_id: uuid.UUID, app_type: str, subject: Any, provider_id: str,
    actor: str, now: dt.datetime, proposal: dict[str, Any], website_ids: list[str], needs_preapproval: bool,
    note: str, website_id: uuid.UUID | None = None, status: str = "PENDING_VERIFICATION",
    event: ApplicationSubmitted | None = None, outbox: Outbox | None = None,
) -> None:
    """The application (version 1) with its payload, first history row, audit entry and (when
    `event`) the outbox row; a lost race for the one-in-flight index answers 409."""
    try:
        async with conn.transaction():
            await conn.execute(
                _INSERT_APP_SQL, application_id, app_type, status, subject["id"], provider_id, subject["province"],
                subject["filing_method"], needs_preapproval, now, actor, proposal, website_id,
                version_payload(proposal, subject["id"], website_ids), note,
            )
    except asyncpg.UniqueViolationError as e:
        if e.constraint_name == "applications_one_in_flight":
            app = await in_flight(conn, subject["id"])
            if app is not None:
                raise in_flight_problem(app, provider_id) from None
        raise Problem(409, "该主体的申请与其他正在提交的申请冲突，请刷新后重试") from None
    await audit.record(conn, [audit.Entry(
        "application", str(application_id), "submit", actor, str(subject["id"]), provider_id,
        {"type": app_type, "status": status, "version": 1, **({"website_id": str(website_id)} if website_id else {})},
    )])
    if event is not None and outbox is not None:
        await outbox.add(conn, event, provider_id=provider_id)


async def add_version(
    conn: asyncpg.Connection, app: Any, *, proposal: dict[str, Any], website_ids: list[str], actor: str,
    now: dt.datetime, note: str, needs_preapproval: bool,
) -> int:
    """The next version of an application (resubmission, modified or re-applied cancellation),
    back to PENDING_VERIFICATION; a lost race for the one-in-flight index answers 409."""
    version = app["version"] + 1
    try:
        async with conn.transaction():
            await conn.execute(
                """UPDATE applications SET status = 'PENDING_VERIFICATION', version = $2, status_at = $3,
                       submitted_at = $3, submitted_by = $4, needs_preapproval = $5, proposal = $6,
                       corrected_at = NULL, updated_at = now() WHERE id = $1""",
                app["id"], version, now, actor, needs_preapproval, proposal,
            )
    except asyncpg.UniqueViolationError:
        other = await in_flight(conn, app["subject_id"])
        if other is not None:
            raise in_flight_problem(other, app["provider_id"]) from None
        raise Problem(409, "该主体的申请与其他正在提交的申请冲突，请刷新后重试") from None
    await conn.execute(
        """INSERT INTO application_versions (application_id, version, payload, submitted_at, submitted_by)
           VALUES ($1, $2, $3, $4, $5)""",
        app["id"], version, version_payload(proposal, app["subject_id"], website_ids), now, actor,
    )
    await conn.execute(
        """INSERT INTO application_status_history (application_id, version, status, note, actor, at)
           VALUES ($1, $2, 'PENDING_VERIFICATION', $3, $4, $5)""",
        app["id"], version, note, actor, now,
    )
    await audit.record(conn, [audit.Entry(
        "application", str(app["id"]), "resubmit", actor, str(app["subject_id"]), app["provider_id"],
        {"status": [app["status"], "PENDING_VERIFICATION"], "version": [app["version"], version]},
    )])
    return version


refuse = filing_model.unprocessable  # 422 naming every field
