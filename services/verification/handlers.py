"""Verification use cases and message handlers.

- `on_application_submitted`: opens a case per application, or reopens it with the next version
  after a return / rejection (history kept). Idempotent: redeliveries are skipped by the inbox,
  and a version already seen (or withdrawn) is ignored. A newer version arriving once the case is
  with the bureau or approved is refused (`verification.application.withdrawal_refused`, kind
  "version"): the case keeps its version.
- `on_application_withdrawn`: the provider withdrew the application in filing → ABANDONED, or
  refused (kind "withdrawal") once the case is with the bureau or approved.
- `list_cases`, `get_case`: scoped reads (provider: own tenant; bureau: own province, cases that
  reached the bureau; admin: all).
- `verify`, `record_preapproval`, `decide`: lock the case in scope (404 outside it) and apply the
  transition of `review`.
"""

from __future__ import annotations

import functools
import re
import uuid
from typing import Any

import orjson
import structlog

from services.verification import review, store
from services.verification.model import (
    ABANDONED,
    ACTION_NAMES,
    PENDING_VERIFICATION,
    PREAPPROVAL_PENDING,
    REOPENABLE,
    STAGES,
    SUBMITTED_TO_BUREAU,
    WITHDRAWABLE,
    CaseDetail,
    CaseList,
    CaseQuery,
    CaseSummary,
    HistoryEntry,
    NumberOut,
    VersionOut,
    gb_of,
    needs_preapproval,
    province_row,
    stage_of,
    status_name,
    type_name,
)
from shared.auth import Principal, Role
from shared.bus import HandlerTable, MessageContext, PermanentError
from shared.contracts.filing import ApplicationSubmitted, ApplicationWithdrawn
from shared.contracts.verification import ApplicationStatusChanged
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem, not_found

log = structlog.get_logger(__name__)

CASE = "案件"


# ---------------------------------------------------------------- opening cases


@functools.lru_cache(maxsize=256)
def _bureau_of(value: str | None) -> tuple[str, str] | None:
    """(GB/T 2260 province, provinces.csv code) of the bureau for a province value; None when none
    files there. The code tables are static, so the answer is cached per value."""
    row = province_row(value)
    return None if row is None else (gb_of(row), row["code"])


def _first_status(e: ApplicationSubmitted, preapproval: bool) -> str:
    """A provider's application waits for the provider's verification (核实); a self-filing (自主备案,
    no provider) goes to its province's bureau at once (or to pre-approval first)."""
    if e.provider_id:
        return PENDING_VERIFICATION
    return PREAPPROVAL_PENDING if preapproval else SUBMITTED_TO_BUREAU


# A \u0000 escape that is not itself an escaped backslash followed by "u0000".
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def application_text(raw: dict[str, Any]) -> str:
    """The payload as the JSON text the case stores (`cases.application` is json). jsonb, which it was,
    refused a NUL character (the message went to the dead letters, DataError): refused alike."""
    text = orjson.dumps(raw)
    if b"\\u0000" in text and _NUL.search(text):
        raise PermanentError("application: a NUL character (\\u0000) cannot be stored")
    return text.decode()


def _case_fields(e: ApplicationSubmitted, raw: dict[str, Any], bureau: tuple[str, str]) -> dict[str, Any]:
    websites = raw.get("websites") or []
    domains = sorted({str(d).strip().lower().rstrip(".") for w in websites for d in (w.get("domains") or [])})
    preapproval = needs_preapproval(e.type, websites)
    return {
        "application_id": e.application_id,
        "provider_id": e.provider_id,
        "type": e.type,
        "source": e.source,
        "province": bureau[0],
        "province_code": bureau[1],
        "subject_id": e.subject.subject_id,
        "subject_name": e.subject.name,
        "domains": domains,
        "version": e.version,
        "status": _first_status(e, preapproval),
        "needs_preapproval": preapproval,
        "application": application_text(raw),  # the payload as received, encoded once
        "submitted_at": e.submitted_at,
        "submitted_by": e.submitted_by,
    }


def _same_tenant(provider_id: str, mctx: MessageContext) -> None:
    """Refuse (for good) a payload naming another tenant than its envelope."""
    if mctx.envelope.provider_id and mctx.envelope.provider_id != provider_id:
        raise PermanentError(f"envelope tenant {mctx.envelope.provider_id} ≠ payload provider_id {provider_id}")


def _bureau_for(e: ApplicationSubmitted, mctx: MessageContext) -> tuple[str, str]:
    """The bureau that files the application; refuses (for good) another tenant's payload or a
    province without a bureau."""
    _same_tenant(e.provider_id, mctx)
    if not e.provider_id and (e.filing_method != "SELF" or e.type != "FIRST_FILING"):
        raise PermanentError(f"application {e.application_id}: no provider, but not a self-filing's first filing")
    bureau = _bureau_of(e.province) or _bureau_of(e.subject.province)
    if bureau is None:
        raise PermanentError(f"application {e.application_id}: no filing bureau for province {e.province!r}")
    return bureau


async def on_application_submitted(e: ApplicationSubmitted, mctx: MessageContext) -> None:
    conn = mctx.conn
    fields = _case_fields(e, mctx.envelope.payload, _bureau_for(e, mctx))
    # One statement: the tombstone lookup, and for a new application the case, its first version
    # and its SUBMITTED history entry (store.OPEN_CASE_SQL).
    withdrawn, case_id = await store.open_case(conn, fields, mctx.envelope.id)
    if withdrawn is not None and e.version <= withdrawn:
        log.info("case.version_withdrawn", application_id=e.application_id, version=e.version, withdrawn=withdrawn)
        return  # withdrawn in filing before (or after) it got here: never opened again
    if case_id is not None:
        log.info("case.opened", case_id=str(case_id), application_id=e.application_id, type=e.type)
        await _announce(e, fields, case_id, mctx)
        return
    case = await conn.fetchrow("SELECT * FROM cases WHERE application_id = $1 FOR UPDATE", e.application_id)
    if case["provider_id"] != e.provider_id:
        raise PermanentError(f"application {e.application_id} belongs to another provider")
    if e.version <= case["version"]:
        log.info("case.version_seen", application_id=e.application_id, version=e.version, current=case["version"])
        return
    if case["status"] == ABANDONED:  # filing never resubmits an abandoned application
        log.warning("case.version_after_abandoned", application_id=e.application_id, version=e.version)
        return
    if case["status"] not in REOPENABLE:
        # with the bureau or approved (a modified cancellation request racing provider verification):
        # the case keeps its version; filing is told, and restores the application to it
        await review.refuse(conn, mctx.publish, case, kind="version", version=e.version,
                            actor=review.Actor(role="provider", id=e.submitted_by))
        log.info("case.version_refused", application_id=e.application_id, version=e.version, status=case["status"])
        return
    await store.reopen_and_record(conn, case["id"], case["status"], fields, mctx.envelope.id)
    await _announce(e, fields, case["id"], mctx)
    log.info("case.reopened", case_id=str(case["id"]), application_id=e.application_id, version=e.version)


async def _announce(e: ApplicationSubmitted, fields: dict[str, Any], case_id, mctx: MessageContext) -> None:
    """A self-filing's case opened in pre-approval: filing (which put the application with the
    bureau) is told, as after a provider's verification."""
    if fields["status"] != PREAPPROVAL_PENDING or e.provider_id:
        return
    await mctx.publish(ApplicationStatusChanged(
        application_id=e.application_id, version=e.version, case_id=str(case_id), provider_id="",
        status=PREAPPROVAL_PENDING, note="自主备案涉及前置审批", changed_at=e.submitted_at,
        changed_by="verification",
    ), provider_id=None)


async def on_applications_submitted(items: list[tuple[ApplicationSubmitted, MessageContext]]) -> None:
    """Batch handler (the consumer's run of `filing.application.submitted`): every new case of the run
    in one statement (`store.OPEN_CASES_SQL`, the rows `OPEN_CASE_SQL` writes); a message whose case
    exists already, or whose version was withdrawn, or whose application comes twice in the run, then
    goes through `on_application_submitted` — in order, in the same transaction. A message it refuses
    (another tenant, no bureau) makes this raise, and the consumer redoes the run one by one."""
    new: list[tuple[dict[str, Any], uuid.UUID]] = []
    fields_of: dict[str, dict[str, Any]] = {}
    for e, mctx in items:
        bureau = _bureau_for(e, mctx)
        if e.application_id not in fields_of:
            fields_of[e.application_id] = _case_fields(e, mctx.envelope.payload, bureau)
            new.append((fields_of[e.application_id], mctx.envelope.id))
    opened = await store.open_cases(items[0][1].conn, new)
    if opened:  # one line for the run (a line per case was a tenth of the process's CPU in an import)
        log.info("cases.opened", count=len(opened),
                 cases=[[application_id, str(case_id)] for application_id, case_id in opened.items()])
    done: set[str] = set()
    for e, mctx in items:
        case_id = opened.get(e.application_id)
        if case_id is not None and e.application_id not in done:
            done.add(e.application_id)
            await _announce(e, fields_of[e.application_id], case_id, mctx)
            continue
        await on_application_submitted(e, mctx)


async def on_application_withdrawn(e: ApplicationWithdrawn, mctx: MessageContext) -> None:
    """The provider withdrew the application in filing (deleted cancellation request, abandoned
    application). Idempotent: a case already ABANDONED, or a newer version than the one withdrawn,
    is left as it is; a case not opened yet gets a tombstone (`withdrawals`) so that a late
    `filing.application.submitted` of that version does not open it. A case with the bureau (or
    approved) is not touched: `verification.application.withdrawal_refused` tells filing."""
    conn = mctx.conn
    _same_tenant(e.provider_id, mctx)
    case = await conn.fetchrow("SELECT * FROM cases WHERE application_id = $1 FOR UPDATE", e.application_id)
    if case is not None and case["provider_id"] != e.provider_id:
        raise PermanentError(f"application {e.application_id} belongs to another provider")
    actor = review.Actor(role="provider", id=e.withdrawn_by)
    if case is not None and case["version"] > e.version:
        log.info("case.withdrawal_stale", application_id=e.application_id, version=e.version, current=case["version"])
        return
    if case is not None and case["status"] not in (*WITHDRAWABLE, ABANDONED):
        await review.refuse(conn, mctx.publish, case, kind="withdrawal", version=e.version, actor=actor)
        log.info("case.withdrawal_refused", application_id=e.application_id, status=case["status"])
        return
    await conn.execute(
        """INSERT INTO withdrawals (application_id, provider_id, version, reason, withdrawn_at, withdrawn_by)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (application_id) DO UPDATE SET version = greatest(withdrawals.version, EXCLUDED.version)""",
        e.application_id, e.provider_id, e.version, e.reason, e.withdrawn_at, e.withdrawn_by,
    )
    if case is None or case["status"] == ABANDONED:
        log.info("case.withdrawn_before_open" if case is None else "case.withdrawn_again",
                 application_id=e.application_id, version=e.version)
        return
    await review.withdraw(conn, case, version=e.version, reason=e.reason, actor=actor, at=e.withdrawn_at)
    log.info("case.withdrawn", case_id=str(case["id"]), application_id=e.application_id, version=e.version)


# ---------------------------------------------------------------- scope


def scope_of(who: Principal) -> store.Scope:
    if who.role == Role.PROVIDER:
        if not who.provider_id:
            raise Problem(403, "账号未关联接入服务提供者")
        return store.Scope(provider_id=who.provider_id)
    if who.role == Role.BUREAU:
        row = province_row(who.province)
        if row is None:
            raise Problem(403, "管局账号未设置有效的所属省份")
        return store.Scope(province=gb_of(row))
    if who.role == Role.ADMIN:
        return store.Scope()
    raise Problem(403, "当前角色无权查看核实案件")


def actor_of(who: Principal) -> review.Actor:
    return review.Actor(role=str(who.role), id=who.user_id, name=who.username)


def _case_uuid(case_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(case_id)
    except ValueError:
        raise not_found(CASE) from None


# ---------------------------------------------------------------- reads


def _summary(r) -> dict[str, Any]:
    province = province_row(r["province"]) or {}
    return dict(
        id=str(r["id"]), application_id=r["application_id"], version=r["version"], type=r["type"],
        type_name=type_name(r["type"]), source=r["source"], provider_id=r["provider_id"],
        provider_name=r["provider_name"], province=r["province"], province_code=r["province_code"],
        province_name=province.get("name_zh", ""), subject_id=r["subject_id"], subject_name=r["subject_name"],
        domains=list(r["domains"]), status=r["status"], status_name=status_name(r["status"]),
        stage=stage_of(r["status"]), needs_preapproval=r["needs_preapproval"], submitted_at=r["submitted_at"],
        first_submitted_at=r["first_submitted_at"], updated_at=r["updated_at"], subject_no=r["subject_no"],
        website_numbers=[NumberOut(**w) for w in r["website_numbers"] or []],
        retired_numbers=list(r["retired_numbers"] or []), decision_reason=r["decision_reason"],
    )


async def list_cases(ctx: ServiceContext, who: Principal, q: CaseQuery) -> CaseList:
    scope = scope_of(who)
    if q.status:
        statuses = tuple(q.status)
    else:
        default = {Role.PROVIDER: "verification", Role.BUREAU: "bureau"}.get(who.role, "all")
        statuses = STAGES[q.stage or default]
    if who.role == Role.PROVIDER and q.provider_id and q.provider_id != who.provider_id:
        return CaseList(items=[], total=0, page=q.page, page_size=q.page_size)
    rows, total = await store.list_cases(ctx.pool, scope, q, statuses)
    return CaseList(items=[CaseSummary(**_summary(r)) for r in rows], total=total, page=q.page,
                    page_size=q.page_size)


async def get_case(ctx: ServiceContext, who: Principal, case_id: str, version: int | None = None) -> CaseDetail:
    scope = scope_of(who)
    cid = _case_uuid(case_id)
    async with ctx.pool.acquire() as conn:
        row = await store.get_case(conn, cid, scope)
        if row is None:
            raise not_found(CASE)
        shown = version or row["version"]
        application = row["application"] if shown == row["version"] else await store.version_payload(conn, cid, shown)
        if application is None:
            raise not_found(f"第{shown}版申请")
        versions = await store.versions(conn, cid)
        history = await store.history(conn, cid)
    return CaseDetail(
        **_summary(row), application=application, shown_version=shown,
        versions=[VersionOut(**dict(v)) for v in versions],
        history=[
            HistoryEntry(version=h["version"], action=h["action"], action_name=ACTION_NAMES.get(h["action"], h["action"]),
                         status_from=h["status_from"], status_to=h["status_to"], text=h["text"],
                         actor_role=h["actor_role"], actor_id=h["actor_id"], actor_name=h["actor_name"], at=h["at"])
            for h in history
        ],
    )


# ---------------------------------------------------------------- actions


async def _act(ctx: ServiceContext, who: Principal, case_id: str, action) -> CaseDetail:
    """Lock the caller's case (404 outside their scope), apply `action(conn, case)`, answer the case."""
    scope = scope_of(who)
    cid = _case_uuid(case_id)
    async with transaction(ctx.pool) as conn:
        case = await store.lock_case(conn, cid, scope)
        if case is None:
            raise not_found(CASE)
        await action(conn, case)
    return await get_case(ctx, who, case_id)


async def verify(ctx: ServiceContext, who: Principal, case_id: str, *, result: str, opinion: str,
                 version: int | None) -> CaseDetail:
    """核实提交 (seed 1.3.4): only the provider that owns the case."""
    return await _act(ctx, who, case_id, lambda conn, case: review.verify(
        conn, ctx.outbox, case, result=result, opinion=opinion, actor=actor_of(who), version=version))


async def record_preapproval(ctx: ServiceContext, who: Principal, case_id: str, *, result: str,
                             note: str) -> CaseDetail:
    return await _act(ctx, who, case_id, lambda conn, case: review.preapproval(
        conn, ctx.outbox, case, result=result, note=note, actor=actor_of(who)))


async def decide(ctx: ServiceContext, who: Principal, case_id: str, *, decision: str, reason: str,
                 version: int | None) -> CaseDetail:
    return await _act(ctx, who, case_id, lambda conn, case: review.decide(
        conn, ctx.outbox, case, decision=decision, reason=reason, actor=actor_of(who), version=version))


def register(table: HandlerTable) -> None:
    """Message handlers of this service beyond the platform's (provider directory, revocations)."""
    table.on(ApplicationSubmitted)(on_application_submitted)
    table.on_many(ApplicationSubmitted)(on_applications_submitted)
    table.on(ApplicationWithdrawn)(on_application_withdrawn)
