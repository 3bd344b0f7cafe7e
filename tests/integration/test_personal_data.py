"""A personal subject's certificate number is the person's ID number: the audit trail and
GET /subjects/{id}/history never show it in full, whichever path wrote the entry, and rows stored
before the rule are masked at rest by the migration and on read."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from services.filing.entry.bulk import create_first_filings
from shared.filing_data import FilingData
from shared.validate import mask_id_number
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import Tenant

MIGRATION = Path(__file__).resolve().parents[2] / "services/filing/migrations/081_mask_audit_certificates.sql"


def personal_filing() -> tuple[dict, str]:
    raw = fs.filing()
    rid = fs.resident_id()
    raw["subject"].update(nature="PERSONAL", cert_type="RESIDENT_ID", cert_number=rid, name="李四")
    raw["subject"]["principal"]["id_number"] = rid
    raw["websites"][0].update(name="李四的读书笔记", service_content=["BLOG"])
    return raw, rid


async def _history(t: Tenant, subject_id: str) -> tuple[list[dict], str]:
    status, body = await t.call("GET", f"/subjects/{subject_id}/history", params={"page_size": "100"})
    assert status == 200, body
    return body["items"], json.dumps(body, ensure_ascii=False)


async def _stored(system: System, subject_id: str) -> str:
    rows = await system.ctx("filing").pool.fetch(
        "SELECT changes FROM audit_log WHERE subject_id = $1", uuid.UUID(subject_id))
    return json.dumps([r["changes"] for r in rows], ensure_ascii=False)


async def test_history_and_stored_audit_mask_a_personal_subjects_certificate(system: System, tenant: Tenant):
    raw, rid = personal_filing()
    status, done = await tenant.call("POST", "/filings", json=raw)
    assert status == 201, done
    items, text = await _history(tenant, done["subject_id"])
    create = next(i for i in items if i["entity"] == "subject" and i["action"] == "create")
    assert create["changes"]["cert_number"] == mask_id_number(rid)
    assert create["changes"]["principal"]["id_number"] == mask_id_number(rid)
    assert rid not in text
    assert rid not in await _stored(system, done["subject_id"])


async def test_an_organisations_certificate_stays_readable(system: System, tenant: Tenant):
    raw = fs.filing()
    status, done = await tenant.call("POST", "/filings", json=raw)
    assert status == 201, done
    items, _ = await _history(tenant, done["subject_id"])
    create = next(i for i in items if i["entity"] == "subject" and i["action"] == "create")
    assert create["changes"]["cert_number"] == raw["subject"]["cert_number"]  # a USCC is public
    assert "*" in create["changes"]["principal"]["id_number"]


async def test_the_importers_batched_path_masks_it_too(system: System, tenant: Tenant):
    raw, rid = personal_filing()
    pool = system.ctx("filing").pool
    async with pool.acquire() as conn:
        tr = conn.transaction()
        await tr.start()
        try:
            [created] = await create_first_filings(
                conn, provider_id=tenant.provider_id, actor="tester", import_job_id=str(uuid.uuid4()),
                items=[(FilingData.model_validate(raw), ("zbz" + uuid.uuid4().hex[:10], "$pbkdf2-sha256$1$a$b"), 0)])
            rows = await conn.fetch("SELECT changes FROM audit_log WHERE subject_id = $1",
                                    uuid.UUID(str(created.subject_id)))
        finally:
            await tr.rollback()
    text = json.dumps([r["changes"] for r in rows], ensure_ascii=False)
    assert rows and rid not in text and mask_id_number(rid) in text


async def test_rows_stored_before_the_rule_are_masked_on_read_and_by_the_migration(system: System, tenant: Tenant):
    pool = system.ctx("filing").pool
    raw, rid = personal_filing()
    status, done = await tenant.call("POST", "/filings", json=raw)
    assert status == 201, done
    org = fs.filing()
    status, org_done = await tenant.call("POST", "/filings", json=org)
    assert status == 201, org_done
    old_rid, new_rid = fs.resident_id(), fs.resident_id()
    # what the old code wrote: a full number on create and a correction's [old, new]
    legacy = [(done["subject_id"], {"nature": "PERSONAL", "cert_number": rid}),
              (done["subject_id"], {"cert_number": [old_rid, new_rid]}),
              (org_done["subject_id"], {"cert_number": [org["subject"]["cert_number"], "911101050000000000"]})]
    ids = [await pool.fetchval(
        """INSERT INTO audit_log (entity, entity_id, subject_id, action, actor, provider_id, changes)
           VALUES ('subject', $1, $1, 'update', 'legacy', $2, $3) RETURNING id""",
        uuid.UUID(sid), tenant.provider_id, changes) for sid, changes in legacy]
    _, text = await _history(tenant, done["subject_id"])
    assert rid not in text and old_rid not in text and new_rid not in text
    assert mask_id_number(old_rid) in text and mask_id_number(new_rid) in text
    # a subject that was personal and is now an organisation: its old numbers are still a person's
    await pool.execute("UPDATE subjects SET nature = 'ENTERPRISE' WHERE id = $1", uuid.UUID(done["subject_id"]))
    try:
        _, text = await _history(tenant, done["subject_id"])
        assert old_rid not in text and new_rid not in text
    finally:
        await pool.execute("UPDATE subjects SET nature = 'PERSONAL' WHERE id = $1", uuid.UUID(done["subject_id"]))
    # at rest: the migration masks them, and leaves the organisation's number alone
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(MIGRATION.read_text())
        await conn.execute(MIGRATION.read_text())  # idempotent
    stored = {r["id"]: r["changes"] for r in await pool.fetch(
        "SELECT id, changes FROM audit_log WHERE id = ANY($1)", ids)}
    assert stored[ids[0]]["cert_number"] == mask_id_number(rid)
    assert stored[ids[1]]["cert_number"] == [mask_id_number(old_rid), mask_id_number(new_rid)]
    assert stored[ids[2]]["cert_number"] == [org["subject"]["cert_number"], "911101050000000000"]
