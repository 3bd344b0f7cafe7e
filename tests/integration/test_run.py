"""Running the platform: `icp up` as a process, and the embedded default (no local servers)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import aiohttp
import pytest

from shared import runtime
from shared.config import SERVICES, Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait_ready(base: str, proc, limit: float = 150) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.returncode is not None:
                raise AssertionError(f"icp up exited with {proc.returncode}")
            try:
                async with http.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("icp up did not become healthy")
            await asyncio.sleep(0.2)


async def test_icp_up_serves_all_five_services_and_stops_gracefully(pg_dsn, amqp_url):
    port = _free_port()
    env = dict(os.environ, ICP_DATABASE_URL=pg_dsn, ICP_AMQP_URL=amqp_url, ICP_LOG_FORMAT="json")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli", "up", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base, proc)
        async with aiohttp.ClientSession() as http:
            for service in SERVICES:
                async with http.get(f"{base}/api/{service}/readyz") as r:
                    body = await r.json()
                    assert r.status == 200 and body["database"] == "ok" and body["broker"] == "ok", body
                async with http.get(f"{base}/api/{service}/openapi.json") as r:
                    assert (await r.json())["openapi"].startswith("3.")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    log = out.decode()
    assert proc.returncode == 0, log[-2000:]
    assert '"event": "shutdown.done"' in log


@pytest.fixture
def no_local_servers(monkeypatch):
    # as on a laptop with nothing installed: nothing answers on the usual ports
    monkeypatch.setattr(runtime, "_port_open", lambda *a, **k: False)


async def test_embedded_default_uses_embedded_postgres_and_in_process_bus(tmp_path, no_local_servers):
    from aiohttp.test_utils import TestClient, TestServer

    from shared.auth import Role, issue_token, new_principal

    settings = Settings(env="test", data_dir=str(tmp_path), database_url=None, amqp_url=None,
                        secret_key="embedded-test", retry_delays=[0.2], log_format="console")
    ep = await runtime.resolve_endpoints(settings, allow_embedded=True)
    assert ep.embedded_pg is not None and ep.amqp_url is None
    rt = runtime.Runtime(settings, ep, list(SERVICES), "all")
    root = await rt.start()
    client = TestClient(TestServer(root))
    await client.start_server()
    try:
        assert all(rs.ctx.transport.name == "memory" for rs in rt.running)
        admin = {"Authorization": "Bearer " + issue_token(
            "embedded-test", new_principal(user_id="a", role=Role.ADMIN, username="a", ttl=60))}
        r = await client.post("/api/filing/providers", json={"name": "嵌入式测试公司", "province": "ZJ"}, headers=admin)
        assert r.status == 201, await r.text()
        pid = (await r.json())["provider_id"]
        for _ in range(100):
            r = await client.get("/api/reporting/providers", headers=admin)
            if any(p["provider_id"] == pid for p in (await r.json())["items"]):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the event did not reach reporting over the in-process transport")
        r = await client.get("/api/detection/readyz")
        assert (await r.json())["broker"] == "ok"
    finally:
        await client.close()
        await rt.stop()
