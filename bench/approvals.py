"""Approvals with filing-number assignment: approvals/s under two worker processes, and the
latency from approval to the `verification.application.approved` event leaving the outbox and
reaching a consumer on RabbitMQ.

    .venv/bin/python bench/approvals.py [--cases 3000] [--workers 2] [--concurrency 8] [--provinces 1]

N first filings (1–3 websites each) are opened through verification's real message handler and
verified in one commit; then `--workers` processes of `icp serve verification --worker` approve
them with auto-review (`ICP_AUTO_REVIEW=decision=approve,…`, `--concurrency` transactions each),
all competing for the same (province, year) serial row when `--provinces 1` (the worst case).
Runs on the local PostgreSQL and RabbitMQ, in a throwaway database and vhost removed afterwards.
Numbers are checked at the end (unique, no gap).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aio_pika  # noqa: E402
import asyncpg  # noqa: E402

from services.verification import handlers, review, store  # noqa: E402
from services.verification.app import service  # noqa: E402
from shared import db, logs  # noqa: E402
from shared.bus import MessageContext  # noqa: E402
from shared.contracts import Envelope  # noqa: E402
from shared.contracts.filing import ApplicationSubmitted  # noqa: E402
from shared.outbox import Outbox  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
PROVINCES = ["110000", "310000", "440000", "330000", "320000", "510000", "420000", "650000"]


def application(pid: str, i: int, province: str) -> ApplicationSubmitted:
    principal = {"name": "张三", "id_type": "RESIDENT_ID", "id_number_masked": "110105********1234",
                 "mobile": "13800138000"}
    websites = [
        {"website_id": f"w{i}-{k}", "name": f"压测网站{i}-{k}", "domains": [f"bench{i}-{k}.example.com"],
         "home_urls": [f"www.bench{i}-{k}.example.com"], "service_content": ["OTHER"],
         "preapprovals": [{"type": "NONE"}], "languages": ["ZH_CN"], "principal": principal}
        for k in range(1 + i % 3)
    ]
    return ApplicationSubmitted.model_validate({
        "application_id": f"bench-{i}", "type": "FIRST_FILING", "provider_id": pid, "province": province,
        "subject": {"subject_id": f"s{i}", "nature": "ENTERPRISE", "cert_type": "USCC",
                    "cert_number": "91110105MA01234567", "name": f"压测主体{i}有限公司", "province": province,
                    "principal": principal},
        "websites": websites, "submitted_at": dt.datetime.now(dt.UTC), "submitted_by": "bench",
    })


async def seed(pool: asyncpg.Pool, pid: str, n: int, provinces: list[str]) -> None:
    outbox = Outbox("verification")
    for start in range(0, n, 500):
        async with pool.acquire() as conn, conn.transaction():
            for i in range(start, min(n, start + 500)):
                app = application(pid, i, provinces[i % len(provinces)])
                env = Envelope(type="filing.application.submitted", producer="filing", provider_id=pid,
                               payload=app.model_dump(mode="json"))

                async def publish(payload, conn=conn, **kw):
                    return await outbox.add(conn, payload, **kw)

                await handlers.on_application_submitted(app, MessageContext(env, conn, publish))


async def verify_all(pool: asyncpg.Pool, pid: str) -> None:
    outbox = Outbox("verification")
    actor = review.Actor("provider", "bench")
    async with pool.acquire() as conn, conn.transaction():
        for r in await conn.fetch("SELECT id FROM cases WHERE provider_id = $1", pid):
            case = await store.lock_case(conn, r["id"], store.Scope(provider_id=pid))
            await review.verify(conn, outbox, case, result="pass", opinion="压测核实", actor=actor)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def healthy(port: int) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.write(b"GET /api/verification/healthz HTTP/1.0\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    return b" 200 " in data.split(b"\r\n", 1)[0]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8, help="approvals in flight per worker process")
    ap.add_argument("--provinces", type=int, default=1, help="spread cases over this many provinces (1 = one hot row)")
    args = ap.parse_args()
    logs.configure("warning", "console")
    run = uuid.uuid4().hex[:8]
    dbname = vhost = f"icp_bench_{run}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    dsn, url = f"{PG}/{dbname}", f"{AMQP}/{vhost}"
    procs: list[subprocess.Popen] = []
    try:
        await db.migrate(dsn, "verification", service().migrations)
        pool = await db.create_pool(dsn, "verification", min_size=2, max_size=10)
        pid = "bench"
        provinces = PROVINCES[: max(1, min(args.provinces, len(PROVINCES)))]
        t = time.perf_counter()
        await seed(pool, pid, args.cases, provinces)
        print(f"seeded {args.cases} cases in {time.perf_counter() - t:.1f}s")

        # a consumer of the approved events, bound before anything is approved
        amqp = await aio_pika.connect(url)
        ch = await amqp.channel()
        ex = await ch.declare_exchange("icp.events", aio_pika.ExchangeType.TOPIC, durable=True)
        q = await ch.declare_queue(f"bench.approved.{run}", exclusive=True)
        await q.bind(ex, "verification.application.approved")
        arrivals: dict[str, float] = {}
        approved_at: dict[str, float] = {}
        all_in = asyncio.Event()

        async def on(msg: aio_pika.abc.AbstractIncomingMessage) -> None:
            now = time.time()
            payload = json.loads(msg.body)["payload"]
            arrivals[payload["case_id"]] = now
            approved_at[payload["case_id"]] = dt.datetime.fromisoformat(payload["approved_at"]).timestamp()
            await msg.ack()
            if len(arrivals) >= args.cases:
                all_in.set()

        await q.consume(on)

        env = dict(os.environ, ICP_ENV="bench", ICP_DATABASE_URL=dsn, ICP_AMQP_URL=url, ICP_LOG_LEVEL="warning",
                   ICP_LOG_FORMAT="json", ICP_DB_POOL_MAX=str(args.concurrency + 4), ICP_OUTBOX_POLL_INTERVAL="0.5",
                   ICP_AUTO_REVIEW=f"decision=approve,after=0s,concurrency={args.concurrency},interval=20ms")
        ports = []
        for _ in range(args.workers):
            port = free_port()
            ports.append(port)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", "verification", "--worker", "--port", str(port)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=None,
            ))
        for port in ports:
            while not await healthy(port):
                await asyncio.sleep(0.1)

        t0 = time.perf_counter()
        await verify_all(pool, pid)  # one commit: every case becomes approvable at once
        t_verified = time.perf_counter()
        while await pool.fetchval("SELECT count(*) FROM cases WHERE status = 'APPROVED'") < args.cases:
            await asyncio.sleep(0.05)
        t1 = time.perf_counter()
        await asyncio.wait_for(all_in.wait(), 120)

        first, last = await pool.fetchrow("SELECT min(decided_at), max(decided_at) FROM cases")
        span = (last - first).total_seconds()
        published = await pool.fetch(
            """SELECT extract(epoch FROM published_at) - extract(epoch FROM
                      (convert_from(body, 'UTF8')::jsonb->'payload'->>'approved_at')::timestamptz) AS s
               FROM outbox WHERE routing_key = 'verification.application.approved'""")
        to_outbox_published = [r["s"] * 1000 for r in published]
        to_consumer = [(arrivals[c] - approved_at[c]) * 1000 for c in arrivals]
        per_worker = await pool.fetch(
            "SELECT actor_id, count(*) AS n FROM case_history WHERE action = 'APPROVE' GROUP BY actor_id")
        serial_ok = await pool.fetchval(
            """SELECT bool_and(n = last_seq AND mx = last_seq) FROM (
                   SELECT s.province, s.year, s.last_seq, count(*) AS n, max(seq) AS mx
                   FROM number_sequences s JOIN subject_numbers sn USING (province, year)
                   GROUP BY s.province, s.year, s.last_seq) x""")
        dupes = await pool.fetchval(
            "SELECT count(*) - count(DISTINCT subject_no) FROM cases WHERE subject_no IS NOT NULL")
        websites = await pool.fetchval("SELECT count(*) FROM website_numbers")
        await amqp.close()
        await pool.close()

        print(f"\ncases {args.cases}, websites numbered {websites}, workers {args.workers} × concurrency "
              f"{args.concurrency}, provinces {len(provinces)}")
        print(f"verify-all commit: {t_verified - t0:.2f}s")
        print(f"approvals: {args.cases / span:.0f}/s over the approval span ({span:.2f}s); "
              f"wall {args.cases / (t1 - t0):.0f}/s incl. the verify commit")
        print("per worker: " + ", ".join(f"{r['n']}" for r in per_worker))
        for name, xs in (("approval → outbox published", to_outbox_published),
                         ("approval → event at a RabbitMQ consumer", to_consumer)):
            print(f"{name}: p50 {pct(xs, 50):.0f} ms, p95 {pct(xs, 95):.0f} ms, p99 {pct(xs, 99):.0f} ms, "
                  f"mean {statistics.fmean(xs):.0f} ms")
        print(f"numbers: duplicates {dupes}, serials gap-free {serial_ok}")
        if dupes or not serial_ok:
            raise SystemExit("NUMBERING BROKEN")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
