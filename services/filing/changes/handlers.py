"""Business changes (备案业务管理, seed 1.4): 新增网站, 新增接入, 变更主体/网站/接入, 取消接入.

Each change is an application of its own type (DOMAIN §7.1) that goes through verification like
a first filing: `filing.application.submitted` carries the subject snapshot (with its number) and
the websites the application is about; the approval is applied by `outcomes/effects.py`. The proposal is
kept in `applications.proposal` and in every submitted version's payload:

| type           | proposal                                            | rows written at submission           |
|----------------|-----------------------------------------------------|--------------------------------------|
| ADD_WEBSITE    | website_id, website (Website incl. access)          | website, domain, access: PENDING     |
| ADD_ACCESS     | website_id, access_id, access                       | this provider's access: PENDING      |
| CHANGE_SUBJECT | subject (the full proposed Subject)                 | mobiles reserved                     |
| CHANGE_WEBSITE | website_id, website (WebsiteChange + domains kept)  | mobiles reserved                     |
| CHANGE_ACCESS  | website_id, access_id, access                       | —                                    |
| CANCEL_ACCESS  | website_id, access_id (APPROVED at once, seed 1.4.5) | access CANCELLED, website NO_ACCESS  |

Rules: the subject must be filed (number, ACTIVE or SHELL); one application in flight per
subject (409 naming it); the sponsor's username and password when the subject is self-filed or
another provider's (`store.credentials_needed`); field rules of `shared.filing_data`;
database rules (domain, mobile) with 409/422 naming the body field. A mobile a proposal
introduces is reserved (`subject_mobiles`) while the application is in flight, so that no
other subject can take it before the approval is applied. The event and the validation of
proposals are in `proposals.py`; correction, resubmission and abandonment of returned
applications in `corrections.py`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from services.filing import audit
from services.filing.changes import store as cs
from services.filing.changes.model import (
    AccessCancelled,
    AddAccessIn,
    AddWebsiteIn,
    ApplicationCreated,
    SubjectChangeIn,
    WebsiteChangeIn,
    ip_texts,
    needs_preapproval,
    preapproval_types,
)
from services.filing.changes.proposals import (
    build_event,
    need_access,
    own_mobile,
    provider_principal,
    race_problem,
    utcnow,
    validated_access,
    validated_new_website,
    validated_subject_change,
    validated_website_change,
)
from services.filing.entry import preapproval as preapproval_contacts
from services.filing.records import store as records
from services.filing.records.events import publish_record
from shared import codes
from shared import validate as v
from shared.db import transaction
from shared.filing_data import Access, Website
from shared.service import ServiceContext
from shared.web import Problem, not_found

# ---------------------------------------------------------------- submitting


def _created(app_id: uuid.UUID, app_type: str, subject: Any, now: dt.datetime, *, website_id=None,
             datas: list[dict[str, Any]] | None = None, notice: str = "") -> dict[str, Any]:
    datas = datas or []
    pre = preapproval_types(datas) if app_type in ("ADD_WEBSITE", "CHANGE_WEBSITE") else []
    return ApplicationCreated(
        application_id=str(app_id), type=app_type, type_name=codes.name_zh("filing_types", app_type) or app_type,
        status="PENDING_VERIFICATION", status_name=codes.name_zh("application_statuses", "PENDING_VERIFICATION") or "",
        version=1, subject_id=str(subject["id"]), website_id=str(website_id) if website_id else None,
        needs_preapproval=bool(pre), preapproval_contacts=preapproval_contacts.contacts_for(subject["province"], pre),
        submitted_at=now,
        notice=notice or "申请已提交，待核实后报送管局审核；审核通过后生效。",
    ).model_dump(mode="json")


async def _submit(
    ctx: ServiceContext, conn: asyncpg.Connection, *, app_type: str, subject: Any, provider_id: str, actor: str,
    proposal: dict[str, Any], note: str, website_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    app_id, now = uuid.uuid4(), utcnow()
    event, website_ids, datas = await build_event(
        conn, app_type=app_type, subject=subject, proposal=proposal, application_id=app_id, version=1,
        provider_id=provider_id, actor=actor, now=now,
    )
    await cs.insert_application(
        conn, application_id=app_id, app_type=app_type, subject=subject, provider_id=provider_id, actor=actor,
        now=now, proposal=proposal, website_ids=website_ids, needs_preapproval=needs_preapproval(app_type, datas),
        note=note, website_id=website_id, event=event, outbox=ctx.outbox,
    )
    return _created(app_id, app_type, subject, now, website_id=website_id, datas=datas)

# ---------------------------------------------------------------- finding the target


async def _subject_for(ctx: ServiceContext, provider_id: str, actor: str, subject_id: str):
    """(subject row, visible to this provider); 404 when it does not exist."""
    sid = cs.as_uuid(subject_id, "主体")
    async with ctx.pool.acquire() as conn:
        subject = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1", sid)
        if subject is None:
            raise not_found("主体")
        visible = await records.subject_visible(conn, provider_principal(provider_id, actor), sid) is not None
    return subject, visible


async def _authorise(ctx: ServiceContext, subject: Any, visible: bool, provider_id: str, sponsor, *,
                     subject_change: bool = False) -> None:
    """权限验证: 404 outside the provider's records without credentials; the sponsor's
    credentials when they are needed (422 missing, 403 wrong)."""
    own_changes = ctx.settings.sponsor_auth_own_changes if subject_change else None
    if not cs.credentials_needed(subject, provider_id, own_changes=own_changes):
        if not visible:
            raise not_found("主体")
        return
    if sponsor is None:
        if not visible:
            raise not_found("主体")
        raise cs.credentials_missing()
    await cs.verify_sponsor(ctx, subject, sponsor.username, sponsor.password)


async def find_website(conn: asyncpg.Connection, ref: str) -> asyncpg.Record | None:
    """A website by id, website number (网站备案号) or one of its live domains."""
    text = (ref or "").strip()
    try:
        return await conn.fetchrow("SELECT * FROM websites WHERE id = $1", uuid.UUID(text))
    except ValueError:
        pass
    if "ICP" in text.upper() or "B2-" in text.upper():
        try:
            number = v.validate_filing_number(text, website=True)
        except v.InvalidValue:
            return None
        return await conn.fetchrow("SELECT * FROM websites WHERE website_no = $1", number)
    try:
        ascii_ = v.validate_domain(text, allow_gov_subdomain=True).ascii
    except v.InvalidValue:
        return None
    return await conn.fetchrow(
        """SELECT w.* FROM domains d JOIN websites w ON w.id = d.website_id
           WHERE d.ascii = $1 AND d.status NOT IN ('CANCELLED', 'WITHDRAWN') ORDER BY w.website_no NULLS LAST LIMIT 1""",
        ascii_,
    )


async def _own_website(ctx: ServiceContext, provider_id: str, actor: str, website_id: str):
    """A website visible to this provider (404 otherwise) and this provider's ACTIVE access
    (409 when it has none: 变更网站/接入 and 取消接入 are for the provider's own access)."""
    wid = cs.as_uuid(website_id, "网站")
    async with ctx.pool.acquire() as conn:
        website = await records.website_visible(conn, provider_principal(provider_id, actor), wid)
        if website is None:
            raise not_found("网站")
        access = await cs.provider_access(conn, wid, provider_id)
    need_access(access)
    return website



# ---------------------------------------------------------------- 新增网站 (seed 1.4.1)


async def add_website(ctx: ServiceContext, provider_id: str, actor: str, subject_id: str, body: AddWebsiteIn) -> dict:
    subject, visible = await _subject_for(ctx, provider_id, actor, subject_id)
    await _authorise(ctx, subject, visible, provider_id, body.sponsor)
    site = validated_new_website(subject, body.website)
    wid = uuid.uuid4()
    domains = {d: f"website.domains[{j}]" for j, d in enumerate(site.domains)}
    mobiles = own_mobile(site.principal.model_dump(mode="json") if site.principal else None,
                          site.principal_same_as_subject, "website.principal.mobile")
    try:
        async with transaction(ctx.pool) as conn:
            subject = await cs.lock_subject(conn, subject["id"])
            cs.require_filed_subject(subject)
            await cs.ensure_none_in_flight(conn, subject["id"], provider_id)
            await cs.check_conflicts(conn, subject_id=subject["id"], mobiles=mobiles, domains=domains)
            await insert_pending_website(conn, subject, wid, site, provider_id, actor)
            await cs.sync_mobiles(conn, subject["id"], await cs.current_mobiles(conn, subject["id"]))
            proposal = {"type": "ADD_WEBSITE", "website_id": str(wid), "website": site.model_dump(mode="json")}
            return await _submit(ctx, conn, app_type="ADD_WEBSITE", subject=subject, provider_id=provider_id,
                                 actor=actor, proposal=proposal, note="提交新增网站", website_id=wid)
    except asyncpg.UniqueViolationError as e:
        raise race_problem(e, domains=domains, mobiles=mobiles) from None


async def insert_pending_website(conn, subject: Any, wid: uuid.UUID, site: Website, provider_id: str, actor: str):
    from services.filing.entry import rows as filing_rows

    position = await conn.fetchval("SELECT coalesce(max(position) + 1, 0) FROM websites WHERE subject_id = $1",
                                   subject["id"])
    row = filing_rows.website_row(site, position)
    acc = filing_rows.access_row(site)
    await conn.execute(
        """INSERT INTO websites (id, subject_id, provider_id, position, service_type, name, home_urls,
               service_content, preapprovals, needs_preapproval, languages, remark, principal_same_as_subject,
               principal, status, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'PENDING', $15)""",
        wid, subject["id"], provider_id, position, row["service_type"], row["name"], row["home_urls"],
        row["service_content"], row["preapprovals"], row["needs_preapproval"], row["languages"], row["remark"],
        row["principal_same_as_subject"], row["principal"], actor,
    )
    await cs.insert_pending_domains(conn, wid, subject["id"], site)
    await conn.execute(
        """INSERT INTO accesses (website_id, subject_id, provider_id, access_methods, ip_ranges, server_locations,
               status, created_by) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7)""",
        wid, subject["id"], provider_id, acc["access_methods"], acc["ip_ranges"], acc["server_locations"], actor,
    )
    await audit.record(conn, [audit.Entry("website", str(wid), "create", actor, str(subject["id"]), provider_id,
                                          {**row, "domains": list(site.domains), "access": acc})])


# ---------------------------------------------------------------- 新增接入 (seed 1.4.2)


async def add_access(ctx: ServiceContext, provider_id: str, actor: str, ref: str, body: AddAccessIn) -> dict:
    async with ctx.pool.acquire() as conn:
        website = await find_website(conn, ref)
        if website is None:
            raise not_found("网站")
        subject = await conn.fetchrow("SELECT * FROM subjects WHERE id = $1", website["subject_id"])
        visible = await records.website_visible(conn, provider_principal(provider_id, actor), website["id"]) is not None
    if not visible and not cs.credentials_needed(subject, provider_id):
        raise not_found("网站")
    if cs.credentials_needed(subject, provider_id):
        if body.sponsor is None:
            raise cs.credentials_missing()
        await cs.verify_sponsor(ctx, subject, body.sponsor.username, body.sponsor.password)
    access = validated_access(body.access, "access")
    acc = {"access_methods": list(access.access_methods),
           "ip_ranges": [f"{r.start_ip}-{r.end_ip}" for r in access.ip_ranges],
           "server_locations": list(access.server_locations)}
    try:
        async with transaction(ctx.pool) as conn:
            subject = await cs.lock_subject(conn, subject["id"])
            website = await conn.fetchrow("SELECT * FROM websites WHERE id = $1", website["id"])
            cs.require_filed_subject(subject)
            cs.require_filed_website(website)
            if await cs.provider_access(conn, website["id"], provider_id, ("ACTIVE", "PENDING")) is not None:
                raise Problem(409, "本接入服务提供者已接入该网站（或已有办理中的新增接入申请），不需要新增接入")
            await cs.ensure_none_in_flight(conn, subject["id"], provider_id)
            access_id = await conn.fetchval(
                """INSERT INTO accesses (website_id, subject_id, provider_id, access_methods, ip_ranges,
                       server_locations, status, created_by) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7)
                   RETURNING id""",
                website["id"], subject["id"], provider_id, acc["access_methods"], acc["ip_ranges"],
                acc["server_locations"], actor,
            )
            await audit.record(conn, [audit.Entry("access", str(access_id), "create", actor, str(subject["id"]),
                                                  provider_id, {"website_id": str(website["id"]), **acc})])
            proposal = {"type": "ADD_ACCESS", "website_id": str(website["id"]), "access_id": str(access_id),
                        "access": access.model_dump(mode="json")}
            return await _submit(ctx, conn, app_type="ADD_ACCESS", subject=subject, provider_id=provider_id,
                                 actor=actor, proposal=proposal, note="提交新增接入", website_id=website["id"])
    except asyncpg.UniqueViolationError as e:
        raise race_problem(e) from None


# ---------------------------------------------------------------- 变更主体 (seed 1.4.3)


async def change_subject(ctx: ServiceContext, provider_id: str, actor: str, subject_id: str,
                         body: SubjectChangeIn) -> dict:
    subject, visible = await _subject_for(ctx, provider_id, actor, subject_id)
    if not visible:
        raise not_found("主体")
    await _authorise(ctx, subject, visible, provider_id, body.sponsor, subject_change=True)
    mobiles = {body.subject.principal.mobile: "subject.principal.mobile"}
    try:
        async with transaction(ctx.pool) as conn:
            subject = await cs.lock_subject(conn, subject["id"])
            cs.require_filed_subject(subject)
            await cs.ensure_none_in_flight(conn, subject["id"], provider_id)
            proposed = validated_subject_change(subject, await cs.live_websites(conn, subject["id"]), body.subject)
            mobiles = {proposed.principal.mobile: "subject.principal.mobile"}
            await cs.check_conflicts(conn, subject_id=subject["id"], mobiles=mobiles)
            await cs.sync_mobiles(conn, subject["id"],
                                  await cs.current_mobiles(conn, subject["id"]) | {proposed.principal.mobile})
            proposal = {"type": "CHANGE_SUBJECT", "subject": proposed.model_dump(mode="json")}
            return await _submit(ctx, conn, app_type="CHANGE_SUBJECT", subject=subject, provider_id=provider_id,
                                 actor=actor, proposal=proposal, note="提交变更主体")
    except asyncpg.UniqueViolationError as e:
        raise race_problem(e, mobiles=mobiles) from None


# ---------------------------------------------------------------- 变更网站 (seed 1.4.4)


async def _relock_for_change(conn: asyncpg.Connection, subject_id, website_id, provider_id: str):
    """Inside the change's transaction: lock the subject, re-read the website and this provider's
    access, and re-check what the first read checked (filed, accessed here, nothing in flight)."""
    subject = await cs.lock_subject(conn, subject_id)
    website = await conn.fetchrow("SELECT * FROM websites WHERE id = $1", website_id)
    cs.require_filed_subject(subject)
    cs.require_filed_website(website)
    access = await cs.provider_access(conn, website_id, provider_id)
    need_access(access)
    await cs.ensure_none_in_flight(conn, subject_id, provider_id)
    return subject, website, access


async def change_website(ctx: ServiceContext, provider_id: str, actor: str, website_id: str,
                         body: WebsiteChangeIn) -> dict:
    website = await _own_website(ctx, provider_id, actor, website_id)
    mobiles: dict[str, str] = {}
    try:
        async with transaction(ctx.pool) as conn:
            subject, website, access = await _relock_for_change(conn, website["subject_id"], website["id"], provider_id)
            domains = (await cs.live_domains(conn, [website["id"]]))[website["id"]]
            proposed = validated_website_change(subject, website, access, domains, body.website)
            mobiles = own_mobile(proposed["principal"], proposed["principal_same_as_subject"],
                                  "website.principal.mobile")
            await cs.check_conflicts(conn, subject_id=subject["id"], mobiles=mobiles)
            await cs.sync_mobiles(conn, subject["id"], await cs.current_mobiles(conn, subject["id"]) | set(mobiles))
            proposal = {"type": "CHANGE_WEBSITE", "website_id": str(website["id"]), "website": proposed}
            return await _submit(ctx, conn, app_type="CHANGE_WEBSITE", subject=subject, provider_id=provider_id,
                                 actor=actor, proposal=proposal, note="提交变更网站", website_id=website["id"])
    except asyncpg.UniqueViolationError as e:
        raise race_problem(e, mobiles=mobiles) from None


# ---------------------------------------------------------------- 变更接入 / 取消接入 (seed 1.4.5)


async def change_access(ctx: ServiceContext, provider_id: str, actor: str, website_id: str, body: Access) -> dict:
    website = await _own_website(ctx, provider_id, actor, website_id)
    proposed = validated_access(body, "")
    async with transaction(ctx.pool) as conn:
        subject, website, access = await _relock_for_change(conn, website["subject_id"], website["id"], provider_id)
        current = {"access_methods": list(access["access_methods"]), "ip_ranges": list(access["ip_ranges"]),
                   "server_locations": list(access["server_locations"])}
        new = {"access_methods": list(proposed.access_methods), "ip_ranges": ip_texts(
            [r.model_dump() for r in proposed.ip_ranges]), "server_locations": list(proposed.server_locations)}
        if current == new:
            raise cs.refuse([{"field": "", "message": "变更内容与当前接入信息相同，未作任何修改"}])
        proposal = {"type": "CHANGE_ACCESS", "website_id": str(website["id"]), "access_id": str(access["id"]),
                    "access": proposed.model_dump(mode="json")}
        return await _submit(ctx, conn, app_type="CHANGE_ACCESS", subject=subject, provider_id=provider_id,
                             actor=actor, proposal=proposal, note="提交变更接入", website_id=website["id"])


async def cancel_access(ctx: ServiceContext, provider_id: str, actor: str, website_id: str) -> dict:
    """取消接入: takes effect at once (seed 1.4.5 "删除"). The access is CANCELLED; a website left
    without any active access becomes NO_ACCESS (空壳网站), a subject left without an ACTIVE
    website SHELL. Recorded as an application CANCEL_ACCESS, APPROVED at once, and in the audit
    trail; `filing.record.changed` tells the read models."""
    website = await _own_website(ctx, provider_id, actor, website_id)
    now = utcnow()
    async with transaction(ctx.pool) as conn:
        subject = await cs.lock_subject(conn, website["subject_id"])
        website = await conn.fetchrow("SELECT * FROM websites WHERE id = $1", website["id"])
        access = await cs.provider_access(conn, website["id"], provider_id)
        need_access(access)
        await cs.ensure_none_in_flight(conn, subject["id"], provider_id)
        await conn.execute("UPDATE accesses SET status = 'CANCELLED', updated_at = now() WHERE id = $1", access["id"])
        entries = [audit.Entry("access", str(access["id"]), "cancel", actor, str(subject["id"]), provider_id,
                               {"status": ["ACTIVE", "CANCELLED"], "website_id": str(website["id"])})]
        website_status, subject_status = await settle_statuses(conn, subject, website, actor, provider_id, entries)
        app_id = uuid.uuid4()
        proposal = {"type": "CANCEL_ACCESS", "website_id": str(website["id"]), "access_id": str(access["id"])}
        await cs.insert_application(
            conn, application_id=app_id, app_type="CANCEL_ACCESS", subject=subject, provider_id=provider_id,
            actor=actor, now=now, proposal=proposal, website_ids=[str(website["id"])], needs_preapproval=False,
            note="取消接入（立即生效）", website_id=website["id"], status="APPROVED",
        )
        await conn.execute("UPDATE applications SET decided_by = $2, decided_at = $3 WHERE id = $1", app_id, actor, now)
        await audit.record(conn, entries)
        await publish_record(conn, subject["id"], cause="CANCEL_ACCESS", application_id=app_id)
    return AccessCancelled(
        application_id=str(app_id), website_id=str(website["id"]), access_id=str(access["id"]),
        access_status="CANCELLED", website_status=website_status, subject_id=str(subject["id"]),
        subject_status=subject_status, cancelled_at=now,
        notice="已取消本接入服务提供者对该网站的接入。" + (
            "该网站已没有任何接入（空壳网站），须由其他接入服务提供者新增接入或注销。" if website_status == "NO_ACCESS" else ""
        ),
    ).model_dump(mode="json")


async def settle_statuses(conn, subject: Any, website: Any, actor: str, provider_id: str,
                          entries: list[audit.Entry]) -> tuple[str, str]:
    """After an access ends: NO_ACCESS for a website with no ACTIVE access left, SHELL for a subject
    with no ACTIVE website left. Returns (website status, subject status)."""
    website_status, subject_status = website["status"], subject["status"]
    left = await conn.fetchval(
        "SELECT count(*) FROM accesses WHERE website_id = $1 AND status = 'ACTIVE'", website["id"]
    )
    if left == 0 and website_status == "ACTIVE":
        await conn.execute("UPDATE websites SET status = 'NO_ACCESS', updated_at = now() WHERE id = $1", website["id"])
        entries.append(audit.Entry("website", str(website["id"]), "status", actor, str(subject["id"]), provider_id,
                                   {"status": [website_status, "NO_ACCESS"]}))
        website_status = "NO_ACCESS"
    subject_status = await settle_subject(conn, subject, actor, provider_id, entries)
    return website_status, subject_status


async def settle_subject(conn, subject: Any, actor: str, provider_id: str, entries: list[audit.Entry]) -> str:
    active = await conn.fetchval(
        "SELECT count(*) FROM websites WHERE subject_id = $1 AND status = 'ACTIVE'", subject["id"]
    )
    status = subject["status"]
    if active == 0 and status == "ACTIVE":
        await conn.execute("UPDATE subjects SET status = 'SHELL', updated_at = now() WHERE id = $1", subject["id"])
        entries.append(audit.Entry("subject", str(subject["id"]), "status", actor, str(subject["id"]), provider_id,
                                   {"status": [status, "SHELL"]}))
        status = "SHELL"
    return status
