"""The everyday pages: 1.10 code tables, 1.11 password, 1.12 profile, 1.13 feedback; narrow windows."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import PASSWORD, Account, fresh_captcha, login, shot
from tests.conftest import System


async def test_code_tables_are_public_and_chinese(page: Page):
    await page.goto("/#/codes")
    await page.get_by_role("menuitem", name=re.compile("主办单位证件类型")).click()
    table = page.locator(".codes-body .el-table")
    await expect(table).to_contain_text("营业执照（个人或企业）")
    await expect(table).to_contain_text("企业")  # nature_code shown by its name
    await expect(table).not_to_contain_text("ENTERPRISE,")
    # the filter is in the URL: a reload keeps it
    await page.locator(".codes-body input[name=q]").fill("护照")
    await page.locator(".codes-body").get_by_role("button", name="查询").click()
    await expect(page).to_have_url(re.compile(r"q=%E6%8A%A4%E7%85%A7|q=护照"))
    await page.reload()
    await expect(table).to_contain_text("护照")
    await expect(table).not_to_contain_text("营业执照")
    await shot(page, "codes")


async def test_password_change_field_error_and_new_login(page: Page, operator: Account):
    await login(page, operator)
    await page.get_by_role("link", name="修改密码").click()
    # a wrong old password: the server's answer, no change
    page.expect_api_status(401, path="/api/filing/me/password")
    page.expect_api_status(400, path="/api/filing/me/password")
    page.expect_api_status(403, path="/api/filing/me/password")
    page.expect_api_status(422, path="/api/filing/me/password")
    await page.locator("input[name=old_password]").fill(PASSWORD)
    await page.locator("input[name=new_password]").fill("123456")
    await page.locator("input[name=confirm]").fill("123456")
    await page.get_by_role("button", name="修改").click()
    item = page.locator(".el-form-item", has=page.locator("input[name=new_password]"))
    await expect(item.locator(".el-form-item__error")).to_be_visible()
    await shot(page, "password-error")
    # mismatching confirmation is caught before sending
    await page.locator("input[name=new_password]").fill("Newpass99")
    await page.locator("input[name=confirm]").fill("Newpass98")
    await page.get_by_role("button", name="修改").click()
    await expect(page.locator(".el-form-item", has=page.locator("input[name=confirm]"))).to_contain_text("不一致")
    await page.locator("input[name=confirm]").fill("Newpass99")
    await page.get_by_role("button", name="修改").click()
    await expect(page.locator(".el-message--success")).to_be_visible()
    # the new password logs in
    await page.locator("[data-test=logout]").click()
    operator.password = "Newpass99"
    await login(page, operator)
    await expect(page.locator("[data-test=who]")).to_be_visible()


async def test_profile_saves_and_shows_field_errors(page: Page, operator: Account, system: System):
    await login(page, operator)
    await page.get_by_role("link", name="修改个人信息").click()
    await expect(page.locator("input[name=display_name]")).to_have_value("备案专员")
    page.expect_api_status(422, path="/api/filing/me")
    await page.locator("input[name=phone]").fill("123")
    await page.get_by_role("button", name="保存").click()
    phone = page.locator(".el-form-item", has=page.locator("input[name=phone]"))
    await expect(phone.locator(".el-form-item__error")).to_contain_text("联系电话")
    await page.locator("input[name=phone]").fill("13900001111")
    await page.locator("input[name=display_name]").fill("王五")
    await page.get_by_role("button", name="保存").click()
    await expect(page.locator("[data-test=who]")).to_contain_text("王五")
    r = await system.client.get("/api/filing/me", headers=operator.headers(system))
    me = await r.json()
    assert me["display_name"] == "王五" and me["phone"] == "13900001111"


async def test_feedback_list_and_new_opinion(page: Page, operator: Account):
    await login(page, operator)
    await page.get_by_role("link", name="意见反馈").click()
    await page.locator("[data-test=new-feedback]").click()
    dialog = page.locator(".el-dialog", has_text="提出新意见")
    await dialog.locator("input[name=title]").fill("关于备案时限的建议")
    await dialog.locator("textarea[name=content]").fill("建议在系统中显示管局审核的预计时限。")
    await dialog.locator("[data-test=submit-feedback]").click()
    await expect(dialog).to_be_hidden()
    table = page.locator(".paged-table")
    await expect(table).to_contain_text("关于备案时限的建议")
    await expect(table).to_contain_text("待回复")
    # the row opens on its thread (<feedback-thread>): the text, and no reply yet
    row = table.locator(".el-table__row", has_text="关于备案时限的建议").first
    await row.locator(".el-table__expand-icon").click()
    thread = table.locator(".feedback-detail").first
    await expect(thread).to_contain_text("建议在系统中显示管局审核的预计时限。")
    await expect(thread).to_contain_text("管局尚未答复")
    # the status filter is kept in the URL
    await page.locator(".filters .el-select").click()
    await page.locator(".el-select-dropdown__item:visible").get_by_text("已回复", exact=True).click()
    await page.locator(".filters").get_by_role("button", name="查询").click()
    await expect(page).to_have_url(re.compile(r"status=REPLIED"))
    await expect(table).not_to_contain_text("关于备案时限的建议")
    await page.reload()
    await expect(page.locator(".filters .el-select")).to_contain_text("已回复")
    await shot(page, "feedback")


async def test_narrow_window_menu_in_a_drawer(page: Page, operator: Account):
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto("/")
    await expect(page.locator(".login-box")).to_be_visible()
    await login(page, operator)
    await expect(page.locator(".console-aside")).to_have_count(0)
    await page.locator(".menu-toggle").click()
    drawer = page.locator(".el-drawer")
    await expect(drawer).to_contain_text("代为录入")
    await drawer.get_by_text("批量导入").click()
    await expect(page.locator(".page-title")).to_have_text("批量导入")
    await expect(drawer).to_be_hidden()
    # nothing wider than the window
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width
    await shot(page, "narrow-import")


async def test_wrong_captcha_is_refused_and_refreshed(page: Page, operator: Account):
    page.expect_api_status(400, path="/api/filing/sessions")
    page.expect_api_status(401, path="/api/filing/sessions")
    page.expect_api_status(422, path="/api/filing/sessions")
    await page.goto("/")
    box = page.locator(".login-box")
    await box.locator("input[name=username]").fill(operator.username)
    await box.locator("input[name=password]").fill(operator.password)
    answer = await fresh_captcha(page)
    wrong = "0000" if answer != "0000" else "1111"
    before = await box.locator(".captcha-img").get_attribute("src")
    await box.locator("input[name=captcha]").fill(wrong)
    await box.locator("[data-test=login]").click()
    await expect(box.locator(".el-alert, .el-form-item__error").first).to_contain_text("验证码")
    await expect(box.locator(".captcha-img")).not_to_have_attribute("src", before)  # a new one to type
    await expect(page.locator("[data-test=who]")).to_have_count(0)
