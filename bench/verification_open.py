"""Verification opening cases from `filing.application.submitted`: CPU per case of the verification
process and of its PostgreSQL backend, through the real consumer (`shared.bus.Consumer._handle_batch`:
envelope and payload parsing, the inbox, the batch handler or the single-message one, the commit) with
the broker left out. Two source trees alternate in one run ("before": `--before`, e.g. an export of an
earlier commit; "now": this tree), each round in a child process of its own on a throwaway database of
the local PostgreSQL.

    git archive <commit> | tar -x -C /tmp/verif-before        # the tree to compare with
    .venv/bin/python bench/verification_open.py --before /tmp/verif-before [--cases 8000] [--rounds 4]

Payloads: first filings of 2 websites shaped as the importer's (`source` import), distinct ids. Delivery
batches of `--batch` messages (100: the consumer's batch in an import; 1: the single submit path, one
message per delivery batch, measured on `--cases`/8 messages). Measured per variant and batch size:
process CPU (`time.process_time`), the backend's CPU (psutil, same host), wall time, and the bytes the
cases and their versions and history take (pg_total_relation_size growth).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


def payload(i: int, pid: str, submitted_at: str) -> dict:
    """An import's `filing.application.submitted` payload (2 websites), as filing builds it."""
    def principal(k: int) -> dict:
        return {"name": "张三", "id_type": "RESIDENT_ID", "id_number_masked": "110105********1238",
                "id_valid_from": "2020-01-01", "id_valid_to": "LONG_TERM", "mobile": f"130{k:08d}",
                "office_phone": "", "emergency_phone": f"150{k:08d}", "email": f"u{k}@example.com", "im_type": "",
                "im_account": "", "legal_rep_name": "", "legal_rep_id_masked": ""}

    tag = uuid.uuid4().hex[:10]
    return {
        "application_id": str(uuid.uuid4()), "version": 1, "type": "FIRST_FILING", "provider_id": pid,
        "province": "440000", "filing_method": "PROXY",
        "subject": {"subject_id": str(uuid.uuid4()), "subject_no": None, "nature": "ENTERPRISE",
                    "cert_type": "BIZ_LICENSE", "cert_number": f"9144030000{i:07d}X", "name": f"深圳市测试科技有限公司{i}",
                    "cert_address": "深圳市南山区科技园路1号", "province": "440000", "city": "440300", "county": "440305",
                    "mail_address": "科技园路1号A座101室", "investor_or_superior": "张三", "remark": "",
                    "principal": principal(i)},
        "websites": [{"website_id": str(uuid.uuid4()), "website_no": None, "service_type": "WEBSITE",
                      "name": "测试科技官网", "domains": [f"b{tag}x{w}.com"], "home_urls": [f"www.b{tag}x{w}.com"],
                      "service_content": ["ORG_PORTAL"], "preapprovals": [{"type": "NONE", "approval_no": "", "document": ""}],
                      "languages": ["ZH_HANS"], "remark": "", "principal": principal(i),
                      "access": {"access_methods": ["CLOUD"], "ip_ranges": ["203.0.113.10-203.0.113.20"],
                                 "server_locations": ["GD"]}} for w in range(2)],
        "submitted_at": submitted_at, "submitted_by": "bench-op", "source": "import",
        "import_job_id": str(uuid.uuid4()), "changes": None,
    }


async def child(cases: int, batch: int, profile: bool = False) -> dict:
    """One measurement in this process, with the tree on sys.path[0]: a database, `cases` messages in
    delivery batches of `batch`, through the consumer."""
    import asyncpg
    import psutil

    from services.verification import app as vapp
    from shared import logs
    from shared.bus import Consumer
    from shared.config import Settings
    from shared.contracts import Envelope
    from shared.db import create_pool, migrate
    from shared.outbox import Outbox
    from shared.runtime import tune_gc

    logs.configure("info")  # the services' default (stdout, which the parent discards)
    db = f"icp_bench_vopen_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    dsn = f"{PG}/{db}"
    try:
        definition = vapp.service()
        await migrate(dsn, "verification", definition.migrations)
        pool = await create_pool(dsn, "verification", min_size=1, max_size=1)

        class Delivery:
            headers: dict = {}
            redelivered = False

            def __init__(self, body: bytes, message_id: str) -> None:
                self.body, self.message_id = body, message_id

            async def ack(self) -> None: ...

            async def nack(self, requeue: bool = True) -> None: ...

        class Transport:
            name = "bench"
            settled: list = []

            async def ack_many(self, deliveries) -> None: ...

            async def send_to_queue(self, queue, delivery, headers) -> None:
                self.settled.append((queue, headers))

        transport = Transport()
        consumer = Consumer("verification", pool, transport, definition.handlers, Outbox("verification"),
                            batch_size=batch)
        pid = "bench" + uuid.uuid4().hex[:6]
        now = "2026-12-07T02:22:36.496344Z"
        bodies = []
        for i in range(cases):
            env = Envelope(type="filing.application.submitted", producer="filing", provider_id=pid,
                           correlation_id=uuid.uuid4().hex, payload=payload(i, pid, now))
            bodies.append(Delivery(env.model_dump_json().encode(), str(env.id)))
        tune_gc(Settings().gc_thresholds)  # as `icp serve` after its start (the bodies frozen too: they stand
        # for messages that arrive one by one)
        async with pool.acquire() as conn:
            backend = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
            size = "SELECT pg_total_relation_size('cases') + pg_total_relation_size('case_versions') " \
                   "+ pg_total_relation_size('case_history')"
            size0 = await conn.fetchval(size)
        profiler = cProfile.Profile(time.process_time) if profile else None
        bcpu0, cpu0, t0 = sum(backend.cpu_times()[:2]), time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for k in range(0, cases, batch):
            await consumer._handle_batch(bodies[k:k + batch])
        if profiler:
            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(35)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        bcpu = sum(backend.cpu_times()[:2]) - bcpu0
        async with pool.acquire() as conn:
            grown = await conn.fetchval(size) - size0
            opened = await conn.fetchval("SELECT count(*) FROM cases")
        await pool.close()
        assert not transport.settled, transport.settled[:3]
        assert opened == cases, (opened, cases)
        return {"cases": cases, "cpu": cpu, "pg": bcpu, "wall": wall, "bytes": grown}
    finally:
        admin = await asyncpg.connect(f"{PG}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


def run_child(tree: Path, cases: int, batch: int) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(tree), "--cases", str(cases),
         "--batch", str(batch)],
        capture_output=True, text=True, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)})
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))[7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, help="source tree to compare with (e.g. git archive of a commit)")
    ap.add_argument("--cases", type=int, default=8000, help="messages per variant, batch path")
    ap.add_argument("--batch", type=int, nargs="+", default=[100, 1],
                    help="messages per delivery batch (100: an import's runs; 1: the single submit path)")
    ap.add_argument("--rounds", type=int, default=4, help="alternations of the variants")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true",
                    help="one run of this tree with cProfile (process CPU time), top functions to stderr")
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, str(args.child))
        print("RESULT " + json.dumps(asyncio.run(child(args.cases, args.batch[0], args.profile))))
        return
    if args.profile:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(asyncio.run(child(args.cases, args.batch[0], True))))
        return
    variants = ([("before", args.before.resolve())] if args.before else []) + [("now", ROOT)]
    totals: dict[tuple[str, int], dict] = {}
    print(f"load average at start: {os.getloadavg()}")
    for r in range(args.rounds):
        for batch in args.batch:
            n = args.cases // args.rounds // (1 if batch > 1 else 8)
            for name, tree in variants if r % 2 == 0 else variants[::-1]:
                res = run_child(tree, n, batch)
                t = totals.setdefault((name, batch), {"cases": 0, "cpu": 0.0, "pg": 0.0, "wall": 0.0, "bytes": 0})
                for k in t:
                    t[k] += res[k]
    print(f"load average at the end: {os.getloadavg()}")
    print("| variant | batch | cases | process CPU per case | PostgreSQL CPU per case | both | wall per case | bytes per case |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (name, batch), t in sorted(totals.items(), key=lambda kv: (-kv[0][1], kv[0][0] != "before")):
        n = t["cases"]
        print(f"| {name} | {batch} | {n:,} | {t['cpu'] / n * 1000:.3f} ms | {t['pg'] / n * 1000:.3f} ms | "
              f"{(t['cpu'] + t['pg']) / n * 1000:.3f} ms | {t['wall'] / n * 1000:.3f} ms | {t['bytes'] / n:,.0f} |")


if __name__ == "__main__":
    main()
