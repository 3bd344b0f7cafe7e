"""Login refusals: does the answer time tell whether an account exists?

Runs the filing service alone (throwaway database, in-process transport) behind aiohttp's test
server and times POST /api/filing/sessions for each kind of refusal, interleaved round by round so
that all cases see the same machine load. Between rounds the counters are reset (outside the timing)
so that no case locks unless it is meant to. Prints per case the median and p90 in ms and the ratio
of the median to the unknown name's.

    .venv/bin/python bench/login_timing.py --rounds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

PG = os.environ.get("ICP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


async def main(rounds: int) -> None:
    from shared.auth import hash_generated_password, hash_password
    from shared.config import Settings
    from shared.runtime import Endpoints, Runtime

    name = "icp_bench_login_" + uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(PG)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = PG.rsplit("/", 1)[0] + "/" + name
    settings = Settings(env="test", database_url=dsn, secret_key="bench-" + "k" * 40, db_pool_min=1, db_pool_max=3,
                        log_level="warning", log_format="console", captcha_per_minute=10**6,
                        login_address_max_failures=10**6)
    rt = Runtime(settings, Endpoints(dsn, None), ["filing"], "api")
    try:
        root = await rt.start()
        pool = rt.running[0].ctx.pool
        await pool.execute("INSERT INTO providers (provider_id, name, province, updated_at) VALUES ('bench', '压测', 'BJ', now())")
        users = {
            "operator": ("provider", hash_password("pass123")),  # argon2id: a password a person chose
            "sponsor": ("sponsor", hash_generated_password("Gen3ratedPw9x")),  # PBKDF2: a generated one
            "locked": ("provider", hash_password("pass123")),
        }
        names = {}
        for key, (role, pw_hash) in users.items():
            names[key] = "bench-" + key + uuid.uuid4().hex[:6]
            await pool.execute(
                """INSERT INTO users (username, password_hash, role, provider_id, display_name, created_by)
                   VALUES ($1, $2, $3, 'bench', $1, 'bench')""", names[key], pw_hash, role)
        locked_ghost = "bench-ghost-locked-" + uuid.uuid4().hex[:6]
        cases = {
            "unknown name": lambda: ("bench-ghost-" + uuid.uuid4().hex[:8], "wrong123", "provider"),
            "operator (argon2), wrong password": lambda: (names["operator"], "wrong123", "provider"),
            "sponsor (pbkdf2), wrong password": lambda: (names["sponsor"], "wrong123", "sponsor"),
            "locked account": lambda: (names["locked"], "pass123", "provider"),
            "locked unknown name": lambda: (locked_ghost, "pass123", "provider"),
        }
        client = TestClient(TestServer(root))
        await client.start_server()
        times: dict[str, list[float]] = {k: [] for k in cases}
        try:
            for _ in range(rounds):
                await pool.execute("UPDATE users SET failed_logins = 0, locked_until = NULL")
                await pool.execute("UPDATE users SET locked_until = now() + interval '1 hour' WHERE username = $1",
                                   names["locked"])
                await _lock_ghost(pool, locked_ghost)
                for case, make in cases.items():
                    username, password, role = make()
                    r = await client.get("/api/filing/captcha?test_answer=1")
                    captcha = await r.json()
                    body = {"username": username, "password": password, "role": role,
                            "captcha_id": captcha["captcha_id"], "captcha": captcha["answer"]}
                    started = time.perf_counter()
                    r = await client.post("/api/filing/sessions", json=body)
                    await r.read()
                    times[case].append((time.perf_counter() - started) * 1000)
                    assert r.status in (401, 423), (case, r.status, await r.text())
        finally:
            await client.close()
        ref = statistics.median(times["unknown name"])
        print(f"{'case':40} {'median ms':>10} {'p90 ms':>8} {'÷ unknown':>10}")
        for case, ts in times.items():
            ts.sort()
            med = statistics.median(ts)
            print(f"{case:40} {med:10.1f} {ts[int(len(ts) * 0.9) - 1]:8.1f} {med / ref:10.2f}")
    finally:
        await rt.stop()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def _lock_ghost(pool, name: str) -> None:
    """An unknown name with a running lock (new code: its own table; old code has none, so it stays unlocked)."""
    exists = await pool.fetchval("SELECT to_regclass('unknown_login_failures') IS NOT NULL")
    if exists:
        await pool.execute(
            """INSERT INTO unknown_login_failures (username, failed_logins, locked_until)
               VALUES (lower($1), 0, now() + interval '1 hour')
               ON CONFLICT (username) DO UPDATE SET locked_until = EXCLUDED.locked_until""", name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    asyncio.run(main(parser.parse_args().rounds))
