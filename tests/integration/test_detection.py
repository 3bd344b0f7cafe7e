"""Detection (issue 13): ingest over HTTP and RabbitMQ, counting, history, duplicates, the
per-provider key, filed and filed-meanwhile domains, bad events, handling, statistics, isolation."""

from __future__ import annotations

import uuid

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import bureau, filed
from tests.integration.detection_helpers import (
    D,
    ago,
    dead_letters,
    event,
    get,
    post_events,
    provider,
    publish,
    source_key,
    unfiled,
    unfiled_domain,
)


def _one(page: dict, domain: str) -> dict:
    found = [i for i in page["items"] if i["domain"] == domain]
    assert len(found) == 1, page
    return found[0]


async def test_http_ingest_counts_sightings_once_per_event_id_with_history(system: System):
    t = await provider(system)
    key = await source_key(system)
    dom, other = unfiled_domain(), unfiled_domain()
    first = event(t.provider_id, dom, detected_at=ago(days=2), ip="203.0.113.1")
    out = await post_events(system, key, first)
    assert (out["recorded"], out["duplicates"], out["items"][0]["outcome"]) == (1, 0, "recorded")
    again = await post_events(system, key, first)  # a retry of the same event id
    assert (again["recorded"], again["duplicates"]) == (0, 1)
    batch = [event(t.provider_id, dom, detected_at=ago(days=1), ip="203.0.113.2"),
             event(t.provider_id, "WWW." + dom.upper() + ".", detected_at=ago(hours=1), ip="203.0.113.3"),
             event(t.provider_id, other, detected_at=ago(hours=3))]
    batch.append(dict(batch[0]))  # the same id twice in one batch counts once
    out = await post_events(system, key, batch)
    assert [i["outcome"] for i in out["items"]] == ["recorded", "recorded", "recorded", "duplicate"]

    page = await unfiled(t)
    assert page["total"] == 3  # dom, www.dom (a host of its own), other
    rec = _one(page, dom)
    assert rec["sightings"] == 2 and rec["ip"] == "203.0.113.2" and rec["status"] == "UNHANDLED"
    assert rec["first_seen"] < rec["last_seen"]
    www = _one(page, "www." + dom)
    assert www["sightings"] == 1
    hist = await get(system, f"/unfiled/{rec['id']}/history", t.headers)
    assert [s["ip"] for s in hist["sightings"]] == ["203.0.113.2", "203.0.113.1"]  # newest first
    assert hist["total"] == 2 and hist["sightings"][1]["event_id"] == first["id"]
    assert all(s["source_system"].startswith("probe-") for s in hist["sightings"])
    # conditions combine
    assert (await unfiled(t, domain=dom[:8], ip="203.0.113.2"))["total"] == 1
    assert (await unfiled(t, domain=dom[:8], ip="203.0.113.9"))["total"] == 0


async def test_same_domain_at_two_providers_is_two_records_each_seeing_only_its_own(system: System):
    a, b = await provider(system), await provider(system)
    key = await source_key(system)
    dom = unfiled_domain()
    await post_events(system, key, [event(a.provider_id, dom), event(a.provider_id, dom),
                                    event(b.provider_id, dom, province="SH")])
    ra, rb = _one(await unfiled(a), dom), _one(await unfiled(b), dom)
    assert (ra["sightings"], ra["province"], ra["provider_id"]) == (2, "BJ", a.provider_id)
    assert (rb["sightings"], rb["province"], rb["provider_id"]) == (1, "SH", b.provider_id)
    assert ra["id"] != rb["id"]
    # tenant isolation on every endpoint: another provider's record is "not found"
    await get(system, f"/unfiled/{rb['id']}/history", a.headers, expect=404)
    r = await system.client.post(f"{D}/unfiled/{rb['id']}/handling", json={"code": "ACCESS_STOPPED"}, headers=a.headers)
    assert r.status == 404
    assert all(i["provider_id"] == a.provider_id for i in (await unfiled(a, page_size=200))["items"])
    stats = await get(system, "/statistics", a.headers)
    assert {r["key"] for r in stats["rows"]} == {"BJ"}  # b's SH detection is not a's
    # a provider cannot widen its scope with provider_id
    assert all(i["provider_id"] == a.provider_id for i in (await unfiled(a, provider_id=b.provider_id))["items"])
    # the regulator sees its province across providers
    bj = await get(system, "/unfiled", bureau(system, "BJ"), domain=dom)
    assert {i["provider_id"] for i in bj["items"]} == {a.provider_id}
    sh = await get(system, "/unfiled", bureau(system, "SH"), domain=dom)
    assert {i["provider_id"] for i in sh["items"]} == {b.provider_id}
    await get(system, f"/unfiled/{ra['id']}/history", bureau(system, "SH"), expect=404)
    # sponsors have no detection pages
    await get(system, "/unfiled", system.auth("sponsor", user_id="s1"), expect=403)


async def test_bad_events_over_http_name_the_field_and_keep_the_good_ones(system: System):
    t = await provider(system)
    key = await source_key(system)
    dom = unfiled_domain()
    cases = [
        ({"ip": "300.1.1.1"}, "ip"),
        ({"domain": "bad_domain!.cn"}, "domain"),
        ({"province": "XX"}, "province"),
        ({"provider_id": "no-such-provider"}, "provider_id"),
        ({"detected_at": ago(days=-1)}, "detected_at"),
        ({"id": "not-a-uuid"}, "id"),
    ]
    for over, field in cases:
        out = await post_events(system, key, {**event(t.provider_id, dom), **over}, expect=422)
        assert out["errors"][0]["field"] == field, out
        assert out["recorded"] == 0
    missing = event(t.provider_id, dom)
    del missing["source"]
    out = await post_events(system, key, missing, expect=422)
    assert out["errors"] == [{"field": "source", "message": "必填项，不能为空"}]
    assert out["detail"] == "检测来源：必填项，不能为空"  # the platform's labels (shared/field_labels.py)
    # a batch: the bad ones are named by index, the good ones are kept
    good1, good2 = event(t.provider_id, dom), event(t.provider_id, dom)
    out = await post_events(system, key, [good1, event(t.provider_id, dom, ip="x"), good2,
                                          event("no-such-provider", dom)], expect=422)
    assert [e["field"] for e in out["errors"]] == ["[1].ip", "[3].provider_id"]
    assert out["detail"].startswith("第2条事件的IP地址：") and "；第4条事件的接入服务提供者：未知的编号“no-such-provider”" \
        "（共 2 处错误）；其余 2 条已接收" in out["detail"], out["detail"]
    assert (out["recorded"], out["rejected"]) == (2, 2)
    assert _one(await unfiled(t), dom)["sightings"] == 2
    # the front door itself
    await post_events(system, None, good1, expect=401)
    await post_events(system, "icpsrc_000000000000_guess", good1, expect=401)
    too_many = [event(t.provider_id, dom) for _ in range(1001)]
    await post_events(system, key, too_many, expect=413)
    await post_events(system, key, [], expect=400)
    r = await system.client.post(D + "/events", data=b"{not json", headers={"X-API-Key": key,
                                                                             "Content-Type": "application/json"})
    assert r.status == 400


async def test_source_keys_are_stored_hashed_and_revocable(system: System):
    from services.detection import handlers

    t = await provider(system)
    name = f"probe-{uuid.uuid4().hex[:8]}"
    key = await source_key(system, name)
    pool = system.ctx("detection").pool
    row = await pool.fetchrow("SELECT * FROM sources WHERE name = $1", name)
    assert key not in str(dict(row)) and row["key_hash"] != key
    await post_events(system, key, event(t.provider_id, unfiled_domain()))
    assert await handlers.revoke_source(pool, name, "test")
    await post_events(system, key, event(t.provider_id, unfiled_domain()), expect=401)
    rekeyed = await source_key(system, name)  # a new key for the same source works, the old one stays dead
    await post_events(system, rekeyed, event(t.provider_id, unfiled_domain()))
    await post_events(system, key, event(t.provider_id, unfiled_domain()), expect=401)


async def test_bus_ingest_dead_letters_bad_events_with_the_reason_and_keeps_consuming(system: System, amqp_url):
    t = await provider(system)
    dom = unfiled_domain()
    good = event(t.provider_id, dom)
    ids = await publish(amqp_url, [good, good], ids=[uuid.UUID(good["id"])] * 2)  # a publisher's retry
    bad_ip, unknown, future = (event(t.provider_id, dom, ip="1.2.3.999"), event("no-such-provider", dom),
                               event(t.provider_id, dom, detected_at=ago(days=-2)))
    missing = event(t.provider_id, dom)
    del missing["domain"]
    bad_ids = await publish(amqp_url, [bad_ip, unknown, future, missing])
    after = event(t.provider_id, dom)
    await publish(amqp_url, [after], raw=[b"not json at all"])
    det = system.ctx("detection")

    async def counted():
        page = await unfiled(t, domain=dom)
        return page["items"][0]["sightings"] == 2 if page["items"] else False

    await system.eventually(counted)  # `good` once, and `after`: the consumer kept going after the bad ones
    assert det.consumer is not None

    async def all_dead():
        found = await dead_letters(system, amqp_url)
        return found if all(str(i) in found for i in bad_ids) else None

    found = await system.eventually(all_dead)
    reasons = [found[str(i)]["headers"]["x-icp-error"] for i in bad_ids]
    assert "ip" in reasons[0] and "provider_id" in reasons[1] and "detected_at" in reasons[2] and "domain" in reasons[3]
    assert "未知的接入服务提供者" in reasons[1]
    hist = await get(system, f"/unfiled/{(await unfiled(t, domain=dom))['items'][0]['id']}/history", t.headers)
    assert {s["event_id"] for s in hist["sightings"]} == {str(ids[0]), after["id"]}
    assert {s["source_system"] for s in hist["sightings"]} == {"monitor"}


async def test_filed_domains_are_not_unfiled_and_later_filings_mark_detections(system: System):
    t = await provider(system)
    key = await source_key(system)
    data = fs.filing(1)
    dom = data["websites"][0]["domains"][0]
    # seen before it is filed: an unfiled site, unhandled
    await post_events(system, key, [event(t.provider_id, dom), event(t.provider_id, "shop." + dom)])
    before = await unfiled(t, domain=dom)
    assert before["total"] == 2 and all(not i["filed_meanwhile"] for i in before["items"])

    done = await filed(t, data=data)
    no = done["website_nos"][0]

    async def marked():
        page = await unfiled(t, domain=dom, filed_meanwhile="true")
        return page if page["total"] == 2 else None

    page = await system.eventually(marked)
    for item in page["items"]:
        assert item["filed_no"] == no and item["status"] == "HANDLED" and item["handling_code"] == "FILED"
    hist = await get(system, f"/unfiled/{page['items'][0]['id']}/history", t.headers)
    assert [h["handled_by"] for h in hist["handlings"]] == ["system"]
    assert (await unfiled(t, domain=dom, filed_meanwhile="false"))["total"] == 0
    # once filed, new sightings of the domain (or a sub-domain) are not unfiled sites
    out = await post_events(system, key, [event(t.provider_id, dom), event(t.provider_id, "m." + dom)])
    assert [(i["outcome"], i["filing_no"]) for i in out["items"]] == [("filed", no), ("filed", no)]
    assert (await unfiled(t, domain=dom))["total"] == 2
    assert _one(await unfiled(t, domain=dom), dom)["sightings"] == 1
    # another provider's new detection of the filed domain is not an unfiled site either
    other = await provider(system)
    out = await post_events(system, key, event(other.provider_id, dom))
    assert out["filed"] == 1 and (await unfiled(other))["total"] == 0


async def test_handling_keeps_every_result_and_filters_handled_unhandled(system: System):
    t = await provider(system)
    key = await source_key(system)
    d1, d2 = unfiled_domain(), unfiled_domain()
    await post_events(system, key, [event(t.provider_id, d1), event(t.provider_id, d2)])
    rec = _one(await unfiled(t), d1)
    url = f"{D}/unfiled/{rec['id']}/handling"
    r = await system.client.post(url, json={"code": "RECTIFYING", "note": "已通知客户整改"}, headers=t.headers)
    assert r.status == 201 and (await r.json())["status"] == "IN_PROGRESS"
    assert {i["domain"] for i in (await unfiled(t, handling_status="unhandled"))["items"]} == {d1, d2}
    r = await system.client.post(url, json={"code": "ACCESS_STOPPED", "note": "已停止接入"}, headers=t.headers)
    out = await r.json()
    assert r.status == 201 and out["status"] == "HANDLED" and out["handling_name"] == "已停止接入（关停）"
    assert [i["domain"] for i in (await unfiled(t, handling_status="handled"))["items"]] == [d1]
    assert [i["domain"] for i in (await unfiled(t, handling_status="unhandled"))["items"]] == [d2]
    assert [i["domain"] for i in (await unfiled(t, handling_code="UNHANDLED"))["items"]] == [d2]
    hist = await get(system, f"/unfiled/{rec['id']}/history", t.headers)
    assert [(h["code"], h["note"], h["handled_by"]) for h in hist["handlings"]] == [
        ("RECTIFYING", "已通知客户整改", t.operator_id), ("ACCESS_STOPPED", "已停止接入", t.operator_id)]
    assert all(h["handled_by_name"] for h in hist["handlings"])
    # refused: OTHER without a note, an unknown code, the regulator
    r = await system.client.post(url, json={"code": "OTHER"}, headers=t.headers)
    assert r.status == 422 and (await r.json())["detail"] == "说明：处理结果为“其他”时必填"
    r = await system.client.post(url, json={"code": "NOPE"}, headers=t.headers)
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "code"
    r = await system.client.post(url, json={"code": "ACCESS_STOPPED"}, headers=bureau(system, "BJ"))
    assert r.status == 403
    assert len((await get(system, f"/unfiled/{rec['id']}/history", t.headers))["handlings"]) == 2
    await get(system, "/unfiled", t.headers, expect=422, handling_code="NOPE")


async def test_statistics_match_hand_computed_values_and_rows_open_their_detections(system: System):
    t = await provider(system)
    key = await source_key(system)
    a, b, c, d = (unfiled_domain() for _ in range(4))
    # Beijing time: a seen 3× (two in 2026-10, one in 2026-11), b 1× (11), c in SH 2× (11), d in SH 1× (10)
    evs = [event(t.provider_id, a, detected_at="2026-10-05T10:00:00+08:00"),
           event(t.provider_id, a, detected_at="2026-10-31T23:30:00+08:00"),
           event(t.provider_id, a, detected_at="2026-11-02T09:00:00+08:00"),
           event(t.provider_id, b, detected_at="2026-11-10T09:00:00+08:00"),
           event(t.provider_id, c, province="SH", detected_at="2026-11-11T09:00:00+08:00"),
           event(t.provider_id, c, province="SH", detected_at="2026-11-12T09:00:00+08:00"),
           event(t.provider_id, d, province="SH", detected_at="2026-10-01T00:10:00+08:00")]
    await post_events(system, key, evs)
    page = await unfiled(t)
    ids = {i["domain"]: i["id"] for i in page["items"]}
    for dom in (a, c):
        r = await system.client.post(f"{D}/unfiled/{ids[dom]}/handling", json={"code": "NOT_OUR_ACCESS"},
                                     headers=t.headers)
        assert r.status == 201

    def rows(out):
        return {r["key"]: (r["domains"], r["detections"], r["handled"], r["unhandled"]) for r in out["rows"]}

    by_province = await get(system, "/statistics", t.headers)
    assert by_province["group_by"] == "province"
    assert rows(by_province) == {"BJ": (2, 4, 1, 1), "SH": (2, 3, 1, 1)}
    total = by_province["total"]
    assert (total["domains"], total["detections"], total["handled"], total["handling_rate"]) == (4, 7, 2, 0.5)
    assert rows(await get(system, "/statistics", t.headers, group_by="month")) == {
        "2026-10": (2, 3, 1, 1), "2026-11": (3, 4, 2, 1)}
    assert rows(await get(system, "/statistics", t.headers, group_by="handling")) == {
        "NOT_OUR_ACCESS": (2, 5, 2, 0), "UNHANDLED": (2, 2, 0, 2)}
    # the date range counts sightings in it (Beijing days): 2026-11-01 … 2026-11-10
    assert rows(await get(system, "/statistics", t.headers, date_from="2026-11-01", date_to="2026-11-10")) == {
        "BJ": (2, 2, 1, 1)}
    assert rows(await get(system, "/statistics", t.headers, handling_status="unhandled")) == {
        "BJ": (1, 1, 0, 1), "SH": (1, 1, 0, 1)}
    # each row opens its detections
    for out in (by_province, await get(system, "/statistics", t.headers, group_by="month"),
                await get(system, "/statistics", t.headers, group_by="handling")):
        for row in out["rows"]:
            listed = await unfiled(t, **row["query"])
            assert listed["total"] == row["domains"], (row, listed)
    # the regulator: its province across providers
    other = await provider(system)
    await post_events(system, key, event(other.provider_id, a, province="XZ", detected_at="2026-11-03T08:00:00+08:00"))
    await post_events(system, key, event(t.provider_id, unfiled_domain(), province="XZ",
                                         detected_at="2026-11-04T08:00:00+08:00"))
    xz = await get(system, "/statistics", bureau(system, "XZ"), date_from="2026-11-03", date_to="2026-11-04")
    assert rows(xz)["XZ"][:2] == (2, 2) and set(rows(xz)) == {"XZ"}
    await get(system, "/statistics", t.headers, expect=422, group_by="nope")
    await get(system, "/statistics", t.headers, expect=422, date_from="2026-11-05", date_to="2026-11-01")


async def test_the_filed_projection_keeps_the_newest_state_whatever_the_arrival_order(system: System):
    from datetime import UTC, datetime

    from shared.contracts.filing import FiledRecordChanged, FiledWebsite
    from shared.db import transaction

    t = await provider(system)
    subject_id, website_id = str(uuid.uuid4()), str(uuid.uuid4())
    old_dom, new_dom = unfiled_domain(), unfiled_domain()

    def state(seq: int, domain: str, status: str = "ACTIVE") -> FiledRecordChanged:
        return FiledRecordChanged(
            subject_id=subject_id, seq=seq, provider_id=t.provider_id, subject_no="京ICP备2026999999号", name="顺序测试",
            status="ACTIVE", province="110000", cert_type="BIZ_LICENSE", cert_digest="x" * 64,
            cert_number_masked="91110105MA0000000X",
            websites=[FiledWebsite(website_id=website_id, website_no="京ICP备2026999999号-1", name="站", status=status,
                                   domains=[domain], access_providers=[t.provider_id])],
            changed_at=datetime.now(UTC))

    fctx = system.ctx("filing")
    async with transaction(fctx.pool) as conn:  # seq 3 (the website cancelled) is published before seq 2
        await fctx.outbox.add(conn, state(3, new_dom, "CANCELLED"), provider_id=t.provider_id)
    pool = system.ctx("detection").pool
    await system.eventually(lambda: pool.fetchval("SELECT seq = 3 FROM filed_subjects WHERE subject_id = $1",
                                                  uuid.UUID(subject_id)))
    async with transaction(fctx.pool) as conn:
        late = await fctx.outbox.add(conn, state(2, old_dom), provider_id=t.provider_id)
    key = await source_key(system)
    await system.eventually(lambda: pool.fetchval("SELECT true FROM inbox WHERE message_id = $1", late.id))
    # the late seq 2 changed nothing: neither domain counts as filed (the website is cancelled)
    assert await pool.fetchval("SELECT seq FROM filed_subjects WHERE subject_id = $1", uuid.UUID(subject_id)) == 3
    out = await post_events(system, key, [event(t.provider_id, old_dom), event(t.provider_id, new_dom)])
    assert [i["outcome"] for i in out["items"]] == ["recorded", "recorded"]


async def test_icp_admin_creates_lists_and_revokes_source_keys(system: System, pg_dsn, amqp_url, monkeypatch, capsys):
    """`icp admin create-source|list-sources|revoke-source`, run as the command runs (own event loop)."""
    import asyncio
    import json

    import pytest

    from shared import cli, config

    t = await provider(system)
    name = f"cli-probe-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ICP_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("ICP_AMQP_URL", amqp_url)
    monkeypatch.setenv("ICP_LOG_FORMAT", "console")
    config.get_settings.cache_clear()
    try:
        await asyncio.to_thread(cli.main, ["admin", "create-source", "--name", name])
        key = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["api_key"]
        await post_events(system, key, event(t.provider_id, unfiled_domain()))
        await asyncio.to_thread(cli.main, ["admin", "list-sources"])
        listed = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines() if x.startswith("{")]
        assert any(s["name"] == name and s["revoked_at"] is None for s in listed)
        assert key not in json.dumps(listed)
        await asyncio.to_thread(cli.main, ["admin", "revoke-source", "--name", name])
        await post_events(system, key, event(t.provider_id, unfiled_domain()), expect=401)
        with pytest.raises(SystemExit, match="没有未吊销的数据源"):
            await asyncio.to_thread(cli.main, ["admin", "revoke-source", "--name", name])
    finally:
        config.get_settings.cache_clear()
