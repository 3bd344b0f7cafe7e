"""Importer pieces without services: cell normalisation, column mapping, sealing, file checks."""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pytest
from openpyxl import Workbook
from python_calamine_plus import CalamineWorkbook

from services.importer import columns as C
from services.importer.reader import TooManyRows, cell_text, read_sheet
from services.importer.settings import ImportSettings
from services.importer.upload import FileRejected, check_file
from shared import crypto
from shared.contracts.filing import pack_items, unpack_items


@pytest.mark.parametrize(
    "value, kind, text, error",
    [
        ("  ａｂｃ１２３　", "text", "abc123", None),
        ("  深圳某某（集团）有限公司，ＡＢ１　", "free", "深圳某某（集团）有限公司，ＡＢ１", None),  # free text as typed
        ("深圳某某（集团）有限公司", "text", "深圳某某(集团)有限公司", None),
        (13800138000.0, "phone", "13800138000", None),
        (13800138000, "phone", "13800138000", None),
        (1.10105194912310e17, "id", "110105194912310000", "丢失"),
        (110105194912310021, "id", "110105194912310021", "丢失"),
        (123456789, "id", "123456789", None),
        (1.5, "id", "1.5", "小数"),
        (43831, "date", "2020-01-01", None),
        (43831.75, "date", "2020-01-01", None),
        (20200101, "date", "20200101", None),
        (dt.date(2020, 1, 2), "date", "2020-01-02", None),
        (dt.datetime(2020, 1, 2, 3, 4), "valid_to", "2020-01-02", None),
        (True, "bool", "是", None),
        ("#N/A", "text", "#N/A", "错误值"),
        ("", "text", "", None),
        (440300, "region", "440300", None),
    ],
)
def test_cell_text(value, kind, text, error):
    got, err = cell_text(value, kind)
    assert got == text
    assert (err is None) if error is None else (error in err)


def test_locate_maps_filing_data_paths_to_columns():
    assert C.locate("subject.principal.mobile") == (C.SUBJECT_SHEET, None, "principal_mobile")
    assert C.locate("subject.cert_number") == (C.SUBJECT_SHEET, None, "cert_number")
    assert C.locate("websites[2].domains[0]") == (C.WEBSITE_SHEET, 2, "domains")
    assert C.locate("websites[0].access.ip_ranges[1].start_ip") == (C.WEBSITE_SHEET, 0, "ip_ranges")
    assert C.locate("websites[1].preapprovals[0].approval_no") == (C.WEBSITE_SHEET, 1, "preapproval_nos")
    assert C.locate("websites[1].principal") == (C.WEBSITE_SHEET, 1, "principal_name")
    assert C.locate("websites") == (C.SUBJECT_SHEET, None, "subject_key")
    assert C.locate("subject") == (C.SUBJECT_SHEET, None, "subject_key")


def test_labels_map_back_to_codes():
    assert C.to_code("unit_natures", "企业") == "ENTERPRISE"
    assert C.to_code("unit_natures", "ENTERPRISE") == "ENTERPRISE"
    assert C.to_code("certificate_types", "组织机构代码证", nature="GOVERNMENT") == "ORG_CODE_GOVERNMENT"
    assert C.to_code("certificate_types", "营业执照(个人或企业)") == "BIZ_LICENSE"  # half-width brackets too
    assert C.to_code("certificate_types", "居民身份证") == "RESIDENT_ID"
    assert C.to_code("provinces", "广东省") == "GD"
    assert C.province_gb("广东") == "440000" and C.province_gb("440000") == "440000"
    assert C.split_multi("A；B、C,D\nE") == ["A", "B", "C", "D", "E"]
    assert C.to_code("languages", "火星语") is None


def test_website_row_to_input_keeps_preapproval_numbers_aligned():
    cells = [""] * len(C.WEBSITE_COLUMNS)
    i = C.WEBSITE_IDX
    cells[i["preapproval_types"]] = "新闻;以上都不涉及;教育"
    cells[i["preapproval_nos"]] = "粤-1;粤-2"
    cells[i["principal_same_as_subject"]] = "是"
    cells[i["ip_ranges"]] = "1.1.1.1-1.1.1.9; 2.2.2.2"
    errors: list = []
    out = C.website_input(cells, errors)
    assert out["preapprovals"] == [{"type": "NEWS", "approval_no": "粤-1"}, {"type": "NONE"},
                                   {"type": "EDUCATION", "approval_no": "粤-2"}]
    assert out["access"]["ip_ranges"][1] == {"start_ip": "2.2.2.2", "end_ip": "2.2.2.2"}
    assert "principal" not in out and not errors


def test_seal_round_trip_and_binding():
    token = crypto.seal("k", "p", b"secret", "job:1")
    assert b"secret" not in token.encode()
    assert crypto.open_sealed("k", "p", token, "job:1") == b"secret"
    for args in (("k2", "p", token, "job:1"), ("k", "p2", token, "job:1"), ("k", "p", token, "job:2"),
                 ("k", "p", token[:-4] + "AAAA", "job:1"), ("k", "p", "garbage", "job:1")):
        with pytest.raises(crypto.SealError):
            crypto.open_sealed(*args)


def test_chunk_items_are_compressed_before_they_are_sealed_and_plain_ones_still_open():
    """`pack_items` / `unpack_items` (shared.contracts.filing): what a chunk's items cost on their way is
    their compressed size; a chunk sealed before (plain JSON) opens as it is."""
    body = orjson.dumps([{"data": {"subject": {"name": f"深圳某某{i}有限公司", "cert_number": f"91440300{i:010d}"}},
                          "sponsor": [f"zbz{i:08d}", "$pbkdf2-sha256$100$x$y"], "c": 1} for i in range(250)])
    packed = pack_items(body)
    assert packed[:1] == b"x" and len(packed) * 4 < len(body)
    assert unpack_items(packed) == body
    assert unpack_items(body) == body and unpack_items(b" []") == b" []"
    token = crypto.seal("k", "batch-import", packed, "job:1")
    assert unpack_items(crypto.open_sealed("k", "batch-import", token, "job:1")) == body


def _sheet_with_rows(n: int, merged: bool = False) -> CalamineWorkbook:
    wb = Workbook()
    ws = wb.active
    ws.title = C.WEBSITE_SHEET
    ws.append([c.key for c in C.WEBSITE_COLUMNS])
    ws.append([c.label for c in C.WEBSITE_COLUMNS])
    for r in range(n):
        ws.append([f"S{r}", "网站", f"网站{r}"])
    ws.append([])  # blank row
    ws.append(["示例S9", "网站"])  # example row: skipped
    if merged:
        ws.append(["K1", "网站", "甲网站"])
        ws.append(["", "网站", "乙网站"])
        ws.merge_cells(start_row=ws.max_row - 1, start_column=1, end_row=ws.max_row, end_column=1)
    buf = io.BytesIO()
    wb.save(buf)
    return CalamineWorkbook.from_object(io.BytesIO(buf.getvalue()))


def test_read_sheet_skips_blank_and_example_rows_fills_merges_and_limits_rows():
    cols = [c.key for c in C.WEBSITE_COLUMNS]
    rows = list(read_sheet(_sheet_with_rows(3, merged=True), C.WEBSITE_SHEET, cols, max_rows=10))
    assert [r.row_no for r in rows] == [3, 4, 5, 8, 9]
    assert rows[-1].cells[0] == "K1" and rows[-1].cells[2] == "乙网站"  # merged key applies to the block
    with pytest.raises(TooManyRows):
        list(read_sheet(_sheet_with_rows(5), C.WEBSITE_SHEET, cols, max_rows=4))


def test_file_checks_without_a_database():
    from services.importer.template import build_template

    s = ImportSettings()
    info = check_file(build_template(), s)
    assert info.template_version == C.TEMPLATE_VERSION
    assert info.columns[C.SUBJECT_SHEET] == [c.key for c in C.SUBJECT_COLUMNS]
    with pytest.raises(FileRejected) as e:
        check_file(b"PK\x03\x04" + b"\0" * 100, s)
    assert e.value.status == 422


def _rows_for_assess(subject_id: str, website_principal_id: str | None, same: str) -> tuple:
    from shared import validate as v

    first17 = "91440300" + "00000001" + v.org_code_check_char("00000001")
    uscc = first17 + v.uscc_check_char(first17)
    s = ["S1", "企业", "营业执照（个人或企业）", uscc, "深圳市测试科技有限公司", "广东省", "440300", "440305",
         "深圳市南山区科技园路1号", "科技园路1号A座101室", "张三", "", "张三", "居民身份证", subject_id, "2020-01-01",
         "长期", "13800000001", "", "15800000001", "u@example.com", "", "", "", ""]
    principal = (["张三", "居民身份证", website_principal_id, "2020-01-01", "长期", "13800000001", "",
                  "15800000001", "u@example.com"] if website_principal_id else [""] * 9)
    w = ["S1", "网站", "测试科技官网", "example.com", "HTTP://WWW.Example.com/", "单位门户网站", "以上都不涉及", "",
         "中文简体", "", same, *principal, "云接入", "203.0.113.10-203.0.113.20", "广东省", "", "", "", ""]
    return s, w


@pytest.mark.parametrize(("subject_case", "website_case", "same"), [
    ("X", None, "是"), ("x", None, "是"), ("x", "X", "是"), ("X", "x", "是"), ("x", "X", "否"), ("X", "X", "否"),
])
def test_assess_one_gives_the_plain_checks_errors_and_the_canonical_form(subject_case, website_case, same):
    """check_filing(normalize=True) in the importer: the same errors as the plain check, and clean data in
    the canonical form filing would compute (validate_filing)."""
    import uuid

    from services.filing.entry.model import FilingError, validate_filing
    from services.importer import worker as W
    from shared import validate as v
    from shared.filing_data import FilingData, check_filing

    first17 = next(f"11010519800101{n:03d}" for n in range(1000)
                   if v.resident_id_check_char(f"11010519800101{n:03d}") == "X")
    sid = first17 + subject_case
    s, w = _rows_for_assess(sid, first17 + website_case if website_case else None, same)
    plan = W.Plan("k" * 32, "r" * 32, uuid.uuid4(), 500)
    found, data = W._assess_one("S1", 3, s, [], [(3, w, [])], plan)
    raw = {"subject": C.subject_input(s, []), "websites": [C.website_input(w, [])]}
    plain = check_filing(FilingData.model_validate(raw))
    assert [e.message for e in found] == [e["message"] for e in plain]
    if plain:
        assert data is None
        with pytest.raises(FilingError):
            validate_filing(FilingData.model_validate(raw))
    else:
        assert data == validate_filing(FilingData.model_validate(raw))
        assert data.websites[0].home_urls == ["www.example.com"]


def test_strict_namespaces_are_translated_across_block_boundaries():
    """A Strict Open XML part larger than the translation's blocks: every namespace translated, wherever
    the block boundaries fall, and the part still parses."""
    import io
    import zipfile
    from xml.etree import ElementTree as ET

    from services.importer.upload import _STRICT_MARK, to_transitional

    ns = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    rows = "".join(f'<row r="{i}" xmlns:x{i % 7}="{ns}"><c r="A{i}" t="inlineStr"><is><t>{"值" * (i % 50)}</t></is></c></row>'
                   for i in range(1, 30_000))
    sheet = f'<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>'.encode()
    assert len(sheet) > 3 << 20
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/media/image1.png", b"\x89PNG" + _STRICT_MARK)  # binary parts are copied as they are
    out = zipfile.ZipFile(io.BytesIO(to_transitional(zipfile.ZipFile(io.BytesIO(buf.getvalue())))))
    translated = out.read("xl/worksheets/sheet1.xml")
    assert _STRICT_MARK not in translated
    assert translated.count(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main") == 1 + 29_999
    root = ET.fromstring(translated)
    assert root.tag == "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}worksheet"
    assert out.read("xl/media/image1.png") == b"\x89PNG" + _STRICT_MARK


def test_a_sealed_canonical_item_parses_trusted_to_the_same_filing_and_structure_is_still_checked():
    """Filing parses the importer's sealed canonical items without the field validators (shared.fields.TRUSTED):
    the same model as the full parse; types, required fields, list lengths, literals and dates still refused."""
    import orjson
    from pydantic import ValidationError

    from shared.fields import TRUSTED
    from shared.filing_data import FilingData, canonical
    from tests import filing_samples as fs

    raw = fs.filing(2)
    raw["websites"][0]["domains"] = ["中文域名测试.中国"]  # an IDN: stored as its A-label
    raw["websites"][0]["home_urls"] = ["www.中文域名测试.中国"]
    raw["websites"][1].update(principal_same_as_subject=False,
                              principal=fs.principal(id_valid_to="2031-01-31", name=" 李四 "))
    raw["subject"]["principal"]["mobile"] = "１３８００１３８０００"  # full-width digits: normalised
    item = orjson.loads(canonical(FilingData.model_validate(raw)).model_dump_json())  # what the importer seals
    assert item["websites"][0]["domains"][0].startswith("xn--")
    assert FilingData.model_validate(item, context=TRUSTED) == FilingData.model_validate(item)
    # what the field validators refuse is refused without the context …
    bad = fs.clone(item)
    bad["subject"]["principal"]["mobile"] = "12345"
    with pytest.raises(ValidationError):
        FilingData.model_validate(bad)
    # … and the structure is checked with it
    for path, value in ((("subject", "name"), None), (("websites", 0, "access", "ip_ranges"), []),
                        (("subject", "principal", "im_type"), "ICQ"), (("websites", 0, "principal_same_as_subject"), "maybe"),
                        (("subject", "principal", "id_valid_from"), "not a date")):
        bad = fs.clone(item)
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ValidationError):
            FilingData.model_validate(bad, context=TRUSTED)
    bad = fs.clone(item)
    del bad["subject"]["cert_number"]
    with pytest.raises(ValidationError):
        FilingData.model_validate(bad, context=TRUSTED)


def test_read_sheet_text_cells_as_cell_text_gives_them():
    """`read_sheet` normalises text cells inline: the same text and errors as `cell_text` (which it calls for
    the rest), on spaces, full-width and invisible characters, Chinese text and Excel's error values."""
    values = ["  plain  ", "ＡＢＣ１２３", "\u200b深圳市\u3000", "\ufeff#REF!", "#DIV/0!", " #N/A ", "名称，全角",
              "tab\tinside", "\u00a0nbsp\u00a0", "x"]
    wb = Workbook()
    ws = wb.active
    ws.title = C.WEBSITE_SHEET
    keys = [c.key for c in C.WEBSITE_COLUMNS]
    ws.append(keys)
    ws.append([c.label for c in C.WEBSITE_COLUMNS])
    values += values  # twice: the second time a code column's value comes from the sheet's memo
    for value in values:
        ws.append(["K1", value, value])
    buf = io.BytesIO()
    wb.save(buf)
    rows = list(read_sheet(CalamineWorkbook.from_object(io.BytesIO(buf.getvalue())), C.WEBSITE_SHEET, keys,
                           max_rows=100))
    assert len(rows) == len(values)
    assert C.WEBSITE_COLUMNS[1].kind == "code" and C.WEBSITE_COLUMNS[2].kind != "code"
    for row, value in zip(rows, values, strict=True):
        for col in (1, 2):
            text, error = cell_text(value, C.WEBSITE_COLUMNS[col].kind)
            assert row.cells[col] == text
            assert [m for k, m in row.errors if k == keys[col]] == ([error] if error else [])
    assert any(row.errors for row in rows)  # the error values were found


def test_imported_free_text_keeps_its_full_width_punctuation_as_the_wizard_does():
    """A subject named as on its licence, "（集团）" in full-width brackets, is filed with that name from an import
    as from the wizard (which keeps free text as typed), and so are addresses and remarks; the identifiers of the same row
    are still made half-width, and fields whose rules make them half-width (the website name) are alike in both."""
    import uuid

    from services.filing.entry.model import validate_filing
    from services.importer import worker as W
    from shared import validate as v
    from shared.filing_data import FilingData

    first17 = next(f"11010519800101{n:03d}" for n in range(1000)
                   if v.resident_id_check_char(f"11010519800101{n:03d}") == "X")
    s, w = _rows_for_assess(first17 + "X", None, "是")
    s[4] = "深圳市测试科技（集团）有限公司"
    s[9] = "科技园路１号Ａ座（北）101室"
    s[11] = "备注，全角"
    s[17] = "１３８００００００01"  # a full-width mobile: half-width after reading, as before
    w[2] = "测试科技（集团）官网"
    wb = Workbook()
    ws = wb.active
    ws.title = C.SUBJECT_SHEET
    ws.append([c.key for c in C.SUBJECT_COLUMNS])
    ws.append([c.label for c in C.SUBJECT_COLUMNS])
    ws.append(s)
    ws2 = wb.create_sheet(C.WEBSITE_SHEET)
    ws2.append([c.key for c in C.WEBSITE_COLUMNS])
    ws2.append([c.label for c in C.WEBSITE_COLUMNS])
    ws2.append(w)
    buf = io.BytesIO()
    wb.save(buf)
    book = CalamineWorkbook.from_object(io.BytesIO(buf.getvalue()))
    [srow] = read_sheet(book, C.SUBJECT_SHEET, [c.key for c in C.SUBJECT_COLUMNS], max_rows=10)
    [wrow] = read_sheet(book, C.WEBSITE_SHEET, [c.key for c in C.WEBSITE_COLUMNS], max_rows=10)
    plan = W.Plan("k" * 32, "r" * 32, uuid.uuid4(), 500)
    found, data = W._assess_one("S1", 3, srow.cells, [], [(3, wrow.cells, [])], plan)
    assert found == []
    # what the wizard files from the same values as typed (its own normalisation of each field)
    typed = {"subject": C.subject_input(s, []), "websites": [C.website_input(w, [])]}
    assert data == validate_filing(FilingData.model_validate(typed))
    assert data.subject.name == "深圳市测试科技（集团）有限公司"
    assert data.subject.mail_address == "科技园路１号Ａ座（北）101室"
    assert data.subject.remark == "备注，全角"
    assert data.websites[0].name == "测试科技(集团)官网"  # the website name's own rule makes it half-width, in both
    assert data.subject.principal.mobile == "13800000001"


@pytest.mark.parametrize("filler_rows", [0, 3, 9000])
def test_merged_ranges_from_the_sheet_part_are_calamines(filler_rows):
    """The importer finds a sheet's merged ranges in the bytes after its cells (calamine parses the whole
    sheet again for them): the same ranges as calamine's, on both sheets, after cells longer than one block
    of the scan, and the same rows read with them."""
    from services.importer.reader import merged_ranges

    wb = Workbook()
    sheets = {C.SUBJECT_SHEET: C.SUBJECT_COLUMNS, C.WEBSITE_SHEET: C.WEBSITE_COLUMNS}
    first = True
    for name, columns in sheets.items():
        ws = wb.active if first else wb.create_sheet(name)
        ws.title, first = name, False
        ws.append([c.key for c in columns])
        ws.append([c.label for c in columns])
        for i in range(filler_rows):
            ws.append([f"K{i}", "网站", "填充的网站名称" * 8, f"d{i}.example.com"])
        n = ws.max_row
        for i in range(4):
            ws.append([f"M{i}", "网站", f"合并{i}"])
        ws.merge_cells(start_row=n + 1, start_column=1, end_row=n + 3, end_column=1)  # vertical: the key
        ws.merge_cells(start_row=n + 1, start_column=3, end_row=n + 1, end_column=5)  # horizontal
        ws.merge_cells(start_row=n + 2, start_column=28, end_row=n + 4, end_column=29)  # a block past column Z
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    book = CalamineWorkbook.from_object(io.BytesIO(data))
    found = merged_ranges(data, tuple(sheets))
    assert found is not None
    for name, columns in sheets.items():
        theirs = book.stream_sheet_by_name(name, rich=True, max_row=0).merged_cell_ranges
        assert sorted(found[name]) == sorted(theirs) and len(theirs) == 3
        keys = [c.key for c in columns]
        ours = list(read_sheet(book, name, keys, max_rows=10**6, merges=found[name]))
        plain = list(read_sheet(book, name, keys, max_rows=10**6))
        assert [(r.row_no, r.cells, r.errors) for r in ours] == [(r.row_no, r.cells, r.errors) for r in plain]
        assert ours[-2].cells[0] == "M0"  # the merged key filled down
    assert merged_ranges(b"PK\x03\x04 not a zip", tuple(sheets)) is None  # → calamine's


def test_the_reader_thread_fills_merged_keys_from_the_scanned_ranges(monkeypatch):
    """`reading._produce` (the reading thread) takes each sheet's merged ranges from `merged_ranges` and fills a
    subject key merged down a block of websites."""
    import queue
    import threading

    from services.importer import reader
    from services.importer import reading as R

    calls = []
    real = reader.merged_ranges

    def spy(data, sheets):
        calls.append(sheets)
        return real(data, sheets)

    monkeypatch.setattr(reader, "merged_ranges", spy)
    wb = Workbook()
    ws = wb.active
    ws.title = C.SUBJECT_SHEET
    ws.append([c.key for c in C.SUBJECT_COLUMNS])
    ws.append([c.label for c in C.SUBJECT_COLUMNS])
    ws.append(["S1", "企业"])
    ws2 = wb.create_sheet(C.WEBSITE_SHEET)
    ws2.append([c.key for c in C.WEBSITE_COLUMNS])
    ws2.append([c.label for c in C.WEBSITE_COLUMNS])
    ws2.append(["S1", "网站", "甲网站"])
    ws2.append(["", "网站", "乙网站"])
    ws2.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    buf = io.BytesIO()
    wb.save(buf)
    q: queue.Queue = queue.Queue()
    columns = {C.SUBJECT_SHEET: [c.key for c in C.SUBJECT_COLUMNS], C.WEBSITE_SHEET: [c.key for c in C.WEBSITE_COLUMNS]}
    R._produce(buf.getvalue(), columns, ImportSettings(), q, threading.Event(), (C.SUBJECT_SHEET, C.WEBSITE_SHEET))
    got = {}
    while (item := q.get_nowait())[0] != "end":
        got[item[0]] = item[1]
    assert calls == [(C.SUBJECT_SHEET, C.WEBSITE_SHEET)]
    assert [(r.row_no, r.cells[0], r.cells[2]) for r in got[C.WEBSITE_SHEET]] == [(3, "S1", "甲网站"), (4, "S1", "乙网站")]


async def test_the_sheet_process_reads_a_sheet_as_the_reader_does_and_reports_bad_files():
    """`sheet_process` (a sheet read beside the reading worker; the subjects sheet in a job) gives, in a real child process,
    the rows `read_sheet` gives in the worker: the same cells, errors and merged keys filled down; a sheet past
    its row limit and a file that cannot be read end in their last frame, not in rows."""
    from services.importer.reader import merged_ranges
    from services.importer.sheet_process import SheetReader
    from tests.integration.importer_workbooks import filled, subject_row, website_row

    websites = [website_row("S1"), website_row("S1", ip_ranges="300.1.1.1"), website_row("S2")]
    websites[2]["principal_id_number"] = 110105194912310021  # a number past 15 digits: an error naming the cell
    data = filled([subject_row("S1"), subject_row("S2")], websites)
    columns = [c.key for c in C.WEBSITE_COLUMNS]
    want = list(read_sheet(CalamineWorkbook.from_object(io.BytesIO(data)), C.WEBSITE_SHEET, columns, max_rows=10,
                           merges=(merged_ranges(data, (C.WEBSITE_SHEET,)) or {}).get(C.WEBSITE_SHEET)))

    async def run(data: bytes, max_rows: int) -> tuple[list, dict]:
        reader = await SheetReader.start(data, C.WEBSITE_SHEET, columns, max_rows)
        rows: list = []
        try:
            async for frame in reader.frames():
                if isinstance(frame, dict):
                    return rows, frame
                rows += frame
        finally:
            await reader.close()
        raise AssertionError("no last frame")

    rows, last = await run(data, 10)
    assert last == {"end": len(want)} and len(want) == 3
    assert [(r[0], r[1], orjson.loads(r[2]), r[3]) for r in rows] == [
        (w.row_no, w.cells[0], w.cells, [k for k, _ in w.errors]) for w in want]
    assert [r[4] for r in rows] == [[[k, w.cells[C.WEBSITE_IDX[k]], m] for k, m in w.errors] for w in want]
    assert rows[2][4] and rows[2][4][0][:2] == ["principal_id_number", "110105194912310000"]  # lost digits, named
    assert await run(data, 2) == ([], {"too_many": C.WEBSITE_SHEET})
    rows, last = await run(b"PK\x03\x04 not a workbook", 10)
    assert rows == [] and "crash" in last


async def test_a_sheet_process_that_dies_mid_frame_is_a_failure_of_the_worker_not_of_the_file():
    """A reading process that ends without its last frame (killed, out of memory) makes `frames` raise, so the job's
    attempt fails and another worker reads the file again; it is not reported as an unreadable file."""
    import asyncio
    import sys

    from services.importer.sheet_process import SheetReader

    # a frame's length, then half of its body, then exit 3
    script = "import sys; sys.stdout.buffer.write(b'\\x00\\x00\\x00\\x10[[1'); sys.stdout.flush(); sys.exit(3)"
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE)
    reader = SheetReader(proc)
    with pytest.raises(RuntimeError, match="exit code 3"):
        async for _frame in reader.frames():
            pass
    await reader.close()
    assert proc.returncode == 3
