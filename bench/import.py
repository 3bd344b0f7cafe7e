"""Batch import end to end: upload an .xlsx of N website rows → job COMPLETED → credentials workbook
downloaded; rows/s and the peak RSS of the importer process, beside the floor measured in the same
run on the same file (a raw streaming read of the sheets + PostgreSQL COPY of the same rows).

    .venv/bin/python bench/import.py [--rows 10000 100000] [--per-subject 2] [--importer-workers N]

The services run as child processes (`icp serve filing|verification|importer`, role all) on a
throwaway database and RabbitMQ vhost of the local servers (127.0.0.1), removed afterwards. With
`--importer-workers N` the importer runs as `icp serve importer --api` plus N `icp serve importer --worker`
processes (competing consumers of the validation chunks). Every service process's RSS is sampled every
100 ms (peak per process). Workbooks are cached in /tmp (generation is not timed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp
import asyncpg
import psutil
from openpyxl import Workbook
from openpyxl.utils import quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from python_calamine_plus import CalamineWorkbook

from bench.submit import free_port, rabbitmqctl, token, wait_http
from services.importer import columns as C
from shared import validate as v

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")


# ------------------------------------------------------------------ the workbook


def _uscc(i: int) -> str:
    body = f"{i:08d}"
    first17 = "91440300" + body + v.org_code_check_char(body)
    return first17 + v.uscc_check_char(first17)


def make_workbook(rows: int, per_subject: int) -> Path:
    path = Path(f"/tmp/icp-bench-import-v2-{rows}-{per_subject}.xlsx")
    if path.exists():
        return path
    first17 = "11010519800101123"
    rid = first17 + v.resident_id_check_char(first17)
    wb = Workbook(write_only=True)
    subjects = (rows + per_subject - 1) // per_subject
    ws_s = wb.create_sheet(C.SUBJECT_SHEET)
    ws_s.append([c.key for c in C.SUBJECT_COLUMNS])
    ws_s.append([c.label for c in C.SUBJECT_COLUMNS])
    base = rows  # files of different sizes share no certificate, mobile or domain
    for i in range(subjects):
        ws_s.append([
            f"S{i:06d}", "企业", "营业执照（个人或企业）", _uscc(base + i), f"深圳市测试科技有限公司{i}", "广东省", "440300",
            "440305", "深圳市南山区科技园路1号", "科技园路1号A座101室", "张三", "", "张三", "居民身份证", rid,
            "2020-01-01", "长期", f"13{base + i:09d}", "", f"15{base + i:09d}", f"u{i}@example.com",
        ])
    ws_w = wb.create_sheet(C.WEBSITE_SHEET)
    ws_w.append([c.key for c in C.WEBSITE_COLUMNS])
    ws_w.append([c.label for c in C.WEBSITE_COLUMNS])
    blank_principal = [""] * 9
    for r in range(rows):
        i = r // per_subject
        ws_w.append([
            f"S{i:06d}", "网站", "测试科技官网", f"b{rows}x{r}.com", f"www.b{rows}x{r}.com", "单位门户网站", "以上都不涉及",
            "", "中文简体", "", "是", *blank_principal, "云接入", "203.0.113.10-203.0.113.20", "广东省",
        ])
    meta = wb.create_sheet(C.META_SHEET)
    meta.append(["模板版本", C.TEMPLATE_VERSION])
    meta.sheet_state = "hidden"
    wb.defined_names[C.VERSION_NAME] = DefinedName(C.VERSION_NAME, attr_text=f"{quote_sheetname(C.META_SHEET)}!$B$1")
    wb.save(path)
    return path


# ------------------------------------------------------------------ the floor


async def floor(path: Path, dsn: str) -> dict:
    t0 = time.perf_counter()
    wb = CalamineWorkbook.from_path(str(path))
    staged = []
    for sheet in (C.SUBJECT_SHEET, C.WEBSITE_SHEET):
        for row in wb.stream_sheet_by_name(sheet, min_row=2):
            staged.append((sheet, [str(x) for x in row]))
    read_s = time.perf_counter() - t0
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TEMP TABLE floor_rows (sheet text, cells text[])")
        t1 = time.perf_counter()
        await conn.copy_records_to_table("floor_rows", records=staged)
        copy_s = time.perf_counter() - t1
    finally:
        await conn.close()
    return {"read_s": read_s, "copy_s": copy_s, "floor_s": read_s + copy_s, "rows": len(staged)}


# ------------------------------------------------------------------ the system


def spawn(service: str, port: int, env: dict, *role: str) -> subprocess.Popen:
    name = service + ("-" + role[0].lstrip("-") if role else "")
    log = open(f"/tmp/icp-bench-{name}-{port}.log", "w")  # noqa: SIM115 - the child's, for its lifetime
    # the services log to stdout: kept with ICP_BENCH_LOG_LEVEL (e.g. info, for each chunk's timing)
    out = log if os.environ.get("ICP_BENCH_LOG_LEVEL") else subprocess.DEVNULL
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/icp"), "serve", service, "--port", str(port), *role],
        env=env, cwd=ROOT, stdout=out, stderr=log, start_new_session=True,
    )


def py_spy(directory: str | None, pids: dict[str, int]) -> list[subprocess.Popen]:
    """With `--profile DIR`: py-spy (`pip install py-spy`, not a dependency of the project) samples every
    service process from the upload to the last case opened into DIR/<process>.spy (collapsed stacks, one
    per line with its sample count; idle time not sampled, so the samples are the process's CPU)."""
    if not directory:
        return []
    Path(directory).mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    return [subprocess.Popen([str(spy), "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
                              "--output", f"{directory}/{name}.spy", "--nonblocking"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name, pid in pids.items()]


def stop_spies(spies: list[subprocess.Popen]) -> None:
    for p in spies:
        p.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    for p in spies:
        p.wait(timeout=60)


async def one_run(rows: int, per_subject: int, base: dict[str, str], pids: dict[str, int], dsn: str,
                  profile: str | None = None) -> dict:
    path = make_workbook(rows, per_subject)
    fl = await floor(path, dsn)
    pid = "bench" + uuid.uuid4().hex[:8]
    admin = {"Authorization": f"Bearer {token('admin')}"}
    prov = {"Authorization": f"Bearer {token('provider', user_id='bench-op', provider_id=pid)}"}
    services = {name: psutil.Process(p) for name, p in pids.items()}
    # the broker the services use (the one listening on the AMQP port; tests may run private nodes)
    amqp_port = int(AMQP.rsplit(":", 1)[1].split("/")[0])
    brokers = [psutil.Process(c.pid) for c in psutil.net_connections("tcp")
               if c.status == psutil.CONN_LISTEN and c.laddr.port == amqp_port and c.pid]
    cpu_at: dict[str, dict[str, float]] = {}  # CPU seconds (user + system) per service when a phase began

    # PostgreSQL backends of the services (same host), by pid: (service, process, CPU seconds last read); a
    # backend that exited (pools close idle connections) keeps its last reading, so no phase goes negative
    backends: dict[int, list] = {}
    monitor = await asyncpg.connect(dsn)

    async def cpu() -> dict[str, float]:
        # user + system, with the process's children once they ended (the reading's sheet process)
        out = {name: sum(p.cpu_times()[:4]) for name, p in services.items()}
        # the whole host (busy time of every core): what the services' rows leave out is RabbitMQ,
        # PostgreSQL's background work (WAL writer, checkpoints, autovacuum), and anyone else here
        t = psutil.cpu_times()
        out["~host"] = t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)
        out["~rabbitmq"] = sum(sum(p.cpu_times()[:2]) for p in brokers)  # shared with anyone else's vhosts
        # one monitoring connection for the run (max_connections is shared with everyone's tests)
        for r in await monitor.fetch("SELECT pid, application_name FROM pg_stat_activity WHERE datname = "
                                     "current_database() AND application_name LIKE 'icp-%'"):
            if r["pid"] not in backends:
                with contextlib.suppress(psutil.Error):
                    backends[r["pid"]] = ["pg " + r["application_name"][4:], psutil.Process(r["pid"]), 0.0]
        for key in {"pg " + k for k in pids if "-worker-" not in k} | {b[0] for b in backends.values()}:
            out[key] = 0.0  # every importer process's backends are "pg importer" (one application name)
        for b in backends.values():
            if b[1] is not None:
                try:
                    b[2] = sum(b[1].cpu_times()[:2])
                except psutil.Error:
                    b[1] = None  # exited: its last reading stays
            out[b[0]] += b[2]
        return out

    peaks = {name: p.memory_info().rss for name, p in services.items()}

    def sample() -> None:
        for name, p in services.items():
            with contextlib.suppress(psutil.Error):
                peaks[name] = max(peaks[name], p.memory_info().rss)

    phases: dict[str, float] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as s:
        async with s.post(f"{base['filing']}/api/filing/providers", headers=admin,
                          json={"name": "压测接入商", "province": "GD", "provider_id": pid}) as r:
            assert r.status == 201, await r.text()
        await asyncio.sleep(1)  # the provider event reaches the importer
        data = path.read_bytes()
        spies = py_spy(profile, pids)
        t0 = time.perf_counter()
        cpu_at["START"] = await cpu()
        form = aiohttp.FormData()
        form.add_field("file", data, filename="bench.xlsx")
        async with s.post(f"{base['importer']}/api/importer/jobs", data=form, headers=prov) as r:
            body = await r.json()
            assert r.status == 202, body
        accepted = time.perf_counter() - t0
        job = body["job_id"]
        status = body["status"]
        last_poll = 0.0
        while True:
            sample()
            now = time.perf_counter()
            if now - last_poll > 0.5:
                last_poll = now
                async with s.get(f"{base['importer']}/api/importer/jobs/{job}", headers=prov) as r:
                    body = await r.json()
                if body["status"] != status:
                    status = body["status"]
                    phases[status] = now - t0
                    cpu_at[status] = await cpu()
                if status in ("COMPLETED", "REJECTED", "FAILED"):
                    break
            await asyncio.sleep(0.1)
        if status != "COMPLETED":
            raise SystemExit(f"job ended {status}: {body.get('message')} {body.get('errors', [])[:3]}")
        async with s.get(f"{base['importer']}/api/importer/jobs/{job}/result", headers=prov) as r:
            result = await r.read()
            assert r.status == 200
        total = time.perf_counter() - t0
    # verification opens a case per imported subject (filing.application.submitted): wait until it caught up
    conn = monitor
    try:
        while time.perf_counter() - t0 < total + 300:
            n = await conn.fetchval("SELECT count(*) FROM verification.cases WHERE provider_id = $1", pid)
            if n >= body["subjects_imported"]:
                phases["CASES_OPENED"] = time.perf_counter() - t0
                cpu_at["CASES_OPENED"] = await cpu()
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
        stop_spies(spies)
    conn = await asyncpg.connect(dsn)
    try:  # which importer process validated how many chunks (validation.on_validate_chunk)
        by_worker = {r["done_by"]: r["n"] for r in await conn.fetch(
            """SELECT v.done_by, count(*) AS n FROM importer.import_vchunks v JOIN importer.import_jobs j ON j.id = v.job_id
               WHERE j.provider_id = $1 GROUP BY 1 ORDER BY 1""", pid)}
    finally:
        await conn.close()
    pid_of = {p: name for name, p in pids.items()}
    vchunks = {pid_of.get(int(w.rsplit(":", 1)[1]), w) if w else "?": n for w, n in by_worker.items()}
    creds = sum(1 for _ in CalamineWorkbook.from_object(io.BytesIO(result)).stream_sheet_by_name("主办者账号")) - 1
    assert creds == body["subjects_imported"], (creds, body["subjects_imported"])
    names = list(cpu_at)
    cpu_s = {f"{a}→{b}": {k: round(cpu_at[b][k] - cpu_at[a].get(k, 0.0), 2) for k in cpu_at[b]} for a, b in zip(names, names[1:], strict=False)}
    total_cpu = {ph: sum(v for k, v in d.items() if not k.startswith("~")) for ph, d in cpu_s.items()}
    host_cpu = {ph: d.get("~host", 0.0) for ph, d in cpu_s.items()}
    return {
        "cpu_s": cpu_s, "total_cpu": total_cpu, "host_cpu": host_cpu, "vchunks": vchunks,
        "peak_rss_mb_by_process": {k: round(v / 1e6) for k, v in peaks.items()},
        "rows": rows, "subjects": body["subjects_imported"], "total_s": total, "accepted_s": accepted,
        "rows_per_s": rows / total,
        "peak_rss_mb": max(v for k, v in peaks.items() if k.startswith("importer")) / 1e6, "phases": phases, "floor": fl,
        "floor_rows_per_s": rows / fl["floor_s"], "x_floor": total / fl["floor_s"], "file_mb": len(data) / 1e6,
    }


async def teardown(procs: dict[str, subprocess.Popen], db: str, vhost: str) -> None:
    """Stop the spawned services (SIGTERM, then SIGKILL after 30 s) and drop the bench's database and vhost."""
    for p in procs.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await admin.close()
    rabbitmqctl("delete_vhost", vhost)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--per-subject", type=int, default=2, help="websites per subject")
    ap.add_argument("--filing-workers", type=int, default=0,
                    help="extra `icp serve filing --worker` processes (filing's consumers scale out)")
    ap.add_argument("--importer-workers", type=int, default=0,
                    help="run the importer as `--api` + N `--worker` processes (0: one process, role all)")
    ap.add_argument("--profile", metavar="DIR", help="py-spy every service process over the run into DIR/<process>.spy")
    args = ap.parse_args()
    run = uuid.uuid4().hex[:8]
    db, vhost = f"icp_bench_import_{run}", f"icp_bench_import_{run}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    dsn = f"{PG}/{db}"
    from bench import submit

    env = {**os.environ, "ICP_DATABASE_URL": dsn, "ICP_AMQP_URL": f"{AMQP}/{vhost}", "ICP_SECRET_KEY": submit.SECRET,
           "ICP_LOG_LEVEL": os.environ.get("ICP_BENCH_LOG_LEVEL", "warning"), "ICP_IMPORT_MAX_BYTES": str(64 * 1024 * 1024)}
    procs: dict[str, subprocess.Popen] = {}
    base: dict[str, str] = {}
    try:
        migrate = subprocess.run([str(ROOT / ".venv/bin/icp"), "migrate"], env=env, cwd=ROOT, capture_output=True)
        assert migrate.returncode == 0, migrate.stderr.decode()[-2000:]
        for service in ("filing", "verification", "importer"):
            port = free_port()
            role = ("--api",) if service == "importer" and args.importer_workers else ()
            procs[service] = spawn(service, port, env, *role)
            base[service] = f"http://127.0.0.1:{port}"
        for i in range(args.importer_workers):
            port = free_port()
            procs[f"importer-worker-{i + 1}"] = spawn("importer", port, env, "--worker")
            await wait_http(f"http://127.0.0.1:{port}/api/importer/healthz")
        for service, url in base.items():
            await wait_http(f"{url}/api/{service}/healthz")
        for i in range(args.filing_workers):
            port = free_port()
            procs[f"filing-worker-{i + 1}"] = spawn("filing", port, env, "--worker")
            await wait_http(f"http://127.0.0.1:{port}/api/filing/healthz")
        results = []
        print(f"load average at start: {os.getloadavg()}")
        for rows in args.rows:
            res = await one_run(rows, args.per_subject, base, {k: p.pid for k, p in procs.items()}, dsn, args.profile)
            results.append(res)
            f = res["floor"]
            print(f"{rows} rows ({res['subjects']} subjects, {res['file_mb']:.1f} MB): {res['total_s']:.1f} s end to end "
                  f"= {res['rows_per_s']:.0f} rows/s, importer peak RSS {res['peak_rss_mb']:.0f} MB; "
                  f"upload answered in {res['accepted_s'] * 1000:.0f} ms; phases {res['phases']}")
            print(f"    CPU seconds per service between status changes: {res['cpu_s']}")
            print("    CPU seconds per phase (all processes), ms per row: "
                  + ", ".join(f"{ph} {c:.1f} s = {c / rows * 1000:.3f}" for ph, c in res["total_cpu"].items()))
            print("    the host's busy CPU seconds per phase (every process; wall seconds × 2 cores is the most): "
                  + ", ".join(f"{ph} {c:.1f}" for ph, c in res["host_cpu"].items()))
            print(f"    validation chunks per importer process: {res['vchunks']}")
            print(f"    peak RSS per process (MB): {res['peak_rss_mb_by_process']}; load average now {os.getloadavg()}")
            print(f"    floor: read {f['read_s']:.2f} s + COPY {f['copy_s']:.2f} s = {f['floor_s']:.2f} s "
                  f"({res['floor_rows_per_s']:.0f} rows/s); end to end = {res['x_floor']:.1f}x the floor")
        print("\n| website rows | subjects | end to end | rows/s | floor (read + COPY) | × floor | importer peak RSS |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in results:
            f = r["floor"]
            print(f"| {r['rows']:,} | {r['subjects']:,} | {r['total_s']:.1f} s | {r['rows_per_s']:,.0f} | "
                  f"{f['read_s']:.2f} + {f['copy_s']:.2f} = {f['floor_s']:.2f} s | {r['x_floor']:.1f}× | "
                  f"{r['peak_rss_mb']:.0f} MB |")
    finally:
        await teardown(procs, db, vhost)


if __name__ == "__main__":
    asyncio.run(main())
