"""The filings export's rows (formatted by PostgreSQL and `export.filing_row`) are the texts of the
page's row views, and the writer's batch path (all-text batches) writes the XML of its per-cell path."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import openpyxl
import pytest

from services.reporting import export, store, views
from services.reporting.queries import FilingQuery
from services.reporting.xlsx_stream import XlsxStream, _cell, _text_rows
from shared.auth import Role, new_principal
from tests.integration.test_reporting_fragments import pool  # noqa: F401  (the fixture: a read model of its own)

ADMIN = new_principal(user_id="t", role=Role.ADMIN, username="t", ttl=600)

# the export's columns as the page's row views show them
VIEW_COLUMNS = [
    lambda r: r["website_no"], lambda r: r["subject_no"], lambda r: r["sponsor_name"], lambda r: r["nature_name"],
    lambda r: r["province_name"], lambda r: r["website_name"], lambda r: "；".join(r["domains"]),
    lambda r: "；".join(r["home_urls"]), lambda r: "、".join(r["service_content_names"]),
    lambda r: "、".join(r["access_method_names"]), lambda r: r["filing_method_name"], lambda r: r["status_name"],
    lambda r: r["approved_at"].date().isoformat() if r["approved_at"] else "",
]


async def test_export_rows_are_the_texts_of_the_row_views(pool):  # noqa: F811
    t0 = dt.datetime(2025, 6, 30, 16, 30, tzinfo=dt.UTC)  # after 16:00 UTC: the next day in China
    rows = []
    for i, (nature, prov, status, content, methods) in enumerate([
        ("ENTERPRISE", "110000", "ACTIVE", ["NEWS", "BLOG"], ["CLOUD", "COLOCATION"]),
        ("PERSONAL", "440000", "NO_ACCESS", [], []),
        ("INSTITUTION", "310000", "CANCELLED", ["BLOG"], ["LEASED_LINE"]),
        ("ENTERPRISE", "650000", "ACTIVE", ["NO_SUCH_CODE"], ["VIRTUAL_HOST"]),
    ]):
        rows.append((uuid.uuid4(), uuid.uuid4(), 1, f"ICP{i}-1", f"ICP{i}", f"网站<{i}>&", "主办 & <单位>", nature, "x",
                     prov, "SELF" if i % 2 else "PROXY", status, "ACTIVE", [f"a{i}.cn", f"b{i}.cn"],
                     [f"http://a{i}.cn/?x=1&y=2"], content, [], [], methods, [], [], [],
                     t0 + dt.timedelta(days=i), None, "c"))
    await pool.copy_records_to_table("websites", records=rows, columns=(
        "website_id", "subject_id", "state_version", "website_no", "subject_no", "name", "sponsor_name", "nature",
        "cert_number", "province", "filing_method", "status", "subject_status", "domains", "home_urls",
        "service_content", "languages", "preapproval_types", "access_methods", "server_locations",
        "principal_names", "provider_ids", "approved_at", "cancelled_at", "cert_code"))
    q = FilingQuery(status="ALL", number=None)
    expected = []
    async for batch in store.stream_filings(pool, ADMIN, q):
        expected += [[fn(views.filing_item(r)) for fn in VIEW_COLUMNS] for r in batch]
    got = []
    async for batch in export.filing_rows(pool, ADMIN, q):
        got += batch
    assert len(got) == len(expected) > 50
    assert got == expected
    assert any(r[8] == "新闻、博客" or "、" in r[8] for r in got) and any(r[12] == "2025-06-30" for r in got)


@pytest.mark.parametrize("batch", [
    [["a", "b"], ["星辰 & <网>", " lead and trail "]],
    [["tab\tnew\nline", "ctl\x07\x1f\x02x"], ["", "'\"quotes\""]],
    [["sep\x00inside", "b"]],  # a separator in a cell: the per-cell path
    [["row\x01sep"], ["x"]],
    [["a", None], ["b", 3]],  # not all text: the per-cell path
    [["one"]],
])
def test_the_batch_path_writes_the_per_cell_xml_and_openpyxl_reads_it(batch):
    per_cell = "".join(f"<row>{''.join(map(_cell, row))}</row>" for row in batch)
    fast = _text_rows(batch)
    assert fast is None or fast == per_cell.encode()
    if all(isinstance(v, str) and "\x00" not in v and "\x01" not in v for row in batch for v in row):
        assert fast is not None  # all text: the batch path
    x = XlsxStream("s")
    data = x.start(["h1", "h2"]) + x.rows(batch) + x.finish()
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    read = [list(r) for r in ws.iter_rows(values_only=True)][1:]
    clean = [[v.translate({c: None for c in range(32) if c not in (9, 10, 13)}) if isinstance(v, str) else v
              for v in row] for row in batch]
    assert [[v or None for v in got[:len(row)]] for got, row in zip(read, clean, strict=True)] == \
        [[v if v not in ("", None) else None for v in row] for row in clean]
