"""What an approval changes in the filed records, per application type (DOMAIN §7.1, §7.3, §7.4).

Called by `outcomes.on_approved` in the transaction of the message (the inbox row and the
application's APPROVED status are written in it too): an approval is applied exactly once —
a redelivery is skipped by the inbox, a second approval of the same version finds the
application final. The proposal is read from the payload of the approved version.

| type           | effect                                                                         |
|----------------|--------------------------------------------------------------------------------|
| ADD_WEBSITE    | (numbers and ACTIVE by outcomes' approval statement) a SHELL subject → ACTIVE  |
| ADD_ACCESS     | the pending access ACTIVE; a NO_ACCESS website and a SHELL subject → ACTIVE    |
| CHANGE_SUBJECT | the subject's fields replaced (numbers kept)                                   |
| CHANGE_WEBSITE | the website's fields replaced, removed domains CANCELLED (free for filing)     |
| CHANGE_ACCESS  | this provider's access record replaced                                         |
| CANCEL_WEBSITE | website, its domains and accesses CANCELLED; numbers kept as history           |
| CANCEL_SUBJECT | subject and all its websites, domains, accesses CANCELLED; mobiles released    |
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import structlog

from services.filing import audit
from services.filing.changes import store as cs
from services.filing.changes.model import SUBJECT_FIELDS, WEBSITE_FIELDS, ip_texts
from shared.bus import PermanentError

log = structlog.get_logger(__name__)

_KEY_FIELDS = ("nature", "cert_type", "cert_number", "province")  # not changeable by CHANGE_SUBJECT


async def proposal_of(conn: asyncpg.Connection, app: Any) -> dict[str, Any]:
    payload = await conn.fetchval(
        "SELECT payload FROM application_versions WHERE application_id = $1 AND version = $2", app["id"], app["version"]
    )
    proposal = (payload or {}).get("proposal") or app["proposal"]
    if not proposal:
        raise PermanentError(f"application {app['id']} v{app['version']} has no proposal to apply")
    return proposal


async def apply_approval(conn: asyncpg.Connection, app: Any, actor: str) -> list[audit.Entry]:
    """Apply the approved application `app` (locked); returns the audit entries written."""
    kind = app["type"]
    if kind == "ADD_WEBSITE":
        entries: list[audit.Entry] = []
        await revive_subject(conn, app, actor, entries)
        await audit.record(conn, entries)
        return entries
    proposal = await proposal_of(conn, app)
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise PermanentError(f"approval of application {app['id']}: type {kind} has no effect defined")
    entries = await handler(conn, app, proposal, actor)
    await audit.record(conn, entries)
    return entries


def _entry(app: Any, entity: str, entity_id: Any, action: str, actor: str, changes: dict) -> audit.Entry:
    return audit.Entry(entity, str(entity_id), action, actor, str(app["subject_id"]), app["provider_id"], changes)


async def revive_subject(conn, app: Any, actor: str, entries: list[audit.Entry]) -> None:
    """A SHELL subject (no ACTIVE website) is ACTIVE again once a website is active (DOMAIN §7.4)."""
    old = await conn.fetchval(
        """UPDATE subjects s SET status = 'ACTIVE', updated_at = now()
           FROM (SELECT status FROM subjects WHERE id = $1) o
           WHERE s.id = $1 AND s.status = 'SHELL'
             AND EXISTS (SELECT 1 FROM websites w WHERE w.subject_id = $1 AND w.status = 'ACTIVE')
           RETURNING o.status""",
        app["subject_id"],
    )
    if old:
        entries.append(_entry(app, "subject", app["subject_id"], "status", actor, {"status": [old, "ACTIVE"]}))


async def _add_access(conn, app: Any, proposal: dict[str, Any], actor: str) -> list[audit.Entry]:
    entries: list[audit.Entry] = []
    access_id, website_id = uuid.UUID(proposal["access_id"]), uuid.UUID(proposal["website_id"])
    done = await conn.fetchval(
        "UPDATE accesses SET status = 'ACTIVE', updated_at = now() WHERE id = $1 AND status = 'PENDING' RETURNING id",
        access_id,
    )
    if done is None:
        raise PermanentError(f"approval of ADD_ACCESS {app['id']}: access {access_id} is not pending")
    entries.append(_entry(app, "access", access_id, "approve", actor,
                          {"status": ["PENDING", "ACTIVE"], "website_id": str(website_id)}))
    old = await conn.fetchval(
        "UPDATE websites w SET status = 'ACTIVE', updated_at = now() FROM (SELECT status FROM websites WHERE id = $1) o "
        "WHERE w.id = $1 AND w.status = 'NO_ACCESS' RETURNING o.status",
        website_id,
    )
    if old:
        entries.append(_entry(app, "website", website_id, "status", actor, {"status": [old, "ACTIVE"]}))
    await revive_subject(conn, app, actor, entries)
    return entries


async def _change_subject(conn, app: Any, proposal: dict[str, Any], actor: str) -> list[audit.Entry]:
    new = proposal["subject"]
    old = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1", app["subject_id"])
    fields = [f for f in SUBJECT_FIELDS if f not in _KEY_FIELDS]
    sets = ", ".join(f"{f} = ${i + 2}" for i, f in enumerate(fields))
    await conn.execute(f"UPDATE subjects SET {sets}, updated_at = now() WHERE id = $1",
                       app["subject_id"], *[new[f] for f in fields])
    if old["sponsor_user_id"] is not None and new["name"] != old["name"]:
        await conn.execute("UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1",
                           old["sponsor_user_id"], new["name"])
    await cs.sync_mobiles(conn, app["subject_id"], await cs.current_mobiles(conn, app["subject_id"]))
    changed = audit.diff({f: old[f] for f in fields}, {f: new[f] for f in fields})
    return [_entry(app, "subject", app["subject_id"], "change", actor, changed)]


async def _change_website(conn, app: Any, proposal: dict[str, Any], actor: str) -> list[audit.Entry]:
    new = proposal["website"]
    wid = uuid.UUID(proposal["website_id"])
    old = await conn.fetchrow("SELECT * FROM websites WHERE id = $1", wid)
    if old is None or old["status"] in ("CANCELLED", "WITHDRAWN"):
        raise PermanentError(f"approval of CHANGE_WEBSITE {app['id']}: website {wid} is not live")
    needs_pre = any(p.get("type") != "NONE" for p in new["preapprovals"])
    await conn.execute(
        """UPDATE websites SET name = $2, home_urls = $3, service_content = $4, preapprovals = $5,
               needs_preapproval = $6, languages = $7, remark = $8, principal_same_as_subject = $9, principal = $10,
               updated_at = now() WHERE id = $1""",
        wid, new["name"], new["home_urls"], new["service_content"], new["preapprovals"], needs_pre,
        new["languages"], new["remark"], new["principal_same_as_subject"],
        None if new["principal_same_as_subject"] else new["principal"],
    )
    before = (await cs.live_domains(conn, [wid]))[wid]
    kept = list(new["domains"])
    removed = [d for d in before if d not in kept]
    if removed:
        await conn.execute(
            "UPDATE domains SET status = 'CANCELLED' WHERE website_id = $1 AND ascii = ANY($2::text[])", wid, removed
        )
    await conn.execute(
        """UPDATE domains d SET position = k.i - 1 FROM unnest($2::text[]) WITH ORDINALITY k(ascii, i)
           WHERE d.website_id = $1 AND d.ascii = k.ascii""",
        wid, kept,
    )
    await cs.sync_mobiles(conn, app["subject_id"], await cs.current_mobiles(conn, app["subject_id"]))
    changed = audit.diff({f: old[f] for f in WEBSITE_FIELDS} | {"domains": before},
                         {f: new[f] for f in WEBSITE_FIELDS} | {"domains": kept})
    return [_entry(app, "website", wid, "change", actor, changed)]


async def _change_access(conn, app: Any, proposal: dict[str, Any], actor: str) -> list[audit.Entry]:
    new = proposal["access"]
    row = {"access_methods": list(new["access_methods"]), "ip_ranges": ip_texts(new["ip_ranges"]),
           "server_locations": list(new["server_locations"])}
    old = await conn.fetchrow(
        """UPDATE accesses a SET access_methods = $3, ip_ranges = $4, server_locations = $5, updated_at = now()
           FROM (SELECT * FROM accesses WHERE website_id = $1 AND provider_id = $2 AND status = 'ACTIVE') o
           WHERE a.id = o.id RETURNING o.id, o.access_methods, o.ip_ranges, o.server_locations""",
        uuid.UUID(proposal["website_id"]), app["provider_id"], row["access_methods"], row["ip_ranges"],
        row["server_locations"],
    )
    if old is None:
        raise PermanentError(f"approval of CHANGE_ACCESS {app['id']}: the provider has no active access")
    changed = audit.diff({k: old[k] for k in row}, row)
    return [_entry(app, "access", old["id"], "change", actor, {"website_id": proposal["website_id"], **changed})]


async def cancel_websites(conn, app: Any, website_ids: list[uuid.UUID] | None, actor: str) -> list[audit.Entry]:
    """Websites (all of the subject's when None) CANCELLED with their domains and accesses; the
    numbers stay on the rows as history, the domains are free for a new filing."""
    cond, args = ("subject_id = $1", [app["subject_id"]]) if website_ids is None else ("id = ANY($1::uuid[])",
                                                                                        [website_ids])
    rows = await conn.fetch(
        f"""UPDATE websites w SET status = 'CANCELLED', cancelled_at = now(), updated_at = now()
            FROM (SELECT id, status FROM websites WHERE {cond} AND status NOT IN ('CANCELLED', 'WITHDRAWN')) o
            WHERE w.id = o.id RETURNING w.id, w.website_no, o.status""",
        *args,
    )
    ids = [r["id"] for r in rows]
    await conn.execute("UPDATE domains SET status = 'CANCELLED' WHERE website_id = ANY($1::uuid[]) "
                       "AND status NOT IN ('CANCELLED', 'WITHDRAWN')", ids)
    await conn.execute("UPDATE accesses SET status = 'CANCELLED', updated_at = now() WHERE website_id = ANY($1::uuid[]) "
                       "AND status NOT IN ('CANCELLED', 'WITHDRAWN')", ids)
    return [_entry(app, "website", r["id"], "cancel", actor, {"status": [r["status"], "CANCELLED"],
                                                               "website_no": r["website_no"]}) for r in rows]


async def _cancel_website(conn, app: Any, proposal: dict[str, Any], actor: str) -> list[audit.Entry]:
    from services.filing.changes.handlers import settle_subject

    entries = await cancel_websites(conn, app, [uuid.UUID(proposal["website_id"])], actor)
    subject = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1", app["subject_id"])
    await settle_subject(conn, subject, actor, app["provider_id"], entries)
    await cs.sync_mobiles(conn, app["subject_id"], await cs.current_mobiles(conn, app["subject_id"]))
    return entries


async def _cancel_subject(conn, app: Any, proposal: dict[str, Any], actor: str) -> list[audit.Entry]:
    entries = await cancel_websites(conn, app, None, actor)
    old = await conn.fetchrow("SELECT status, subject_no FROM subjects WHERE id = $1", app["subject_id"])
    await conn.execute("UPDATE subjects SET status = 'CANCELLED', cancelled_at = now(), updated_at = now() WHERE id = $1", app["subject_id"])
    await cs.sync_mobiles(conn, app["subject_id"], [])
    entries.append(_entry(app, "subject", app["subject_id"], "cancel", actor,
                          {"status": [old["status"], "CANCELLED"], "subject_no": old["subject_no"]}))
    return entries


_HANDLERS = {
    "ADD_ACCESS": _add_access,
    "CHANGE_SUBJECT": _change_subject,
    "CHANGE_WEBSITE": _change_website,
    "CHANGE_ACCESS": _change_access,
    "CANCEL_WEBSITE": _cancel_website,
    "CANCEL_SUBJECT": _cancel_subject,
}
