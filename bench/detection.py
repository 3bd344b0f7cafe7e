"""Detection ingest throughput: sustained `detection.site.detected` events/s into the read model
(sightings and per-(provider, domain) detections) through the detection service's own consumer,
beside the raw aio-pika consume rate of the same messages in the same run, and through the HTTP
ingest (`POST /api/detection/events`, batches of 1,000, with a source key).

    .venv/bin/python bench/detection.py [--events 20000] [--rounds 3] [--domains 5000] [--providers 50]

On a throwaway database and vhost (removed afterwards). Each round, with fresh event ids:
- raw: the N messages are published to a quorum queue, then an aio-pika consumer (prefetch as the
  service's, manual ack) drains it; timed from the first delivery asked for to the last ack;
- bus: the same N messages are published to `icp.events` while the service's consumer is stopped
  (they wait in `detection.inbox`), then the consumer is started; timed until it has committed N
  (its own counter, polled every 20 ms; the tables are counted afterwards);
- http: a client process POSTs the N events in batches of 1,000, 4 requests in flight; timed until
  the last answer (the ingest writes synchronously).
Every phase checks that exactly N sightings were added and that the detections' counts add up.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika  # noqa: E402
import asyncpg  # noqa: E402
import orjson  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
PROVINCES = ["BJ", "SH", "GD", "ZJ", "JS", "SC", "HB", "SD"]


def make_events(n: int, domains: int, providers: int, rng: random.Random) -> list[dict]:
    now = datetime.now(UTC)
    names = [f"b{k:06d}-{uuid.uuid4().hex[:6]}.cn" for k in range(domains)]
    out = []
    for _ in range(n):
        out.append({
            "id": str(uuid.uuid4()),
            "domain": rng.choice(names),
            "ip": f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "province": rng.choice(PROVINCES),
            "provider_id": f"bench-p{rng.randrange(providers):03d}",
            "detected_at": (now - timedelta(seconds=rng.randrange(86400 * 30))).isoformat(),
            "source": "bench-probe",
        })
    return out


def envelope(e: dict) -> bytes:
    payload = {k: v for k, v in e.items() if k != "id"}
    return orjson.dumps({"id": e["id"], "type": "detection.site.detected", "producer": "bench-monitor",
                         "occurred_at": datetime.now(UTC).isoformat(), "provider_id": e["provider_id"],
                         "payload": payload})


async def publish(url: str, exchange: str, routing_key: str, bodies: list[tuple[str, bytes]]) -> None:
    conn = await aio_pika.connect(url)
    ch = await conn.channel(publisher_confirms=True)
    ex = ch.default_exchange if not exchange else await ch.get_exchange(exchange)
    for k in range(0, len(bodies), 500):
        await asyncio.gather(*(ex.publish(aio_pika.Message(b, message_id=mid, delivery_mode=2), routing_key=routing_key,
                                          mandatory=bool(exchange))
                               for mid, b in bodies[k:k + 500]))
    await conn.close()


async def queue_depth(url: str, name: str) -> int:
    conn = await aio_pika.connect(url)
    try:
        ch = await conn.channel()
        q = await ch.declare_queue(name, passive=True)
        return q.declaration_result.message_count or 0
    finally:
        await conn.close()


async def raw_consume(url: str, bodies: list[tuple[str, bytes]], prefetch: int) -> float:
    conn = await aio_pika.connect(url)
    ch = await conn.channel()
    q = await ch.declare_queue("raw.detection", durable=True, arguments={"x-queue-type": "quorum"})
    await q.purge()
    await publish(url, "", "raw.detection", bodies)
    while await queue_depth(url, "raw.detection") < len(bodies):
        await asyncio.sleep(0.05)
    await ch.set_qos(prefetch_count=prefetch)
    got = 0
    finished = asyncio.Event()

    async def on(msg):
        nonlocal got
        await msg.ack()
        got += 1
        if got >= len(bodies):
            finished.set()

    t0 = time.perf_counter()
    await q.consume(on)
    await finished.wait()
    elapsed = time.perf_counter() - t0
    await ch.queue_delete("raw.detection")
    await conn.close()
    return elapsed


async def counts(pool: asyncpg.Pool) -> tuple[int, int]:
    row = await pool.fetchrow("SELECT (SELECT count(*) FROM sightings) AS s, "
                              "(SELECT coalesce(sum(sightings), 0) FROM detections) AS d")
    return row["s"], row["d"]


def http_client(port: int, key: str, events: list[dict], batch: int, inflight: int, out: mp.Queue) -> None:
    async def run() -> None:
        import aiohttp

        chunks = [orjson.dumps(events[k:k + batch]) for k in range(0, len(events), batch)]
        recorded = 0
        async with aiohttp.ClientSession() as s:
            sem = asyncio.Semaphore(inflight)

            async def post(body: bytes) -> None:
                nonlocal recorded
                async with sem, s.post(f"http://127.0.0.1:{port}/api/detection/events", data=body,
                                       headers={"X-API-Key": key, "Content-Type": "application/json"}) as r:
                    answer = await r.json()
                    assert r.status == 200, answer
                    recorded += answer["recorded"]

            t0 = time.perf_counter()
            await asyncio.gather(*(post(c) for c in chunks))
            out.put((time.perf_counter() - t0, recorded))

    asyncio.run(run())


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--domains", type=int, default=5000)
    ap.add_argument("--providers", type=int, default=50)
    ap.add_argument("--prefetch", type=int, default=200, help="the service's ICP_PREFETCH (also the raw consumer's)")
    ap.add_argument("--batch", type=int, default=100, help="the service's ICP_CONSUMER_BATCH")
    args = ap.parse_args()

    from aiohttp import web

    from services.detection import handlers
    from shared.config import Settings
    from shared.runtime import Endpoints, Runtime, tune_gc

    run = uuid.uuid4().hex[:8]
    dbname = vhost = f"icp_bench_det_{run}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    dsn, url = f"{PG}/{dbname}", f"{AMQP}/{vhost}"
    settings = Settings(env="dev", database_url=dsn, amqp_url=url, log_level="warning", prefetch=args.prefetch,
                        consumer_batch=args.batch, db_pool_min=1, db_pool_max=6)
    tune_gc(settings.gc_thresholds)  # as the servers do
    rt = Runtime(settings, Endpoints(dsn, url), ["detection"], "all")
    runner = None
    rng = random.Random(13)
    try:
        root = await rt.start()
        runner = web.AppRunner(root, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ctx = rt.running[0].ctx
        await ctx.consumer.stop()
        await ctx.pool.executemany(
            "INSERT INTO providers (provider_id, name, province, updated_at) VALUES ($1, $2, 'BJ', now())",
            [(f"bench-p{k:03d}", f"压测接入商{k}") for k in range(args.providers)])
        key = (await handlers.create_source(ctx.pool, "bench-source", "bench"))["api_key"]
        n = args.events
        results = []
        for r in range(args.rounds):
            # raw: the same kind of messages, drained by aio-pika alone
            events = make_events(n, args.domains, args.providers, rng)
            bodies = [(e["id"], envelope(e)) for e in events]
            raw_s = await raw_consume(url, bodies, args.prefetch)

            # bus: the service's consumer into the read model
            before = await counts(ctx.pool)
            await publish(url, "icp.events", "detection.site.detected", bodies)
            while await queue_depth(url, "detection.inbox") < n:
                await asyncio.sleep(0.05)
            t0 = time.perf_counter()
            if os.environ.get("BENCH_PROFILE"):
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
            await ctx.consumer.start()
            handled = ctx.consumer.stats.handled + n  # counted after each commit; the tables are checked after
            while ctx.consumer.stats.handled < handled:
                await asyncio.sleep(0.02)
            bus_s = time.perf_counter() - t0
            if os.environ.get("BENCH_PROFILE"):
                prof.disable()
                prof.dump_stats(os.environ["BENCH_PROFILE"])
            await ctx.consumer.stop()
            after = await counts(ctx.pool)
            assert after[0] - before[0] == n and after[1] - before[1] == n, (before, after)
            assert ctx.consumer.stats.dead == 0

            # http: batches of 1,000 from a client process
            events = make_events(n, args.domains, args.providers, rng)
            before = await counts(ctx.pool)
            q: mp.Queue = mp.Queue()
            p = mp.Process(target=http_client, args=(port, key, events, 1000, 4, q))
            p.start()
            http_s, recorded = await asyncio.to_thread(q.get)
            p.join()
            after = await counts(ctx.pool)
            assert recorded == n and after[0] - before[0] == n and after[1] - before[1] == n, (recorded, before, after)

            results.append((n / raw_s, n / bus_s, n / http_s))
            print(f"round {r + 1}: raw {n / raw_s:,.0f}/s  bus→read model {n / bus_s:,.0f}/s "
                  f"(ratio {raw_s / bus_s:.2f})  http batches {n / http_s:,.0f}/s", flush=True)
        raw, bus, http = (statistics.median(x[i] for x in results) for i in range(3))
        det = await ctx.pool.fetchval("SELECT count(*) FROM detections")
        print(f"median of {args.rounds}: raw {raw:,.0f}/s, bus {bus:,.0f}/s (ratio {bus / raw:.2f}), "
              f"http {http:,.0f}/s; {det} detection records, nothing lost")
    finally:
        if runner is not None:
            await runner.cleanup()
        await rt.stop()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
