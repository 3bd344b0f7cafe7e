"""Sponsor password reset (1.6.1) in the browser: filter, select, reset to one password, the new
passwords shown once; a weak password is refused in place; the sponsor logs in with the new one."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.conftest import Account, login, shot
from tests.browser.filings import submit_filing
from tests.conftest import System
from tests.integration.test_accounts import login as api_login


async def test_reset_a_sponsors_password_from_the_list(page: Page, system: System, operator: Account):
    mine = await submit_filing(system, operator, "密码重置")
    other = await submit_filing(system, operator, "不重置")
    await login(page, operator)
    await page.locator(".console-aside").get_by_text("主办者密码重置").click()
    filters = page.locator("[data-test=sponsor-filters]")
    await filters.locator("input[name=sponsor_name]").fill(mine.subject_name)
    await filters.locator("[data-test=search]").click()
    row = page.locator(".el-table__row", has_text=mine.sponsor_username)
    await expect(row).to_be_visible()
    await expect(page.locator(".el-table__row", has_text=other.sponsor_username)).to_have_count(0)
    await row.locator(".el-checkbox").click()
    await page.locator("[data-test=reset-selected]").click()
    await page.locator("[data-test=mode]").get_by_text("统一设置").click()
    await page.locator("input[name=password]").fill("123456")
    page.expect_api_status(422)
    await page.locator("[data-test=confirm-reset]").click()
    await expect(page.locator(".el-form-item__error", has_text="数字")).to_be_visible()
    await page.locator("input[name=password]").fill("browser88")
    await page.locator("[data-test=confirm-reset]").click()
    shown = page.locator("[data-test=new-passwords]")
    await expect(shown).to_contain_text(mine.sponsor_username)
    await expect(shown).to_contain_text("browser88")
    await shot(page, "sponsor-passwords")
    status, _, body = await api_login(system, mine.sponsor_username, "browser88", "sponsor")
    assert status == 201, body
    status, _, _ = await api_login(system, other.sponsor_username, other.sponsor_password, "sponsor")
    assert status == 201
