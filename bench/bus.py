"""Bus throughput: events/s from outbox write to handled in another service, beside the raw
aio-pika rate (publish with confirms + consume with manual acks) measured in the same run.

    .venv/bin/python bench/bus.py [--events 20000] [--size 1024]

Both sides run as two processes (producer, consumer) against the local PostgreSQL and
RabbitMQ, on a throwaway database and vhost that are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika  # noqa: E402
import asyncpg  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
SCHEMA_P, SCHEMA_C = (os.environ.get("ICP_BENCH_SCHEMAS") or "bench_producer,bench_consumer").split(",")


# ------------------------------------------------------------------ raw reference


async def raw_publisher(url: str, n: int, size: int, window: int) -> None:
    conn = await aio_pika.connect(url)
    ch = await conn.channel(publisher_confirms=True)
    body = b"x" * size
    sent = 0
    while sent < n:
        k = min(window, n - sent)
        await asyncio.gather(*(
            ch.default_exchange.publish(
                aio_pika.Message(body, message_id=str(uuid.uuid4()), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key="raw.bench",
            ) for _ in range(k)
        ))
        sent += k
    await conn.close()


async def raw_consumer(url: str, n: int, prefetch: int, done: mp.Event) -> None:
    conn = await aio_pika.connect(url)
    ch = await conn.channel()
    await ch.set_qos(prefetch_count=prefetch)
    q = await ch.get_queue("raw.bench")
    got = 0
    finished = asyncio.Event()

    async def on(msg):
        nonlocal got
        await msg.ack()
        got += 1
        if got >= n:
            finished.set()

    await q.consume(on)
    await finished.wait()
    done.set()
    await conn.close()


def _run(coro_fn, *args):
    asyncio.run(coro_fn(*args))


async def raw_rate(url: str, n: int, size: int) -> float:
    conn = await aio_pika.connect(url)
    ch = await conn.channel()
    q = await ch.declare_queue("raw.bench", durable=True, arguments={"x-queue-type": "quorum"})
    await q.purge()
    await conn.close()
    done = mp.Event()
    cons = mp.Process(target=_run, args=(raw_consumer, url, n, 500, done))
    cons.start()
    await asyncio.sleep(0.5)
    t0 = time.perf_counter()
    pub = mp.Process(target=_run, args=(raw_publisher, url, n, size, 500))
    pub.start()
    await asyncio.to_thread(done.wait)
    elapsed = time.perf_counter() - t0
    pub.join()
    cons.join()
    conn = await aio_pika.connect(url)
    ch = await conn.channel()
    await ch.queue_delete("raw.bench")
    await conn.close()
    return n / elapsed


# ------------------------------------------------------------------ through the platform


def _contract():
    from shared.contracts import REGISTRY, Contract, message

    if "benchp.item.created" not in REGISTRY:

        @message("benchp.item.created", consumers=("benchc",))
        class ItemCreated(Contract):
            """Benchmark event."""

            n: int
            pad: str

    return REGISTRY["benchp.item.created"].model


async def platform_consumer(dsn: str, url: str, n: int, ready: mp.Event, done: mp.Event) -> None:
    from shared import db
    from shared.bus import Consumer, HandlerTable
    from shared.outbox import Outbox
    from shared.topology import build_topology
    from shared.transports.amqp import AmqpTransport

    model = _contract()
    pool = await db.create_pool(dsn, SCHEMA_C, min_size=2, max_size=4)
    t = AmqpTransport(url)
    await t.start(build_topology(("benchc",), delivery_limit=20, retry_delays=[1]))
    handled = 0
    finished = asyncio.Event()
    table = HandlerTable()

    async def on_item(p, ctx):
        await ctx.conn.execute("INSERT INTO effects (n) VALUES ($1)", p.n)

    table.on(model)(on_item)

    def count(_svc, _type):
        nonlocal handled
        handled += 1
        if handled >= n:
            finished.set()

    c = Consumer("benchc", pool, t, table, Outbox("benchc", SCHEMA_C), prefetch=500, batch_size=200,
                 concurrency=2, on_handled=count)
    await c.start()
    ready.set()
    await finished.wait()
    done.set()
    await c.stop(5)
    await t.close()
    await pool.close()


async def platform_relay(dsn: str, url: str, n: int, stop: mp.Event) -> None:
    """The producer service's worker role: only the relay (as `icp serve X --worker` runs it)."""
    from shared import db
    from shared.outbox import OutboxRelay
    from shared.topology import build_topology
    from shared.transports.amqp import AmqpTransport

    pool = await db.create_pool(dsn, SCHEMA_P, min_size=2, max_size=4)
    t = AmqpTransport(url)
    await t.start(build_topology(("benchc",), delivery_limit=20, retry_delays=[1]))
    relay = OutboxRelay(pool, dsn, SCHEMA_P, t, batch=500, poll_interval=0.2)
    relay.start()
    await asyncio.to_thread(stop.wait)
    await relay.stop(5)
    await t.close()
    await pool.close()


async def platform_producer(dsn: str, url: str, n: int, size: int, per_txn: int, own_relay: bool = True) -> None:
    from shared import db
    from shared.outbox import Outbox, OutboxRelay
    from shared.topology import build_topology
    from shared.transports.amqp import AmqpTransport

    model = _contract()
    pool = await db.create_pool(dsn, SCHEMA_P, min_size=2, max_size=6)
    t = AmqpTransport(url)
    await t.start(build_topology(("benchc",), delivery_limit=20, retry_delays=[1]))
    relay = OutboxRelay(pool, dsn, SCHEMA_P, t, batch=500, poll_interval=0.2)
    if own_relay:
        relay.start()
    outbox = Outbox("benchp", SCHEMA_P)
    pad = "x" * max(0, size - 200)

    async def write(start: int, count: int) -> None:
        # business transactions of `per_txn` events each, 4 writers at once
        for first in range(start, start + count, per_txn):
            async with db.transaction(pool) as conn:
                for i in range(first, min(first + per_txn, start + count)):
                    await outbox.add(conn, model(n=i, pad=pad))

    per = n // 4
    await asyncio.gather(*(write(k * per, per if k < 3 else n - 3 * per) for k in range(4)))
    if own_relay:
        while await relay.pending():
            await asyncio.sleep(0.05)
        await relay.stop(5)
    await t.close()
    await pool.close()


async def platform_rate(
    dsn: str, url: str, n: int, size: int, per_txn: int, tag: str, separate_relay: bool = False
) -> float:
    from shared import db

    here = Path(__file__).parent / "bus_migrations"
    global SCHEMA_P, SCHEMA_C
    SCHEMA_P, SCHEMA_C = f"bench_producer_{tag}", f"bench_consumer_{tag}"
    os.environ["ICP_BENCH_SCHEMAS"] = f"{SCHEMA_P},{SCHEMA_C}"
    await db.migrate(dsn, SCHEMA_P, None)
    await db.migrate(dsn, SCHEMA_C, here)
    from shared.topology import build_topology

    conn = await aio_pika.connect(url)  # start each run from empty queues
    ch = await conn.channel()
    for q in build_topology(("benchc",), delivery_limit=20, retry_delays=[1]).queues:
        await ch.queue_delete(q.name)
    await conn.close()
    ready, done = mp.Event(), mp.Event()
    cons = mp.Process(target=_run, args=(platform_consumer, dsn, url, n, ready, done))
    cons.start()
    await asyncio.to_thread(ready.wait)
    t0 = time.perf_counter()
    stop_relay = mp.Event()
    relay = mp.Process(target=_run, args=(platform_relay, dsn, url, n, stop_relay)) if separate_relay else None
    if relay:
        relay.start()
    prod = mp.Process(target=_run, args=(platform_producer, dsn, url, n, size, per_txn, not separate_relay))
    prod.start()
    await asyncio.to_thread(done.wait)
    elapsed = time.perf_counter() - t0
    stop_relay.set()
    prod.join()
    cons.join()
    if relay:
        relay.join()
    conn = await asyncpg.connect(dsn)
    effects = await conn.fetchval(f"SELECT count(*) FROM {SCHEMA_C}.effects")
    await conn.close()
    assert effects == n, f"expected {n} effects, found {effects}"
    return n / elapsed


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--per-txn", type=int, default=50, help="events written per business transaction")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    run = uuid.uuid4().hex[:8]
    dbname, vhost = f"icp_bench_{run}", f"icp_bench_{run}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    dsn, url = f"{PG}/{dbname}", f"{AMQP}/{vhost}"
    try:
        # Alternate the reference and the platform so both see the same machine load.
        raws, batched, single, split = [], [], [], []
        for r in range(args.rounds):
            raws.append(await raw_rate(url, args.events, args.size))
            batched.append(await platform_rate(dsn, url, args.events, args.size, args.per_txn, f"b{r}"))
            split.append(await platform_rate(dsn, url, args.events, args.size, args.per_txn, f"r{r}", True))
            single.append(await platform_rate(dsn, url, args.events // 4, args.size, 1, f"s{r}"))
            print(f"round {r + 1}: raw {raws[-1]:.0f}/s, platform batched {batched[-1]:.0f}/s, "
                  f"relay in its own process {split[-1]:.0f}/s, single {single[-1]:.0f}/s", flush=True)
        med = statistics.median
        print(f"events={args.events} size={args.size}B rounds={args.rounds} (medians)")
        print(f"raw aio-pika publish(confirms, 500 in flight) + consume(prefetch 500): {med(raws):8.0f} msg/s")
        print(f"platform, {args.per_txn:3d} events per business transaction:              {med(batched):8.0f} events/s"
              f"  ratio {med(b / r for b, r in zip(batched, raws, strict=True)):.2f}")
        print(f"platform, {args.per_txn:3d} per txn, relay in the worker process:          {med(split):8.0f} events/s"
              f"  ratio {med(b / r for b, r in zip(split, raws, strict=True)):.2f}")
        print(f"platform,   1 event per business transaction ({args.events // 4} events):     "
              f"{med(single):8.0f} events/s  ratio {med(x / r for x, r in zip(single, raws, strict=True)):.2f}")
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    mp.set_start_method("spawn")
    asyncio.run(main())
