"""1.4.1 / 1.4.3 finding a filed subject across providers, "view all" with the sponsor's credentials,
and the per-province setting that a change of one's own 代为备案 subject needs them too."""

from __future__ import annotations

import json

from tests.conftest import System
from tests.integration.change_helpers import filed
from tests.integration.filing_helpers import new_tenant


async def test_search_answers_public_fields_across_providers(system: System):
    a, b = await new_tenant(system), await new_tenant(system)
    f = await filed(a)
    domain = f["data"]["websites"][0]["domains"][0]
    for params in ({"domain": domain}, {"number": f["subject_no"]}, {"number": f["website_nos"][0]},
                   {"cert_number": f["data"]["subject"]["cert_number"]}):
        status, out = await b.call("GET", "/filed-subjects", params=params)
        assert status == 200 and [x["id"] for x in out["items"]] == [f["subject_id"]], (params, out)
        found = out["items"][0]
        assert found["filing_method"] == "PROXY" and found["filing_method_name"] == "代为备案"
        assert found["served_by_me"] is False
        assert found["websites"][0]["website_no"] == f["website_nos"][0] and found["websites"][0]["domains"] == [domain]
        text = json.dumps(out, ensure_ascii=False)
        # only public fields: no principal, mobile, ID number, address, sponsor account
        principal = f["data"]["subject"]["principal"]
        for secret in (principal["mobile"], principal["id_number"], principal["email"], f["username"],
                       f["data"]["subject"]["mail_address"]):
            assert secret not in text
    status, out = await a.call("GET", "/filed-subjects", params={"domain": domain})
    assert out["items"][0]["served_by_me"] is True
    status, out = await b.call("GET", "/filed-subjects", params={"sponsor_name": f["data"]["subject"]["name"][:6]})
    assert f["subject_id"] in {x["id"] for x in out["items"]}
    # no filter, a one-character name, a bad domain: 422 naming the field
    for params, field in (({}, "number"), ({"sponsor_name": "示"}, "sponsor_name"), ({"domain": "no domain"}, "domain")):
        status, out = await b.call("GET", "/filed-subjects", params=params)
        assert status == 422 and out["errors"][0]["field"] == field, out
    r = await system.client.get("/api/filing/filed-subjects", params={"domain": domain},
                                headers=system.auth("bureau", province="BJ"))
    assert r.status == 403


async def test_view_all_needs_the_sponsors_credentials(system: System):
    a, b = await new_tenant(system), await new_tenant(system)
    f = await filed(a)
    g = await filed(b)
    sid = f["subject_id"]
    status, out = await b.call("POST", f"/filed-subjects/{sid}/view",
                               json={"sponsor": {"username": f["username"], "password": "wrong-pass1"}})
    assert status == 403 and out["errors"][0]["field"] == "sponsor"
    # another subject's sponsor does not open this one
    status, out = await b.call("POST", f"/filed-subjects/{sid}/view",
                               json={"sponsor": {"username": g["username"], "password": g["password"]}})
    assert status == 403
    status, out = await b.call("POST", f"/filed-subjects/{sid}/view", json={})
    assert status == 422
    status, out = await b.call("POST", f"/filed-subjects/{sid}/view",
                               json={"sponsor": {"username": f["username"], "password": f["password"]}})
    assert status == 200, out
    assert out["id"] == sid and out["principal"]["mobile"] == f["data"]["subject"]["principal"]["mobile"]
    status, _ = await b.call("POST", "/filed-subjects/00000000-0000-0000-0000-000000000000/view",
                             json={"sponsor": {"username": f["username"], "password": f["password"]}})
    assert status == 404


async def test_change_of_own_subject_needs_the_sponsor_by_default_per_province_setting(system: System):
    t = await new_tenant(system)
    f = await filed(t)
    sid = f["subject_id"]
    subject = {**f["data"]["subject"], "remark": "变更备注"}
    status, out = await t.call("GET", f"/subjects/{sid}")
    assert out["change_needs_sponsor"] is True
    status, out = await t.call("POST", f"/subjects/{sid}/changes", json={"subject": subject})
    assert status == 422 and out["errors"][0]["field"] == "sponsor", out
    status, out = await t.call("POST", f"/subjects/{sid}/changes", json={
        "subject": subject, "sponsor": {"username": f["username"], "password": "wrong-pass1"}})
    assert status == 403, out
    settings = system.ctx("filing").settings
    saved = settings.sponsor_auth_own_changes
    try:
        settings.sponsor_auth_own_changes = ["SH", "440000"]  # not Beijing: own proxy subject changes freely
        status, out = await t.call("GET", f"/subjects/{sid}")
        assert out["change_needs_sponsor"] is False
        status, out = await t.call("POST", f"/subjects/{sid}/changes", json={"subject": subject})
        assert status == 201, out
    finally:
        settings.sponsor_auth_own_changes = saved
