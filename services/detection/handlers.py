"""Detection use cases and message handlers: ingest (HTTP and bus), handling, the filed projection."""

from __future__ import annotations

import hmac
from typing import Any

import asyncpg
import orjson
from pydantic import ValidationError

from services.detection import store
from services.detection.model import (
    MAX_BATCH,
    EventIn,
    HandlingIn,
    IngestItemResult,
    IngestResult,
    closes_case,
    key_hash,
    key_prefix,
    scope_of,
)
from shared import bounds
from shared.auth import Principal, Role
from shared.bus import HandlerTable, MessageContext, PermanentError
from shared.contracts.detection import SiteDetected
from shared.contracts.filing import FiledRecordChanged
from shared.db import transaction
from shared.errors_zh import translate_errors
from shared.service import ServiceContext
from shared.web import Problem, invalid, not_found

LIVE_WEBSITE = ("ACTIVE", "NO_ACCESS", "BLACKLISTED")  # a filed website: holds its number and domains


# ---------------------------------------------------------------- ingest over HTTP


async def authenticate_source(ctx: ServiceContext, key: str | None) -> str:
    """The source system's name for an API key; 401 for a missing, unknown or revoked key."""
    if not key:
        raise Problem(401, "缺少数据源密钥（请求头 X-API-Key），请使用 icp admin create-source 创建")
    prefix = key_prefix(key.strip())
    row = await store.source_by_prefix(ctx.pool, prefix) if prefix else None
    if row is None or not hmac.compare_digest(row["key_hash"], key_hash(key.strip())):
        raise Problem(401, "数据源密钥无效或已吊销")
    return row["name"]


def parse_items(raw: bytes) -> tuple[list[Any], bool]:
    """The JSON body: one event (an object) or a batch (an array of up to MAX_BATCH objects)."""
    if not raw.strip():
        raise Problem(400, "请求体为空，须为一个检测事件（JSON 对象）或其数组")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Problem(400, "请求体不是合法的 JSON，无法解析") from None
    if isinstance(data, dict):
        return [data], True
    if not isinstance(data, list):
        raise Problem(400, "请求体须为一个检测事件（JSON 对象）或其数组")
    if not data:
        raise Problem(400, "批量上报的数组不能为空")
    if len(data) > MAX_BATCH:
        raise Problem(413, f"一次最多上报 {MAX_BATCH} 条检测事件，本次 {len(data)} 条")
    return data, False


async def ingest(ctx: ServiceContext, raw: bytes, source_system: str) -> tuple[int, IngestResult, list[dict]]:
    """Validate every item; record the good ones (a batch's good events are kept); answer per item."""
    items, single = parse_items(raw)
    results: list[IngestItemResult] = []
    good: list[tuple[int, EventIn]] = []
    for i, item in enumerate(items):
        prefix = "" if single else f"[{i}]"
        try:
            e = EventIn.model_validate(item)
        except ValidationError as err:
            errors = [{"field": _join(prefix, x["field"]), "message": x["message"]} for x in translate_errors(err)]
            results.append(IngestItemResult(index=i, id=_id_of(item), outcome="rejected", errors=errors))
            continue
        bad = bounds.violations(e, prefix=prefix)  # NUL and other controls: the platform's one rule
        if bad:
            results.append(IngestItemResult(index=i, id=str(e.id), outcome="rejected", errors=bad))
            continue
        good.append((i, e))
        results.append(IngestItemResult(index=i, id=str(e.id), outcome="recorded"))
    if good:
        async with transaction(ctx.pool) as conn:
            known = await store.known_providers(conn, {e.provider_id for _, e in good})
            keep = []
            for i, e in good:
                if e.provider_id not in known:
                    field = _join("" if single else f"[{i}]", "provider_id")
                    results[i] = IngestItemResult(index=i, id=str(e.id), outcome="rejected", errors=[
                        {"field": field, "message": f"未知的编号“{e.provider_id}”"}])
                else:
                    keep.append((i, e))
            outcomes = await _record(conn, [(e.id, e, source_system) for _, e in keep])
            for (i, e), (outcome, no) in zip(keep, outcomes, strict=True):
                results[i] = IngestItemResult(index=i, id=str(e.id), outcome=outcome, filing_no=no)
    counts = {k: sum(1 for r in results if r.outcome == k) for k in ("recorded", "duplicate", "filed", "rejected")}
    body = IngestResult(received=len(items), recorded=counts["recorded"], duplicates=counts["duplicate"],
                        filed=counts["filed"], rejected=counts["rejected"], items=results)
    errors = [e for r in results for e in r.errors]
    return (422 if errors else 200), body, errors


def _join(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix and field else (prefix or field)


def _id_of(item: Any) -> str | None:
    return str(item.get("id"))[:64] if isinstance(item, dict) and item.get("id") is not None else None


async def _record(conn: asyncpg.Connection, items: list[tuple[Any, SiteDetected, str | None]]):
    """(outcome, filing number) per item: filed hosts are not unfiled and are not recorded."""
    filed = await store.filed_hosts(conn, {e.domain for _, e, _ in items})
    todo = [store.Sighting(eid, e, src) for eid, e, src in items if e.domain not in filed]
    new = await store.record_sightings(conn, todo)
    out = []
    for eid, e, _ in items:
        if e.domain in filed:
            out.append(("filed", filed[e.domain]))
        else:
            out.append(("recorded" if eid in new else "duplicate", None))
            new.discard(eid)  # a second item with the same id in the batch is a duplicate
    return out


# ---------------------------------------------------------------- ingest over the bus


async def on_site_detected(event: SiteDetected, mctx: MessageContext) -> None:
    await on_sites_detected([(event, mctx)])


async def on_sites_detected(items: list[tuple[SiteDetected, MessageContext]]) -> None:
    """A run of detections in one statement. An unknown provider can never succeed: PermanentError
    (the consumer then redoes the run message by message, so only that one is dead-lettered)."""
    conn = items[0][1].conn
    known = await store.known_providers(conn, {e.provider_id for e, _ in items})
    for e, m in items:
        if e.provider_id not in known:
            raise PermanentError(f"provider_id: 未知的接入服务提供者“{e.provider_id}”（event {m.envelope.id}）")
    await _record(conn, [(m.envelope.id, e, m.envelope.producer) for e, m in items])


# ---------------------------------------------------------------- handling


async def handle(ctx: ServiceContext, who: Principal, detection_id: int, body: HandlingIn):
    """A provider records a handling result of its own detection; every handling is kept."""
    if who.role != Role.PROVIDER:
        raise Problem(403, "仅接入服务提供者可处理本单位的检测结果")
    if body.code == "OTHER" and not (body.note or "").strip():
        raise invalid([{"field": "note", "message": "处理结果为“其他”时必填"}])
    where, args = scope_of(who)
    async with transaction(ctx.pool) as conn:
        d = await store.detection_for_update(conn, detection_id, where, args)
        if d is None:
            raise not_found("检测结果")
        await store.add_handling(conn, detection_id, body.code, body.note or "", who.user_id, closes_case(body.code),
                                 actor_name=who.username)
    return await ctx.pool.fetchrow("SELECT * FROM detections WHERE id = $1", detection_id)


async def detection_of(ctx: ServiceContext, who: Principal, detection_id: int):
    where, args = scope_of(who)
    row = await ctx.pool.fetchrow(f"SELECT d.* FROM detections d WHERE d.id = ${len(args) + 1} AND {where}",
                                  *args, detection_id)
    if row is None:
        raise not_found("检测结果")
    return row


# ---------------------------------------------------------------- projection of filed records


async def on_record_changed(e: FiledRecordChanged, mctx: MessageContext) -> None:
    """Replace the subject's filed websites, domains and accesses when this change is newer than the
    one held; domains filed by it mark their detections filed meanwhile."""
    conn = mctx.conn
    newer = await conn.fetchval(
        """INSERT INTO filed_subjects AS f (subject_id, seq, provider_id, subject_no, name, status, province, cert_type,
                                           cert_digest, cert_masked, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (subject_id) DO UPDATE SET seq = EXCLUDED.seq, provider_id = EXCLUDED.provider_id,
               subject_no = EXCLUDED.subject_no, name = EXCLUDED.name, status = EXCLUDED.status,
               province = EXCLUDED.province, cert_type = EXCLUDED.cert_type, cert_digest = EXCLUDED.cert_digest,
               cert_masked = EXCLUDED.cert_masked, changed_at = EXCLUDED.changed_at
           WHERE f.seq < EXCLUDED.seq
           RETURNING true""",
        e.subject_id, e.seq, e.provider_id, e.subject_no, e.name, e.status, e.province, e.cert_type, e.cert_digest,
        e.cert_number_masked, e.changed_at,
    )
    if not newer:
        return  # an older state arriving late
    before = {r["domain"] for r in await conn.fetch(
        "SELECT fd.domain FROM filed_domains fd JOIN filed_websites w USING (website_id) WHERE w.subject_id = $1",
        e.subject_id)}
    await conn.execute("DELETE FROM filed_websites WHERE subject_id = $1", e.subject_id)
    live = [w for w in e.websites if w.status in LIVE_WEBSITE and w.website_no]
    if e.websites:
        await conn.executemany(
            "INSERT INTO filed_websites (website_id, subject_id, website_no, name, status, domains) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            [(w.website_id, e.subject_id, w.website_no, w.name, w.status, w.domains) for w in e.websites],
        )
    domains = [(d, w.website_id, w.website_no) for w in live for d in w.domains]
    if domains:
        await conn.executemany("INSERT INTO filed_domains (domain, website_id, website_no) VALUES ($1, $2, $3) "
                               "ON CONFLICT DO NOTHING", domains)
    accesses = [(w.website_id, p, w.ip_ranges.get(p, [])) for w in e.websites for p in w.access_providers]
    if accesses:
        await conn.executemany("INSERT INTO filed_accesses (website_id, provider_id, ip_ranges) VALUES ($1, $2, $3) "
                               "ON CONFLICT DO NOTHING", accesses)
    new = [(d, no) for d, _, no in domains if d not in before]
    if new:
        await store.mark_filed(conn, [d for d, _ in new], [no for _, no in new], e.changed_at)


def register(table: HandlerTable) -> None:
    table.on(SiteDetected)(on_site_detected)
    table.on_many(SiteDetected)(on_sites_detected)
    table.on(FiledRecordChanged)(on_record_changed)


# ---------------------------------------------------------------- source systems (icp admin)


async def create_source(pool: asyncpg.Pool, name: str, actor: str) -> dict[str, Any]:
    """A source system's API key (printed once; a second call for the same name replaces the key)."""
    from services.detection.model import new_source_key

    name = name.strip()
    if not name or len(name) > 100:
        raise Problem(422, "数据源名称须为 1-100 个字符", errors=[{"field": "name", "message": "须为 1-100 个字符"}])
    key, prefix, digest = new_source_key()
    row = await store.insert_source(pool, name, prefix, digest, actor)
    return {"id": str(row["id"]), "name": row["name"], "api_key": key, "created_at": row["created_at"].isoformat()}


async def revoke_source(pool: asyncpg.Pool, name: str, actor: str) -> bool:
    return await store.revoke_source(pool, name.strip(), actor)
