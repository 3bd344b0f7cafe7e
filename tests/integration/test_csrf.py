"""Cross-site request forgery on the real services: a cookie-authenticated state change (or a login)
from another origin is refused; the same origin and bearer-token clients work; JSON endpoints take
only JSON bodies."""

from __future__ import annotations

import uuid

import aiohttp
from aiohttp import FormData

from services.importer.template import build_template
from tests.conftest import System
from tests.integration.filing_helpers import Tenant
from tests.integration.test_accounts import filing_app, make_provider, make_user, new_captcha

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVIL = "https://evil.example"
CROSS = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
OLD_BROWSER = {"Origin": EVIL}  # no Sec-Fetch-Site: Origin is compared with Host


def own_origin(system: System) -> str:
    return f"http://{system.client.host}:{system.client.port}"


def same(system: System) -> dict[str, str]:
    return {"Origin": own_origin(system), "Sec-Fetch-Site": "same-origin"}


def cookie_of(t: Tenant) -> dict[str, str]:
    token = t.system.token("provider", user_id=t.operator_id, provider_id=t.provider_id)
    return {"icp_session": token}


async def _call(system: System, method: str, path: str, *, cookies=None, headers=None, **kw):
    """A request in its own session, so cookies are exactly the ones given."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        s.cookie_jar.update_cookies(cookies or {}, response_url=system.client.make_url("/"))
        async with s.request(method, system.client.make_url(path), headers=headers or {}, **kw) as r:
            body = await r.json() if r.content_type.endswith("json") else await r.text()
            return r.status, r.content_type, body


def _refused(status, ctype, body) -> None:
    assert status == 403, body
    assert ctype == "application/problem+json"
    assert "跨站请求已拒绝" in body["detail"] and EVIL in body["detail"]


async def _drafts(t: Tenant) -> int:
    return await t.system.ctx("filing").pool.fetchval(
        "SELECT count(*) FROM drafts WHERE operator_id = $1", t.operator_id)


async def _jobs(system: System, provider_id: str) -> int:
    return await system.ctx("importer").pool.fetchval(
        "SELECT count(*) FROM import_jobs WHERE provider_id = $1", provider_id)


def _upload_form() -> FormData:
    form = FormData()
    form.add_field("file", build_template(), filename="导入.xlsx", content_type=XLSX)
    return form


async def test_cross_origin_cookie_requests_are_refused_and_change_nothing(system: System, tenant: Tenant):
    cookies = cookie_of(tenant)
    for headers in (CROSS, OLD_BROWSER):
        # the classic forged HTML form, and a forged JSON fetch
        _refused(*await _call(system, "POST", "/api/filing/drafts", cookies=cookies, headers=headers,
                              data="a=1", ))
        _refused(*await _call(system, "POST", "/api/filing/drafts", cookies=cookies, headers=headers, json={}))
        _refused(*await _call(system, "POST", "/api/importer/jobs", cookies=cookies, headers=headers,
                              data=_upload_form()))
        _refused(*await _call(system, "POST", "/api/filing/feedback", cookies=cookies, headers=headers,
                              json={"title": "伪造", "content": "跨站提交"}))
        _refused(*await _call(system, "POST", "/api/filing/feedback", cookies=cookies, headers=headers,
                              data={"title": "伪造", "content": "跨站提交"}))
    assert await _drafts(tenant) == 0
    assert await _jobs(system, tenant.provider_id) == 0
    assert await system.ctx("filing").pool.fetchval(
        "SELECT count(*) FROM feedback WHERE title = '伪造'") == 0


async def test_same_origin_cookie_requests_work(system: System, tenant: Tenant):
    cookies = cookie_of(tenant)
    status, _, body = await _call(system, "POST", "/api/filing/drafts", cookies=cookies, headers=same(system))
    assert status == 201, body
    other = await tenant.operator()
    # an older browser sends only Origin, which names this host
    status, _, body = await _call(system, "POST", "/api/filing/drafts", cookies=cookie_of(other),
                                  headers={"Origin": own_origin(system)})
    assert status == 201, body
    status, _, body = await _call(system, "POST", "/api/filing/feedback", cookies=cookies, headers=same(system),
                                  json={"title": "同源意见", "content": "同源提交可以"})
    assert status == 201, body
    status, _, body = await _call(system, "POST", "/api/importer/jobs", cookies=cookies, headers=same(system),
                                  data=_upload_form())
    assert status == 202, body
    # not a browser at all (no Origin, no Sec-Fetch-Site): nothing to forge with
    status, _, body = await _call(system, "DELETE", f"/api/filing/drafts/{(await _current(tenant))}",
                                  cookies=cookies)
    assert status == 204, body


async def _current(t: Tenant) -> str:
    status, body = await t.call("GET", "/drafts/current")
    assert status == 200, body
    return body["id"]


async def test_bearer_clients_are_not_subject_to_the_origin_check(system: System, tenant: Tenant):
    status, _, body = await _call(system, "POST", "/api/filing/drafts", headers=tenant.headers | CROSS)
    assert status == 201, body
    status, _, body = await _call(system, "POST", "/api/filing/feedback", headers=tenant.headers | CROSS,
                                  json={"title": "接口意见", "content": "持令牌的客户端"})
    assert status == 201, body
    status, _, body = await _call(system, "POST", "/api/importer/jobs", headers=tenant.headers | CROSS,
                                  data=_upload_form())
    assert status == 202, body


async def test_json_endpoints_refuse_other_bodies(system: System, tenant: Tenant):
    other = await tenant.operator()
    # bodyless JSON endpoints too: a form body to POST /drafts is not what it documents
    for data, ctype in (("a=1", "application/x-www-form-urlencoded"), ("a=1", "text/plain")):
        status, rtype, body = await _call(system, "POST", "/api/filing/drafts", headers=other.headers | {
            "Content-Type": ctype}, data=data)
        assert status == 415 and rtype == "application/problem+json", body
        assert "JSON" in body["detail"] and ctype in body["detail"]
    form = _upload_form()
    status, _, body = await _call(system, "POST", "/api/filing/feedback", headers=other.headers, data=form)
    assert status == 415, body
    assert await _drafts(other) == 0
    # the upload takes only multipart
    status, _, body = await _call(system, "POST", "/api/importer/jobs", headers=other.headers, json={"file": "x"})
    assert status == 415 and "multipart/form-data" in body["detail"], body
    # an empty body stays fine where none is needed
    status, _, body = await _call(system, "POST", "/api/filing/drafts", headers=other.headers)
    assert status == 201, body


async def test_login_from_another_origin_is_refused(system: System):
    pid = await make_provider(system)
    user = await make_user(system, "provider", provider_id=pid)

    async def attempt(headers):
        cid, answer = await new_captcha(system.client)
        return await _call(system, "POST", "/api/filing/sessions", headers=headers, json={
            "username": user["username"], "password": user["password"], "role": "provider",
            "captcha_id": cid, "captcha": answer})

    for headers in (CROSS, OLD_BROWSER, {"Origin": "null"}):
        status, ctype, body = await attempt(headers)
        assert status == 403 and ctype == "application/problem+json" and "跨站请求已拒绝" in body["detail"], body
    for headers in (same(system), {"Origin": own_origin(system)}, {}):
        status, _, body = await attempt(headers)
        assert status == 201, body


async def test_configured_origins_are_allowed(system: System):
    gateway = "https://gateway.example.cn"
    tenant_pid = await make_provider(system)
    token = system.token("provider", user_id=str(uuid.uuid4()), provider_id=tenant_pid)
    async with filing_app(system, "test", allowed_origins=[gateway]) as client:
        for origin, want in ((gateway, 201), (EVIL, 403)):
            r = await client.post("/api/filing/feedback", json={"title": "网关", "content": "经网关提交"},
                                  headers={"Origin": origin, "Sec-Fetch-Site": "cross-site",
                                           "Cookie": f"icp_session={token}"})
            assert r.status == want, await r.text()
