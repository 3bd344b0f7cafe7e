"""The downloadable import template (模板下载, seed 1.3.2): an .xlsx a clerk can fill without help."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from services.importer.columns import (
    CODE_SHEET,
    EXAMPLE_PREFIX,
    FIRST_DATA_ROW,
    HEADER_ROW,
    HELP_SHEET,
    MACHINE_ROW,
    META_SHEET,
    SEPARATOR,
    SHEETS,
    SUBJECT_SHEET,
    TEMPLATE_VERSION,
    VERSION_NAME,
    WEBSITE_SHEET,
    Column,
    choices,
)

DATA_ROWS = 5000  # rows formatted (text format, dropdowns) below the header; more may be typed
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FONT = Font(bold=True, color="C00000")
OPTIONAL_FONT = Font(bold=True)
EXAMPLE_FONT = Font(italic=True, color="808080")
TEXT_KINDS = {"id", "phone", "text", "list", "codes", "region", "code", "province", "bool", "valid_to"}

_KIND_HELP = {
    "code": "从下拉列表选择",
    "codes": f"可多选，多个值用英文分号 {SEPARATOR} 分隔（下拉列表可选单个值）",
    "list": f"多个值用英文分号 {SEPARATOR} 分隔",
    "date": "日期（YYYY-MM-DD），可用 Excel 日期格式",
    "valid_to": "日期（YYYY-MM-DD）或“长期”",
    "bool": "是 / 否",
    "id": "已设为文本格式，请勿改为数值（否则18位号码会丢失末尾数字）",
    "phone": "已设为文本格式",
    "province": "从下拉列表选择省份",
    "region": "六位行政区划代码",
}


def _dropdown_values(col: Column) -> tuple[str, ...] | None:
    if col.kind in ("code", "codes") and col.table:
        return choices(col.table)
    if col.kind == "province":
        return choices("provinces")
    if col.kind == "bool":
        return ("是", "否")
    if col.kind == "valid_to":
        return None
    return None


def build_template() -> bytes:
    wb = Workbook()
    help_ws = wb.active
    help_ws.title = HELP_SHEET
    code_ws = wb.create_sheet(CODE_SHEET)
    lists: dict[tuple[str, ...], str] = {}

    def list_ref(values: tuple[str, ...]) -> str:
        if values not in lists:
            col = len(lists) + 1
            letter = get_column_letter(col)
            for r, value in enumerate(values, start=1):
                code_ws.cell(row=r, column=col, value=value)
            lists[values] = f"{quote_sheetname(CODE_SHEET)}!${letter}$1:${letter}${len(values)}"
        return lists[values]

    for sheet_name, columns in SHEETS.items():
        ws = wb.create_sheet(sheet_name)
        for c, col in enumerate(columns, start=1):
            letter = get_column_letter(c)
            ws.cell(row=MACHINE_ROW, column=c, value=col.key)
            head = ws.cell(row=HEADER_ROW, column=c, value=col.label + ("*" if col.required else ""))
            head.font = REQUIRED_FONT if col.required else OPTIONAL_FONT
            head.fill = HEADER_FILL
            head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            tip = "；".join(x for x in (col.help, _KIND_HELP.get(col.kind, ""), "必填" if col.required else "选填") if x)
            head.comment = Comment(tip, "ICP备案")
            ws.column_dimensions[letter].width = col.width
            example = ws.cell(row=FIRST_DATA_ROW, column=c, value=col.example or None)
            example.font = EXAMPLE_FONT
            if col.kind != "date":
                # text format: ID numbers, phones and codes stay exactly as typed
                ws.column_dimensions[letter].number_format = "@"
                for r in range(FIRST_DATA_ROW, FIRST_DATA_ROW + 200):
                    ws.cell(row=r, column=c).number_format = "@"
            else:
                for r in range(FIRST_DATA_ROW, FIRST_DATA_ROW + 200):
                    ws.cell(row=r, column=c).number_format = "yyyy-mm-dd"
            values = _dropdown_values(col)
            if values:
                dv = DataValidation(type="list", formula1=list_ref(values), allow_blank=True)
                dv.promptTitle = col.label
                dv.prompt = _KIND_HELP.get(col.kind, "")[:250]
                dv.showInputMessage = True
                if col.kind == "codes":
                    # several values joined with ; are allowed: warn, never block
                    dv.showErrorMessage = False
                else:
                    dv.showErrorMessage = True
                    dv.errorStyle = "stop"
                    dv.errorTitle = "请选择列表中的值"
                    dv.error = f"{col.label}：请从下拉列表中选择"
                dv.add(f"{letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + DATA_ROWS}")
                ws.add_data_validation(dv)
        ws.row_dimensions[MACHINE_ROW].hidden = True
        ws.row_dimensions[HEADER_ROW].height = 32
        ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=2)

    _write_help(help_ws)
    code_ws.sheet_state = "hidden"
    meta = wb.create_sheet(META_SHEET)
    meta["A1"] = "模板版本"
    meta["B1"] = TEMPLATE_VERSION
    meta["A2"] = "说明"
    meta["B2"] = "请勿修改本工作表；导入时据此识别模板版本"
    meta.sheet_state = "hidden"
    wb.defined_names[VERSION_NAME] = DefinedName(VERSION_NAME, attr_text=f"{quote_sheetname(META_SHEET)}!$B$1")
    wb.active = wb.sheetnames.index(SUBJECT_SHEET)
    wb.properties.title = "ICP备案批量导入模板"
    wb.properties.keywords = f"icp-import-template v{TEMPLATE_VERSION}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _write_help(ws) -> None:
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 26
    ws.column_dimensions["C"].width = 8
    ws.column_dimensions["D"].width = 90
    lines = [
        ("ICP备案批量导入模板 填写说明", None),
        (f"模板版本：{TEMPLATE_VERSION}（请使用系统最新下载的模板；旧版本模板将被拒绝）", None),
        ("", None),
        ("1. 本文件有两张数据表：“主体”每行一个主办单位（主体），“网站”每行一个网站；网站通过“主体编号”关联到主体。"
         "一个主体可有多个网站，每个主体至少一个网站。", None),
        ("2. 第2行为列标题（带*为必填），请从第3行开始填写。第3行为示例（主体编号以“示例”开头的行不会导入），可删除。"
         "请勿修改、删除或移动标题行，请勿删除隐藏的第1行与隐藏工作表。", None),
        (f"3. 多个值用英文分号 {SEPARATOR} 分隔（也接受中文分号、顿号、逗号）。代码类列请从下拉列表选择中文名称。", None),
        ("4. 证件号码、手机号码等列已设为文本格式，请勿改为数值格式：Excel 会把18位身份证号码的末尾数字变成0"
         "或显示为 1.1E+17，此类号码会被拒绝。日期可填 2020-01-01 或使用 Excel 日期。", None),
        ("5. 文件中任何一处错误都会导致整个文件不被导入；系统会列出每个错误所在的工作表、行、列和原因，"
         "并可下载标出错误单元格的文件，修改后重新上传。", None),
        ("6. 导入成功后可下载含每个主体的主办者用户名和初始密码的结果文件（限定时间内有效），请妥善保管并转交主办者。", None),
        ("7. 同一文件中同一域名只能出现一次；已备案的主体（同一证件）或已备案的域名不能再次首次备案。", None),
        ("", None),
    ]
    row = 1
    for text, _ in lines:
        cell = ws.cell(row=row, column=1, value=text)
        if row == 1:
            cell.font = Font(bold=True, size=14)
        row += 1
    for sheet_name, columns in SHEETS.items():
        head = ws.cell(row=row, column=1, value=f"工作表“{sheet_name}”的列")
        head.font = Font(bold=True, size=12)
        row += 1
        for c, title in enumerate(("列标题", "字段名（隐藏第1行）", "必填", "填写要求"), start=1):
            ws.cell(row=row, column=c, value=title).font = Font(bold=True)
            ws.cell(row=row, column=c).fill = HEADER_FILL
        row += 1
        for col in columns:
            values = _dropdown_values(col)
            rule = "；".join(x for x in (col.help, _KIND_HELP.get(col.kind, "")) if x)
            if values and len(values) <= 40:
                rule += "。可选值：" + "、".join(values)
            ws.cell(row=row, column=1, value=col.label)
            ws.cell(row=row, column=2, value=col.key)
            ws.cell(row=row, column=3, value="是" if col.required else "否")
            ws.cell(row=row, column=4, value=rule).alignment = Alignment(wrap_text=True, vertical="top")
            row += 1
        row += 1
    ws.cell(row=row, column=1, value=f"示例：主体编号“{EXAMPLE_PREFIX}S001”的两张表第3行。")
    ws.freeze_panes = "A2"


__all__ = ["build_template", "WEBSITE_SHEET"]
