"""Test workbooks for the batch import: filled templates (openpyxl), and a LibreOffice round trip."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from openpyxl import load_workbook

from services.importer import columns as C
from services.importer.template import build_template
from shared import validate as v

_rng = random.Random()


def uscc() -> str:
    """A synthetic, valid USCC (both check characters right), unique per call."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body8 = f"{_rng.randrange(10**8):08d}"  # organisation code body: digits are always valid
    first17 = "91440300" + body8 + v.org_code_check_char(body8)
    check = v.uscc_check_char(first17)
    assert check in charset
    return first17 + check


def resident_id(birth: str = "19800101") -> str:
    first17 = "110105" + birth + f"{_rng.randrange(1000):03d}"
    return first17 + v.resident_id_check_char(first17)


def mobile() -> str:
    return "13" + f"{_rng.randrange(10**9):09d}"


def subject_row(key: str, **over) -> dict[str, object]:
    tag = uuid.uuid4().hex[:6]
    row = {
        "subject_key": key,
        "nature": "企业",
        "cert_type": "营业执照（个人或企业）",
        "cert_number": uscc(),
        "name": f"深圳市测试{tag}科技有限公司",
        "province": "广东省",
        "city": "440300",
        "county": "440305",
        "cert_address": "深圳市南山区科技园路1号",
        "mail_address": "科技园路1号A座101室",
        "investor_or_superior": "张三",
        "remark": "",
        "principal_name": "张三",
        "principal_id_type": "居民身份证",
        "principal_id_number": resident_id(),
        "principal_id_valid_from": "2020-01-01",
        "principal_id_valid_to": "长期",
        "principal_mobile": mobile(),
        "principal_office_phone": "",
        "principal_emergency_phone": mobile(),
        "principal_email": f"zs{tag}@example.com",
    }
    row.update(over)
    return row


def website_row(key: str, **over) -> dict[str, object]:
    tag = uuid.uuid4().hex[:10]
    row = {
        "subject_key": key,
        "service_type": "网站",
        "name": "测试科技官网",
        "domains": f"t{tag}.com",
        "home_urls": f"www.t{tag}.com",
        "service_content": "单位门户网站",
        "preapproval_types": "以上都不涉及",
        "preapproval_nos": "",
        "languages": "中文简体",
        "remark": "",
        "principal_same_as_subject": "是",
        "access_methods": "云接入",
        "ip_ranges": "203.0.113.10-203.0.113.20",
        "server_locations": "广东省",
    }
    row.update(over)
    return row


def filled(subjects: list[dict], websites: list[dict], *, keep_example: bool = True,
           start_row: int = C.FIRST_DATA_ROW + 1) -> bytes:
    """The real template with these rows written below the example row (openpyxl)."""
    wb = load_workbook(io.BytesIO(build_template()))
    for sheet, rows in ((C.SUBJECT_SHEET, subjects), (C.WEBSITE_SHEET, websites)):
        ws = wb[sheet]
        idx = {c.key: i + 1 for i, c in enumerate(C.SHEETS[sheet])}
        if not keep_example:
            for c in range(1, len(idx) + 1):
                ws.cell(row=C.FIRST_DATA_ROW, column=c).value = None
        for r, row in enumerate(rows, start=start_row):
            for key, value in row.items():
                if value is not None and value != "":
                    ws.cell(row=r, column=idx[key], value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    assert path, "LibreOffice (soffice) is required: apt-get install libreoffice-calc"
    return path


def convert(data: bytes, src_ext: str, target: str = "xlsx", filter_: str | None = None) -> bytes:
    """Convert a document with headless LibreOffice (a real spreadsheet program) and return the result."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in.{src_ext}"
        src.write_bytes(data)
        profile = Path(tmp) / "profile"
        out = Path(tmp) / "out"
        out.mkdir()
        fmt = f"{target}:{filter_}" if filter_ else target
        subprocess.run(
            [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", fmt, "--outdir", str(out), str(src)],
            check=True, capture_output=True, timeout=180,
        )
        produced = list(out.iterdir())
        assert produced, "LibreOffice produced nothing"
        return produced[0].read_bytes()


def edit_template(fn) -> bytes:
    """The template after `fn(workbook)` (openpyxl), e.g. to make a broken variant."""
    wb = load_workbook(io.BytesIO(build_template()))
    fn(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bomb(size: int) -> bytes:
    """An .xlsx-looking zip whose one part inflates to `size` bytes of zeros."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types><Override ContentType='
                    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            block = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(block)
    return buf.getvalue()


def office_zip(content_type: str) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", f'<?xml version="1.0"?><Types><Override ContentType="{content_type}"/></Types>')
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def strict(data: bytes) -> bytes:
    """The workbook as Excel's "Strict Open XML" option saves it (LibreOffice cannot write that): every
    transitional namespace of its XML parts replaced by the Strict one, `conformance="strict"` set."""
    import zipfile

    from services.importer.upload import STRICT_NAMESPACES

    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith((".xml", ".rels")):
                for strict_ns, transitional in STRICT_NAMESPACES.items():
                    body = body.replace(transitional, strict_ns)
                if info.filename == "xl/workbook.xml":
                    body = body.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
            dst.writestr(info.filename, body)
    return buf.getvalue()
