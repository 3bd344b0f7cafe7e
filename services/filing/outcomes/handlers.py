"""Review outcomes from `verification` applied to filing's records (DOMAIN §7.2).

Handlers of `verification.application.status_changed / returned / approved / rejected /
withdrawal_refused` (the last: `on_withdrawal_refused`, a deleted or modified cancellation request
restored when its case had already reached the bureau).
An approval of a first filing or an added website records the numbers and activates the pending
records (one statement); an approval of another type (changes, add access, cancellations)
applies the approved proposal (`effects.py`) in the same transaction.
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
from services.filing.changes.model import CANCEL_TYPES
from services.filing.outcomes import effects
from services.filing.records.events import publish_record
from shared import codes, logs
from shared.bus import MessageContext, PermanentError
from shared.contracts import Envelope
from shared.contracts.verification import (
    ApplicationApproved,
    ApplicationRejected,
    ApplicationReturned,
    ApplicationStatusChanged,
    WithdrawalRefused,
)

log = structlog.get_logger(__name__)

FINAL = frozenset({"VERIFY_RETURNED", "REJECTED", "APPROVED", "ABANDONED", "EXPIRED"})
INTERMEDIATE = frozenset({"SUBMITTED_TO_BUREAU", "SMS_PENDING", "PREAPPROVAL_PENDING"})
ACTOR = "verification"
NUMBERING_TYPES = ("FIRST_FILING", "ADD_WEBSITE")  # approval issues website numbers (the statement below)


async def _defer(conn: asyncpg.Connection, app, version: int, mctx: MessageContext | None) -> None:
    """Keep an outcome ignored because a cancellation request was deleted (ABANDONED) or modified (newer
    version) meanwhile: verification may refuse that withdrawal (`on_withdrawal_refused` replays it)."""
    if mctx is None or app["type"] not in CANCEL_TYPES:
        return
    if not (app["status"] == "ABANDONED" or version < app["version"]):
        return
    env = mctx.envelope
    await conn.execute(
        """INSERT INTO deferred_outcomes (message_id, application_id, version, type, provider_id, payload)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
        env.id, app["id"], version, env.type, env.provider_id, env.payload,
    )


async def _application(conn: asyncpg.Connection, application_id: str, provider_id: str, version: int,
                       mctx: MessageContext | None = None):
    """The application locked for update, or None when this outcome is to be ignored."""
    try:
        app_id = uuid.UUID(application_id)
    except ValueError:
        raise PermanentError(f"application id {application_id!r} is not a UUID") from None
    app = await conn.fetchrow("SELECT * FROM applications WHERE id = $1 FOR UPDATE", app_id)
    if app is None:
        raise PermanentError(f"unknown application {application_id}")
    if (app["provider_id"] or "") != provider_id:  # a self-filing (自主备案) has no provider: ""
        raise PermanentError(f"application {application_id} does not belong to provider {provider_id}")
    if version > app["version"]:
        raise PermanentError(f"application {application_id} has no version {version} (current {app['version']})")
    if version < app["version"]:
        log.info("outcome.stale_version", application_id=application_id, version=version, current=app["version"])
        await _defer(conn, app, version, mctx)
        return None
    if app["status"] in FINAL:
        log.info("outcome.after_final", application_id=application_id, status=app["status"])
        await _defer(conn, app, version, mctx)
        return None
    return app


# The application update, its status history row and its audit entry in one statement.
_TRANSITION_SQL = """
WITH upd AS (
  UPDATE applications SET status = $2, status_at = $3, case_id = coalesce($4, case_id), updated_at = now(),
         verify_opinion = CASE WHEN $9 THEN $10 ELSE verify_opinion END,
         verified_by = CASE WHEN $9 THEN $6 ELSE verified_by END,
         verified_at = CASE WHEN $9 THEN $3 ELSE verified_at END,
         bureau_reason = CASE WHEN $11 THEN NULLIF($10, '') ELSE bureau_reason END,
         decided_by = CASE WHEN $11 THEN $6 ELSE decided_by END,
         decided_at = CASE WHEN $11 THEN $3 ELSE decided_at END
   WHERE id = $1
  RETURNING id
),
hist AS (
  INSERT INTO application_status_history (application_id, version, status, note, actor, at, message_id)
  SELECT $1, $12, $2, $5, $6, $3, $7 FROM upd
)
INSERT INTO audit_log (entity, entity_id, subject_id, action, actor, provider_id, changes, request_id)
SELECT 'application', $1, $13, $8, $6, $14, $15::jsonb, $16 FROM upd
"""


async def _transition(
    conn, app, mctx: MessageContext, *, status: str, at, case_id: str | None, note: str, actor: str, action: str,
    verifier: bool = False, decider: bool = False, extra: dict | None = None,
) -> None:
    """Move the application to `status`: `verifier` records the note as the verification opinion
    (核实意见), `decider` as the bureau's reason; history and audit in the same statement."""
    changes = audit.scrub({"status": [app["status"], status], **(extra or {})})
    await conn.execute(
        _TRANSITION_SQL,
        app["id"], status, at, case_id, note, actor or ACTOR, mctx.envelope.id, action, verifier, note, decider,
        app["version"], app["subject_id"], app["provider_id"], changes, logs.correlation_id.get(),
    )


async def on_status_changed(p: ApplicationStatusChanged, mctx: MessageContext) -> None:
    if p.status not in INTERMEDIATE:
        if codes.is_valid("application_statuses", p.status):
            log.info("outcome.status_ignored", application_id=p.application_id, status=p.status)
            return  # e.g. a case opened (PENDING_VERIFICATION): nothing changes here
        raise PermanentError(f"status_changed carries an unknown status {p.status}")
    app = await _application(mctx.conn, p.application_id, p.provider_id, p.version, mctx)
    if app is None or p.status == app["status"]:
        return
    # The clocks of two services are compared only between two reports of the same producer.
    if app["status"] in INTERMEDIATE and p.changed_at < app["status_at"]:
        return
    # provider verification passed: the note is the verification opinion (核实意见)
    verified = p.status == "SUBMITTED_TO_BUREAU" and app["status"] == "PENDING_VERIFICATION"
    await _transition(
        mctx.conn, app, mctx, status=p.status, at=p.changed_at, case_id=p.case_id, note=p.note,
        actor=p.changed_by, action="status", verifier=verified,
        extra={"verify_opinion": p.note} if verified else None,
    )


async def on_returned(p: ApplicationReturned, mctx: MessageContext) -> None:
    app = await _application(mctx.conn, p.application_id, p.provider_id, p.version, mctx)
    if app is None:
        return
    await _transition(
        mctx.conn, app, mctx, status="VERIFY_RETURNED", at=p.returned_at, case_id=p.case_id, note=p.opinion,
        actor=p.returned_by, action="return", verifier=True, extra={"opinion": p.opinion},
    )


async def on_rejected(p: ApplicationRejected, mctx: MessageContext) -> None:
    app = await _application(mctx.conn, p.application_id, p.provider_id, p.version, mctx)
    if app is None:
        return
    await _transition(
        mctx.conn, app, mctx, status="REJECTED", at=p.rejected_at, case_id=p.case_id, note=p.reason,
        actor=p.rejected_by, action="reject", decider=True, extra={"reason": p.reason, "stage": p.stage},
    )


# Numbers and statuses of the subject, its websites, domains and accesses; the application, its
# history and the audit entries: one statement. Returns how many of the numbered websites belong
# to the subject (a mismatch is refused, and the savepoint undoes the statement).
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
),
app AS (
  UPDATE applications SET status = 'APPROVED', status_at = $3, decided_by = $6, decided_at = $3,
         bureau_reason = NULLIF($7, ''), case_id = coalesce($8, case_id), updated_at = now()
   WHERE id = $5
),
hist AS (
  INSERT INTO application_status_history (application_id, version, status, note, actor, at, message_id)
  VALUES ($5, $9, 'APPROVED', $7, $6, $3, $10)
),
aud AS (
  INSERT INTO audit_log (entity, entity_id, subject_id, action, actor, provider_id, changes, request_id)
  SELECT 'application', $5, $1, 'approve', $6, $11, jsonb_build_object('status', jsonb_build_array($12::text, 'APPROVED'), 'opinion', $7::text), $13
  UNION ALL
  SELECT 'subject', $1, $1, 'approve', $6, $11, jsonb_build_object('status', 'ACTIVE', 'subject_no', $2::text), $13
  UNION ALL
  SELECT 'website', s.id, $1, 'approve', $6, $11, jsonb_build_object('status', 'ACTIVE', 'website_no', s.website_no), $13
    FROM sites s
)
SELECT count(*) FROM numbers n JOIN websites w ON w.id = n.website_id AND w.subject_id = $1
"""


async def on_approved(p: ApplicationApproved, mctx: MessageContext) -> None:
    conn = mctx.conn
    app = await _application(conn, p.application_id, p.provider_id, p.version, mctx)
    if app is None:
        return
    if p.subject_id and p.subject_id != str(app["subject_id"]):
        raise PermanentError(f"approval of {p.application_id} names subject {p.subject_id}, not {app['subject_id']}")
    if app["type"] not in NUMBERING_TYPES:
        # changes and cancellations: numbers are kept (or retired by verification); apply the proposal
        if p.application_type and p.application_type != app["type"]:
            raise PermanentError(f"approval of {p.application_id} is for a {p.application_type}, not {app['type']}")
        await effects.apply_approval(conn, app, p.approved_by or ACTOR)
        await _transition(
            conn, app, mctx, status="APPROVED", at=p.approved_at, case_id=p.case_id, note=p.opinion,
            actor=p.approved_by, action="approve", decider=True,
            extra={"opinion": p.opinion, "retired_numbers": p.retired_numbers} if p.retired_numbers
            else {"opinion": p.opinion},
        )
        await publish_record(conn, app["subject_id"], cause=app["type"], application_id=app["id"])
        return
    numbers = [{"website_id": n.website_id, "website_no": n.website_no} for n in p.websites]
    for n in numbers:
        try:
            uuid.UUID(n["website_id"])
        except ValueError:
            raise PermanentError(f"approval of {p.application_id} numbers a website id that is not a UUID") from None
    matched = await conn.fetchval(
        _APPROVE_SQL,
        app["subject_id"], p.subject_no, p.approved_at, numbers, app["id"], p.approved_by or ACTOR, p.opinion,
        p.case_id, app["version"], mctx.envelope.id, app["provider_id"], app["status"], logs.correlation_id.get(),
    )
    if matched != len(numbers):
        raise PermanentError(f"approval of {p.application_id} numbers websites of another subject")
    if app["type"] == "ADD_WEBSITE":
        await effects.apply_approval(conn, app, p.approved_by or ACTOR)
    await publish_record(conn, app["subject_id"], cause=app["type"], application_id=app["id"])


# ---------------------------------------------------------------- refused withdrawals


async def _no_publish(*_a, **_k):
    raise RuntimeError("a replayed outcome publishes nothing")


async def on_withdrawal_refused(p: WithdrawalRefused, mctx: MessageContext) -> None:
    """Verification did not follow a deleted (ABANDONED) or modified (newer version) cancellation
    request: its case had already reached the bureau (the provider verified it while the request was
    being deleted or modified; filing allows both only before the bureau). The request is restored
    to its state before the deletion / modification, the version verification keeps: the application
    back at `case_version` (the refused version's row and proposal dropped, the request's reason back
    to that version's) and PENDING_VERIFICATION, the request undeleted (history RESTORE, the refusal
    with verification's status as the note); then the outcomes of that version ignored meanwhile
    (`deferred_outcomes`) are applied in order — every outcome of that version came after the
    deletion (filing allows it only while PENDING_VERIFICATION / VERIFY_RETURNED), so it is either
    replayed here or still to come — and the application ends where verification is (已提交管局, or
    approved: the cancellation takes effect). Redeliveries and a refusal already
    applied change nothing. Only cancellation requests can race this way (an abandoned application
    was returned or rejected, which verification always accepts): another type is PermanentError,
    as is a restoration that collides with an application started for the subject meanwhile."""
    conn = mctx.conn
    try:
        app_id = uuid.UUID(p.application_id)
    except ValueError:
        raise PermanentError(f"application id {p.application_id!r} is not a UUID") from None
    app = await conn.fetchrow("SELECT * FROM applications WHERE id = $1 FOR UPDATE", app_id)
    if app is None or (app["provider_id"] or "") != p.provider_id:
        raise PermanentError(f"unknown application {p.application_id} for provider {p.provider_id}")
    if p.kind not in ("withdrawal", "version") or p.case_version > p.version:
        raise PermanentError(f"withdrawal_refused of {p.application_id}: kind {p.kind!r}, v{p.case_version}/v{p.version}")
    if app["version"] != p.version or (p.kind == "withdrawal" and app["status"] != "ABANDONED"):
        log.info("outcome.refusal_seen", application_id=p.application_id, version=p.version, current=app["version"],
                 status=app["status"])
        return  # already restored (by the other kind of refusal), or moved on
    if p.kind == "version" and app["status"] not in ("PENDING_VERIFICATION", "ABANDONED"):
        log.info("outcome.refusal_after_outcome", application_id=p.application_id, status=app["status"])
        return
    if app["type"] not in CANCEL_TYPES:
        raise PermanentError(f"verification refused {p.kind} of {app['type']} {p.application_id}: cannot restore")
    version = p.case_version
    status = "PENDING_VERIFICATION"  # before the deletion / modification; the deferred outcomes follow
    payload = await conn.fetchval(
        "SELECT payload FROM application_versions WHERE application_id = $1 AND version = $2", app_id, version
    )
    if payload is None:
        raise PermanentError(f"application {p.application_id} has no version {version} to restore")
    proposal = payload.get("proposal") or app["proposal"]
    try:  # no savepoint of its own: the consumer rolls back a handler's PermanentError (bus._handle_one)
        await conn.execute(
            """UPDATE applications SET status = $2, version = $3, proposal = $4, status_at = $5,
                   case_id = coalesce($6, case_id), updated_at = now() WHERE id = $1""",
            app_id, status, version, proposal, p.refused_at, p.case_id,
        )
    except asyncpg.UniqueViolationError:
        raise PermanentError(
            f"cannot restore {p.application_id}: subject {app['subject_id']} has another application in flight"
        ) from None
    await conn.execute("DELETE FROM application_versions WHERE application_id = $1 AND version > $2", app_id, version)
    await conn.execute(
        """INSERT INTO application_status_history (application_id, version, status, note, actor, at, message_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        app_id, version, status, p.reason, ACTOR, p.refused_at, mctx.envelope.id,
    )
    await audit.record(conn, [audit.Entry(
        "application", str(app_id), "restore", ACTOR, str(app["subject_id"]), app["provider_id"],
        {"status": [app["status"], status], "version": [app["version"], version], "refused": p.kind,
         "reason": p.reason},
    )])
    c = await conn.fetchrow("SELECT * FROM cancellations WHERE application_id = $1 FOR UPDATE", app_id)
    if c is not None:
        reason_code = proposal.get("reason_code") or c["reason_code"]
        reason = proposal.get("reason", c["reason"])
        await conn.execute(
            """UPDATE cancellations SET deleted_at = NULL, deleted_by = NULL, reason_code = $2, reason = $3,
                   updated_at = now() WHERE id = $1""",
            c["id"], reason_code, reason,
        )
        await conn.execute(
            """INSERT INTO cancellation_history (cancellation_id, action, reason_code, reason, version, actor)
               VALUES ($1, 'RESTORE', $2, $3, $4, $5)""",
            c["id"], reason_code, reason, version, ACTOR,
        )
    log.info("outcome.withdrawal_refused", application_id=p.application_id, kind=p.kind, status=status,
             version=version)
    deferred = await conn.fetch(
        "DELETE FROM deferred_outcomes WHERE application_id = $1 RETURNING *", app_id
    )
    by_type = {spec_type: (model, fn) for spec_type, model, fn in _REPLAYABLE}
    rank = {"verification.application.status_changed": 0}
    for d in sorted(deferred, key=lambda d: (rank.get(d["type"], 1), d["received_at"])):
        if d["version"] != version or d["type"] not in by_type:
            continue
        model, fn = by_type[d["type"]]
        env = Envelope(id=d["message_id"], type=d["type"], producer="verification", provider_id=d["provider_id"],
                       payload=d["payload"])
        await fn(model.model_validate(d["payload"]), MessageContext(env, conn, _no_publish))


_REPLAYABLE = (
    ("verification.application.status_changed", ApplicationStatusChanged, on_status_changed),
    ("verification.application.returned", ApplicationReturned, on_returned),
    ("verification.application.approved", ApplicationApproved, on_approved),
    ("verification.application.rejected", ApplicationRejected, on_rejected),
)


HANDLERS = (
    (ApplicationStatusChanged, on_status_changed),
    (ApplicationReturned, on_returned),
    (ApplicationApproved, on_approved),
    (ApplicationRejected, on_rejected),
    (WithdrawalRefused, on_withdrawal_refused),
)
