"""State transitions of a case (DOMAIN §7.2), applied to a row the caller has locked.

Each function checks the transition, writes the new status and the history entry, and adds
the outcome event to the outbox — all in the caller's transaction. The HTTP handlers and the
auto-review loop both come through here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from services.verification import numbers, store
from services.verification.model import (
    ABANDONED,
    APPROVED,
    PENDING_VERIFICATION,
    PREAPPROVAL_PENDING,
    REJECTED,
    SUBMITTED_TO_BUREAU,
    VERIFY_RETURNED,
    status_name,
)
from shared.contracts.verification import (
    ApplicationApproved,
    ApplicationRejected,
    ApplicationReturned,
    ApplicationStatusChanged,
    NumberAssignment,
    WithdrawalRefused,
)
from shared.outbox import Outbox
from shared.web import Problem


@dataclass(frozen=True)
class Actor:
    role: str  # provider | bureau | system
    id: str
    name: str = ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_version(case: asyncpg.Record, version: int | None) -> None:
    if version is not None and version != case["version"]:
        raise Problem(
            409, f"申请已更新为第{case['version']}版（请求针对第{version}版），请刷新后重新处理",
            case_status=case["status"], version=case["version"],
        )


def _conflict(case: asyncpg.Record, detail: str) -> Problem:
    return Problem(409, detail, case_status=case["status"], status_name=status_name(case["status"]),
                   version=case["version"])


# A self-filing's case (自主备案) has no provider: provider_id "" in the case and the outcome payloads,
# no tenant (None) in the envelopes.


def _check_not_abandoned(case: asyncpg.Record) -> None:
    if case["status"] == ABANDONED:
        raise _conflict(case, f"该申请（第{case['version']}版）已由接入服务提供者撤回（已放弃），不能再核实或审核")


async def _history(conn, case, action: str, to: str, text: str, actor: Actor, at: dt.datetime,
                   details: dict | None = None) -> None:
    await store.add_history(
        conn, case["id"], case["version"], action, status_from=case["status"], status_to=to, text=text,
        actor_role=actor.role, actor_id=actor.id, actor_name=actor.name, at=at, details=details,
    )


async def verify(conn: asyncpg.Connection, outbox: Outbox, case: asyncpg.Record, *, result: str, opinion: str,
                 actor: Actor, version: int | None = None) -> str:
    """核实: pass → SUBMITTED_TO_BUREAU (or PREAPPROVAL_PENDING), return → VERIFY_RETURNED."""
    _check_not_abandoned(case)
    _check_version(case, version)
    if case["status"] != PENDING_VERIFICATION:
        if await conn.fetchval(
            "SELECT true FROM case_history WHERE case_id = $1 AND version = $2 AND action IN ('VERIFY_PASS', 'VERIFY_RETURN')",
            case["id"], case["version"],
        ):
            raise _conflict(case, f"该申请（第{case['version']}版）已核实，不能重复核实；当前状态：{status_name(case['status'])}")
        raise _conflict(case, f"该申请当前状态为“{status_name(case['status'])}”，不能核实")
    at = _now()
    pid = case["provider_id"]
    if result == "pass":
        to = PREAPPROVAL_PENDING if case["needs_preapproval"] else SUBMITTED_TO_BUREAU
        await _history(conn, case, "VERIFY_PASS", to, opinion, actor, at)
        await store.set_status(conn, case["id"], to, at, verified_at=at)
        await outbox.add(conn, ApplicationStatusChanged(
            application_id=case["application_id"], version=case["version"], case_id=str(case["id"]),
            provider_id=pid, status=to, note=opinion, changed_at=at, changed_by=actor.id,
        ), provider_id=pid or None)
        return to
    await _history(conn, case, "VERIFY_RETURN", VERIFY_RETURNED, opinion, actor, at)
    await store.set_status(conn, case["id"], VERIFY_RETURNED, at, verified_at=at, decision_reason=opinion)
    await outbox.add(conn, ApplicationReturned(
        application_id=case["application_id"], version=case["version"], case_id=str(case["id"]), provider_id=pid,
        opinion=opinion, returned_at=at, returned_by=actor.id,
    ), provider_id=pid or None)
    return VERIFY_RETURNED


async def preapproval(conn: asyncpg.Connection, outbox: Outbox, case: asyncpg.Record, *, result: str, note: str,
                      actor: Actor) -> str:
    """前置审批结果: pass → back to bureau review; fail → REJECTED (stage preapproval) with the note."""
    _check_not_abandoned(case)
    if case["status"] != PREAPPROVAL_PENDING:
        raise _conflict(case, f"该申请当前状态为“{status_name(case['status'])}”，不在前置审批中")
    at = _now()
    pid = case["provider_id"]
    if result == "pass":
        await _history(conn, case, "PREAPPROVAL_PASS", SUBMITTED_TO_BUREAU, note, actor, at)
        await store.set_status(conn, case["id"], SUBMITTED_TO_BUREAU, at)
        await outbox.add(conn, ApplicationStatusChanged(
            application_id=case["application_id"], version=case["version"], case_id=str(case["id"]),
            provider_id=pid, status=SUBMITTED_TO_BUREAU, note=note or "前置审批通过", changed_at=at,
            changed_by=actor.id,
        ), provider_id=pid or None)
        return SUBMITTED_TO_BUREAU
    if not note:
        raise Problem(422, "前置审批未通过时须填写说明", errors=[{"field": "note", "message": "前置审批未通过时必填"}])
    await _reject(conn, outbox, case, note, actor, at, action="PREAPPROVAL_FAIL", stage="preapproval")
    return REJECTED


async def _reject(conn, outbox: Outbox, case, reason: str, actor: Actor, at: dt.datetime, *, action: str,
                  stage: str) -> None:
    await _history(conn, case, action, REJECTED, reason, actor, at)
    await store.set_status(conn, case["id"], REJECTED, at, decided_at=at, decision_reason=reason)
    await outbox.add(conn, ApplicationRejected(
        application_id=case["application_id"], version=case["version"], case_id=str(case["id"]),
        provider_id=case["provider_id"], reason=reason, rejected_at=at, rejected_by=actor.id, stage=stage,
        application_type=case["type"],
    ), provider_id=case["provider_id"] or None)


async def decide(conn: asyncpg.Connection, outbox: Outbox, case: asyncpg.Record, *, decision: str, reason: str,
                 actor: Actor, version: int | None = None) -> str:
    """管局审核: approve (numbers assigned) or reject (reason required)."""
    _check_not_abandoned(case)
    _check_version(case, version)
    status = case["status"]
    if status in (APPROVED, REJECTED):
        raise _conflict(case, f"该申请（第{case['version']}版）已审核（{status_name(status)}），不能重复审核")
    if decision == "reject":
        if not reason:
            raise Problem(422, "驳回时须填写原因", errors=[{"field": "reason", "message": "驳回时必填"}])
        if status not in (SUBMITTED_TO_BUREAU, PREAPPROVAL_PENDING):
            raise _conflict(case, f"该申请当前状态为“{status_name(status)}”，尚未提交管局，不能审核")
        await _reject(conn, outbox, case, reason, actor, _now(), action="REJECT", stage="bureau")
        return REJECTED
    if status == PREAPPROVAL_PENDING:
        raise _conflict(case, "该申请涉及前置审批，须先录入前置审批结果，才能审核通过")
    if status != SUBMITTED_TO_BUREAU:
        raise _conflict(case, f"该申请当前状态为“{status_name(status)}”，尚未提交管局，不能审核")
    at = _now()
    app = case["application"]  # the current version, as submitted
    try:
        n = await numbers.assign_on_approval(
            conn, app_type=case["type"], province=case["province"], application_id=case["application_id"],
            app=app, at=at,
        )
    except numbers.NumberingError as e:
        raise _conflict(case, str(e)) from None
    details = {"subject_no": n.subject_no, "new_numbers": n.new_numbers, "retired_numbers": n.retired_numbers}
    await _history(conn, case, "APPROVE", APPROVED, reason, actor, at, details)
    await store.set_status(
        conn, case["id"], APPROVED, at, decided_at=at, decision_reason=reason or None, subject_no=n.subject_no,
        website_numbers=[{"website_id": w, "website_no": no} for w, no in n.websites],
        retired_numbers=n.retired_numbers,
    )
    await outbox.add(conn, ApplicationApproved(
        application_id=case["application_id"], version=case["version"], case_id=str(case["id"]),
        provider_id=case["provider_id"], subject_id=(app.get("subject") or {}).get("subject_id") or case["subject_id"],
        subject_no=n.subject_no, websites=[NumberAssignment(website_id=w, website_no=no) for w, no in n.websites],
        approved_at=at, approved_by=actor.id, opinion=reason, application_type=case["type"],
        province=case["province"], new_numbers=n.new_numbers, retired_numbers=n.retired_numbers,
        retired_websites=[NumberAssignment(website_id=w, website_no=no) for w, no in n.retired_websites],
        retired_subject_no=n.retired_subject_no,
    ), provider_id=case["provider_id"] or None)
    return APPROVED


# ---------------------------------------------------------------- withdrawals (filing.application.withdrawn)


async def withdraw(conn: asyncpg.Connection, case: asyncpg.Record, *, version: int, reason: str, actor: Actor,
                   at: dt.datetime) -> None:
    """The provider withdrew the application in filing: the case is closed (ABANDONED, final).
    The caller checked the status is one of `WITHDRAWABLE`."""
    text = {"deleted": "删除注销申请", "abandoned": "放弃申请"}.get(reason, reason)
    await store.add_history(
        conn, case["id"], max(version, case["version"]), "WITHDRAWN", status_from=case["status"], status_to=ABANDONED,
        text=text, actor_role=actor.role, actor_id=actor.id, actor_name=actor.name, at=at,
        details={"reason": reason, "withdrawn_version": version},
    )
    await store.set_status(conn, case["id"], ABANDONED, _now())


async def refuse(conn: asyncpg.Connection, publish, case: asyncpg.Record, *, kind: str, version: int,
                 actor: Actor) -> None:
    """A withdrawal (`kind` withdrawal) or a newer version (`kind` version) arrived once the case had
    reached the bureau: the case is unchanged; the refusal is recorded and reported to filing
    (`publish`: the message context's, so it is written in the message's transaction)."""
    name = status_name(case["status"])
    if kind == "withdrawal":
        action = "WITHDRAWAL_REFUSED"
        text = f"第{version}版的撤回未受理：申请（第{case['version']}版）已提交管局，当前状态为“{name}”"
    else:
        action = "VERSION_REFUSED"
        text = f"第{version}版未受理：申请（第{case['version']}版）已提交管局，当前状态为“{name}”"
    at = _now()
    await _history(conn, case, action, case["status"], text, actor, at, {"refused_version": version})
    await publish(WithdrawalRefused(
        application_id=case["application_id"], version=version, case_version=case["version"],
        case_id=str(case["id"]), provider_id=case["provider_id"], kind=kind, status=case["status"], reason=text,
        refused_at=at,
    ), provider_id=case["provider_id"] or None)
