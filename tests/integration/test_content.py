"""Everyday pages through the real service: code tables, announcements and laws, feedback, demo data."""

from __future__ import annotations

import uuid

from tests.conftest import System
from tests.integration.filing_helpers import new_sponsor
from tests.integration.test_accounts import bearer, login, make_provider, make_user, token_of, uid

# ---------------------------------------------------------------- code tables (public)


async def test_code_table_directory_and_rows_are_public(system: System):
    r = await system.client.get("/api/filing/codes")
    assert r.status == 200
    tables = {t["table"]: t for t in (await r.json())["items"]}
    assert tables["unit_natures"]["title"] == "主办单位性质" and tables["provinces"]["count"] >= 34
    assert "source" not in tables["provinces"]["columns"]

    r = await system.client.get("/api/filing/codes/provinces")
    body = await r.json()
    bj = next(row for row in body["items"] if row["code"] == "BJ")
    assert bj["name_zh"] == "北京市" and bj["filing_abbr"] == "京" and "source" not in bj
    assert body["total"] == len(body["items"]) == tables["provinces"]["count"]


async def test_certificate_types_filtered_by_nature(system: System):
    r = await system.client.get("/api/filing/codes/certificate_types?nature=ENTERPRISE")
    body = await r.json()
    assert r.status == 200 and body["items"] and {x["nature_code"] for x in body["items"]} == {"ENTERPRISE"}
    r = await system.client.get("/api/filing/codes/certificate_types?nature=MARTIAN")
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "nature"
    r = await system.client.get("/api/filing/codes/provinces?nature=ENTERPRISE")
    assert r.status == 422
    r = await system.client.get("/api/filing/codes/provinces?colour=red")
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "colour"


async def test_unknown_code_table_is_404_in_chinese(system: System):
    r = await system.client.get("/api/filing/codes/planets")
    body = await r.json()
    assert r.status == 404 and "代码表 planets 不存在" in body["detail"]
    assert r.content_type == "application/problem+json"


# ---------------------------------------------------------------- announcements and laws


async def test_announcement_lifecycle_and_permissions(system: System):
    pid = await make_provider(system)
    title = f"关于系统维护的通知（{uid()}）"
    payload = {"title": title, "body": "本周六凌晨系统维护，暂停报备业务。"}
    r = await system.client.post("/api/filing/announcements", json=payload,
                                 headers=system.auth("provider", provider_id=pid))
    assert r.status == 403
    assert (await system.client.post("/api/filing/announcements", json=payload)).status == 401
    r = await system.client.post("/api/filing/announcements", json=payload | {"author": "x"}, headers=system.auth())
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "author"
    r = await system.client.post("/api/filing/announcements", json={"title": " ", "body": "x"}, headers=system.auth())
    assert r.status == 422 and (await r.json())["errors"][0] == {"field": "title", "message": "不能为空"}

    r = await system.client.post("/api/filing/announcements", json=payload, headers=system.auth())
    assert r.status == 201
    created = await r.json()
    assert created["body"] == payload["body"] and created["category"] == "announcement"  # punctuation kept

    r = await system.client.get(f"/api/filing/announcements?q={uuid.uuid4().hex[:4]}&page_size=5")
    assert r.status == 200
    r = await system.client.get("/api/filing/announcements", params={"q": title})
    listing = await r.json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == created["id"] and "body" not in listing["items"][0]
    assert listing["page"] == 1 and listing["page_size"] == 20
    r = await system.client.get(f"/api/filing/announcements/{created['id']}")
    assert r.status == 200 and (await r.json())["title"] == title
    assert (await system.client.get(f"/api/filing/laws/{created['id']}")).status == 404  # another column

    r = await system.client.put(f"/api/filing/announcements/{created['id']}", json=payload | {"pinned": True},
                                headers=system.auth("bureau", province="BJ"))
    assert r.status == 403
    r = await system.client.put(f"/api/filing/announcements/{created['id']}",
                                json=payload | {"pinned": True, "body": "维护时间改为周日。"}, headers=system.auth())
    assert r.status == 200 and (await r.json())["pinned"] is True

    assert (await system.client.delete(f"/api/filing/announcements/{created['id']}",
                                       headers=system.auth("provider", provider_id=pid))).status == 403
    r = await system.client.delete(f"/api/filing/announcements/{created['id']}", headers=system.auth())
    assert r.status == 204
    r = await system.client.get(f"/api/filing/announcements/{created['id']}")
    assert r.status == 404 and (await r.json())["detail"] == "通知公告不存在"
    assert (await system.client.delete(f"/api/filing/announcements/{created['id']}",
                                       headers=system.auth())).status == 404


async def test_paging_and_scheduled_publication(system: System):
    tag = uid("法规")
    for i in range(3):
        r = await system.client.post("/api/filing/laws", json={
            "title": f"{tag} 第{i}号", "body": "正文", "issuer": "工业和信息化部", "document_no": f"令第{i}号",
            "effective_on": "2026-01-01"}, headers=system.auth())
        assert r.status == 201
    r = await system.client.post("/api/filing/laws", json={"title": f"{tag} 未来", "body": "正文",
                                                           "published_at": "2099-01-01T00:00:00+08:00"},
                                 headers=system.auth())
    future = await r.json()
    page = await (await system.client.get("/api/filing/laws", params={"q": tag, "page_size": 2, "page": 2})).json()
    assert page["total"] == 3 and len(page["items"]) == 1 and page["items"][0]["issuer"] == "工业和信息化部"
    assert (await system.client.get(f"/api/filing/laws/{future['id']}")).status == 404  # not yet public
    admin_view = await (await system.client.get("/api/filing/laws", params={"q": tag},
                                                headers=system.auth())).json()
    assert admin_view["total"] == 4
    r = await system.client.get("/api/filing/laws?page=0")
    assert r.status == 422 and (await r.json())["errors"][0]["field"] == "page"


# ---------------------------------------------------------------- feedback


async def test_feedback_tenant_isolation_and_bureau_reply(system: System):
    pa, pb = await make_provider(system, "BJ"), await make_provider(system, "BJ")
    op_a = await make_user(system, "provider", provider_id=pa, display_name="甲公司备案员")
    ha = bearer(await token_of(system, op_a))
    hb = system.auth("provider", user_id=str(uuid.uuid4()), provider_id=pb)

    r = await system.client.post("/api/filing/feedback", json={"title": "验证码看不清", "content": "建议增加刷新按钮，谢谢！",
                                                               "contact": "13800138000"}, headers=ha)
    assert r.status == 201, await r.text()
    fb = await r.json()
    assert fb["status"] == "OPEN" and fb["status_name"] == "待回复" and fb["province"] == "BJ"
    assert fb["author_name"] == "甲公司备案员" and fb["replies"] == []

    mine = await (await system.client.get("/api/filing/feedback", headers=ha)).json()
    assert [x["id"] for x in mine["items"]] == [fb["id"]] and mine["total"] == 1
    # another provider neither sees nor finds it
    assert (await system.client.get(f"/api/filing/feedback/{fb['id']}", headers=hb)).status == 404
    theirs = await (await system.client.get("/api/filing/feedback", headers=hb)).json()
    assert fb["id"] not in [x["id"] for x in theirs["items"]]
    # only the bureau of the provider's province sees it; a provider cannot reply
    sh = system.auth("bureau", user_id=str(uuid.uuid4()), province="SH")
    assert (await system.client.get(f"/api/filing/feedback/{fb['id']}", headers=sh)).status == 404
    r = await system.client.post(f"/api/filing/feedback/{fb['id']}/replies", json={"content": "收到"}, headers=sh)
    assert r.status == 404
    r = await system.client.post(f"/api/filing/feedback/{fb['id']}/replies", json={"content": "收到"}, headers=ha)
    assert r.status == 403
    assert (await system.client.post("/api/filing/feedback", json={"title": "t", "content": "c"},
                                     headers=system.auth("bureau", province="BJ"))).status == 403

    reviewer = await make_user(system, "bureau", province="BJ", password="review123", display_name="王审核")
    hbj = bearer(await token_of(system, reviewer))
    bj_list = await (await system.client.get("/api/filing/feedback", params={"status": "OPEN", "page_size": 100},
                                             headers=hbj)).json()
    assert all(x["province"] == "BJ" for x in bj_list["items"])
    r = await system.client.post(f"/api/filing/feedback/{fb['id']}/replies", json={"content": "已安排，感谢反馈。"},
                                 headers=hbj)
    assert r.status == 201
    replied = await r.json()
    assert replied["status"] == "REPLIED" and replied["replies"][0]["author_name"] == "北京市通信管理局（王审核）"

    seen = await (await system.client.get(f"/api/filing/feedback/{fb['id']}", headers=ha)).json()
    assert seen["replies"][0]["content"] == "已安排，感谢反馈。" and seen["last_replied_at"]
    listed = await (await system.client.get("/api/filing/feedback", params={"status": "REPLIED"}, headers=ha)).json()
    assert listed["items"][0]["replies"][0]["content"] == "已安排，感谢反馈。"
    assert (await system.client.get("/api/filing/feedback/not-a-uuid", headers=ha)).status == 404


async def test_sponsor_feedback_is_its_own(system: System):
    pid = await make_provider(system, "ZJ")
    sponsor = await new_sponsor(system, pid, "杭州某某公司")
    status, _, body = await login(system, sponsor.username, sponsor.password, "sponsor")
    assert status == 201
    hs = bearer(body["token"])
    r = await system.client.post("/api/filing/feedback", json={"title": "咨询", "content": "如何注销网站？"}, headers=hs)
    assert r.status == 201
    fb = await r.json()
    assert fb["author_role"] == "sponsor" and fb["province"] == "ZJ"
    # the provider's operators do not see the sponsor's own feedback
    hp = system.auth("provider", user_id=str(uuid.uuid4()), provider_id=pid)
    assert (await system.client.get(f"/api/filing/feedback/{fb['id']}", headers=hp)).status == 404
    another = system.auth("sponsor", user_id=str(uuid.uuid4()), provider_id=pid)
    assert (await system.client.get(f"/api/filing/feedback/{fb['id']}", headers=another)).status == 404
    assert (await system.client.get(f"/api/filing/feedback/{fb['id']}", headers=hs)).status == 200
    r = await system.client.post("/api/filing/feedback", json={"title": "t", "content": "c", "extra": 1}, headers=hs)
    assert r.status == 422


# ---------------------------------------------------------------- demo data


async def test_demo_data_is_idempotent_and_its_logins_work(system: System):
    from services.filing.demo import load_demo

    lines: list[str] = []
    ctx = system.ctx("filing")
    await load_demo(ctx, out=lines.append)
    again = await load_demo(ctx, out=lines.append)
    assert not again.provider_created and again.accounts_created == [] and again.articles_created == 0
    assert again.filings_created == []
    # the demo filings exist once each, waiting for verification, and reach the verification service
    demo_subjects = await ctx.pool.fetch(
        "SELECT s.id, a.status FROM subjects s JOIN applications a ON a.subject_id = s.id WHERE s.provider_id = 'demo-idc'")
    assert len(demo_subjects) == 3 and {r["status"] for r in demo_subjects} <= {
        "PENDING_VERIFICATION", "SUBMITTED_TO_BUREAU", "PREAPPROVAL_PENDING", "APPROVED"}
    verification = system.ctx("verification")
    await system.eventually(lambda: _count_cases(verification))
    assert any("demo" in line and "demo123" in line for line in lines)
    for username, password, role in (("demo", "demo123", "provider"), ("bj-reviewer", "review123", "bureau"),
                                     ("admin", "admin123", "admin")):
        status, _, body = await login(system, username, password, role)
        assert status == 201, (username, body)
    status, _, body = await login(system, "demo", "demo123", "provider")
    assert body["user"]["provider_id"] == "demo-idc" and body["user"]["provider_name"] == "示例数据中心有限公司"
    assert await ctx.pool.fetchval("SELECT count(*) FROM users WHERE lower(username) = 'demo'") == 1
    laws = await (await system.client.get("/api/filing/laws", params={"q": "非经营性互联网信息服务备案管理办法"})).json()
    assert laws["total"] == 1


async def _count_cases(verification) -> bool:
    return await verification.pool.fetchval("SELECT count(*) FROM cases WHERE provider_id = 'demo-idc'") >= 3
