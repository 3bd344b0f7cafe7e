"""Code tables (DOMAIN.md `codes/`), loaded once from the CSV files shipped in `shared/codes/`.

Every CSV has a header row and a stable ASCII `code` column; the table name is the file stem
(`provinces`, `certificate_types`, ...). Values are returned exactly as stored (strings; empty
cells are ""), typed helpers below convert the columns that have a meaning (flags, booleans,
MIIT values). Rows handed out are copies, so callers cannot corrupt the cache.

The package directory `shared/codes/` deliberately has no `__init__.py`: the module `shared/codes.py`
takes precedence over it on import, and the CSVs are read relative to this file.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Literal

CODES_DIR = Path(__file__).with_name("codes")

# Columns that carry an integer bit flag / form value used by the MIIT interface, in lookup order.
_MIIT_VALUE_COLUMNS = ("miit_form_value", "miit_flag", "miit_value")
# Columns that hold a power-of-two bit flag which can be combined into one integer.
_FLAG_COLUMNS = ("miit_flag", "server_location_flag")

RegionLevel = Literal["province", "city", "county"]


class _Table:
    __slots__ = ("name", "columns", "rows", "by_code")

    def __init__(self, name: str, columns: list[str], rows: list[MappingProxyType]) -> None:
        self.name = name
        self.columns = columns
        self.rows = rows
        self.by_code = {row["code"]: row for row in rows}


def _read_table(path: Path) -> _Table:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        if "code" not in columns:
            raise RuntimeError(f"code table {path.name} has no 'code' column")
        rows: list[MappingProxyType] = []
        seen: set[str] = set()
        for line_no, raw in enumerate(reader, start=2):
            row = {col: (raw.get(col) or "").strip() for col in columns}
            code = row["code"]
            if not code:
                raise RuntimeError(f"code table {path.name} line {line_no}: empty code")
            if code in seen:
                raise RuntimeError(f"code table {path.name} line {line_no}: duplicate code {code}")
            seen.add(code)
            rows.append(MappingProxyType(row))
    return _Table(path.stem, columns, rows)


@functools.cache
def _all_tables() -> dict[str, _Table]:
    return {path.stem: _read_table(path) for path in sorted(CODES_DIR.glob("*.csv"))}


def _table(table: str) -> _Table:
    try:
        return _all_tables()[table]
    except KeyError:
        raise KeyError(f"unknown code table: {table!r}") from None


# --------------------------------------------------------------------------------------------
# Generic API


def tables() -> list[str]:
    """Names of all code tables (CSV file stems), sorted."""
    return list(_all_tables())


def columns(table: str) -> list[str]:
    """Column names of a table, in file order."""
    return list(_table(table).columns)


def rows(table: str) -> list[dict[str, str]]:
    """All rows of a table in file order (copies). Unknown table -> KeyError."""
    return [dict(row) for row in _table(table).rows]


def codes(table: str) -> list[str]:
    """All codes of a table in file order."""
    return [row["code"] for row in _table(table).rows]


def get(table: str, code: str) -> dict[str, str] | None:
    """The row with this code, or None. Unknown table -> KeyError."""
    row = _table(table).by_code.get(code)
    return dict(row) if row is not None else None


@functools.cache
def code_set(table: str) -> frozenset[str]:
    """The codes of a table as a set (the tables never change once read). Unknown table -> KeyError."""
    return frozenset(_table(table).by_code)


def is_valid(table: str, code: object) -> bool:
    """True if `code` is a code of `table`. Unknown table -> KeyError."""
    return isinstance(code, str) and code in _table(table).by_code


def name_zh(table: str, code: str, default: str | None = None) -> str | None:
    """Chinese label of a code (`name_zh` column); `default` if the code is unknown."""
    row = _table(table).by_code.get(code)
    return row["name_zh"] if row is not None else default


def find_by_name_zh(table: str, label: str) -> list[dict[str, str]]:
    """Rows whose Chinese label equals `label` (used by the Excel import, which carries labels).

    Labels are not unique in every table (e.g. 组织机构代码证 exists once per nature), hence a list.
    """
    label = label.strip()
    return [dict(row) for row in _table(table).rows if row.get("name_zh") == label]


def miit_value(table: str, code: str) -> int | None:
    """The numeric MIIT form value / flag of a code (first of miit_form_value, miit_flag, miit_value)."""
    t = _table(table)
    row = t.by_code.get(code)
    if row is None:
        return None
    for col in _MIIT_VALUE_COLUMNS:
        if col in t.columns and row[col]:
            return int(row[col])
    return None


def _flag_column(table: str) -> str:
    t = _table(table)
    for col in _FLAG_COLUMNS:
        if col in t.columns:
            return col
    raise KeyError(f"code table {table!r} has no flag column")


def codes_to_flags(table: str, selected: Iterable[str]) -> int:
    """Combine multi-select codes into the MIIT bit-flag integer (access_methods, service_content,
    preapproval_types, provinces/server_location_flag). Codes without a flag contribute 0;
    unknown codes raise KeyError."""
    col = _flag_column(table)
    by_code = _table(table).by_code
    value = 0
    for code in selected:
        if code not in by_code:
            raise KeyError(f"unknown code {code!r} in table {table!r}")
        if by_code[code][col]:
            value |= int(by_code[code][col])
    return value


def flags_to_codes(table: str, value: int) -> list[str]:
    """Inverse of `codes_to_flags`: the codes whose flag bit is set, in table order."""
    col = _flag_column(table)
    return [row["code"] for row in _table(table).rows if row[col] and value & int(row[col])]


def _is_true(value: str) -> bool:
    return value.strip().lower() == "true"


# --------------------------------------------------------------------------------------------
# Provinces and filing abbreviations (DOMAIN §6.1)


def province_by_gb(gb: str | int) -> dict[str, str] | None:
    """Province row by GB/T 2260 code: 2 digits ('11'), 6 digits ending in 0000 ('110000') or int."""
    text = f"{gb:02d}" if isinstance(gb, int) else str(gb).strip()
    if len(text) == 6 and text.endswith("0000"):
        text = text[:2]
    if len(text) != 2 or not text.isdigit():
        return None
    row = _provinces_by_gb().get(text)
    return dict(row) if row is not None else None


@functools.cache
def _provinces_by_gb() -> dict[str, MappingProxyType]:
    # the first row of each GB code, as the scan of the table in file order found it
    index: dict[str, MappingProxyType] = {}
    for row in _table("provinces").rows:
        index.setdefault(row["gb2260"], row)
    return index


def province_by_filing_abbr(abbr: str) -> dict[str, str] | None:
    """Province row by filing abbreviation, primary (`filing_abbr`, e.g. 蜀) or alternative (川)."""
    abbr = abbr.strip()
    if not abbr:
        return None
    for row in _table("provinces").rows:
        if abbr == row["filing_abbr"] or abbr == row["filing_abbr_alt"]:
            return dict(row)
    return None


def filing_provinces() -> list[dict[str, str]]:
    """Provinces with a filing bureau (a `filing_abbr`); excludes Taiwan, Hong Kong, Macao."""
    return [dict(row) for row in _table("provinces").rows if row["filing_abbr"]]


def filing_abbreviations(include_alt: bool = True) -> list[str]:
    """All filing abbreviations in table order; with `include_alt` also the alternative ones."""
    result: list[str] = []
    for row in _table("provinces").rows:
        for col in ("filing_abbr", "filing_abbr_alt") if include_alt else ("filing_abbr",):
            if row[col] and row[col] not in result:
                result.append(row[col])
    return result


# --------------------------------------------------------------------------------------------
# Regions (GB/T 2260 province/city/county codes; DOMAIN §4.1). No full city list is shipped, so
# only the structure is checked: 6 digits, known province, city/county prefixes consistent.


def region_level(code: str) -> RegionLevel | None:
    """'province' (xx0000), 'city' (xxxx00) or 'county' (xxxxxx); None if not 6 digits."""
    if not isinstance(code, str) or len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "city"
    return "county"


def region_province(code: str) -> dict[str, str] | None:
    """Province row a 6-digit region code belongs to (first 2 digits + '0000'), or None."""
    if region_level(code) is None:
        return None
    return province_by_gb(code[:2])


def region_in(child: str, parent: str) -> bool:
    """True if region `child` lies inside region `parent` by code structure
    (a city inside a province: same first 2 digits; a county inside a city: same first 4 digits)."""
    child_level, parent_level = region_level(child), region_level(parent)
    if child_level is None or parent_level is None:
        return False
    if parent_level == "province":
        return child_level in ("city", "county") and child[:2] == parent[:2]
    if parent_level == "city":
        return child_level == "county" and child[:4] == parent[:4]
    return False


# --------------------------------------------------------------------------------------------
# Natures, certificates and other filtered views


def is_personal_nature(nature: str) -> bool:
    """True for unit natures flagged `is_personal` (PERSONAL)."""
    return nature in _personal_natures()


@functools.cache
def _personal_natures() -> frozenset[str]:
    # asked two or three times per website (filing_data); the tables never change once read
    return frozenset(row["code"] for row in _table("unit_natures").rows if _is_true(row["is_personal"]))


def principal_id_types(include_legacy: bool = False) -> list[dict[str, str]]:
    """Person-type documents (`id_types`) for principals. Rows without a MIIT form value
    (MILITARY_OFFICER_ID, "assumed not offered by current system") only with `include_legacy`."""
    return [dict(r) for r in _table("id_types").rows if include_legacy or r["miit_form_value"]]


def cert_types_for_nature(nature: str, include_legacy: bool = False) -> list[dict[str, str]]:
    """Certificate types selectable for a unit nature (DOMAIN §4.1 cert_type).

    Organisations: `certificate_types` rows whose `nature_code` is the nature. PERSONAL: the
    individual's own ID, i.e. the `id_types` table (see `principal_id_types`). Unknown nature -> [].
    """
    if is_personal_nature(nature):
        return principal_id_types(include_legacy)
    return [dict(r) for r in _table("certificate_types").rows if r["nature_code"] == nature]


def is_cert_type_allowed(nature: str, cert_type: str) -> bool:
    """True if `cert_type` may be chosen for `nature`."""
    return cert_type in _allowed_cert_types(nature)


@functools.cache
def _allowed_cert_types(nature: str) -> frozenset[str]:
    # the code tables are read once (`_all_tables`), so the answer per nature never changes
    return frozenset(row["code"] for row in cert_types_for_nature(nature))


def service_content_for_nature(nature: str) -> list[dict[str, str]]:
    """Service content choices; individuals only get rows with personal_allowed=true (S-HW)."""
    all_rows = _table("service_content").rows
    if is_personal_nature(nature):
        return [dict(r) for r in all_rows if _is_true(r["personal_allowed"])]
    return [dict(r) for r in all_rows]


def cancel_reasons_for(target: Literal["SUBJECT", "WEBSITE"]) -> list[dict[str, str]]:
    """Cancellation reasons applicable to a SUBJECT or WEBSITE cancellation."""
    return [dict(r) for r in _table("cancel_reasons").rows if target in r["applies_to"].split(";")]


def material_types_for(scope: Literal["SUBJECT", "WEBSITE"]) -> list[dict[str, str]]:
    """Material (attachment) types of one scope."""
    return [dict(r) for r in _table("material_types").rows if r["scope"] == scope]


def is_terminal_status(status: str) -> bool:
    """True if an application status (`application_statuses`) is terminal."""
    row = _table("application_statuses").by_code.get(status)
    if row is None:
        raise KeyError(f"unknown application status: {status!r}")
    return _is_true(row["terminal"])


def service_type_suffix(service_type: str) -> str:
    """Letter appended to the website-number index for a service type ('' website, 'A' App,
    'X' mini-program, 'K' quick app), from `service_types.number_suffix_pattern` (-N, -NA …)."""
    row = _table("service_types").by_code.get(service_type)
    if row is None:
        raise KeyError(f"unknown service type: {service_type!r}")
    return row["number_suffix_pattern"].removeprefix("-N")
