"""The entry wizard (代为录入, seed 1.3.1): drafts saved at every step, then submit.

A draft belongs to one operator (the token's user id) of one provider; one unfinished draft
per operator (a partial unique index). Its `data` is
`{"subject": {...} | null, "websites": [{"id": wid, "data": {...}}], "another_website": bool | null}`.

Saving invalid input: every step saves what the operator typed even when it does not pass
validation (the operator must never lose typing), and answers 422 (or 409 for a database
rule) with `errors: [{field, message}]` — paths into the draft such as
`subject.principal.mobile` or `websites[1].domains[0]` — plus `saved: true` and `draft_id`.
A part that passes the field-level checks is stored in its normalised form (trimmed,
full-width characters converted); a part that does not is stored as sent. `GET` of a draft
re-validates everything and lists the current errors; submit refuses while any remain.

Self-filing (自主备案, issue 11): a self-registered sponsor uses the same drafts with `provider_id`
None (the draft belongs to no provider); its websites have no access record (`SelfWebsite`), and
submit writes the filing through `selffiling.store` (no provider, straight to the bureau).

Steps (`step` in the draft): 1 subject → 2 website → 3 review of the websites ("does the
subject run another website?": yes = POST another website, no = `PUT …/step
{"another_website": false}`) → 4 full review (`GET …/drafts/{id}`) → submit (step 5 is the
completion data in the submit answer).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from services.filing.blacklist import blacklist_rows
from services.filing.entry import model as filing_model
from services.filing.entry import preapproval as preapproval_contacts
from services.filing.entry import store as filing_store
from services.filing.entry import submits
from services.filing.entry.model import FilingError
from services.filing.selffiling import store as self_store
from shared import field_labels
from shared.db import transaction
from shared.errors_zh import translate_errors
from shared.filing_data import (
    FieldError,
    FilingData,
    SelfFilingData,
    SelfWebsite,
    Subject,
    Website,
    check_subject,
    check_website,
    check_websites_together,
    filing_warnings,
    subject_key,
)
from shared.service import ServiceContext
from shared.web import Problem, not_found

MAX_WEBSITES = 50


def as_uuid(value: str, what: str = "记录") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise not_found(what) from None


def empty_data() -> dict[str, Any]:
    return {"subject": None, "websites": [], "another_website": None}


# ---------------------------------------------------------------- evaluation (pure)


def _prefixed(errors: list[FieldError], prefix: str) -> list[FieldError]:
    return [{"field": f"{prefix}.{e['field']}" if e["field"] else prefix, "message": e["message"]} for e in errors]


def parse_part(model: type[BaseModel], raw: Any, prefix: str) -> tuple[BaseModel | None, list[FieldError]]:
    if not isinstance(raw, dict):
        return None, [{"field": prefix, "message": "须为对象"}]
    try:
        return model.model_validate(raw), []
    except ValidationError as e:
        return None, _prefixed(translate_errors(e), prefix)


def subject_errors(raw: Any, today: dt.date | None = None) -> tuple[Subject | None, list[FieldError]]:
    subject, errors = parse_part(Subject, raw, "subject")
    if subject is not None:
        check_subject(subject, errors, today or dt.date.today())
    return subject, errors  # type: ignore[return-value]


def website_errors(
    raw: Any, index: int, subject: Subject | None, today: dt.date | None = None, *, self_filing: bool = False
) -> tuple[Website | None, list[FieldError]]:
    site, errors = parse_part(SelfWebsite if self_filing else Website, raw, f"websites[{index}]")
    if site is not None:
        check_website(site, index, subject, errors, today=today or dt.date.today())
    return site, errors  # type: ignore[return-value]


def evaluate(data: dict[str, Any], today: dt.date | None = None, *, self_filing: bool = False) -> dict[str, Any]:
    """Every current error and warning of a draft, and whether it can be submitted."""
    errors: list[FieldError] = []
    subject = subject_for_sites = None
    if data.get("subject") is None:
        errors.append({"field": "subject", "message": "尚未填写主体信息"})
    else:
        subject, errs = subject_errors(data["subject"], today)
        errors += errs
        if errs:
            subject_for_sites = _subject_loose(data["subject"])
        else:
            subject_for_sites = subject
    websites = data.get("websites") or []
    if not websites:
        errors.append({"field": "websites", "message": "至少须填写 1 个网站"})
    parsed: list[Website] = []
    for i, w in enumerate(websites):
        site, errs = website_errors(w.get("data"), i, subject_for_sites, today, self_filing=self_filing)
        errors += errs
        if site is not None:
            parsed.append(site)
    if len(parsed) == len(websites):
        check_websites_together(parsed, errors)
    warnings: list[FieldError] = []
    if not errors and subject is not None:
        model = SelfFilingData if self_filing else FilingData
        warnings = filing_warnings(model(subject=subject, websites=parsed))
    return {"errors": errors, "warnings": warnings, "complete": not errors}


def _subject_loose(raw: Any) -> Subject | None:
    """The subject when it parses (even if a cross-field rule fails), for the website checks."""
    subject, _ = parse_part(Subject, raw, "subject")
    return subject  # type: ignore[return-value]


def step_of(data: dict[str, Any]) -> int:
    if data.get("subject") is None:
        return 1
    if not data.get("websites"):
        return 2
    if data.get("another_website") is not False:
        return 3
    return 4


def summary(row: asyncpg.Record | dict) -> dict[str, Any]:
    data = row["data"] or {}
    subject = data.get("subject") or {}
    return {
        "subject_name": subject.get("name") if isinstance(subject, dict) else None,
        "website_count": len(data.get("websites") or []),
        "website_names": [
            (w.get("data") or {}).get("name") for w in (data.get("websites") or []) if isinstance(w.get("data"), dict)
        ],
        "step": row["step"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def view(row: asyncpg.Record | dict) -> dict[str, Any]:
    data = row["data"] or empty_data()
    self_filing = row["provider_id"] is None
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "step": row["step"],
        "another_website": data.get("another_website"),
        "subject": data.get("subject"),
        "websites": [{"id": w["id"], "data": w.get("data")} for w in data.get("websites") or []],
        **evaluate(data, self_filing=self_filing),
        "filing_method": "SELF" if self_filing else "PROXY",
        "application_id": str(row["application_id"]) if row["application_id"] else None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


# ---------------------------------------------------------------- store

_COLS = "id, provider_id, operator_id, step, data, status, application_id, created_at, updated_at"


def _owner(provider_id: str | None, n: int) -> str:
    """The drafts of one owner: a provider's operator, or (provider None) a self-filing sponsor."""
    return f"provider_id = ${n}" if provider_id is not None else f"provider_id IS NULL AND ${n}::text IS NULL"


async def _current(conn, provider_id: str | None, operator_id: str):
    return await conn.fetchrow(
        f"SELECT {_COLS} FROM drafts WHERE {_owner(provider_id, 1)} AND operator_id = $2 AND status = 'DRAFT'",
        provider_id,
        operator_id,
    )


async def _lock(conn: asyncpg.Connection, draft_id: str, provider_id: str | None, operator_id: str):
    row = await conn.fetchrow(
        f"SELECT {_COLS} FROM drafts WHERE id = $1 AND {_owner(provider_id, 2)} AND operator_id = $3 FOR UPDATE",
        as_uuid(draft_id, "草稿"),
        provider_id,
        operator_id,
    )
    if row is None or row["status"] == "DELETED":
        raise not_found("草稿")
    if row["status"] == "SUBMITTED":
        raise Problem(409, "该草稿已提交，不能再修改", draft_id=str(row["id"]),
                      application_id=str(row["application_id"]) if row["application_id"] else None)
    return row


async def _save(conn: asyncpg.Connection, draft_id, data: dict[str, Any]):
    return await conn.fetchrow(
        f"UPDATE drafts SET data = $2, step = $3, updated_at = now() WHERE id = $1 RETURNING {_COLS}",
        draft_id,
        data,
        step_of(data),
    )


# ---------------------------------------------------------------- use cases


async def current_draft(ctx: ServiceContext, provider_id: str, operator_id: str) -> dict[str, Any]:
    row = await _current(ctx.pool, provider_id, operator_id)
    if row is None:
        raise Problem(404, "没有未完成的自主备案草稿" if provider_id is None else "没有未完成的代为录入草稿")
    return view(row)


async def get_draft(ctx: ServiceContext, draft_id: str, provider_id: str, operator_id: str) -> dict[str, Any]:
    row = await ctx.pool.fetchrow(
        f"SELECT {_COLS} FROM drafts WHERE id = $1 AND {_owner(provider_id, 2)} AND operator_id = $3 "
        "AND status <> 'DELETED'",
        as_uuid(draft_id, "草稿"),
        provider_id,
        operator_id,
    )
    if row is None:
        raise not_found("草稿")
    return view(row)


async def start_draft(ctx: ServiceContext, provider_id: str | None, operator_id: str) -> dict[str, Any]:
    async with transaction(ctx.pool) as conn:
        if provider_id is None:  # 自主备案: a self-registered sponsor with no subject yet
            await self_store.sponsor_row(conn, operator_id)
            owned = await self_store.owned_subject(conn, operator_id)
            if owned is not None:
                raise self_store.already_owns(owned)
        existing = await _current(conn, provider_id, operator_id)
        if existing is None:
            try:
                async with conn.transaction():
                    row = await conn.fetchrow(
                        f"INSERT INTO drafts (provider_id, operator_id, data) VALUES ($1, $2, $3) RETURNING {_COLS}",
                        provider_id,
                        operator_id,
                        empty_data(),
                    )
                return view(row)
            except asyncpg.UniqueViolationError:
                existing = await _current(conn, provider_id, operator_id)
    raise Problem(
        409,
        f"您有一份未完成的{'自主备案' if provider_id is None else '代为录入'}，请选择继续录入或删除后重新录入",
        draft_id=str(existing["id"]),
        summary=summary(existing),
    )


async def delete_draft(ctx: ServiceContext, draft_id: str, provider_id: str, operator_id: str) -> None:
    async with transaction(ctx.pool) as conn:
        row = await _lock(conn, draft_id, provider_id, operator_id)
        await conn.execute("UPDATE drafts SET status = 'DELETED', updated_at = now() WHERE id = $1", row["id"])


def _refuse(status: int, errors: list[FieldError], row, **extra) -> Problem:
    return Problem(
        status,
        f"{field_labels.summary(errors)}（已保存到草稿）",
        errors=errors,
        saved=True,
        draft_id=str(row["id"]),
        **extra,
    )


async def _db_conflicts(conn, *, subject: Subject | None = None, site: Website | None = None, index: int = 0):
    """The database rules of one part (certificate and subject mobile; a website's domains and mobile)."""
    mobiles: dict[str, str] = {}
    domains: dict[str, str] = {}
    cert = None
    if subject is not None:
        cert = subject_key(subject)
        mobiles[subject.principal.mobile] = "subject.principal.mobile"
    if site is not None:
        if site.principal is not None and not site.principal_same_as_subject:
            mobiles.setdefault(site.principal.mobile, f"websites[{index}].principal.mobile")
        for j, d in enumerate(site.domains):
            domains.setdefault(d, f"websites[{index}].domains[{j}]")
    rows = await conn.fetch(
        filing_store._CONFLICTS_SQL,
        cert[0] if cert else "",
        cert[1] if cert else "",
        list(mobiles),
        list(domains),
        list(filing_model.LIVE_EXCLUDED),
        filing_store._NIL,
    )
    rows = [*rows, *await blacklist_rows(conn, [cert] if cert else [], list(domains))]
    return filing_model.conflict_error(rows, mobiles, domains) if rows else None


async def put_subject(ctx: ServiceContext, draft_id: str, provider_id: str, operator_id: str, raw: dict) -> dict:
    async with transaction(ctx.pool) as conn:
        row = await _lock(conn, draft_id, provider_id, operator_id)
        data = row["data"]
        subject, errors = subject_errors(raw)
        if subject is not None and not errors and provider_id is None:  # 自主备案: the registered province
            try:
                self_store.check_province(subject, (await self_store.sponsor_row(conn, operator_id))["province"])
            except FilingError as e:
                errors = e.errors or []
        data["subject"] = subject.model_dump(mode="json") if subject is not None else raw
        saved = await _save(conn, row["id"], data)
        conflict = None if errors or subject is None else await _db_conflicts(conn, subject=subject)
    if errors:
        raise _refuse(422, errors, saved)
    if conflict is not None:
        raise _refuse(conflict.status, conflict.errors or [], saved, conflicts=conflict.extra.get("conflicts"))
    return view(saved)


async def save_website(
    ctx: ServiceContext, draft_id: str, provider_id: str, operator_id: str, raw: dict, website_id: str | None = None
) -> tuple[dict, bool]:
    """Add (website_id None) or replace a website of the draft; returns (view, created)."""
    async with transaction(ctx.pool) as conn:
        row = await _lock(conn, draft_id, provider_id, operator_id)
        data = row["data"]
        if data.get("subject") is None:
            raise Problem(409, "请先完成第一步：填写主办单位（主体）信息", draft_id=str(row["id"]))
        sites = data.setdefault("websites", [])
        if website_id is None:
            if len(sites) >= MAX_WEBSITES:
                raise Problem(409, f"一次最多录入 {MAX_WEBSITES} 个网站", draft_id=str(row["id"]))
            index = len(sites)
            entry = {"id": uuid.uuid4().hex[:12], "data": None}
            sites.append(entry)
        else:
            index = next((i for i, w in enumerate(sites) if w["id"] == website_id), -1)
            if index < 0:
                raise not_found("草稿中的网站")
            entry = sites[index]
        subject = _subject_loose(data["subject"])
        site, errors = website_errors(raw, index, subject, self_filing=provider_id is None)
        if site is not None:
            others = [
                w for i, w in enumerate(sites)
                if i != index and isinstance(w.get("data"), dict)
            ]
            taken = {d for w in others for d in (w["data"].get("domains") or []) if isinstance(d, str)}
            for j, d in enumerate(site.domains):
                if d in taken:
                    errors.append({"field": f"websites[{index}].domains[{j}]", "message": "域名与本次录入的其他网站重复"})
        entry["data"] = site.model_dump(mode="json") if site is not None else raw
        if website_id is None:
            data["another_website"] = None  # the question is asked again after each new website
        saved = await _save(conn, row["id"], data)
        conflict = None if errors or site is None else await _db_conflicts(conn, site=site, index=index)
    extra = {"website_id": entry["id"]}
    if errors:
        raise _refuse(422, errors, saved, **extra)
    if conflict is not None:
        raise _refuse(conflict.status, conflict.errors or [], saved, conflicts=conflict.extra.get("conflicts"), **extra)
    return {**view(saved), "website_id": entry["id"]}, website_id is None


async def delete_website(ctx: ServiceContext, draft_id: str, provider_id: str, operator_id: str, website_id: str) -> dict:
    async with transaction(ctx.pool) as conn:
        row = await _lock(conn, draft_id, provider_id, operator_id)
        data = row["data"]
        sites = data.get("websites") or []
        kept = [w for w in sites if w["id"] != website_id]
        if len(kept) == len(sites):
            raise not_found("草稿中的网站")
        data["websites"] = kept
        saved = await _save(conn, row["id"], data)
    return view(saved)


async def set_step(
    ctx: ServiceContext, draft_id: str, provider_id: str, operator_id: str, another_website: bool | None
) -> dict:
    async with transaction(ctx.pool) as conn:
        row = await _lock(conn, draft_id, provider_id, operator_id)
        data = row["data"]
        if another_website is False and not data.get("websites"):
            raise Problem(409, "请至少录入一个网站后再进入下一步", draft_id=str(row["id"]))
        data["another_website"] = another_website
        saved = await _save(conn, row["id"], data)
    return view(saved)


async def submit_draft(ctx: ServiceContext, draft_id: str, provider_id: str, operator_id: str) -> dict:
    async with transaction(ctx.pool) as conn:
        row = await _lock(conn, draft_id, provider_id, operator_id)
        data = row["data"]
        state = evaluate(data, self_filing=provider_id is None)
        if state["errors"]:
            errors = state["errors"]
            raise FilingError(422, f"草稿尚未填写完整或有错误：{field_labels.summary(errors)}",
                              errors=errors, draft_id=str(row["id"]))
        raw = {"subject": data["subject"], "websites": [w["data"] for w in data["websites"]]}
        if provider_id is None:  # 自主备案
            filing = filing_model.validate_filing(filing_model.parse_filing(raw, SelfFilingData), copy=False)
            made = await self_store.create_self_filing(conn, sponsor_id=operator_id, data=filing, outbox=ctx.outbox)
            await conn.execute(
                "UPDATE drafts SET status = 'SUBMITTED', application_id = $2, updated_at = now() WHERE id = $1",
                row["id"], uuid.UUID(made.application_id),
            )
            username = await conn.fetchval("SELECT username FROM users WHERE id = $1", uuid.UUID(operator_id))
            return self_store.completion(made, username, draft_id=str(row["id"]))
        filing = filing_model.parse_filing(raw)
        created = await filing_store.create_first_filing(
            conn, provider_id=provider_id, data=filing, actor=operator_id, source="entry", outbox=ctx.outbox,
            savepoint=False,
        )
        await conn.execute(
            "UPDATE drafts SET status = 'SUBMITTED', application_id = $2, updated_at = now() WHERE id = $1",
            row["id"],
            uuid.UUID(created.application_id),
        )
    return completion(created, draft_id=str(row["id"]))


async def submit_filing(ctx: ServiceContext, provider_id: str, operator_id: str, data: FilingData) -> dict:
    """`POST /filings`: a completed wizard in one request. Validated here (422 before anything is
    queued), then written by the process's group commit (`submits.SubmitBatcher`): alone with one
    statement when a writer is free, together with the submits that arrived meanwhile otherwise."""
    data = filing_model.validate_filing(data, copy=False)
    created = await _batcher(ctx).submit(provider_id, operator_id, data)
    return completion(created)


def _batcher(ctx: ServiceContext) -> submits.SubmitBatcher:
    batcher = ctx.extras.get("submits")
    if batcher is None:
        batcher = ctx.extras["submits"] = submits.SubmitBatcher(
            ctx.pool, ctx.outbox, writers=ctx.settings.submit_writers, max_batch=ctx.settings.submit_batch_max,
            linger=ctx.settings.submit_linger,
        )
    return batcher


def completion(created: filing_model.CreatedFiling, draft_id: str | None = None) -> dict[str, Any]:
    """Step 5 of the wizard: sponsor name, username and password (shown once), pre-approval contacts."""
    return {
        "application_id": created.application_id,
        "subject_id": created.subject_id,
        "website_ids": created.website_ids,
        "draft_id": draft_id,
        "status": "PENDING_VERIFICATION",
        "sponsor_name": created.subject_name,
        "username": created.sponsor_username,
        "password": created.sponsor_password,
        "needs_preapproval": created.needs_preapproval,
        "preapproval_contacts": preapproval_contacts.contacts_for(created.province, created.preapproval_types),
        "notice": "备案信息录入完成。请将主办者用户名和密码告知网站主办者并妥善保管，密码只显示这一次。",
        "submitted_at": created.submitted_at,
    }

