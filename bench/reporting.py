"""Reporting read model at scale: 1,000,000 filed websites bulk-loaded into reporting's tables, then

1. latency (p50/p99) of the combined query (one province; a name fragment; a domain; an IP within a
   filed range; one provider's default list) and of the statistics (by province nationwide and for
   one bureau, by access method, by month), each through the code the HTTP handlers run
   (`store.list_filings` + the row views, `stats_store.compute`);
2. the .xlsx export of 100,000 rows (time and the peak RSS of a child process doing only that);
3. freshness: a `filing.record.changed` written into an outbox (as filing does in the approval's
   transaction) → relay → RabbitMQ → `icp serve reporting --worker` → visible in the query.

    .venv/bin/python bench/reporting.py [--websites 1000000] [--rounds 40] [--export-rows 100000] [--fresh 200]
        [--keep] [--dsn KEPT_DSN] [--parts queries,export,fresh]

Runs on the local PostgreSQL and RabbitMQ, in a throwaway database and vhost removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import random
import resource
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import openpyxl  # noqa: E402

from services.reporting import export, model, stats_store, store, views, xlsx_stream  # noqa: E402
from services.reporting.queries import FilingQuery  # noqa: E402
from services.reporting.statistics import StatisticsQuery  # noqa: E402
from services.reporting.xlsx_stream import XlsxStream  # noqa: E402
from shared import codes, db, logs  # noqa: E402
from shared.auth import Role, new_principal  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
MIGRATIONS = ROOT / "services" / "reporting" / "migrations"
WORDS = ["星辰", "云海", "华夏", "长城", "东方", "未来", "智慧", "蓝天", "青山", "金桥", "远航", "博雅", "鼎盛", "天元",
         "恒通", "瑞丰", "新锐", "卓越", "启明", "光华", "盛世", "锦程", "汇通", "宏图", "腾飞", "安信", "嘉禾", "众诚",
         "凌云", "海纳", "明德", "润泽", "同心", "志远", "和信", "正源", "优品", "康达", "聚力", "晨曦"]
ASCII = ["star", "sea", "cathay", "wall", "east", "future", "smart", "sky", "hill", "bridge"]
METHODS = ["LEASED_LINE", "COLOCATION", "VIRTUAL_HOST", "OTHER", "CLOUD"]
CONTENT = [r["code"] for r in codes.rows("service_content")]
PROVIDERS = 300
START = dt.datetime(2019, 1, 1, tzinfo=dt.UTC)
SPAN = (dt.datetime(2026, 12, 1, tzinfo=dt.UTC) - START).total_seconds()
IP_BASE = 167772160  # 10.0.0.0, one /29 per website


def provinces() -> list[tuple[str, str]]:
    return [(f"{r['gb2260']}0000", r["filing_abbr"]) for r in codes.filing_provinces()]


def website_row(i: int, rnd: random.Random, provs: list[tuple[str, str]]) -> tuple[tuple, tuple]:
    subject = i // 2
    gb, abbr = provs[(subject * 7919) % len(provs)] if subject % 3 else provs[subject % 6]  # six heavier ones
    approved = START + dt.timedelta(seconds=rnd.random() * SPAN)
    cancelled = approved + dt.timedelta(days=rnd.randint(1, 600)) if rnd.random() < 0.05 else None
    if cancelled and cancelled > dt.datetime(2026, 12, 5, tzinfo=dt.UTC):
        cancelled = None
    provider = f"bp{subject % PROVIDERS}"
    subject_no = f"{abbr}ICP备{approved.year}{subject % 1000000:06d}号"
    website_no = f"{subject_no}-{i % 2 + 1}"
    wid = uuid.UUID(int=(0x5EED << 100) | i)
    methods = sorted({METHODS[i % 5], METHODS[(i // 7) % 5]}) if i % 4 == 0 else [METHODS[i % 5]]
    nature = "PERSONAL" if subject % 5 == 0 else ("ENTERPRISE" if subject % 7 else "INSTITUTION")
    row = (
        wid, uuid.UUID(int=(0x5EB << 100) | subject), 1, website_no, subject_no,
        f"{WORDS[i % 40]}{WORDS[(i // 40) % 40]}网{i % 1000}", f"{WORDS[subject % 40]}{WORDS[(subject // 40) % 40]}"
        f"{subject}科技有限公司", nature, f"9111{subject:014d}", gb, "PROXY" if i % 3 else "SELF",
        "CANCELLED" if cancelled else "ACTIVE", "ACTIVE", [f"w{i}.{ASCII[i % 10]}{i % 5000}.cn"],
        [f"www.w{i}.{ASCII[i % 10]}{i % 5000}.cn"], [CONTENT[i % len(CONTENT)]], ["ZH_HANS"], [],
        [] if cancelled else methods, methods, [] if cancelled else ["BJ"], ["张三"],
        [] if cancelled else [provider], approved, cancelled, model.cert_code(str(wid), website_no), [provider],
    )
    ips = None if cancelled else (wid, provider, IP_BASE + i * 8, IP_BASE + i * 8 + 7)
    return row, ips


COLUMNS = ("website_id", "subject_id", "state_version", "website_no", "subject_no", "name", "sponsor_name", "nature",
           "cert_number", "province", "filing_method", "status", "subject_status", "domains", "home_urls",
           "service_content", "languages", "preapproval_types", "access_methods", "stat_access_methods",
           "server_locations", "principal_names", "provider_ids", "approved_at", "cancelled_at", "cert_code",
           "stat_provider_ids")


# the same arithmetic as the trigger of migration 013 (and its back-fill), for the whole table at once
COUNTERS_SQL = """
INSERT INTO website_daily
SELECT d, province, nature, filing_method, sum(s), sum(a) FROM (
    SELECT (approved_at AT TIME ZONE 'Asia/Shanghai')::date AS d, province, nature, filing_method, 1 AS s, 1 AS a
      FROM websites
    UNION ALL
    SELECT (cancelled_at AT TIME ZONE 'Asia/Shanghai')::date, province, nature, filing_method, -1, 0 FROM websites
     WHERE cancelled_at IS NOT NULL) x
GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0 OR sum(a) <> 0;
INSERT INTO website_monthly
SELECT date_trunc('month', day)::date, province, nature, filing_method, sum(delta), sum(approved) FROM website_daily
GROUP BY 1, 2, 3, 4 HAVING sum(delta) <> 0 OR sum(approved) <> 0;
SELECT website_access_counts_fill();  -- migration 020
"""


async def load(dsn: str, n: int) -> float:
    """Bulk-load `n` websites: indexes dropped, COPY in batches, indexes rebuilt, ANALYZE."""
    t0 = time.perf_counter()
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "reporting,public"})
    try:
        defs = await conn.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'reporting' "
                                "AND tablename IN ('websites', 'website_ips') AND indexname NOT LIKE '%pkey'")
        for d in defs:
            await conn.execute(f'DROP INDEX reporting."{d["indexname"]}"')
        # the counters are filled in one statement after the load (the trigger would do it row by row)
        await conn.execute("ALTER TABLE websites DISABLE TRIGGER websites_count, DISABLE TRIGGER websites_access_count")
        rnd, provs = random.Random(7), provinces()
        batch = 50_000
        for start in range(0, n, batch):
            rows, ips = [], []
            for i in range(start, min(n, start + batch)):
                r, ip = website_row(i, rnd, provs)
                rows.append(r)
                if ip:
                    ips.append(ip)
            await conn.copy_records_to_table("websites", records=rows, columns=COLUMNS)
            await conn.copy_records_to_table(
                "website_ips", records=[(w, p, asyncpg.Range(Decimal(lo), Decimal(hi), upper_inc=True))
                                        for w, p, lo, hi in ips],
                columns=("website_id", "provider_id", "ips"))
        await conn.execute("ALTER TABLE websites ENABLE TRIGGER websites_count, ENABLE TRIGGER websites_access_count")
        await conn.execute(COUNTERS_SQL)
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for d in defs:
            await conn.execute(d["indexdef"])
        # as autovacuum leaves a table that has been in use: statistics and the visibility map
        await conn.execute("VACUUM (ANALYZE) reporting.websites")
        await conn.execute("VACUUM (ANALYZE) reporting.website_ips")
        await conn.execute("INSERT INTO providers (provider_id, name, province, updated_at) "
                           "SELECT 'bp' || k, '压测接入商' || k, 'BJ', now() FROM generate_series(0, $1) k", PROVIDERS)
    finally:
        await conn.close()
    return time.perf_counter() - t0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def summary(xs: list[float]) -> dict:
    return {"p50_ms": round(pct(xs, 50), 1), "p99_ms": round(pct(xs, 99), 1), "max_ms": round(max(xs), 1)}


def who(role: str, **kw):
    return new_principal(user_id="bench", role=Role(role), username="bench", ttl=3600, **kw)


async def bench_queries(pool, n: int, rounds: int) -> dict:
    admin = who("admin")
    provs = provinces()
    rnd = random.Random(11)
    codes_by_gb = {f"{r['gb2260']}0000": r["code"] for r in codes.filing_provinces()}

    async def listing(principal, **cond):
        rows, total, _ = await store.list_filings(pool, principal, FilingQuery(**cond))
        [views.filing_item(r) for r in rows]
        return total

    cases = {
        "combined: one province (bureau)": lambda: listing(who("bureau", province=codes_by_gb[rnd.choice(provs)[0]])),
        "combined: one province (admin filter)": lambda: listing(admin, province=rnd.choice(provs)[0]),
        "combined: website name, 1 character": lambda: listing(admin, website_name=rnd.choice("".join(WORDS))),
        "combined: website name, 2 characters": lambda: listing(admin, website_name=rnd.choice(WORDS)),
        "combined: website name, 4 characters": lambda: listing(admin, website_name=rnd.choice(WORDS) + rnd.choice(WORDS)),
        "combined: sponsor name, 2 characters": lambda: listing(admin, sponsor_name=rnd.choice(WORDS)),
        "combined: sponsor name, 4 characters": lambda: listing(admin, sponsor_name=rnd.choice(WORDS) + rnd.choice(WORDS)),
        "combined: domain": lambda: listing(admin, domain=(lambda i: f"w{i}.{ASCII[i % 10]}{i % 5000}.cn")(
            rnd.randrange(n))),
        "combined: IP in a filed range": lambda: listing(admin, ip=str(__import__("ipaddress").ip_address(
            IP_BASE + rnd.randrange(n) * 8 + 3))),
        "combined: one provider's list": lambda: listing(who("provider", provider_id=f"bp{rnd.randrange(PROVIDERS)}")),
        "statistics: by province, nationwide": lambda: stats_store.compute(pool, admin, StatisticsQuery(
            cutoff=dt.date(2026, 3, 15) - dt.timedelta(days=rnd.randrange(300)))),
        "statistics: by access method, one bureau": lambda: stats_store.compute(
            pool, who("bureau", province=codes_by_gb[rnd.choice(provs)[0]]),
            StatisticsQuery(cutoff=dt.date(2026, 3, 15), group_by="access_method")),
        "statistics: by month, one province": lambda: stats_store.compute(pool, admin, StatisticsQuery(
            cutoff=dt.date(2026, 3, 15), group_by="month", province=rnd.choice(provs)[0])),
        "statistics: by month, nationwide": lambda: stats_store.compute(pool, admin, StatisticsQuery(
            cutoff=dt.date(2026, 3, 15), group_by="month")),
        "statistics: one provider by province": lambda: stats_store.compute(
            pool, who("provider", provider_id=f"bp{rnd.randrange(PROVIDERS)}"), StatisticsQuery(
                cutoff=dt.date(2026, 3, 15))),
    }
    out = {}
    for name, fn in cases.items():
        for _ in range(3):
            await fn()
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            await fn()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = summary(times)
        print(f"  {name:45s} {out[name]}", flush=True)
    return out


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: starts afresh at exec, unlike ru_maxrss, which a child inherits)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU-seconds of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backends_cpu(pool) -> float:
    """CPU-seconds of this database's PostgreSQL backends (the server is local; the bench has it alone)."""
    pids = await pool.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    total = 0.0
    for r in pids:
        try:
            total += cpu_seconds(r["pid"])
        except OSError:
            pass
    return total


# the export path before the changes of 2026-12-06 (the reference "before" in the same run): the page's
# row view of each row, formatted in Python, written cell by cell
VIEW_COLUMNS = [
    lambda r: r["website_no"], lambda r: r["subject_no"], lambda r: r["sponsor_name"], lambda r: r["nature_name"],
    lambda r: r["province_name"], lambda r: r["website_name"], lambda r: "；".join(r["domains"]),
    lambda r: "；".join(r["home_urls"]), lambda r: "、".join(r["service_content_names"]),
    lambda r: "、".join(r["access_method_names"]), lambda r: r["filing_method_name"], lambda r: r["status_name"],
    lambda r: r["approved_at"].date().isoformat() if r["approved_at"] else "",
]


async def view_rows(pool, principal, q):
    async for rows in store.stream_filings(pool, principal, q):
        yield [[fn(item) for fn in VIEW_COLUMNS] for item in map(views.filing_item, rows)]


class PerCellXlsx(XlsxStream):
    def rows(self, batch):
        self._out.write("".join(f"<row>{''.join(map(xlsx_stream._cell, row))}</row>" for row in batch).encode())
        return self._sink.take()


async def export_once(pool, rows_of, q, writer=XlsxStream) -> dict:
    """One export through xlsx_chunks (the bytes the HTTP response would send, in its order)."""
    count = size = 0

    async def batches():
        nonlocal count
        async for chunk in rows_of(pool, who("admin"), q):
            count += len(chunk)
            yield chunk

    saved, export.XlsxStream = export.XlsxStream, writer
    try:
        t, cpu, server = time.perf_counter(), cpu_seconds(), await backends_cpu(pool)
        async for data in export.xlsx_chunks("备案信息", [(a, b) for a, b, _ in export.FILING_COLUMNS], batches()):
            size += len(data)
        seconds, cpu, server = time.perf_counter() - t, cpu_seconds() - cpu, await backends_cpu(pool) - server
    finally:
        export.XlsxStream = saved
    return {"rows": count, "seconds": round(seconds, 2), "rows_per_s": round(count / seconds),
            "cpu_s_per_100k": round(cpu * 100_000 / count, 2), "server_cpu_s_per_100k": round(server * 100_000 / count, 2),
            "file_mb": round(size / 2**20, 1)}


async def export_child(dsn: str, rows: int) -> dict:
    """In a process of its own: export `rows` rows (the first of the admin's list) to .xlsx; then the same
    rows through the former path, and references (writers alone, openpyxl) on the same machine load."""
    pool = await db.create_pool(dsn, "reporting", min_size=1, max_size=2)
    base = peak_rss_mb()
    q = FilingQuery(approved_to=dt.date(2026, 12, 31))
    w = store.filing_where(who("admin"), q)
    cutoff = await pool.fetchval(f"SELECT approved_at FROM websites w WHERE {w.sql()} ORDER BY approved_at ASC "
                                 f"OFFSET {rows - 1} LIMIT 1", *w.params)
    q = FilingQuery(approved_to=cutoff.date(), order="asc")
    out = {"now": await export_once(pool, export.filing_rows, q)}
    out["peak_rss_mb"], out["rss_before_mb"] = round(peak_rss_mb(), 1), round(base, 1)
    out["before"] = await export_once(pool, view_rows, q, PerCellXlsx)
    out["now_again"] = await export_once(pool, export.filing_rows, q)
    # the writers alone on 20,000 rows already in memory, and openpyxl's write-only mode on the same rows
    sample = []
    async for chunk in export.filing_rows(pool, who("admin"), FilingQuery(page_size=20)):
        sample = chunk
        break
    await pool.close()
    reps = max(1, 20_000 // len(sample))
    headers = [(a, b) for a, b, _ in export.FILING_COLUMNS]

    def writer_rate(cls) -> tuple[float, float]:
        t, cpu = time.perf_counter(), cpu_seconds()
        x = cls("x", [b for _, b in headers])
        x.start([a for a, _ in headers])
        for _ in range(reps):
            x.rows(sample)
        x.finish()
        return reps * len(sample) / (time.perf_counter() - t), reps * len(sample) / max(cpu_seconds() - cpu, 1e-3)

    ours, before = writer_rate(XlsxStream), writer_rate(PerCellXlsx)
    t, cpu = time.perf_counter(), cpu_seconds()
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append([a for a, _ in headers])
    for _ in range(reps):
        for row in sample:
            ws.append(row)
    wb.save(io.BytesIO())
    ref = reps * len(sample) / (time.perf_counter() - t), reps * len(sample) / max(cpu_seconds() - cpu, 1e-3)
    for name, (wall, per_cpu) in (("writer_only", ours), ("writer_only_before", before), ("openpyxl_write_only", ref)):
        out[f"{name}_rows_per_s"], out[f"{name}_rows_per_cpu_s"] = round(wall), round(per_cpu)
    out["ratio_to_openpyxl"] = {"now": round(out["now"]["rows_per_s"] / ref[0], 2),
                                "before": round(out["before"]["rows_per_s"] / ref[0], 2)}
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def freshness(dsn: str, url: str, count: int) -> dict:
    """A filing.record.changed committed into an outbox → relay → RabbitMQ → reporting worker → query."""
    from shared.contracts.filing import (
        AccessState,
        FiledRecordChanged,
        FiledWebsite,
        PrincipalSnapshot,
        SubjectSnapshot,
    )
    from shared.outbox import Outbox, OutboxRelay
    from shared.topology import build_topology
    from shared.transports.amqp import AmqpTransport

    await db.migrate(dsn, "filing", None)  # the producer's platform tables (outbox), as filing has them
    port = free_port()
    env = dict(os.environ, ICP_ENV="dev", ICP_DATABASE_URL=dsn, ICP_AMQP_URL=url, ICP_LOG_LEVEL="warning",
               ICP_LOG_FORMAT="json", ICP_OUTBOX_POLL_INTERVAL="0.5")
    proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", "reporting", "--worker", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    transport = AmqpTransport(url)
    await transport.start(build_topology(("reporting",), delivery_limit=20, retry_delays=[1]))
    fpool = await db.create_pool(dsn, "filing", min_size=1, max_size=2)
    rpool = await db.create_pool(dsn, "reporting", min_size=1, max_size=2)
    relay = OutboxRelay(fpool, dsn, "filing", transport, batch=500, poll_interval=0.5)
    relay.start()
    outbox = Outbox("filing")
    delays = []
    try:
        import aiohttp

        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/reporting/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        p = PrincipalSnapshot(name="新鲜", id_type="RESIDENT_ID", id_number_masked="1101**********0011", mobile="1")
        for k in range(count):
            sid, wid = str(uuid.uuid4()), str(uuid.uuid4())
            no = f"京ICP备2099{k:06d}号"
            now = dt.datetime.now(dt.UTC)
            event = FiledRecordChanged(
                subject_id=sid, seq=1, provider_id="bp1", subject_no=no, name="新鲜度主体", status="ACTIVE",
                province="110000", cert_type="BIZ_LICENSE", cert_digest="x", cert_number_masked="x",
                subject=SubjectSnapshot(subject_id=sid, subject_no=no, nature="ENTERPRISE", cert_type="BIZ_LICENSE",
                                        cert_number="x", name="新鲜度主体", province="110000", principal=p),
                websites=[FiledWebsite(website_id=wid, website_no=no + "-1", name="新鲜度网站", status="ACTIVE",
                                       domains=[f"fresh{k}.example.cn"], principal=p, approved_at=now,
                                       accesses=[AccessState(provider_id="bp1", access_methods=["CLOUD"],
                                                             ip_ranges=["192.0.2.1-192.0.2.1"],
                                                             server_locations=["BJ"], status="ACTIVE")])],
                changed_at=now, approved_at=now, cause="FIRST_FILING")
            async with fpool.acquire() as conn, conn.transaction():
                await outbox.add(conn, event, provider_id="bp1")
            t = time.perf_counter()
            q = FilingQuery(number=no + "-1")
            while True:
                rows, _, _ = await store.list_filings(rpool, who("provider", provider_id="bp1"), q)
                if rows:
                    break
                await asyncio.sleep(0.002)
            delays.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.02)
    finally:
        await relay.stop(5)
        await transport.close()
        await fpool.close()
        await rpool.close()
        proc.terminate()
        proc.wait(20)
    return summary(delays)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--websites", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--export-rows", type=int, default=100_000)
    ap.add_argument("--fresh", type=int, default=200)
    ap.add_argument("--parts", default="queries,export,fresh", help="what to measure (comma-separated)")
    ap.add_argument("--child-export", help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help="keep the database (and print its DSN) for a closer look")
    ap.add_argument("--dsn", help="measure a database kept by an earlier --keep run (no load; kept again)")
    args = ap.parse_args()
    logs.configure("warning", "console")
    if args.child_export:
        print(json.dumps(await export_child(args.child_export, args.export_rows)))
        return
    run = uuid.uuid4().hex[:8]
    dbname = vhost = args.dsn.rsplit("/", 1)[1] if args.dsn else f"icp_bench_rep_{run}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    if args.dsn:
        args.keep = True
    else:
        await admin.execute(f'CREATE DATABASE "{dbname}"')
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True)
    dsn, url = f"{PG}/{dbname}", f"{AMQP}/{vhost}"
    results: dict = {"websites": args.websites}
    try:
        if not args.dsn:
            await db.migrate(dsn, "reporting", MIGRATIONS)
            results["load_s"] = round(await load(dsn, args.websites), 1)
            print(f"loaded {args.websites} websites in {results['load_s']} s", flush=True)
        results["load_average"] = os.getloadavg()
        parts = set(args.parts.split(","))
        if "queries" in parts:
            pool = await db.create_pool(dsn, "reporting", min_size=2, max_size=4)
            results["queries"] = await bench_queries(pool, args.websites, args.rounds)
            await pool.close()
        if "export" in parts:
            child = subprocess.run([sys.executable, __file__, "--child-export", dsn, "--export-rows",
                                    str(args.export_rows)], capture_output=True, text=True, check=True, cwd=ROOT)
            results["export"] = json.loads(child.stdout.strip().splitlines()[-1])
            print(f"  export {results['export']}", flush=True)
        results["load_average_after"] = os.getloadavg()
        if args.fresh and "fresh" in parts:
            results["freshness"] = await freshness(dsn, url, args.fresh)
            print(f"  freshness {results['freshness']}", flush=True)
    finally:
        if args.keep:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
            print(f"kept {dsn}")
        else:
            await admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'")
            await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        await admin.close()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
    print(json.dumps(results, ensure_ascii=False, default=str))


if __name__ == "__main__":
    asyncio.run(main())
