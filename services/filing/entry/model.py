"""A first filing (首次备案) without I/O: parsing and validation (422 naming every field), the created
filing, and the wording of the database rules' refusals (`conflict_error`, `race_error`).

The rules themselves (DOMAIN §5.10) are checked and written by `entry/store.py`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import ValidationError

from shared import field_labels
from shared import validate as v
from shared.errors_zh import translate_errors
from shared.fields import TRUSTED
from shared.filing_data import (
    FieldError,
    FilingData,
    canonical,
    check_filing,
    domain_paths,
    principal_mobiles,
)
from shared.web import Problem

LIVE_EXCLUDED = ("CANCELLED", "WITHDRAWN")  # statuses that release a certificate, domain or mobile
IN_FLIGHT = (  # DOMAIN §5.10: the statuses of applications_one_in_flight (migration 020)
    "PENDING_VERIFICATION",
    "VERIFY_RETURNED",
    "SUBMITTED_TO_BUREAU",
    "SMS_PENDING",
    "PREAPPROVAL_PENDING",
    "REJECTED",
)


class FilingError(Problem):
    """A filing refused by a rule: 422 (invalid data, mobile taken) or 409 (already filed).

    A `Problem`, so an HTTP handler may let it propagate; the importer reads `.status`,
    `.detail` and `.errors` ([{field, message}] with paths into the FilingData)."""


@dataclass
class CreatedFiling:
    application_id: str
    subject_id: str
    website_ids: list[str]
    sponsor_user_id: str
    sponsor_username: str
    sponsor_password: str | None  # plaintext when generated here (show once); None when the caller gave a hash
    subject_name: str
    province: str  # GB/T 2260 of the subject
    submitted_at: dt.datetime
    preapproval_types: list[str] = field(default_factory=list)  # other than NONE, over all websites
    event_id: str = ""

    @property
    def needs_preapproval(self) -> bool:
        return bool(self.preapproval_types)


# ---------------------------------------------------------------- validation


def parse_filing(raw: Any, model: type[FilingData] = FilingData, *, trusted: bool = False) -> FilingData:
    """FilingData (or `model`, e.g. SelfFilingData) from untrusted JSON, refusing with 422 and paths
    like `websites[1].domains[0]`. `trusted`: the importer's sealed canonical form (`shared.fields.TRUSTED`:
    no field validator again)."""
    try:
        return model.model_validate(raw, context=TRUSTED if trusted else None)
    except ValidationError as e:
        errors = translate_errors(e)
        raise unprocessable(errors) from None


def unprocessable(errors: list[FieldError]) -> FilingError:
    """422 naming every field (the detail lists them by their Chinese labels)."""
    return FilingError(422, field_labels.summary(errors), errors=errors)


def validate_filing(data: FilingData, today: dt.date | None = None, *, copy: bool = True) -> FilingData:
    """check_filing, then the canonical form; 422 with every error. `copy=False` normalises `data` itself."""
    if copy:
        data = data.model_copy(deep=True)
    errors = check_filing(data, today, normalize=True)
    if errors:
        raise unprocessable(errors)
    return canonical(data, copy=False, checked=True)


def conflict_error(rows, mobiles: dict[str, str], domain_paths: dict[str, str]) -> FilingError:
    """The refusal for conflicting rows (kind cert / domain / mobile): 409 when the certificate or
    a domain is taken (naming the filing number, or "in progress"), else 422 for a mobile."""
    errors: list[FieldError] = []
    conflicts: list[dict[str, Any]] = []
    status = 422
    detail = ""
    order = ("blacklist_cert", "cert", "reserved_cert", "blacklist_domain", "domain", "reserved_domain", "mobile",
             "reserved_mobile")
    for r in sorted(rows, key=lambda r: order.index(r["kind"])):
        if r["kind"].startswith("reserved_"):  # held by a file being imported (services/filing/reservations.py)
            status = 409
            kind = r["kind"][len("reserved_"):]
            if kind == "cert":
                path = "subject.cert_number"
                msg = ("与正在导入的另一个文件冲突：该主办单位证件已在另一个正在导入的文件中，不能重复首次备案；"
                       "请等该文件导入结束后再核对")
            elif kind == "domain":
                path = domain_paths.get(r["key"], "websites")
                msg = f"与正在导入的另一个文件冲突：域名 {_display(r['key'])} 已在另一个正在导入的文件中，不能重复备案"
            else:
                path = mobiles.get(r["key"], "subject.principal.mobile")
                msg = "与正在导入的另一个文件冲突：该手机号码已用于另一个正在导入的文件中的主体，一个手机号码只能用于一个主体"
            errors.append({"field": path, "message": msg})
            conflicts.append({"field": path, "kind": f"import_reserved_{kind}"})
            detail = detail or msg
            continue
        if r["kind"] == "blacklist_cert":
            status = 409 if status == 409 else 422
            msg = f"该主办单位证件已列入备案信息黑名单（原因：{r['reason']}），不能备案"
            errors.append({"field": "subject.cert_number", "message": msg})
            conflicts.append({"field": "subject.cert_number", "kind": "blacklisted_certificate", "reason": r["reason"]})
            detail = detail or f"subject.cert_number：{msg}"
        elif r["kind"] == "blacklist_domain":
            status = 409 if status == 409 else 422
            path = domain_paths.get(r["key"], "websites")
            msg = f"域名 {_display(r['key'])} 已列入备案信息黑名单（原因：{r['reason']}），不能备案"
            errors.append({"field": path, "message": msg})
            conflicts.append({"field": path, "kind": "blacklisted_domain", "domain": r["key"], "reason": r["reason"]})
            detail = detail or f"{path}：{msg}"
        elif r["kind"] == "cert":
            status = 409
            if r["number"]:
                msg = f"该主办单位证件已备案（{r['number']}），不能重复首次备案；请使用“新增网站”为该主体增加网站"
            else:
                msg = "该主办单位证件已有正在办理的备案申请，不能重复首次备案；审核通过后请使用“新增网站”增加网站"
            errors.append({"field": "subject.cert_number", "message": msg})
            conflicts.append({"field": "subject.cert_number", "kind": "certificate", "filing_no": r["number"]})
            detail = detail or msg
        elif r["kind"] == "domain":
            status = 409
            path = domain_paths.get(r["key"], "websites")
            if r["number"]:
                msg = f"域名 {_display(r['key'])} 已备案（{r['number']}），不能重复备案"
            else:
                msg = f"域名 {_display(r['key'])} 已有正在办理中的备案申请，不能重复备案"
            errors.append({"field": path, "message": msg})
            conflicts.append(
                {"field": path, "kind": "domain", "domain": r["key"], "filing_no": r["number"],
                 "in_progress": r["number"] is None}
            )
            detail = detail or msg
        else:
            path = mobiles.get(r["key"], "subject.principal.mobile")
            msg = "该手机号码已被其他备案主体使用，一个手机号码只能用于一个主体"
            errors.append({"field": path, "message": msg})
            conflicts.append({"field": path, "kind": "mobile"})
            detail = detail or f"{path}：{msg}"
    return FilingError(status, detail, errors=errors, conflicts=conflicts)


def _display(ascii_domain: str) -> str:
    if "xn--" not in ascii_domain:
        return ascii_domain
    try:
        return v.validate_domain(ascii_domain, allow_gov_subdomain=True).unicode
    except v.InvalidValue:
        return ascii_domain


def _conflict_rows(rows: list, family: str, number: str) -> list[dict[str, Any]]:
    """The statement's conflict rows as `conflict_error` takes them (as `blacklist.blacklist_rows` and
    `reservations.rows` give theirs). A blacklisted certificate or domain is refused on its own (the
    blacklist is checked before anything else), as before the rules were one statement."""
    listed = [r for r in rows if r["kind"].startswith("blacklist_")]
    out = []
    for r in listed or rows:
        row = dict(r)
        if row["kind"] == "blacklist_cert":
            row.update(key=number, family=family)
        elif row["kind"] == "reserved_cert":
            row["key"] = row["key"].partition(":")[2]
        out.append(row)
    return out


def violated_key(e: asyncpg.UniqueViolationError) -> str:
    """The key a unique violation names ("Key (ascii)=(a.cn) already exists." → "a.cn"), or ""."""
    detail = getattr(e, "detail", "") or ""
    return detail.split("=(", 1)[1].rsplit(")", 1)[0] if "=(" in detail else ""


def username_taken() -> FilingError:
    return FilingError(409, "主办者用户名已存在，请更换后重试", errors=[{"field": "sponsor.username", "message": "用户名已存在"}])


def race_error(e: asyncpg.UniqueViolationError, data: FilingData) -> FilingError:
    """The refusal for a unique index violated by a concurrent filing, built from the violation."""
    key = violated_key(e)
    constraint = e.constraint_name or ""
    if constraint == "domains_live":
        return conflict_error([{"kind": "domain", "key": key, "number": None}], {}, domain_paths(data))
    if constraint == "subjects_cert_live":
        return conflict_error([{"kind": "cert", "key": key, "number": None}], {}, {})
    if constraint == "subject_mobiles_live":
        return conflict_error([{"kind": "mobile", "key": key, "number": None}], principal_mobiles(data), {})
    if constraint == "users_username":
        return username_taken()
    return FilingError(409, "备案信息与其他正在提交的备案冲突，请刷新后重试")
