"""SQL of the filed records (subjects, websites, applications): scoped, filtered, paged reads."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from shared import codes
from shared import validate as v
from shared.auth import Principal, Role
from shared.where import Where, like

LIVE = "NOT IN ('CANCELLED', 'WITHDRAWN')"


def province_gb(value: str | None) -> str | None:
    """A bureau's province (BJ, 11 or 110000) as the GB/T 2260 code subjects store (110000)."""
    if not value:
        return None
    row = codes.get("provinces", value.upper()) or codes.province_by_gb(value)
    return f"{row['gb2260']}0000" if row else None


def provider_scope(w: Where, provider_id: str, alias: str = "s") -> str:
    """The subjects (`alias`) a provider sees: its own filings and those it gives access to."""
    p = w.param(provider_id)
    return (f"({alias}.provider_id = {p} OR EXISTS (SELECT 1 FROM accesses a WHERE a.subject_id = {alias}.id "
            f"AND a.provider_id = {p} AND a.status {LIVE}))")


def scope(w: Where, principal: Principal, alias: str = "s") -> None:
    """Restrict to what the caller may see (DOMAIN §7.6): a provider its own filings and those it
    gives access to; a bureau its province; a sponsor its own subject; an admin everything."""
    if principal.role == Role.PROVIDER:
        w.add(provider_scope(w, principal.provider_id, alias))
    elif principal.role == Role.BUREAU:
        w.add(f"{alias}.province = {w.param(province_gb(principal.province) or '-')}")
    elif principal.role == Role.SPONSOR:
        try:
            uid = uuid.UUID(principal.user_id)
        except ValueError:
            w.add("false")
            return
        w.add(f"{alias}.sponsor_user_id = {w.param(uid)}")
    elif principal.role != Role.ADMIN:
        w.add("false")


def _domain_pattern(text: str) -> str:
    try:
        return v.validate_domain(text, allow_gov_subdomain=True).ascii
    except v.InvalidValue:
        return v.normalize_text(text).lower()


def date_range(w: Where, column: str, start: dt.date | None, end: dt.date | None) -> None:
    if start is not None:
        w.add(f"{column} >= {w.param(start)}::date")
    if end is not None:
        w.add(f"{column} < {w.param(end)}::date + 1")


def subject_filters(w: Where, q: Any) -> None:
    if q.name:
        w.add(f"s.name ILIKE {w.param(like(q.name))}")
    if q.cert_number:
        w.add(f"upper(s.cert_number) = {w.param(v.normalize_text(q.cert_number).upper())}")
    if q.domain:
        w.add(
            f"EXISTS (SELECT 1 FROM domains d WHERE d.subject_id = s.id AND (d.ascii ILIKE {w.param(like(_domain_pattern(q.domain)))}"
            f" OR d.unicode ILIKE {w.param(like(v.normalize_text(q.domain)))}))"
        )
    if q.filing_no:
        p = w.param(like(v.normalize_text(q.filing_no)))
        w.add(f"(s.subject_no ILIKE {p} OR EXISTS (SELECT 1 FROM websites x WHERE x.subject_id = s.id AND x.website_no ILIKE {p}))")
    if q.status:
        w.add(f"s.status = {w.param(q.status)}")
    if q.filing_method:
        w.add(f"s.filing_method = {w.param(q.filing_method)}")
    if q.province:
        w.add(f"s.province = {w.param(province_gb(q.province) or q.province)}")
    if q.nature:
        w.add(f"s.nature = {w.param(q.nature)}")
    if q.application_status:
        w.add(
            f"(SELECT a.status FROM applications a WHERE a.subject_id = s.id ORDER BY a.created_at DESC LIMIT 1)"
            f" = {w.param(q.application_status)}"
        )
    date_range(w, "s.created_at", q.created_from, q.created_to)
    date_range(w, "s.approved_at", q.approved_from, q.approved_to)


_LATEST_APP = """LEFT JOIN LATERAL (
    SELECT a.id AS application_id, a.type AS application_type, a.status AS application_status,
           a.version AS application_version
    FROM applications a WHERE a.subject_id = s.id ORDER BY a.created_at DESC LIMIT 1) app ON true"""


async def list_subjects(pool: asyncpg.Pool, principal: Principal, q: Any) -> tuple[list[asyncpg.Record], int]:
    w = Where()
    scope(w, principal)
    subject_filters(w, q)
    limit, offset = w.param(q.page_size), w.param((q.page - 1) * q.page_size)
    rows = await pool.fetch(
        f"""SELECT s.id, s.provider_id, s.name, s.nature, s.cert_type, s.cert_number, s.province, s.city, s.county,
                   s.subject_no, s.status, s.filing_method, s.created_at, s.approved_at, s.updated_at,
                   (SELECT count(*) FROM websites x WHERE x.subject_id = s.id AND x.status {LIVE}) AS website_count,
                   app.*, count(*) OVER () AS total
            FROM subjects s {_LATEST_APP}
            WHERE {w.sql()}
            ORDER BY s.created_at DESC, s.id LIMIT {limit} OFFSET {offset}""",
        *w.params,
    )
    total = rows[0]["total"] if rows else await _count(pool, "subjects s", w)
    return rows, total


async def _count(pool: asyncpg.Pool, table: str, w: Where) -> int:
    params = w.params[:-2]  # without limit/offset
    return await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {w.sql()}", *params)


def website_filters(w: Where, q: Any) -> None:
    if q.name:
        w.add(f"ws.name ILIKE {w.param(like(q.name))}")
    if q.subject_name:
        w.add(f"s.name ILIKE {w.param(like(q.subject_name))}")
    if q.cert_number:
        w.add(f"upper(s.cert_number) = {w.param(v.normalize_text(q.cert_number).upper())}")
    if q.domain:
        w.add(
            f"EXISTS (SELECT 1 FROM domains d WHERE d.website_id = ws.id AND (d.ascii ILIKE {w.param(like(_domain_pattern(q.domain)))}"
            f" OR d.unicode ILIKE {w.param(like(v.normalize_text(q.domain)))}))"
        )
    if q.filing_no:
        p = w.param(like(v.normalize_text(q.filing_no)))
        w.add(f"(ws.website_no ILIKE {p} OR s.subject_no ILIKE {p})")
    if q.status:
        w.add(f"ws.status = {w.param(q.status)}")
    else:
        w.add("ws.status <> 'WITHDRAWN'")
    if q.filing_method:
        w.add(f"s.filing_method = {w.param(q.filing_method)}")
    if q.province:
        w.add(f"s.province = {w.param(province_gb(q.province) or q.province)}")
    if q.subject_id:
        try:
            w.add(f"ws.subject_id = {w.param(uuid.UUID(q.subject_id))}")
        except ValueError:
            w.add("false")
    if q.needs_preapproval is not None:
        w.add(f"ws.needs_preapproval = {w.param(q.needs_preapproval)}")
    date_range(w, "ws.created_at", q.created_from, q.created_to)
    date_range(w, "ws.approved_at", q.approved_from, q.approved_to)


async def list_websites(pool: asyncpg.Pool, principal: Principal, q: Any) -> tuple[list[asyncpg.Record], int]:
    w = Where()
    scope(w, principal)
    website_filters(w, q)
    limit, offset = w.param(q.page_size), w.param((q.page - 1) * q.page_size)
    rows = await pool.fetch(
        f"""SELECT ws.id, ws.subject_id, s.name AS subject_name, s.subject_no, s.filing_method, s.province,
                   ws.name, ws.home_urls, ws.website_no, ws.status, ws.needs_preapproval, ws.created_at,
                   ws.approved_at, ws.updated_at,
                   (SELECT coalesce(jsonb_agg(d.unicode ORDER BY d.position), '[]') FROM domains d
                     WHERE d.website_id = ws.id) AS domains,
                   app.*, count(*) OVER () AS total
            FROM websites ws JOIN subjects s ON s.id = ws.subject_id {_LATEST_APP}
            WHERE {w.sql()}
            ORDER BY ws.created_at DESC, ws.position, ws.id LIMIT {limit} OFFSET {offset}""",
        *w.params,
    )
    total = rows[0]["total"] if rows else await _count(pool, "websites ws JOIN subjects s ON s.id = ws.subject_id", w)
    return rows, total


# ---------------------------------------------------------------- one subject


async def subject_visible(conn, principal: Principal, subject_id: uuid.UUID) -> asyncpg.Record | None:
    w = Where()
    w.add(f"s.id = {w.param(subject_id)}")
    scope(w, principal)
    return await conn.fetchrow(f"SELECT s.* FROM subjects s WHERE {w.sql()}", *w.params)


async def website_visible(conn, principal: Principal, website_id: uuid.UUID) -> asyncpg.Record | None:
    w = Where()
    w.add(f"ws.id = {w.param(website_id)}")
    scope(w, principal)
    return await conn.fetchrow(
        f"SELECT ws.*, s.name AS subject_name FROM websites ws JOIN subjects s ON s.id = ws.subject_id WHERE {w.sql()}",
        *w.params,
    )


async def application_visible(conn, principal: Principal, application_id: uuid.UUID) -> asyncpg.Record | None:
    w = Where()
    w.add(f"ap.id = {w.param(application_id)}")
    scope(w, principal)
    if principal.role == Role.PROVIDER:  # another provider's application (e.g. its 新增接入) stays its own
        w.add(f"ap.provider_id = {w.param(principal.provider_id)}")
    return await conn.fetchrow(
        f"SELECT ap.* FROM applications ap JOIN subjects s ON s.id = ap.subject_id WHERE {w.sql()}", *w.params
    )


async def subject_parts(conn, subject_id: uuid.UUID, *, include_withdrawn: bool = False):
    """(websites, domains, accesses) of a subject, websites in position order."""
    cond = "" if include_withdrawn else "AND status <> 'WITHDRAWN'"
    websites = await conn.fetch(f"SELECT * FROM websites WHERE subject_id = $1 {cond} ORDER BY position, created_at", subject_id)
    domains = await conn.fetch("SELECT * FROM domains WHERE subject_id = $1 ORDER BY position", subject_id)
    accesses = await conn.fetch(
        "SELECT * FROM accesses WHERE subject_id = $1 AND status <> 'WITHDRAWN' ORDER BY created_at", subject_id
    )
    return websites, domains, accesses


async def applications_of(conn, subject_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM applications WHERE subject_id = $1 ORDER BY created_at DESC", subject_id)


async def history_of(conn, application_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    if not application_ids:
        return []
    return await conn.fetch(
        "SELECT * FROM application_status_history WHERE application_id = ANY($1::uuid[]) ORDER BY id", application_ids
    )
