"""自主备案 in the browser (issue 11): registration from the login box (a wrong captcha refused in place),
the sponsor's own wizard without access information, the bureau's review page showing a self-filing and
approving it, and the sponsor's progress page."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

from playwright.async_api import Page, expect

from tests import filing_samples as samples
from tests.browser.conftest import (
    Account,
    answer_captchas,
    click_captcha,
    form_item,
    login,
    new_reviewer,
    shot,
)
from tests.browser.test_entry import fill_subject
from tests.browser.test_review_pages import logout
from tests.conftest import System


async def register_captcha(page: Page) -> str:
    """Refresh the registration form's captcha and return its answer (ICP_ENV=test)."""
    return await click_captcha(page, page.locator("[data-test=register-form] [data-test=captcha]"))


async def fill_self_website(page: Page, *, domain: str) -> None:
    p = "websites[0]"
    form = page.locator("[data-test=website-form]")
    await page.locator(f'input[name="{p}.name"]').fill("自主备案官网")
    await page.locator(f'input[name="{p}.domains[0]"]').fill(domain)
    await page.locator(f'input[name="{p}.home_urls[0]"]').fill("www." + domain)
    await form.locator("[data-test=service-content]").click()
    await page.locator(".el-select-dropdown__item:visible").get_by_text("单位门户网站", exact=True).click()
    await page.keyboard.press("Escape")
    await expect(page.locator(".el-select-dropdown:visible")).to_have_count(0)


async def test_register_self_file_bureau_approves_progress_visible(page: Page, system: System):
    username, password = "sfb" + uuid.uuid4().hex[:8], "selfpass1"
    name = "自主备案浏览器测试有限公司" + uuid.uuid4().hex[:4]
    await answer_captchas(page)
    await page.goto("/")
    await page.locator("[data-test=register-link]").click()
    form = page.locator("[data-test=register-form]")
    await form.locator("input[name=username]").fill(username)
    await form.locator("input[name=password]").fill(password)
    await form.locator("input[name=confirm]").fill(password)
    await form.locator("input[name=display_name]").fill(name)
    await form.locator("[data-test=province]").click()
    await page.locator(".el-select-dropdown__item:visible").get_by_text("北京市", exact=True).click()

    # a wrong captcha: refused beside the field, a new image shown
    await register_captcha(page)
    await form.locator("input[name=captcha]").fill("WRONG")
    page.expect_api_status(422)
    await form.locator("[data-test=register]").click()
    await expect(form_item(page, "captcha").locator(".el-form-item__error")).to_contain_text("验证码")
    await shot(page, "self-register-error")
    await form.locator("input[name=captcha]").fill(await register_captcha(page))
    await form.locator("[data-test=register]").click()
    await expect(page.locator("[data-test=registered]")).to_contain_text("注册成功")
    await expect(page.locator("[data-test=registered]")).to_contain_text(username)
    # the wrong captcha's toast (5 s) does not linger over the success
    await expect(page.locator(".el-message--error")).to_have_count(0, timeout=1000)
    await shot(page, "self-registered")

    # log in as 网站主办者; the wizard without access information
    sponsor = Account(username, password, "sponsor")
    page.expect_api_status(404, path="/api/filing/drafts/current")  # no unfinished draft: the page starts one
    await login(page, sponsor)
    await page.locator(".console-aside").get_by_text("自主备案").click()
    await expect(page.locator(".page-card-header").first).to_contain_text("自主备案")
    await expect(page.locator("[data-test=step-1]")).to_be_visible()
    await fill_subject(page, name=name, mobile=samples.mobile())
    await page.locator("[data-test=step-1] [data-test=next]").click()
    await expect(page.locator("[data-test=step-2]")).to_be_visible()
    await expect(page.locator("[data-test=access-methods]")).to_have_count(0)  # no access part
    domain = samples.domain()
    await fill_self_website(page, domain=domain)
    await shot(page, "self-filing-website")
    await page.locator("[data-test=step-2] [data-test=next]").click()
    await expect(page.locator("[data-test=step-3]")).to_contain_text(domain)
    await page.locator("[data-test=another-no]").click()
    review = page.locator("[data-test=step-4]")
    await expect(review).to_contain_text(name)
    await expect(review).not_to_contain_text("接入方式")
    await page.locator("[data-test=submit]").click()
    done = page.locator("[data-test=step-5]")
    await expect(done).to_contain_text("自主备案已提交")
    await expect(done.locator(".credential-warning")).to_have_count(0)  # no generated password to hand on
    await shot(page, "self-filing-done")
    await done.locator("[data-test=to-my-applications]").click()
    mine = page.locator("[data-test=my-applications]")
    await expect(mine).to_contain_text(name)
    await expect(mine.locator("[data-test=progress]").first).to_have_text("审核中")
    await expect(mine).to_contain_text("自主备案")
    await logout(page)

    # the bureau's review list shows it as a self-filing; the case page approves it
    reviewer = await new_reviewer(system)
    await login(page, reviewer)
    await page.goto("/#/review?stage=bureau&name=" + quote(name))
    table = page.locator(".paged-table")
    await expect(table).to_contain_text(name)
    await expect(table.locator("[data-test=self-filing]")).to_have_text("自主备案")
    await shot(page, "self-filing-review-list")
    await table.locator("[data-test^=case-action-]").first.click()
    await expect(page.locator(".case-head")).to_contain_text("主办者自主备案")
    await page.locator("[data-test=decision-approve]").click()
    await page.locator("textarea[name=reason]").fill("自主备案材料齐全，同意")
    await page.locator("[data-test=decision-submit]").click()
    result = page.locator("[data-test=case-result]")
    await expect(result).to_contain_text(re.compile(r"京ICP备\d{10}号-1"))
    await logout(page)

    # the sponsor sees it approved, with its number
    await login(page, sponsor)
    await page.goto("/#/my-applications")

    async def approved() -> bool:
        await page.locator("button", has_text="刷新").click()
        return (await mine.locator("[data-test=progress]").first.inner_text()).strip() == "已通过"

    await system.eventually(approved)
    await expect(mine).to_contain_text(re.compile(r"京ICP备\d{10}号"))
    await shot(page, "self-filing-approved")


async def test_a_rejected_self_filing_abandoned_from_my_applications(page: Page, system: System):
    from tests.integration.change_helpers import bureau
    from tests.integration.selffiling_helpers import new_self_sponsor, self_data, wizard

    s = await new_self_sponsor(system)
    status, done, _ = await wizard(s, self_data())
    assert status == 201, done

    async def case_id():
        r = await system.client.get("/api/verification/cases", params={"application_id": done["application_id"]},
                                    headers=bureau(system))
        items = (await r.json())["items"]
        return items[0]["id"] if items else None

    cid = await system.eventually(case_id)
    r = await system.client.post(f"/api/verification/cases/{cid}/decision", headers=bureau(system),
                                 json={"decision": "reject", "reason": "主体证件照片不清晰"})
    assert r.status == 200, await r.text()

    await login(page, Account(s.username, s.password, "sponsor"))
    await page.locator(".console-aside").get_by_text("我的备案申请").click()
    mine = page.locator("[data-test=my-applications]")

    async def rejected() -> bool:
        await page.locator("button", has_text="刷新").click()
        return (await mine.locator("[data-test=progress]").first.inner_text()).strip() == "已驳回"

    await system.eventually(rejected)
    await expect(mine).to_contain_text("主体证件照片不清晰")
    await shot(page, "self-filing-rejected")
    await mine.locator("[data-test=abandon]").click()
    await page.locator(".el-message-box").get_by_role("button", name="放弃").click()
    await expect(mine.locator("[data-test=progress]").first).to_have_text("已放弃")
    await expect(mine.locator("[data-test=abandon]")).to_have_count(0)
