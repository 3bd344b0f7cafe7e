"""`filing.record.changed`: the filed state of a subject, published whenever a change takes effect
(an approval of any application type, 取消接入), for the read models of other services (detection's
filed domains and illegal-access list; reporting's filing pages, certificates and statistics). One
event per subject and change, numbered by `subjects.record_seq` (incremented under the subject's row
lock, so the numbers follow commit order). ID numbers are masked, as in every message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from services.filing.changes.model import ip_texts, principal_snap, subject_data, subject_snap
from shared.blacklist import cert_digest
from shared.contracts.filing import AccessState, FiledRecordChanged, FiledWebsite
from shared.outbox import Outbox
from shared.validate import mask_id_number

_OUTBOX = Outbox("filing")

_WEBSITES_SQL = """
SELECT w.*,
       array(SELECT d.ascii FROM domains d WHERE d.website_id = w.id
              AND d.status NOT IN ('CANCELLED', 'WITHDRAWN') ORDER BY d.position, d.ascii) AS domains,
       array(SELECT d.unicode FROM domains d WHERE d.website_id = w.id
              AND (d.status NOT IN ('CANCELLED', 'WITHDRAWN')
                   OR (w.status = 'CANCELLED' AND d.status = 'CANCELLED'))
             ORDER BY d.position, d.ascii) AS display_domains
  FROM websites w WHERE w.subject_id = $1 AND w.status <> 'WITHDRAWN' ORDER BY w.position
"""


async def publish_record(conn: asyncpg.Connection, subject_id: uuid.UUID | str, *, cause: str = "",
                         application_id: uuid.UUID | str | None = None) -> None:
    s = await conn.fetchrow(
        "UPDATE subjects SET record_seq = record_seq + 1 WHERE id = $1 RETURNING *", uuid.UUID(str(subject_id)),
    )
    if s is None:
        return
    websites = await conn.fetch(_WEBSITES_SQL, s["id"])
    accesses = await conn.fetch(
        "SELECT * FROM accesses WHERE subject_id = $1 AND status <> 'WITHDRAWN' ORDER BY created_at, id", s["id"]
    )
    by_site: dict[uuid.UUID, list[AccessState]] = {}
    for a in accesses:
        by_site.setdefault(a["website_id"], []).append(AccessState(
            provider_id=a["provider_id"], access_methods=list(a["access_methods"]), ip_ranges=ip_texts(a["ip_ranges"]),
            server_locations=list(a["server_locations"]), status=a["status"],
        ))
    masked = mask_id_number(s["cert_number"]) if s["cert_family"] == "PERSON_ID" else s["cert_number"]

    def website(w) -> FiledWebsite:
        active = [a for a in by_site.get(w["id"], []) if a.status == "ACTIVE"]
        same = w["principal_same_as_subject"] or not w["principal"]
        return FiledWebsite(
            website_id=str(w["id"]), website_no=w["website_no"], name=w["name"], status=w["status"],
            domains=list(w["domains"]), access_providers=sorted({a.provider_id for a in active}),
            ip_ranges={a.provider_id: list(a.ip_ranges) for a in active},
            service_type=w["service_type"], display_domains=list(w["display_domains"]),
            home_urls=list(w["home_urls"]), service_content=list(w["service_content"]),
            preapprovals=[{"type": p.get("type") or "", "approval_no": p.get("approval_no") or ""}
                          for p in w["preapprovals"]],
            languages=list(w["languages"]), remark=w["remark"],
            principal=principal_snap(s["principal"] if same else w["principal"]),
            approved_at=w["approved_at"], cancelled_at=w["cancelled_at"], accesses=by_site.get(w["id"], []),
        )

    event = FiledRecordChanged(
        subject_id=str(s["id"]), seq=s["record_seq"], provider_id=s["provider_id"] or "", subject_no=s["subject_no"],
        name=s["name"], status=s["status"], province=s["province"], cert_type=s["cert_type"],
        cert_digest=cert_digest(s["cert_family"], s["cert_number"]), cert_number_masked=masked,
        websites=[website(w) for w in websites], changed_at=datetime.now(UTC),
        subject=subject_snap(subject_data(s), str(s["id"]), s["subject_no"]), filing_method=s["filing_method"],
        approved_at=s["approved_at"], cancelled_at=s["cancelled_at"], cause=cause,
        application_id=str(application_id) if application_id else None,
    )
    await _OUTBOX.add(conn, event, provider_id=s["provider_id"])
