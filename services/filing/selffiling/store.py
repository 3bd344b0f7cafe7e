"""Writing a self-filing (自主备案): the subject, websites and domains with no provider and no access
record, and its FIRST_FILING application, which goes to the bureau of the subject's province without a
provider verification step (SUBMITTED_TO_BUREAU at once; verification opens the case there).

Every rule of a first filing holds (`filing_store.check_database_rules`: certificate or domain already
filed or in an application in progress → 409 naming the field, mobile of another subject → 422, the
filing blacklist, files being imported), plus: one live subject per sponsor account (a sponsor account
belongs to one subject, DOMAIN §4.6) and the subject's province is the one the sponsor registered in.
A concurrent filing of the same certificate, domain or mobile loses on the unique indexes of migration
020 and answers like the check (`filing_model.race_error`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.filing import audit
from services.filing.entry import model as filing_model
from services.filing.entry import preapproval as preapproval_contacts
from services.filing.entry import rows as filing_rows
from services.filing.entry import store as filing_store
from shared import codes
from shared.filing_data import SelfFilingData, Subject, principal_mobiles
from shared.outbox import Outbox
from shared.web import Problem

STATUS = "SUBMITTED_TO_BUREAU"  # no provider verification (核实) for a self-filing


@dataclass
class CreatedSelfFiling:
    application_id: str
    subject_id: str
    website_ids: list[str]
    subject_name: str
    province: str
    submitted_at: dt.datetime
    preapproval_types: list[str]


def sponsor_uuid(sponsor_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(sponsor_id))
    except ValueError:  # a token whose subject is no account id
        return None


async def sponsor_row(conn: asyncpg.Connection, sponsor_id: str) -> asyncpg.Record:
    key = sponsor_uuid(sponsor_id)
    row = key and await conn.fetchrow(
        "SELECT id, username, province, self_registered FROM users WHERE id = $1 AND role = 'sponsor'", key,
    )
    if not row or not row["self_registered"]:
        raise Problem(403, "只有自主注册的主办者账号可以自主备案；由接入服务提供者代为备案的，请联系该接入服务提供者")
    return row


async def owned_subject(conn: asyncpg.Connection, sponsor_id: str) -> asyncpg.Record | None:
    """The sponsor's live subject (a sponsor account belongs to one subject), if any."""
    key = sponsor_uuid(sponsor_id)
    return key and await conn.fetchrow(
        """SELECT id, name, subject_no, status FROM subjects
           WHERE sponsor_user_id = $1 AND status NOT IN ('CANCELLED', 'WITHDRAWN')""", key,
    )


def already_owns(subject: asyncpg.Record) -> Problem:
    state = f"备案号 {subject['subject_no']}" if subject["subject_no"] else "审核中"
    return Problem(409, f"本账号已有备案主体“{subject['name']}”（{state}），一个主办者账号只能自主备案一个主体",
                   subject_id=str(subject["id"]))


def check_province(subject: Subject, registered: str | None) -> None:
    """The subject's province (GB/T 2260) must be the province the sponsor registered in (its bureau)."""
    row = codes.get("provinces", registered or "")
    if row is not None and subject.province[:2] != row["gb2260"]:
        name = row["name_zh"]
        raise filing_model.FilingError(422, f"主体所在省份须为注册时选择的省份（{name}）", errors=[
            {"field": "subject.province", "message": f"须为注册时选择的省份（{name}），由该省通信管理局审核"}])


async def create_self_filing(
    conn: asyncpg.Connection, *, sponsor_id: str, data: SelfFilingData, outbox: Outbox,
) -> CreatedSelfFiling:
    """Write a validated (`filing_model.validate_filing`, canonical) self-filing in the caller's transaction."""
    sponsor = await sponsor_row(conn, sponsor_id)
    # the sponsor's row serialises its own submits (one subject per account)
    await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", sponsor["id"])
    owned = await owned_subject(conn, sponsor_id)
    if owned is not None:
        raise already_owns(owned)
    check_province(data.subject, sponsor["province"])
    await filing_store.check_database_rules(conn, data)
    try:
        async with conn.transaction():
            return await _insert(conn, sponsor_id=sponsor_id, data=data, outbox=outbox)
    except asyncpg.UniqueViolationError as e:  # lost a race with a concurrent filing
        raise filing_model.race_error(e, data) from None


async def _insert(conn: asyncpg.Connection, *, sponsor_id: str, data: SelfFilingData,
                  outbox: Outbox) -> CreatedSelfFiling:
    now = dt.datetime.now(dt.UTC)
    actor = sponsor_id
    subject_id, application_id = uuid.uuid4(), uuid.uuid4()
    website_ids = [uuid.uuid4() for _ in data.websites]
    srow = filing_rows.subject_row(data)
    pre_types = filing_rows.preapproval_types(data)
    await conn.execute(
        """INSERT INTO subjects (id, provider_id, sponsor_user_id, nature, cert_type, cert_family, cert_number, name,
               cert_address, province, city, county, mail_address, investor_or_superior, remark, principal, status,
               filing_method, source, created_by, created_at, updated_at)
           VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'PENDING', 'SELF',
                   'self', $16, $17, $17)""",
        subject_id, uuid.UUID(sponsor_id), srow["nature"], srow["cert_type"], srow["cert_family"], srow["cert_number"],
        srow["name"], srow["cert_address"], srow["province"], srow["city"], srow["county"], srow["mail_address"],
        srow["investor_or_superior"], srow["remark"], srow["principal"], actor, now,
    )
    await conn.execute(
        "INSERT INTO subject_mobiles (subject_id, mobile) SELECT $1, m FROM unnest($2::text[]) AS m",
        subject_id, list(principal_mobiles(data)),
    )
    entries = [audit.Entry("subject", str(subject_id), "create", actor, str(subject_id), None,
                           {**srow, "filing_method": "SELF", "sponsor_user_id": sponsor_id})]
    for i, (w, wid) in enumerate(zip(data.websites, website_ids, strict=True)):
        row = filing_rows.website_row(w, i)
        await conn.execute(
            """INSERT INTO websites (id, subject_id, provider_id, position, service_type, name, home_urls,
                   service_content, preapprovals, needs_preapproval, languages, remark, principal_same_as_subject,
                   principal, status, created_by, created_at, updated_at)
               VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'PENDING', $14, $15, $15)""",
            wid, subject_id, i, row["service_type"], row["name"], row["home_urls"], row["service_content"],
            row["preapprovals"], row["needs_preapproval"], row["languages"], row["remark"],
            row["principal_same_as_subject"], row["principal"], actor, now,
        )
        await conn.executemany(
            """INSERT INTO domains (website_id, subject_id, position, ascii, unicode, status, created_at)
               VALUES ($1, $2, $3, $4, $5, 'PENDING', $6)""",
            [(wid, subject_id, d["position"], d["ascii"], d["unicode"], now)
             for d in filing_rows.domain_rows(w, str(wid), str(subject_id))],
        )
        entries.append(audit.Entry("website", str(wid), "create", actor, str(subject_id), None,
                                   {**row, "domains": list(w.domains)}))
    ids = [str(w) for w in website_ids]
    await conn.execute(
        """INSERT INTO applications (id, type, status, version, subject_id, provider_id, province, filing_method,
               source, needs_preapproval, status_at, submitted_at, submitted_by, created_at, updated_at)
           VALUES ($1, 'FIRST_FILING', $2, 1, $3, NULL, $4, 'SELF', 'self', $5, $6, $6, $7, $6, $6)""",
        application_id, STATUS, subject_id, srow["province"], bool(pre_types), now, actor,
    )
    await conn.execute(
        """INSERT INTO application_versions (application_id, version, payload, submitted_at, submitted_by)
           VALUES ($1, 1, $2, $3, $4)""",
        application_id, filing_rows.version_payload(data, str(subject_id), ids), now, actor,
    )
    await conn.execute(
        """INSERT INTO application_status_history (application_id, version, status, note, actor, at)
           VALUES ($1, 1, $2, '提交自主备案（报送省通信管理局审核）', $3, $4)""",
        application_id, STATUS, actor, now,
    )
    entries.append(audit.Entry("application", str(application_id), "submit", actor, str(subject_id), None,
                               {"type": "FIRST_FILING", "status": STATUS, "version": 1, "source": "self",
                                "filing_method": "SELF"}))
    await audit.record(conn, entries)
    event = filing_rows.submitted_event(
        application_id=str(application_id), version=1, type_="FIRST_FILING", provider_id="", data=data,
        subject_id=str(subject_id), website_ids=ids, submitted_at=now, submitted_by=actor, source="self",
        import_job_id=None, filing_method="SELF",
    )
    await outbox.add(conn, event, provider_id=None)
    return CreatedSelfFiling(
        application_id=str(application_id), subject_id=str(subject_id), website_ids=ids, subject_name=srow["name"],
        province=srow["province"], submitted_at=now, preapproval_types=pre_types,
    )


def completion(made: CreatedSelfFiling, username: str, draft_id: str | None = None) -> dict[str, Any]:
    """Step 5 of a self-filing: no credentials to hand over (the sponsor's own account)."""
    return {
        "application_id": made.application_id,
        "subject_id": made.subject_id,
        "website_ids": made.website_ids,
        "draft_id": draft_id,
        "status": STATUS,
        "sponsor_name": made.subject_name,
        "username": username,
        "password": None,
        "needs_preapproval": bool(made.preapproval_types),
        "preapproval_contacts": preapproval_contacts.contacts_for(made.province, made.preapproval_types),
        "notice": "自主备案已提交，报送省通信管理局审核。审核通过后，接入服务提供者凭您的用户名和密码为网站新增接入信息。",
        "submitted_at": made.submitted_at,
    }
