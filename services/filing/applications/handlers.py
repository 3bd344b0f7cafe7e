"""Applications: detail, correction after a return or rejection, resubmission (DOMAIN §7.2).

VERIFY_RETURNED / REJECTED → `PUT /applications/{id}` (the corrected subject and websites;
saved in place, validated fully, the database rules applied with the subject's own
certificate, domains and mobiles excluded) → `POST /applications/{id}/resubmit` (version + 1,
PENDING_VERIFICATION, a new `filing.application.submitted` carrying the new version).
Resubmitting without a correction is allowed (the seed's "resubmit unchanged data").
First filings are corrected here; 新增网站/新增接入/变更 applications with `PUT …/proposal`
(`change_corrections.correct_proposal`), then resubmitted through the same `POST …/resubmit`; a returned or
rejected application may also be abandoned (`POST …/abandon`, `change_corrections.abandon`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from pydantic import Field, ValidationError

from services.filing import audit
from services.filing.changes import corrections as change_corrections
from services.filing.changes import store as cs
from services.filing.changes.model import CANCEL_TYPES, CHANGE_TYPES
from services.filing.entry import model as filing_model
from services.filing.entry import rows as filing_rows
from services.filing.entry import store as filing_store
from services.filing.entry.model import FilingError
from services.filing.records import store
from shared import codes
from shared.auth import Principal
from shared.db import transaction
from shared.filing_data import FilingData, Subject, Website, _Model, principal_mobiles, subject_key
from shared.service import ServiceContext
from shared.web import Problem, not_found

CORRECTABLE = ("VERIFY_RETURNED", "REJECTED")


class WebsiteCorrection(Website):
    website_id: str | None = Field(None, description="已有网站的 id；不填表示新增网站")


class CorrectionIn(_Model):
    """更正后的主体与全部网站（未列出的已有网站将从本申请中移除）。"""

    subject: Subject
    websites: list[WebsiteCorrection] = Field(min_length=1, max_length=50)


def _uuid(value: str, what: str = "申请") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise not_found(what) from None


async def _current_data(conn, subject_id) -> tuple[FilingData, list[str], asyncpg.Record]:
    subject = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1", subject_id)
    websites, domains, accesses = await store.subject_parts(conn, subject_id)
    websites = [w for w in websites if w["status"] not in ("CANCELLED", "WITHDRAWN")]
    domains = [d for d in domains if d["status"] not in ("CANCELLED", "WITHDRAWN")]
    data = filing_rows.filing_from_rows(subject, websites, domains, accesses)
    return data, [str(w["id"]) for w in websites], subject


async def application_detail(ctx: ServiceContext, principal: Principal, application_id: str) -> dict[str, Any]:
    app_id = _uuid(application_id)
    async with ctx.pool.acquire() as conn:
        app = await store.application_visible(conn, principal, app_id)
        if app is None:
            raise not_found("申请")
        history = await store.history_of(conn, [app_id])
        versions = await conn.fetch(
            "SELECT version, submitted_at, submitted_by FROM application_versions WHERE application_id = $1 ORDER BY version",
            app_id,
        )
        try:
            data, website_ids, subject = await _current_data(conn, app["subject_id"])
            current = data.model_dump(mode="json")
            for w, wid in zip(current["websites"], website_ids, strict=True):
                w["website_id"] = wid
        except ValidationError:  # e.g. a cancelled subject (no live website left): show the stored rows
            subject, current = await _stored_data(conn, app["subject_id"])
    return {
        "id": str(app["id"]),
        "type": app["type"],
        "status": app["status"],
        "status_name": codes.name_zh("application_statuses", app["status"]) or app["status"],
        "version": app["version"],
        "subject_id": str(app["subject_id"]),
        "subject_no": subject["subject_no"],
        "provider_id": app["provider_id"],
        "province": app["province"],
        "source": app["source"],
        "needs_preapproval": app["needs_preapproval"],
        "verify_opinion": app["verify_opinion"],
        "bureau_reason": app["bureau_reason"],
        "correctable": app["status"] in CORRECTABLE and app["type"] in ("FIRST_FILING", *CHANGE_TYPES),
        "abandonable": app["status"] in CORRECTABLE and app["type"] not in CANCEL_TYPES,
        "website_id": str(app["website_id"]) if app["website_id"] else None,
        "proposal": audit.scrub(app["proposal"]) if app["proposal"] else None,
        "corrected_at": app["corrected_at"],
        "submitted_at": app["submitted_at"],
        "versions": [dict(v) for v in versions],
        "history": [
            {"status": h["status"], "version": h["version"], "note": h["note"], "actor": h["actor"], "at": h["at"]}
            for h in history
        ],
        "data": current,
    }


async def _stored_data(conn, subject_id) -> tuple[asyncpg.Record, dict[str, Any]]:
    subject = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1", subject_id)
    websites, domains, _ = await store.subject_parts(conn, subject_id)
    return subject, {
        "subject": {k: subject[k] for k in ("nature", "cert_type", "cert_number", "name", "cert_address", "province",
                                            "city", "county", "mail_address", "investor_or_superior", "remark",
                                            "principal")},
        "websites": [
            {"website_id": str(w["id"]), "name": w["name"], "status": w["status"], "website_no": w["website_no"],
             "domains": [d["ascii"] for d in domains if d["website_id"] == w["id"]]}
            for w in websites
        ],
    }


async def _lock_correctable(conn, application_id: str, provider_id: str):
    app = await conn.fetchrow(
        "SELECT * FROM applications WHERE id = $1 AND provider_id = $2 FOR UPDATE", _uuid(application_id), provider_id
    )
    if app is None:
        raise not_found("申请")
    if app["type"] != "FIRST_FILING":
        raise Problem(409, "此处只能更正首次备案申请；新增网站、新增接入和变更类申请请用 PUT /applications/{id}/proposal")
    if app["status"] not in CORRECTABLE:
        name = codes.name_zh("application_statuses", app["status"]) or app["status"]
        raise Problem(409, f"申请当前状态为“{name}”，只有核实退回或管局退回的申请可以更正和重新提交",
                      status_code=app["status"])
    return app


async def correct(
    ctx: ServiceContext, application_id: str, provider_id: str, actor: str, body: CorrectionIn
) -> dict[str, Any]:
    data = FilingData(
        subject=body.subject,
        websites=[Website.model_validate(w.model_dump(exclude={"website_id"})) for w in body.websites],
    )
    data = filing_model.validate_filing(data)
    try:
        async with transaction(ctx.pool) as conn:
            app = await _lock_correctable(conn, application_id, provider_id)
            await _apply_correction(conn, app, data, [w.website_id for w in body.websites], actor)
    except asyncpg.UniqueViolationError:
        async with transaction(ctx.pool) as conn:
            await filing_store.check_database_rules(conn, data, own_subject_id=app["subject_id"])
        raise Problem(409, "更正内容与其他正在提交的备案冲突，请刷新后重试") from None
    return await application_detail(ctx, _provider_principal(provider_id, actor), application_id)


def _provider_principal(provider_id: str, actor: str) -> Principal:
    from shared.auth import Role

    return Principal(session_id="", user_id=actor, role=Role.PROVIDER, username=actor, provider_id=provider_id)


async def _apply_correction(conn, app, data: FilingData, ids: list[str | None], actor: str) -> None:
    subject_id = app["subject_id"]
    provider_id = app["provider_id"]
    await filing_store.check_database_rules(conn, data, own_subject_id=subject_id)
    old_data, old_ids, old_subject = await _current_data(conn, subject_id)
    old_by_id = dict(zip(old_ids, old_data.websites, strict=True))
    for i, wid in enumerate(ids):
        if wid is not None and wid not in old_by_id:
            raise FilingError(422, f"websites[{i}].website_id：该网站不属于本申请",
                              errors=[{"field": f"websites[{i}].website_id", "message": "该网站不属于本申请"}])
    if len([w for w in ids if w]) != len({w for w in ids if w}):
        raise FilingError(422, "同一网站不能出现两次", errors=[{"field": "websites", "message": "同一网站不能出现两次"}])
    entries: list[audit.Entry] = []
    row = filing_rows.subject_row(data)
    old_row = filing_rows.subject_row(old_data)
    changes = audit.diff(old_row, row)
    family, number = subject_key(data.subject)
    await conn.execute(
        """UPDATE subjects SET nature = $2, cert_type = $3, cert_family = $4, cert_number = $5, name = $6,
               cert_address = $7, province = $8, city = $9, county = $10, mail_address = $11,
               investor_or_superior = $12, remark = $13, principal = $14, updated_at = now()
           WHERE id = $1""",
        subject_id, row["nature"], row["cert_type"], family, number, row["name"], row["cert_address"],
        row["province"], row["city"], row["county"], row["mail_address"], row["investor_or_superior"],
        row["remark"], row["principal"],
    )
    await conn.execute("DELETE FROM subject_mobiles WHERE subject_id = $1", subject_id)
    await conn.executemany(
        "INSERT INTO subject_mobiles (subject_id, mobile) VALUES ($1, $2)",
        [(subject_id, m) for m in principal_mobiles(data)],
    )
    if changes:
        personal = codes.is_personal_nature(old_row["nature"]) or codes.is_personal_nature(row["nature"])
        entries.append(audit.Entry("subject", str(subject_id), "update", actor, str(subject_id), provider_id, changes,
                                   personal=personal))
    kept = {wid for wid in ids if wid}
    removed = [wid for wid in old_ids if wid not in kept]
    if removed:
        removed_u = [uuid.UUID(w) for w in removed]
        await conn.execute(
            "UPDATE websites SET status = 'WITHDRAWN', updated_at = now() WHERE id = ANY($1::uuid[])", removed_u
        )
        await conn.execute("UPDATE domains SET status = 'WITHDRAWN' WHERE website_id = ANY($1::uuid[])", removed_u)
        await conn.execute(
            "UPDATE accesses SET status = 'WITHDRAWN', updated_at = now() WHERE website_id = ANY($1::uuid[])", removed_u
        )
        entries += [audit.Entry("website", w, "withdraw", actor, str(subject_id), provider_id, {"status": ["PENDING", "WITHDRAWN"]})
                    for w in removed]
    # domains of the kept websites are rewritten (a correction may change them)
    await conn.execute(
        "DELETE FROM domains WHERE subject_id = $1 AND status = 'PENDING' AND website_id = ANY($2::uuid[])",
        subject_id, [uuid.UUID(w) for w in kept],
    )
    for i, (w, wid) in enumerate(zip(data.websites, ids, strict=True)):
        wrow = filing_rows.website_row(w, i)
        acc = filing_rows.access_row(w)
        if wid is None:
            wid = str(uuid.uuid4())
            await conn.execute(
                """INSERT INTO websites (id, subject_id, provider_id, position, service_type, name, home_urls,
                       service_content, preapprovals, needs_preapproval, languages, remark, principal_same_as_subject,
                       principal, status, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'PENDING', $15)""",
                uuid.UUID(wid), subject_id, provider_id, i, wrow["service_type"], wrow["name"], wrow["home_urls"],
                wrow["service_content"], wrow["preapprovals"], wrow["needs_preapproval"], wrow["languages"],
                wrow["remark"], wrow["principal_same_as_subject"], wrow["principal"], actor,
            )
            await conn.execute(
                """INSERT INTO accesses (website_id, subject_id, provider_id, access_methods, ip_ranges,
                       server_locations, status, created_by) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7)""",
                uuid.UUID(wid), subject_id, provider_id, acc["access_methods"], acc["ip_ranges"],
                acc["server_locations"], actor,
            )
            entries.append(audit.Entry("website", wid, "create", actor, str(subject_id), provider_id,
                                       {**wrow, "domains": list(w.domains), "access": acc}))
        else:
            old_w = old_by_id[wid]
            before = {**filing_rows.website_row(old_w, old_ids.index(wid)), "domains": list(old_w.domains),
                      "access": filing_rows.access_row(old_w)}
            await conn.execute(
                """UPDATE websites SET position = $2, service_type = $3, name = $4, home_urls = $5,
                       service_content = $6, preapprovals = $7, needs_preapproval = $8, languages = $9, remark = $10,
                       principal_same_as_subject = $11, principal = $12, updated_at = now() WHERE id = $1""",
                uuid.UUID(wid), i, wrow["service_type"], wrow["name"], wrow["home_urls"], wrow["service_content"],
                wrow["preapprovals"], wrow["needs_preapproval"], wrow["languages"], wrow["remark"],
                wrow["principal_same_as_subject"], wrow["principal"],
            )
            await conn.execute(
                """UPDATE accesses SET access_methods = $3, ip_ranges = $4, server_locations = $5, updated_at = now()
                   WHERE website_id = $1 AND provider_id = $2 AND status = 'PENDING'""",
                uuid.UUID(wid), provider_id, acc["access_methods"], acc["ip_ranges"], acc["server_locations"],
            )
            changed = audit.diff(before, {**wrow, "domains": list(w.domains), "access": acc})
            if changed:
                entries.append(audit.Entry("website", wid, "update", actor, str(subject_id), provider_id, changed))
        await cs.insert_pending_domains(conn, uuid.UUID(wid), subject_id, w)
    await conn.execute(
        "UPDATE applications SET corrected_at = now(), province = $2, updated_at = now() WHERE id = $1",
        app["id"], data.subject.province,
    )
    entries.append(audit.Entry("application", str(app["id"]), "correct", actor, str(subject_id), provider_id,
                               {"websites": len(ids), "removed": removed}))
    await audit.record(conn, entries)


async def resubmit(ctx: ServiceContext, application_id: str, provider_id: str, actor: str) -> dict[str, Any]:
    kind = await ctx.pool.fetchval("SELECT type FROM applications WHERE id = $1 AND provider_id = $2",
                                   _uuid(application_id), provider_id)
    if kind is not None and kind != "FIRST_FILING":
        return await change_corrections.resubmit(ctx, application_id, provider_id, actor)
    async with transaction(ctx.pool) as conn:
        app = await _lock_correctable(conn, application_id, provider_id)
        data, website_ids, subject = await _current_data(conn, app["subject_id"])
        data = filing_model.validate_filing(data)
        version = app["version"] + 1
        now = dt.datetime.now(dt.UTC)
        await conn.execute(
            """UPDATE applications SET status = 'PENDING_VERIFICATION', version = $2, status_at = $3, submitted_at = $3,
                   submitted_by = $4, needs_preapproval = $5, corrected_at = NULL, updated_at = now() WHERE id = $1""",
            app["id"], version, now, actor, bool(filing_rows.preapproval_types(data)),
        )
        await conn.execute(
            """INSERT INTO application_versions (application_id, version, payload, submitted_at, submitted_by)
               VALUES ($1, $2, $3, $4, $5)""",
            app["id"], version, filing_rows.version_payload(data, str(app["subject_id"]), website_ids), now, actor,
        )
        await conn.execute(
            """INSERT INTO application_status_history (application_id, version, status, note, actor, at)
               VALUES ($1, $2, 'PENDING_VERIFICATION', '更正后重新提交', $3, $4)""",
            app["id"], version, actor, now,
        )
        await audit.record(conn, [audit.Entry(
            "application", str(app["id"]), "resubmit", actor, str(app["subject_id"]), provider_id,
            {"status": [app["status"], "PENDING_VERIFICATION"], "version": [app["version"], version]},
        )])
        event = filing_rows.submitted_event(
            application_id=str(app["id"]), version=version, type_=app["type"], provider_id=provider_id, data=data,
            subject_id=str(app["subject_id"]), website_ids=website_ids, submitted_at=now, submitted_by=actor,
            source=app["source"], import_job_id=app["import_job_id"], filing_method=app["filing_method"],
            subject_no=subject["subject_no"],
        )
        await ctx.outbox.add(conn, event, provider_id=provider_id)
    return {"application_id": str(app["id"]), "version": version, "status": "PENDING_VERIFICATION", "submitted_at": now}
