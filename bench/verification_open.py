"""Verification opening the cases of an import: the application stored once per case (now) against a copy
in the case and another in its first version row (before, `store.OPEN_CASES_SQL` of commit 742ba66), in the
same run, alternating, on a throwaway database of the local PostgreSQL.

    .venv/bin/python bench/verification_open.py [--cases 10000] [--batch 100] [--rounds 4]

Payloads: first filings of 2 websites, as the importer's (`filing.application.submitted`). Measured per
variant: CPU seconds of the PostgreSQL backend (psutil, same host; steadier than wall time on a shared
host) and the bytes the cases and their versions take (pg_total_relation_size growth).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import psutil  # noqa: E402

from services.verification import handlers, store  # noqa: E402
from shared.db import _init_connection as init_connection  # noqa: E402  (the pools' jsonb codec)
from tests.integration.test_verification import application, website  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
BEFORE_SQL = store.OPEN_CASES_SQL.replace(
    "SELECT o.id, x.version, NULL, x.submitted_at", "SELECT o.id, x.version, x.application, x.submitted_at")
assert BEFORE_SQL != store.OPEN_CASES_SQL


def fields(n: int, pid: str) -> list[tuple[dict, uuid.UUID]]:
    out = []
    for _ in range(n):
        e = application(pid, websites=[website(), website()])
        raw = e.model_dump(mode="json")
        out.append((handlers._case_fields(e, raw, handlers._bureau_of(e.province)), uuid.uuid4()))
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=10_000, help="cases per variant")
    ap.add_argument("--batch", type=int, default=100, help="cases per statement (the consumer's batch)")
    ap.add_argument("--rounds", type=int, default=4, help="alternations of the two variants")
    args = ap.parse_args()
    db = f"icp_bench_vopen_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    dsn = f"{PG}/{db}"
    try:
        env = {**os.environ, "ICP_DATABASE_URL": dsn}
        migrate = subprocess.run([str(ROOT / ".venv/bin/icp"), "migrate"], env=env, cwd=ROOT, capture_output=True)
        assert migrate.returncode == 0, migrate.stderr.decode()[-2000:]
        conn = await asyncpg.connect(dsn, server_settings={"search_path": "verification,public"})
        await init_connection(conn)
        backend = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
        per_round = args.cases // args.rounds
        totals = {"before": [0.0, 0.0, 0], "now": [0.0, 0.0, 0]}  # backend CPU, wall, bytes
        print(f"load average at start: {os.getloadavg()}")
        for r in range(args.rounds):
            for name, sql in (("before", BEFORE_SQL), ("now", store.OPEN_CASES_SQL)) if r % 2 == 0 else (
                    ("now", store.OPEN_CASES_SQL), ("before", BEFORE_SQL)):
                batches = [fields(args.batch, "bench" + uuid.uuid4().hex[:6]) for _ in range(per_round // args.batch)]
                size0 = await conn.fetchval(
                    "SELECT pg_total_relation_size('cases') + pg_total_relation_size('case_versions')")
                cpu0, t0 = sum(backend.cpu_times()[:2]), time.perf_counter()
                for b in batches:
                    async with conn.transaction():
                        await conn.fetch(sql, [{**c, "message_id": str(m)} for c, m in b])
                totals[name][0] += sum(backend.cpu_times()[:2]) - cpu0
                totals[name][1] += time.perf_counter() - t0
                totals[name][2] += await conn.fetchval(
                    "SELECT pg_total_relation_size('cases') + pg_total_relation_size('case_versions')") - size0
        await conn.close()
        print(f"load average at the end: {os.getloadavg()}")
        print("| variant | cases | PostgreSQL CPU | per case | wall | bytes per case (cases + case_versions) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, (cpu, wall, size) in totals.items():
            n = per_round * args.rounds // args.batch * args.batch
            print(f"| {name} | {n:,} | {cpu:.2f} s | {cpu / n * 1000:.3f} ms | {wall:.1f} s | {size / n:,.0f} |")
    finally:
        admin = await asyncpg.connect(f"{PG}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
