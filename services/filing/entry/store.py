"""The core of a first filing (首次备案): database rules, one statement of inserts (checks and
refusals: `entry/model.py`; rows and snapshots: `entry/rows.py`).

`create_first_filing` is called by the entry wizard's submit (`entry/handlers.py`), by
`POST /api/filing/filings` (the API equivalent of a completed wizard) and by the importer's
batch command handler (`entry/batch.py`, which creates a chunk of filings in one transaction: a
refused filing there leaves the chunk's transaction usable, see `savepoint`).

Database rules (DOMAIN §5.10), checked in the same statement that inserts (nothing is
inserted when one fails) and enforced under concurrency by partial unique indexes
(migration 020), a lost race answering like the check:
- certificate already filed (live subject with the same certificate family + number) → 409,
  "use 新增网站";
- a domain already filed or in an application in progress → 409 naming the filing number;
- a principal mobile used by another subject → 422 on that mobile's field;
- one in-flight application per subject (a new subject trivially satisfies it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

import asyncpg

from services.filing import audit, blacklist, reservations
from services.filing.entry.model import (
    LIVE_EXCLUDED,
    CreatedFiling,
    _conflict_rows,
    conflict_error,
    race_error,
    validate_filing,
)
from services.filing.entry.rows import (
    access_row,
    domain_rows,
    preapproval_types,
    subject_row,
    submitted_event,
    version_payload,
    website_row,
)
from services.filing.sponsors import credentials as sponsors
from shared.blacklist import cert_digest
from shared.filing_data import (
    FilingData,
    domain_paths,
    principal_mobiles,
    subject_key,
)
from shared.ids import uuid7
from shared.outbox import Outbox

_NIL = uuid.UUID(int=0)


# ---------------------------------------------------------------- database rules

_CONFLICTS_SQL = """
SELECT 'cert' AS kind, s.cert_number AS key, s.id AS subject_id, s.subject_no AS number, s.status AS status
  FROM subjects s
 WHERE s.cert_family = $1 AND s.cert_number = $2 AND s.status <> ALL($5::text[]) AND s.id <> $6
UNION ALL
SELECT 'mobile', m.mobile, m.subject_id, NULL, NULL
  FROM subject_mobiles m
 WHERE m.mobile = ANY($3::text[]) AND m.active AND m.subject_id <> $6
UNION ALL
SELECT 'domain', d.ascii, d.subject_id, w.website_no, d.status
  FROM domains d JOIN websites w ON w.id = d.website_id
 WHERE d.ascii = ANY($4::text[]) AND d.status <> ALL($5::text[]) AND d.subject_id <> $6
"""


async def check_database_rules(
    conn: asyncpg.Connection, data: FilingData, *, own_subject_id: str | uuid.UUID | None = None
) -> None:
    """The rules of DOMAIN §5.10 that need the database; raise FilingError naming every field.

    `own_subject_id`: the subject being corrected (its own certificate, domains and mobiles
    are not conflicts)."""
    family, number = subject_key(data.subject)
    mobiles = principal_mobiles(data)
    paths = domain_paths(data)
    rows = await conn.fetch(
        _CONFLICTS_SQL, family, number, list(mobiles), list(paths), list(LIVE_EXCLUDED), own_subject_id or _NIL,
    )
    rows = [*rows, *await blacklist.blacklist_rows(conn, [(family, number)], list(paths)),
            *await reservations.rows(conn, [(family, number)], mobiles, paths)]
    if rows:
        raise conflict_error(rows, mobiles, paths)


# One statement checks the database rules (taken certificate, domains and mobiles, the filing
# blacklist, keys reserved by a file being imported) and, when nothing conflicts, inserts the sponsor
# account, the subject, its mobiles, websites, domains, accesses, the application, its first
# version, its status history, the audit entries and the outbox row (with the relay's NOTIFY):
# one round trip for a whole filing, atomic even outside a transaction.
_INSERT_FILING_SQL = """
WITH p AS (SELECT $1::jsonb AS j),
conflicts AS (
  SELECT 'cert' AS kind, s.cert_number AS key, s.id AS subject_id, s.subject_no AS number, s.status AS status,
         NULL::text AS reason
    FROM subjects s
   WHERE s.cert_family = $2 AND s.cert_number = $3 AND s.status <> ALL($6::text[])
  UNION ALL
  SELECT 'mobile', m.mobile, m.subject_id, NULL, NULL, NULL
    FROM subject_mobiles m WHERE m.mobile = ANY($4::text[]) AND m.active
  UNION ALL
  SELECT 'domain', d.ascii, d.subject_id, w.website_no, d.status, NULL
    FROM domains d JOIN websites w ON w.id = d.website_id
   WHERE d.ascii = ANY($5::text[]) AND d.status <> ALL($6::text[])
  UNION ALL  -- the filing blacklist (blacklist.blacklist_rows)
  SELECT 'blacklist_cert', NULL, NULL, NULL, NULL, b.reason
    FROM blacklist b WHERE b.active AND b.kind = 'SUBJECT' AND b.cert_digest = $14
  UNION ALL
  SELECT 'blacklist_domain', d, NULL, NULL, NULL, b.reason
    FROM blacklist b, unnest(b.domains) AS d
   WHERE b.active AND b.kind = 'WEBSITE' AND b.domains && $5::text[] AND d = ANY($5::text[])
  UNION ALL  -- keys reserved by a file being imported (reservations.rows)
  SELECT 'reserved_' || r.kind, r.key, NULL, NULL, NULL, NULL
    FROM unnest($15::text[], $16::text[]) AS k(kind, key),
         LATERAL (SELECT r.kind, r.key FROM batch_reservations r
                   WHERE r.kind = k.kind AND r.key = k.key AND r.expires_at > now()) r
),
go AS (SELECT p.j FROM p WHERE NOT EXISTS (SELECT 1 FROM conflicts)),
sponsor AS (
  INSERT INTO users (id, username, password_hash, role, provider_id, display_name, created_by)
  SELECT (p.j->'subject'->>'sponsor_user_id')::uuid, p.j->>'sponsor_username', $7, 'sponsor', p.j->>'provider_id',
         p.j->'subject'->>'name', p.j->>'actor'
  FROM go AS p
),
subject AS (
  INSERT INTO subjects (id, provider_id, sponsor_user_id, nature, cert_type, cert_family, cert_number, name,
                        cert_address, province, city, county, mail_address, investor_or_superior, remark,
                        principal, status, filing_method, source, import_job_id, created_by, created_at, updated_at)
  SELECT x.id, x.provider_id, x.sponsor_user_id, x.nature, x.cert_type, x.cert_family, x.cert_number, x.name,
         x.cert_address, x.province, x.city, x.county, x.mail_address, x.investor_or_superior, x.remark,
         x.principal, 'PENDING', x.filing_method, x.source, x.import_job_id, x.actor, x.at, x.at
  FROM go AS p, jsonb_to_record(p.j->'subject') AS x(
         id uuid, provider_id text, sponsor_user_id uuid, nature text, cert_type text, cert_family text,
         cert_number text, name text, cert_address text, province text, city text, county text,
         mail_address text, investor_or_superior text, remark text, principal jsonb, filing_method text,
         source text, import_job_id text, actor text, at timestamptz)
),
mobiles AS (
  INSERT INTO subject_mobiles (subject_id, mobile)
  SELECT (p.j->>'subject_id')::uuid, m FROM go AS p, jsonb_array_elements_text(p.j->'mobiles') AS m
),
site AS (
  INSERT INTO websites (id, subject_id, provider_id, position, service_type, name, home_urls, service_content,
                        preapprovals, needs_preapproval, languages, remark, principal_same_as_subject, principal,
                        status, created_by, created_at, updated_at)
  SELECT x.id, (p.j->>'subject_id')::uuid, p.j->>'provider_id', x.position, x.service_type, x.name, x.home_urls,
         x.service_content, x.preapprovals, x.needs_preapproval, x.languages, x.remark,
         x.principal_same_as_subject, x.principal, 'PENDING', p.j->>'actor', (p.j->>'at')::timestamptz,
         (p.j->>'at')::timestamptz
  FROM go AS p, jsonb_to_recordset(p.j->'websites') AS x(
         id uuid, position int, service_type text, name text, home_urls jsonb, service_content jsonb,
         preapprovals jsonb, needs_preapproval boolean, languages jsonb, remark text,
         principal_same_as_subject boolean, principal jsonb)
),
dom AS (
  INSERT INTO domains (website_id, subject_id, position, ascii, unicode, status, created_at)
  SELECT x.website_id, x.subject_id, x.position, x.ascii, x.unicode, 'PENDING', (p.j->>'at')::timestamptz
  FROM go AS p, jsonb_to_recordset(p.j->'domains') AS x(website_id uuid, subject_id uuid, position int,
                                                       ascii text, unicode text)
),
acc AS (
  INSERT INTO accesses (website_id, subject_id, provider_id, access_methods, ip_ranges, server_locations, status,
                        created_by, created_at, updated_at)
  SELECT x.website_id, (p.j->>'subject_id')::uuid, p.j->>'provider_id', x.access_methods, x.ip_ranges,
         x.server_locations, 'PENDING', p.j->>'actor', (p.j->>'at')::timestamptz, (p.j->>'at')::timestamptz
  FROM go AS p, jsonb_to_recordset(p.j->'accesses') AS x(website_id uuid, access_methods jsonb, ip_ranges jsonb,
                                                        server_locations jsonb)
),
app AS (
  INSERT INTO applications (id, type, status, version, subject_id, provider_id, province, filing_method, source,
                            import_job_id, needs_preapproval, status_at, submitted_at, submitted_by, created_at,
                            updated_at)
  SELECT (p.j->>'application_id')::uuid, 'FIRST_FILING', 'PENDING_VERIFICATION', 1, (p.j->>'subject_id')::uuid,
         p.j->>'provider_id', p.j->'subject'->>'province', p.j->'subject'->>'filing_method',
         p.j->'subject'->>'source', p.j->'subject'->>'import_job_id', (p.j->>'needs_preapproval')::boolean,
         (p.j->>'at')::timestamptz, (p.j->>'at')::timestamptz, p.j->>'actor', (p.j->>'at')::timestamptz,
         (p.j->>'at')::timestamptz
  FROM go AS p
),
ver AS (
  INSERT INTO application_versions (application_id, version, payload, submitted_at, submitted_by)
  SELECT (p.j->>'application_id')::uuid, 1, p.j->'version_payload', (p.j->>'at')::timestamptz, p.j->>'actor'
  FROM go AS p
),
hist AS (
  INSERT INTO application_status_history (application_id, version, status, note, actor, at)
  SELECT (p.j->>'application_id')::uuid, 1, 'PENDING_VERIFICATION', '提交首次备案', p.j->>'actor',
         (p.j->>'at')::timestamptz
  FROM go AS p
),
aud AS (
  INSERT INTO audit_log (entity, entity_id, subject_id, action, actor, provider_id, at, changes, request_id)
  SELECT x.entity, x.entity_id, x.subject_id, x.action, x.actor, x.provider_id, (p.j->>'at')::timestamptz,
         coalesce(x.changes, '{}'), x.request_id
  FROM go AS p, jsonb_to_recordset(p.j->'audit') AS x(entity text, entity_id uuid, subject_id uuid, action text,
                                                    actor text, provider_id text, changes jsonb, request_id text)
),
ob AS (
  INSERT INTO outbox (id, exchange, routing_key, body, headers)
  SELECT $8::uuid, $9, $10, $11::bytea, $12::jsonb FROM go
)
SELECT kind, key, subject_id, number, status, reason FROM conflicts
UNION ALL
SELECT 'ok', pg_notify($13, '')::text, NULL, NULL, NULL, NULL FROM go
"""


async def create_first_filing(
    conn: asyncpg.Connection,
    *,
    provider_id: str,
    data: FilingData,
    actor: str,
    source: str = "entry",
    import_job_id: str | None = None,
    sponsor: tuple[str, str] | None = None,
    outbox: Outbox | None = None,
    savepoint: bool = True,
    today: dt.date | None = None,
    checked: bool = False,
) -> CreatedFiling:
    """Create a first filing on `conn`: one statement, atomic even without a transaction.

    Validates (`check_filing`, 422), applies the database rules (409/422, see the module doc),
    creates the sponsor account (`sponsor` = (username, password_hash) precomputed by the
    importer; None → generated here (`sponsors.new_credentials`), the plaintext
    password returned once), the subject, websites, domains, access records, the application
    (FIRST_FILING, PENDING_VERIFICATION, version 1) with its snapshot, the audit entries and the
    outbox event `filing.application.submitted` (ID numbers masked, no password).

    Raises FilingError (a `Problem`) when refused; nothing is written then. A concurrent filing
    of the same domain, certificate or mobile loses on a unique index: with `savepoint` (the
    default) that leaves the caller's transaction usable (the importer's chunk); without it
    (a caller that abandons its transaction on any refusal, or has none) it costs two round
    trips less. `data` is put in canonical form in place; `checked`: the caller did that already
    (`validate_filing`), so it is not validated twice.
    """
    if not checked:
        data = validate_filing(data, today, copy=False)
    outbox = outbox or Outbox("filing")
    for attempt in range(3):
        scope = conn.transaction() if savepoint and conn.is_in_transaction() else contextlib.nullcontext()
        try:
            async with scope:
                return await _insert(
                    conn, provider_id=provider_id, data=data, actor=actor, source=source,
                    import_job_id=import_job_id, sponsor=sponsor, outbox=outbox,
                )
        except asyncpg.UniqueViolationError as e:
            retry = (
                e.constraint_name == "users_username"
                and sponsor is None
                and attempt < 2
                and (not conn.is_in_transaction() or savepoint)
            )
            if not retry:  # lost a race: the other filing is necessarily still in progress
                raise race_error(e, data) from None
    raise AssertionError("unreachable")


async def _insert(
    conn: asyncpg.Connection,
    *,
    provider_id: str,
    data: FilingData,
    actor: str,
    source: str,
    import_job_id: str | None,
    sponsor: tuple[str, str] | None,
    outbox: Outbox,
) -> CreatedFiling:
    s = data.subject
    if sponsor is None:
        username, password, pw_hash = sponsors.new_credentials()
    else:
        (username, pw_hash), password = sponsor, None
    sponsor_id = str(uuid7())
    now = dt.datetime.now(dt.UTC)
    subject_id = str(uuid7())
    application_id = str(uuid7())
    website_ids = [str(uuid7()) for _ in data.websites]
    pre_types = preapproval_types(data)
    mobiles = principal_mobiles(data)
    websites, domains, accesses = [], [], []
    srow = subject_row(data)
    audit_entries = [
        audit.Entry("subject", subject_id, "create", actor, subject_id, provider_id,
                    {**srow, "sponsor_user_id": sponsor_id, "sponsor_username": username}),
    ]
    for i, (w, wid) in enumerate(zip(data.websites, website_ids, strict=True)):
        row = website_row(w, i)
        websites.append({"id": wid, **row})
        domains += domain_rows(w, wid, subject_id)
        acc = access_row(w)
        accesses.append({"website_id": wid, **acc})
        audit_entries.append(
            audit.Entry("website", wid, "create", actor, subject_id, provider_id,
                        {**row, "domains": list(w.domains), "access": acc})
        )
    audit_entries.append(
        audit.Entry("application", application_id, "submit", actor, subject_id, provider_id,
                    {"type": "FIRST_FILING", "status": "PENDING_VERIFICATION", "version": 1, "source": source})
    )
    params = {
        "subject_id": subject_id,
        "application_id": application_id,
        "provider_id": provider_id,
        "actor": actor,
        "at": now.isoformat(),
        "needs_preapproval": bool(pre_types),
        "sponsor_username": username,
        "subject": {
            **srow, "id": subject_id, "provider_id": provider_id, "sponsor_user_id": sponsor_id,
            "filing_method": "PROXY", "source": source, "import_job_id": import_job_id, "actor": actor,
            "at": now.isoformat(),
        },
        "mobiles": list(mobiles),
        "websites": websites,
        "domains": domains,
        "accesses": accesses,
        "version_payload": version_payload(data, subject_id, website_ids),
        "audit": [e.row() for e in audit_entries],
    }
    event = submitted_event(
        application_id=application_id, version=1, type_="FIRST_FILING", provider_id=provider_id, data=data,
        subject_id=subject_id, website_ids=website_ids, submitted_at=now, submitted_by=actor, source=source,
        import_job_id=import_job_id,
    )
    env, outbox_params = outbox.row(event, provider_id=provider_id)
    family, number = srow["cert_family"], srow["cert_number"]
    paths = domain_paths(data)
    reserved = reservations.keys_of([(family, number)], mobiles, paths)
    rows = await conn.fetch(
        _INSERT_FILING_SQL, params, family, number, list(mobiles), list(paths), list(LIVE_EXCLUDED), pw_hash,
        *outbox_params, cert_digest(family, number) if number else None,
        [k for k, _ in reserved], [key for _, key in reserved],
    )
    conflicts = [r for r in rows if r["kind"] != "ok"]
    if conflicts:  # nothing was written
        raise conflict_error(_conflict_rows(conflicts, family, number), mobiles, paths)
    return CreatedFiling(
        application_id=application_id,
        subject_id=subject_id,
        website_ids=website_ids,
        sponsor_user_id=sponsor_id,
        sponsor_username=username,
        sponsor_password=password,
        subject_name=s.name,
        province=s.province,
        submitted_at=now,
        preapproval_types=pre_types,
        event_id=str(env.id),
    )
