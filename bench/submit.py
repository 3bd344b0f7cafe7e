"""Submit throughput: complete first filings POSTed by concurrent clients against a running
`icp up`-style server, beside the floor (a bare aiohttp handler doing one asyncpg transaction
that inserts a row) measured in the same run with the same client.

    .venv/bin/python bench/submit.py [--clients 64] [--seconds 10] [--mode filings|wizard]
                                     [--services all|filing] [--log-level info]

Both servers are started by this script as child processes on a throwaway database and
RabbitMQ vhost of the local servers (127.0.0.1), removed afterwards. `--mode filings` posts
`POST /api/filing/filings` (a completed wizard in one request); `--mode wizard` walks the
wizard (create draft, subject, website, step, submit: 5 requests per filing) and reports
filings/s and the latency of the submit request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import psutil  # noqa: E402

# PostgreSQL to use: TCP by default; e.g. ICP_BENCH_PG='postgresql://postgres@/?host=/var/run/postgresql'
# for the Unix socket (both servers use the same DSN)
PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
SECRET = "bench-secret-" + uuid.uuid4().hex


# ------------------------------------------------------------------ the floor server


def floor_server(dsn: str, port: int) -> None:
    """A bare aiohttp handler: parse the JSON body, one transaction inserting one row, answer 201."""
    from aiohttp import web

    async def main() -> None:
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
        with contextlib.suppress(asyncpg.UniqueViolationError):  # two floor processes racing to create it
            await pool.execute(
                "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, body jsonb NOT NULL)")

        async def handle(request: web.Request) -> web.Response:
            body = await request.json()
            async with pool.acquire() as conn, conn.transaction():
                rid = await conn.fetchval("INSERT INTO bench_floor (body) VALUES ($1::jsonb) RETURNING id",
                                          json.dumps(body))
            return web.json_response({"id": rid}, status=201)

        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/floor", handle)
        app.router.add_get("/healthz", lambda _: web.json_response({"status": "ok"}))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_port=True).start()
        # the same garbage-collector tuning as the servers under test (shared.runtime.tune_gc)
        from shared.config import get_settings
        from shared.runtime import tune_gc

        tune_gc(get_settings().gc_thresholds)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()
        await pool.close()

    asyncio.run(main())


# ------------------------------------------------------------------ helpers


def with_db(base: str, name: str) -> str:
    """`base` (…/ or …?host=/socket/dir) pointed at database `name`."""
    head, sep, query = base.partition("?")
    return f"{head.rstrip('/')}/{name}{sep}{query}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


async def wait_http(url: str, limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as s:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with s.get(url) as r:
                    if r.status == 200:
                        return
            if time.monotonic() > deadline:
                raise SystemExit(f"server at {url} did not become ready")
            await asyncio.sleep(0.2)


def token(role: str, **kw) -> str:
    from shared.auth import Role, issue_token, new_principal

    p = new_principal(user_id=kw.pop("user_id", "bench"), role=Role(role), username="bench", ttl=7200, **kw)
    return issue_token(SECRET, p)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# ------------------------------------------------------------------ load


def cpu_seconds(servers: list[int], pg_backends: dict[int, str] | None = None) -> dict:
    """CPU seconds (user + system) so far of: the server processes under test, this client, the
    PostgreSQL backends serving the bench database (`pg_backends`: pid → application name, e.g.
    `icp-filing`), every other PostgreSQL process (WAL writer, checkpointer, and the other
    databases of this shared server) and RabbitMQ (shared too). Each bench backend's figure is kept
    under (pid, application), so that one that starts during the window counts from zero."""
    out: dict = {"server": 0.0, "client": 0.0, "postgres": 0.0, "rabbitmq": 0.0}
    backends = pg_backends or {}
    for p in psutil.process_iter(["pid", "name"]):
        try:
            pid = p.info["pid"]
            if pid in servers:
                key = "server"
            elif pid == os.getpid():
                key = "client"
            elif pid in backends:
                out[(pid, backends[pid])] = sum(p.cpu_times()[:2])
                continue
            elif p.info["name"] == "postgres":  # per pid: the others' backends come and go
                out[("pg_other", pid)] = sum(p.cpu_times()[:2])
                continue
            elif p.info["name"] == "beam.smp":
                key = "rabbitmq"
            else:
                continue
            out[key] += sum(p.cpu_times()[:2])
        except psutil.Error:
            continue
    return out


def cpu_delta(before: dict, after: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Per part: server, client, pg_db (the bench database's backends), pg_other, rabbitmq; and
    pg_db by the backends' application name (`icp-<schema>`: which service's queries)."""
    out = {"server": 0.0, "client": 0.0, "pg_db": 0.0, "pg_other": 0.0, "rabbitmq": 0.0}
    by_app: dict[str, float] = {}
    for k, v in after.items():
        if isinstance(k, tuple) and k[0] == "pg_other":
            out["pg_other"] += v - before.get(k, 0.0)
        elif isinstance(k, tuple):
            d = v - before.get(k, 0.0)
            out["pg_db"] += d
            app = k[1].removeprefix("icp-") or "other"
            by_app[app] = by_app.get(app, 0.0) + d
        else:
            out["pg_other" if k == "postgres" else k] += v - before.get(k, 0.0)
    return out, by_app


async def db_backends(db: str | None) -> dict[int, str]:
    """The bench database's backends: pid → application name."""
    if not db:
        return {}
    conn = await asyncpg.connect(with_db(PG, "postgres"))
    try:
        rows = await conn.fetch(
            "SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db)
        return {r[0]: r[1] or "" for r in rows}
    finally:
        await conn.close()


async def settle(dsn: str, services: str, limit: float = 600) -> float:
    """Wait until what the last run submitted has gone through: filing's outbox published and, with
    every service up, a verification case and a reporting row for every application. Returns the seconds
    waited. Without it a run after a saturation run measured the consumers' backlog of the one before
    (their CPU and their competition for the two cores: the floor's second run showed reporting's and
    verification's backends)."""
    sql = "SELECT (SELECT count(*) FROM filing.outbox WHERE published_at IS NULL) = 0"
    if services == "all":
        sql += (" AND (SELECT count(*) FROM filing.applications)"
                " = (SELECT count(*) FROM verification.cases)"
                " AND (SELECT count(*) FROM filing.applications)"
                " = (SELECT count(*) FROM reporting.applications)")
    t0 = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        while not await conn.fetchval(sql):
            if time.perf_counter() - t0 > limit:
                raise SystemExit(f"the backlog did not drain in {limit:.0f} s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return time.perf_counter() - t0


async def run_load(name: str, clients: int, seconds: float, warmup: float, one,
                   servers: list[int] | None = None, rate: float | None = None, db: str | None = None,
                   on_window=None) -> dict:
    """`clients` closed-loop workers calling `one(session, i) -> (ok, latency)` until time is up;
    with `servers` (pids), the CPU of each part per request in the measured window.

    With `rate`, the workers are paced instead: request i is due at start + i / rate, a worker
    waits for its request's due time, and the latency counts from the due time, not from when a
    worker got round to sending it — a request that waited because all `clients` were busy is
    charged for the wait (no coordinated omission, as wrk2 measures)."""
    latencies: list[float] = []
    errors = 0
    samples: list[str] = []
    counter = 0
    connector = aiohttp.TCPConnector(limit=clients, limit_per_host=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        t0 = time.perf_counter()
        measure_from = t0 + warmup
        stop_at = measure_from + seconds
        done_in_window = 0
        last_end = stop_at

        async def worker() -> None:
            nonlocal counter, errors, done_in_window, last_end
            while True:
                now = time.perf_counter()
                if now >= stop_at:
                    return
                counter += 1
                if rate is None:
                    ok, lat, note = await one(session, counter)
                    end = time.perf_counter()
                else:
                    due = t0 + counter / rate
                    if due >= stop_at:
                        return
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    ok, _, note = await one(session, counter)
                    end = time.perf_counter()
                    lat = end - due
                    now, end = due, max(end, due)
                    if due < measure_from:
                        continue
                    last_end = max(last_end, end)  # a paced run that falls behind ends late
                if end < measure_from or now >= stop_at:
                    continue
                if ok:
                    latencies.append(lat)
                    done_in_window += 1
                else:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(note)

        async def cpu_window() -> dict[str, float]:
            await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
            if on_window is not None:
                await on_window()
            before = cpu_seconds(servers or [], await db_backends(db))
            await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
            after = cpu_seconds(servers or [], await db_backends(db))
            return cpu_delta(before, after)

        *_, (cpu, by_app) = await asyncio.gather(*(worker() for _ in range(clients)), cpu_window())
    n = max(1, done_in_window)
    return {
        "cpu_ms_per_request": {k: v * 1000 / n for k, v in cpu.items()} if servers else None,
        "pg_db_ms_by_service": {k: v * 1000 / n for k, v in sorted(by_app.items())} if servers else None,
        "name": name,
        "requests": done_in_window,
        "errors": errors,
        "throughput": done_in_window / (last_end - measure_from),
        "offered": rate,
        "p50_ms": pct(latencies, 50) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "error_samples": samples,
    }


_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _wrk_duration(text: str) -> float:
    for unit in ("us", "ms", "s", "m"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * _WRK_UNITS[unit]
    raise ValueError(text)


async def run_wrk(name: str, url: str, auth: str, clients: int, seconds: float, warmup: float, bodies,
                  unique: bool, rate_hint: float, servers: list[int], db: str | None = None) -> dict:
    """The same measurement with wrk (C, `apt-get install wrk`) as the load generator: a warm-up run,
    then the measured run; bodies pre-generated into a file (unique filings when `unique`)."""
    import resource
    import tempfile

    import orjson

    threads = 2

    def write_bodies(n: int) -> str:
        f = tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False)
        with f:
            for _ in range(n):
                f.write(orjson.dumps(bodies()) + b"\n")
        return f.name

    async def wrk(duration: float, n_bodies: int) -> tuple[str, dict[str, float] | None, float]:
        path = await asyncio.to_thread(write_bodies, n_bodies)
        try:
            cmd = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(duration))}s", "--latency",
                   "--timeout", "10s", "-s", str(ROOT / "bench/submit.lua"), url, "--", path, str(threads), auth,
                   "once" if unique else "cycle"]
            before = cpu_seconds(servers, await db_backends(db))
            child = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
            out, _ = await proc.communicate()
            after = cpu_seconds(servers, await db_backends(db))
            child2 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = cpu_delta(before, after)[0]
            cpu["client"] = (child2.ru_utime - child.ru_utime) + (child2.ru_stime - child.ru_stime)
            return out.decode(), cpu, duration
        finally:
            os.unlink(path)

    per_run = lambda d: int(rate_hint * d * 1.5) + 1000 if unique else 20000  # noqa: E731
    await wrk(warmup, per_run(warmup))
    out, cpu, _ = await wrk(seconds, per_run(seconds))
    lat: dict[str, float] = {}
    rps, requests, errors = 0.0, 0, 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            lat[parts[0]] = _wrk_duration(parts[1])
        elif line.startswith("Requests/sec:"):
            rps = float(parts[1])
        elif "requests in" in line:
            requests = int(parts[0])
        elif line.startswith("Non-2xx or 3xx responses:"):
            errors = int(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            errors += sum(int(x.strip(",")) for x in parts[3::2])
    ok = max(1, requests - errors)
    return {
        "cpu_ms_per_request": {k: v * 1000 / ok for k, v in cpu.items()},
        "name": name + " [wrk]",
        "requests": requests - errors,
        "errors": errors,
        "throughput": rps * (requests - errors) / max(1, requests),
        "p50_ms": lat.get("50%", float("nan")) * 1000,
        "p99_ms": lat.get("99%", float("nan")) * 1000,
        "mean_ms": float("nan"),
        "error_samples": [] if not errors else [out[-400:]],
    }


def make_filing_call(base: str, headers: dict, bodies) -> callable:
    async def one(session: aiohttp.ClientSession, i: int):
        body = bodies()
        t = time.perf_counter()
        async with session.post(f"{base}/api/filing/filings", json=body, headers=headers) as r:
            text = await r.text()
        return r.status == 201, time.perf_counter() - t, f"{r.status} {text[:200]}"

    return one


def make_wizard_call(base: str, provider_id: str, bodies) -> callable:
    async def one(session: aiohttp.ClientSession, i: int):
        h = {"Authorization": f"Bearer {token('provider', user_id=uuid.uuid4().hex, provider_id=provider_id)}"}
        data = bodies()
        api = f"{base}/api/filing"
        async with session.post(f"{api}/drafts", headers=h) as r:
            if r.status != 201:
                return False, 0, f"draft {r.status} {await r.text()}"
            draft = (await r.json())["id"]
        async with session.put(f"{api}/drafts/{draft}/subject", json=data["subject"], headers=h) as r:
            if r.status != 200:
                return False, 0, f"subject {r.status} {await r.text()}"
        async with session.post(f"{api}/drafts/{draft}/websites", json=data["websites"][0], headers=h) as r:
            if r.status != 201:
                return False, 0, f"website {r.status} {await r.text()}"
        async with session.put(f"{api}/drafts/{draft}/step", json={"another_website": False}, headers=h) as r:
            await r.read()
        t = time.perf_counter()
        async with session.post(f"{api}/drafts/{draft}/submit", headers=h) as r:
            text = await r.text()
        return r.status == 201, time.perf_counter() - t, f"submit {r.status} {text[:200]}"

    return one


def make_floor_call(base: str, bodies) -> callable:
    async def one(session: aiohttp.ClientSession, i: int):
        body = bodies()
        t = time.perf_counter()
        async with session.post(f"{base}/floor", json=body) as r:
            text = await r.text()
        return r.status == 201, time.perf_counter() - t, f"{r.status} {text[:200]}"

    return one


# ------------------------------------------------------------------ main


async def py_spy(path: str | None, pid: int, delay: float, seconds: float) -> None:
    """With `--profile`: py-spy (`pip install py-spy`, not a dependency of the project) samples the
    server over the paced run's measured window into `path` (collapsed stacks, one per line with
    its sample count; `--idle` off, so the samples are the process's CPU, by stack)."""
    if not path:
        return
    await asyncio.sleep(delay)
    spy = Path(sys.executable).with_name("py-spy")
    proc = await asyncio.create_subprocess_exec(
        str(spy), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "250",
        "--format", "raw", "--output", path, "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await proc.wait()


BATCHING = {  # series of the server's /metrics → the name printed per filing
    "icp_submit_batch_size_count": "group-commit writes",
    "icp_outbox_rounds_total{service=filing}": "relay rounds (filing)",
    "icp_outbox_messages_total{service=filing}": "broker messages (filing)",
    "icp_consumer_batches_total{service=verification}": "delivery batches (verification)",
    "icp_consumer_batches_total{service=reporting}": "delivery batches (reporting)",
}


async def batching(base: str) -> dict[str, float]:
    """The server's batching counters (`BATCHING`) so far, from its root /metrics (a tree from before they
    existed has none)."""
    from prometheus_client.parser import text_string_to_metric_families

    async with aiohttp.ClientSession() as s, s.get(f"{base}/metrics") as r:
        text = await r.text()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for key in (sample.name, f"{sample.name}{{service={sample.labels.get('service')}}}"):
                if key in BATCHING:
                    out[key] = out.get(key, 0.0) + sample.value
    return out


async def bench(args) -> list[dict]:
    from tests import filing_samples as fs

    run = uuid.uuid4().hex[:8]
    db = f"icp_bench_{run}"
    vhost = f"icp_bench_{run}"
    admin = await asyncpg.connect(with_db(PG, "postgres"))
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    dsn = with_db(PG, db)
    procs: list[subprocess.Popen] = []
    try:
        port, floor_port = free_port(), free_port()
        env = {
            **os.environ,
            "ICP_DATABASE_URL": dsn,
            "ICP_AMQP_URL": f"{AMQP}/{vhost}",
            "ICP_SECRET_KEY": SECRET,
            "ICP_LOG_LEVEL": args.log_level,
            "ICP_LOG_FORMAT": "json",
            "ICP_PORT": str(port),
            "ICP_HOST": "127.0.0.1",
            "ICP_DB_POOL_MAX": str(args.pool),
            "PYTHONPATH": str(ROOT),
        }
        cmd = [sys.executable, "-m", "shared.cli"]
        if args.probe:  # the server under bench/loop_probe.py: loop lag, stalls, request phases
            cmd = [sys.executable, str(ROOT / "bench/loop_probe.py")]
            env["ICP_PROBE_OUT"] = args.probe
        cmd += ["up", "--port", str(port)] if args.services == "all" else ["serve", "filing", "--port", str(port)]
        if args.processes > 1:
            env["ICP_REUSE_PORT"] = "true"
        for _ in range(args.processes):  # the server's processes share the port (SO_REUSEPORT), as does the floor's
            procs.append(subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            await wait_http(f"http://127.0.0.1:{port}/api/filing/readyz")  # one at a time: migrations
        for _ in range(args.processes):
            procs.append(subprocess.Popen([sys.executable, __file__, "--floor-server", dsn, str(floor_port)],
                                          cwd=ROOT, stdout=subprocess.DEVNULL))
        base, floor_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}"
        await wait_http(f"{base}/api/filing/readyz")
        await wait_http(f"{floor_base}/healthz")
        pid = "bench" + run
        async with aiohttp.ClientSession() as s, s.post(
            f"{base}/api/filing/providers", json={"name": "压测接入商有限公司", "province": "BJ", "provider_id": pid},
            headers={"Authorization": f"Bearer {token('admin')}"},
        ) as r:
            assert r.status == 201, await r.text()
        headers = {"Authorization": f"Bearer {token('provider', user_id='bench-op', provider_id=pid)}"}
        results = []
        floor = make_floor_call(floor_base, fs.filing)
        if args.mode == "filings":
            subject_call = make_filing_call(base, headers, fs.filing)
            label = "POST /api/filing/filings"
        else:
            subject_call = make_wizard_call(base, pid, fs.filing)
            label = "wizard (5 requests; latency = submit)"
        servers = [p.pid for p in procs[: args.processes]]

        counted: dict[str, float] = {}

        async def probe_reset() -> None:
            counted.clear()
            counted.update(await batching(base))
            if args.probe:
                async with aiohttp.ClientSession() as s, s.get(f"{base}/__probe/reset") as r:
                    await r.read()

        async def batched(r: dict) -> None:
            """The batching counters per filing over the run's measured window (its start to the clients' end)."""
            after = await batching(base)
            r["batching"] = {k: (v - counted.get(k, 0.0)) / max(1, r["requests"]) for k, v in after.items()}
        floors = [p.pid for p in procs[args.processes:]]
        if args.idle:
            # what the idle server costs per second (metrics sampling, relay and listener, housekeeping of five
            # services): at a low rate a large part of its CPU per filing
            pids = await db_backends(db)
            before = cpu_seconds(servers, pids)
            await asyncio.sleep(args.idle)
            after = cpu_seconds(servers, {**pids, **await db_backends(db)})
            idle, by_app = cpu_delta(before, after)
            results.append({"name": "idle server", "idle_cpu_ms_per_s": {k: v * 1000 / args.idle for k, v in idle.items()},
                            "pg_db_ms_by_service": {k: v * 1000 / args.idle for k, v in sorted(by_app.items())}})
        for _ in range(args.rounds):
            if args.client == "wrk":
                if args.mode != "filings":
                    raise SystemExit("--client wrk measures --mode filings only")
                results.append(await run_wrk("floor: aiohttp + 1 asyncpg transaction", f"{floor_base}/floor", "",
                                             args.clients, args.seconds, args.warmup, fs.filing, False, 0, floors, db))
                results.append(await run_wrk(label, f"{base}/api/filing/filings", headers["Authorization"],
                                             args.clients, args.seconds, args.warmup, fs.filing, True, 3000,
                                             servers, db))
                continue
            if args.rate:  # only the submits, paced at a fixed rate (comparing CPU per filing between changes)
                spy = asyncio.create_task(py_spy(args.profile, servers[0], args.warmup, args.seconds))
                results.append(await run_load(f"{label} paced", args.clients, args.seconds, args.warmup,
                                              subject_call, servers, rate=args.rate, db=db,
                                              on_window=probe_reset))
                await batched(results[-1])
                await spy
                results[-1]["drained_s"] = await settle(dsn, args.services)
                continue
            results.append(await run_load("floor: aiohttp + 1 asyncpg transaction", args.clients, args.seconds,
                                          args.warmup, floor, floors, db=db))
            results.append(await run_load(label, args.clients, args.seconds, args.warmup, subject_call, servers,
                                          db=db, on_window=probe_reset))
            await batched(results[-1])
            results[-1]["drained_s"] = await settle(dsn, args.services)
            if args.paced and args.mode == "filings":
                # the goal's load: the same clients offering `--paced` × this round's floor throughput
                rate = args.paced * results[-2]["throughput"]
                spy = asyncio.create_task(py_spy(args.profile, servers[0], args.warmup, args.seconds))
                results.append(await run_load(f"{label} paced", args.clients, args.seconds, args.warmup,
                                              subject_call, servers, rate=rate, db=db,
                                              on_window=probe_reset))
                await batched(results[-1])
                await spy
                results[-1]["drained_s"] = await settle(dsn, args.services)
                # the floor at the same rate: what the host's lighter load alone does to the CPU of a request
                # (more wake-ups per unit of work, caches cooled by the other processes in between)
                results.append(await run_load("floor: aiohttp + 1 asyncpg transaction paced", args.clients,
                                              args.seconds, args.warmup, floor, floors, rate=rate, db=db))
        return results
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        admin = await asyncpg.connect(with_db(PG, "postgres"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
        with contextlib.suppress(Exception):
            rabbitmqctl("delete_vhost", vhost)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--floor-server":
        floor_server(sys.argv[2], int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=1, help="floor/subject pairs to run")
    ap.add_argument("--mode", choices=["filings", "wizard"], default="filings")
    ap.add_argument("--services", choices=["all", "filing"], default="all",
                    help="all = `icp up` (five services, one process); filing = `icp serve filing`")
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--client", choices=["python", "wrk"], default="python",
                    help="load generator: this script's aiohttp clients, or wrk (C; apt-get install wrk)")
    ap.add_argument("--processes", type=int, default=1,
                    help="server processes sharing the port (SO_REUSEPORT); the floor runs as many")
    ap.add_argument("--paced", type=float, default=0.5,
                    help="after each pair, the submits again at this fraction of the pair's floor throughput "
                         "(paced, latency from each request's due time); 0 = off")
    ap.add_argument("--rate", type=float, default=0,
                    help="only the submits, paced at this many per second (no floor, no saturation run)")
    ap.add_argument("--idle", type=float, default=10.0,
                    help="seconds of CPU measured with no load first (the idle server's cost per second); 0 = off")
    ap.add_argument("--pool", type=int, default=10, help="ICP_DB_POOL_MAX of the server")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--probe", help="run the server under bench/loop_probe.py; its report (of the last paced "
                    "run's measured window) goes to this file")
    ap.add_argument("--profile", help="py-spy the server over each paced run into this file (collapsed stacks)")
    args = ap.parse_args()
    results = asyncio.run(bench(args))
    print(f"\n{args.clients} clients, {args.seconds:g} s measured after {args.warmup:g} s warm-up, "
          f"services={args.services}, mode={args.mode}, log level {args.log_level}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'run':48} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    idle = next((r for r in results if "idle_cpu_ms_per_s" in r), None)
    if idle:
        print("idle server, CPU ms per second: " + ", ".join(f"{k} {v:.1f}" for k, v in idle["idle_cpu_ms_per_s"].items()
                                                             if k in ("server", "pg_db")))
    results = [r for r in results if r is not idle]
    for r in results:
        name = r["name"] + (f" at {r['offered']:.0f}/s" if r.get("offered") else "")
        print(f"{name:48} {r['throughput']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['errors']:7d}")
        if r["cpu_ms_per_request"]:
            c = r["cpu_ms_per_request"]
            print("   CPU ms per request: " + ", ".join(f"{k} {v:.3f}" for k, v in c.items())
                  + f"; server + pg_db {c['server'] + c['pg_db']:.3f}; total {sum(c.values()):.3f}")
            if idle and not r["name"].startswith("floor"):  # less what the server and its backends burn when idle
                net = {k: c[k] - idle["idle_cpu_ms_per_s"][k] / r["throughput"] for k in ("server", "pg_db")}
                print(f"   less idle: server {net['server']:.3f}, pg_db {net['pg_db']:.3f}; "
                      f"server + pg_db {net['server'] + net['pg_db']:.3f}")
            if r.get("pg_db_ms_by_service"):
                print("   pg_db by service: " + ", ".join(f"{k} {v:.3f}" for k, v in r["pg_db_ms_by_service"].items()))
        if r.get("batching"):  # per filing, over the window: what the batching made of the load
            print("   per filing: " + ", ".join(f"{BATCHING[k]} {v:.3f}" for k, v in r["batching"].items()))
        if r.get("drained_s") is not None:  # the consumers' backlog left when the clients stopped
            print(f"   backlog drained {r['drained_s']:.1f} s after the run (outbox, verification's cases, reporting)")
        for s in r["error_samples"]:
            print("   error:", s)
    floors = [r for r in results if r["name"].startswith("floor") and not r.get("offered")]
    subs = [r for r in results if not r["name"].startswith("floor") and not r.get("offered")]
    paced = [r for r in results if r.get("offered") and not r["name"].startswith("floor")]
    paced_floors = [r for r in results if r.get("offered") and r["name"].startswith("floor")]
    if args.json:
        Path(args.json).write_text(json.dumps(([idle] if idle else []) + results, indent=2, ensure_ascii=False))
    if not floors:
        return
    ratio = statistics.fmean(s["throughput"] for s in subs) / statistics.fmean(f["throughput"] for f in floors)
    print(f"submit throughput / floor throughput = {ratio:.2f} (goal ≥ 0.5); "
          f"worst submit p99 = {max(s['p99_ms'] for s in subs):.1f} ms at saturation (goal < 50)")
    if paced:
        offered = ", ".join(f"{r['offered']:.0f}" for r in paced)
        done = ", ".join(f"{r['throughput']:.0f}" for r in paced)
        print(f"paced at {args.paced:g} × the floor ({offered}/s offered, {done}/s done): "
              f"worst submit p99 = {max(r['p99_ms'] for r in paced):.1f} ms (goal < 50)")
    for f, sub, fp, sp in zip(floors, subs, paced_floors, paced, strict=False):
        # server + its backends per request, paced against saturated: the same code's rise with the lighter load
        cost = [r["cpu_ms_per_request"]["server"] + r["cpu_ms_per_request"]["pg_db"] for r in (f, sub, fp, sp)]
        print(f"CPU per request, saturated → paced: floor {cost[0]:.3f} → {cost[2]:.3f} ms (× {cost[2] / cost[0]:.2f}), "
              f"submit {cost[1]:.3f} → {cost[3]:.3f} ms (× {cost[3] / cost[1]:.2f}); "
              f"submit / floor: {cost[1] / cost[0]:.2f} saturated, {cost[3] / cost[2]:.2f} paced")


if __name__ == "__main__":
    main()
