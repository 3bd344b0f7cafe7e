"""The administrator's pages (users, providers, announcements), the bureau's feedback replies, and the record
lists on a narrow window, in the browser."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

from playwright.async_api import Page, expect

from tests.browser.conftest import Account, login, new_reviewer, shot
from tests.browser.filings import new_admin, submit_filing
from tests.browser.test_business_pages import choose
from tests.conftest import System


async def test_admin_creates_a_reviewer_and_disables_it(page: Page, system: System):
    admin = await new_admin(system)
    await login(page, admin)
    await page.locator(".console-aside").get_by_text("用户管理").click()
    await page.locator("[data-test=new-user]").click()
    dialog = page.locator(".el-dialog")
    await dialog.get_by_text("管局审核人员").click()
    username = "rv" + uuid.uuid4().hex[:8]
    await dialog.locator("input[name=username]").fill(username)
    await dialog.locator("input[name=display_name]").fill("上海管局审核员")
    page.expect_api_status(422)
    await dialog.get_by_role("button", name="创建").click()  # no province yet: the error beside the field
    province_item = dialog.locator(".el-form-item", has_text="所属省份")
    await expect(province_item.locator(".el-form-item__error")).to_contain_text("省份")
    await choose(page, province_item.locator(".el-select"), "上海市")
    await dialog.get_by_role("button", name="创建").click()
    shown = page.locator("[data-test=created-password]")
    await expect(shown).to_contain_text(username)
    await expect(shown).to_contain_text("仅显示这一次")
    password = re.search(r"初始密码：(\S+?)（", await shown.inner_text()).group(1)
    assert len(password) >= 6

    await page.locator("input[name=q]").fill(username)
    await page.get_by_role("button", name="查询").click()
    row = page.locator(".el-table__row", has_text=username)
    await expect(row).to_contain_text("管局")
    await expect(row).to_contain_text("上海市")
    await expect(row).to_contain_text("正常")
    await shot(page, "admin-users")
    await row.get_by_role("button", name="停用").click()
    await page.locator(".el-message-box").get_by_role("button", name="确定").click()
    await expect(row).to_contain_text("已停用")
    await expect(row.get_by_role("button", name="启用")).to_be_visible()

    # the generated password works until the account is disabled: the login refuses it now
    r = await system.client.get("/api/filing/captcha", params={"test_answer": "1"})
    c = await r.json()
    r = await system.client.post("/api/filing/sessions", json={"username": username, "password": password,
                                                                "role": "bureau", "captcha_id": c["captcha_id"],
                                                                "captcha": c["answer"]})
    assert r.status in (401, 403), await r.text()


async def test_admin_publishes_an_announcement(page: Page, system: System):
    admin = await new_admin(system)
    await login(page, admin)
    await page.locator(".console-aside").get_by_text("通知公告管理").click()
    await page.locator("[data-test=new-article]").click()
    title = f"关于测试公告{uuid.uuid4().hex[:6]}的通知"
    dialog = page.locator(".el-dialog")
    await dialog.locator("input[name=title]").fill(title)
    await dialog.locator("textarea[name=body]").fill("各接入服务提供者：请按要求做好备案信息核验工作。")
    await dialog.locator("[data-test=save-article]").click()
    await expect(page.locator(".paged-table")).to_contain_text(title)
    await shot(page, "admin-announcements")
    # public at once, on the portal home of a visitor
    r = await system.client.get("/api/filing/announcements", params={"q": title})
    assert [a["title"] for a in (await r.json())["items"]] == [title]


async def test_admin_creates_a_provider(page: Page, system: System):
    admin = await new_admin(system)
    await login(page, admin)
    await page.locator(".console-aside").get_by_text("接入服务提供者").click()
    await page.get_by_role("button", name="新建接入服务提供者").click()
    dialog = page.locator(".el-dialog", has_text="新建接入服务提供者")
    name = f"页面接入商{uuid.uuid4().hex[:6]}"
    pid = "pg-" + uuid.uuid4().hex[:8]
    await dialog.locator("input[name=name]").fill(name)
    await dialog.locator("input[name=provider_id]").fill(pid)
    page.expect_api_status(422)
    await dialog.get_by_role("button", name="创建").click()  # no province yet: the error beside the field
    province_item = dialog.locator(".el-form-item", has_text="所在省份")
    await expect(province_item.locator(".el-form-item__error")).to_contain_text("省份")
    await choose(page, province_item.locator(".el-select"), "北京市")
    await dialog.get_by_role("button", name="创建").click()
    await expect(dialog).to_be_hidden()
    row = page.locator(".el-table__row", has_text=name)
    await expect(row).to_contain_text(pid)
    await expect(row).to_contain_text("北京市")
    await shot(page, "admin-providers")
    r = await system.client.get("/api/filing/providers", headers=system.auth("admin"))
    assert any(p["provider_id"] == pid and p["province"] == "BJ" for p in (await r.json())["items"])


async def test_bureau_replies_to_feedback(page: Page, system: System, operator: Account):
    title = f"关于核验流程的建议{uuid.uuid4().hex[:6]}"
    r = await system.client.post("/api/filing/feedback", headers=operator.headers(system),
                                 json={"title": title, "content": "建议在核实页面显示历史版本的差异。"})
    assert r.status == 201, await r.text()
    reviewer = await new_reviewer(system)
    await login(page, reviewer)
    await page.locator(".console-aside").get_by_text("意见反馈答复").click()
    row = page.locator(".el-table__row", has_text=title)
    await expect(row).to_contain_text("待回复")
    await row.locator("[data-test=reply]").click()
    await page.locator(".el-dialog textarea[name=content]").fill("感谢建议，我们将在后续版本中考虑。")
    await page.locator("[data-test=reply-submit]").click()
    await expect(row).to_have_count(0)  # the default filter shows what still waits for a reply
    await choose(page, page.locator("[data-test=filter-status]"), "已回复")
    await page.get_by_role("button", name="查询").click()
    await expect(row).to_contain_text("已回复")
    # the row opens on its thread (<feedback-thread>): the question and the reply under it
    await row.locator(".el-table__expand-icon").click()
    thread = page.locator(".feedback-detail")
    await expect(thread).to_contain_text("建议在核实页面显示历史版本的差异。")
    await expect(thread.locator(".el-timeline-item")).to_contain_text("感谢建议，我们将在后续版本中考虑。")
    await expect(thread).not_to_contain_text("管局尚未答复")
    await shot(page, "feedback-replies")
    r = await system.client.get("/api/filing/feedback", headers=operator.headers(system))
    mine = [f for f in (await r.json())["items"] if f["title"] == title]
    assert mine[0]["replies"][0]["content"] == "感谢建议，我们将在后续版本中考虑。"


async def test_records_on_a_narrow_window(page: Page, system: System, operator: Account):
    filing = await submit_filing(system, operator, "窄屏")
    await page.set_viewport_size({"width": 420, "height": 800})
    await login(page, operator)
    await page.goto("/#/records/websites?domain=" + quote(filing.domain))
    await expect(page.locator(".paged-table")).to_contain_text(filing.domain)
    await expect(page.locator(".paged-table")).to_contain_text("审核中（未发号）")
    # the page itself does not scroll sideways (wide tables scroll inside their frame)
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, overflow
    await shot(page, "websites-narrow")
    await page.goto("/#/verify?name=" + quote(filing.subject_name))
    await expect(page.locator(".paged-table")).to_contain_text(filing.subject_name)
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, overflow
    await shot(page, "verify-narrow")
