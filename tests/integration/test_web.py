"""The web platform on the running services: problems, auth, request ids, health, metrics, OpenAPI."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from shared.config import SERVICES
from tests.conftest import System


@pytest.mark.parametrize("service", SERVICES)
async def test_health_readiness_metrics_and_openapi(system: System, service: str):
    c = system.client
    r = await c.get(f"/api/{service}/healthz")
    assert r.status == 200 and (await r.json())["status"] == "ok"
    r = await c.get(f"/api/{service}/readyz")
    body = await r.json()
    assert r.status == 200 and body["database"] == "ok" and body["broker"] == "ok"
    r = await c.get(f"/api/{service}/metrics")
    assert r.status == 200 and "icp_http_requests_total" in await r.text()
    r = await c.get(f"/api/{service}/openapi.json")
    spec = await r.json()
    validate(spec)  # raises on an invalid OpenAPI 3.1 document
    assert spec["info"]["title"] and all(p.startswith(f"/api/{service}/") for p in spec["paths"])


async def test_readiness_reports_a_broken_dependency(system: System):
    ctx = system.ctx("reporting")
    real = ctx.transport

    class Down:
        async def ping(self):
            return False

    ctx.transport = Down()
    try:
        r = await system.client.get("/api/reporting/readyz")
        body = await r.json()
        assert r.status == 503 and body["broker"] == "down" and body["database"] == "ok"
    finally:
        ctx.transport = real


async def test_problem_json_for_client_mistakes(system: System):
    c, auth = system.client, system.auth("admin")
    url = "/api/filing/providers"
    r = await c.post(url, data=b'{"name": ', headers=auth | {"Content-Type": "application/json"})
    assert r.status == 400 and r.content_type == "application/problem+json"
    assert "JSON" in (await r.json())["detail"]

    r = await c.post(url, data="name=x", headers=auth | {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415 and "application/json" in (await r.json())["detail"]

    r = await c.post(url, json=[1, 2], headers=auth)
    assert r.status == 400

    r = await c.post(url, json={"name": "", "province": "XX", "extra": 1}, headers=auth)
    body = await r.json()
    assert r.status == 422
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert fields["name"] == "长度不能少于 2 个字符"
    assert fields["province"] == "省份代码 XX 不存在"
    assert fields["extra"] == "不允许的字段"
    assert body["detail"].startswith("名称：")  # the field by its Chinese label (issue 11)

    r = await c.post(url, json={"name": 123, "province": "BJ"}, headers=auth)
    assert r.status == 422 and (await r.json())["errors"][0] == {"field": "name", "message": "须为文本"}


async def test_unknown_paths_and_methods_are_problems(system: System):
    r = await system.client.get("/api/filing/no-such-thing")
    assert r.status == 404 and r.content_type == "application/problem+json"
    assert (await r.json())["detail"] == "接口不存在"
    r = await system.client.get("/api/nothing-here")
    assert r.status == 404 and r.content_type == "application/problem+json"
    # outside /api/ the paths are the web console's: its 404 page
    r = await system.client.get("/nothing-here")
    assert r.status == 404 and r.content_type == "text/html" and "页面不存在" in await r.text()
    r = await system.client.delete("/api/filing/providers", headers=system.auth())
    assert r.status == 405


async def test_auth_bearer_cookie_roles_and_bad_tokens(system: System):
    c = system.client
    r = await c.get("/api/filing/providers")
    assert r.status == 401 and (await r.json())["detail"] == "请先登录"
    r = await c.get("/api/filing/providers", headers=system.auth("provider", provider_id="p1"))
    assert r.status == 403
    r = await c.get("/api/filing/providers", headers={"Authorization": "Bearer not.a-token"})
    assert r.status == 401
    token = system.token("admin")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = await c.get("/api/filing/providers", headers={"Authorization": f"Bearer {forged}"})
    assert r.status == 401
    r = await c.get("/api/filing/providers", cookies={"icp_session": token})
    assert r.status == 200


async def test_expired_and_revoked_tokens_are_refused(system: System):
    from datetime import UTC, datetime, timedelta

    from shared.auth import Principal, Role, issue_token

    expired = Principal("sid-old", "u", Role.ADMIN, "u", expires_at=1)
    r = await system.client.get(
        "/api/reporting/providers", headers={"Authorization": f"Bearer {issue_token(system.settings.secret_key, expired)}"}
    )
    assert r.status == 401 and "过期" in (await r.json())["detail"]

    token = system.token("admin")
    from shared.auth import read_token

    sid = read_token(system.settings.secret_key, token).session_id
    await system.ctx("reporting").pool.execute(
        "INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2)", sid, datetime.now(UTC) + timedelta(hours=1)
    )
    async def refused():  # the insert's NOTIFY reaches the service within milliseconds
        r = await system.client.get("/api/reporting/providers", headers={"Authorization": f"Bearer {token}"})
        return r.status == 401 and "注销" in (await r.json())["detail"]

    await system.eventually(refused, limit=5)


async def test_a_stale_session_cookie_is_forgotten_and_public_routes_keep_working(system: System):
    """A browser whose cookie was revoked elsewhere (logout in another tab, password change, account
    disabled) must still reach the login box: public routes answer as to a visitor and expire the
    cookie; protected ones answer 401 with the reason. A bad bearer token stays a 401 everywhere."""
    from shared.auth import read_token

    token = system.token("admin")
    sid = read_token(system.settings.secret_key, token).session_id
    r = await system.client.delete("/api/filing/sessions/current", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 204
    stale = {"Cookie": f"icp_session={token}"}
    for path in ("/api/filing/captcha", "/api/filing/announcements"):
        r = await system.client.get(path, headers=stale)
        assert r.status == 200, (path, await r.text())
        assert 'icp_session=""' in r.headers["Set-Cookie"] and "Max-Age=0" in r.headers["Set-Cookie"]
    r = await system.client.get("/api/filing/me", headers=stale)
    assert r.status == 401 and (await r.json())["detail"] == "登录已注销，请重新登录"
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    r = await system.client.get("/api/filing/captcha", headers={"Cookie": "icp_session=garbage"})
    assert r.status == 200 and "Max-Age=0" in r.headers["Set-Cookie"]
    # a valid cookie is kept (no expiry sent), a stale bearer token is refused even on a public route
    r = await system.client.get("/api/filing/captcha", headers={"Cookie": f"icp_session={system.token('admin')}"})
    assert r.status == 200 and "Set-Cookie" not in r.headers
    r = await system.client.get("/api/filing/captcha", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 401 and sid


async def test_unexpected_error_is_a_generic_500_without_details(system: System):
    ctx = system.ctx("reporting")
    pool = ctx.pool

    class Broken:
        async def fetch(self, *a, **k):
            raise RuntimeError("secret internal detail")

        async def fetchval(self, *a, **k):
            return None

    ctx.pool = Broken()
    try:
        r = await system.client.get("/api/reporting/providers", headers=system.auth("admin"))
    finally:
        ctx.pool = pool
    body = await r.json()
    assert r.status == 500 and "secret" not in body["detail"] and body["title"] == "服务器内部错误"


async def test_revocations_are_seen_through_notify_and_without_the_listener(system: System):
    from datetime import UTC, datetime, timedelta

    from shared.auth import read_token

    ctx = system.ctx("detection")
    cache = ctx.revocations

    async def revoke(token: str) -> str:
        sid = read_token(system.settings.secret_key, token).session_id
        await ctx.pool.execute("INSERT INTO revoked_sessions (session_id, expires_at) VALUES ($1, $2)",
                               sid, datetime.now(UTC) + timedelta(hours=1))
        return sid

    # with the listener: the NOTIFY puts the id into memory
    token = system.token("admin")
    sid = await revoke(token)
    await system.eventually(lambda: _in(cache, sid))

    # listener lost: the table answers until it is back
    await cache.stop()
    token2 = system.token("admin")
    await revoke(token2)
    r = await system.client.get("/api/detection/unfiled", headers={"Authorization": f"Bearer {token2}"})
    assert r.status == 401
    await cache.start()
    assert await cache.is_revoked(read_token(system.settings.secret_key, token2).session_id)


async def _in(cache, sid):
    return sid in cache._ids
