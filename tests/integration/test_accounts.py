"""Accounts through the real services: captcha, login, lockout, logout everywhere, me, administration."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import aiohttp
from aiohttp.test_utils import TestClient

from services.filing.accounts.model import captcha_digest
from shared.auth import read_token
from tests.conftest import System, service_app
from tests.integration.filing_helpers import new_sponsor

# ---------------------------------------------------------------- helpers (also used by test_content*.py)


def uid(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def make_provider(system: System, province: str = "BJ") -> str:
    pid = uid("p")
    r = await system.client.post("/api/filing/providers", json={"name": f"测试接入商{pid}", "province": province,
                                                                "provider_id": pid}, headers=system.auth())
    assert r.status == 201, await r.text()
    return pid


async def make_user(system: System, role: str, *, password: str = "pass123", **kw) -> dict:
    """Create an account through the admin API; returns {username, password, id, ...}."""
    username = kw.pop("username", None) or uid(role[:3] + "-")
    r = await system.client.post("/api/filing/users", json={"role": role, "username": username, "password": password,
                                                            **kw}, headers=system.auth())
    assert r.status == 201, await r.text()
    body = await r.json()
    return {"username": username, "password": password, **body["user"]}


async def new_captcha(client: TestClient) -> tuple[str, str]:
    r = await client.get("/api/filing/captcha?test_answer=1")
    assert r.status == 200, await r.text()
    body = await r.json()
    return body["captcha_id"], body["answer"]


async def post_login(client: TestClient, payload: dict):
    """POST /sessions without the shared client's cookie jar (a login cookie must not leak into other tests)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as s:
        r = await s.post(client.make_url("/api/filing/sessions"), json=payload)
        return r.status, r.headers, await r.json()


async def login(system: System, username: str, password: str, role: str, *, client: TestClient | None = None,
                **override):
    client = client or system.client
    cid, answer = await new_captcha(client)
    payload = {"username": username, "password": password, "role": role, "captcha_id": cid, "captcha": answer}
    return await post_login(client, payload | override)


async def token_of(system: System, user: dict, role: str | None = None) -> str:
    status, _, body = await login(system, user["username"], user["password"], role or user["role"])
    assert status == 201, body
    return body["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- captcha and login


async def test_captcha_is_a_png_data_url_with_expiry(system: System):
    r = await system.client.get("/api/filing/captcha")
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
    body = await r.json()
    assert body["image"].startswith("data:image/png;base64,") and body["expires_in"] == 300
    assert "answer" not in body  # only on request, and only in the test environment
    stored = await system.ctx("filing").pool.fetchrow(
        "SELECT answer_hash, expires_at - created_at AS ttl FROM captchas WHERE id = $1", uuid.UUID(body["captcha_id"]))
    assert stored["ttl"].total_seconds() == 300 and len(stored["answer_hash"]) == 64


async def test_login_sets_an_httponly_cookie_and_the_token_works_as_bearer_and_cookie(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid, display_name="张三")
    status, headers, body = await login(system, user["username"].upper(), "pass123", "provider")  # name: any case
    assert status == 201, body
    assert body["token_type"] == "Bearer" and body["user"]["username"] == user["username"]
    assert body["user"]["provider_id"] == pid and body["user"]["role_name"] == "接入服务提供者"
    cookie = headers["Set-Cookie"]
    assert f"icp_session={body['token']}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # ICP_ENV=test serves plain HTTP
    assert headers["Cache-Control"] == "no-store"

    r = await system.client.get("/api/filing/me", headers=bearer(body["token"]))
    me = await r.json()
    assert r.status == 200 and me["display_name"] == "张三" and me["last_login_at"]
    r = await system.client.get("/api/filing/me", headers={"Cookie": f"icp_session={body['token']}"})
    assert r.status == 200 and (await r.json())["id"] == user["id"]
    # the session is recorded for later revocation
    n = await system.ctx("filing").pool.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1",
                                                 uuid.UUID(user["id"]))
    assert n == 1


async def test_bureau_token_carries_its_province_and_sponsor_logs_in_with_its_generated_password(system: System):
    reviewer = await make_user(system, "bureau", province="GD", password="review123")
    status, _, body = await login(system, reviewer["username"], "review123", "bureau")
    assert status == 201 and body["user"]["province"] == "GD" and body["user"]["province_name"] == "广东省"
    p = read_token(system.settings.secret_key, body["token"])
    assert p.province == "GD" and p.provider_id is None and p.role == "bureau"

    pid = await make_provider(system)
    sponsor = await new_sponsor(system, pid, "某某公司")
    status, _, body = await login(system, sponsor.username, sponsor.password, "sponsor")
    assert status == 201, body
    assert read_token(system.settings.secret_key, body["token"]).provider_id == pid


async def test_each_missing_login_field_is_named(system: System):
    status, _, body = await post_login(system.client, {})
    assert status == 422
    assert [e["field"] for e in body["errors"]] == ["username", "password", "role", "captcha_id", "captcha"]
    assert body["errors"][0]["message"] == "请输入用户名" and "不能为空" in body["detail"]

    cid, answer = await new_captcha(system.client)
    status, _, body = await post_login(system.client, {"username": "someone", "password": " ", "role": "",
                                                       "captcha_id": cid, "captcha": answer})
    assert status == 422 and [e["field"] for e in body["errors"]] == ["password", "role"]
    assert {e["message"] for e in body["errors"]} == {"请输入密码", "请选择登录角色"}
    # that attempt used the captcha up
    status, _, body = await post_login(system.client, {"username": "someone", "password": "x", "role": "provider",
                                                       "captcha_id": cid, "captcha": answer})
    assert status == 422 and body["errors"] == [{"field": "captcha", "message": "验证码已失效，请刷新后重新输入"}]


async def test_wrong_captcha_is_refused_and_the_captcha_is_single_use(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    cid, answer = await new_captcha(system.client)
    wrong = "".join("A" if c != "A" else "B" for c in answer)
    payload = {"username": user["username"], "password": "pass123", "role": "provider", "captcha_id": cid}
    status, _, body = await post_login(system.client, payload | {"captcha": wrong})
    assert status == 422 and body["errors"] == [{"field": "captcha", "message": "验证码错误，请重新输入"}]
    status, _, body = await post_login(system.client, payload | {"captcha": answer})  # right, but already used
    assert status == 422 and body["errors"][0]["field"] == "captcha" and "失效" in body["errors"][0]["message"]
    # a wrong captcha is not a password failure
    assert await system.ctx("filing").pool.fetchval(
        "SELECT failed_logins FROM users WHERE id = $1", uuid.UUID(user["id"])) == 0
    # the answer is case-insensitive
    status, _, body = await login(system, user["username"], "pass123", "provider")
    assert status == 201
    cid, answer = await new_captcha(system.client)
    status, _, _ = await post_login(system.client, payload | {"captcha_id": cid, "captcha": answer.lower()})
    assert status == 201


async def test_expired_captcha_is_refused(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    cid = str(uuid.uuid4())
    await system.ctx("filing").pool.execute(
        "INSERT INTO captchas (id, answer_hash, expires_at) VALUES ($1, $2, now() - interval '1 second')",
        uuid.UUID(cid), captcha_digest(system.settings.secret_key, cid, "AB3K"),
    )
    status, _, body = await post_login(system.client, {"username": user["username"], "password": "pass123",
                                                       "role": "provider", "captcha_id": cid, "captcha": "AB3K"})
    assert status == 422 and body["errors"] == [{"field": "captcha", "message": "验证码已失效，请刷新后重新输入"}]
    assert not await system.ctx("filing").pool.fetchval("SELECT true FROM captchas WHERE id = $1", uuid.UUID(cid))
    status, _, _ = await post_login(system.client, {"username": user["username"], "password": "pass123",
                                                    "role": "provider", "captcha_id": "not-a-uuid", "captcha": "x"})
    assert status == 422


async def test_wrong_password_unknown_user_and_role_mismatch_answer_alike(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    answers = [
        await login(system, user["username"], "wrong123", "provider"),
        await login(system, uid("nobody"), "pass123", "provider"),
        await login(system, user["username"], "pass123", "bureau"),  # right password, wrong role
    ]
    assert {a[0] for a in answers} == {401}
    assert {a[2]["detail"] for a in answers} == {"用户名、密码或登录角色不正确"}
    assert await system.ctx("filing").pool.fetchval(
        "SELECT failed_logins FROM users WHERE id = $1", uuid.UUID(user["id"])) == 2


async def test_five_failures_lock_the_account_for_fifteen_minutes(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    for _ in range(4):
        status, _, _ = await login(system, user["username"], "wrong123", "provider")
        assert status == 401
    status, _, body = await login(system, user["username"], "wrong123", "provider")
    assert status == 423, body
    assert "连续5次登录失败" in body["detail"] and "锁定" in body["detail"] and "北京时间" in body["detail"]
    pool = system.ctx("filing").pool
    minutes = await pool.fetchval(
        "SELECT extract(epoch FROM locked_until - now()) / 60 FROM users WHERE id = $1", uuid.UUID(user["id"]))
    assert 14 < minutes <= 15 and body["locked_until"]
    # even the right password is refused while locked, saying until when
    status, _, body = await login(system, user["username"], "pass123", "provider")
    assert status == 423 and "后再试" in body["detail"]
    # once the lock has passed, the right password works and the counter starts again
    await pool.execute("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1",
                       uuid.UUID(user["id"]))
    status, _, body = await login(system, user["username"], "pass123", "provider")
    assert status == 201, body
    assert await pool.fetchval("SELECT failed_logins FROM users WHERE id = $1", uuid.UUID(user["id"])) == 0


# ---------------------------------------------------------------- logout


async def test_logout_revokes_the_token_on_filing_at_once_and_on_other_services_soon(system: System):
    admin = await make_user(system, "admin", password="admin123")
    token = await token_of(system, admin)
    assert (await system.client.get("/api/reporting/providers", headers=bearer(token))).status == 200

    session_id = read_token(system.settings.secret_key, token).session_id
    r = await system.client.delete("/api/filing/sessions/current", headers=bearer(token))
    assert r.status == 204
    assert 'icp_session=""' in r.headers["Set-Cookie"] and "Max-Age=0" in r.headers["Set-Cookie"]
    r = await system.client.get("/api/filing/me", headers=bearer(token))
    assert r.status == 401 and (await r.json())["detail"] == "登录已注销，请重新登录"
    r = await system.client.get("/api/filing/me", headers={"Cookie": f"icp_session={token}"})
    assert r.status == 401

    async def refused_by_reporting():
        resp = await system.client.get("/api/reporting/providers", headers=bearer(token))
        return resp.status == 401

    await system.eventually(refused_by_reporting)
    for service in ("verification", "importer", "detection"):
        pool = system.ctx(service).pool
        await system.eventually(lambda pool=pool: pool.fetchval(
            "SELECT count(*) FROM revoked_sessions WHERE session_id = $1", session_id))
    # the revocation event carries no token
    body = await system.ctx("filing").pool.fetchval(
        "SELECT convert_from(body, 'UTF8') FROM outbox WHERE routing_key = 'filing.session.revoked' "
        "ORDER BY seq DESC LIMIT 1")
    assert token not in body and token.split(".")[1] not in body


async def test_logout_needs_a_session(system: System):
    r = await system.client.delete("/api/filing/sessions/current")
    assert r.status == 401


# ---------------------------------------------------------------- me


async def test_change_password(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    token = await token_of(system, user)
    other = await token_of(system, user)  # the same user on another browser

    r = await system.client.put("/api/filing/me/password", json={"old_password": "nope123", "new_password": "next456"},
                                headers=bearer(token))
    assert r.status == 422 and (await r.json())["errors"] == [{"field": "old_password", "message": "原密码不正确"}]
    r = await system.client.put("/api/filing/me/password", json={"old_password": "pass123", "new_password": "12345678"},
                                headers=bearer(token))
    body = await r.json()
    assert r.status == 422 and body["errors"][0]["field"] == "new_password"
    r = await system.client.put("/api/filing/me/password", json={"old_password": "pass123", "new_password": "pass123"},
                                headers=bearer(token))
    assert r.status == 422 and "相同" in (await r.json())["errors"][0]["message"]
    r = await system.client.put("/api/filing/me/password", json={"old_password": "pass123"}, headers=bearer(token))
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "new_password"

    r = await system.client.put("/api/filing/me/password", json={"old_password": "pass123", "new_password": "next456"},
                                headers=bearer(token))
    assert r.status == 200, await r.text()
    assert (await r.json())["revoked_sessions"] == 1
    stored = await system.ctx("filing").pool.fetchval("SELECT password_hash FROM users WHERE id = $1",
                                                      uuid.UUID(user["id"]))
    assert stored.startswith("$argon2id$")
    assert (await system.client.get("/api/filing/me", headers=bearer(token))).status == 200  # this session stays
    assert (await system.client.get("/api/filing/me", headers=bearer(other))).status == 401  # the other is ended
    assert (await login(system, user["username"], "pass123", "provider"))[0] == 401
    assert (await login(system, user["username"], "next456", "provider"))[0] == 201


async def test_sponsor_password_follows_the_sponsor_rule(system: System):
    pid = await make_provider(system)
    sponsor = await new_sponsor(system, pid, "某某公司")
    token = await token_of(system, {"username": sponsor.username, "password": sponsor.password, "role": "sponsor"})
    r = await system.client.put("/api/filing/me/password",
                                json={"old_password": sponsor.password, "new_password": "onlyletters"},
                                headers=bearer(token))
    assert r.status == 200, await r.text()  # letters only: fine for a sponsor (seed 1.6.1), not for a provider


async def test_profile_edit_validates_phone_and_email(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    h = bearer(await token_of(system, user))

    r = await system.client.patch("/api/filing/me", json={"phone": "12345", "email": "not-mail"}, headers=h)
    body = await r.json()
    assert r.status == 422 and {e["field"] for e in body["errors"]} == {"phone", "email"}
    assert any("手机号码" in e["message"] for e in body["errors"])
    r = await system.client.patch("/api/filing/me", json={"display_name": "李四", "phone": "13800138000",
                                                          "email": "li@Example.com"}, headers=h)
    me = await r.json()
    assert r.status == 200 and me["phone"] == "13800138000" and me["email"] == "li@example.com"
    assert me["display_name"] == "李四"
    r = await system.client.patch("/api/filing/me", json={"phone": "086-010-87654321-123"}, headers=h)
    assert (await r.json())["phone"] == "086-010-87654321-123"
    r = await system.client.patch("/api/filing/me", json={"phone": None}, headers=h)
    me = await r.json()
    assert me["phone"] is None and me["email"] == "li@example.com"
    r = await system.client.patch("/api/filing/me", json={"role": "admin"}, headers=h)
    assert r.status == 422 and (await r.json())["errors"] == [{"field": "role", "message": "不允许的字段"}]
    r = await system.client.patch("/api/filing/me", json={"display_name": ""}, headers=h)
    assert r.status == 422
    me = await (await system.client.get("/api/filing/me", headers=h)).json()
    assert me["display_name"] == "李四" and me["phone"] is None


async def test_me_for_a_token_without_an_account_shows_the_token(system: System):
    r = await system.client.get("/api/filing/me", headers=system.auth("admin"))
    assert r.status == 200 and (await r.json())["role"] == "admin"
    r = await system.client.patch("/api/filing/me", json={"display_name": "某人"}, headers=system.auth("admin"))
    assert r.status == 404


# ---------------------------------------------------------------- administration


async def test_only_admins_manage_accounts(system: System):
    pid = await make_provider(system)
    body = {"role": "provider", "username": uid("op-"), "password": "pass123", "provider_id": pid}
    r = await system.client.post("/api/filing/users", json=body, headers=system.auth("provider", provider_id=pid))
    assert r.status == 403
    assert (await system.client.post("/api/filing/users", json=body)).status == 401
    assert (await system.client.get("/api/filing/users", headers=system.auth("bureau", province="BJ"))).status == 403


async def test_account_creation_rules_and_listing(system: System):
    pid = await make_provider(system)
    h = system.auth()
    name = uid("op-")
    r = await system.client.post("/api/filing/users", json={"role": "provider", "username": name, "password": "123456",
                                                            "provider_id": pid}, headers=h)
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "password"
    r = await system.client.post("/api/filing/users", json={"role": "provider", "username": name, "password": "pass123",
                                                            "provider_id": "no-such-provider"}, headers=h)
    assert r.status == 422 and "不存在" in (await r.json())["errors"][0]["message"]
    r = await system.client.post("/api/filing/users", json={"role": "bureau", "username": name,
                                                            "generate_password": True}, headers=h)
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "province"

    r = await system.client.post("/api/filing/users", json={"role": "provider", "username": name,
                                                            "generate_password": True, "provider_id": pid}, headers=h)
    assert r.status == 201
    created = await r.json()
    assert created["password"] and created["user"]["role"] == "provider" and "password_hash" not in created["user"]
    assert r.headers["Cache-Control"] == "no-store"
    r = await system.client.post("/api/filing/users", json={"role": "admin", "username": name.upper(),
                                                            "password": "pass123"}, headers=h)
    assert r.status == 409 and name.upper() in (await r.json())["detail"]
    assert (await login(system, name, created["password"], "provider"))[0] == 201

    r = await system.client.get(f"/api/filing/users?provider_id={pid}", headers=h)
    listed = await r.json()
    assert r.status == 200 and listed["total"] == 1 and listed["items"][0]["username"] == name
    r = await system.client.get("/api/filing/users?role=root", headers=h)
    assert r.status == 422
    r = await system.client.get(f"/api/filing/users/{created['user']['id']}", headers=h)
    assert (await r.json())["provider_name"] == f"测试接入商{pid}"
    assert (await system.client.get(f"/api/filing/users/{uuid.uuid4()}", headers=h)).status == 404
    assert (await system.client.get("/api/filing/users/not-an-id", headers=h)).status == 404


async def test_disabling_an_account_ends_its_sessions_and_unlock_lifts_a_lock(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    token = await token_of(system, user)
    r = await system.client.patch(f"/api/filing/users/{user['id']}", json={"disabled": True}, headers=system.auth())
    assert r.status == 200 and (await r.json())["disabled"] is True
    assert (await system.client.get("/api/filing/me", headers=bearer(token))).status == 401
    status, _, body = await login(system, user["username"], "pass123", "provider")
    assert status == 403 and "停用" in body["detail"]
    await system.client.patch(f"/api/filing/users/{user['id']}", json={"disabled": False}, headers=system.auth())
    for _ in range(5):
        await login(system, user["username"], "wrong123", "provider")
    assert (await login(system, user["username"], "pass123", "provider"))[0] == 423
    r = await system.client.patch(f"/api/filing/users/{user['id']}", json={"unlock": True}, headers=system.auth())
    assert r.status == 200 and (await r.json())["locked_until"] is None
    assert (await login(system, user["username"], "pass123", "provider"))[0] == 201


async def test_revocations_take_effect_in_this_process_without_waiting_for_notify(system: System):
    """Disabling an account or changing a password is refused by the same process at once: the NOTIFY
    that tells the cache comes after the commit, and a request may come first."""
    from shared.revocation import channel

    cache = system.ctx("filing").revocations
    listener = cache.listener
    await listener.unsubscribe(channel(cache.schema), cache._on_notify)  # NOTIFYs go nowhere
    try:
        pid = await make_provider(system)
        user = await make_user(system, "provider", provider_id=pid)
        other, mine = await token_of(system, user), await token_of(system, user)
        r = await system.client.put("/api/filing/me/password", headers=bearer(mine),
                                    json={"old_password": "pass123", "new_password": "newpass456"})
        assert r.status == 200 and (await r.json())["revoked_sessions"] == 1
        assert (await system.client.get("/api/filing/me", headers=bearer(other))).status == 401
        assert (await system.client.get("/api/filing/me", headers=bearer(mine))).status == 200
        r = await system.client.patch(f"/api/filing/users/{user['id']}", json={"disabled": True}, headers=system.auth())
        assert r.status == 200
        assert (await system.client.get("/api/filing/me", headers=bearer(mine))).status == 401
    finally:
        await listener.subscribe(channel(cache.schema), cache._on_notify)


async def test_cli_creates_accounts(system: System, pg_dsn, amqp_url, monkeypatch, capsys):
    """`icp admin create-operator|create-reviewer|create-admin`, run as the command runs (own event loop)."""
    import asyncio
    import json

    import pytest

    from shared import cli, config

    pid = await make_provider(system)
    monkeypatch.setenv("ICP_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("ICP_AMQP_URL", amqp_url)
    monkeypatch.setenv("ICP_LOG_FORMAT", "console")
    config.get_settings.cache_clear()
    try:
        name = uid("cli-")
        await asyncio.to_thread(cli.main, ["admin", "create-operator", "--provider-id", pid, "--username", name,
                                           "--generate"])
        out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert out["user"]["provider_id"] == pid and out["password"]
        assert (await login(system, name, out["password"], "provider"))[0] == 201
        reviewer = uid("rev-")
        await asyncio.to_thread(cli.main, ["admin", "create-reviewer", "--province", "SH", "--username", reviewer,
                                           "--password", "review123"])
        out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert out["user"]["province"] == "SH" and out["password"] is None
        await asyncio.to_thread(cli.main, ["admin", "create-provider", "--name", "命令行接入商", "--province", "BJ"])
        created = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert await system.ctx("filing").pool.fetchval(
            "SELECT name FROM providers WHERE provider_id = $1", created["provider_id"]) == "命令行接入商"
        with pytest.raises(SystemExit, match="密码"):
            await asyncio.to_thread(cli.main, ["admin", "create-admin", "--username", uid("adm-"), "--password", "123"])
        with pytest.raises(SystemExit, match="不存在"):
            await asyncio.to_thread(cli.main, ["admin", "create-operator", "--provider-id", "nope", "--username",
                                               uid("op-"), "--password", "pass123"])
    finally:
        config.get_settings.cache_clear()


# ---------------------------------------------------------------- environments other than test


@asynccontextmanager
async def filing_app(system: System, env: str, **settings):
    """The filing API built with another ICP_ENV (and other `settings`), on the test database and broker."""
    async with service_app(system, "filing", settings=system.settings.model_copy(update={"env": env, **settings})) as c:
        yield c


async def test_the_captcha_answer_never_leaves_outside_the_test_environment(system: System):
    for env in ("dev", "prod"):
        async with filing_app(system, env) as client:
            for query in ("?test_answer=1", "?test_answer=true", ""):
                r = await client.get("/api/filing/captcha" + query)
                body = await r.json()
                assert r.status == 200 and "answer" not in body, (env, query)
                assert body["image"].startswith("data:image/png;base64,")


async def test_the_session_cookie_is_secure_in_production(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    async with filing_app(system, "prod") as client:
        # the answer is not exposed there, so plant a captcha whose answer the test knows
        cid = str(uuid.uuid4())
        await system.ctx("filing").pool.execute(
            "INSERT INTO captchas (id, answer_hash, expires_at) VALUES ($1, $2, now() + interval '5 minutes')",
            uuid.UUID(cid), captcha_digest(system.settings.secret_key, cid, "XY7Z"))
        status, headers, body = await post_login(client, {"username": user["username"], "password": "pass123",
                                                          "role": "provider", "captcha_id": cid, "captcha": "xy7z"})
        assert status == 201, body
        assert "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]


async def test_housekeeping_purges_expired_captchas_and_sessions(system):
    import uuid
    from datetime import UTC, datetime, timedelta

    from services.filing.housekeeping import purge_expired

    ctx = system.ctx("filing")
    old = datetime.now(UTC) - timedelta(days=3)
    cid = uuid.uuid4()
    await ctx.pool.execute("INSERT INTO captchas (id, answer_hash, expires_at) VALUES ($1, 'x', $2)", cid, old)
    await purge_expired(ctx)
    assert await ctx.pool.fetchval("SELECT count(*) FROM captchas WHERE id = $1", cid) == 0
