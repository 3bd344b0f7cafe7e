"""`filing.record.changed`: the filed state of a subject, published whenever a change takes effect
(an approval of any application type, 取消接入), for the read models of other services (detection's
filed domains and illegal-access list). One event per subject and change, numbered by
`subjects.record_seq` (incremented under the subject's row lock, so the numbers follow commit order)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from shared.blacklist import cert_digest
from shared.contracts.filing import FiledRecordChanged, FiledWebsite
from shared.outbox import Outbox
from shared.validate import mask_id_number

_OUTBOX = Outbox("filing")


async def publish_record(conn: asyncpg.Connection, subject_id: uuid.UUID | str) -> None:
    s = await conn.fetchrow(
        """UPDATE subjects SET record_seq = record_seq + 1 WHERE id = $1
           RETURNING id, record_seq, provider_id, subject_no, name, status, province, cert_type, cert_family,
                     cert_number""",
        uuid.UUID(str(subject_id)),
    )
    if s is None:
        return
    websites = await conn.fetch(
        """SELECT w.id, w.website_no, w.name, w.status,
                  array(SELECT d.ascii FROM domains d WHERE d.website_id = w.id
                         AND d.status NOT IN ('CANCELLED', 'WITHDRAWN') ORDER BY d.position, d.ascii) AS domains,
                  coalesce((SELECT jsonb_object_agg(a.provider_id, a.ip_ranges) FROM accesses a
                             WHERE a.website_id = w.id AND a.status = 'ACTIVE'), '{}'::jsonb) AS accesses
             FROM websites w WHERE w.subject_id = $1 AND w.status <> 'WITHDRAWN' ORDER BY w.position""",
        s["id"],
    )
    masked = mask_id_number(s["cert_number"]) if s["cert_family"] == "PERSON_ID" else s["cert_number"]
    event = FiledRecordChanged(
        subject_id=str(s["id"]), seq=s["record_seq"], provider_id=s["provider_id"], subject_no=s["subject_no"],
        name=s["name"], status=s["status"], province=s["province"], cert_type=s["cert_type"],
        cert_digest=cert_digest(s["cert_family"], s["cert_number"]), cert_number_masked=masked,
        websites=[FiledWebsite(website_id=str(w["id"]), website_no=w["website_no"], name=w["name"], status=w["status"],
                               domains=list(w["domains"]), access_providers=sorted(w["accesses"]),
                               ip_ranges={k: list(v) for k, v in w["accesses"].items()}) for w in websites],
        changed_at=datetime.now(UTC),
    )
    await _OUTBOX.add(conn, event, provider_id=s["provider_id"])
