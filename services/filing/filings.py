"""The core of a first filing (首次备案): checks, database rules, one statement of inserts.

`create_first_filing` is called by the entry wizard's submit (`entry.py`), by
`POST /api/filing/filings` (the API equivalent of a completed wizard) and by the importer's
batch command handler (`batch.py`, which creates a chunk of filings in one transaction: a
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
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import ValidationError

from services.filing import audit, blacklist, reservations
from services.filing.sponsors import credentials as sponsors
from shared import codes, field_labels
from shared import validate as v
from shared.blacklist import cert_digest
from shared.contracts.filing import (
    AccessSnapshot,
    ApplicationSubmitted,
    PrincipalSnapshot,
    SubjectSnapshot,
    WebsiteSnapshot,
)
from shared.errors_zh import translate_errors
from shared.filing_data import (
    FieldError,
    FilingData,
    Principal,
    Website,
    canonical,
    check_filing,
    domain_paths,
    principal_mobiles,
    subject_key,
    website_principal,
)
from shared.outbox import Outbox
from shared.web import Problem

LIVE_EXCLUDED = ("CANCELLED", "WITHDRAWN")  # statuses that release a certificate, domain or mobile
IN_FLIGHT = (  # DOMAIN §5.10: the statuses of applications_one_in_flight (migration 020)
    "PENDING_VERIFICATION",
    "VERIFY_RETURNED",
    "SUBMITTED_TO_BUREAU",
    "SMS_PENDING",
    "PREAPPROVAL_PENDING",
    "REJECTED",
)
_NIL = uuid.UUID(int=0)


class FilingError(Problem):
    """A filing refused by a rule: 422 (invalid data, mobile taken) or 409 (already filed).

    A `Problem`, so an HTTP handler may let it propagate; the importer reads `.status`,
    `.detail` and `.errors` ([{field, message}] with paths into the FilingData)."""


@dataclass
class CreatedFiling:
    application_id: str
    subject_id: str
    website_ids: list[str]
    sponsor_user_id: str
    sponsor_username: str
    sponsor_password: str | None  # plaintext when generated here (show once); None when the caller gave a hash
    subject_name: str
    province: str  # GB/T 2260 of the subject
    submitted_at: dt.datetime
    preapproval_types: list[str] = field(default_factory=list)  # other than NONE, over all websites
    event_id: str = ""

    @property
    def needs_preapproval(self) -> bool:
        return bool(self.preapproval_types)


# ---------------------------------------------------------------- validation


def parse_filing(raw: Any) -> FilingData:
    """FilingData from untrusted JSON, refusing with 422 and paths like `websites[1].domains[0]`."""
    try:
        return FilingData.model_validate(raw)
    except ValidationError as e:
        errors = translate_errors(e)
        raise unprocessable(errors) from None


def unprocessable(errors: list[FieldError]) -> FilingError:
    """422 naming every field (the detail lists them by their Chinese labels)."""
    return FilingError(422, field_labels.summary(errors), errors=errors)


def validate_filing(data: FilingData, today: dt.date | None = None, *, copy: bool = True) -> FilingData:
    """check_filing, then the canonical form; 422 with every error. `copy=False` normalises `data` itself."""
    if copy:
        data = data.model_copy(deep=True)
    errors = check_filing(data, today, normalize=True)
    if errors:
        raise unprocessable(errors)
    return canonical(data, copy=False, checked=True)


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


def conflict_error(rows, mobiles: dict[str, str], domain_paths: dict[str, str]) -> FilingError:
    """The refusal for conflicting rows (kind cert / domain / mobile): 409 when the certificate or
    a domain is taken (naming the filing number, or "in progress"), else 422 for a mobile."""
    errors: list[FieldError] = []
    conflicts: list[dict[str, Any]] = []
    status = 422
    detail = ""
    order = ("blacklist_cert", "cert", "reserved_cert", "blacklist_domain", "domain", "reserved_domain", "mobile",
             "reserved_mobile")
    for r in sorted(rows, key=lambda r: order.index(r["kind"])):
        if r["kind"].startswith("reserved_"):  # held by a file being imported (services/filing/reservations.py)
            status = 409
            kind = r["kind"][len("reserved_"):]
            if kind == "cert":
                path = "subject.cert_number"
                msg = ("与正在导入的另一个文件冲突：该主办单位证件已在另一个正在导入的文件中，不能重复首次备案；"
                       "请等该文件导入结束后再核对")
            elif kind == "domain":
                path = domain_paths.get(r["key"], "websites")
                msg = f"与正在导入的另一个文件冲突：域名 {_display(r['key'])} 已在另一个正在导入的文件中，不能重复备案"
            else:
                path = mobiles.get(r["key"], "subject.principal.mobile")
                msg = "与正在导入的另一个文件冲突：该手机号码已用于另一个正在导入的文件中的主体，一个手机号码只能用于一个主体"
            errors.append({"field": path, "message": msg})
            conflicts.append({"field": path, "kind": f"import_reserved_{kind}"})
            detail = detail or msg
            continue
        if r["kind"] == "blacklist_cert":
            status = 409 if status == 409 else 422
            msg = f"该主办单位证件已列入备案信息黑名单（原因：{r['reason']}），不能备案"
            errors.append({"field": "subject.cert_number", "message": msg})
            conflicts.append({"field": "subject.cert_number", "kind": "blacklisted_certificate", "reason": r["reason"]})
            detail = detail or f"subject.cert_number：{msg}"
        elif r["kind"] == "blacklist_domain":
            status = 409 if status == 409 else 422
            path = domain_paths.get(r["key"], "websites")
            msg = f"域名 {_display(r['key'])} 已列入备案信息黑名单（原因：{r['reason']}），不能备案"
            errors.append({"field": path, "message": msg})
            conflicts.append({"field": path, "kind": "blacklisted_domain", "domain": r["key"], "reason": r["reason"]})
            detail = detail or f"{path}：{msg}"
        elif r["kind"] == "cert":
            status = 409
            if r["number"]:
                msg = f"该主办单位证件已备案（{r['number']}），不能重复首次备案；请使用“新增网站”为该主体增加网站"
            else:
                msg = "该主办单位证件已有正在办理的备案申请，不能重复首次备案；审核通过后请使用“新增网站”增加网站"
            errors.append({"field": "subject.cert_number", "message": msg})
            conflicts.append({"field": "subject.cert_number", "kind": "certificate", "filing_no": r["number"]})
            detail = detail or msg
        elif r["kind"] == "domain":
            status = 409
            path = domain_paths.get(r["key"], "websites")
            if r["number"]:
                msg = f"域名 {_display(r['key'])} 已备案（{r['number']}），不能重复备案"
            else:
                msg = f"域名 {_display(r['key'])} 已有正在办理中的备案申请，不能重复备案"
            errors.append({"field": path, "message": msg})
            conflicts.append(
                {"field": path, "kind": "domain", "domain": r["key"], "filing_no": r["number"],
                 "in_progress": r["number"] is None}
            )
            detail = detail or msg
        else:
            path = mobiles.get(r["key"], "subject.principal.mobile")
            msg = "该手机号码已被其他备案主体使用，一个手机号码只能用于一个主体"
            errors.append({"field": path, "message": msg})
            conflicts.append({"field": path, "kind": "mobile"})
            detail = detail or f"{path}：{msg}"
    return FilingError(status, detail, errors=errors, conflicts=conflicts)


def _display(ascii_domain: str) -> str:
    if "xn--" not in ascii_domain:
        return ascii_domain
    try:
        return v.validate_domain(ascii_domain, allow_gov_subdomain=True).unicode
    except v.InvalidValue:
        return ascii_domain


# ---------------------------------------------------------------- snapshots


def principal_snapshot(p: Principal) -> PrincipalSnapshot:
    return PrincipalSnapshot(
        name=p.name,
        id_type=p.id_type,
        id_number_masked=v.mask_id_number(p.id_number),
        id_valid_from=p.id_valid_from.isoformat() if p.id_valid_from else None,
        id_valid_to=(p.id_valid_to if isinstance(p.id_valid_to, str) else p.id_valid_to.isoformat())
        if p.id_valid_to
        else None,
        mobile=p.mobile,
        office_phone=p.office_phone,
        emergency_phone=p.emergency_phone,
        email=p.email,
        im_type=p.im_type,
        im_account=p.im_account,
        legal_rep_name=p.legal_rep_name,
        legal_rep_id_masked=v.mask_id_number(p.legal_rep_id) if p.legal_rep_id else "",
    )


def website_snapshot(w: Website, website_id: str, data: FilingData, website_no: str | None = None) -> WebsiteSnapshot:
    return WebsiteSnapshot(
        website_id=website_id,
        website_no=website_no,
        service_type=w.service_type,
        name=w.name,
        domains=list(w.domains),
        home_urls=list(w.home_urls),
        service_content=list(w.service_content),
        preapprovals=[{"type": p.type, "approval_no": p.approval_no, "document": p.document} for p in w.preapprovals],
        languages=list(w.languages),
        remark=w.remark,
        principal=principal_snapshot(website_principal(w, data.subject)),
        access=AccessSnapshot(
            access_methods=list(w.access.access_methods),
            ip_ranges=[f"{r.start_ip}-{r.end_ip}" for r in w.access.ip_ranges],
            server_locations=list(w.access.server_locations),
        ),
    )


def submitted_event(
    *,
    application_id: str,
    version: int,
    type_: str,
    provider_id: str,
    data: FilingData,
    subject_id: str,
    website_ids: list[str],
    submitted_at: dt.datetime,
    submitted_by: str,
    source: str,
    import_job_id: str | None,
    filing_method: str = "PROXY",
    subject_no: str | None = None,
    website_nos: list[str | None] | None = None,
) -> ApplicationSubmitted:
    """The `filing.application.submitted` payload: the full snapshot, ID numbers masked."""
    s = data.subject
    personal = codes.is_personal_nature(s.nature)
    nos = website_nos or [None] * len(website_ids)
    return ApplicationSubmitted(
        application_id=application_id,
        version=version,
        type=type_,
        provider_id=provider_id,
        province=s.province,
        filing_method=filing_method,
        subject=SubjectSnapshot(
            subject_id=subject_id,
            subject_no=subject_no,
            nature=s.nature,
            cert_type=s.cert_type,
            cert_number=v.mask_id_number(s.cert_number) if personal else s.cert_number,
            name=s.name,
            cert_address=s.cert_address,
            province=s.province,
            city=s.city,
            county=s.county,
            mail_address=s.mail_address,
            investor_or_superior=s.investor_or_superior,
            remark=s.remark,
            principal=principal_snapshot(s.principal),
        ),
        websites=[
            website_snapshot(w, wid, data, no) for w, wid, no in zip(data.websites, website_ids, nos, strict=True)
        ],
        submitted_at=submitted_at,
        submitted_by=submitted_by,
        source=source,
        import_job_id=import_job_id,
    )


def preapproval_types(data: FilingData) -> list[str]:
    found: dict[str, None] = {}
    for w in data.websites:
        for p in w.preapprovals:
            if p.type != "NONE":
                found[p.type] = None
    return list(found)


def version_payload(data: FilingData, subject_id: str, website_ids: list[str]) -> dict[str, Any]:
    return {"data": data.model_dump(mode="json"), "subject_id": subject_id, "website_ids": website_ids}


# ---------------------------------------------------------------- rows


def subject_row(data: FilingData) -> dict[str, Any]:
    """The subject's columns; `data` in canonical form."""
    s = data.subject
    family, number = subject_key(s, normalized=True)
    return {
        "nature": s.nature,
        "cert_type": s.cert_type,
        "cert_family": family,
        "cert_number": number,
        "name": s.name,
        "cert_address": s.cert_address,
        "province": s.province,
        "city": s.city,
        "county": s.county,
        "mail_address": s.mail_address,
        "investor_or_superior": s.investor_or_superior,
        "remark": s.remark,
        "principal": s.principal.model_dump(mode="json"),
    }


def website_row(w: Website, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "service_type": w.service_type,
        "name": w.name,
        "home_urls": list(w.home_urls),
        "service_content": list(w.service_content),
        "preapprovals": [p.model_dump(mode="json") for p in w.preapprovals],
        "needs_preapproval": any(p.type != "NONE" for p in w.preapprovals),
        "languages": list(w.languages),
        "remark": w.remark,
        "principal_same_as_subject": w.principal_same_as_subject,
        "principal": w.principal.model_dump(mode="json") if w.principal is not None else None,
    }


def access_row(w: Website) -> dict[str, Any]:
    return {
        "access_methods": list(w.access.access_methods),
        "ip_ranges": [f"{r.start_ip}-{r.end_ip}" for r in w.access.ip_ranges],
        "server_locations": list(w.access.server_locations),
    }


def domain_rows(w: Website, website_id: str, subject_id: str, status: str = "PENDING") -> list[dict[str, Any]]:
    return [
        {"website_id": website_id, "subject_id": subject_id, "position": j, "ascii": d, "unicode": _display(d),
         "status": status}
        for j, d in enumerate(w.domains)
    ]


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


def _conflict_rows(rows: list, family: str, number: str) -> list[dict[str, Any]]:
    """The statement's conflict rows as `conflict_error` takes them (as `blacklist.blacklist_rows` and
    `reservations.rows` give theirs). A blacklisted certificate or domain is refused on its own (the
    blacklist is checked before anything else), as before the rules were one statement."""
    listed = [r for r in rows if r["kind"].startswith("blacklist_")]
    out = []
    for r in listed or rows:
        row = dict(r)
        if row["kind"] == "blacklist_cert":
            row.update(key=number, family=family)
        elif row["kind"] == "reserved_cert":
            row["key"] = row["key"].partition(":")[2]
        out.append(row)
    return out


def violated_key(e: asyncpg.UniqueViolationError) -> str:
    """The key a unique violation names ("Key (ascii)=(a.cn) already exists." → "a.cn"), or ""."""
    detail = getattr(e, "detail", "") or ""
    return detail.split("=(", 1)[1].rsplit(")", 1)[0] if "=(" in detail else ""


def username_taken() -> FilingError:
    return FilingError(409, "主办者用户名已存在，请更换后重试", errors=[{"field": "sponsor.username", "message": "用户名已存在"}])


def race_error(e: asyncpg.UniqueViolationError, data: FilingData) -> FilingError:
    """The refusal for a unique index violated by a concurrent filing, built from the violation."""
    key = violated_key(e)
    constraint = e.constraint_name or ""
    if constraint == "domains_live":
        return conflict_error([{"kind": "domain", "key": key, "number": None}], {}, domain_paths(data))
    if constraint == "subjects_cert_live":
        return conflict_error([{"kind": "cert", "key": key, "number": None}], {}, {})
    if constraint == "subject_mobiles_live":
        return conflict_error([{"kind": "mobile", "key": key, "number": None}], principal_mobiles(data), {})
    if constraint == "users_username":
        return username_taken()
    return FilingError(409, "备案信息与其他正在提交的备案冲突，请刷新后重试")


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
    sponsor_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    subject_id = str(uuid.uuid4())
    application_id = str(uuid.uuid4())
    website_ids = [str(uuid.uuid4()) for _ in data.websites]
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


# ---------------------------------------------------------------- reading a filing back


def filing_from_rows(subject: asyncpg.Record | dict, websites: list, domains: list, accesses: list) -> FilingData:
    """FilingData from the stored rows of one subject (websites in position order)."""
    by_site: dict[Any, list[str]] = {}
    for d in sorted(domains, key=lambda d: d["position"]):
        by_site.setdefault(d["website_id"], []).append(d["ascii"])
    acc = {a["website_id"]: a for a in accesses}
    out_sites = []
    for w in websites:
        a = acc.get(w["id"])
        out_sites.append(
            {
                "service_type": w["service_type"],
                "name": w["name"],
                "domains": by_site.get(w["id"], []),
                "home_urls": w["home_urls"],
                "service_content": w["service_content"],
                "preapprovals": w["preapprovals"],
                "languages": w["languages"],
                "remark": w["remark"],
                "principal_same_as_subject": w["principal_same_as_subject"],
                "principal": w["principal"],
                "access": {
                    "access_methods": a["access_methods"] if a else [],
                    "ip_ranges": [_split_range(r) for r in (a["ip_ranges"] if a else [])],
                    "server_locations": a["server_locations"] if a else [],
                },
            }
        )
    subj = {
        k: subject[k]
        for k in ("nature", "cert_type", "cert_number", "name", "cert_address", "province", "city", "county",
                  "mail_address", "investor_or_superior", "remark", "principal")
    }
    return FilingData.model_validate({"subject": subj, "websites": out_sites})


def _split_range(text: str) -> dict[str, str]:
    start, _, end = text.partition("-")
    return {"start_ip": start, "end_ip": end or start}

