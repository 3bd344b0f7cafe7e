"""Review outcomes from `verification` applied to filing's records (DOMAIN §7.2).

Handlers of `verification.application.status_changed / returned / approved / rejected`.
Redeliveries are skipped by the inbox; besides that every handler is safe against
out-of-order delivery (two consumer workers, retries):
- an outcome for an older version of the application than the current one is ignored (the
  application was corrected and resubmitted since);
- once a version has a final outcome (returned, approved, rejected) an intermediate status
  change of the same version is ignored, and so is a second final outcome;
- an intermediate status change older (`changed_at`) than the status already recorded is ignored.
An outcome naming an unknown application, another tenant or a version never submitted can
never succeed: PermanentError (dead-lettered for an operator to look at).
"""

from __future__ import annotations

import uuid

import asyncpg
import structlog

from services.filing import audit
from shared import codes
from shared.bus import MessageContext, PermanentError
from shared.contracts.verification import (
    ApplicationApproved,
    ApplicationRejected,
    ApplicationReturned,
    ApplicationStatusChanged,
)

log = structlog.get_logger(__name__)

FINAL = frozenset({"VERIFY_RETURNED", "REJECTED", "APPROVED", "ABANDONED", "EXPIRED"})
INTERMEDIATE = frozenset({"SUBMITTED_TO_BUREAU", "SMS_PENDING", "PREAPPROVAL_PENDING"})
ACTOR = "verification"


async def _application(conn: asyncpg.Connection, application_id: str, provider_id: str, version: int):
    """The application locked for update, or None when this outcome is to be ignored."""
    try:
        app_id = uuid.UUID(application_id)
    except ValueError:
        raise PermanentError(f"application id {application_id!r} is not a UUID") from None
    app = await conn.fetchrow("SELECT * FROM applications WHERE id = $1 FOR UPDATE", app_id)
    if app is None:
        raise PermanentError(f"unknown application {application_id}")
    if app["provider_id"] != provider_id:
        raise PermanentError(f"application {application_id} does not belong to provider {provider_id}")
    if version > app["version"]:
        raise PermanentError(f"application {application_id} has no version {version} (current {app['version']})")
    if version < app["version"]:
        log.info("outcome.stale_version", application_id=application_id, version=version, current=app["version"])
        return None
    if app["status"] in FINAL:
        log.info("outcome.after_final", application_id=application_id, status=app["status"])
        return None
    return app


async def _history(conn, app, status: str, note: str, actor: str, at, message_id) -> None:
    await conn.execute(
        """INSERT INTO application_status_history (application_id, version, status, note, actor, at, message_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        app["id"], app["version"], status, note, actor, at, message_id,
    )


async def _audit(conn, app, action: str, actor: str, changes: dict) -> None:
    await audit.record(
        conn,
        [audit.Entry("application", str(app["id"]), action, actor, str(app["subject_id"]), app["provider_id"],
                     {"status": [app["status"], changes.pop("status")], **changes})],
    )


async def on_status_changed(p: ApplicationStatusChanged, mctx: MessageContext) -> None:
    conn = mctx.conn
    if p.status not in INTERMEDIATE:
        if codes.is_valid("application_statuses", p.status):
            log.info("outcome.status_ignored", application_id=p.application_id, status=p.status)
            return  # e.g. a case opened (PENDING_VERIFICATION): nothing changes here
        raise PermanentError(f"status_changed carries an unknown status {p.status}")
    app = await _application(conn, p.application_id, p.provider_id, p.version)
    if app is None or p.status == app["status"]:
        return
    # The clocks of two services are compared only between two reports of the same producer.
    if app["status"] in INTERMEDIATE and p.changed_at < app["status_at"]:
        return
    await conn.execute(
        """UPDATE applications SET status = $2, status_at = $3, case_id = coalesce($4, case_id), updated_at = now()
           WHERE id = $1""",
        app["id"], p.status, p.changed_at, p.case_id,
    )
    extra = {}
    if p.status == "SUBMITTED_TO_BUREAU" and app["status"] == "PENDING_VERIFICATION":
        # provider verification passed: the note is the verification opinion (核实意见)
        await conn.execute(
            "UPDATE applications SET verify_opinion = $2, verified_by = $3, verified_at = $4 WHERE id = $1",
            app["id"], p.note, p.changed_by, p.changed_at,
        )
        extra = {"verify_opinion": p.note}
    await _history(conn, app, p.status, p.note, p.changed_by, p.changed_at, mctx.envelope.id)
    await _audit(conn, app, "status", p.changed_by or ACTOR, {"status": p.status, **extra})


async def on_returned(p: ApplicationReturned, mctx: MessageContext) -> None:
    conn = mctx.conn
    app = await _application(conn, p.application_id, p.provider_id, p.version)
    if app is None:
        return
    await conn.execute(
        """UPDATE applications SET status = 'VERIFY_RETURNED', status_at = $2, verify_opinion = $3, verified_by = $4,
                  verified_at = $2, case_id = coalesce($5, case_id), updated_at = now() WHERE id = $1""",
        app["id"], p.returned_at, p.opinion, p.returned_by, p.case_id,
    )
    await _history(conn, app, "VERIFY_RETURNED", p.opinion, p.returned_by, p.returned_at, mctx.envelope.id)
    await _audit(conn, app, "return", p.returned_by or ACTOR, {"status": "VERIFY_RETURNED", "opinion": p.opinion})


async def on_rejected(p: ApplicationRejected, mctx: MessageContext) -> None:
    conn = mctx.conn
    app = await _application(conn, p.application_id, p.provider_id, p.version)
    if app is None:
        return
    await conn.execute(
        """UPDATE applications SET status = 'REJECTED', status_at = $2, bureau_reason = $3, decided_by = $4,
                  decided_at = $2, case_id = coalesce($5, case_id), updated_at = now() WHERE id = $1""",
        app["id"], p.rejected_at, p.reason, p.rejected_by, p.case_id,
    )
    await _history(conn, app, "REJECTED", p.reason, p.rejected_by, p.rejected_at, mctx.envelope.id)
    await _audit(conn, app, "reject", p.rejected_by or ACTOR, {"status": "REJECTED", "reason": p.reason, "stage": p.stage})


_APPROVE_SQL = """
WITH numbers AS (
  SELECT x.website_id, x.website_no FROM jsonb_to_recordset($4::jsonb) AS x(website_id uuid, website_no text)
),
subj AS (
  UPDATE subjects SET status = CASE WHEN status = 'PENDING' THEN 'ACTIVE' ELSE status END,
         subject_no = coalesce($2, subject_no), approved_at = coalesce(approved_at, $3), updated_at = now()
   WHERE id = $1
  RETURNING id
),
sites AS (
  UPDATE websites w SET status = CASE WHEN w.status = 'PENDING' THEN 'ACTIVE' ELSE w.status END,
         website_no = coalesce(n.website_no, w.website_no), approved_at = coalesce(w.approved_at, $3),
         updated_at = now()
    FROM (SELECT w2.id, n2.website_no FROM websites w2 LEFT JOIN numbers n2 ON n2.website_id = w2.id
           WHERE w2.subject_id = $1 AND (w2.status = 'PENDING' OR n2.website_no IS NOT NULL)) n
   WHERE w.id = n.id
  RETURNING w.id, w.website_no
),
doms AS (
  UPDATE domains SET status = 'ACTIVE' WHERE subject_id = $1 AND status = 'PENDING'
),
accs AS (
  UPDATE accesses SET status = 'ACTIVE', updated_at = now() WHERE subject_id = $1 AND status = 'PENDING'
)
SELECT id, website_no FROM sites
"""


async def on_approved(p: ApplicationApproved, mctx: MessageContext) -> None:
    conn = mctx.conn
    app = await _application(conn, p.application_id, p.provider_id, p.version)
    if app is None:
        return
    if p.subject_id and p.subject_id != str(app["subject_id"]):
        raise PermanentError(f"approval of {p.application_id} names subject {p.subject_id}, not {app['subject_id']}")
    known = {
        str(r["id"])
        for r in await conn.fetch("SELECT id FROM websites WHERE subject_id = $1", app["subject_id"])
    }
    unknown = [n.website_id for n in p.websites if n.website_id not in known]
    if unknown:
        raise PermanentError(f"approval of {p.application_id} numbers websites of another subject: {unknown}")
    await conn.execute(
        """UPDATE applications SET status = 'APPROVED', status_at = $2, decided_by = $3, decided_at = $2,
                  bureau_reason = NULLIF($4, ''), case_id = coalesce($5, case_id), updated_at = now() WHERE id = $1""",
        app["id"], p.approved_at, p.approved_by, p.opinion, p.case_id,
    )
    numbered = await conn.fetch(
        _APPROVE_SQL,
        app["subject_id"],
        p.subject_no,
        p.approved_at,
        [{"website_id": n.website_id, "website_no": n.website_no} for n in p.websites],
    )
    await _history(conn, app, "APPROVED", p.opinion, p.approved_by, p.approved_at, mctx.envelope.id)
    entries = [
        audit.Entry("application", str(app["id"]), "approve", p.approved_by or ACTOR, str(app["subject_id"]),
                    app["provider_id"], {"status": [app["status"], "APPROVED"], "opinion": p.opinion}),
        audit.Entry("subject", str(app["subject_id"]), "approve", p.approved_by or ACTOR, str(app["subject_id"]),
                    app["provider_id"], {"status": "ACTIVE", "subject_no": p.subject_no}),
    ]
    entries += [
        audit.Entry("website", str(r["id"]), "approve", p.approved_by or ACTOR, str(app["subject_id"]),
                    app["provider_id"], {"status": "ACTIVE", "website_no": r["website_no"]})
        for r in numbered
    ]
    await audit.record(conn, entries)


HANDLERS = (
    (ApplicationStatusChanged, on_status_changed),
    (ApplicationReturned, on_returned),
    (ApplicationApproved, on_approved),
    (ApplicationRejected, on_rejected),
)
