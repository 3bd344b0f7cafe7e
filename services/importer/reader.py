"""Streaming read of a data sheet: constant memory (python-calamine-plus streams the sheet XML row
by row), cells normalised into text the `shared.filing_data` models understand.

Normalisation (DOMAIN §4 conventions, §9): surrounding and full-width spaces, full-width digits and
letters (`shared.validate.normalize_text`), except in free text (names, addresses, remarks: column kind
`free`), which only loses the spaces at its ends and keeps its full-width punctuation as the wizard does
(`shared.validate.clean_text`); numbers: an integer-valued float becomes its integer
text (a phone typed as a number), but an ID/certificate number that Excel stored as a number with
more than 15 digits has lost digits (110105194912310000, shown as 1.10105E+17) and is an error
naming the cell; dates come as date cells, serial numbers or text; formulas give their cached value
(a formula never calculated gives an empty cell); a merged cell's value applies to every row of the
merge (subject keys merged down a block of websites); empty rows are skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from python_calamine_plus import CalamineError, CalamineWorkbook

from services.importer.columns import EXAMPLE_PREFIX, FIRST_DATA_ROW, SHEETS
from shared.validate import clean_text, normalize_text

EXCEL_ERRORS = {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"}
EXCEL_EPOCH = dt.date(1899, 12, 30)
_REPEATING = frozenset({"code", "codes", "province", "bool"})  # column kinds of a few values, memoised per sheet
_MEMO_MAX = 4096
MAX_EXACT = 10**15  # Excel keeps 15 significant digits


class TooManyRows(Exception):
    pass


@dataclass
class SheetRow:
    row_no: int  # 1-based Excel row
    cells: list[str]  # normalised texts in template column order
    errors: list[tuple[str, str]]  # (column key, Chinese reason)

    def staged(self, idx: dict[str, int]) -> tuple[int, str, str, list[str], list[tuple[str, str, str]]]:
        """The row as it is staged: (row number, subject key, the cells as one JSON text, the columns already
        reported, (column key, the cell's text, reason) of each error); `idx`: the sheet's
        `columns.column_index`. The reader thread and the sheet process both stage rows in this form.
        (The cells as one JSON text: asyncpg's text[] encoder checks every element against three ABCs,
        3× the client CPU of the staging COPY.)"""
        return (self.row_no, self.cells[0], orjson.dumps(self.cells).decode(), [k for k, _ in self.errors],
                [(k, self.cells[idx[k]], message) for k, message in self.errors])


def _serial_to_date(n: float) -> dt.date | None:
    if 1 <= n < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(n))
    return None


def cell_text(value: object, kind: str) -> tuple[str, str | None]:
    """(normalised text, error or None) of one cell for a column kind."""
    if value is None or value == "":
        return "", None
    t = type(value)
    if t is str:
        text = clean_text(value) if kind == "free" else normalize_text(value)
        if text in EXCEL_ERRORS:
            return text, f"单元格为错误值 {text}（公式出错），请填写实际内容"
        return text, None
    if t is bool:
        if kind == "bool":
            return ("是" if value else "否"), None
        return ("TRUE" if value else "FALSE"), None
    if t is float:
        if value != value or value in (float("inf"), float("-inf")):  # NaN / inf
            return str(value), "数值无效"
        if value.is_integer():
            value, t = int(value), int
        elif kind in ("id", "phone"):
            return repr(value), "应为文本，不能是小数；请将该列设为文本格式后重新输入"
        elif kind in ("date", "valid_to"):
            day = _serial_to_date(value)
            return (day.isoformat(), None) if day else (repr(value), "日期格式不正确，应为YYYY-MM-DD")
        else:
            return repr(value), None
    if t is int:
        if kind == "id":
            if abs(value) >= MAX_EXACT:
                return (
                    str(value),
                    f"号码被 Excel 存成了数值，已丢失末尾数字（显示为 {value:.6G}）；"
                    "请将该列设为文本格式后重新输入完整号码",
                )
            return str(value), None
        if kind in ("date", "valid_to"):
            text = str(value)
            if len(text) == 8 and text[:2] in ("19", "20"):
                return text, None  # 20200101 typed as a number
            day = _serial_to_date(value)
            return (day.isoformat(), None) if day else (text, "日期格式不正确，应为YYYY-MM-DD")
        if abs(value) >= MAX_EXACT and kind == "phone":
            return str(value), "号码被存成了数值并丢失了数字，请将该列设为文本格式后重新输入"
        return str(value), None
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if kind in ("date", "valid_to") else value.isoformat(sep=" ")), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    return normalize_text(str(value)), None


Range = tuple[tuple[int, int], tuple[int, int]]  # ((first row, first column), (last row, last column)), 0-based

# A sheet keeps its merged ranges after its cells (`<mergeCells>` follows `</sheetData>`): calamine finds them
# with a second parse of the whole sheet (0.54–0.62 CPU-s for the two sheets of a 100,000-row file);
# `merged_ranges` inflates each sheet's part and looks for the tags in the bytes after the cells (0.20–0.33 s).
# Neither `<` nor `"` can stand raw in text or attribute values, so the tags found are tags.
_SHEET_DATA_END = re.compile(rb"</(?:[\w.-]+:)?sheetData\s*>|<(?:[\w.-]+:)?sheetData\s*/>")
_MERGE_CELL = re.compile(rb'<(?:[\w.-]+:)?mergeCell\b[^>]*?\sref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')
_TAIL = 64  # bytes kept between two blocks: a closing tag cut in two is found whole


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def merged_ranges(data: bytes, sheets: tuple[str, ...]) -> dict[str, list[Range]] | None:
    """Each sheet's merged ranges (as calamine's `merged_cell_ranges` gives them), read from the sheet's part
    after its cells; None when the package cannot be read so (the caller asks calamine)."""
    from services.importer.upload import FileRejected, _sheet_parts

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        parts = _sheet_parts(zf)
        out: dict[str, list[Range]] = {}
        for sheet in sheets:
            after = None  # the bytes after the cells, once `</sheetData>` is passed
            carry = b""
            with zf.open(parts[sheet]) as fh:
                while block := fh.read(1 << 20):
                    if after is not None:
                        after += block
                        continue
                    buf = carry + block
                    at = buf.find(b"sheetData")  # bytes.find, not a regex: 170 MB of XML go by in a tenth of a second
                    while at != -1 and after is None:
                        end = _SHEET_DATA_END.search(buf, max(0, at - _TAIL), at + _TAIL)
                        if end is not None:
                            after = buf[end.end():]
                        at = buf.find(b"sheetData", at + 1)
                    carry = buf[-_TAIL:]
            if after is None:
                return None
            out[sheet] = [((int(r1) - 1, _column_index(c1)),
                           (int(r2 or r1) - 1, _column_index(c2 or c1)))
                          for c1, r1, c2, r2 in _MERGE_CELL.findall(after)]
        return out
    except (FileRejected, KeyError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError):
        return None


def merged_fills(wb: CalamineWorkbook, sheet: str, ranges: list[Range] | None = None
                 ) -> dict[int, list[tuple[int, int, int]]]:
    """0-based row → [(0-based column, source row, source column)] for cells inside a merge below
    its top-left cell (vertical fill only: a horizontal merge does not copy one field into another).
    `ranges`: the sheet's merged ranges when the caller has them (`merged_ranges`); else calamine's."""
    if ranges is None:
        try:
            stream = wb.stream_sheet_by_name(sheet, rich=True, max_row=0)
            ranges = stream.merged_cell_ranges or []
        except CalamineError:
            return {}
    fills: dict[int, list[tuple[int, int, int]]] = {}
    for (r1, c1), (r2, _c2) in ranges:
        for r in range(r1 + 1, r2 + 1):
            fills.setdefault(r, []).append((c1, r1, c1))
    return fills


def read_sheet(wb: CalamineWorkbook, sheet: str, file_columns: list[str], *, max_rows: int,
               merges: list[Range] | None = None) -> Iterator[SheetRow]:
    """Yield the data rows of a sheet (empty rows and the template's example rows skipped).

    `file_columns` are the machine names of the file's columns (from its hidden row 1), so columns
    are found by name. Raises TooManyRows past `max_rows` data rows. `merges`: the sheet's merged
    ranges when the caller has them (`merged_ranges`); else calamine finds them.
    """
    template = SHEETS[sheet]
    index = {c.key: i for i, c in enumerate(template)}
    mapping = [(f, index[key], template[index[key]].kind) for f, key in enumerate(file_columns) if key in index]
    # code columns repeat a few labels ("企业", "居民身份证", "广东省") down the sheet: each normalised once
    memo: dict[str, str] = {}
    width = len(template)
    fills = merged_fills(wb, sheet, merges)
    sources = {(r, c) for cells in fills.values() for (_, r, c) in cells}
    kept: dict[tuple[int, int], object] = {}
    count = 0
    for r0, raw in enumerate(wb.stream_sheet_by_name(sheet, min_row=FIRST_DATA_ROW - 1), start=FIRST_DATA_ROW - 1):
        if sources:
            for c0, value in enumerate(raw):
                if (r0, c0) in sources:
                    kept[(r0, c0)] = value
            for c0, sr, sc in fills.get(r0, ()):
                if c0 < len(raw) and raw[c0] == "":
                    raw[c0] = kept.get((sr, sc), "")
        cells = [""] * width
        errors: list[tuple[str, str]] = []
        n = len(raw)
        for f, t, kind in mapping:
            if f < n:
                value = raw[f]
                if value == "":
                    continue
                if type(value) is str:  # most cells: `cell_text`'s text case inline (2.2 million calls a file)
                    if value.isascii():
                        text = value.strip()
                    elif kind in _REPEATING:
                        text = memo.get(value)
                        if text is None:
                            text = normalize_text(value)
                            if len(memo) < _MEMO_MAX:
                                memo[value] = text
                    else:
                        text = clean_text(value) if kind == "free" else normalize_text(value)
                    if text not in EXCEL_ERRORS:
                        cells[t] = text
                        continue
                text, error = cell_text(value, kind)
                cells[t] = text
                if error:
                    errors.append((template[t].key, error))
        if not any(cells):
            continue
        if cells[0].startswith(EXAMPLE_PREFIX):
            continue
        count += 1
        if count > max_rows:
            raise TooManyRows(sheet)
        yield SheetRow(r0 + 1, cells, errors)


def sheet_batches(data: bytes, sheets: tuple[str, ...], file_columns: dict[str, list[str]],
                  limits: dict[str, int], size: int = 2000) -> Iterator[tuple[str, object]]:
    """The sheets of a file read in turn, as (sheet, [SheetRow, …]) batches of `size` rows, then one last
    item: ("end", None), ("too_many", sheet) past a sheet's limit, or ("crash", text) for a file that cannot
    be read (a reader panic is a BaseException). What the reader thread and the sheet process both stream."""
    sheet = sheets[0]
    try:
        wb = CalamineWorkbook.from_object(io.BytesIO(data))
        merges = merged_ranges(data, sheets) or {}
        for sheet in sheets:
            batch: list[SheetRow] = []
            for row in read_sheet(wb, sheet, file_columns.get(sheet, []), max_rows=limits[sheet],
                                  merges=merges.get(sheet)):
                batch.append(row)
                if len(batch) >= size:
                    yield sheet, batch
                    batch = []
            if batch:
                yield sheet, batch
        yield "end", None
    except TooManyRows:
        yield "too_many", sheet
    except GeneratorExit:  # closed by its consumer: not the file's failure
        raise
    except BaseException as e:
        yield "crash", repr(e)[:300]

