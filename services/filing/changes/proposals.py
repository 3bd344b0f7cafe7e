"""Shared steps of the change flows (`changes/handlers.py`, `changes/corrections.py`,
`cancellations/handlers.py`): the `filing.application.submitted` event of a change or cancellation,
and the validation of proposed data with the rules of `shared.filing_data` (422 naming the request
body's fields).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.filing.changes import store as cs
from services.filing.changes.model import (
    CANCEL_TYPES,
    WEBSITE_FIELDS,
    access_snap,
    masked_diff,
    rebase,
    subject_data,
    subject_snap,
    website_snap,
)
from services.filing.entry import handlers as entry
from services.filing.entry.model import FilingError, _display, violated_key
from shared import codes
from shared import validate as v
from shared.auth import Principal, Role
from shared.contracts.filing import ApplicationSubmitted
from shared.filing_data import (
    Access,
    FieldError,
    Subject,
    Website,
    WebsiteChange,
    canonical_access,
    canonical_website,
    check_access,
    check_subject,
    check_subject_change,
    check_website,
    check_website_change,
)
from shared.web import Problem


def provider_principal(provider_id: str, actor: str) -> Principal:
    return Principal(session_id="", user_id=actor, role=Role.PROVIDER, username=actor, provider_id=provider_id)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def subject_model(row: Any) -> Subject | None:
    try:
        return Subject.model_validate(subject_data(row))
    except ValidationError:
        return None


def access_model(row: Any) -> dict[str, Any]:
    return {
        "access_methods": list(row["access_methods"]),
        "ip_ranges": [{"start_ip": r.partition("-")[0], "end_ip": r.partition("-")[2] or r.partition("-")[0]}
                      for r in row["ip_ranges"]],
        "server_locations": list(row["server_locations"]),
    }


def parse_part(model, raw: Any, prefix: str):
    """`entry.parse_part`, refused (422) on any error."""
    obj, errors = entry.parse_part(model, raw, prefix)
    if errors:
        raise cs.refuse(errors)
    return obj


def race_problem(e: asyncpg.UniqueViolationError, *, domains: dict[str, str] | None = None,
                 mobiles: dict[str, str] | None = None) -> Problem:
    """A unique index lost to a concurrent filing or change, answered like the check would."""
    key = violated_key(e)
    if e.constraint_name == "domains_live":
        path = (domains or {}).get(key, "website.domains[0]")
        msg = f"域名 {_display(key)} 已有正在办理中的备案申请，不能重复备案"
        return FilingError(409, msg, errors=[{"field": path, "message": msg}])
    if e.constraint_name == "subject_mobiles_live":
        path = (mobiles or {}).get(key, "principal.mobile")
        msg = "该手机号码已被其他备案主体使用，一个手机号码只能用于一个主体"
        return FilingError(422, f"{path}：{msg}", errors=[{"field": path, "message": msg}])
    if e.constraint_name == "accesses_live":
        return Problem(409, "本接入服务提供者已接入该网站（或已有办理中的新增接入申请）")
    return Problem(409, "与其他正在提交的申请冲突，请刷新后重试")


def need_access(access: Any) -> None:
    if access is None:
        raise Problem(409, "本接入服务提供者没有该网站的有效接入信息，不能办理此业务")


# ---------------------------------------------------------------- the submitted event


async def build_event(
    conn: asyncpg.Connection, *, app_type: str, subject: Any, proposal: dict[str, Any], application_id: uuid.UUID,
    version: int, provider_id: str, actor: str, now: dt.datetime,
) -> tuple[ApplicationSubmitted, list[str], list[dict[str, Any]]]:
    """`filing.application.submitted` of a change or cancellation: the subject (proposed for
    CHANGE_SUBJECT) with its number, and the websites the application is about (all live ones
    for subject-wide types) with this provider's access. Returns (event, website ids, the
    websites' data for the pre-approval rule)."""
    sdata = proposal.get("subject") or subject_data(subject)
    sp = sdata["principal"]
    changes: dict[str, Any] = {"type": app_type}
    snaps = []
    datas: list[dict[str, Any]] = []
    if app_type == "ADD_WEBSITE":
        w = proposal["website"]
        snaps.append(website_snap(w, website_id=proposal["website_id"], website_no=None, domains=w["domains"],
                                  access=w["access"], subject_principal=sp))
        datas.append(w)
        changes["website_ids"] = [proposal["website_id"]]
    elif proposal.get("website_id"):
        wid = uuid.UUID(proposal["website_id"])
        w = dict(await conn.fetchrow("SELECT * FROM websites WHERE id = $1", wid))
        domains = (await cs.live_domains(conn, [wid]))[wid]
        acc = await cs.provider_access(conn, wid, provider_id)
        access = dict(acc) if acc is not None else None
        before = website_snap(w, website_id=str(wid), website_no=w["website_no"], domains=domains, access=access,
                              subject_principal=sp)
        if app_type == "CHANGE_WEBSITE":
            w = {**w, **proposal["website"]}
            domains = proposal["website"]["domains"]
        if app_type in ("ADD_ACCESS", "CHANGE_ACCESS"):
            access = proposal["access"]
        after = website_snap(w, website_id=str(wid), website_no=w["website_no"], domains=domains, access=access,
                             subject_principal=sp)
        snaps.append(after)
        datas.append(w)
        changes["website_id"] = str(wid)
        if app_type == "CHANGE_WEBSITE":
            changes["website"] = masked_diff(before.model_dump(mode="json"), after.model_dump(mode="json"))
        if app_type in ("ADD_ACCESS", "CHANGE_ACCESS"):
            changes["access"] = {
                "before": before.access.model_dump(mode="json") if before.access and app_type == "CHANGE_ACCESS"
                else None,
                "after": access_snap(access).model_dump(mode="json"),
            }
    else:  # subject-wide: CHANGE_SUBJECT, CANCEL_SUBJECT
        sites = await cs.live_websites(conn, subject["id"])
        domains = await cs.live_domains(conn, [w["id"] for w in sites])
        accesses = await cs.active_accesses(conn, [w["id"] for w in sites], provider_id)
        for w in sites:
            acc = accesses.get(w["id"])
            snaps.append(website_snap(dict(w), website_id=str(w["id"]), website_no=w["website_no"],
                                      domains=domains[w["id"]], access=dict(acc) if acc else None,
                                      subject_principal=sp))
    subject_snapshot = subject_snap(sdata, str(subject["id"]), subject["subject_no"])
    if app_type == "CHANGE_SUBJECT":
        old = subject_snap(subject_data(subject), str(subject["id"]), subject["subject_no"])
        changes["subject"] = masked_diff(old.model_dump(mode="json"), subject_snapshot.model_dump(mode="json"))
    if app_type in CANCEL_TYPES:
        changes.update({k: proposal.get(k) for k in ("cancellation_id", "target_type", "target_no", "reason_code",
                                                     "reason")})
        changes["reason_name"] = codes.name_zh("cancel_reasons", proposal.get("reason_code") or "")
    event = ApplicationSubmitted(
        application_id=str(application_id), version=version, type=app_type, provider_id=provider_id,
        province=subject["province"], filing_method=subject["filing_method"], subject=subject_snapshot,
        websites=snaps, submitted_at=now, submitted_by=actor, source="entry", changes=changes,
    )
    return event, [s.website_id for s in snaps], datas


# ---------------------------------------------------------------- validation of proposals


def validated_new_website(subject: Any, site: Website, path: str = "website") -> Website:
    errors: list[FieldError] = []
    check_website(site, 0, subject_model(subject), errors, new_website=True, normalize=True)
    if errors:
        raise cs.refuse(rebase(errors, "websites[0]", path))
    return canonical_website(site, copy=False, checked=True)


def validated_access(access: Access, path: str) -> Access:
    errors: list[FieldError] = []
    check_access(access, path, errors, normalize=True)
    if errors:
        raise cs.refuse(errors)
    return canonical_access(access, copy=False, checked=True)


def validated_subject_change(subject: Any, websites: list[Any], proposed: Subject, path: str = "subject") -> Subject:
    errors: list[FieldError] = []
    check_subject(proposed, errors, dt.date.today(), path, normalize=True)
    current = subject_model(subject)
    if current is not None:
        check_subject_change(current, proposed, errors, path)
    sp = proposed.principal.model_dump(mode="json")
    for w in websites:  # DOMAIN §4.2 consistency with the websites' own principals
        if w["principal_same_as_subject"] or not w["principal"]:
            continue
        for field, message in v.principal_consistency_errors(sp, w["principal"]):
            errors.append({"field": f"{path}.principal.{field}", "message": f"{message}（网站“{w['name']}”的负责人）"})
    if errors:
        raise cs.refuse(errors)
    if proposed.model_dump(mode="json") == subject_data(subject):
        raise cs.refuse([{"field": path, "message": "变更内容与当前备案信息相同，未作任何修改"}])
    return proposed


def validated_website_change(
    subject: Any, website: Any, access: Any, domains: list[str], change: WebsiteChange, path: str = "website"
) -> dict[str, Any]:
    """The proposed website fields (+ the domains kept), canonical; 422 naming the body fields."""
    errors: list[FieldError] = []
    check_website_change(change, domains, errors, path)
    site = Website.model_validate({
        **change.model_dump(mode="json"), "service_type": website["service_type"], "access": access_model(access),
    })
    werrors: list[FieldError] = []
    check_website(site, 0, subject_model(subject), werrors, new_website=False, normalize=True)
    errors += [e for e in rebase(werrors, "websites[0]", path) if not e["field"].startswith(f"{path}.access")]
    if errors:
        raise cs.refuse(errors)
    site = canonical_website(site, copy=False, checked=True)
    dump = site.model_dump(mode="json")
    proposed = {k: dump[k] for k in WEBSITE_FIELDS} | {"domains": list(site.domains)}
    current = {k: website[k] for k in WEBSITE_FIELDS} | {"domains": domains}
    if proposed == current:
        raise cs.refuse([{"field": path, "message": "变更内容与当前备案信息相同，未作任何修改"}])
    return proposed


def own_mobile(principal: dict | None, same: bool, path: str) -> dict[str, str]:
    if same or not principal:
        return {}
    return {principal["mobile"]: path}
