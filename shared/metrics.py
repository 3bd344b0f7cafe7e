"""Prometheus metrics: one registry per process, a `service` label on everything a service does.

`icp up` runs five services in one process, hence one registry; every service-level series carries
`service="<name>"`, and `/api/<service>/metrics` exposes that service's series (plus the process-wide
ones without a service label: CPU, memory, GC), so scraping each service's endpoint counts nothing
twice. The root `/metrics` has everything.

Series (besides the HTTP ones in shared/web.py and the consumer's in shared/bus.py):
- `icp_outbox_lag_seconds{service}`: age of the oldest unpublished outbox row (0 when none);
- `icp_outbox_pending{service}`: unpublished outbox rows;
- `icp_queue_depth{service,queue}`: messages ready in the service's inbox and dead-letter queues.
They are sampled every `ICP_METRICS_INTERVAL` seconds by one task per service (`sample_forever`),
not computed per scrape: a burst of scrapes costs no query and no broker round trip.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import REGISTRY, Gauge
from prometheus_client.metrics_core import Metric

from shared.topology import dead_queue, inbox_queue

log = structlog.get_logger(__name__)

OUTBOX_LAG = Gauge("icp_outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["service"])
OUTBOX_PENDING = Gauge("icp_outbox_pending", "Unpublished outbox rows", ["service"])
QUEUE_DEPTH = Gauge("icp_queue_depth", "Messages ready in a queue of the service", ["service", "queue"])

LAG_SQL = """SELECT count(*) AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS lag
             FROM outbox WHERE published_at IS NULL"""


async def sample_once(ctx, *, queues: bool) -> None:
    """Sample the outbox (and, for a consuming process, the queues) of one service."""
    name = ctx.name
    try:
        row = await ctx.pool.fetchrow(LAG_SQL)
        OUTBOX_PENDING.labels(name).set(row["pending"])
        OUTBOX_LAG.labels(name).set(float(row["lag"]))
    except Exception as e:
        log.warning("metrics.outbox_sample_failed", service=name, error=repr(e))
    if not queues:
        return
    prefix = ctx.consumer.prefix if ctx.consumer is not None else ""
    for queue in (prefix + inbox_queue(name), prefix + dead_queue(name)):
        try:
            QUEUE_DEPTH.labels(name, queue).set(await ctx.transport.queue_depth(queue))
        except Exception as e:  # broker unreachable: keep the last value, readiness reports the outage
            log.warning("metrics.queue_sample_failed", service=name, queue=queue, error=repr(e))


async def sample_forever(ctx, *, interval: float, queues: bool) -> None:
    while True:
        await sample_once(ctx, queues=queues)
        await asyncio.sleep(interval)


class ServiceView:
    """The process registry seen from one service: its own series and the process-wide ones."""

    def __init__(self, service: str, registry=REGISTRY) -> None:
        self.service = service
        self.registry = registry

    def collect(self):
        for metric in self.registry.collect():
            samples = [s for s in metric.samples if s.labels.get("service", self.service) == self.service]
            if not samples:
                continue
            view = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            view.samples = samples
            yield view
