"""查找已备案主体 (1.4.1 / 1.4.3) in the browser: another provider's filed subject found by its domain, the
public fields only; 查看全部 and 新增网站 ask for the sponsor's credentials in a dialog (a wrong password is
refused there, in Chinese), then show the whole subject or go on to the add-website page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import Account, login, new_provider_operator, shot
from tests.browser.filings import approved_filing, case_statuses
from tests.browser.test_business_pages import choose
from tests.conftest import System


async def test_find_another_providers_subject_then_view_and_add_a_website(page: Page, system: System,
                                                                         operator: Account):
    filing, number = await approved_filing(system, operator, "查找主体")
    other = await new_provider_operator(system)  # a provider that does not serve the subject
    await login(page, other)
    await page.locator(".console-aside").get_by_text("查找已备案主体").click()
    filters = page.locator("[data-test=find-filters]")

    # no condition: the service's Chinese reason beside the first field
    page.expect_api_status(422)
    await filters.locator("[data-test=search]").click()
    number_item = filters.locator(".el-form-item", has=page.locator("input[name=number]"))
    await expect(number_item.locator(".el-form-item__error")).to_contain_text("请至少填写")

    await filters.locator("input[name=domain]").fill(filing.domain)
    await filters.locator("[data-test=search]").click()
    await expect(page).to_have_url(re.compile("domain=" + re.escape(filing.domain)))
    row = page.locator(".el-table__row", has_text=filing.subject_name)
    await expect(row).to_have_count(1)
    for text in (number, filing.domain, "代为备案", "未接入"):
        await expect(row).to_contain_text(text)
    await expect(page.locator(".paged-table")).not_to_contain_text("示例路1号2号楼301室")  # not public
    await shot(page, "find-subject")

    # 查看全部: a wrong password is refused in the dialog, the right one shows everything
    await row.locator("[data-test=find-view]").click()
    dialog = page.locator(".el-dialog", has=page.locator("[data-test=sponsor-fields]"))
    await dialog.locator("input[name=sponsor_username]").fill(filing.sponsor_username)
    await dialog.locator("input[name=sponsor_password]").fill("wrong-password1")
    page.expect_api_status(403)
    await dialog.locator("[data-test=sponsor-verify]").click()
    user_item = dialog.locator(".el-form-item", has=page.locator("input[name=sponsor_username]"))
    await expect(user_item.locator(".el-form-item__error")).to_contain_text("用户名或密码不正确")
    await shot(page, "find-subject-denied")
    await dialog.locator("input[name=sponsor_password]").fill(filing.sponsor_password)
    await dialog.locator("[data-test=sponsor-verify]").click()
    view = page.locator(".el-dialog", has_text="主体全部信息")
    await expect(view).to_contain_text("示例路1号2号楼301室")  # the mail address: only after the check
    await expect(view).to_contain_text("主体负责人")
    await expect(view).to_contain_text(filing.sponsor_username)
    await shot(page, "find-subject-view")
    await view.locator(".el-dialog__headerbtn").click()
    await expect(view).to_be_hidden()

    # 新增网站: the check again, then the add-website page with the credentials filled in
    await row.locator("[data-test=find-add-website]").click()
    await dialog.locator("input[name=sponsor_username]").fill(filing.sponsor_username)
    await dialog.locator("input[name=sponsor_password]").fill(filing.sponsor_password)
    await dialog.locator("[data-test=sponsor-verify]").click()
    await expect(page).to_have_url(re.compile("/business/add-website/" + filing.subject_id))
    await expect(page.locator(".page-card")).to_contain_text(number)  # the subject's existing website
    await expect(page.locator("input[name=sponsor_username]")).to_have_value(filing.sponsor_username)
    domain = "f" + filing.domain
    await page.locator("input[name='website.name']").fill("查找主体新增官网")
    await page.locator("input[name='website.domains[0]']").fill(domain)
    await page.locator("input[name='website.home_urls[0]']").fill("www." + domain)
    await choose(page, page.locator("[data-test=service-content]"), "单位门户网站", multiple=True)
    await choose(page, page.locator("[data-test=access-methods]"), "云接入", multiple=True)
    await page.locator("input[name='website.access.ip_ranges[0].start_ip']").fill("198.51.100.9")
    await choose(page, page.locator("[data-test=server-locations]"), "北京市", multiple=True)
    await page.locator("[data-test=submit]").click()
    await expect(page.locator("[data-test=submitted]")).to_contain_text("新增网站申请已提交")
    await shot(page, "find-subject-added")
    assert await case_statuses(system, other, type="ADD_WEBSITE", domain=domain) == ["PENDING_VERIFICATION"]
