"""Helpers for the self-filing tests (自主备案): registering a sponsor, logging in, the wizard over HTTP."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import aiohttp

from tests import filing_samples as fs
from tests.conftest import System

F = "/api/filing"


async def captcha(system: System) -> tuple[str, str]:
    r = await system.client.get(f"{F}/captcha?test_answer=1")
    body = await r.json()
    assert r.status == 200, body
    return body["captcha_id"], body["answer"]


async def register(system: System, *, username: str | None = None, password: str = "selfpass1",
                   province: str = "BJ", **override) -> tuple[int, dict]:
    cid, answer = await captcha(system)
    body = {"username": username or "sf" + uuid.uuid4().hex[:10], "password": password,
            "display_name": "自主备案测试单位", "province": province, "captcha_id": cid, "captcha": answer}
    r = await system.client.post(f"{F}/sponsor-registrations", json=body | override)
    return r.status, await r.json()


@dataclass
class SelfSponsor:
    system: System
    user_id: str
    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kw):
        resp = await self.system.client.request(method, F + path, headers=self.headers, **kw)
        text = await resp.text()
        return resp.status, (json.loads(text) if text else None)


async def login(system: System, username: str, password: str, role: str = "sponsor") -> tuple[int, dict]:
    """POST /sessions without the shared client's cookie jar (a login cookie must not leak into other tests)."""
    cid, answer = await captcha(system)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        r = await session.post(system.client.make_url(f"{F}/sessions"), json={
            "username": username, "password": password, "role": role, "captcha_id": cid, "captcha": answer})
        return r.status, await r.json()


async def new_self_sponsor(system: System, province: str = "BJ") -> SelfSponsor:
    username, password = "sf" + uuid.uuid4().hex[:10], "selfpass1"
    status, out = await register(system, username=username, password=password, province=province)
    assert status == 201, out
    status, out = await login(system, username, password)
    assert status == 201, out
    return SelfSponsor(system, out["user"]["id"], username, password, out["token"])


def self_data(websites: int = 1) -> dict:
    """A first filing without access records (the sponsor files no provider's access)."""
    data = fs.filing(websites)
    for w in data["websites"]:
        w.pop("access", None)
    return data


async def wizard(s: SelfSponsor, data: dict) -> tuple[int, dict, str | None]:
    """The wizard's steps over HTTP: start, subject, websites, "no other website", submit.
    Returns (status, body) of the first refused step or of the submit, and the draft id."""
    status, out = await s.call("POST", "/drafts")
    if status != 201:
        return status, out, None
    draft = out["id"]
    status, out = await s.call("PUT", f"/drafts/{draft}/subject", json=data["subject"])
    if status != 200:
        return status, out, draft
    for w in data["websites"]:
        status, out = await s.call("POST", f"/drafts/{draft}/websites", json=w)
        if status != 201:
            return status, out, draft
    status, out = await s.call("PUT", f"/drafts/{draft}/step", json={"another_website": False})
    assert status == 200, out
    status, out = await s.call("POST", f"/drafts/{draft}/submit")
    return status, out, draft
