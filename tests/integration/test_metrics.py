"""Metrics of the running services, scraped from /api/<service>/metrics as Prometheus would."""

from __future__ import annotations

import uuid

from prometheus_client.parser import text_string_to_metric_families

from shared.config import SERVICES
from shared.contracts.detection import SiteDetected
from shared.db import transaction
from tests.conftest import System
from tests.integration.detection_helpers import provider


async def scrape(system: System, service: str) -> list:
    r = await system.client.get(f"/api/{service}/metrics")
    assert r.status == 200
    return [s for family in text_string_to_metric_families(await r.text()) for s in family.samples]


def value(samples, name: str, **labels) -> float | None:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    return sum(found) if found else None


async def test_each_service_exposes_its_own_series_under_a_service_label(system: System):
    for service in SERVICES:  # each at least one request of its own
        assert (await system.client.get(f"/api/{service}/healthz")).status == 200
    for service in SERVICES:
        samples = await scrape(system, service)
        labelled = [s for s in samples if "service" in s.labels]
        assert labelled, service
        assert {s.labels["service"] for s in labelled} == {service}, service  # nothing of the other four
        assert any(s.name.startswith("process_") for s in samples)  # process-wide series stay
        assert value(samples, "icp_http_requests_total", service=service, route=f"/api/{service}/healthz") >= 1


async def test_request_latency_is_recorded_by_route_pattern_not_by_path(system: System):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for i in ids:
        r = await system.client.get(f"/api/filing/subjects/{i}", headers=system.auth("admin"))
        assert r.status in (403, 404)
    samples = await scrape(system, "filing")
    routes = {s.labels["route"] for s in samples if s.name == "icp_http_request_seconds_count"}
    assert "/api/filing/subjects/{subject_id}" in routes or any(
        r.startswith("/api/filing/subjects/{") for r in routes), routes
    assert not any(i in r for r in routes for i in ids)  # no raw ids: bounded label values
    buckets = [s for s in samples if s.name == "icp_http_request_seconds_bucket"
               and s.labels["route"].startswith("/api/filing/subjects/{")]
    assert buckets and max(s.value for s in buckets) >= 3  # a histogram: the +Inf bucket counts them all


async def test_messages_are_counted_by_type_and_outcome(system: System):
    det = system.ctx("detection")
    known = (await provider(system)).provider_id  # detection records sightings of providers it knows
    before = value(await scrape(system, "detection"), "icp_messages_total",
                   type="detection.site.detected", outcome="handled") or 0
    domains = [f"metrics-{uuid.uuid4().hex[:8]}-{i}.cn" for i in range(3)]
    async with transaction(det.pool) as conn:
        for d in domains:
            await det.outbox.add(conn, SiteDetected(domain=d, detected_at="2026-11-01T00:00:00Z", source="metrics",
                                                    province="BJ", provider_id=known))

    async def counted():
        n = value(await scrape(system, "detection"), "icp_messages_total",
                  service="detection", type="detection.site.detected", outcome="handled")
        return (n or 0) >= before + 3

    await system.eventually(counted)


async def test_outbox_lag_is_the_age_of_the_oldest_unpublished_row(system: System):
    det = system.ctx("detection")
    row_id = uuid.uuid4()
    # a row the relay leaves alone for now (its next attempt is in an hour), written 100 s ago
    await det.pool.execute(
        """INSERT INTO outbox (id, exchange, routing_key, body, created_at, next_attempt_at)
           VALUES ($1, 'icp.events', 'metrics.test.lag', '{}', now() - interval '100 seconds',
                   now() + interval '1 hour')""", row_id)
    try:
        async def lagging():
            lag = value(await scrape(system, "detection"), "icp_outbox_lag_seconds", service="detection")
            return lag is not None and lag >= 100

        await system.eventually(lagging)
        assert value(await scrape(system, "detection"), "icp_outbox_pending", service="detection") >= 1
    finally:
        await det.pool.execute("DELETE FROM outbox WHERE id = $1", row_id)

    async def caught_up():
        return value(await scrape(system, "detection"), "icp_outbox_lag_seconds", service="detection") < 100

    await system.eventually(caught_up)


async def test_queue_depth_is_the_inbox_backlog_sampled_from_the_broker(system: System):
    det = system.ctx("detection")
    known = (await provider(system)).provider_id
    queue = det.consumer.prefix + "detection.inbox"
    await det.consumer.stop(5)  # the backlog builds up while nobody consumes
    domains = [f"depth-{uuid.uuid4().hex[:8]}-{i}.cn" for i in range(7)]
    try:
        async with transaction(det.pool) as conn:
            for d in domains:
                await det.outbox.add(conn, SiteDetected(domain=d, detected_at="2026-11-01T00:00:00Z", source="depth",
                                                    province="BJ", provider_id=known))

        async def backlog():
            depth = value(await scrape(system, "detection"), "icp_queue_depth", service="detection", queue=queue)
            return depth is not None and depth >= 7

        await system.eventually(backlog)
    finally:
        await det.consumer.start()

    async def drained():
        depth = value(await scrape(system, "detection"), "icp_queue_depth", service="detection", queue=queue)
        return depth == 0

    await system.eventually(drained)
    assert await det.pool.fetchval(
        "SELECT count(*) FROM detections WHERE domain = ANY($1::text[])", domains) == len(domains)
