"""Name fragments (website name, sponsor name): a fragment of 1–2 characters is found through the index
of the names' characters and character pairs (migration 014), ≥ 3 through the trigram index; either
way the matches are exactly those of a plain ILIKE '%fragment%' scan. The fixture mixes Chinese and
ASCII names, upper and lower case, repeated characters, LIKE's special characters, and fragments at
the start and the end of the names. Reporting's tables in a schema of this test's own."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import asyncpg
import pytest

from services.reporting import store
from services.reporting.queries import FilingQuery, filing_where, order_by
from services.reporting.store import WEBSITE_COLUMNS
from shared import db
from shared.auth import Role, new_principal
from tests.conftest import PG_ADMIN, RUN_ID

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "reporting" / "migrations"

NAMES = ["星辰网", "星星星", "辰星", "哈哈哈哈网", "云海之家", "华夏文化网", "Star星辰", "ABCabc", "aaa", "a",
         "星", "x%y_z\\w", "100%网", "北京·星辰", "ÄÖÜ äöü", "网络 星辰", "星辰网星辰"]
SPONSORS = ["北京星辰科技有限公司", "星辰", "ACME 星辰公司", "哈哈有限公司", "华夏银行", "Zeta_%公司"]


def fragments() -> set[str]:
    out = {"", "星海", "zz", "%", "_", "\\", "%网", "y_", "网星", "辰辰", "Ä", "äÖ", "AB", "Ab", "bC", "A", "哈哈哈",
           "星辰网", "星辰科技", "abca", "公司"}
    for name in NAMES + SPONSORS:
        for i in range(len(name)):
            for n in (1, 2, 3):
                if i + n <= len(name):
                    frag = name[i:i + n]
                    out |= {frag, frag.upper(), frag.lower()}
    return {f.strip() for f in out if f.strip()}


@pytest.fixture
async def pool():
    name = f"icp_test_{RUN_ID}_frag_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        await db.migrate(dsn, "reporting", MIGRATIONS)
        pool = await db.create_pool(dsn, "reporting", min_size=1, max_size=2)
        t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        rows = [(uuid.uuid4(), uuid.uuid4(), 1, f"京ICP备2025{i:06d}号-1", f"京ICP备2025{i:06d}号", name,
                 SPONSORS[i % len(SPONSORS)], "ENTERPRISE", "x", "110000", "PROXY", "ACTIVE", "ACTIVE", [], [], [],
                 [], [], [], [], [], ["bp1"], t0 + dt.timedelta(days=i), None, "c")
                for i, name in enumerate(NAMES * 3)]
        await pool.copy_records_to_table("websites", records=rows, columns=(
            "website_id", "subject_id", "state_version", "website_no", "subject_no", "name", "sponsor_name",
            "nature", "cert_number", "province", "filing_method", "status", "subject_status", "domains",
            "home_urls", "service_content", "languages", "preapproval_types", "access_methods",
            "server_locations", "principal_names", "provider_ids", "approved_at", "cancelled_at", "cert_code"))
        yield pool
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


ADMIN = new_principal(user_id="t", role=Role.ADMIN, username="t", ttl=600)


async def listed(pool, **cond) -> set[str]:
    rows, _, _ = await store.list_filings(pool, ADMIN, FilingQuery(page_size=200, status="ALL", **cond))
    return {r["website_no"] for r in rows}


async def scanned(pool, column: str, frag: str) -> set[str]:
    """The plain scan: ILIKE on every row, no index."""
    pattern = "%" + frag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off")
        rows = await conn.fetch(f"SELECT website_no FROM websites WHERE {column} ILIKE $1", pattern)
    return {r["website_no"] for r in rows}


async def test_short_and_long_fragments_match_exactly_what_ilike_matches(pool):
    frags = fragments()
    assert len([f for f in frags if len(f) <= 2]) > 60
    nonempty = 0
    for frag in sorted(frags):
        for cond, column in (("website_name", "name"), ("sponsor_name", "sponsor_name")):
            expected = await scanned(pool, column, frag)
            assert await listed(pool, **{cond: frag}) == expected, (cond, frag)
            nonempty += bool(expected)
        # an independent formulation for the plain cases (Python's lower() agrees with PostgreSQL's here)
        if frag.isascii() or all("\u4e00" <= c <= "\u9fff" or c in "·网" for c in frag):
            assert await scanned(pool, "name", frag) == {
                f"京ICP备2025{i:06d}号-1" for i, n in enumerate(NAMES * 3) if frag.lower() in n.lower()}, frag
    assert nonempty > 100


@pytest.mark.parametrize("column,cond", [("name", "website_name"), ("sponsor_name", "sponsor_name")])
async def test_a_short_fragment_can_use_the_index(pool, column, cond):
    """With scans made expensive (as on a large table), a 2-character fragment is looked up in the index."""
    w = filing_where(ADMIN, FilingQuery(**{cond: "星辰"}))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch(
            f"EXPLAIN SELECT {WEBSITE_COLUMNS} FROM websites w WHERE {w.sql()} "
            f"ORDER BY {order_by(FilingQuery())} LIMIT 20", *w.params))
    assert f"websites_{'name' if column == 'name' else 'sponsor'}_grams" in plan, plan
