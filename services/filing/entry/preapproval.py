"""Contacts of the pre-approval departments (前置审批部门) of a province (seed 1.3.1 step 5).

The completion page of the entry wizard shows them when a website involves pre-approval items.
The table is a CSV file: `province` (provinces.csv code such as BJ, the GB/T 2260 code such as
110000, or `*` for every province), `preapproval_type` (preapproval_types.csv code),
`department` (`{province}` is replaced by the province name), `phone`, `address`, `website`,
`note`. A province-specific row wins over a `*` row of the same type.

The shipped file (`data/preapproval_contacts.csv`) holds plausible sample values marked
"示例数据，请按实际配置"; point `ICP_PREAPPROVAL_CONTACTS_FILE` at the deployment's own file.
"""

from __future__ import annotations

import csv
import functools
import os
from pathlib import Path

from shared import codes

DEFAULT_FILE = Path(__file__).parents[1] / "data" / "preapproval_contacts.csv"  # services/filing/data
ENV_VAR = "ICP_PREAPPROVAL_CONTACTS_FILE"
_DEFAULT_PATH = str(DEFAULT_FILE)
_FIELDS = ("department", "phone", "address", "website", "note")


def contacts_file() -> Path:
    return Path(_contacts_path())


def _contacts_path() -> str:
    return os.environ.get(ENV_VAR) or _DEFAULT_PATH


@functools.cache
def _load(path: str) -> dict[tuple[str, str], dict[str, str]]:
    table: dict[tuple[str, str], dict[str, str]] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            province = (row.get("province") or "").strip()
            ptype = (row.get("preapproval_type") or "").strip()
            if not province or not ptype:
                raise RuntimeError(f"{path} line {line}: province and preapproval_type are required")
            key = _province_key(province)
            if key is None:
                raise RuntimeError(f"{path} line {line}: unknown province {province!r}")
            if not codes.is_valid("preapproval_types", ptype):
                raise RuntimeError(f"{path} line {line}: unknown pre-approval type {ptype!r}")
            table[(key, ptype)] = {f: (row.get(f) or "").strip() for f in _FIELDS}
    return table


def _province_key(value: str) -> str | None:
    """'*', or the 2-digit GB/T 2260 prefix of a province given as BJ / 11 / 110000."""
    if value == "*":
        return "*"
    row = codes.get("provinces", value.upper()) or codes.province_by_gb(value)
    return row["gb2260"] if row else None


def contacts_for(province: str, types: list[str]) -> list[dict[str, str]]:
    """Contacts for a subject province (GB/T 2260, e.g. 110000) and the chosen pre-approval types."""
    # most submits involve no pre-approval: no Path built per call nor province looked up for them
    # (6.2 → 1.5 µs); the table still loads, so a broken file fails whatever the types
    table = _load(_contacts_path())
    if all(t == "NONE" for t in types):
        return []
    prov = codes.province_by_gb(province) or codes.get("provinces", province)
    key = prov["gb2260"] if prov else ""
    name = prov["name_zh"] if prov else ""
    out = []
    for t in types:
        if t == "NONE":
            continue
        row = table.get((key, t)) or table.get(("*", t))
        entry = {
            "preapproval_type": t,
            "preapproval_type_name": codes.name_zh("preapproval_types", t) or t,
            "province": province,
            "province_name": name,
            **{f: "" for f in _FIELDS},
        }
        if row:
            entry.update({f: row[f].replace("{province}", name) for f in _FIELDS})
        else:
            authority = (codes.get("preapproval_types", t) or {}).get("approving_authority_zh", "")
            entry["department"] = f"{name}{authority}" if authority else ""
            entry["note"] = "未配置联系方式，请咨询当地主管部门"
        out.append(entry)
    return out


def reload() -> None:
    """Forget the cached table (after the file changed)."""
    _load.cache_clear()
