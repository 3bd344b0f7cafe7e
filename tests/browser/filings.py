"""Data for the browser tests of the business pages, made through the real HTTP API (as another client
of the gateway would): filings submitted by a provider's operator, verified and approved.

Every name is unique per call (the session's database is shared by all tests), so a page filtered
by it shows exactly the rows of one test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests import filing_samples as fs
from tests.browser.conftest import PASSWORD, Account
from tests.conftest import System

F = "/api/filing"
V = "/api/verification"


@dataclass
class Filing:
    application_id: str
    subject_id: str
    website_id: str
    subject_name: str
    domain: str
    sponsor_username: str
    sponsor_password: str
    provider_id: str


def operator_headers(system: System, account: Account) -> dict[str, str]:
    return account.headers(system)


def bureau_headers(system: System, province: str = "BJ") -> dict[str, str]:
    return system.auth("bureau", province=province, user_id=f"{province.lower()}-api-reviewer")


async def submit_filing(system: System, account: Account, label: str = "浏览器测试", *,
                        preapproval: tuple[str, str] | None = None) -> Filing:
    """A first filing of one website, entered by `account`'s provider: PENDING_VERIFICATION.
    `preapproval`: (type, approval number) of a pre-approval item of the website."""
    tag = uuid.uuid4().hex[:6]
    name = f"{label}{tag}网络科技有限公司"
    data = fs.filing()
    data["subject"]["name"] = name
    if preapproval:
        data["websites"][0]["preapprovals"] = [{"type": preapproval[0], "approval_no": preapproval[1]}]
    r = await system.client.post(F + "/filings", json=data, headers=operator_headers(system, account))
    out = await r.json()
    assert r.status == 201, out
    return Filing(out["application_id"], out["subject_id"], out["website_ids"][0], name,
                  data["websites"][0]["domains"][0], out["username"], out["password"], account.provider_id)


async def case_statuses(system: System, account: Account, **params) -> list[str]:
    """The statuses of the cases matching `params`, once verification has opened at least one: the
    case is opened from the application's event, a moment after the page said it was submitted."""

    async def found():
        r = await system.client.get(V + "/cases", params=params, headers=operator_headers(system, account))
        body = await r.json()
        assert r.status == 200, body
        return [c["status"] for c in body["items"]]

    return await system.eventually(found)


async def case_of(system: System, account: Account, application_id: str) -> dict:
    """The verification case of an application, once verification has opened it."""

    async def found():
        r = await system.client.get(V + "/cases", params={"application_id": application_id, "stage": "all"},
                                    headers=operator_headers(system, account))
        body = await r.json()
        assert r.status == 200, body
        return body["items"][0] if body["items"] else None

    return await system.eventually(found)


async def website(system: System, account: Account, website_id: str) -> dict:
    r = await system.client.get(F + f"/websites/{website_id}", headers=operator_headers(system, account))
    body = await r.json()
    assert r.status == 200, body
    return body


async def website_numbered(system: System, account: Account, website_id: str) -> str:
    """The website's number once filing has applied the approval."""

    async def numbered():
        return (await website(system, account, website_id))["website_no"]

    return await system.eventually(numbered)


async def approved_filing(system: System, account: Account, label: str = "浏览器测试") -> tuple[Filing, str]:
    """A filing verified and approved through the API; (filing, website number) once filing applied it."""
    filing = await submit_filing(system, account, label)
    case = await case_of(system, account, filing.application_id)
    r = await system.client.post(V + f"/cases/{case['id']}/verification", json={"result": "pass", "opinion": "已核实"},
                                 headers=operator_headers(system, account))
    assert r.status == 200, await r.text()
    r = await system.client.post(V + f"/cases/{case['id']}/decision", json={"decision": "approve", "reason": "同意"},
                                 headers=bureau_headers(system))
    assert r.status == 200, await r.text()
    return filing, await website_numbered(system, account, filing.website_id)


async def new_admin(system: System) -> Account:
    username = "ad" + uuid.uuid4().hex[:8]
    r = await system.client.post(F + "/users", headers=system.auth("admin"),
                                 json={"role": "admin", "username": username, "password": PASSWORD,
                                       "display_name": "测试管理员"})
    assert r.status == 201, await r.text()
    return Account(username, PASSWORD, "admin", user_id=(await r.json())["user"]["id"])
