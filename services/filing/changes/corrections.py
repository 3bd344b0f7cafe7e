"""Correction, resubmission and abandonment of returned or rejected applications (DOMAIN §7.2).

新增网站 / 新增接入 / 变更 applications are corrected with `PUT /applications/{id}/proposal` (the
same rules as submitting them; the pending rows of 新增网站 / 新增接入 rewritten), then resubmitted
with `POST /applications/{id}/resubmit` (version + 1, a new `filing.application.submitted`). Any
returned or rejected application but a cancellation request may be abandoned
(`POST /applications/{id}/abandon` → ABANDONED): its pending rows are withdrawn, its reserved
mobiles released. Abandoning (like deleting a cancellation request, `cancellations.delete`) publishes
`filing.application.withdrawn`: verification closes its case (ABANDONED).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.filing import audit
from services.filing.changes import store as cs
from services.filing.changes.model import CANCEL_TYPES, CHANGE_TYPES, ProposalIn, needs_preapproval
from services.filing.changes.proposals import (
    build_event,
    need_access,
    own_mobile,
    parse_part,
    race_problem,
    utcnow,
    validated_access,
    validated_new_website,
    validated_subject_change,
    validated_website_change,
)
from shared import codes
from shared.contracts.filing import ApplicationWithdrawn
from shared.db import transaction
from shared.filing_data import Access, Subject, Website, WebsiteChange
from shared.outbox import Outbox
from shared.service import ServiceContext
from shared.web import Problem, not_found

CORRECTABLE = ("VERIFY_RETURNED", "REJECTED")

async def _lock_app(conn, application_id: str, provider_id: str):
    app = await conn.fetchrow("SELECT * FROM applications WHERE id = $1 AND provider_id = $2 FOR UPDATE",
                              cs.as_uuid(application_id, "申请"), provider_id)
    if app is None:
        raise not_found("申请")
    return app


def _require_correctable(app: Any) -> None:
    if app["status"] not in CORRECTABLE:
        name = codes.name_zh("application_statuses", app["status"]) or app["status"]
        raise Problem(409, f"申请当前状态为“{name}”，只有核实退回或管局退回的申请可以更正、重新提交或放弃",
                      status_code=app["status"])


async def correct_proposal(ctx: ServiceContext, application_id: str, provider_id: str, actor: str,
                           body: ProposalIn) -> None:
    """更正被退回的变更类申请 (ADD_WEBSITE, ADD_ACCESS, CHANGE_*): the same rules as submitting it;
    saved in the application (and the pending rows), sent with `resubmit`."""
    try:
        async with transaction(ctx.pool) as conn:
            app = await _lock_app(conn, application_id, provider_id)
            if app["type"] not in CHANGE_TYPES:
                raise Problem(409, "此处只能更正新增网站、新增接入和变更类申请；首次备案请用 PUT /applications/{id}，"
                                   "注销申请请用 PUT /cancellations/{id}")
            _require_correctable(app)
            subject = await cs.lock_subject(conn, app["subject_id"])
            proposal = dict(app["proposal"])
            part = {"CHANGE_SUBJECT": "subject", "ADD_WEBSITE": "website", "CHANGE_WEBSITE": "website"}.get(
                app["type"], "access")
            raw = getattr(body, part)
            if raw is None:
                raise cs.refuse([{"field": part, "message": "必填项，不能为空"}])
            extra = set()
            if app["type"] == "CHANGE_SUBJECT":
                proposed = validated_subject_change(subject, await cs.live_websites(conn, subject["id"]),
                                                    parse_part(Subject, raw, "subject"))
                proposal["subject"] = proposed.model_dump(mode="json")
                await cs.check_conflicts(conn, subject_id=subject["id"],
                                         mobiles={proposed.principal.mobile: "subject.principal.mobile"})
                extra = {proposed.principal.mobile}
            elif app["type"] == "CHANGE_WEBSITE":
                wid = uuid.UUID(proposal["website_id"])
                website = await conn.fetchrow("SELECT * FROM websites WHERE id = $1", wid)
                access = await cs.provider_access(conn, wid, provider_id)
                need_access(access)
                domains = (await cs.live_domains(conn, [wid]))[wid]
                proposed = validated_website_change(subject, website, access, domains,
                                                    parse_part(WebsiteChange, raw, "website"))
                mobiles = own_mobile(proposed["principal"], proposed["principal_same_as_subject"],
                                      "website.principal.mobile")
                await cs.check_conflicts(conn, subject_id=subject["id"], mobiles=mobiles)
                proposal["website"] = proposed
                extra = set(mobiles)
            elif app["type"] == "ADD_WEBSITE":
                wid = uuid.UUID(proposal["website_id"])
                site = validated_new_website(subject, parse_part(Website, raw, "website"))
                mobiles = own_mobile(site.principal.model_dump(mode="json") if site.principal else None,
                                      site.principal_same_as_subject, "website.principal.mobile")
                domains = {d: f"website.domains[{j}]" for j, d in enumerate(site.domains)}
                await cs.check_conflicts(conn, subject_id=subject["id"], mobiles=mobiles, domains=domains,
                                         own_website_id=wid)
                await _rewrite_pending_website(conn, subject, wid, site, provider_id, actor)
                proposal["website"] = site.model_dump(mode="json")
            else:  # ADD_ACCESS, CHANGE_ACCESS
                access = validated_access(parse_part(Access, raw, "access"), "access")
                proposal["access"] = access.model_dump(mode="json")
                if app["type"] == "ADD_ACCESS":
                    await conn.execute(
                        """UPDATE accesses SET access_methods = $2, ip_ranges = $3, server_locations = $4,
                               updated_at = now() WHERE id = $1 AND status = 'PENDING'""",
                        uuid.UUID(proposal["access_id"]), list(access.access_methods),
                        [f"{r.start_ip}-{r.end_ip}" for r in access.ip_ranges], list(access.server_locations),
                    )
            await cs.sync_mobiles(conn, subject["id"], await cs.current_mobiles(conn, subject["id"]) | extra)
            await conn.execute("UPDATE applications SET proposal = $2, corrected_at = now(), updated_at = now() "
                               "WHERE id = $1", app["id"], proposal)
            await audit.record(conn, [audit.Entry("application", str(app["id"]), "correct", actor,
                                                  str(subject["id"]), provider_id, {"type": app["type"]})])
    except asyncpg.UniqueViolationError as e:
        raise race_problem(e) from None


async def _rewrite_pending_website(conn, subject: Any, wid: uuid.UUID, site: Website, provider_id: str, actor: str):
    from services.filing.entry import rows as filing_rows

    old = await conn.fetchrow("SELECT * FROM websites WHERE id = $1 AND status = 'PENDING'", wid)
    if old is None:
        raise Problem(409, "该申请的新增网站已不在待审核状态，不能更正")
    row = filing_rows.website_row(site, old["position"])
    acc = filing_rows.access_row(site)
    await conn.execute(
        """UPDATE websites SET name = $2, home_urls = $3, service_content = $4, preapprovals = $5,
               needs_preapproval = $6, languages = $7, remark = $8, principal_same_as_subject = $9, principal = $10,
               updated_at = now() WHERE id = $1""",
        wid, row["name"], row["home_urls"], row["service_content"], row["preapprovals"], row["needs_preapproval"],
        row["languages"], row["remark"], row["principal_same_as_subject"], row["principal"],
    )
    await conn.execute("DELETE FROM domains WHERE website_id = $1 AND status = 'PENDING'", wid)
    await cs.insert_pending_domains(conn, wid, subject["id"], site)
    await conn.execute(
        """UPDATE accesses SET access_methods = $3, ip_ranges = $4, server_locations = $5, updated_at = now()
           WHERE website_id = $1 AND provider_id = $2 AND status = 'PENDING'""",
        wid, provider_id, acc["access_methods"], acc["ip_ranges"], acc["server_locations"],
    )
    changed = audit.diff({k: old[k] for k in row if k != "position"}, {k: row[k] for k in row if k != "position"})
    if changed:
        await audit.record(conn, [audit.Entry("website", str(wid), "update", actor, str(subject["id"]), provider_id,
                                              changed)])


async def resubmit(ctx: ServiceContext, application_id: str, provider_id: str, actor: str) -> dict[str, Any]:
    """重新提交 a returned change application: version + 1 with the (corrected) proposal."""
    async with transaction(ctx.pool) as conn:
        app = await _lock_app(conn, application_id, provider_id)
        if app["type"] not in CHANGE_TYPES:
            raise Problem(409, "注销申请请通过修改注销申请或再次提出注销申请重新提交")
        _require_correctable(app)
        subject = await cs.lock_subject(conn, app["subject_id"])
        cs.require_filed_subject(subject)
        now = utcnow()
        proposal = dict(app["proposal"])
        event, website_ids, datas = await build_event(
            conn, app_type=app["type"], subject=subject, proposal=proposal, application_id=app["id"],
            version=app["version"] + 1, provider_id=provider_id, actor=actor, now=now,
        )
        version = await cs.add_version(conn, app, proposal=proposal, website_ids=website_ids, actor=actor, now=now,
                                       note="更正后重新提交", needs_preapproval=needs_preapproval(app["type"], datas))
        await ctx.outbox.add(conn, event, provider_id=provider_id)
    return {"application_id": str(app["id"]), "version": version, "status": "PENDING_VERIFICATION", "submitted_at": now}


async def abandon(ctx: ServiceContext, application_id: str, provider_id: str, actor: str) -> None:
    """放弃 a returned or rejected application (DOMAIN §7.2 → ABANDONED): its pending rows are
    withdrawn and its reserved mobiles released, so the subject is free for other business.
    Cancellation requests are deleted through `DELETE /cancellations/{id}` instead."""
    async with transaction(ctx.pool) as conn:
        app = await _lock_app(conn, application_id, provider_id)
        if app["type"] in CANCEL_TYPES:
            raise Problem(409, "注销申请请通过“删除注销申请”撤回")
        _require_correctable(app)
        subject = await cs.lock_subject(conn, app["subject_id"])
        proposal = app["proposal"] or {}
        sid = subject["id"]
        if app["type"] == "FIRST_FILING":
            await conn.execute("UPDATE websites SET status = 'WITHDRAWN', updated_at = now() "
                               "WHERE subject_id = $1 AND status = 'PENDING'", sid)
            await conn.execute("UPDATE domains SET status = 'WITHDRAWN' WHERE subject_id = $1 AND status = 'PENDING'", sid)
            await conn.execute("UPDATE accesses SET status = 'WITHDRAWN', updated_at = now() "
                               "WHERE subject_id = $1 AND status = 'PENDING'", sid)
            await conn.execute("UPDATE subjects SET status = 'WITHDRAWN', updated_at = now() "
                               "WHERE id = $1 AND status = 'PENDING'", sid)
            await cs.sync_mobiles(conn, sid, [])
        else:
            if app["type"] == "ADD_WEBSITE":
                wid = uuid.UUID(proposal["website_id"])
                await conn.execute("UPDATE websites SET status = 'WITHDRAWN', updated_at = now() "
                                   "WHERE id = $1 AND status = 'PENDING'", wid)
                await conn.execute("UPDATE domains SET status = 'WITHDRAWN' WHERE website_id = $1 AND status = 'PENDING'",
                                   wid)
                await conn.execute("UPDATE accesses SET status = 'WITHDRAWN', updated_at = now() "
                                   "WHERE website_id = $1 AND status = 'PENDING'", wid)
            if app["type"] == "ADD_ACCESS":
                await conn.execute("UPDATE accesses SET status = 'WITHDRAWN', updated_at = now() "
                                   "WHERE id = $1 AND status = 'PENDING'", uuid.UUID(proposal["access_id"]))
            await cs.sync_mobiles(conn, sid, await cs.current_mobiles(conn, sid))
        await mark_abandoned(conn, app, actor, "放弃申请", outbox=ctx.outbox, reason="abandoned")


async def mark_abandoned(conn, app: Any, actor: str, note: str, *, outbox: Outbox, reason: str) -> None:
    """ABANDONED, with its history and audit entries, and `filing.application.withdrawn` to verification
    (same transaction) so that the case is closed there too (or the withdrawal refused, `outcomes/handlers.py`)."""
    now = utcnow()
    await conn.execute("UPDATE applications SET status = 'ABANDONED', status_at = $2, updated_at = now() WHERE id = $1",
                       app["id"], now)
    await conn.execute(
        """INSERT INTO application_status_history (application_id, version, status, note, actor, at)
           VALUES ($1, $2, 'ABANDONED', $3, $4, $5)""",
        app["id"], app["version"], note, actor, now,
    )
    await audit.record(conn, [audit.Entry("application", str(app["id"]), "abandon", actor, str(app["subject_id"]),
                                          app["provider_id"], {"status": [app["status"], "ABANDONED"]})])
    await outbox.add(conn, ApplicationWithdrawn(  # a self-filing (自主备案) has no provider: ""
        application_id=str(app["id"]), version=app["version"], provider_id=app["provider_id"] or "", reason=reason,
        withdrawn_at=now, withdrawn_by=actor,
    ), provider_id=app["provider_id"])
