"""Batch import, issue 9: a file is imported whole or not at all, also against files uploaded at the same
time; the credentials of every committed chunk survive a failed job; every error in one pass; Strict
Open XML; the upload and its annotated copy sealed at rest, kept briefly, the copy built once."""

from __future__ import annotations

import asyncio
import contextlib
import io
import uuid

import pytest
from openpyxl import load_workbook

from services.filing.changes.store import check_conflicts
from services.filing.entry.bulk import BulkRefused, create_first_filings
from services.filing.entry.model import FilingError
from services.filing.entry.store import check_database_rules
from services.importer import columns as C
from services.importer.sealing import ANNOTATED_PURPOSE, UPLOAD_PURPOSE
from services.importer.settings import import_settings
from shared import crypto
from shared.auth import verify_password
from shared.filing_data import FilingData
from tests.conftest import System
from tests.integration.importer_workbooks import filled, strict, subject_row, website_row
from tests.integration.test_importer import (
    imported,
    new_provider,
    run_import,
    upload,
    wait_annotated,
    wait_done,
)


@contextlib.contextmanager
def small_chunks(websites: int = 20, window: int = 1):
    """Chunks of `websites` websites, one chunk in flight per job: the import goes chunk by chunk."""
    s = import_settings()
    old = s.chunk_websites, s.window
    s.chunk_websites, s.window = websites, window
    try:
        yield
    finally:
        s.chunk_websites, s.window = old


@contextlib.asynccontextmanager
async def chunk_held(system: System, job_id: str, chunk_no: int, provider_id: str):
    """Filing's import of this chunk waits (its batch_chunks row is taken by an open transaction of the
    test) until the block is left: the job stays IMPORTING, deterministically."""
    conn = await system.ctx("filing").pool.acquire()
    tr = conn.transaction()
    await tr.start()
    try:
        await conn.execute("INSERT INTO batch_chunks (job_id, chunk_no, provider_id) VALUES ($1, $2, $3)",
                           job_id, chunk_no, provider_id)
        yield conn
    finally:
        await tr.rollback()
        await system.ctx("filing").pool.release(conn)


async def job(system: System, h, job_id: str) -> dict:
    return await (await system.client.get(f"/api/importer/jobs/{job_id}", headers=h)).json()


async def importing_after(system: System, h, job_id: str, chunks_done: int) -> dict:
    async def reached():
        body = await job(system, h, job_id)
        assert body["status"] not in ("COMPLETED", "REJECTED", "FAILED"), body
        return body if body["status"] == "IMPORTING" and body["chunks_done"] >= chunks_done else None

    return await system.eventually(reached, limit=90, interval=0.1)


async def reservations(system: System, job_id: str) -> int:
    return await system.ctx("filing").pool.fetchval("SELECT count(*) FROM batch_reservations WHERE job_id = $1", job_id)


async def result_rows(system: System, h, job_id: str) -> list[tuple]:
    r = await system.client.get(f"/api/importer/jobs/{job_id}/result", headers=h)
    assert r.status == 200, await r.text()
    wb = load_workbook(io.BytesIO(await r.read()))
    return list(wb["主办者账号"].iter_rows(min_row=2, values_only=True))


async def assert_passwords(system: System, rows: list[tuple], sample: int = 5) -> None:
    pool = system.ctx("filing").pool
    for _key, _name, username, password, _domains in rows[:: max(1, len(rows) // sample)]:
        stored = await pool.fetchval("SELECT password_hash FROM users WHERE username = $1", username)
        assert stored and verify_password(stored, password), username


def rows(n: int, prefix: str) -> tuple[list[dict], list[dict]]:
    return [subject_row(f"{prefix}{i}") for i in range(n)], [website_row(f"{prefix}{i}") for i in range(n)]


# ---------------------------------------------------------------- whole files under concurrency


async def test_a_file_overlapping_one_being_imported_is_refused_at_its_check(system: System):
    """200 subjects importing; a second file with its last 20 subjects is uploaded meanwhile. Before:
    the second validated and completed, the first ended FAILED with 180 imported. Now the second is
    refused at its check (conflict with a file being imported) and the first is imported whole."""
    pid, h = await new_provider(system)
    subjects, websites = rows(200, "A")
    with small_chunks(20):
        r = await upload(system, h, filled(subjects, websites))
        first = (await r.json())["job_id"]
        async with chunk_held(system, first, 2, pid):
            await importing_after(system, h, first, 1)
            assert await reservations(system, first) > 0
            # the second file: the first's last 20 subjects (its first chunk), then 20 new ones (a second
            # chunk, clean: it reserves its keys until the refusal releases them)
            fresh_s, fresh_w = rows(20, "Z")
            second = await run_import(system, h, filled(subjects[-20:] + fresh_s, websites[-20:] + fresh_w))
            assert second["status"] == "REJECTED", second
            assert await imported(system, second["job_id"]) == {"subjects": 0, "applications": 0, "websites": 0}
            errors = (await (await system.client.get(
                f"/api/importer/jobs/{second['job_id']}/errors?page_size=500", headers=h)).json())["items"]
            conflict = [e for e in errors if "正在导入的另一个文件" in e["message"]]
            # each of the 20 subjects: its certificate, its domain and its mobiles, located in the file
            assert {(e["sheet"], e["column_name"]) for e in conflict} >= {("主体", "主办单位证件号码"), ("网站", "网站域名")}
            assert {e["row"] for e in conflict if e["sheet"] == "网站"} == set(range(4, 24))
            assert second["chunks_total"] == 2

            async def second_released():
                return await reservations(system, second["job_id"]) == 0

            await system.eventually(second_released)  # importer.job.finished
        done = await wait_done(system, h, first, limit=120)
    assert done["status"] == "COMPLETED", done
    assert (done["subjects_imported"], done["rows_imported"]) == (200, 200)
    assert await imported(system, first) == {"subjects": 200, "applications": 200, "websites": 200}
    creds = await result_rows(system, h, first)
    assert len(creds) == 200 and {c[0] for c in creds} == {f"A{i}" for i in range(200)}
    await assert_passwords(system, creds)

    async def released():
        return await reservations(system, first) == 0

    await system.eventually(released)


def _filing_data(s: dict, w: dict) -> FilingData:
    errors: list = []
    return FilingData.model_validate({
        "subject": C.subject_input([str(s.get(c.key, "")) for c in C.SUBJECT_COLUMNS], errors),
        "websites": [C.website_input([str(w.get(c.key, "")) for c in C.WEBSITE_COLUMNS], errors)],
    })


async def test_a_filing_entered_meanwhile_cannot_take_a_reserved_key_and_committed_credentials_survive(
    system: System,
):
    """While a file is importing, a filing entered for one of its domains is refused (reserved). When a
    reservation is lost anyway (expired) and a late chunk fails, the job ends FAILED, and the credentials
    of the chunks filing committed can still be downloaded (before: /result answered 409 for ever)."""
    pid, h = await new_provider(system)
    subjects, websites = rows(60, "B")
    with small_chunks(20):
        r = await upload(system, h, filled(subjects, websites))
        job_id = (await r.json())["job_id"]
        async with chunk_held(system, job_id, 2, pid):
            await importing_after(system, h, job_id, 1)
            # a filing entered meanwhile (POST /filings' write path) for the last subject's domain
            clash = _filing_data(subject_row("X"), website_row("X", domains=websites[-1]["domains"],
                                                               home_urls=websites[-1]["home_urls"]))
            async with system.ctx("filing").pool.acquire() as conn:
                with pytest.raises(BulkRefused) as refused:
                    async with conn.transaction():
                        await create_first_filings(conn, provider_id=pid, actor="op", import_job_id=None,
                                                   source="entry", items=[(clash, ("zbz" + uuid.uuid4().hex[:8], "h"), 0)])
                [(_key, e)] = refused.value.conflicts
                assert e.status == 409 and "正在导入的另一个文件" in e.errors[0]["message"]
                # the other paths that file a domain: a correction (check_database_rules), a new website or
                # a changed domain (changes_store.check_conflicts)
                with pytest.raises(FilingError) as corrected:
                    await check_database_rules(conn, clash, own_subject_id=uuid.uuid4())
                assert [x["field"] for x in corrected.value.errors] == ["websites[0].domains[0]"]
                assert "正在导入的另一个文件" in corrected.value.errors[0]["message"]
                with pytest.raises(FilingError) as changed:
                    await check_conflicts(conn, subject_id=uuid.uuid4(),
                                          domains={websites[-1]["domains"]: "domains[0]"},
                                          mobiles={subjects[-1]["principal_mobile"]: "principal.mobile"})
                assert {x["field"] for x in changed.value.errors} == {"domains[0]", "principal.mobile"}
                # the reservations expire (or are lost): the same filing now goes through
                await conn.execute("UPDATE batch_reservations SET expires_at = now() WHERE job_id = $1", job_id)
                async with conn.transaction():
                    await create_first_filings(conn, provider_id=pid, actor="op", import_job_id=None, source="entry",
                                               items=[(clash, ("zbz" + uuid.uuid4().hex[:8], "h"), 0)])
        done = await wait_done(system, h, job_id, limit=120)
    assert done["status"] == "FAILED", done
    assert done["subjects_imported"] == 40 and done["result_available"], done

    async def released():  # the failed job holds nothing any more (importer.job.finished)
        return await reservations(system, job_id) == 0

    await system.eventually(released)
    creds = await result_rows(system, h, job_id)
    assert len(creds) == 40 and "B59" not in {c[0] for c in creds}
    await assert_passwords(system, creds)
    # every account that exists has its password in the result, and only those
    filed = await system.ctx("filing").pool.fetch(
        "SELECT s.name, u.username FROM subjects s JOIN users u ON u.id = s.sponsor_user_id WHERE s.import_job_id = $1",
        job_id)
    assert {(r["name"], r["username"]) for r in filed} == {(c[1], c[2]) for c in creds}
    # the conflict is marked in the annotated copy too
    await wait_annotated(system, h, job_id)
    r = await system.client.get(f"/api/importer/jobs/{job_id}/errors.xlsx", headers=h)
    wb = load_workbook(io.BytesIO(await r.read()))
    assert any("已有正在办理" in str(row[4]) or "已备案" in str(row[4])
               for row in wb["错误列表"].iter_rows(min_row=2, values_only=True))


# ---------------------------------------------------------------- every error in one pass


async def test_row_errors_and_conflicts_with_filings_are_reported_together(system: System):
    """Before: a file with row errors was rejected without the existing-filings check, so the rows that
    conflict with filed subjects/domains surfaced only at the next upload."""
    _, h = await new_provider(system)
    first_s, first_w = subject_row("S1"), website_row("S1")
    assert (await run_import(system, h, filled([first_s], [first_w])))["status"] == "COMPLETED"
    again_domain = website_row("N1", domains=first_w["domains"], home_urls=first_w["home_urls"])
    again_subject = subject_row("N2", cert_number=first_s["cert_number"])
    body = await run_import(system, h, filled(
        [subject_row("N1"), again_subject, subject_row("N3"), subject_row("N4")],
        [again_domain, website_row("N2"), website_row("N3", ip_ranges="300.1.1.1"), website_row("N4")]))
    assert body["status"] == "REJECTED", body
    errors = (await (await system.client.get(f"/api/importer/jobs/{body['job_id']}/errors", headers=h)).json())["items"]
    by_place = {(e["sheet"], e["row"], e["column_name"]): e["message"] for e in errors}
    assert ("网站", 6, "网站IP地址") in by_place  # the row error
    assert "域名" in by_place[("网站", 4, "网站域名")]  # already filed (in progress)
    assert "证件" in by_place[("主体", 5, "主办单位证件号码")]
    assert body["error_count"] == len(errors) == 3, errors
    assert "3 处错误" in body["message"]
    assert await imported(system, body["job_id"]) == {"subjects": 0, "applications": 0, "websites": 0}
    # nothing was reserved for a file rejected for its own errors
    assert await reservations(system, body["job_id"]) == 0


# ---------------------------------------------------------------- Strict Open XML


async def test_a_strict_open_xml_workbook_is_read(system: System):
    """Excel's "Strict Open XML" save option: before, refused as 缺少工作表“主体”“网站”."""
    _, h = await new_provider(system)
    subjects, websites = rows(3, "T")
    body = await run_import(system, h, strict(filled(subjects, websites)))
    assert body["status"] == "COMPLETED", body
    assert body["subjects_imported"] == 3
    # and a Strict file with an error is located like any other
    bad = strict(filled([subject_row("U1")], [website_row("U1", ip_ranges="300.1.1.1")]))
    body = await run_import(system, h, bad)
    assert body["status"] == "REJECTED"
    assert [(e["sheet"], e["row"], e["column_name"]) for e in body["errors"]] == [("网站", 4, "网站IP地址")]


# ---------------------------------------------------------------- personal data at rest, errors.xlsx once


async def test_uploads_and_annotated_copies_are_sealed_built_once_and_purged_early(system: System):
    _, h = await new_provider(system)
    s = subject_row("P1", nature="个人", cert_type="居民身份证", name="王小明", investor_or_superior="王小明")
    ipool = system.ctx("importer").pool
    worker_tasks = next(rs for rs in system.runtime.running if rs.definition.name == "importer")
    # the upload as stored while the job waits: sealed, bound to its job
    for t in worker_tasks.tasks:
        t.cancel()
    await asyncio.gather(*worker_tasks.tasks, return_exceptions=True)
    from shared.runtime import _forever

    try:
        r = await upload(system, h, filled([s], [website_row("P1", ip_ranges="300.1.1.1")]))
        job_id = uuid.UUID((await r.json())["job_id"])
        stored = await ipool.fetchrow("SELECT content, sealed FROM import_files WHERE job_id = $1", job_id)
        assert stored["sealed"] and not bytes(stored["content"]).startswith(b"PK")
        secret = system.ctx("importer").settings.secret_key
        assert crypto.open_bytes(secret, UPLOAD_PURPOSE, bytes(stored["content"]), str(job_id)).startswith(b"PK")
    finally:
        worker_tasks.tasks = [asyncio.create_task(_forever(loop, worker_tasks.ctx, "importer"))
                              for loop in worker_tasks.definition.background]
    body = await wait_done(system, h, str(job_id))
    assert body["status"] == "REJECTED"
    await wait_annotated(system, h, str(job_id))
    # the upload is gone once its annotated copy is built; the copy is sealed
    assert await ipool.fetchval("SELECT count(*) FROM import_files WHERE job_id = $1", job_id) == 0
    copy = bytes(await ipool.fetchval("SELECT content FROM import_annotated WHERE job_id = $1", job_id))
    assert not copy.startswith(b"PK")
    built = crypto.open_bytes(secret, ANNOTATED_PURPOSE, copy, str(job_id))
    # every download serves the stored copy (built once, not per request)
    downloads = [await (await system.client.get(f"/api/importer/jobs/{job_id}/errors.xlsx", headers=h)).read()
                 for _ in range(2)]
    assert downloads[0] == downloads[1] == built
    wb = load_workbook(io.BytesIO(built))
    assert wb.sheetnames[0] == "错误列表" and wb["网站"]["V4"].comment is not None
    assert wb["主体"]["E4"].value == "王小明"
    # kept for rejected_ttl_hours only: then the copy and the values of the error list go
    from services.importer.worker import purge

    ttl = import_settings().rejected_ttl_hours
    assert ttl < 24
    await ipool.execute("UPDATE import_jobs SET finished_at = now() - make_interval(secs => $2) WHERE id = $1",
                        job_id, ttl * 3600 + 60)
    assert await purge(ipool) >= 1
    assert await ipool.fetchval("SELECT count(*) FROM import_annotated WHERE job_id = $1", job_id) == 0
    assert await ipool.fetchval("SELECT count(*) FROM import_errors WHERE job_id = $1 AND value <> ''", job_id) == 0
    r = await system.client.get(f"/api/importer/jobs/{job_id}/errors.xlsx", headers=h)
    assert r.status == 410
