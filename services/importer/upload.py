"""Checks of an uploaded file before a job is queued (fast, in the request; refusals are 4xx in Chinese).

What is checked: size; the signature (an OLE compound file is an encrypted workbook or a legacy .xls;
anything that is not a zip is not an .xlsx); the zip directory and the real, not declared, size of
every part (truncated, corrupt or decompression-bomb files); the OOXML content types (a workbook,
not .xlsm/.ods/.docx); the template (sheets, version, header rows) and the row limits.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from python_calamine_plus import CalamineError, CalamineWorkbook

from services.importer.columns import (
    HEADER_ROW,
    MACHINE_ROW,
    META_SHEET,
    SHEETS,
    SUBJECT_SHEET,
    TEMPLATE_VERSION,
    VERSION_NAME,
    WEBSITE_SHEET,
)
from services.importer.settings import ImportSettings

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLTX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+\d+:)?[A-Z]+(\d+)"')


class FileRejected(Exception):
    """The upload is refused; `message` is the Chinese reason, `errors` optional details."""

    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class UploadInfo:
    template_version: int
    declared_rows: dict[str, int] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)  # sheet → machine names in file order
    data: bytes | None = None  # the file to keep when it is not the upload itself (a Strict file translated)


# Strict Open XML (Excel's "Strict Open XML 电子表格" save option, ISO/IEC 29500 Strict) names the same
# parts with other namespaces; the readers here know the transitional ones. Each is translated (the
# relationship types follow the relationships namespace as a prefix).
STRICT_NAMESPACES = {
    b"http://purl.oclc.org/ooxml/spreadsheetml/main": b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    b"http://purl.oclc.org/ooxml/officeDocument/relationships":
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    b"http://purl.oclc.org/ooxml/drawingml/main": b"http://schemas.openxmlformats.org/drawingml/2006/main",
    b"http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing":
        b"http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    b"http://purl.oclc.org/ooxml/drawingml/chart": b"http://schemas.openxmlformats.org/drawingml/2006/chart",
    b"http://purl.oclc.org/ooxml/officeDocument/extendedProperties":
        b"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    b"http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes":
        b"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    b"http://purl.oclc.org/ooxml/officeDocument/sharedTypes":
        b"http://schemas.openxmlformats.org/officeDocument/2006/sharedTypes",
    b"http://purl.oclc.org/ooxml/officeDocument/customXml":
        b"http://schemas.openxmlformats.org/officeDocument/2006/customXml",
}
_STRICT_MARK = b"http://purl.oclc.org/ooxml/"


def _not_xlsx_reason(head: bytes) -> str:
    text = head[:2048]
    if not text.strip():
        return "文件为空，请选择填写好的导入模板（.xlsx）"
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        try:
            decoded = text.decode("gb18030")
        except UnicodeDecodeError:
            decoded = ""
    if decoded and ("," in decoded or "\t" in decoded) and "<" not in decoded[:10]:
        return "文件不是 Excel 工作簿（.xlsx），看起来是 CSV/文本文件；请使用系统提供的导入模板，填写后保存为 .xlsx"
    if decoded.lstrip().startswith("<"):
        return "文件不是 Excel 工作簿（.xlsx），看起来是网页或 XML 文件；请使用系统提供的导入模板并保存为 .xlsx"
    if head.startswith(b"%PDF"):
        return "文件不是 Excel 工作簿（.xlsx），而是 PDF 文件"
    return "文件不是 Excel 工作簿（.xlsx）：文件内容与扩展名不符或已损坏；请使用系统提供的导入模板并保存为 .xlsx"


def _ole_reason(data: bytes) -> str:
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return "文件已加密（设置了打开密码），系统无法读取；请在 Excel 中取消密码后另存为 .xlsx 再上传"
    return "这是旧版 Excel 97-2003 工作簿（.xls），请在 Excel 中“另存为 Excel 工作簿（.xlsx）”后上传"


def check_file(data: bytes, settings: ImportSettings) -> UploadInfo:
    """Every synchronous check; raises FileRejected. CPU-bound (decompresses once): run in a thread."""
    if not data:
        raise FileRejected(400, "文件为空，请选择填写好的导入模板（.xlsx）")
    if len(data) > settings.max_bytes:
        raise FileRejected(413, f"文件过大（超过 {settings.max_bytes // (1024 * 1024)} MB），请拆分后分批导入")
    if data.startswith(OLE_SIGNATURE):
        raise FileRejected(422 if "EncryptionInfo".encode("utf-16-le") in data else 415, _ole_reason(data))
    if not data.startswith(ZIP_SIGNATURE):
        raise FileRejected(415, _not_xlsx_reason(data[:4096]))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise FileRejected(422, "文件已损坏（不是完整的 .xlsx 压缩包，可能上传不完整），请重新保存后上传") from None
    names = {i.filename for i in infos}
    if "mimetype" in names and "[Content_Types].xml" not in names:
        raise FileRejected(415, "这是 OpenDocument 表格（.ods）文件，请另存为 Excel 工作簿（.xlsx）后上传")
    if "[Content_Types].xml" not in names:
        raise FileRejected(415, "文件不是 Excel 工作簿（.xlsx）：压缩包内没有 Office 文档结构")
    _check_bomb(zf, infos, settings)
    content_types = zf.read("[Content_Types].xml").decode("utf-8", "replace")
    if XLSM_MAIN in content_types:
        raise FileRejected(415, "文件是启用宏的工作簿（.xlsm），请另存为不含宏的 Excel 工作簿（.xlsx）后上传")
    if XLSX_MAIN not in content_types and XLTX_MAIN not in content_types:
        if "wordprocessingml" in content_types:
            raise FileRejected(415, "文件是 Word 文档，不是 Excel 工作簿（.xlsx）")
        if "presentationml" in content_types:
            raise FileRejected(415, "文件是 PowerPoint 文档，不是 Excel 工作簿（.xlsx）")
        raise FileRejected(415, "文件不是 Excel 工作簿（.xlsx）：缺少工作簿内容类型")
    translated = None
    if _is_strict(zf):
        translated = to_transitional(zf)
        data, zf = translated, zipfile.ZipFile(io.BytesIO(translated))
    sheet_parts = _sheet_parts(zf)
    info = _check_template(data, zf, sheet_parts, settings)
    info.data = translated
    return info


def _is_strict(zf: zipfile.ZipFile) -> bool:
    for part in ("_rels/.rels", "xl/workbook.xml"):
        try:
            with zf.open(part) as fh:
                if _STRICT_MARK in fh.read(64 * 1024):
                    return True
        except KeyError:
            continue
    return False


def to_transitional(zf: zipfile.ZipFile) -> bytes:
    """The package with every Strict namespace replaced by its transitional one, part by part and
    block by block (a namespace never spans a tag's closing `>`, so each block is cut after its last
    one): memory holds the output zip and one block. Sizes were bounded by `_check_bomb`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in zf.infolist():
            if info.is_dir():
                continue
            with zf.open(info) as src, dst.open(info.filename, "w") as fh:
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    while block := src.read(1 << 20):
                        fh.write(block)
                    continue
                carry = b""
                while block := src.read(1 << 20):
                    buf = carry + block
                    cut = buf.rfind(b">") + 1
                    if cut == 0 and len(buf) < (4 << 20):
                        carry = buf
                        continue
                    cut = cut or len(buf)
                    fh.write(_translate(buf[:cut]))
                    carry = buf[cut:]
                fh.write(_translate(carry))
    return out.getvalue()


def _translate(text: bytes) -> bytes:
    if _STRICT_MARK not in text:
        return text
    for strict, transitional in STRICT_NAMESPACES.items():
        text = text.replace(strict, transitional)
    return text.replace(b' conformance="strict"', b"")


def _check_bomb(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], settings: ImportSettings) -> None:
    bomb = "文件解压后过大（疑似压缩炸弹），已拒绝；请使用系统模板正常填写后上传"
    if len(infos) > 5000:
        raise FileRejected(413, bomb)
    declared = sum(i.file_size for i in infos)
    if declared > settings.max_uncompressed:
        raise FileRejected(413, bomb)
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > settings.max_ratio * max(i.compress_size, 1):
            raise FileRejected(413, bomb)
    # the declared sizes may lie: decompress for real, counting, and check every CRC (truncation)
    total = 0
    for i in infos:
        if i.is_dir():
            continue
        try:
            with zf.open(i) as fh:
                while True:
                    block = fh.read(1 << 20)
                    if not block:
                        break
                    total += len(block)
                    if total > settings.max_uncompressed:
                        raise FileRejected(413, bomb)
        except FileRejected:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
            if i.flag_bits & 0x1:
                raise FileRejected(422, "文件已加密，系统无法读取；请取消密码后另存为 .xlsx 再上传") from None
            raise FileRejected(422, "文件已损坏（压缩数据不完整或校验失败），请重新保存后上传") from None


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part path (xl/worksheets/sheetN.xml), from workbook.xml and its rels."""
    try:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        raise FileRejected(422, "文件已损坏（缺少或无法解析工作簿结构），请重新保存为 .xlsx 后上传") from None
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("pr:Relationship", _NS)}
    out: dict[str, str] = {}
    for s in wb.findall("m:sheets/m:sheet", _NS):
        target = targets.get(s.get(f"{{{_NS['r']}}}id"), "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        out[s.get("name", "")] = target
    return out


def _declared_rows(zf: zipfile.ZipFile, part: str) -> int | None:
    try:
        with zf.open(part) as fh:
            head = fh.read(4096)
    except KeyError:
        return None
    m = _DIMENSION.search(head)
    return int(m.group(2)) if m else None


def _check_template(data: bytes, zf: zipfile.ZipFile, parts: dict[str, str], settings: ImportSettings) -> UploadInfo:
    missing = [s for s in SHEETS if s not in parts]
    if missing:
        raise FileRejected(
            422,
            f"不是本系统的导入模板：缺少工作表“{'”“'.join(missing)}”；请下载最新模板填写后上传",
        )
    try:
        wb = CalamineWorkbook.from_object(io.BytesIO(data))
    except CalamineError as e:
        raise FileRejected(422, f"文件无法读取（{type(e).__name__}），请用 Excel 重新保存为 .xlsx 后上传") from None
    version = _template_version(wb)
    if version is None:
        raise FileRejected(422, "不是本系统的导入模板（缺少模板版本信息），请下载最新模板填写后上传")
    if version != TEMPLATE_VERSION:
        older = "过旧" if version < TEMPLATE_VERSION else "不受支持"
        raise FileRejected(
            422, f"导入模板版本{older}（文件为第 {version} 版，当前为第 {TEMPLATE_VERSION} 版），请下载最新模板后重新填写"
        )
    info = UploadInfo(template_version=version)
    limits = {SUBJECT_SHEET: settings.max_subject_rows, WEBSITE_SHEET: settings.max_website_rows}
    for sheet, limit in limits.items():
        rows = _declared_rows(zf, parts[sheet])
        if rows is not None:
            info.declared_rows[sheet] = rows
            if rows - HEADER_ROW > limit:
                raise FileRejected(413, f"工作表“{sheet}”超过 {limit} 行数据，请拆分为多个文件分批导入")
    errors: list[dict[str, str]] = []
    for sheet in SHEETS:
        info.columns[sheet] = header_columns(wb, sheet, errors)
    if errors:
        raise FileRejected(422, "导入模板的标题行被修改，无法识别各列；请使用最新模板，不要修改、删除或移动标题行",
                           errors)
    return info


def _template_version(wb: CalamineWorkbook) -> int | None:
    ref = next((d["value"] for d in wb.defined_names if d["name"] == VERSION_NAME), None)
    sheet, cell = META_SHEET, "B1"
    if ref and "!" in ref:
        sheet, _, cell = ref.rpartition("!")
        sheet = sheet.strip("'").replace("''", "'")
        cell = cell.replace("$", "")
    if sheet not in wb.sheet_names:
        return None
    try:
        rows = list(wb.stream_sheet_by_name(sheet, ref=cell))
    except CalamineError:
        return None
    value = rows[0][0] if rows and rows[0] else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def header_columns(wb: CalamineWorkbook, sheet: str, errors: list[dict[str, str]]) -> list[str]:
    """The machine names of the sheet's columns in file order ('' for a blank extra column);
    adds an error for a missing, unknown, repeated or relabelled column."""
    expected = {c.key: c for c in SHEETS[sheet]}
    try:
        rows = list(wb.stream_sheet_by_name(sheet, min_row=0, max_row=HEADER_ROW - 1))
    except CalamineError:
        errors.append({"field": sheet, "message": "工作表无法读取"})
        return []
    machine = [str(x).strip() for x in (rows[MACHINE_ROW - 1] if len(rows) >= MACHINE_ROW else [])]
    labels = [str(x).strip() for x in (rows[HEADER_ROW - 1] if len(rows) >= HEADER_ROW else [])]
    labels += [""] * (len(machine) - len(labels))
    seen: set[str] = set()
    for i, key in enumerate(machine):
        if not key:
            if labels[i]:
                errors.append({"field": f"{sheet}!{_col(i)}{HEADER_ROW}", "message": f"多出的列“{labels[i]}”不是模板中的列"})
            continue
        col = expected.get(key)
        if col is None:
            errors.append({"field": f"{sheet}!{_col(i)}{MACHINE_ROW}", "message": f"无法识别的列“{labels[i] or key}”"})
            continue
        if key in seen:
            errors.append({"field": f"{sheet}!{_col(i)}{HEADER_ROW}", "message": f"列“{col.label}”重复"})
        seen.add(key)
        if labels[i].rstrip("*").strip() != col.label:
            errors.append({
                "field": f"{sheet}!{_col(i)}{HEADER_ROW}",
                "message": f"列标题“{labels[i]}”与模板不符（此列应为“{col.label}”），请勿修改或调换标题行",
            })
    for key, col in expected.items():
        if key not in seen:
            errors.append({"field": sheet, "message": f"缺少列“{col.label}”"})
    return machine


def _col(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)
