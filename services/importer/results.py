"""Workbooks the importer hands back: the credentials result (seed 1.3.2) and the annotated copy
of a rejected upload (errors.xlsx)."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections import defaultdict

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
BAD_FONT = Font(color="9C0006")
HEADERS = ("主体编号", "主办单位名称", "主办者用户名", "初始密码", "网站域名")


class CredentialsWriter:
    """Streams the result workbook (write-only: rows go to a temporary file, memory stays flat).

    The generated passwords exist in plaintext only here and in the sealed bytes stored for download."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet("主办者账号")
        for letter, width in zip("ABCDE", (12, 32, 18, 16, 30), strict=True):
            self.ws.column_dimensions[letter].width = width
        self.ws.append(list(HEADERS))
        self.rows = 0

    def add(self, key: str, name: str, username: str, password: str, domains: list[str]) -> None:
        self.ws.append([key, name, username, password, ";".join(domains)])
        self.rows += 1

    def finish(self) -> bytes:
        note = self.wb.create_sheet("说明")
        note.append(["以上为本次批量导入为每个主体生成的主办者用户名和初始密码。"])
        note.append(["请妥善保管并尽快转交主办者；主办者登录后应修改密码。本文件在有效期后自动删除。"])
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as fh:
            self.wb.save(fh)
            fh.seek(0)
            return fh.read()

    def discard(self) -> None:
        """Drop the rows written so far (a rejected or abandoned plan)."""
        with contextlib.suppress(Exception):
            self.ws.close()  # finishes the temporary file, which is then deleted
        self.wb = None  # type: ignore[assignment]


def errors_workbook(original: bytes, errors: list[dict]) -> bytes:
    """A copy of the uploaded workbook with every bad cell filled red and commented with its reasons;
    file-level errors (no cell) are listed on an extra sheet 错误列表 together with all the others."""
    wb = load_workbook(io.BytesIO(original))
    by_cell: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for e in errors:
        if e["sheet"] in wb.sheetnames and e["row"] and e["column"]:
            by_cell[(e["sheet"], e["row"], e["column"])].append(e["message"])
    for (sheet, row, col), messages in by_cell.items():
        cell = wb[sheet].cell(row=row, column=col)
        cell.fill = BAD_FILL
        cell.font = BAD_FONT
        cell.comment = Comment("\n".join(dict.fromkeys(messages)), "导入校验", width=300, height=120)
    if "错误列表" in wb.sheetnames:
        del wb["错误列表"]
    ws = wb.create_sheet("错误列表", 0)
    ws.append(["工作表", "行", "列", "填写的值", "错误原因"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (10, 8, 20, 30, 70), strict=True):
        ws.column_dimensions[letter].width = width
    for e in errors:
        ws.append([e["sheet"], e["row"], e["column_name"], e["value"], e["message"]])
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
