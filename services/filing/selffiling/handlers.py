"""A self-filing sponsor's own use cases beyond the wizard: abandoning its rejected self-filing.

A rejected application stays in flight (DOMAIN §7.2: edit + resubmit, or abandon), holding the
subject's certificate, domains and mobiles. The correction and resubmission pages are the provider's;
a sponsor may abandon (放弃) its rejected 自主备案: the pending rows are withdrawn (certificate,
domains, mobiles released), the application is ABANDONED and verification closes the case
(`filing.application.withdrawn`), so that the sponsor can file again."""

from __future__ import annotations

import uuid

from services.filing.changes import store as cs
from services.filing.changes.corrections import mark_abandoned
from services.filing.selffiling.store import sponsor_uuid
from shared import codes
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem, not_found


async def abandon(ctx: ServiceContext, sponsor_id: str, application_id: str) -> None:
    sponsor = sponsor_uuid(sponsor_id)
    try:
        app_id = uuid.UUID(application_id)
    except ValueError:
        raise not_found("申请") from None
    async with transaction(ctx.pool) as conn:
        app = sponsor and await conn.fetchrow(
            """SELECT ap.* FROM applications ap JOIN subjects s ON s.id = ap.subject_id
               WHERE ap.id = $1 AND s.sponsor_user_id = $2 AND ap.provider_id IS NULL FOR UPDATE OF ap""",
            app_id, sponsor,
        )
        if not app:  # another sponsor's, or a provider's application for this sponsor's subject
            raise not_found("申请")
        if app["status"] != "REJECTED":
            name = codes.name_zh("application_statuses", app["status"]) or app["status"]
            raise Problem(409, f"申请当前状态为“{name}”，只有被管局驳回的自主备案可以放弃")
        sid = (await cs.lock_subject(conn, app["subject_id"]))["id"]
        await conn.execute("UPDATE websites SET status = 'WITHDRAWN', updated_at = now() "
                           "WHERE subject_id = $1 AND status = 'PENDING'", sid)
        await conn.execute("UPDATE domains SET status = 'WITHDRAWN' WHERE subject_id = $1 AND status = 'PENDING'", sid)
        await conn.execute("UPDATE subjects SET status = 'WITHDRAWN', updated_at = now() "
                           "WHERE id = $1 AND status = 'PENDING'", sid)
        await cs.sync_mobiles(conn, sid, [])
        await mark_abandoned(conn, app, sponsor_id, "主办者放弃自主备案", outbox=ctx.outbox, reason="abandoned")
