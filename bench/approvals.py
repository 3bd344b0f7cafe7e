"""Approvals with filing-number assignment: approvals/s under two verification worker processes,
and the latency from approval to the numbers being visible in filing.

    .venv/bin/python bench/approvals.py [--cases 2000] [--workers 2] [--concurrency 8] [--provinces 1]

1. N first filings (1–3 websites each) are submitted through filing's entry use case; their
   `filing.application.submitted` events cross RabbitMQ and open N cases in verification.
2. `--workers` processes of `icp serve verification --worker` run with auto-review
   (`ICP_AUTO_REVIEW=decision=approve,…`, `--concurrency` approval transactions each).
3. Every case passes provider verification in ONE commit, so all become approvable at once and
   the workers race for the same (province, year) serial row (`--provinces 1`, the worst case;
   more provinces spread the rows).
4. Filing runs as its own worker process (`icp serve filing --worker`) and applies the
   `…approved` events; "visible in filing" is when its application row reads APPROVED with the
   subject number (polled every 20 ms from this process).

Runs on the local PostgreSQL and RabbitMQ, in a throwaway database and vhost removed afterwards.
The numbers are checked at the end (unique, no gap per province and year).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from services.filing.entry import handlers as entry
from services.verification import review, store  # noqa: E402
from shared import db, logs  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.filing_data import FilingData  # noqa: E402
from shared.outbox import Outbox  # noqa: E402
from shared.service import ServiceContext  # noqa: E402
from tests import filing_samples as fs  # noqa: E402
from tests.worker_process import free_port, health_ok  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
# (province, city, county) — Beijing first: the default single hot row
REGIONS = [("110000", "110100", "110105"), ("310000", "310100", "310101"), ("440000", "440100", "440103"),
           ("330000", "330100", "330102"), ("320000", "320100", "320102"), ("510000", "510100", "510104"),
           ("420000", "420100", "420102"), ("370000", "370100", "370102")]


def filing_data(i: int, regions: list[tuple[str, str, str]]) -> FilingData:
    province, city, county = regions[i % len(regions)]
    data = fs.filing(websites=1 + i % 3)
    data["subject"].update(province=province, city=city, county=county, name=f"压测主体{i}网络科技有限公司")
    return FilingData.model_validate(data)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(xs: list[float]) -> str:
    return (f"p50 {pct(xs, 50):.0f} ms, p95 {pct(xs, 95):.0f} ms, p99 {pct(xs, 99):.0f} ms, "
            f"max {max(xs):.0f} ms, mean {statistics.fmean(xs):.0f} ms")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8, help="approvals in flight per worker process")
    ap.add_argument("--provinces", type=int, default=1, help="spread subjects over this many provinces")
    args = ap.parse_args()
    logs.configure("warning", "console")
    run = uuid.uuid4().hex[:8]
    dbname = vhost = f"icp_bench_{run}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    dsn, url = f"{PG}/{dbname}", f"{AMQP}/{vhost}"
    regions = REGIONS[: max(1, min(args.provinces, len(REGIONS)))]
    procs: list[subprocess.Popen] = []
    try:
        settings = Settings(env="bench", database_url=dsn, amqp_url=url)
        env = dict(os.environ, ICP_ENV="dev", ICP_DATABASE_URL=dsn, ICP_AMQP_URL=url, ICP_LOG_LEVEL="warning",
                   ICP_LOG_FORMAT="json", ICP_DB_POOL_MAX=str(args.concurrency + 4), ICP_OUTBOX_POLL_INTERVAL="0.5")
        review_env = dict(env, ICP_AUTO_REVIEW=f"decision=approve,after=0s,concurrency={args.concurrency},interval=20ms")
        ports = []
        for service, penv in [("filing", env)] + [("verification", review_env)] * args.workers:
            ports.append((free_port(), service))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", service, "--worker", "--port", str(ports[-1][0])],
                cwd=ROOT, env=penv, stdout=subprocess.DEVNULL, stderr=None,
            ))
        for port, service in ports:
            while not await health_ok(service, port):
                await asyncio.sleep(0.1)
        fpool = await db.create_pool(dsn, "filing", min_size=2, max_size=10)
        filing = ServiceContext("filing", settings, fpool, Outbox("filing"), transport=None)  # type: ignore[arg-type]
        vpool = await db.create_pool(dsn, "verification", min_size=2, max_size=4)

        pid = "bench"
        async with filing.pool.acquire() as conn:
            await conn.execute("INSERT INTO providers (provider_id, name, province, updated_at) "
                               "VALUES ($1, '压测接入商', 'BJ', now())", pid)
            operator = str(await conn.fetchval(
                "INSERT INTO users (username, password_hash, role, provider_id, display_name, created_by) "
                "VALUES ('bench-op', 'x', 'provider', $1, '压测专员', 'bench') RETURNING id", pid))
        t = time.perf_counter()
        sem = asyncio.Semaphore(8)

        async def submit(i: int) -> None:
            async with sem:
                await entry.submit_filing(filing, pid, operator, filing_data(i, regions))

        await asyncio.gather(*(submit(i) for i in range(args.cases)))
        while await vpool.fetchval("SELECT count(*) FROM cases") < args.cases:
            await asyncio.sleep(0.1)
        print(f"{args.cases} filings submitted and their cases opened in {time.perf_counter() - t:.1f}s")

        # every case passes provider verification in one commit: all approvable at once
        t0 = time.perf_counter()
        async with vpool.acquire() as conn, conn.transaction():
            actor = review.Actor("provider", operator)
            for r in await conn.fetch("SELECT id FROM cases"):
                case = await store.lock_case(conn, r["id"], store.Scope(provider_id=pid))
                await review.verify(conn, Outbox("verification"), case, result="pass", opinion="压测核实", actor=actor)
        t_verified = time.perf_counter()

        visible: dict[str, float] = {}  # application id → when filing showed it approved
        since = None
        while len(visible) < args.cases:
            rows = await filing.pool.fetch(
                """SELECT a.id::text AS id, a.updated_at FROM applications a JOIN subjects s ON s.id = a.subject_id
                   WHERE a.status = 'APPROVED' AND s.subject_no IS NOT NULL
                     AND ($1::timestamptz IS NULL OR a.updated_at > $1::timestamptz - interval '10 seconds')""",
                since)
            now = time.time()
            for r in rows:
                visible.setdefault(r["id"], now)
            if rows:
                since = max(r["updated_at"] for r in rows)
            if time.perf_counter() - t_verified > 600:
                raise SystemExit(f"only {len(visible)} of {args.cases} visible after 600 s")
            await asyncio.sleep(0.02)
        t1 = time.perf_counter()

        cases = await vpool.fetch("SELECT application_id, decided_at, subject_no FROM cases")
        first = min(c["decided_at"] for c in cases)
        last = max(c["decided_at"] for c in cases)
        span = (last - first).total_seconds()
        to_filing = [(visible[c["application_id"]] - c["decided_at"].timestamp()) * 1000 for c in cases]
        published = await vpool.fetch(
            """SELECT extract(epoch FROM published_at) - extract(epoch FROM
                      (convert_from(body, 'UTF8')::jsonb->'payload'->>'approved_at')::timestamptz) AS s
               FROM outbox WHERE routing_key = 'verification.application.approved'""")
        to_published = [r["s"] * 1000 for r in published]
        per_worker = await vpool.fetch(
            "SELECT actor_id, count(*) AS n FROM case_history WHERE action = 'APPROVE' GROUP BY actor_id")
        serial_ok = await vpool.fetchval(
            """SELECT bool_and(n = last_seq AND mx = last_seq) FROM (
                   SELECT s.province, s.year, s.last_seq, count(*) AS n, max(seq) AS mx
                   FROM number_sequences s JOIN subject_numbers sn USING (province, year)
                   GROUP BY s.province, s.year, s.last_seq) x""")
        dupes = args.cases - len({c["subject_no"] for c in cases})
        websites = await vpool.fetchval("SELECT count(*) FROM website_numbers")
        in_filing = await filing.pool.fetchval("SELECT count(*) FROM websites WHERE website_no IS NOT NULL")
        await vpool.close()
        await fpool.close()

        print(f"\ncases {args.cases} ({websites} websites numbered, {in_filing} visible in filing), "
              f"{args.workers} workers × {args.concurrency} in flight, {len(regions)} province(s)")
        print(f"verify-all commit: {t_verified - t0:.2f}s")
        print(f"approvals with numbers: {args.cases / span:.0f}/s (first→last approval {span:.2f}s); "
              f"until all visible in filing: {args.cases / (t1 - t_verified):.0f}/s")
        print("approvals per worker: " + ", ".join(str(r["n"]) for r in per_worker))
        print(f"approval → event published (outbox): {summary(to_published)}")
        print(f"approval → numbers visible in filing: {summary(to_filing)}")
        print(f"numbers: duplicates {dupes}, serials gap-free {serial_ok}")
        if dupes or not serial_ok or websites != in_filing:
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
