"""The importer's batched write path (`services/filing/entry/bulk.py`) against the per-subject one
(`entry.store.create_first_filing`): the same items give the same rows in every table and the same
`filing.application.submitted` events; a conflict refuses the whole chunk with nothing written."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import services.filing as filing_pkg
from services.filing.entry.bulk import BulkRefused, check_chunk, create_first_filings
from services.filing.entry.model import FilingError
from services.filing.entry.store import check_database_rules, create_first_filing
from services.importer import columns as C
from shared import crypto, db
from shared.config import get_settings
from shared.contracts.filing import BatchImport
from shared.filing_data import FilingData
from tests.conftest import System
from tests.integration.importer_workbooks import mobile, resident_id, subject_row, website_row
from tests.integration.test_importer import imported, new_provider

TIME_COLUMNS = {"created_at", "updated_at", "at", "status_at", "submitted_at", "approved_at"}


def item_json(n_websites: int = 1, own_principal: bool = False, **subject_over) -> dict:
    """A FilingData as the importer seals it (the model_dump of the parsed rows)."""
    s = subject_row("S1", **subject_over)
    sites = []
    for i in range(n_websites):
        over: dict[str, Any] = {}
        if own_principal and i == 0:
            over = {"principal_same_as_subject": "否", "principal_name": "李四", "principal_id_type": "居民身份证",
                    "principal_id_number": resident_id("19900202"), "principal_id_valid_from": "2021-01-01",
                    "principal_id_valid_to": "长期", "principal_mobile": mobile(),
                    "principal_office_phone": "", "principal_emergency_phone": mobile(),
                    "principal_email": f"ls{uuid.uuid4().hex[:6]}@example.com"}
        sites.append(website_row("S1", **over))
    errors: list = []
    data = FilingData.model_validate({
        "subject": C.subject_input([str(s.get(c.key, "")) for c in C.SUBJECT_COLUMNS], errors),
        "websites": [C.website_input([str(w.get(c.key, "")) for c in C.WEBSITE_COLUMNS], errors) for w in sites],
    })
    assert not errors, errors
    return data.model_dump(mode="json")


def _relabel(value: Any, labels: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _relabel(x, labels) for k, x in value.items() if k not in TIME_COLUMNS}
    if isinstance(value, list):
        return [_relabel(x, labels) for x in value]
    if isinstance(value, uuid.UUID):
        value = str(value)
    if isinstance(value, str) and value in labels:
        return labels[value]
    if isinstance(value, dt.datetime):
        return "<time>"
    return value


async def snapshot(conn, created, job_id: str) -> dict[str, Any]:
    """Every row written for these filings, ids replaced by labels, times dropped; and the column sets."""
    labels: dict[str, str] = {}
    for n, f in enumerate(created):
        labels[f.subject_id] = f"subject{n}"
        labels[f.application_id] = f"application{n}"
        labels[f.sponsor_user_id] = f"sponsor{n}"
        labels[f.event_id] = f"event{n}"
        for k, wid in enumerate(f.website_ids):
            labels[wid] = f"website{n}.{k}"
    subjects = [f.subject_id for f in created]
    apps = [f.application_id for f in created]
    queries = {
        "users": ("SELECT * FROM users WHERE id = ANY($1::uuid[]) ORDER BY username", [f.sponsor_user_id for f in created]),
        "subjects": ("SELECT * FROM subjects WHERE id = ANY($1::uuid[]) ORDER BY cert_number", subjects),
        "subject_mobiles": ("SELECT * FROM subject_mobiles WHERE subject_id = ANY($1::uuid[]) ORDER BY mobile", subjects),
        "websites": ("SELECT * FROM websites WHERE subject_id = ANY($1::uuid[]) ORDER BY subject_id, position",
                     subjects),
        "domains": ("SELECT * FROM domains WHERE subject_id = ANY($1::uuid[]) ORDER BY ascii", subjects),
        "accesses": ("SELECT a.* FROM accesses a JOIN websites w ON w.id = a.website_id "
                     "WHERE a.subject_id = ANY($1::uuid[]) ORDER BY w.subject_id, w.position", subjects),
        "applications": ("SELECT * FROM applications WHERE id = ANY($1::uuid[]) ORDER BY subject_id", apps),
        "application_versions": ("SELECT * FROM application_versions WHERE application_id = ANY($1::uuid[]) "
                                 "ORDER BY application_id", apps),
        "application_status_history": ("SELECT * FROM application_status_history WHERE application_id = ANY($1::uuid[]) "
                                       "ORDER BY id", apps),
        "audit_log": ("SELECT * FROM audit_log WHERE subject_id = ANY($1::uuid[]) ORDER BY id", subjects),
        "outbox": ("SELECT * FROM outbox WHERE id = ANY($1::uuid[]) ORDER BY seq", [f.event_id for f in created]),
    }
    out: dict[str, Any] = {}
    for table, (sql, ids) in queries.items():
        rows = [dict(r) for r in await conn.fetch(sql, ids)]
        assert rows, table
        columns = sorted(rows[0])
        values = []
        for r in rows:
            if table not in ("subjects", "websites", "applications", "users"):
                r.pop("id", None)  # a serial or a default uuid
            r.pop("seq", None)
            if table == "outbox":
                body = json.loads(bytes(r.pop("body")))
                r["envelope_keys"] = sorted(body)
                r["type"] = body["type"]
                r["payload"] = body["payload"]
                r["headers"] = sorted(r["headers"])
            values.append(_relabel(r, labels))
        # the order of rows whose sort key is an id differs between runs: compare as a multiset
        out[table] = (columns, sorted(values, key=lambda x: json.dumps(x, sort_keys=True, default=str)))
    assert {r["import_job_id"] for r in await conn.fetch(queries["subjects"][0], subjects)} == {job_id}
    return out


@pytest.mark.parametrize("copy", [False, True])  # the API's one statement, the import's COPY
async def test_bulk_writes_the_same_rows_and_events_as_one_by_one(system: System, copy: bool):
    pid, _ = await new_provider(system)
    raw = [item_json(), item_json(2, own_principal=True), item_json(3)]
    sponsors = [("zbz" + uuid.uuid4().hex[:10], "$pbkdf2-sha256$100$abc$def") for _ in raw]
    job_id = str(uuid.uuid4())
    pool = system.ctx("filing").pool
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            one = [
                await create_first_filing(conn, provider_id=pid, data=FilingData.model_validate(r), actor="tester",
                                          source="import", import_job_id=job_id, sponsor=sp)
                for r, sp in zip(raw, sponsors, strict=True)
            ]
            expected = await snapshot(conn, one, job_id)
        finally:
            await tr.rollback()  # the same data again through the other path
        tr = conn.transaction()
        await tr.start()
        try:
            many = await create_first_filings(
                conn, provider_id=pid, actor="tester", import_job_id=job_id, copy=copy,
                items=[(FilingData.model_validate(r), sp, i) for i, (r, sp) in enumerate(zip(raw, sponsors, strict=True))],
            )
            got = await snapshot(conn, many, job_id)
        finally:
            await tr.rollback()
    assert [len(f.website_ids) for f in many] == [1, 2, 3]
    assert [(f.sponsor_username, f.sponsor_password, f.subject_name) for f in many] == [
        (f.sponsor_username, f.sponsor_password, f.subject_name) for f in one
    ]
    assert set(got) == set(expected)
    for table in expected:
        assert got[table][0] == expected[table][0], f"columns of {table}"
        assert got[table][1] == expected[table][1], f"values of {table}"
    # the snapshot in the event masks the ID numbers
    payload = got["outbox"][1][0]["payload"]
    assert "*" in payload["subject"]["principal"]["id_number_masked"]
    assert len(got["subject_mobiles"][1]) == 3 + 1  # one per subject, and the website principal's of the second


async def _file_one(system: System, pid: str, raw: dict) -> None:
    async with system.ctx("filing").pool.acquire() as conn:
        await create_first_filing(conn, provider_id=pid, data=FilingData.model_validate(raw), actor="tester",
                                  sponsor=("zbz" + uuid.uuid4().hex[:10], "$pbkdf2-sha256$100$abc$def"))


@pytest.mark.parametrize("copy", [False, True])
async def test_a_conflict_refuses_the_chunk_and_writes_nothing(system: System, copy: bool):
    pid, _ = await new_provider(system)
    filed = item_json()
    await _file_one(system, pid, filed)
    taken_domain = item_json(2)
    taken_domain["websites"][1]["domains"] = filed["websites"][0]["domains"]
    taken_domain["websites"][1]["home_urls"] = filed["websites"][0]["home_urls"]
    taken_cert = item_json(cert_number=filed["subject"]["cert_number"])
    twice = item_json()
    raw = [item_json(), taken_domain, taken_cert, twice, {**item_json(), "subject": twice["subject"]}]
    job_id = str(uuid.uuid4())
    async with system.ctx("filing").pool.acquire() as conn, conn.transaction():
        with pytest.raises(BulkRefused) as refused:
            await create_first_filings(
                conn, provider_id=pid, actor="tester", import_job_id=job_id, copy=copy,
                items=[(FilingData.model_validate(r), ("zbz" + uuid.uuid4().hex[:10], "h"), f"row{i}")
                       for i, r in enumerate(raw)],
            )
    found = [(key, e.status, [err["field"] for err in e.errors]) for key, e in refused.value.conflicts]
    assert found == [
        ("row1", 409, ["websites[1].domains[0]"]),
        ("row2", 409, ["subject.cert_number"]),
        ("row4", 409, ["subject.cert_number", "subject.principal.mobile"]),  # the same subject twice in the chunk
    ], found
    assert "已有正在办理中的备案申请" in refused.value.conflicts[0][1].errors[0]["message"]
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}
    # the dry run (filing.batch.check) finds the same in one query, as check_database_rules per item
    async with system.ctx("filing").pool.acquire() as conn:
        items = [(FilingData.model_validate(r), ("zbz" + uuid.uuid4().hex[:10], "h"), i) for i, r in enumerate(raw)]
        dry, taken = await check_chunk(conn, items)
        assert not taken
        expected = [(int(key[3:]), e.status, e.errors) for key, e in refused.value.conflicts]
        assert [(i, e.status, e.errors) for i, e in dry] == expected
        for data, _sponsor, i in items[:4]:  # the last one conflicts with the chunk only
            try:
                await check_database_rules(conn, data)
                assert i not in {k for k, _ in dry}
            except FilingError as e:
                assert (i, e.errors) in [(k, err.errors) for k, err in dry]


async def test_the_import_command_reports_a_conflict_and_imports_nothing_of_the_chunk(system: System):
    pid, _ = await new_provider(system)
    filed = item_json()
    await _file_one(system, pid, filed)
    clash = item_json()
    clash["websites"][0]["domains"] = filed["websites"][0]["domains"]
    clash["websites"][0]["home_urls"] = filed["websites"][0]["home_urls"]
    items = [{"data": d, "sponsor": ["zbz" + uuid.uuid4().hex[:10], "$pbkdf2-sha256$100$x$y"]}
             for d in (item_json(), clash, item_json(2))]
    job_id = str(uuid.uuid4())
    sealed = crypto.seal(get_settings().secret_key, "batch-import", json.dumps(items).encode(), f"{job_id}:1")
    cmd = BatchImport(job_id=job_id, chunk_no=1, provider_id=pid, actor="tester", items_sealed=sealed, item_count=3)
    importer = system.ctx("importer")
    async with importer.pool.acquire() as conn, conn.transaction():
        await importer.outbox.add(conn, cmd, provider_id=pid)
    fpool = system.ctx("filing").pool

    async def reply():
        return await fpool.fetchval(
            "SELECT convert_from(body, 'UTF8')::jsonb->'payload' FROM outbox "
            "WHERE routing_key = 'filing.batch.chunk_imported' AND convert_from(body, 'UTF8')::jsonb->'payload'->>'job_id' = $1",
            job_id)

    body = await system.eventually(reply)
    body = json.loads(body) if isinstance(body, str) else body
    assert body["ok"] is False and body["subjects_created"] == 0 and body["application_ids"] == []
    assert [(c["item"], c["field"]) for c in body["conflicts"]] == [(1, "websites[0].domains[0]")]
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}
    # and a clean chunk through the same command is imported whole
    items = [{"data": item_json(n), "sponsor": ["zbz" + uuid.uuid4().hex[:10], "$pbkdf2-sha256$100$x$y"]} for n in (1, 2)]
    job2 = str(uuid.uuid4())
    sealed = crypto.seal(get_settings().secret_key, "batch-import", json.dumps(items).encode(), f"{job2}:1")
    async with importer.pool.acquire() as conn, conn.transaction():
        await importer.outbox.add(conn, BatchImport(job_id=job2, chunk_no=1, provider_id=pid, actor="tester",
                                                    items_sealed=sealed, item_count=2), provider_id=pid)
    job_id = job2
    body = await system.eventually(reply)
    body = json.loads(body) if isinstance(body, str) else body
    assert body["ok"] is True and body["subjects_created"] == 2 and body["websites_created"] == 3
    assert await imported(system, job2) == {"subjects": 2, "applications": 2, "websites": 3}
    # the chunk's two events went out as one filing.applications.submitted, none on its own
    runs = await fpool.fetch(
        "SELECT convert_from(body, 'UTF8')::jsonb->'payload' AS p FROM outbox "
        "WHERE routing_key = 'filing.applications.submitted' "
        "AND convert_from(body, 'UTF8')::jsonb->'payload'->'events'->0->>'import_job_id' = $1", job2)
    payload = json.loads(runs[0]["p"]) if runs and isinstance(runs[0]["p"], str) else runs[0]["p"]
    assert len(runs) == 1 and len(payload["events"]) == 2 and len(set(payload["event_ids"])) == 2
    assert sorted(e["application_id"] for e in payload["events"]) == sorted(body["application_ids"])
    assert await fpool.fetchval(
        "SELECT count(*) FROM outbox WHERE routing_key = 'filing.application.submitted' "
        "AND convert_from(body, 'UTF8')::jsonb->'payload'->>'import_job_id' = $1", job2) == 0
    # and verification opened a case for each, under the application's id
    vpool = system.ctx("verification").pool

    async def cases():
        return await vpool.fetchval("SELECT count(*) FROM cases WHERE application_id = ANY($1::text[])",
                                    body["application_ids"]) == 2

    assert await system.eventually(cases)
    # and reporting logged each as the event it stands for, under its id in the run
    rpool = system.ctx("reporting").pool

    async def logged():
        rows = await rpool.fetch("SELECT message_id::text AS id, type FROM event_log WHERE message_id = ANY($1::uuid[])",
                                 payload["event_ids"])
        return rows if len(rows) == 2 else None

    rows = await system.eventually(logged)
    assert {r["type"] for r in rows} == {"filing.application.submitted"}
    assert await rpool.fetchval("SELECT count(*) FROM applications WHERE application_id = ANY($1::uuid[])",
                                body["application_ids"]) == 2


@pytest.mark.parametrize(("copy", "own_transaction"), [(False, True), (True, True), (True, False)])
async def test_a_race_lost_on_a_unique_index_refuses_the_chunk(system: System, copy: bool, own_transaction: bool):
    """Filed concurrently (not yet committed when the chunk is checked): the index is the backstop. With COPY
    the tables before the domains' are written when it fails: the caller's transaction, or the one COPY opens
    itself when there is none, is rolled back."""
    pid, _ = await new_provider(system)
    other = item_json()
    clash = item_json()
    clash["websites"][0]["domains"] = other["websites"][0]["domains"]
    clash["websites"][0]["home_urls"] = other["websites"][0]["home_urls"]
    job_id = str(uuid.uuid4())
    pool = system.ctx("filing").pool
    async with pool.acquire() as a, pool.acquire() as b:
        tr = a.transaction()
        await tr.start()
        await create_first_filing(a, provider_id=pid, data=FilingData.model_validate(other), actor="tester",
                                  sponsor=("zbz" + uuid.uuid4().hex[:10], "h"))
        usernames = ["zbz" + uuid.uuid4().hex[:10] for _ in range(2)]

        async def chunk():
            async with b.transaction() if own_transaction else contextlib.nullcontext():
                await create_first_filings(
                    b, provider_id=pid, actor="tester", import_job_id=job_id, copy=copy,
                    items=[(FilingData.model_validate(r), (name, "h"), f"row{i}")
                           for i, (r, name) in enumerate(zip([item_json(), clash], usernames, strict=True))],
                )

        task = asyncio.create_task(chunk())
        # the chunk passed its check and waits on the index (a slow machine must not let the commit
        # come first: the ordinary check would then refuse it, and the backstop would go untested)
        await system.eventually(lambda: pool.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", b.get_server_pid()))
        assert not task.done()
        await tr.commit()
        with pytest.raises(BulkRefused) as refused:
            await task
    [(key, e)] = refused.value.conflicts
    assert (key, e.status, e.errors[0]["field"]) == ("row1", 409, "websites[0].domains[0]")
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}
    assert not await pool.fetchval("SELECT count(*) FROM users WHERE username = ANY($1::text[])", usernames)


async def test_large_values_are_compressed_with_lz4(system: System):
    """The outbox bodies of every service and filing's large values use lz4 (platform 004, filing 091):
    pglz was ~8 % of PostgreSQL's CPU writing an import chunk. This server has lz4, so the migrations set it."""
    pool = system.ctx("filing").pool
    assert await pool.fetchval(
        "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    rows = await pool.fetch(
        """SELECT n.nspname || '.' || c.relname || '.' || a.attname AS col, a.attcompression::text AS how
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ANY($1)
              AND (c.relname, a.attname) IN (('outbox', 'body'), ('application_versions', 'payload'),
                                             ('audit_log', 'changes'), ('subjects', 'principal'),
                                             ('websites', 'principal'))""",
        ["filing", "verification", "reporting", "importer", "detection"])
    got = {r["col"]: r["how"] for r in rows}
    assert {f"{s}.outbox.body" for s in ("filing", "verification", "reporting", "importer", "detection")} <= set(got)
    assert len(got) == 9 and set(got.values()) == {"l"}, got


@pytest.mark.parametrize("copy", [False, True])
async def test_a_filing_for_an_unknown_provider_writes_nothing(system: System, copy: bool):
    """Only the sponsor account's row keeps a foreign key to providers (filing 093): it alone refuses a
    first filing naming a provider that does not exist, in either way of writing, and nothing of it stays."""
    job_id = str(uuid.uuid4())
    username = "zbz" + uuid.uuid4().hex[:10]
    pool = system.ctx("filing").pool
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.ForeignKeyViolationError) as e:
            async with conn.transaction():
                await create_first_filings(conn, provider_id="P-NOSUCH", actor="tester", import_job_id=job_id,
                                           copy=copy, items=[(FilingData.model_validate(item_json(2)),
                                                              (username, "$pbkdf2-sha256$100$abc$def"), 0)])
        assert e.value.constraint_name == "users_provider_id_fkey"
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}
    assert not await pool.fetchval("SELECT count(*) FROM users WHERE username = $1", username)


async def test_a_provider_is_never_deleted_or_renamed(system: System):
    """What the provider foreign keys dropped by filing 093 did besides checking inserts: a provider with
    filings could not be deleted. The guard refuses it for every provider."""
    pid, _ = await new_provider(system)
    await _file_one(system, pid, item_json())
    pool = system.ctx("filing").pool
    for sql in ("DELETE FROM providers WHERE provider_id = $1",
                "UPDATE providers SET provider_id = provider_id || '-X' WHERE provider_id = $1"):
        with pytest.raises(asyncpg.RestrictViolationError, match="never deleted or renamed"):
            await pool.execute(sql, pid)
    await pool.execute("UPDATE providers SET name = name || '（改）' WHERE provider_id = $1", pid)  # the rest changes
    assert await pool.fetchval("SELECT count(*) FROM subjects WHERE provider_id = $1", pid) == 1


async def test_a_domain_and_an_access_name_their_websites_own_subject(system: System):
    """domains and accesses reference (subject_id, website_id) of websites (filing 092): one check per row
    where there were two, and a row naming another subject than its website's is refused."""
    pid, _ = await new_provider(system)
    await _file_one(system, pid, item_json())
    await _file_one(system, pid, item_json())
    other, _ = await new_provider(system)  # (an access of the same provider exists: its unique index first)
    pool = system.ctx("filing").pool
    (w1, s1), (_w2, s2) = [(r["id"], r["subject_id"]) for r in await pool.fetch(
        "SELECT id, subject_id FROM websites WHERE provider_id = $1 ORDER BY created_at", pid)]
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="domains_website_fkey"):
        await pool.execute("INSERT INTO domains (website_id, subject_id, ascii, unicode) VALUES ($1, $2, 'x.cn', 'x.cn')",
                           w1, s2)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="accesses_website_fkey"):
        await pool.execute("""INSERT INTO accesses (website_id, subject_id, provider_id, access_methods, ip_ranges,
                                                    server_locations, created_by)
                              VALUES ($1, $2, $3, '[]', '[]', '[]', 't')""", w1, s2, other)
    # the website's own subject is taken, and deleting the website still takes its domains and accesses with it
    await pool.execute("INSERT INTO domains (website_id, subject_id, ascii, unicode) VALUES ($1, $2, 'y.cn', 'y.cn')",
                       w1, s1)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM websites WHERE id = $1", w1)
        assert await conn.fetchval("SELECT count(*) FROM domains WHERE website_id = $1", w1) == 0
        assert await conn.fetchval("SELECT count(*) FROM accesses WHERE website_id = $1", w1) == 0


async def test_092s_index_can_be_built_concurrently_before_the_upgrade(pg_dsn, tmp_path):
    """deploy/README.md, "Upgrading a large database": the operator builds `websites_subject_id` with CREATE
    INDEX CONCURRENTLY (writes go on) before the rollout; filing 092 then keeps that index and only swaps the
    foreign keys."""
    folder = Path(filing_pkg.__file__).parent / "migrations"
    before = tmp_path / "migrations"
    before.mkdir()
    for f in folder.iterdir():
        if f.suffix == ".sql" and f.name < "092":
            shutil.copy(f, before / f.name)
    schema = f"upgrade_{uuid.uuid4().hex[:8]}"
    await db.migrate(pg_dsn, schema, before)
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE UNIQUE INDEX CONCURRENTLY websites_subject_id ON "{schema}".websites (subject_id, id)')
        index = f"SELECT '\"{schema}\".websites_subject_id'::regclass::oid"
        built = await conn.fetchval(index)
        applied = await db.migrate(pg_dsn, schema, folder)
        assert "service/092_website_subject_keys" in applied and "service/093_provider_keys" in applied
        assert await conn.fetchval(index) == built  # the one built beforehand, not built again
        keys = {r["conname"] for r in await conn.fetch(
            "SELECT conname FROM pg_constraint WHERE connamespace = $1::regnamespace AND contype = 'f'", schema)}
        assert {"domains_website_fkey", "accesses_website_fkey"} <= keys
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
