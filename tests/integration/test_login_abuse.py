"""Login abuse on the real filing service: no account enumeration by answer or by work, wrong old
passwords lock like logins, and per-client-address limits on captchas and failed logins."""

from __future__ import annotations

import re
import uuid

import aiohttp

from services.filing.accounts import handlers as accounts
from tests.conftest import System
from tests.integration.change_helpers import filed
from tests.integration.filing_helpers import Tenant, new_sponsor, new_tenant
from tests.integration.test_accounts import (
    bearer,
    filing_app,
    login,
    make_provider,
    make_user,
    new_captcha,
    token_of,
    uid,
)

TRUST_LOCAL = {"trusted_proxies": ["127.0.0.1/32"]}


def _address() -> str:
    """A client address of its own for each test (198.18.0.0/15 is for benchmarking)."""
    n = uuid.uuid4().int
    return f"198.18.{n % 256}.{(n >> 8) % 254 + 1}"


def _shape(answer) -> tuple:
    """What a client sees of a refusal, without the minute of the lock's end."""
    status, headers, body = answer
    detail = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "<time>", body.get("detail", ""))
    return status, detail, sorted(body), headers.get("Retry-After")


async def test_a_name_that_is_no_account_answers_exactly_like_an_account(system: System):
    pid = await make_provider(system)
    real = await make_user(system, "provider", provider_id=pid)
    ghost = uid("ghost")
    for attempt in range(1, 6):
        a = await login(system, real["username"], "wrong123", "provider")
        b = await login(system, ghost, "wrong123", "provider")
        assert _shape(a) == _shape(b), attempt
        assert a[0] == (423 if attempt == 5 else 401), a
    # locked, both of them, even with the right password; and they say so alike
    a = await login(system, real["username"], real["password"], "provider")
    b = await login(system, ghost, real["password"], "provider")
    assert a[0] == b[0] == 423 and _shape(a) == _shape(b)
    assert a[2]["locked_until"][:16] == b[2]["locked_until"][:16]


async def test_every_refusal_costs_one_argon2_verification(system: System, monkeypatch):
    pid = await make_provider(system)
    operator = await make_user(system, "provider", provider_id=pid)
    sponsor = await new_sponsor(system, pid)  # a generated password: PBKDF2, microseconds to check
    locked = await make_user(system, "provider", provider_id=pid)
    await system.ctx("filing").pool.execute(
        "UPDATE users SET locked_until = now() + interval '10 minutes' WHERE id = $1", uuid.UUID(locked["id"]))
    schemes: list[str] = []
    real_verify = accounts.verify_password

    def counting(stored: str, password: str) -> bool:
        schemes.append("argon2" if stored.startswith("$argon2") else stored.split("$")[1])
        return real_verify(stored, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    cases = {
        "unknown name": (uid("nobody"), "wrong123", "provider"),
        "operator, wrong password": (operator["username"], "wrong123", "provider"),
        "sponsor, wrong password": (sponsor.username, "wrong123", "sponsor"),
        "sponsor, right password, wrong role": (sponsor.username, sponsor.password, "provider"),
        "locked account, right password": (locked["username"], locked["password"], "provider"),
    }
    for what, (username, password, role) in cases.items():
        schemes.clear()
        status, _, body = await login(system, username, password, role)
        assert status in (401, 423), (what, body)
        assert schemes.count("argon2") == 1, (what, schemes)
    # a successful login of a generated password stays cheap
    schemes.clear()
    status, _, _ = await login(system, sponsor.username, sponsor.password, "sponsor")
    assert status == 201 and schemes == ["pbkdf2-sha256"]


async def test_the_sponsor_credentials_check_does_not_reveal_accounts_either(system: System, tenant: Tenant):
    """权限验证 (another provider adding access with the sponsor's credentials) checks a password too."""
    f = await filed(tenant)
    other = await new_tenant(system)
    access = {"access_methods": ["CLOUD"], "ip_ranges": [{"start_ip": "192.0.2.10", "end_ip": "192.0.2.10"}],
              "server_locations": ["BJ"]}
    url = f"/websites/{f['website_nos'][0]}/accesses"

    async def attempt(username, password):
        status, body = await other.call("POST", url, json={"access": access,
                                                            "sponsor": {"username": username, "password": password}})
        return status, {}, body

    ghost = "zbz" + uuid.uuid4().hex[:8]
    for n in range(1, 6):
        a, b = await attempt(f["username"], "Wrong-pass-1"), await attempt(ghost, "Wrong-pass-1")
        assert _shape(a) == _shape(b), n
        assert a[0] == (423 if n == 5 else 403), a
    a, b = await attempt(f["username"], f["password"]), await attempt(ghost, f["password"])
    assert a[0] == b[0] == 423 and _shape(a) == _shape(b)


async def test_wrong_old_passwords_count_and_lock_like_logins(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)
    token = await token_of(system, user)
    url = "/api/filing/me/password"
    for _ in range(4):
        r = await system.client.put(url, json={"old_password": "wrong123", "new_password": "newpass456"},
                                    headers=bearer(token))
        assert r.status == 422 and (await r.json())["errors"][0]["field"] == "old_password"
    r = await system.client.put(url, json={"old_password": "wrong123", "new_password": "newpass456"},
                                headers=bearer(token))
    body = await r.json()
    assert r.status == 423 and "连续5次" in body["detail"] and body["locked_until"], body
    # locked: the right old password changes nothing, and logging in is refused too
    r = await system.client.put(url, json={"old_password": user["password"], "new_password": "newpass456"},
                                headers=bearer(token))
    assert r.status == 423, await r.text()
    status, _, _ = await login(system, user["username"], user["password"], "provider")
    assert status == 423
    status, _, _ = await login(system, user["username"], "newpass456", "provider")
    assert status == 423


async def test_the_captcha_is_limited_per_client_address(system: System):
    async with filing_app(system, "test", captcha_per_minute=3, **TRUST_LOCAL) as client:
        a, b = _address(), _address()
        for _ in range(3):
            r = await client.get("/api/filing/captcha", headers={"X-Forwarded-For": a})
            assert r.status == 200, await r.text()
        r = await client.get("/api/filing/captcha", headers={"X-Forwarded-For": a})
        body = await r.json()
        assert r.status == 429 and r.content_type == "application/problem+json", body
        assert "验证码" in body["detail"] and "后再试" in body["detail"]
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # another client is not affected
        r = await client.get("/api/filing/captcha", headers={"X-Forwarded-For": b})
        assert r.status == 200
    async with filing_app(system, "test", captcha_per_minute=3) as client:
        # the peer (127.0.0.1) is no trusted proxy here: a made-up X-Forwarded-For does not reset the count
        statuses = [(await client.get("/api/filing/captcha", headers={"X-Forwarded-For": _address()})).status
                    for _ in range(8)]
        assert 429 in statuses, statuses


async def test_failed_logins_are_limited_per_address_so_one_client_cannot_lock_everyone(system: System):
    pid = await make_provider(system)
    victims = [await make_user(system, "provider", provider_id=pid) for _ in range(2)]
    attacker, victim_address = _address(), _address()
    pool = system.ctx("filing").pool
    async with filing_app(system, "test", login_address_max_failures=3, **TRUST_LOCAL) as client:

        async def attempt(address, username, password):
            cid, answer = await new_captcha(system.client)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as s:
                r = await s.post(client.make_url("/api/filing/sessions"), headers={"X-Forwarded-For": address},
                                 json={"username": username, "password": password, "role": "provider",
                                       "captcha_id": cid, "captcha": answer})
                return r.status, r.headers, await r.json()

        for v in victims + [{"username": uid("nobody")}]:
            status, _, _ = await attempt(attacker, v["username"], "wrong123")
            assert status == 401
        status, headers, body = await attempt(attacker, victims[0]["username"], "wrong123")
        assert status == 429 and "登录失败次数过多" in body["detail"], body
        assert 60 < int(headers["Retry-After"]) <= 15 * 60
        # refused before the account is even looked at: its counter did not move
        assert await pool.fetchval("SELECT failed_logins FROM users WHERE id = $1", uuid.UUID(victims[0]["id"])) == 1
        # the attacker is refused even with the right password; the victim, elsewhere, logs in
        status, _, _ = await attempt(attacker, victims[1]["username"], victims[1]["password"])
        assert status == 429
        status, _, body = await attempt(victim_address, victims[0]["username"], victims[0]["password"])
        assert status == 201, body
        # the session records the client's address (the trusted proxy's X-Forwarded-For)
        assert await pool.fetchval("SELECT client_ip FROM sessions WHERE user_id = $1",
                                   uuid.UUID(victims[0]["id"])) == victim_address


async def test_housekeeping_purges_unknown_names(system: System):
    from services.filing.housekeeping import purge_expired

    ctx = system.ctx("filing")
    old, fresh, locked = uid("old"), uid("fresh"), uid("locked")
    await ctx.pool.execute(
        """INSERT INTO unknown_login_failures (username, failed_logins, failed_since, locked_until) VALUES
           ($1, 2, now() - interval '16 minutes', NULL), ($2, 2, now() - interval '1 minute', NULL),
           ($3, 0, NULL, now() + interval '5 minutes')""", old, fresh, locked)
    await purge_expired(ctx)
    assert {r["username"] for r in await ctx.pool.fetch(
        "SELECT username FROM unknown_login_failures WHERE username = ANY($1)", [old, fresh, locked])} == {fresh, locked}
    # (the per-address counters are the platform's: tests/integration/test_ratelimit.py purges them)
