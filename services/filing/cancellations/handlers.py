"""Cancellation requests (注销主体申请 / 注销网站申请, seed 1.5.2–1.5.3, DOMAIN §4.8, §7.3).

A request targets a filed subject or website this provider accesses (by id or filing number),
with a reason from `codes/cancel_reasons.csv` (OTHER needs an explanation). It drives an
application of type CANCEL_SUBJECT / CANCEL_WEBSITE that goes through verification like any
other (`filing.application.submitted`); its status follows the application:

    APPLIED (待核实 / 核实退回 / 已提交管局)  → APPROVED (the approval cancels, `outcomes/effects.py`)
                                              → REJECTED (reason shown; 再次提出 = next version)

Modify (next version with the new reason) and delete (application ABANDONED) are possible only
while the request has not reached the bureau (待核实 or 核实退回): once submitted to the bureau it
can no longer be withdrawn (DOMAIN §7.3). Deleting publishes `filing.application.withdrawn`; should
verification have passed the request meanwhile (the race of a provider verifying while the request is
deleted or modified), it refuses and the request is restored (`outcomes.on_withdrawal_refused`). A rejected request does not block the subject's other
business (migration 050); re-applying it needs the subject free again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.filing.changes import store as cs
from services.filing.changes.corrections import mark_abandoned
from services.filing.changes.model import (
    FILED_SUBJECT,
    LIVE_WEBSITE,
    MODIFIABLE,
    CancellationChangeIn,
    CancellationIn,
    CancellationQuery,
    cancel_status,
    cancel_status_name,
    reason_errors,
)
from services.filing.changes.proposals import build_event, provider_principal
from services.filing.records.store import Where, like, provider_scope, subject_visible, website_visible
from shared import codes
from shared import validate as v
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem, not_found

WHAT = "注销申请"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- views

_SELECT = """
SELECT c.*, a.status AS app_status, a.bureau_reason, a.version AS app_version, s.name AS subject_name,
       s.status AS subject_status, w.name AS website_name, w.status AS website_status
  FROM cancellations c
  JOIN applications a ON a.id = c.application_id
  JOIN subjects s ON s.id = c.subject_id
  LEFT JOIN websites w ON w.id = c.website_id
"""


def _out(r: Any, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    status = cancel_status(r["app_status"], r["deleted_at"] is not None)
    website = r["target_type"] == "WEBSITE"
    return {
        "id": str(r["id"]),
        "target_type": r["target_type"],
        "target_id": str(r["website_id"] if website else r["subject_id"]),
        "subject_id": str(r["subject_id"]),
        "website_id": str(r["website_id"]) if website else None,
        "target_no": r["target_no"],
        "target_name": r["website_name"] if website else r["subject_name"],
        "subject_name": r["subject_name"],
        "target_status": r["website_status"] if website else r["subject_status"],
        "status": status,
        "status_name": cancel_status_name(status),
        "application_id": str(r["application_id"]),
        "application_status": r["app_status"],
        "reason_code": r["reason_code"],
        "reason_name": codes.name_zh("cancel_reasons", r["reason_code"]),
        "reason": r["reason"],
        "bureau_reason": r["bureau_reason"] if status == "REJECTED" else None,
        "can_apply": False,
        "can_modify": status == "APPLIED" and r["app_status"] in MODIFIABLE,
        "can_delete": status == "APPLIED" and r["app_status"] in MODIFIABLE,
        "can_reapply": status == "REJECTED",
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
        "history": history or [],
    }


async def _history(conn, r: Any) -> list[dict[str, Any]]:
    own = await conn.fetch("SELECT * FROM cancellation_history WHERE cancellation_id = $1 ORDER BY id", r["id"])
    review = await conn.fetch(
        "SELECT * FROM application_status_history WHERE application_id = $1 ORDER BY id", r["application_id"]
    )
    names = {"APPLY": "提出注销申请", "MODIFY": "修改注销申请", "DELETE": "删除注销申请", "REAPPLY": "再次提出注销申请",
             "RESTORE": "删除或修改未受理（已提交管局），注销申请恢复"}
    out = [
        {"kind": "request", "action": h["action"], "name": names[h["action"]], "reason_code": h["reason_code"],
         "reason": h["reason"], "version": h["version"], "actor": h["actor"], "at": h["at"]}
        for h in own
    ]
    out += [
        {"kind": "review", "action": h["status"],
         "name": codes.name_zh("application_statuses", h["status"]) or h["status"], "reason": h["note"],
         "version": h["version"], "actor": h["actor"], "at": h["at"]}
        for h in review
    ]
    return sorted(out, key=lambda h: h["at"])


async def _detail(conn, cancellation_id: uuid.UUID, provider_id: str) -> dict[str, Any]:
    r = await conn.fetchrow(_SELECT + " WHERE c.id = $1 AND c.provider_id = $2 AND c.deleted_at IS NULL",
                            cancellation_id, provider_id)
    if r is None:
        raise not_found(WHAT)
    return _out(r, await _history(conn, r))


async def get_cancellation(ctx: ServiceContext, provider_id: str, cancellation_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        return await _detail(conn, cs.as_uuid(cancellation_id, WHAT), provider_id)


# ---------------------------------------------------------------- listing (seed 1.5.2 查询)


def _match(w: Where, q: CancellationQuery, number_col: str, *name_cols: str) -> None:
    """The number and name filters (contains, case-insensitive)."""
    if q.number:
        w.add(f"{number_col} ILIKE {w.param(like(v.normalize_text(q.number)))}")
    if q.name:
        p = w.param(like(q.name))
        w.add("(" + " OR ".join(f"{col} ILIKE {p}" for col in name_cols) + ")")


async def list_cancellations(ctx: ServiceContext, provider_id: str, q: CancellationQuery) -> dict[str, Any]:
    if q.status == "NOT_APPLIED":
        return await _list_candidates(ctx, provider_id, q)
    w = Where()
    w.add(f"c.provider_id = {w.param(provider_id)}")
    w.add("c.deleted_at IS NULL")
    if q.status == "APPLIED":
        w.add("a.status NOT IN ('APPROVED', 'REJECTED', 'ABANDONED')")
    elif q.status in ("APPROVED", "REJECTED"):
        w.add(f"a.status = {w.param(q.status)}")
    if q.target_type:
        w.add(f"c.target_type = {w.param(q.target_type)}")
    _match(w, q, "c.target_no", "s.name", "w.name")
    limit, offset = w.param(q.page_size), w.param((q.page - 1) * q.page_size)
    sql = _SELECT.replace("SELECT c.*,", "SELECT c.*, count(*) OVER () AS total,", 1)
    rows = await ctx.pool.fetch(
        f"{sql} WHERE {w.sql()} ORDER BY c.updated_at DESC, c.id LIMIT {limit} OFFSET {offset}", *w.params
    )
    total = rows[0]["total"] if rows else await ctx.pool.fetchval(
        f"SELECT count(*) FROM ({_SELECT} WHERE {w.sql()}) t", *w.params[:-2]
    )
    return {"items": [_out(r) for r in rows], "total": total, "page": q.page, "page_size": q.page_size}


async def _list_candidates(ctx: ServiceContext, provider_id: str, q: CancellationQuery) -> dict[str, Any]:
    """NOT_APPLIED: filed subjects / websites this provider accesses, with no request in progress."""
    w = Where()
    scope = provider_scope(w, provider_id)
    open_request = ("EXISTS (SELECT 1 FROM cancellations c JOIN applications a ON a.id = c.application_id "
                    "WHERE c.deleted_at IS NULL AND a.status NOT IN ('APPROVED', 'ABANDONED') AND {cond})")
    parts = []
    if q.target_type in (None, "SUBJECT"):
        parts.append(
            f"""SELECT 'SUBJECT' AS target_type, s.id AS target_id, s.id AS subject_id, NULL::uuid AS website_id,
                       s.subject_no AS target_no, s.name AS target_name, s.name AS subject_name,
                       s.status AS target_status, s.approved_at AS sort_at
                  FROM subjects s
                 WHERE {scope} AND s.subject_no IS NOT NULL
                   AND s.status = ANY({w.param(list(FILED_SUBJECT) + ['BLACKLISTED'])}::text[])
                   AND NOT {open_request.format(cond="c.target_type = 'SUBJECT' AND c.subject_id = s.id")}"""
        )
    if q.target_type in (None, "WEBSITE"):
        parts.append(
            f"""SELECT 'WEBSITE' AS target_type, ws.id AS target_id, ws.subject_id, ws.id AS website_id,
                       ws.website_no AS target_no, ws.name AS target_name, s.name AS subject_name,
                       ws.status AS target_status, ws.approved_at AS sort_at
                  FROM websites ws JOIN subjects s ON s.id = ws.subject_id
                 WHERE {scope} AND ws.website_no IS NOT NULL AND s.status <> 'CANCELLED'
                   AND ws.status = ANY({w.param(list(LIVE_WEBSITE))}::text[])
                   AND NOT {open_request.format(cond="c.website_id = ws.id")}
                   AND NOT {open_request.format(cond="c.target_type = 'SUBJECT' AND c.subject_id = ws.subject_id")}"""
        )
    # the parts only took parameters from `w` so far: its conditions are the outer query's
    _match(w, q, "t.target_no", "t.target_name", "t.subject_name")
    limit, offset = w.param(q.page_size), w.param((q.page - 1) * q.page_size)
    rows = await ctx.pool.fetch(
        f"""SELECT t.*, count(*) OVER () AS total FROM ({' UNION ALL '.join(parts)}) t WHERE {w.sql()}
            ORDER BY t.sort_at DESC NULLS LAST, t.target_no LIMIT {limit} OFFSET {offset}""",
        *w.params,
    )
    total = rows[0]["total"] if rows else await ctx.pool.fetchval(
        f"SELECT count(*) FROM ({' UNION ALL '.join(parts)}) t WHERE {w.sql()}", *w.params[:-2]
    )
    items = [
        {
            "id": None, "target_type": r["target_type"], "target_id": str(r["target_id"]),
            "subject_id": str(r["subject_id"]), "website_id": str(r["website_id"]) if r["website_id"] else None,
            "target_no": r["target_no"], "target_name": r["target_name"], "subject_name": r["subject_name"],
            "target_status": r["target_status"], "status": "NOT_APPLIED", "status_name": cancel_status_name("NOT_APPLIED"),
            "can_apply": True, "can_modify": False, "can_delete": False, "can_reapply": False,
        }
        for r in rows
    ]
    return {"items": items, "total": total, "page": q.page, "page_size": q.page_size}


# ---------------------------------------------------------------- apply (提出注销申请)


def _check_reason(target_type: str, reason_code: str, reason: str) -> None:
    errors = reason_errors(target_type, reason_code, reason)
    if errors:
        raise cs.refuse(errors)


async def _find_target(conn, provider_id: str, body: CancellationIn):
    """(subject id, website id | None) of the target in this provider's records; 404 otherwise."""
    who = provider_principal(provider_id, "")
    what = "主体" if body.target_type == "SUBJECT" else "网站"
    if body.target_id:
        target_id = cs.as_uuid(body.target_id, what)
    else:
        try:
            number = v.validate_filing_number(body.target_no, website=body.target_type == "WEBSITE")
        except v.InvalidValue as e:
            raise cs.refuse([{"field": "target_no", "message": e.message}]) from None
        table, column = ("subjects", "subject_no") if body.target_type == "SUBJECT" else ("websites", "website_no")
        target_id = await conn.fetchval(
            f"SELECT id FROM {table} WHERE {column} = $1 ORDER BY status = 'CANCELLED', updated_at DESC LIMIT 1", number
        )
        if target_id is None:
            raise not_found(what)
    if body.target_type == "SUBJECT":
        if await subject_visible(conn, who, target_id) is None:
            raise not_found(what)
        return target_id, None
    site = await website_visible(conn, who, target_id)
    if site is None:
        raise not_found(what)
    return site["subject_id"], target_id


async def _open_request(conn, subject_id: uuid.UUID, website_id: uuid.UUID | None, target_type: str):
    cond, key = ("c.website_id = $1", website_id) if target_type == "WEBSITE" else (
        "c.target_type = 'SUBJECT' AND c.subject_id = $1", subject_id)
    return await conn.fetchrow(
        f"""SELECT c.id, a.status FROM cancellations c JOIN applications a ON a.id = c.application_id
            WHERE c.deleted_at IS NULL AND a.status NOT IN ('APPROVED', 'ABANDONED') AND {cond} LIMIT 1""",
        key,
    )


async def _check_target(conn, subject: Any, website_id: uuid.UUID | None) -> tuple[str, Any]:
    """The target still filed (number, not cancelled): its filing number and website row."""
    if subject["subject_no"] is None or subject["status"] in ("CANCELLED", "WITHDRAWN", "PENDING"):
        if subject["status"] == "CANCELLED":
            raise Problem(409, f"该主体已注销（{subject['subject_no']}）", subject_status="CANCELLED")
        raise Problem(409, "该主体尚未取得备案号，不能提出注销申请", subject_status=subject["status"])
    if website_id is None:
        return subject["subject_no"], None
    website = await conn.fetchrow("SELECT * FROM websites WHERE id = $1", website_id)
    if website["website_no"] is None or website["status"] not in LIVE_WEBSITE:
        if website["status"] == "CANCELLED":
            raise Problem(409, f"该网站已注销（{website['website_no']}）", website_status="CANCELLED")
        raise Problem(409, "该网站尚未取得备案号，不能提出注销申请", website_status=website["status"])
    return website["website_no"], website


async def _record(conn, cancellation_id: uuid.UUID, action: str, reason_code: str, reason: str, version: int,
                  actor: str) -> None:
    await conn.execute(
        """INSERT INTO cancellation_history (cancellation_id, action, reason_code, reason, version, actor)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        cancellation_id, action, reason_code, reason, version, actor,
    )


async def apply(ctx: ServiceContext, provider_id: str, actor: str, body: CancellationIn) -> dict[str, Any]:
    if not body.target_id and not body.target_no:
        raise cs.refuse([{"field": "target_id", "message": "须指定注销对象：target_id 或 target_no"}])
    _check_reason(body.target_type, body.reason_code, body.reason)
    async with transaction(ctx.pool) as conn:
        subject_id, website_id = await _find_target(conn, provider_id, body)
        subject = await cs.lock_subject(conn, subject_id)
        target_no, _ = await _check_target(conn, subject, website_id)
        existing = await _open_request(conn, subject_id, website_id, body.target_type)
        if existing is not None:
            again = "，请使用“再次提出注销申请”" if existing["status"] == "REJECTED" else "，可修改或删除该申请"
            raise Problem(409, f"已对该{'主体' if website_id is None else '网站'}提出过注销申请{again}",
                          cancellation_id=str(existing["id"]))
        await cs.ensure_none_in_flight(conn, subject_id, provider_id)
        app_type = "CANCEL_SUBJECT" if website_id is None else "CANCEL_WEBSITE"
        cid, app_id, now = uuid.uuid4(), uuid.uuid4(), _now()
        proposal = {"type": app_type, "cancellation_id": str(cid), "target_type": body.target_type,
                    "website_id": str(website_id) if website_id else None, "target_no": target_no,
                    "reason_code": body.reason_code, "reason": body.reason}
        event, website_ids, _ = await build_event(
            conn, app_type=app_type, subject=subject, proposal=proposal, application_id=app_id, version=1,
            provider_id=provider_id, actor=actor, now=now,
        )
        await cs.insert_application(
            conn, application_id=app_id, app_type=app_type, subject=subject, provider_id=provider_id, actor=actor,
            now=now, proposal=proposal, website_ids=website_ids, needs_preapproval=False,
            note="提出注销申请", website_id=website_id, event=event, outbox=ctx.outbox,
        )
        await conn.execute(
            """INSERT INTO cancellations (id, application_id, provider_id, target_type, subject_id, website_id,
                   target_no, reason_code, reason, created_by, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)""",
            cid, app_id, provider_id, body.target_type, subject_id, website_id, target_no, body.reason_code,
            body.reason, actor, now,
        )
        await _record(conn, cid, "APPLY", body.reason_code, body.reason, 1, actor)
        return await _detail(conn, cid, provider_id)


# ---------------------------------------------------------------- modify / delete / re-apply


async def _lock(conn, cancellation_id: str, provider_id: str):
    c = await conn.fetchrow(
        "SELECT * FROM cancellations WHERE id = $1 AND provider_id = $2 AND deleted_at IS NULL FOR UPDATE",
        cs.as_uuid(cancellation_id, WHAT), provider_id,
    )
    if c is None:
        raise not_found(WHAT)
    app = await conn.fetchrow("SELECT * FROM applications WHERE id = $1 FOR UPDATE", c["application_id"])
    return c, app


def _require_unreviewed(app: Any, verb: str) -> None:
    status = app["status"]
    if status == "APPROVED":
        raise Problem(409, f"该注销申请已审核通过（已注销），不能{verb}", status_code="APPROVED")
    if status == "REJECTED":
        raise Problem(409, f"该注销申请已被管局拒绝，不能{verb}；可“再次提出注销申请”", status_code="REJECTED")
    if status not in MODIFIABLE:
        name = codes.name_zh("application_statuses", status) or status
        raise Problem(409, f"该注销申请已提交管局审核（{name}），不能{verb}", status_code=status)


async def _resend(ctx: ServiceContext, conn, c: Any, app: Any, body: CancellationChangeIn, actor: str,
                  action: str) -> int:
    """The next version of the cancellation's application with the new reason (to verification)."""
    subject = await cs.lock_subject(conn, c["subject_id"])
    target_no, _ = await _check_target(conn, subject, c["website_id"])
    if action == "REAPPLY":  # a rejected request left the subject free for other business meanwhile
        await cs.ensure_none_in_flight(conn, subject["id"], c["provider_id"])
    now = _now()
    proposal = {**app["proposal"], "reason_code": body.reason_code, "reason": body.reason, "target_no": target_no}
    event, website_ids, _ = await build_event(
        conn, app_type=app["type"], subject=subject, proposal=proposal, application_id=app["id"],
        version=app["version"] + 1, provider_id=c["provider_id"], actor=actor, now=now,
    )
    note = {"MODIFY": "修改注销申请", "REAPPLY": "再次提出注销申请"}[action]
    version = await cs.add_version(conn, app, proposal=proposal, website_ids=website_ids, actor=actor, now=now,
                                   note=note, needs_preapproval=False)
    await ctx.outbox.add(conn, event, provider_id=c["provider_id"])
    await conn.execute("UPDATE cancellations SET reason_code = $2, reason = $3, updated_at = $4 WHERE id = $1",
                       c["id"], body.reason_code, body.reason, now)
    await _record(conn, c["id"], action, body.reason_code, body.reason, version, actor)
    return version


async def modify(ctx: ServiceContext, provider_id: str, actor: str, cancellation_id: str,
                 body: CancellationChangeIn) -> dict[str, Any]:
    async with transaction(ctx.pool) as conn:
        c, app = await _lock(conn, cancellation_id, provider_id)
        _check_reason(c["target_type"], body.reason_code, body.reason)
        _require_unreviewed(app, "修改")
        await _resend(ctx, conn, c, app, body, actor, "MODIFY")
        return await _detail(conn, c["id"], provider_id)


async def delete(ctx: ServiceContext, provider_id: str, actor: str, cancellation_id: str) -> None:
    async with transaction(ctx.pool) as conn:
        c, app = await _lock(conn, cancellation_id, provider_id)
        _require_unreviewed(app, "删除")
        await mark_abandoned(conn, app, actor, "删除注销申请", outbox=ctx.outbox, reason="deleted")
        await conn.execute("UPDATE cancellations SET deleted_at = now(), deleted_by = $2, updated_at = now() "
                           "WHERE id = $1", c["id"], actor)
        await _record(conn, c["id"], "DELETE", c["reason_code"], c["reason"], app["version"], actor)


async def reapply(ctx: ServiceContext, provider_id: str, actor: str, cancellation_id: str,
                  body: CancellationChangeIn) -> dict[str, Any]:
    async with transaction(ctx.pool) as conn:
        c, app = await _lock(conn, cancellation_id, provider_id)
        _check_reason(c["target_type"], body.reason_code, body.reason)
        if app["status"] != "REJECTED":
            raise Problem(409, "只有被管局拒绝的注销申请可以再次提出；未审核的申请可直接修改",
                          status_code=app["status"])
        await _resend(ctx, conn, c, app, body, actor, "REAPPLY")
        return await _detail(conn, c["id"], provider_id)
