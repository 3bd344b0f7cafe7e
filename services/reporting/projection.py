"""The read models, built only from events (DESIGN §1): every consumed event is appended to
`event_log`, then applied to the query tables. `apply` is the one definition of what an event
does, used live (`handlers.py`) and by the rebuild (`rebuild.py`).

Tolerance of duplicates and disorder, per entity:
- an application's status is derived from the set of its history rows (one per event, keyed by
  message id): the row with the highest (version, rank, time) wins, whatever order they came in;
  its descriptive fields come from its highest submitted version;
- a subject's state (`filing.record.changed`) carries `seq`: a state older than (or equal to) the stored one is
  ignored, so a late or repeated state never overwrites a newer one.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import structlog

from services.reporting import model
from shared.contracts import Contract, Envelope
from shared.contracts.filing import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    FiledRecordChanged,
    ProviderRegistered,
)
from shared.contracts.verification import (
    ApplicationApproved,
    ApplicationRejected,
    ApplicationReturned,
    ApplicationStatusChanged,
    WithdrawalRefused,
)
from shared.directory import record_provider

log = structlog.get_logger(__name__)

# The query tables, in the order the rebuild empties them (everything but the log).
QUERY_TABLES = ("applications", "application_history", "subjects", "websites", "website_ips", "providers",
                "website_daily", "website_monthly", "website_access_daily", "website_access_monthly")

LOGGED = (ProviderRegistered, ApplicationSubmitted, ApplicationWithdrawn, FiledRecordChanged, ApplicationStatusChanged,
          ApplicationReturned, ApplicationApproved, ApplicationRejected, WithdrawalRefused)


async def log_event(conn: asyncpg.Connection, env: Envelope) -> None:
    await conn.execute(
        """INSERT INTO event_log (message_id, type, provider_id, occurred_at, payload) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (message_id) DO NOTHING""",
        env.id, env.type, env.provider_id, env.occurred_at, env.payload,
    )


async def apply(conn: asyncpg.Connection, message_id: uuid.UUID, payload: Contract) -> None:
    fn = _APPLY.get(type(payload))
    if fn is not None:
        await fn(conn, message_id, payload)


# An application's events are applied one transaction at a time. Its status is recomputed from its history
# rows (`_REFRESH_SQL`) under READ COMMITTED, and a consumer applies two batches at once (scaled out, more):
# its submission and its approval in two concurrent transactions each missed the other's rows (the approval's
# refresh found no application row yet, the submission's found no approval yet), and the read model kept
# the application 审核中 for good, which a rebuild then corrected. Every live consumer transaction first takes
# the lock of each application its batch touches (`handlers.lock_batch`, the handler table's `before`;
# transaction-scoped advisory locks, in key order): the second waits for the first to commit, and its
# statements then see every row the first wrote. Not the rebuild: its lock on
# event_log keeps live consumers out already, and one lock per application of the whole log in its one
# transaction would outgrow the server's lock table.
_LOCK_NAMESPACE = 0x52505441  # "RPTA": reporting's application locks (the two-key form keeps them apart)
_LOCK_SQL = "SELECT count(pg_advisory_xact_lock($1, k)) FROM unnest($2::int4[]) AS k"


def _lock_key(application_id: str) -> int:
    """A signed 32-bit key from the id's last 32 bits (uuid7: random); a clash only serialises two applications."""
    low = uuid.UUID(application_id).int & 0xFFFFFFFF
    return low - (1 << 32) if low >= 1 << 31 else low


async def lock_applications(conn: asyncpg.Connection, application_ids: list[str]) -> None:
    await conn.fetchval(_LOCK_SQL, _LOCK_NAMESPACE, sorted({_lock_key(a) for a in application_ids}))


# ---------------------------------------------------------------- progress


async def _history(conn, message_id: uuid.UUID, application_id: str, version: int, status: str, note: str,
                   actor: str, at) -> None:
    await conn.execute(
        """INSERT INTO application_history (message_id, application_id, version, status, rank, note, actor, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id) DO NOTHING""",
        message_id, uuid.UUID(application_id), version, status, model.rank(status), note or "", actor or "", at,
    )


_REFRESH_SQL = """
UPDATE applications a
   SET status = h.status, status_at = h.at,
       reason = CASE WHEN h.status IN ('REJECTED', 'VERIFY_RETURNED') THEN h.note ELSE '' END,
       decided_at = CASE WHEN h.status IN ('APPROVED', 'REJECTED') THEN h.at END
  FROM (SELECT status, at, note FROM application_history WHERE application_id = $1
         ORDER BY version DESC, rank DESC, at DESC, message_id DESC LIMIT 1) h
 WHERE a.application_id = $1
"""


async def _refresh(conn, application_id: str) -> None:
    await conn.execute(_REFRESH_SQL, uuid.UUID(application_id))


async def _submitted(conn, message_id, p: ApplicationSubmitted) -> None:
    await _history(conn, message_id, p.application_id, p.version, model.SUBMITTED, "", p.submitted_by, p.submitted_at)
    domains = [d for w in p.websites for d in w.domains]
    needs_pre = any(x.get("type") not in (None, "", "NONE") for w in p.websites for x in w.preapprovals)
    await conn.execute(
        """INSERT INTO applications (application_id, provider_id, province, subject_id, type, version, sponsor_name,
               nature, domains, website_names, needs_preapproval, source, submitted_at, resubmitted_at, status,
               status_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, 'PENDING_VERIFICATION', $13)
           ON CONFLICT (application_id) DO UPDATE SET
               provider_id = EXCLUDED.provider_id, province = EXCLUDED.province, subject_id = EXCLUDED.subject_id,
               type = EXCLUDED.type, version = EXCLUDED.version, sponsor_name = EXCLUDED.sponsor_name,
               nature = EXCLUDED.nature, domains = EXCLUDED.domains, website_names = EXCLUDED.website_names,
               needs_preapproval = EXCLUDED.needs_preapproval, source = EXCLUDED.source,
               submitted_at = least(applications.submitted_at, EXCLUDED.submitted_at),
               resubmitted_at = greatest(applications.resubmitted_at, EXCLUDED.resubmitted_at)
           WHERE applications.version <= EXCLUDED.version""",
        uuid.UUID(p.application_id), p.provider_id, p.province, uuid.UUID(p.subject.subject_id), p.type, p.version,
        p.subject.name, p.subject.nature, domains, [w.name for w in p.websites], needs_pre, p.source, p.submitted_at,
    )
    # an older version arriving after a newer one still moves the first submission date back
    await conn.execute(
        "UPDATE applications SET submitted_at = least(submitted_at, $2) WHERE application_id = $1",
        uuid.UUID(p.application_id), p.submitted_at,
    )
    await _refresh(conn, p.application_id)


# `log_event` + `_submitted` for a run of `filing.application.submitted` events of distinct
# applications, in two statements instead of five per event: the log rows (in the run's order,
# which is the rebuild's), the SUBMITTED history rows and the applications' upsert; then per
# application the first-submission date and the status from its history (`_REFRESH_SQL`). Each
# event touches only its own application's rows, so this is what applying them one by one does.
_SUBMITTED_RUN_SQL = """
WITH x AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    ord int, message_id uuid, type text, env_provider_id text, occurred_at timestamptz, payload jsonb,
    application_id uuid, provider_id text, province text, subject_id uuid, app_type text, version int,
    sponsor_name text, nature text, domains text[], website_names text[], needs_preapproval boolean,
    source text, submitted_at timestamptz, submitted_by text)
),
log AS (
  INSERT INTO event_log (message_id, type, provider_id, occurred_at, payload)
  SELECT message_id, type, env_provider_id, occurred_at, payload FROM x ORDER BY ord
  ON CONFLICT (message_id) DO NOTHING
),
hist AS (
  INSERT INTO application_history (message_id, application_id, version, status, rank, note, actor, at)
  SELECT message_id, application_id, version, $2, $3, '', coalesce(submitted_by, ''), submitted_at FROM x
  ON CONFLICT (message_id) DO NOTHING
)
INSERT INTO applications (application_id, provider_id, province, subject_id, type, version, sponsor_name,
    nature, domains, website_names, needs_preapproval, source, submitted_at, resubmitted_at, status, status_at)
SELECT application_id, provider_id, province, subject_id, app_type, version, sponsor_name, nature, domains,
       website_names, needs_preapproval, source, submitted_at, submitted_at, 'PENDING_VERIFICATION', submitted_at
  FROM x
ON CONFLICT (application_id) DO UPDATE SET
    provider_id = EXCLUDED.provider_id, province = EXCLUDED.province, subject_id = EXCLUDED.subject_id,
    type = EXCLUDED.type, version = EXCLUDED.version, sponsor_name = EXCLUDED.sponsor_name,
    nature = EXCLUDED.nature, domains = EXCLUDED.domains, website_names = EXCLUDED.website_names,
    needs_preapproval = EXCLUDED.needs_preapproval, source = EXCLUDED.source,
    submitted_at = least(applications.submitted_at, EXCLUDED.submitted_at),
    resubmitted_at = greatest(applications.resubmitted_at, EXCLUDED.resubmitted_at)
WHERE applications.version <= EXCLUDED.version
"""

_SUBMITTED_RUN_REFRESH_SQL = """
UPDATE applications a
   SET submitted_at = least(a.submitted_at, x.submitted_at),
       status = h.status, status_at = h.at,
       reason = CASE WHEN h.status IN ('REJECTED', 'VERIFY_RETURNED') THEN h.note ELSE '' END,
       decided_at = CASE WHEN h.status IN ('APPROVED', 'REJECTED') THEN h.at END
  FROM unnest($1::uuid[], $2::timestamptz[]) AS x(application_id, submitted_at),
       LATERAL (SELECT status, at, note FROM application_history WHERE application_id = x.application_id
                 ORDER BY version DESC, rank DESC, at DESC, message_id DESC LIMIT 1) h
 WHERE a.application_id = x.application_id
"""


async def log_submitted(conn: asyncpg.Connection, events: list[tuple[Envelope, ApplicationSubmitted]]) -> bool:
    """`log_event` and `apply` of each event, set-based (`_SUBMITTED_RUN_SQL`); False, with nothing
    written, when an application comes twice (then apply them one by one, in order)."""
    if len({p.application_id for _, p in events}) < len(events):
        return False
    rows = []
    for i, (env, p) in enumerate(events):
        rows.append({
            "ord": i, "message_id": str(env.id), "type": env.type, "env_provider_id": env.provider_id,
            "occurred_at": env.occurred_at.isoformat(), "payload": env.payload,
            "application_id": p.application_id, "provider_id": p.provider_id, "province": p.province,
            "subject_id": p.subject.subject_id, "app_type": p.type, "version": p.version,
            "sponsor_name": p.subject.name, "nature": p.subject.nature,
            "domains": [d for w in p.websites for d in w.domains], "website_names": [w.name for w in p.websites],
            "needs_preapproval": any(x.get("type") not in (None, "", "NONE") for w in p.websites for x in w.preapprovals),
            "source": p.source, "submitted_at": p.submitted_at.isoformat(), "submitted_by": p.submitted_by,
        })
    await conn.execute(_SUBMITTED_RUN_SQL, rows, model.SUBMITTED, model.rank(model.SUBMITTED))
    await conn.execute(_SUBMITTED_RUN_REFRESH_SQL, [uuid.UUID(p.application_id) for _, p in events],
                       [p.submitted_at for _, p in events])
    return True


async def _status_changed(conn, message_id, p: ApplicationStatusChanged) -> None:
    await _history(conn, message_id, p.application_id, p.version, p.status, p.note, p.changed_by, p.changed_at)
    await _refresh(conn, p.application_id)


async def _returned(conn, message_id, p: ApplicationReturned) -> None:
    await _history(conn, message_id, p.application_id, p.version, "VERIFY_RETURNED", p.opinion, p.returned_by,
                   p.returned_at)
    await _refresh(conn, p.application_id)


async def _approved(conn, message_id, p: ApplicationApproved) -> None:
    await _history(conn, message_id, p.application_id, p.version, "APPROVED", p.opinion, p.approved_by, p.approved_at)
    await _refresh(conn, p.application_id)


async def _rejected(conn, message_id, p: ApplicationRejected) -> None:
    await _history(conn, message_id, p.application_id, p.version, "REJECTED", p.reason, p.rejected_by, p.rejected_at)
    await _refresh(conn, p.application_id)


async def _withdrawn(conn, message_id, p: ApplicationWithdrawn) -> None:
    note = "删除注销申请" if p.reason == "deleted" else "放弃申请"
    await _history(conn, message_id, p.application_id, p.version, "ABANDONED", note, p.withdrawn_by, p.withdrawn_at)
    await _refresh(conn, p.application_id)


async def _withdrawal_refused(conn, message_id, p: WithdrawalRefused) -> None:
    """Verification kept `case_version` (the case had reached the bureau): the withdrawal and the
    newer versions filing had started are void, as filing restores them."""
    app_id = uuid.UUID(p.application_id)
    await conn.execute(
        """DELETE FROM application_history WHERE application_id = $1
             AND (version > $2 OR (version = $2 AND status = 'ABANDONED'))""",
        app_id, p.case_version,
    )
    await _history(conn, message_id, p.application_id, p.case_version, p.status, p.reason, "verification",
                   p.refused_at)
    await conn.execute("UPDATE applications SET version = least(version, $2) WHERE application_id = $1", app_id,
                       p.case_version)
    await _refresh(conn, p.application_id)


# ---------------------------------------------------------------- filed records


_SUBJECT_SQL = """
INSERT INTO subjects (subject_id, state_version, provider_id, subject_no, status, name, nature, province,
                      filing_method, approved_at, cancelled_at, changed_at, state)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (subject_id) DO UPDATE SET
    state_version = EXCLUDED.state_version, provider_id = EXCLUDED.provider_id, subject_no = EXCLUDED.subject_no,
    status = EXCLUDED.status, name = EXCLUDED.name, nature = EXCLUDED.nature, province = EXCLUDED.province,
    filing_method = EXCLUDED.filing_method, approved_at = EXCLUDED.approved_at,
    cancelled_at = EXCLUDED.cancelled_at, changed_at = EXCLUDED.changed_at, state = EXCLUDED.state
WHERE subjects.state_version < EXCLUDED.state_version
RETURNING true
"""

_WEBSITE_COLUMNS = (
    "website_id", "subject_id", "state_version", "website_no", "subject_no", "name", "sponsor_name", "nature",
    "cert_number", "province", "filing_method", "status", "subject_status", "domains", "home_urls",
    "service_content", "languages", "preapproval_types", "access_methods", "stat_access_methods", "server_locations",
    "principal_names", "provider_ids", "approved_at", "cancelled_at", "cert_code", "stat_provider_ids",
)


def website_rows(p: FiledRecordChanged) -> tuple[list[tuple], list[tuple]]:
    """The `websites` and `website_ips` rows of a subject's state (numbered websites only)."""
    s = p.subject
    nature = s.nature if s else ""
    cert_number = s.cert_number if s else p.cert_number_masked
    principal = s.principal.name if s else ""
    sites, ips = [], []
    for w in p.websites:
        if not w.website_no or w.status in ("PENDING", "WITHDRAWN"):
            continue
        active = [a for a in w.accesses if a.status == "ACTIVE"]
        # for the statistics of earlier dates: the active records, else those it had before they ended
        held = active or [a for a in w.accesses if a.status != "PENDING"]
        wid = uuid.UUID(w.website_id)
        sites.append((
            wid, uuid.UUID(p.subject_id), p.seq, w.website_no, p.subject_no or "", w.name, p.name, nature,
            cert_number, p.province, p.filing_method, w.status, p.status, list(w.display_domains or w.domains),
            list(w.home_urls), list(w.service_content), list(w.languages),
            sorted({x.get("type", "") for x in w.preapprovals} - {"", "NONE"}),
            sorted({m for a in active for m in a.access_methods}),
            sorted({m for a in held for m in a.access_methods}),
            sorted({loc for a in active for loc in a.server_locations}),
            sorted({principal, w.principal.name if w.principal else ""} - {""}),
            sorted({a.provider_id for a in active}),
            w.approved_at or p.approved_at or p.changed_at, w.cancelled_at,
            model.cert_code(w.website_id, w.website_no),
            sorted({a.provider_id for a in held}),
        ))
        for a in active:
            for text in a.ip_ranges:
                pair = model.ip_range(text)
                if pair is not None:
                    ips.append((wid, a.provider_id, pair[0], pair[1]))
    return sites, ips


async def _state(conn, message_id, p: FiledRecordChanged) -> None:
    sid = uuid.UUID(p.subject_id)
    fresh = await conn.fetchval(
        _SUBJECT_SQL, sid, p.seq, p.provider_id, p.subject_no, p.status, p.name,
        p.subject.nature if p.subject else "", p.province, p.filing_method, p.approved_at, p.cancelled_at,
        p.changed_at, p.model_dump(mode="json"),
    )
    if not fresh:
        log.info("reporting.state_ignored", subject_id=p.subject_id, seq=p.seq)
        return
    await conn.execute("DELETE FROM website_ips WHERE website_id IN (SELECT website_id FROM websites WHERE subject_id = $1)",
                       sid)
    await conn.execute("DELETE FROM websites WHERE subject_id = $1", sid)
    sites, ips = website_rows(p)
    if sites:
        await conn.copy_records_to_table("websites", records=sites, columns=_WEBSITE_COLUMNS)
    if ips:
        await conn.executemany(
            "INSERT INTO website_ips (website_id, provider_id, ips) VALUES ($1, $2, numrange($3, $4, '[]'))", ips
        )


async def _provider(conn, message_id, p: ProviderRegistered) -> None:
    await record_provider(p, _Conn(conn))


class _Conn:
    """The bit of MessageContext `record_provider` uses (its connection)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn


_APPLY: dict[type[Contract], Any] = {
    ProviderRegistered: _provider,
    ApplicationSubmitted: _submitted,
    ApplicationWithdrawn: _withdrawn,
    FiledRecordChanged: _state,
    ApplicationStatusChanged: _status_changed,
    ApplicationReturned: _returned,
    ApplicationApproved: _approved,
    ApplicationRejected: _rejected,
    WithdrawalRefused: _withdrawal_refused,
}
