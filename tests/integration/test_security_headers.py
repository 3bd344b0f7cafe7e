"""Security headers on every answer, and the refusal to start a production process without a real key."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest

from shared.config import SERVICES, Settings
from shared.security import CONTENT_SECURITY_POLICY
from tests.conftest import System
from tests.integration.test_accounts import filing_app


def _assert_common(r, what: str) -> None:
    h = r.headers
    assert h.get("X-Content-Type-Options") == "nosniff", what
    csp = h.get("Content-Security-Policy", "")
    assert csp == CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in csp, what
    assert "script-src 'self' 'unsafe-eval'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert h.get("Referrer-Policy") == "same-origin", what
    server = h.get("Server", "")
    assert "aiohttp" not in server.lower() and "python" not in server.lower() and not any(c.isdigit() for c in server), \
        (what, server)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_answer_of_every_service_carries_the_headers(system: System, service: str):
    c = system.client
    answers = {
        "health": await c.get(f"/api/{service}/healthz"),
        "openapi": await c.get(f"/api/{service}/openapi.json"),
        "401": await c.get(f"/api/{service}/nothing-here-{service}", headers={"Authorization": "Bearer x.y"}),
        "404": await c.get(f"/api/{service}/nothing-here"),
        "root 404": await c.get("/no-such-path"),
        "root health": await c.get("/healthz"),
    }
    for what, r in answers.items():
        _assert_common(r, what)
        assert "Strict-Transport-Security" not in r.headers, what  # not in test (plain HTTP)
        if what.startswith("root"):
            continue
        assert r.headers.get("Cache-Control") == "no-store", what


async def test_authenticated_answers_login_and_files_are_never_stored(system: System):
    c = system.client
    tenant_auth = system.auth("provider", provider_id="p-headers")
    answers = {
        "authenticated JSON": await c.get("/api/filing/me", headers=system.auth("admin")),
        "captcha": await c.get("/api/filing/captcha"),
        "login refusal": await c.post("/api/filing/sessions", json={"username": "x"}),
        "file": await c.get("/api/importer/template", headers=tenant_auth),
        "cookie": await c.get("/api/filing/me", cookies={"icp_session": system.token("admin")}),
    }
    for what, r in answers.items():
        assert r.status < 500, (what, r.status)
        _assert_common(r, what)
        assert r.headers.get("Cache-Control") == "no-store", what
    assert answers["file"].status == 200


async def test_hsts_only_in_production(system: System):
    async with filing_app(system, "prod") as client:
        for path in ("/api/filing/healthz", "/api/filing/nothing", "/api/filing/captcha"):
            r = await client.get(path)
            assert r.headers.get("Strict-Transport-Security", "").startswith("max-age=31536000"), path
            _assert_common(r, path)
    async with filing_app(system, "dev") as client:
        r = await client.get("/api/filing/healthz")
        assert "Strict-Transport-Security" not in r.headers


# ---------------------------------------------------------------- production start


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _icp(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run the `icp` command; a process that does not stop within 60 s fails the test (it started)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"icp {' '.join(args)} started in prod without a usable ICP_SECRET_KEY") from None
    return proc.returncode, out.decode() + err.decode()


@pytest.mark.parametrize(("args", "key"), [
    (("up", "--port", "0"), None),
    (("serve", "filing", "--api", "--port", "0"), "dev-insecure-secret-change-me"),
    (("serve", "verification", "--worker", "--port", "0"), "x" * 31),
    (("admin", "token", "--role", "admin"), None),
    (("admin", "token", "--role", "admin"), "short-key"),
    (("admin", "create-admin", "--username", "forged", "--password", "abc12345"), "x" * 31),
])
async def test_every_entrypoint_refuses_prod_without_a_real_secret_key(args, key):
    dead = _closed_port()  # nothing listens: a process that got past the check fails, but differently
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_")} | {
        "ICP_ENV": "prod",
        "ICP_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{dead}/icp",
        "ICP_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{dead}/",
        "ICP_LOG_FORMAT": "console",
    }
    if key is not None:
        env["ICP_SECRET_KEY"] = key
    rc, output = await _icp(*args, env=env)
    assert rc != 0, output
    assert "ICP_SECRET_KEY" in output and "ICP_ENV=prod" in output, output
    assert "Traceback" not in output, output


async def test_a_prod_key_of_32_bytes_passes_the_check():
    rc, output = await _icp("admin", "token", "--role", "admin", env={
        **{k: v for k, v in os.environ.items() if not k.startswith("ICP_")},
        "ICP_ENV": "prod", "ICP_SECRET_KEY": "k" * 32, "ICP_LOG_FORMAT": "console"})
    assert rc == 0 and output.count(".") == 1, output  # a token: body.signature


async def test_the_runtime_itself_refuses_prod_without_a_key(pg_dsn, amqp_url):
    from shared.runtime import Endpoints, Runtime

    settings = Settings(env="prod", database_url=pg_dsn, amqp_url=amqp_url)
    with pytest.raises(SystemExit, match="ICP_SECRET_KEY"):
        await Runtime(settings, Endpoints(pg_dsn, amqp_url), ["filing"]).start()


async def test_the_console_served_alone_carries_the_headers_too():
    from aiohttp.test_utils import TestClient, TestServer

    from services.console.app import service_app

    async with TestClient(TestServer(service_app())) as client:
        for path in ("/", "/healthz", "/no-such-file.js"):
            r = await client.get(path)
            _assert_common(r, path)
