"""A submit's two heaviest database steps, serially on one connection, with the PostgreSQL backend's
CPU (from /proc) and this process's: steadier than the load bench on a busy host.

    .venv/bin/python bench/submit_serial.py filing      # the single-filing statement (a submit written alone)
    .venv/bin/python bench/submit_serial.py reporting   # reporting's handling of filing.application.submitted:
                                                        # log_event + apply (5 statements) vs log_submitted (2)
    .venv/bin/python bench/submit_serial.py group 300   # the group commit's batch statement (`SubmitBatcher._together`)
                                                        # with batches of 1 to 16 submits beside the single-filing
                                                        # statement, alternated: per filing
    .venv/bin/python bench/submit_serial.py bulk 40     # an import's chunk write (`create_first_filings` as
                                                        # entry/batch.py calls it, the trusted parse of the
                                                        # sealed items included; 250 subjects of 2 websites):
                                                        # 40 chunks, per subject
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/submit_serial.py filing   # that checkout's code

Each on a throwaway database of the local PostgreSQL (only the service's schema migrated); figures per
filing/event, median of 3 rounds after a warm-up (prepared statements, generic plans).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
import psutil  # noqa: E402

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")


def cpu(p: psutil.Process) -> float:
    return sum(p.cpu_times()[:2])


async def measure(backend: psutil.Process, fn, items) -> tuple[float, float, float]:
    c0, p0, w0 = cpu(backend), time.process_time(), time.perf_counter()
    await fn(items)
    n = len(items)
    return ((cpu(backend) - c0) / n * 1e6, (time.process_time() - p0) / n * 1e6, (time.perf_counter() - w0) / n * 1e6)


def report(label: str, rounds: list[tuple[float, float, float]]) -> None:
    pg, py, wall = (sorted(r[i] for r in rounds) for i in range(3))
    print(f"{label:40s} PostgreSQL backend {pg[1]:6.0f} µs ({pg[0]:.0f}–{pg[-1]:.0f}), "
          f"Python {py[1]:6.0f} µs, wall {wall[1] / 1000:6.1f} ms")


async def alternate(backend: psutil.Process, ways: list, make, warm: int, n: int, unit: str) -> None:
    """Each way (label, fn) warmed up on `make(warm)` items, then measured 3 times on `make(n)`, the ways
    alternated; one report line per way, per `unit`."""
    for _, fn in ways:
        await fn(make(warm))
    rounds: dict[str, list] = {}
    for _ in range(3):
        for label, fn in ways:
            rounds.setdefault(label, []).append(await measure(backend, fn, make(n)))
    for label, rs in rounds.items():
        report(f"{label}, per {unit}", rs)


async def filing(conn: asyncpg.Connection, backend: psutil.Process, n: int) -> None:
    from shared.filing_data import FilingData
    from tests import filing_samples as fs

    try:
        from services.filing.entry import store as filings
    except ImportError:  # a checkout from before filing's subpackages
        from services.filing import filings
    await conn.execute("INSERT INTO providers (provider_id, name, province, updated_at) VALUES ('p', '压测', 'BJ', now())")

    async def write(datas) -> None:
        for d in datas:
            await filings.create_first_filing(conn, provider_id="p", data=d, actor="op", savepoint=False, checked=True)

    def datas(k: int):
        return [filings.validate_filing(FilingData.model_validate(fs.filing()), copy=False) for _ in range(k)]

    await write(datas(30))
    report("single-filing statement, per filing", [await measure(backend, write, datas(n)) for _ in range(3)])


async def reporting(conn: asyncpg.Connection, backend: psutil.Process, n: int) -> None:
    from services.reporting import projection
    from shared.contracts import Envelope, spec_of
    from tests.integration.test_reporting import _submitted

    t0 = datetime(2026, 3, 1, tzinfo=UTC)

    def events(k: int):
        out = []
        for i in range(k):
            p = _submitted(str(uuid.uuid4()), 1, t0 + timedelta(seconds=i), ["站点"])
            out.append((Envelope(type=spec_of(p).type, producer="filing", provider_id="p-run",
                                 payload=p.model_dump(mode="json")), p))
        return out

    async def old(evs) -> None:
        for env, p in evs:
            async with conn.transaction():
                await projection.log_event(conn, env)
                await projection.apply(conn, env.id, p)

    def new(batch: int):
        async def run(evs) -> None:
            for i in range(0, len(evs), batch):
                async with conn.transaction():
                    await projection.log_submitted(conn, evs[i:i + batch])
        return run

    ways = [("log_event + apply, 1 per transaction", old), ("log_submitted, 1 per transaction", new(1)),
            ("log_submitted, runs of 5", new(5))]
    await alternate(backend, ways, events, 30, n, "event")


async def bulk(conn: asyncpg.Connection, backend: psutil.Process, n: int) -> None:
    """`n` chunks of 250 subjects (2 websites each), as an import writes them (`entry/batch.py`
    `on_batch_import`: the sealed items' dicts parsed trusted, then `create_first_filings` with `checked`
    and `one_message`), into a growing database; per subject (the parse included in the Python figure)."""
    import inspect

    from services.filing.entry import batch
    from services.filing.entry import bulk as b
    from services.filing.entry.model import validate_filing
    from shared.filing_data import FilingData
    from tests import filing_samples as fs

    await conn.execute("INSERT INTO providers (provider_id, name, province, updated_at) VALUES ('p', '压测', 'BJ', now())")
    hash_ = "pbkdf2_sha256$1$x$y"
    if os.environ.get("ICP_BENCH_PRE_SQL"):  # an experiment's change to the schema (e.g. an index dropped)
        await conn.execute(os.environ["ICP_BENCH_PRE_SQL"])
    # what batch.py passes beyond the common arguments (a checkout from before this bench ignores what it lacks)
    accepted = inspect.signature(b.create_first_filings).parameters
    copy = os.environ.get("ICP_BENCH_BULK_COPY", "1") == "1"  # 0: the one statement (the API's group commit's way)
    extra = {k: val for k, val in {"one_message": True, "copy": copy}.items() if k in accepted}

    def chunk() -> list:  # the sealed items as the importer builds them: canonical data, "c": 1
        return [{"data": validate_filing(FilingData.model_validate(fs.filing(2)), copy=False).model_dump(mode="json"),
                 "sponsor": [f"u{uuid.uuid4().hex[:12]}", hash_], "c": 1} for _ in range(250)]

    job = str(uuid.uuid4())

    async def write(chunks) -> None:
        for items in chunks:
            parsed, refused = batch._parse(items)
            assert not refused
            async with conn.transaction():
                await b.create_first_filings(conn, provider_id="p", items=parsed, actor="op", import_job_id=job,
                                             checked=True, **extra)

    await write([chunk()])
    # the collector tuned as in the servers (shared/runtime.py tune_gc, the default thresholds): else full
    # collections over the chunks prepared ahead show up in the Python figure, wherever they strike
    from shared.config import Settings
    from shared.runtime import tune_gc

    tune_gc(Settings.model_fields["gc_thresholds"].default)
    rounds = []
    for _ in range(n // 4):  # 4 chunks (1,000 subjects) per figure: /proc's CPU ticks are 10 ms
        rounds.append(await measure(backend, write, [chunk() for _ in range(4)]))
        rounds[-1] = tuple(x / 250 for x in rounds[-1])
    report(f"{n // 4 * 4} chunks of 250, per subject", rounds)


async def group(conn: asyncpg.Connection, backend: psutil.Process, n: int) -> None:
    """A submit's write as the group commit does it: alone (the single-filing statement) or in batches of
    k (`bulk.create_first_filings` as `SubmitBatcher._together` calls it: no transaction, the outbox row,
    new credentials per item), `n` filings per figure, the ways alternated."""
    from services.filing.entry import bulk as b
    from services.filing.entry import store as filings
    from services.filing.sponsors import credentials as sponsors
    from shared.filing_data import FilingData
    from shared.outbox import Outbox
    from tests import filing_samples as fs

    await conn.execute("INSERT INTO providers (provider_id, name, province, updated_at) VALUES ('p', '压测', 'BJ', now())")
    outbox = Outbox("filing")

    def datas(k: int):
        return [filings.validate_filing(FilingData.model_validate(fs.filing()), copy=False) for _ in range(k)]

    async def alone(ds) -> None:
        for d in ds:
            await filings.create_first_filing(conn, provider_id="p", data=d, actor="op", savepoint=False,
                                              checked=True, outbox=outbox)

    def batched(k: int, generic: bool = False):
        async def run(ds) -> None:
            for i in range(0, len(ds), k):
                part = ds[i:i + k]
                creds = [sponsors.new_credentials() for _ in part]
                if generic:
                    await conn.execute("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan")
                items = [(d, (u, h), j) for j, (d, (u, _pw, h)) in enumerate(zip(part, creds, strict=True))]
                await b.create_first_filings(conn, provider_id="p", items=items, actor="op", import_job_id=None,
                                             outbox=outbox, source="entry", checked=True,
                                             correlation_ids=[None] * len(part))
                if generic:
                    await conn.execute("COMMIT")
        return run

    sizes = [int(k) for k in os.environ.get("ICP_BENCH_BATCHES", "1,2,3,4,6,8,16").split(",")]
    ways = [("single-filing statement", alone)] + [(f"batch statement, {k} per batch", batched(k)) for k in sizes]
    if os.environ.get("ICP_BENCH_GENERIC"):  # the batch statement with its generic plan (in a transaction)
        ways += [(f"batch statement, {k} per batch, generic plan", batched(k, True)) for k in sizes]
    await alternate(backend, ways, datas, 16, n, "filing")


async def main(what: str, n: int) -> None:
    from shared import db
    from shared.runtime import load_service

    name = f"icp_serial_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        dsn = f"{PG}/{name}"
        service = "filing" if what in ("bulk", "group") else what
        await db.migrate(dsn, service, load_service(service).migrations)
        conn = await db.connect(dsn, service)
        backend = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
        if os.environ.get("ICP_BENCH_SESSION_SQL"):  # a session setting to compare (e.g. plan_cache_mode)
            await conn.execute(os.environ["ICP_BENCH_SESSION_SQL"])
        await {"filing": filing, "reporting": reporting, "bulk": bulk, "group": group}[what](conn, backend, n)
        await conn.close()
    finally:
        admin = await asyncpg.connect(f"{PG}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "filing"
    if what not in ("filing", "reporting", "bulk", "group"):
        raise SystemExit(__doc__)
    asyncio.run(main(what, int(sys.argv[2]) if len(sys.argv) > 2 else 300))
