"""Helpers for the change and cancellation tests: file and approve through the real verification
endpoints (provider verification, bureau decision), every hop over the relay and RabbitMQ."""

from __future__ import annotations

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import Tenant

V = "/api/verification"


async def apply_cancellation(t: Tenant, **body) -> dict:
    """注销: a cancellation request (reason "no longer operated" unless given), 201."""
    status, out = await t.call("POST", "/cancellations", json={"reason_code": "NO_LONGER_OPERATED", **body})
    assert status == 201, out
    return out


def bureau(system: System, province: str = "BJ") -> dict[str, str]:
    return system.auth("bureau", province=province, user_id=f"{province.lower()}-reviewer")


async def case_of(t: Tenant, application_id: str, version: int = 1) -> dict:
    """The provider's view of the verification case of this application, once at `version`."""

    async def found():
        r = await t.system.client.get(f"{V}/cases", params={"application_id": application_id, "stage": "all"},
                                      headers=t.headers)
        body = await r.json()
        assert r.status == 200, body
        items = [i for i in body["items"] if i["version"] >= version]
        return items[0] if items else None

    return await t.system.eventually(found)


async def case_detail(t: Tenant, case_id: str) -> dict:
    r = await t.system.client.get(f"{V}/cases/{case_id}", headers=t.headers)
    body = await r.json()
    assert r.status == 200, body
    return body


async def v_post(system: System, path: str, body: dict, headers: dict, expect: int = 200) -> dict:
    r = await system.client.post(V + path, json=body, headers=headers)
    out = await r.json()
    assert r.status == expect, out
    return out


async def application_reaches(t: Tenant, application_id: str, status: str, version: int | None = None) -> dict:
    async def reached():
        code, body = await t.call("GET", f"/applications/{application_id}")
        assert code == 200, body
        ok = body["status"] == status and (version is None or body["version"] == version)
        return body if ok else None

    return await t.system.eventually(reached)


async def verify_pass(t: Tenant, application_id: str, version: int = 1) -> dict:
    case = await case_of(t, application_id, version)
    await v_post(t.system, f"/cases/{case['id']}/verification", {"result": "pass", "opinion": "已核实"}, t.headers)
    await application_reaches(t, application_id, "SUBMITTED_TO_BUREAU", version)
    return case


async def approve(t: Tenant, application_id: str, version: int = 1) -> dict:
    """Provider verification then bureau approval; returns the decision answer once filing applied it."""
    case = await verify_pass(t, application_id, version)
    out = await v_post(t.system, f"/cases/{case['id']}/decision", {"decision": "approve", "reason": "同意"},
                       bureau(t.system))
    await application_reaches(t, application_id, "APPROVED", version)
    return out


async def reject(t: Tenant, application_id: str, reason: str, version: int = 1) -> dict:
    case = await verify_pass(t, application_id, version)
    out = await v_post(t.system, f"/cases/{case['id']}/decision", {"decision": "reject", "reason": reason},
                       bureau(t.system))
    await application_reaches(t, application_id, "REJECTED", version)
    return out


async def filed(t: Tenant, websites: int = 1, data: dict | None = None) -> dict:
    """A first filing through POST /filings, approved: the completion answer plus `subject_no`,
    `website_nos` and the data sent."""
    data = data or fs.filing(websites)
    status, done = await t.call("POST", "/filings", json=data)
    assert status == 201, done
    out = await approve(t, done["application_id"])
    return {**done, "subject_no": out["subject_no"], "website_nos": [w["website_no"] for w in out["website_numbers"]],
            "data": data}
