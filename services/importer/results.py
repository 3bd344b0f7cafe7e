"""The credentials workbook the importer hands back (seed 1.3.2); the annotated copy of a rejected
upload is `annotate.py`."""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from xml.sax.saxutils import escape

HEADERS = ("主体编号", "主办单位名称", "主办者用户名", "初始密码", "网站域名")


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/worksheets/sheet2.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="主办者账号" sheetId="1" r:id="rId1"/><sheet name="说明" sheetId="2" r:id="rId2"/>'
    "</sheets></workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet2.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_NOTE = ("以上为本次批量导入为每个主体生成的主办者用户名和初始密码。",
         "请妥善保管并尽快转交主办者；主办者登录后应修改密码。本文件在有效期后自动删除。")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _row(r: int, values: list[str]) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{escape(_CONTROL.sub("", v))}</t></is></c>' for v in values)
    return f'<row r="{r}">{cells}</row>'


class CredentialsWriter:
    """Streams the result workbook into a compressed in-memory zip (a minimal .xlsx with inline
    strings): memory stays small, and nothing touches the disk — the generated plaintext passwords
    exist only here and in the sealed bytes stored for download."""

    def __init__(self) -> None:
        self._buf = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buf, "w", zipfile.ZIP_DEFLATED)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w")
        widths = "".join(
            f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate((12, 32, 18, 16, 30), 1)
        )
        self._write(_SHEET_HEAD + f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                    f'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>{widths}</cols><sheetData>')
        self._write(_row(1, list(HEADERS)))
        self.rows = 0

    def _write(self, text: str) -> None:
        self._sheet.write(text.encode())

    def add(self, key: str, name: str, username: str, password: str, domains: list[str]) -> None:
        self.rows += 1
        self._write(_row(self.rows + 1, [key, name, username, password, ";".join(domains)]))

    def finish(self) -> bytes:
        self._write("</sheetData></worksheet>")
        self._sheet.close()
        z = self._zip
        z.writestr("xl/worksheets/sheet2.xml",
                   _SHEET_HEAD + "<sheetData>" + "".join(_row(i, [t]) for i, t in enumerate(_NOTE, 1))
                   + "</sheetData></worksheet>")
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.close()
        data = self._buf.getvalue()
        self.discard()
        return data

    def discard(self) -> None:
        """Drop what was written (a rejected or abandoned plan)."""
        with contextlib.suppress(Exception):
            self._sheet.close()
        with contextlib.suppress(Exception):
            self._zip.close()
        self._buf = io.BytesIO()
