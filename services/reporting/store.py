"""SQL of the reporting queries (reads only; the projection writes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from services.reporting.queries import (
    FilingQuery,
    ProgressQuery,
    Where,
    filing_where,
    order_by,
    progress_where,
)
from shared.auth import Principal

PROGRESS_SORTS = {"submitted_at": "a.submitted_at", "status_at": "a.status_at", "sponsor_name": "a.sponsor_name"}

WEBSITE_COLUMNS = """w.website_id, w.subject_id, w.website_no, w.subject_no, w.name, w.sponsor_name, w.nature,
    w.province, w.filing_method, w.status, w.subject_status, w.domains, w.home_urls, w.service_content,
    w.languages, w.preapproval_types, w.access_methods, w.server_locations, w.approved_at, w.cancelled_at"""


# Totals are counted up to this many matches (the page says "more than"): an exact count of a whole
# province or of every filing costs a scan of each match, for a number nobody pages through.
COUNT_LIMIT = 10_000


async def _page(pool: asyncpg.Pool, select: str, table: str, w: Where, order: str, page: int,
                page_size: int) -> tuple[list[asyncpg.Record], int, bool]:
    """(rows of the page, total, whether the total is only a lower bound: more than COUNT_LIMIT)."""
    where = w.sql()
    limit, offset = w.param(page_size), w.param((page - 1) * page_size)
    # one snapshot for the page and its total, so they agree while events are being applied
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(f"SELECT {select} FROM {table} WHERE {where} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
                                *w.params)
        total = await conn.fetchval(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {where} LIMIT {COUNT_LIMIT + 1}) x", *w.params[:-2])
    more = total > COUNT_LIMIT
    return rows, max(min(total, COUNT_LIMIT), (page - 1) * page_size + len(rows)), more


async def list_progress(pool: asyncpg.Pool, principal: Principal, q: ProgressQuery):
    w = progress_where(principal, q)
    direction = "ASC" if q.order == "asc" else "DESC"
    order = f"{PROGRESS_SORTS[q.sort]} {direction}, a.application_id {direction}"
    return await _page(pool, "a.*", "applications a", w, order, q.page, q.page_size)


async def progress_detail(pool: asyncpg.Pool, principal: Principal, application_id: uuid.UUID):
    w = progress_where(principal, ProgressQuery())
    w.add(f"a.application_id = {w.param(application_id)}")
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT a.* FROM applications a WHERE {w.sql()}", *w.params)
        if row is None:
            return None, []
        history = await conn.fetch(
            "SELECT * FROM application_history WHERE application_id = $1 ORDER BY at, version, rank, message_id",
            application_id,
        )
    return row, history


# conditions that match a handful of websites: the matches are found first (their indexes) and then
# sorted, instead of letting the planner walk the date index in order hoping to meet 20 matches soon
# (with a wrong guess of the matches' number, that walk reads every website)
SELECTIVE = ("domain", "number", "ip", "cert_number", "principal_name")


async def list_filings(pool: asyncpg.Pool, principal: Principal, q: FilingQuery):
    w = filing_where(principal, q)
    table = "websites w"
    if any(getattr(q, f) for f in SELECTIVE):
        table = f"(SELECT * FROM websites w WHERE {w.sql()} OFFSET 0) w"  # OFFSET 0: planned on its own
    return await _page(pool, WEBSITE_COLUMNS, table, w, order_by(q), q.page, q.page_size)


async def website_visible(pool: asyncpg.Pool, principal: Principal, website_id: uuid.UUID,
                          q: FilingQuery | None = None) -> asyncpg.Record | None:
    w = filing_where(principal, q or FilingQuery(status="ALL"))
    w.add(f"w.website_id = {w.param(website_id)}")
    return await pool.fetchrow(f"SELECT {WEBSITE_COLUMNS}, w.cert_code FROM websites w WHERE {w.sql()}", *w.params)


async def subject_state(pool: asyncpg.Pool, subject_id: uuid.UUID) -> dict[str, Any] | None:
    return await pool.fetchval("SELECT state FROM subjects WHERE subject_id = $1", subject_id)


async def provider_names(pool: asyncpg.Pool, ids: list[str]) -> dict[str, str]:
    rows = await pool.fetch("SELECT provider_id, name FROM providers WHERE provider_id = ANY($1::text[])", ids)
    return {r["provider_id"]: r["name"] for r in rows}


async def website_providers(pool: asyncpg.Pool, website_id: uuid.UUID) -> list[str]:
    """Names of the providers with an active access to the website (the certificate's 接入服务提供者)."""
    rows = await pool.fetch(
        """SELECT coalesce(p.name, x.id) AS name FROM websites w CROSS JOIN LATERAL unnest(w.provider_ids) AS x(id)
             LEFT JOIN providers p ON p.provider_id = x.id WHERE w.website_id = $1 ORDER BY 1""",
        website_id,
    )
    return [r["name"] for r in rows]


async def stream_filings(pool: asyncpg.Pool, principal: Principal, q: FilingQuery, batch: int = 2000,
                         columns: str = WEBSITE_COLUMNS) -> AsyncIterator[list[asyncpg.Record]]:
    """Every row of the query, `batch` rows at a time from a server-side cursor (constant memory)."""
    w = filing_where(principal, q)
    sql = f"SELECT {columns} FROM websites w WHERE {w.sql()} ORDER BY {order_by(q)}"
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        cursor = await conn.cursor(sql, *w.params)
        while True:
            rows = await cursor.fetch(batch)
            if not rows:
                break
            yield rows
