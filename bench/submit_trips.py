"""Round trips and transactions per filing, by service: what a submit costs the platform in work
units that do not depend on how loaded the host is (CPU seconds on a shared host do).

    .venv/bin/python bench/submit_trips.py [--filings 400] [--rate 200]

Runs every service in this process (as `icp up`) on a throwaway database and RabbitMQ vhost of the
local servers, counts each asyncpg round trip by the pool's service (`application_name`
icp-<service>): statements with parameters, and simple queries (BEGIN, COMMIT, …); then POSTs
`--filings` complete first filings paced at `--rate` per second (as `bench/submit.py`'s paced run)
from a client process of its own, and waits until verification opened every case and reporting shows
every application. Prints, per filing: round trips and commits per service, relay rounds, consumer
delivery batches.
Run it with another checkout's code on PYTHONPATH to compare (the counting is here, not there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH") and str(ROOT.parent) not in sys.path:  # else that checkout's code
    sys.path.insert(0, str(ROOT.parent))

import asyncpg  # noqa: E402
from asyncpg.connection import Connection  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
AMQP = os.environ.get("ICP_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")

TRIPS: Counter = Counter()  # (service, kind) → round trips; kind: statement | simple


def _service(conn: Connection) -> str:
    name = conn.get_settings().application_name or ""
    return name.removeprefix("icp-") or "other"


def instrument() -> None:
    """Count round trips at asyncpg's two doors: `_execute` (extended protocol: fetch, fetchval,
    fetchrow, execute with arguments) and `execute` without arguments (simple query protocol:
    BEGIN, COMMIT, ROLLBACK, SAVEPOINT …)."""
    execute, _execute, executemany = Connection.execute, Connection._execute, Connection.executemany

    async def counted_execute(self, query, *args, **kw):
        if not args:
            word = query.split(None, 1)[0].upper().rstrip(";") if query.strip() else "?"
            TRIPS[(_service(self), "simple")] += 1
            if word in ("COMMIT", "RELEASE"):
                TRIPS[(_service(self), "commit" if word == "COMMIT" else "release")] += 1
        return await execute(self, query, *args, **kw)

    async def counted__execute(self, *a, **kw):
        TRIPS[(_service(self), "statement")] += 1
        return await _execute(self, *a, **kw)

    async def counted_executemany(self, *a, **kw):
        TRIPS[(_service(self), "statement")] += 1
        return await executemany(self, *a, **kw)

    Connection.execute, Connection._execute, Connection.executemany = (
        counted_execute, counted__execute, counted_executemany)


async def main(args) -> None:
    import aiohttp

    from shared import logs
    from shared.auth import Role, issue_token, new_principal
    from shared.config import SERVICES, Settings
    from shared.runtime import Endpoints, Runtime
    from tests import filing_samples as fs

    instrument()
    # as `icp up` does (shared/cli.py); unconfigured, structlog wrote every line in colour to the terminal,
    # which loaded the process enough to batch everything
    logs.configure("info", "json")
    run = uuid.uuid4().hex[:8]
    db, vhost = f"icp_trips_{run}", f"icp_trips_{run}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    ctl = ["rabbitmqctl", "-q"]
    await (await asyncio.create_subprocess_exec(*ctl, "add_vhost", vhost)).wait()
    await (await asyncio.create_subprocess_exec(*ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")).wait()
    secret = "trips-" + uuid.uuid4().hex
    settings = Settings(env="test", database_url=f"{PG}/{db}", amqp_url=f"{AMQP}/{vhost}", secret_key=secret,
                        log_level="warning", log_format="json", metrics_interval=3600)
    rt = Runtime(settings, Endpoints(f"{PG}/{db}", f"{AMQP}/{vhost}"), list(SERVICES), "all")
    try:
        from aiohttp import web

        root = await rt.start()
        runner = web.AppRunner(root, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}/api/filing"

        def tok(role: str, **kw) -> str:
            p = new_principal(user_id=kw.pop("user_id", "bench"), role=Role(role), username="bench", ttl=7200, **kw)
            return issue_token(secret, p)

        pid = "trips" + run
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{base}/providers", json={"name": "往返计数有限公司", "province": "BJ", "provider_id": pid},
                              headers={"Authorization": f"Bearer {tok('admin')}"}) as r:
                assert r.status == 201, await r.text()
            headers = {"Authorization": f"Bearer {tok('provider', user_id='op', provider_id=pid)}"}
            ctxs = {c.name: c for c in (rs.ctx for rs in rt.running)}
            await asyncio.sleep(1)
            TRIPS.clear()
            rounds0 = {n: getattr(c.relay, "rounds", None) for n, c in ctxs.items()}
            batches0 = {n: c.consumer.stats.batches for n, c in ctxs.items() if c.consumer}
            if args.client_in_process:  # the load client shares the server's loop (and CPU)
                bodies = [fs.filing() for _ in range(args.filings)]
                started = time.perf_counter()

                async def one(i: int) -> None:
                    await asyncio.sleep(max(0.0, started + i / args.rate - time.perf_counter()))
                    async with s.post(f"{base}/filings", json=bodies[i], headers=headers) as r:
                        assert r.status == 201, await r.text()

                await asyncio.gather(*(one(i) for i in range(args.filings)))
            else:  # a process of its own, as bench/submit.py's clients: the server's loop does only the server's work
                client = await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--client", f"{base}/filings", headers["Authorization"],
                    str(args.filings), str(args.rate), cwd=ROOT.parent)
                if await client.wait() != 0:
                    raise SystemExit("the load client failed")
            vpool, rpool = ctxs["verification"].pool, ctxs["reporting"].pool
            deadline = time.monotonic() + 120
            polls: Counter = Counter()  # the wait's own count queries, taken off below
            while True:
                polls["verification"] += 1
                if await vpool.fetchval("SELECT count(*) FROM cases") >= args.filings:
                    polls["reporting"] += 1
                    if await rpool.fetchval("SELECT count(*) FROM applications") >= args.filings:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit("cases/read model incomplete after 120 s")
                await asyncio.sleep(0.2)
            waited = Counter(TRIPS)
            for svc, k in polls.items():
                waited[(svc, "statement")] -= k
        n = args.filings
        print(f"\n{n} filings POSTed at {args.rate:g}/s (services=all, one process); per filing:")
        print(f"{'service':14} {'statements':>10} {'BEGIN/COMMIT…':>14} {'commits':>8} {'relay rounds':>13} {'batches':>8}")
        for name in sorted({k[0] for k in waited} | set(ctxs)):
            c = ctxs.get(name)
            rounds = f"{(c.relay.rounds - rounds0[name]) / n:13.2f}" if c and rounds0.get(name) is not None else f"{'n/a':>13}"
            batches = (c.consumer.stats.batches - batches0.get(name, 0)) if c and c.consumer else 0
            print(f"{name:14} {waited[(name, 'statement')] / n:10.2f} {waited[(name, 'simple')] / n:14.2f} "
                  f"{waited[(name, 'commit')] / n:8.2f} {rounds} {batches / n:8.2f}")
        total = sum(v for (_svc, kind), v in waited.items() if kind in ("statement", "simple"))
        commits = sum(v for (_svc, kind), v in waited.items() if kind == "commit")
        print(f"all services: {total / n:.2f} round trips and {commits / n:.2f} explicit commits per filing "
              f"(besides, each submit written alone commits its one statement by itself)")
        await runner.cleanup()
    finally:
        await rt.stop()
        admin = await asyncpg.connect(f"{PG}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
        await (await asyncio.create_subprocess_exec(*ctl, "delete_vhost", vhost)).wait()


async def paced_client(url: str, auth: str, n: int, rate: float) -> None:
    """POST `n` complete first filings to `url`, request i due at start + i / rate."""
    import aiohttp

    from tests import filing_samples as fs

    bodies = [fs.filing() for _ in range(n)]
    headers = {"Authorization": auth}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as s:
        started = time.perf_counter()

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
            async with s.post(url, json=bodies[i], headers=headers) as r:
                assert r.status == 201, await r.text()

        await asyncio.gather(*(one(i) for i in range(n)))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--client":
        asyncio.run(paced_client(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
        raise SystemExit(0)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--filings", type=int, default=400)
    ap.add_argument("--rate", type=float, default=200.0, help="submits per second, paced")
    ap.add_argument("--client-in-process", action="store_true",
                    help="the load client in this process, as before 2026-12-07 (it loads the server's loop: at "
                         "250/s the process was saturated and everything batched)")
    asyncio.run(main(ap.parse_args()))
