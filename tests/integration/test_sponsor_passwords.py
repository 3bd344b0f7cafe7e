"""1.6.1 主办者密码重置 over HTTP: list the sponsor accounts a provider filed for, reset selected or
all matching ones (one chosen password or one generated per account), sessions revoked, the
workbook in the answer, never another provider's sponsor (404), no password in the audit trail."""

from __future__ import annotations

import base64
import io
import json
import uuid

from openpyxl import load_workbook

from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.filing_helpers import Tenant, new_tenant
from tests.integration.test_accounts import bearer, login


async def _file(t: Tenant, name: str) -> dict:
    data = fs.filing()
    data["subject"]["name"] = name
    status, done = await t.call("POST", "/filings", json=data)
    assert status == 201, done
    return {**done, "data": data}


async def _sponsor_token(system: System, username: str, password: str) -> str:
    status, _, body = await login(system, username, password, "sponsor")
    assert status == 201, body
    return body["token"]


async def test_list_is_the_providers_own_sponsors_with_filters_and_paging(system: System):
    a, b = await new_tenant(system), await new_tenant(system)
    a1 = await _file(a, "甲一网络科技有限公司")
    a2 = await _file(a, "甲二网络科技有限公司")
    b1 = await _file(b, "乙一网络科技有限公司")

    status, page = await a.call("GET", "/sponsors")
    assert status == 200, page
    assert {x["username"] for x in page["items"]} == {a1["username"], a2["username"]} and page["total"] == 2
    assert b1["username"] not in json.dumps(page)
    status, page = await b.call("GET", "/sponsors")
    assert {x["username"] for x in page["items"]} == {b1["username"]}

    status, found = await a.call("GET", "/sponsors", params={"sponsor_name": "甲二"})
    assert [x["username"] for x in found["items"]] == [a2["username"]] and found["items"][0]["sponsor_names"] == [
        "甲二网络科技有限公司"]
    status, found = await a.call("GET", "/sponsors", params={"domain": a1["data"]["websites"][0]["domains"][0]})
    assert [x["username"] for x in found["items"]] == [a1["username"]]
    status, found = await a.call("GET", "/sponsors", params={"cert_number": a2["data"]["subject"]["cert_number"]})
    assert [x["username"] for x in found["items"]] == [a2["username"]]
    status, found = await a.call("GET", "/sponsors", params={"username": a1["username"][2:]})
    assert [x["username"] for x in found["items"]] == [a1["username"]]
    # another provider's domain or certificate finds nothing here
    status, found = await a.call("GET", "/sponsors", params={"domain": b1["data"]["websites"][0]["domains"][0]})
    assert found["total"] == 0 and found["items"] == []
    status, paged = await a.call("GET", "/sponsors", params={"page_size": 1, "page": 2})
    assert paged["total"] == 2 and len(paged["items"]) == 1
    # only providers
    r = await system.client.get("/api/filing/sponsors", headers=system.auth("bureau", province="BJ"))
    assert r.status == 403


async def test_reset_one_password_for_the_selected_revokes_their_sessions(system: System):
    a, b = await new_tenant(system), await new_tenant(system)
    a1, a2 = await _file(a, "甲一网络科技有限公司"), await _file(a, "甲二网络科技有限公司")
    b1 = await _file(b, "乙一网络科技有限公司")
    token = await _sponsor_token(system, a1["username"], a1["password"])
    assert (await system.client.get("/api/filing/me", headers=bearer(token))).status == 200
    _, listed = await a.call("GET", "/sponsors")
    ids = {x["username"]: x["id"] for x in listed["items"]}
    _, other = await b.call("GET", "/sponsors")
    b_id = other["items"][0]["id"]

    # a sponsor of another provider, alone or among one's own: 404, nothing changed
    for chosen in ([b_id], [ids[a1["username"]], b_id], [str(uuid.uuid4())]):
        status, body = await a.call("POST", "/sponsors/password-resets",
                                    json={"ids": chosen, "mode": "same", "password": "newpass88"})
        assert status == 404, body
    await _sponsor_token(system, b1["username"], b1["password"])  # B's sponsor untouched
    # the password rule, and nothing selected
    for bad, field in (({"password": "123456"}, "password"), ({"password": "abc"}, "password"),
                       ({}, "password"), ({"password": "newpass88", "ids": []}, "ids")):
        body = {"ids": [ids[a1["username"]]], "mode": "same"} | bad
        status, out = await a.call("POST", "/sponsors/password-resets", json=body)
        assert status == 422 and out["errors"][0]["field"] == field, out
    status, out = await a.call("POST", "/sponsors/password-resets",
                               json={"ids": [ids[a1["username"]]], "mode": "generate", "password": "newpass88"})
    assert status == 422

    r = await system.client.post("/api/filing/sponsors/password-resets", headers=a.headers,
                                 json={"ids": [ids[a1["username"]], ids[a2["username"]]], "mode": "same",
                                       "password": "newpass88"})
    out = await r.json()
    assert r.status == 201, out
    assert r.headers["Cache-Control"] == "no-store"
    assert {(x["username"], x["password"]) for x in out["items"]} == {(a1["username"], "newpass88"),
                                                                     (a2["username"], "newpass88")}
    assert out["revoked_sessions"] == 1
    assert (await system.client.get("/api/filing/me", headers=bearer(token))).status == 401
    status, _, _ = await login(system, a1["username"], a1["password"], "sponsor")
    assert status == 401
    await _sponsor_token(system, a2["username"], "newpass88")
    # the workbook in the answer holds the same rows
    wb = load_workbook(io.BytesIO(base64.b64decode(out["xlsx_base64"])), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0] == ("主办者用户名", "主办单位名称", "新密码")
    assert {(r[0], r[2]) for r in rows[1:]} == {(a1["username"], "newpass88"), (a2["username"], "newpass88")}
    assert out["xlsx_filename"].endswith(".xlsx")
    # audited, without the password; the database keeps only hashes
    pool = system.ctx("filing").pool
    entries = await pool.fetch("SELECT changes::text AS c, actor, provider_id FROM audit_log "
                               "WHERE action = 'password_reset' AND entity_id = ANY($1::uuid[])",
                               [uuid.UUID(ids[a1["username"]]), uuid.UUID(ids[a2["username"]])])
    assert len(entries) == 2 and all(e["provider_id"] == a.provider_id and e["actor"] == a.operator_id for e in entries)
    assert not any("newpass88" in e["c"] for e in entries)
    hashes = await pool.fetch("SELECT password_hash FROM users WHERE username = ANY($1)",
                              [a1["username"], a2["username"]])
    assert not any("newpass88" in h["password_hash"] for h in hashes)


async def test_reset_all_matching_generates_one_password_each(system: System):
    a, b = await new_tenant(system), await new_tenant(system)
    a1, a2 = await _file(a, "甲一科技有限公司"), await _file(a, "甲二文化有限公司")
    b1 = await _file(b, "乙一科技有限公司")
    status, out = await a.call("POST", "/sponsors/password-resets",
                               json={"all_matching": True, "filters": {"sponsor_name": "科技"}, "mode": "generate"})
    assert status == 201, out
    assert [x["username"] for x in out["items"]] == [a1["username"]]  # not a2 (filter), not b1 (other provider)
    new = out["items"][0]["password"]
    assert len(new) >= 10 and not new.isdigit() and new != a1["password"]
    await _sponsor_token(system, a1["username"], new)
    await _sponsor_token(system, a2["username"], a2["password"])
    await _sponsor_token(system, b1["username"], b1["password"])
    # all matching with nothing matching
    status, out = await a.call("POST", "/sponsors/password-resets",
                               json={"all_matching": True, "filters": {"domain": b1["data"]["websites"][0]["domains"][0]},
                                     "mode": "generate"})
    assert status == 404, out
    # two generated in one request differ
    status, out = await a.call("POST", "/sponsors/password-resets", json={"all_matching": True, "mode": "generate"})
    assert status == 201 and out["total"] == 2 and len({x["password"] for x in out["items"]}) == 2
