"""Batch import (批量导入, DESIGN §4.3) through the real services: upload → validation → dry run in
filing → chunks imported → credentials workbook; the broken-file corpus; errors; resumption."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import uuid

import pytest
from aiohttp import FormData
from openpyxl import Workbook, load_workbook

from services.importer import columns as C
from services.importer.settings import import_settings
from services.importer.template import build_template
from shared import crypto
from shared.auth import verify_password
from shared.config import get_settings
from shared.contracts.filing import BatchImport, unpack_items
from tests.conftest import System
from tests.integration.importer_workbooks import (
    convert,
    edit_template,
    filled,
    mobile,
    office_zip,
    resident_id,
    subject_row,
    website_row,
    zip_bomb,
)
from tests.password_checks import assert_generated_hashes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CJK = re.compile(r"[\u4e00-\u9fff]")


async def new_provider(system: System) -> tuple[str, dict[str, str]]:
    pid = "imp" + uuid.uuid4().hex[:10]
    r = await system.client.post(
        "/api/filing/providers", json={"name": f"导入测试接入商{pid}", "province": "GD", "provider_id": pid},
        headers=system.auth("admin"),
    )
    assert r.status == 201, await r.text()
    return pid, system.auth("provider", user_id="op-" + pid, provider_id=pid)


async def upload(system: System, headers, data: bytes, filename: str = "导入.xlsx"):
    form = FormData()
    form.add_field("file", data, filename=filename, content_type=XLSX)
    return await system.client.post("/api/importer/jobs", data=form, headers=headers)


async def wait_done(system: System, headers, job_id: str, limit: float = 90) -> dict:
    async def done():
        r = await system.client.get(f"/api/importer/jobs/{job_id}", headers=headers)
        body = await r.json()
        return body if body["status"] in ("COMPLETED", "REJECTED", "FAILED") else None

    return await system.eventually(done, limit=limit, interval=0.2)


async def wait_annotated(system: System, headers, job_id: str) -> dict:
    """The rejected job's annotated copy (errors.xlsx) is built (once, by a worker, after the rejection)."""
    async def ready():
        body = await (await system.client.get(f"/api/importer/jobs/{job_id}", headers=headers)).json()
        if body["status"] == "REJECTED" and not body["errors_file_available"]:
            # clients (the console) keep polling on this flag until the copy is there
            assert body["errors_file_pending"] is True, body
        return body if body["errors_file_available"] else None

    body = await system.eventually(ready, limit=60, interval=0.2)
    assert body["errors_file_pending"] is False
    return body


async def run_import(system: System, headers, data: bytes) -> dict:
    r = await upload(system, headers, data)
    assert r.status == 202, await r.text()
    job = await r.json()
    assert job["status"] == "QUEUED" and job["job_id"]
    return await wait_done(system, headers, job["job_id"])


async def imported(system: System, job_id: str) -> dict[str, int]:
    pool = system.ctx("filing").pool
    return {
        "subjects": await pool.fetchval("SELECT count(*) FROM subjects WHERE import_job_id = $1", job_id),
        "applications": await pool.fetchval("SELECT count(*) FROM applications WHERE import_job_id = $1", job_id),
        "websites": await pool.fetchval(
            "SELECT count(*) FROM websites w JOIN subjects s ON s.id = w.subject_id WHERE s.import_job_id = $1", job_id
        ),
    }


# ---------------------------------------------------------------- template


async def test_template_structure(system: System):
    _, h = await new_provider(system)
    r = await system.client.get("/api/importer/template", headers=h)
    assert r.status == 200 and r.content_type == XLSX
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(await r.read()))
    assert wb.sheetnames == [C.HELP_SHEET, C.CODE_SHEET, C.SUBJECT_SHEET, C.WEBSITE_SHEET, C.META_SHEET]
    assert wb[C.CODE_SHEET].sheet_state == "hidden" and wb[C.META_SHEET].sheet_state == "hidden"
    # the version: a defined name pointing at the hidden meta sheet
    dn = wb.defined_names[C.VERSION_NAME]
    assert C.META_SHEET in dn.attr_text and wb[C.META_SHEET]["B1"].value == C.TEMPLATE_VERSION
    for sheet, columns in C.SHEETS.items():
        ws = wb[sheet]
        assert ws.row_dimensions[C.MACHINE_ROW].hidden
        assert [c.value for c in ws[C.MACHINE_ROW]] == [c.key for c in columns]
        assert [str(c.value).rstrip("*") for c in ws[C.HEADER_ROW]] == [c.label for c in columns]
        assert ws.freeze_panes == "B3"
        assert all(ws.cell(row=C.HEADER_ROW, column=i + 1).comment for i in range(len(columns)))
        assert ws.cell(row=C.FIRST_DATA_ROW, column=1).value.startswith(C.EXAMPLE_PREFIX)
        for i, col in enumerate(columns, start=1):
            letter = ws.cell(row=1, column=i).column_letter
            if col.kind in ("id", "phone"):
                assert ws.cell(row=C.FIRST_DATA_ROW + 1, column=i).number_format == "@", col.key
            assert ws.column_dimensions[letter].width == col.width
        # dropdowns from the hidden code sheet for every code column
        validated = {str(rng).split(":")[0].rstrip("0123456789") for dv in ws.data_validations.dataValidation
                     for rng in dv.sqref.ranges}
        for i, col in enumerate(columns, start=1):
            if col.kind in ("code", "codes", "bool", "province"):
                assert ws.cell(row=1, column=i).column_letter in validated, col.key
        for dv in ws.data_validations.dataValidation:
            assert dv.type == "list" and (C.CODE_SHEET in dv.formula1 or dv.formula1)
    nature_dv = next(
        dv for dv in wb[C.SUBJECT_SHEET].data_validations.dataValidation
        if any(str(r).startswith("B") for r in dv.sqref.ranges)
    )
    ref = nature_dv.formula1.split("!")[1].replace("$", "")
    values = [c.value for row in wb[C.CODE_SHEET][ref] for c in row]
    assert "企业" in values and "个人" in values
    help_text = " ".join(str(c.value) for row in wb[C.HELP_SHEET].iter_rows() for c in row if c.value)
    for columns in C.SHEETS.values():
        for col in columns:
            assert col.label in help_text and col.key in help_text
    assert "分号" in help_text and "文本格式" in help_text


async def test_template_is_for_providers_only(system: System):
    assert (await system.client.get("/api/importer/template")).status == 401
    assert (await system.client.get("/api/importer/template", headers=system.auth("admin"))).status == 403


# ---------------------------------------------------------------- broken files


def _reordered(wb):
    ws = wb[C.SUBJECT_SHEET]
    a, b = ws["D2"].value, ws["E2"].value
    ws["D2"], ws["E2"] = b, a


def _outdated(wb):
    wb[C.META_SHEET]["B1"] = C.TEMPLATE_VERSION - 1


def _no_version(wb):
    del wb.defined_names[C.VERSION_NAME]
    del wb[C.META_SHEET]


def _plain_workbook() -> bytes:
    wb = Workbook()
    wb.active.append(["主体编号", "主办单位名称"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _valid() -> bytes:
    return filled([subject_row("S1")], [website_row("S1")])


def _corrupt() -> bytes:
    data = bytearray(_valid())
    middle = len(data) // 2
    data[middle:middle + 64] = os.urandom(64)
    return bytes(data)


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504

BROKEN = {
    "empty": (lambda: b"", 400, "文件为空"),
    "csv_renamed": (lambda: "主体编号,主办单位名称\nS1,测试公司\n".encode(), 415, "CSV"),
    "xls_renamed": (lambda: OLE + b"\0" * 4096, 415, ".xls"),
    "encrypted": (lambda: OLE + "EncryptionInfo".encode("utf-16-le") + b"\0" * 4096, 422, "加密"),
    "random_bytes": (lambda: os.urandom(4096), 415, "不是 Excel"),
    "truncated_zip": (lambda: _valid()[: len(_valid()) // 2], 422, "损坏"),
    "corrupt_zip": (_corrupt, 422, "损坏"),
    "zip_bomb": (lambda: zip_bomb(64 << 20), 413, "压缩炸弹"),
    "word_document": (lambda: office_zip("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
                      415, "Word"),
    "missing_sheets": (_plain_workbook, 422, "缺少工作表"),
    "outdated_template": (lambda: edit_template(_outdated), 422, "版本过旧"),
    "no_template_version": (lambda: edit_template(_no_version), 422, "模板版本"),
    "reordered_columns": (lambda: edit_template(_reordered), 422, "标题行"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_broken_file_is_refused_clearly_and_imports_nothing(system: System, case: str):
    make, status, phrase = BROKEN[case]
    _, h = await new_provider(system)
    r = await upload(system, h, make(), filename="批量导入.xlsx")
    body = await r.json()
    assert r.status == status, (case, body)
    assert phrase in body["detail"] and CJK.search(body["detail"]), body
    listed = await (await system.client.get("/api/importer/jobs", headers=h)).json()
    assert listed["total"] == 0


async def test_ods_and_oversize_and_huge_sheet_are_refused(system: System):
    _, h = await new_provider(system)
    ods = await asyncio.to_thread(convert, _valid(), "xlsx", "ods")
    r = await upload(system, h, ods, filename="导入.xlsx")
    assert r.status == 415 and ".ods" in (await r.json())["detail"]

    s = import_settings()
    old = s.max_bytes, s.max_website_rows
    try:
        s.max_bytes = 2000
        r = await upload(system, h, _valid())
        assert r.status == 413 and "文件过大" in (await r.json())["detail"]
        s.max_bytes, s.max_website_rows = old[0], 5
        big = filled([subject_row("S1")], [website_row("S1") for _ in range(10)])
        r = await upload(system, h, big)
        assert r.status == 413 and "超过 5 行" in (await r.json())["detail"]
    finally:
        s.max_bytes, s.max_website_rows = old
    assert (await (await system.client.get("/api/importer/jobs", headers=h)).json())["total"] == 0


async def test_upload_needs_a_file_field(system: System):
    _, h = await new_provider(system)
    form = FormData()
    form.add_field("other", b"x", filename="a.xlsx")
    r = await system.client.post("/api/importer/jobs", data=form, headers=h)
    assert r.status == 400 and "file" in (await r.json())["detail"]
    r = await system.client.post("/api/importer/jobs", json={"x": 1}, headers=h)
    assert r.status == 415


# ---------------------------------------------------------------- any error rejects the whole file


async def test_any_error_rejects_the_whole_file_with_every_error_located(system: System):
    pid, h = await new_provider(system)
    dup_domain = f"dup{uuid.uuid4().hex[:8]}.com"
    subjects = [
        subject_row("S1"),
        subject_row("S2", principal_id_number=110105194912310021),  # typed as a number: lost digits
        subject_row("S3"),  # no website
        subject_row("S1"),  # duplicate key
        subject_row("S4", nature="外星机构"),  # not a code label
        subject_row("S5"),
    ]
    websites = [
        website_row("S1", domains=dup_domain, home_urls="www." + dup_domain),
        website_row("S2", domains=dup_domain, home_urls="www." + dup_domain, principal_same_as_subject="否"),
        website_row("S9"),  # unknown subject key
        website_row("S4"),
        website_row("S5", ip_ranges="300.1.1.1"),
    ]
    body = await run_import(system, h, filled(subjects, websites))
    assert body["status"] == "REJECTED", body
    assert "未导入" in body["message"]
    job_id = body["job_id"]
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}

    r = await system.client.get(f"/api/importer/jobs/{job_id}/errors?page_size=500", headers=h)
    errors = (await r.json())["items"]
    assert body["error_count"] == len(errors) >= 6

    def find(sheet, row, column_name):
        hits = [e for e in errors if e["sheet"] == sheet and e["row"] == row and e["column_name"] == column_name]
        assert hits, (sheet, row, column_name, errors)
        return hits[0]

    # data starts at row 4 (row 3 is the template's example)
    e = find("主体", 5, "负责人证件号码")
    assert "丢失" in e["message"] and e["value"] == "110105194912310000"  # what Excel keeps
    assert "没有网站" in find("主体", 6, "主体编号")["message"]
    assert "重复" in find("主体", 7, "主体编号")["message"]
    assert "外星机构" in find("主体", 8, "主办单位性质")["message"]
    assert "主体表中没有" in find("网站", 6, "主体编号")["message"]
    assert find("网站", 8, "网站IP地址")["value"] == "300.1.1.1"
    assert find("网站", 5, "网站负责人姓名")["message"]  # 否 without the website principal
    # every error names a column and a Chinese reason; columns are 1-based positions
    assert all(CJK.search(e["message"]) for e in errors)
    assert find("主体", 5, "负责人证件号码")["column"] == 15

    page = await (await system.client.get(f"/api/importer/jobs/{job_id}/errors?page=2&page_size=2", headers=h)).json()
    assert page["total"] == len(errors) and len(page["items"]) == 2 and page["items"][0] == errors[2]

    await wait_annotated(system, h, job_id)
    r = await system.client.get(f"/api/importer/jobs/{job_id}/errors.xlsx", headers=h)
    assert r.status == 200
    wb = load_workbook(io.BytesIO(await r.read()))
    cell = wb["主体"]["O5"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") and "丢失" in cell.comment.text
    assert wb.sheetnames[0] == "错误列表" and wb["错误列表"].max_row == len(errors) + 1
    assert (await system.client.get(f"/api/importer/jobs/{job_id}/result", headers=h)).status == 409


async def test_a_sheet_read_apart_gives_what_reading_in_turn_gives(system: System, monkeypatch):
    """The subjects sheet read by a process of its own (`read_process`, the default) while the worker reads the
    websites sheet: the same errors in the same order as the two sheets read one after the other, for a file
    with errors of every reading kind on both sheets (empty, repeated and unknown keys, lost digits)."""
    from services.importer import reading as R

    started = []
    real_start = R.SheetReader.start

    async def spy(*args, **kw):
        started.append(args[1])
        return await real_start(*args, **kw)

    monkeypatch.setattr(R.SheetReader, "start", spy)
    _, h = await new_provider(system)
    subjects = [subject_row("S1"), subject_row("S2", principal_id_number=110105194912310021), subject_row("S1"),
                subject_row("S3")]
    websites = [website_row("S1"), website_row("S9"), website_row(""), website_row("S2"),
                website_row("S3", principal_same_as_subject="否", principal_id_number=110105194912310021),
                website_row("S3")]
    data = filled(subjects, websites)
    s = import_settings()
    got = {}
    try:
        for apart in (True, False):
            s.read_process = apart
            body = await run_import(system, h, data)
            assert body["status"] == "REJECTED", body
            r = await system.client.get(f"/api/importer/jobs/{body['job_id']}/errors?page_size=500", headers=h)
            got[apart] = [(e["sheet"], e["row"], e["column_name"], e["value"], e["message"])
                          for e in (await r.json())["items"]]
    finally:
        s.read_process = True
    assert started == [C.SUBJECT_SHEET]  # read apart once, in turn once
    assert got[True] == got[False]
    cells = {(sheet, row, column) for sheet, row, column, _v, _m in got[True]}
    assert {("网站", 5, "主体编号"), ("网站", 8, "网站负责人证件号码"), ("主体", 6, "主体编号")} <= cells
    assert any(sheet == "网站" and row == 6 for sheet, row, *_ in got[True])  # the empty key


async def test_same_domain_in_two_subjects_and_shared_mobile_are_file_errors(system: System):
    _, h = await new_provider(system)
    shared_mobile = mobile()
    s1, s2 = subject_row("A"), subject_row("B", principal_mobile=shared_mobile)
    s1["principal_mobile"] = shared_mobile
    w1, w2 = website_row("A"), website_row("B")
    w2["domains"], w2["home_urls"] = w1["domains"], w1["home_urls"]
    body = await run_import(system, h, filled([s1, s2], [w1, w2]))
    assert body["status"] == "REJECTED"
    messages = [e["message"] for e in body["errors"]]
    assert any("域名" in m and "重复" in m for m in messages), messages
    assert any("手机号码" in m for m in messages), messages


# ---------------------------------------------------------------- a valid file


async def test_valid_file_is_imported_with_credentials_for_the_uploader_only(system: System):
    pid, h = await new_provider(system)
    personal = subject_row(
        "P1", nature="个人", cert_type="居民身份证", name="王小明", investor_or_superior="王小明",
        cert_number=resident_id("19850505"),
    )
    subjects = [subject_row("S1"), subject_row("S2"), personal]
    websites = [
        website_row("S1"),
        website_row("S2", principal_same_as_subject="否", principal_name="李四", principal_id_type="居民身份证",
                    principal_id_number=resident_id("19900101"), principal_id_valid_from="2021-01-01",
                    principal_id_valid_to="2045-01-01", principal_mobile=mobile(), principal_emergency_phone=mobile(),
                    principal_email="ls@example.com"),
        website_row("S1", service_content="单位门户网站;网络广告/信息", languages="中文简体、英语"),
        website_row("P1", name="王小明的博客", service_content="博客/个人空间"),
    ]
    body = await run_import(system, h, filled(subjects, websites))
    assert body["status"] == "COMPLETED", body
    assert (body["subjects_imported"], body["rows_imported"], body["rows_total"]) == (3, 4, 4)
    assert body["rows_validated"] == 4 and body["result_available"]
    job_id = body["job_id"]
    assert await imported(system, job_id) == {"subjects": 3, "applications": 3, "websites": 4}
    pool = system.ctx("filing").pool
    apps = await pool.fetch("SELECT id::text, status, source FROM applications WHERE import_job_id = $1", job_id)
    assert {(a["status"], a["source"]) for a in apps} == {("PENDING_VERIFICATION", "import")}

    # each application enters verification like an entered one
    vpool = system.ctx("verification").pool

    async def cases():
        n = await vpool.fetchval("SELECT count(*) FROM cases WHERE application_id = ANY($1)", [a["id"] for a in apps])
        return n == 3

    await system.eventually(cases)

    r = await system.client.get(f"/api/importer/jobs/{job_id}/result", headers=h)
    assert r.status == 200 and r.content_type == XLSX
    wb = load_workbook(io.BytesIO(await r.read()))
    rows = list(wb["主办者账号"].iter_rows(values_only=True))
    assert rows[0][:4] == ("主体编号", "主办单位名称", "主办者用户名", "初始密码")
    creds = {row[0]: row for row in rows[1:]}
    assert set(creds) == {"S1", "S2", "P1"} and creds["P1"][1] == "王小明"
    hashes = []
    for _key, _name, username, password, _ in creds.values():
        user = await pool.fetchrow("SELECT password_hash, role, provider_id FROM users WHERE username = $1", username)
        assert user["role"] == "sponsor" and user["provider_id"] == pid
        assert verify_password(user["password_hash"], password)
        hashes.append(user["password_hash"])
        # the plaintext password is nowhere else: not in the outboxes, not in importer's tables
        for service in ("importer", "filing"):
            hits = await system.ctx(service).pool.fetchval(
                "SELECT count(*) FROM outbox WHERE position($1 in convert_from(body, 'UTF8')) > 0", password
            )
            assert hits == 0
    assert_generated_hashes(hashes)  # a salt each, the configured iterations
    # full ID numbers do not travel in plaintext either
    idn = personal["cert_number"]
    assert await system.ctx("importer").pool.fetchval(
        "SELECT count(*) FROM outbox WHERE position($1 in convert_from(body, 'UTF8')) > 0", idn) == 0

    # tenant isolation
    _, other = await new_provider(system)
    assert (await system.client.get(f"/api/importer/jobs/{job_id}/result", headers=other)).status == 404
    assert (await system.client.get(f"/api/importer/jobs/{job_id}", headers=other)).status == 404
    assert (await system.client.get(f"/api/importer/jobs/{job_id}/errors", headers=other)).status == 404
    assert (await (await system.client.get("/api/importer/jobs", headers=other)).json())["total"] == 0
    assert (await system.client.get("/api/importer/jobs/not-a-uuid", headers=h)).status == 404
    listed = await (await system.client.get("/api/importer/jobs?page=1&page_size=10", headers=h)).json()
    assert listed["total"] == 1 and listed["items"][0]["job_id"] == job_id

    # expiry: gone for good, and the purge deletes it
    ipool = system.ctx("importer").pool
    await ipool.execute("UPDATE import_jobs SET result_expires_at = now() - interval '1 second' WHERE id = $1",
                        uuid.UUID(job_id))
    r = await system.client.get(f"/api/importer/jobs/{job_id}/result", headers=h)
    assert r.status == 410 and "过期" in (await r.json())["detail"]
    from services.importer.worker import purge

    assert await purge(ipool) >= 1
    assert await ipool.fetchval("SELECT count(*) FROM import_chunks WHERE job_id = $1 AND credentials IS NOT NULL",
                                uuid.UUID(job_id)) == 0
    assert await ipool.fetchval("SELECT count(*) FROM import_files WHERE job_id = $1", uuid.UUID(job_id)) == 0


async def test_already_filed_domain_or_subject_rejects_the_file_in_the_dry_run(system: System):
    _, h = await new_provider(system)
    first_s, first_w = subject_row("S1"), website_row("S1")
    assert (await run_import(system, h, filled([first_s], [first_w])))["status"] == "COMPLETED"
    again_domain = website_row("N1", domains=first_w["domains"], home_urls=first_w["home_urls"])
    again_subject = subject_row("N2", cert_number=first_s["cert_number"])
    body = await run_import(system, h, filled([subject_row("N1"), again_subject, subject_row("N3")],
                                              [again_domain, website_row("N2"), website_row("N3")]))
    assert body["status"] == "REJECTED", body
    job_id = body["job_id"]
    errors = (await (await system.client.get(f"/api/importer/jobs/{job_id}/errors", headers=h)).json())["items"]
    by_place = {(e["sheet"], e["row"], e["column_name"]): e for e in errors}
    assert "已有正在办理" in by_place[("网站", 4, "网站域名")]["message"] or "已备案" in by_place[("网站", 4, "网站域名")]["message"]
    assert by_place[("网站", 4, "网站域名")]["value"] == first_w["domains"]
    assert ("主体", 5, "主办单位证件号码") in by_place
    assert await imported(system, job_id) == {"subjects": 0, "applications": 0, "websites": 0}
    # the dry run's commands carried each item's rule keys and username only (`BatchCheck.keys_only`),
    # sealed under a context of their own: not the items, which only the import needs
    checks = [json.loads(r) if isinstance(r, str) else r for r in await system.ctx("importer").pool.fetchval(
        """SELECT array_agg(convert_from(body, 'UTF8')::jsonb->'payload') FROM outbox
           WHERE routing_key = 'filing.batch.check' AND convert_from(body, 'UTF8')::jsonb->'payload'->>'job_id' = $1""",
        job_id) or []]
    assert checks and all(c["keys_only"] for c in checks)
    secret = get_settings().secret_key
    for c in checks:
        packed = crypto.open_sealed(secret, "batch-import", c["items_sealed"], f"{job_id}:{c['chunk_no']}:check")
        assert packed[:1] == b"x"  # compressed before it was sealed (pack_items)
        items = json.loads(unpack_items(packed))
        assert len(items) == c["item_count"] and all(set(it) == {"k", "sponsor", "c"} for it in items), items
        with pytest.raises(crypto.SealError):  # never opens as a chunk's items
            crypto.open_sealed(secret, "batch-import", c["items_sealed"], f"{job_id}:{c['chunk_no']}")


# ---------------------------------------------------------------- idempotency and resumption


async def test_a_chunk_delivered_again_creates_nothing_twice(system: System):
    from shared.filing_data import FilingData

    pid, _ = await new_provider(system)
    job_id = str(uuid.uuid4())
    s, w = subject_row("S1"), website_row("S1")
    cells_s = [str(s.get(c.key, "")) for c in C.SUBJECT_COLUMNS]
    cells_w = [str(w.get(c.key, "")) for c in C.WEBSITE_COLUMNS]
    errors: list = []
    data = FilingData.model_validate({"subject": C.subject_input(cells_s, errors),
                                      "websites": [C.website_input(cells_w, errors)]})
    items = [{"data": data.model_dump(mode="json"), "sponsor": ["zbz" + uuid.uuid4().hex[:8], "$pbkdf2-sha256$1$x$y"]}]
    sealed = crypto.seal(get_settings().secret_key, "batch-import", json.dumps(items).encode(), f"{job_id}:1")
    cmd = BatchImport(job_id=job_id, chunk_no=1, provider_id=pid, actor="tester", items_sealed=sealed, item_count=1)
    importer = system.ctx("importer")
    for _ in range(3):  # three deliveries of the same chunk, each a new message
        async with importer.pool.acquire() as conn, conn.transaction():
            await importer.outbox.add(conn, cmd, provider_id=pid)
    fpool = system.ctx("filing").pool

    async def replies():
        n = await fpool.fetchval(
            "SELECT count(*) FROM outbox WHERE routing_key = 'filing.batch.chunk_imported' "
            "AND convert_from(body, 'UTF8')::jsonb->'payload'->>'job_id' = $1", job_id)
        return n == 3

    await system.eventually(replies)
    assert await imported(system, job_id) == {"subjects": 1, "applications": 1, "websites": 1}
    bodies = await fpool.fetch(
        "SELECT convert_from(body, 'UTF8')::jsonb->'payload' AS p FROM outbox "
        "WHERE routing_key = 'filing.batch.chunk_imported' AND convert_from(body, 'UTF8')::jsonb->'payload'->>'job_id' = $1",
        job_id)
    payloads = [json.loads(b["p"]) if isinstance(b["p"], str) else b["p"] for b in bodies]
    assert all(p == payloads[0] for p in payloads) and payloads[0]["subjects_created"] == 1
    # a chunk that was tampered with never opens
    assert crypto.open_sealed(get_settings().secret_key, "batch-import", sealed, f"{job_id}:1")


async def _importer_loops(system: System):
    return next(rs for rs in system.runtime.running if rs.definition.name == "importer")


async def test_a_worker_killed_mid_import_is_resumed_and_the_job_completes_exactly(system: System):
    from shared.runtime import _forever

    rs = await _importer_loops(system)
    s = import_settings()
    old = (s.lease_seconds, s.chunk_websites, s.window)
    for t in rs.tasks:  # the worker dies: its job loops stop
        t.cancel()
    await asyncio.gather(*rs.tasks, return_exceptions=True)
    try:
        s.lease_seconds, s.chunk_websites, s.window = 3.0, 2, 1
        _, h = await new_provider(system)
        subjects = [subject_row(f"S{i}") for i in range(7)]
        websites = [website_row(f"S{i}") for i in range(7)] + [website_row("S0"), website_row("S3")]
        r = await upload(system, h, filled(subjects, websites))
        job_id = uuid.UUID((await r.json())["job_id"])
        ipool = system.ctx("importer").pool
        # what the dead worker left: a live-looking lease, half-read progress, stale staging rows
        await ipool.execute(
            """UPDATE import_jobs SET status = 'VALIDATING', lease_owner = 'dead-worker', attempts = 1,
                   lease_until = now() + interval '2 seconds', rows_read = 5 WHERE id = $1""", job_id)
        await ipool.execute(
            "INSERT INTO import_rows (job_id, sheet, key, row_no, cells) VALUES ($1, 1, 'S0', 4, $2)",
            job_id, json.dumps([""] * len(C.SUBJECT_COLUMNS)))  # the cells as staged: one JSON array
        rs.tasks = [asyncio.create_task(_forever(loop, rs.ctx, "importer")) for loop in rs.definition.background]
        body = await wait_done(system, h, str(job_id))
        assert body["status"] == "COMPLETED", body
        assert (body["subjects_imported"], body["rows_imported"], body["chunks_total"]) == (7, 9, 5)
        assert await imported(system, str(job_id)) == {"subjects": 7, "applications": 7, "websites": 9}
        assert await ipool.fetchval("SELECT attempts FROM import_jobs WHERE id = $1", job_id) == 2

        # the message-driven phase: a chunk whose command was lost is sent again after the stall time
        s.stall_seconds = 0.5
        subjects = [subject_row(f"T{i}") for i in range(3)]
        websites = [website_row(f"T{i}") for i in range(3)]
        for t in rs.tasks:
            t.cancel()
        await asyncio.gather(*rs.tasks, return_exceptions=True)
        r = await upload(system, h, filled(subjects, websites))
        job2 = uuid.UUID((await r.json())["job_id"])
        rs.tasks = [asyncio.create_task(_forever(loop, rs.ctx, "importer")) for loop in rs.definition.background]
        body = await wait_done(system, h, str(job2))
        assert body["status"] == "COMPLETED" and body["subjects_imported"] == 3
        assert await imported(system, str(job2)) == {"subjects": 3, "applications": 3, "websites": 3}
    finally:
        s.lease_seconds, s.chunk_websites, s.window = old
        s.stall_seconds = 600.0


async def test_progress_is_visible_while_the_job_runs(system: System):
    _, h = await new_provider(system)
    subjects = [subject_row(f"S{i}") for i in range(30)]
    websites = [website_row(f"S{i}") for i in range(30)]
    r = await upload(system, h, filled(subjects, websites))
    job_id = (await r.json())["job_id"]
    seen = set()
    while True:
        b = await (await system.client.get(f"/api/importer/jobs/{job_id}", headers=h)).json()
        seen.add(b["status"])
        assert 0 <= b["rows_imported"] <= 30 and 0 <= b["rows_validated"] <= 30
        if b["status"] in ("COMPLETED", "REJECTED", "FAILED"):
            break
        await asyncio.sleep(0.05)
    assert b["status"] == "COMPLETED" and b["rows_imported"] == b["rows_total"] == 30, [(e["row"], e["value"], e["message"]) for e in b["errors"][:3]]
    assert len(seen) >= 2


# ---------------------------------------------------------------- a real spreadsheet program


async def test_workbook_saved_by_libreoffice_with_typed_cells_is_normalised(system: System):
    import datetime as dt

    _, h = await new_provider(system)
    s1 = subject_row("Ｓ１")  # full-width key: the same as S1 after normalisation
    s1["name"] = "　" + s1["name"] + "　"  # full-width spaces around
    s1["principal_mobile"] = int(s1["principal_mobile"])  # typed as numbers
    s1["principal_emergency_phone"] = float(s1["principal_emergency_phone"])
    s1["principal_id_valid_from"] = dt.date(2019, 5, 1)  # a real date cell
    s1["city"] = 440300
    s2 = subject_row("S2", principal_id_valid_from=dt.datetime(2018, 1, 2))
    s2["cert_number"] = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in s2["cert_number"])  # full-width
    w1 = website_row("S1")
    w1["domains"] = "  " + w1["domains"].upper() + " "
    w2 = website_row("S2", name='="测试"&"科技官网"')  # a formula: its value, cached by LibreOffice, is read
    wb = load_workbook(io.BytesIO(filled([s1, s2], [w1, w2])))
    ws = wb[C.WEBSITE_SHEET]
    ws.insert_rows(5, 2)  # blank rows between websites
    buf = io.BytesIO()
    wb.save(buf)
    ods = await asyncio.to_thread(convert, buf.getvalue(), "xlsx", "ods")
    saved = await asyncio.to_thread(convert, ods, "ods", "xlsx")  # written by LibreOffice Calc
    body = await run_import(system, h, saved)
    assert body["status"] == "COMPLETED", body
    assert body["subjects_imported"] == 2 and body["rows_imported"] == 2
    names = await system.ctx("filing").pool.fetch(
        "SELECT w.name, s.name AS subject FROM websites w JOIN subjects s ON s.id = w.subject_id "
        "WHERE s.import_job_id = $1", body["job_id"])
    assert {r["name"] for r in names} == {"测试科技官网"}
    assert s1["name"].strip("　") in {r["subject"] for r in names}  # full-width spaces trimmed

    # an 18-digit ID typed as a number in LibreOffice loses its last digits: an error naming the cell
    bad = subject_row("S1", principal_id_number=110105194912310021)
    saved = await asyncio.to_thread(convert, filled([bad], [website_row("S1")]), "xlsx", "ods")
    saved = await asyncio.to_thread(convert, saved, "ods", "xlsx")
    body = await run_import(system, h, saved)
    assert body["status"] == "REJECTED"
    err = body["errors"][0]
    assert (err["sheet"], err["row"], err["column_name"]) == ("主体", 4, "负责人证件号码")
    assert "丢失" in err["message"] and "E+17" in err["message"]


def test_template_builds_without_the_service():
    assert build_template()[:2] == b"PK"
