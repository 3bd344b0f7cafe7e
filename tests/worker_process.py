"""A service run as its own OS process (`icp serve <service> --worker`) on the test run's database and
broker, as Kubernetes runs a replica: tests of competing workers start two and kill one."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def spawn_worker(service: str, secret_key: str, pg_dsn: str, amqp_url: str, log: Path, **env_extra: str):
    """(process, health port, log file) of `icp serve <service> --worker`; `env_extra`: ICP_* settings."""
    env = dict(os.environ)
    env.update(ICP_ENV="test", ICP_DATABASE_URL=pg_dsn, ICP_AMQP_URL=amqp_url, ICP_SECRET_KEY=secret_key,
               ICP_LOG_FORMAT="json", **env_extra)
    port = free_port()
    out = log.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli", "serve", service, "--worker", "--port", str(port),
        cwd=ROOT, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
    )
    return proc, port, out


async def worker_ready(service: str, port: int, proc) -> bool:
    """Whether the worker's health endpoint answers 200 (it fails the test when the process exited)."""
    if proc.returncode is not None:
        raise AssertionError(f"worker exited with {proc.returncode}")
    return await health_ok(service, port)


async def health_ok(service: str, port: int) -> bool:
    """Whether a service process on this host answers 200 on its health endpoint (no client session needed)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.write(f"GET /api/{service}/healthz HTTP/1.0\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    return b"200" in data.split(b"\r\n", 1)[0]
