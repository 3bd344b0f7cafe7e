"""Verification (1.3.4), the bureau's review, and the number on the website's page, in the browser."""

from __future__ import annotations

import re
from urllib.parse import quote

from playwright.async_api import Page, expect

from tests.browser.conftest import Account, login, new_reviewer, shot
from tests.browser.filings import case_of, submit_filing, website_numbered
from tests.conftest import System


async def logout(page: Page) -> None:
    await page.locator("[data-test=logout]").click()
    await expect(page.locator(".login-box input[name=username]")).to_be_visible()


async def test_verify_as_provider_approve_as_bureau_and_see_the_number(page: Page, system: System, operator: Account):
    filing = await submit_filing(system, operator, "核实审核")
    other = await submit_filing(system, operator, "另一待核实")  # filtered out by the name below
    await case_of(system, operator, filing.application_id)
    await case_of(system, operator, other.application_id)

    # ---- provider: the list of filings waiting for verification, filtered by name (kept in the URL)
    await login(page, operator)
    await page.locator(".console-aside").get_by_text("核实提交").click()
    table = page.locator(".paged-table")
    await expect(table).to_contain_text(filing.subject_name)
    await expect(table).to_contain_text(other.subject_name)
    await page.locator("[data-test=case-filters] input[name=name]").fill(filing.subject_name)
    await page.locator("[data-test=case-filters] [data-test=search]").click()
    await expect(page).to_have_url(re.compile(r"name=" + re.escape(quote(filing.subject_name))))
    await expect(table).not_to_contain_text(other.subject_name)
    await page.reload()  # the filter survives a reload
    await expect(page.locator("[data-test=case-filters] input[name=name]")).to_have_value(filing.subject_name)
    await expect(table).to_contain_text(filing.subject_name)
    await expect(table).not_to_contain_text(other.subject_name)
    await expect(table).to_contain_text("待核实")
    await expect(table).to_contain_text("首次备案")
    await shot(page, "verify-list")

    # ---- the whole application, then 核实 without an opinion: the error beside the field
    await page.locator(f"[data-test=case-action-{filing.application_id}]").click()
    await expect(page.locator(".application-view")).to_contain_text(filing.domain)
    await expect(page.locator(".application-view")).to_contain_text("主体负责人")
    await expect(page.locator(".application-view")).to_contain_text("云接入")  # codes by their Chinese names
    await expect(page.locator(".application-view")).not_to_contain_text("CLOUD")
    page.expect_api_status(422)
    await page.locator("[data-test=verify-submit]").click()
    opinion_item = page.locator("[data-test=verify-form] .el-form-item", has=page.locator("textarea[name=opinion]"))
    await expect(opinion_item.locator(".el-form-item__error")).to_contain_text("不能为空")
    await shot(page, "case-verify")
    await page.locator("textarea[name=opinion]").fill("证件原件已核验无误")
    await page.locator("[data-test=verify-pass]").click()
    await page.locator("[data-test=verify-submit]").click()
    await expect(page.locator("[data-test=case-result]")).to_contain_text("核实通过，已提交管局审核")
    await page.locator("[data-test=back-to-list]").click()
    await expect(page).to_have_url(re.compile(r"#/verify"))
    await logout(page)

    # ---- bureau: the province's review list, the case, approve
    reviewer = await new_reviewer(system)
    await login(page, reviewer)
    await page.goto("/#/review?stage=bureau&name=" + quote(filing.subject_name))
    await expect(table).to_contain_text(filing.subject_name)
    await expect(table).to_contain_text("已提交管局")
    await shot(page, "review-list")
    await page.locator(f"[data-test=case-action-{filing.application_id}]").click()
    await expect(page.locator(".history")).to_contain_text("证件原件已核验无误")  # the provider's opinion
    await page.locator("[data-test=decision-approve]").click()
    await page.locator("textarea[name=reason]").fill("材料齐全，同意备案")
    await page.locator("[data-test=decision-submit]").click()
    result = page.locator("[data-test=case-result]")
    await expect(result).to_contain_text("审核通过")
    await expect(result).to_contain_text(re.compile(r"京ICP备\d{10}号-1"))
    number = re.search(r"京ICP备\d{10}号-1", await result.inner_text()).group(0)
    await shot(page, "case-approved")
    await logout(page)

    # ---- provider: the website's detail page shows the number (once filing applied the approval)
    assert await website_numbered(system, operator, filing.website_id) == number
    await login(page, operator)
    await page.locator(".console-aside").get_by_text("网站查询").click()
    await page.locator("[data-test=website-filters] input[name=domain]").fill(filing.domain)
    await page.locator("[data-test=website-filters] [data-test=search]").click()
    await expect(page).to_have_url(re.compile(r"domain=" + re.escape(filing.domain)))
    await expect(table).not_to_contain_text(other.domain)
    await expect(table).to_contain_text(number)
    await table.get_by_role("link", name="示例科技官网").click()
    await expect(page.locator("[data-test=website-no]")).to_have_text(number)
    await expect(page.locator("[data-test=website-status]")).to_have_text("正常")
    await shot(page, "website-detail")
    await page.get_by_role("tab", name="申请记录").click()
    await expect(page.locator(".application-history")).to_contain_text("审核通过（已发号）")


async def test_reject_needs_a_reason(page: Page, system: System, operator: Account):
    filing = await submit_filing(system, operator, "驳回原因")
    case = await case_of(system, operator, filing.application_id)
    from tests.browser.filings import operator_headers

    r = await system.client.post(f"/api/verification/cases/{case['id']}/verification",
                                 json={"result": "pass", "opinion": "已核实"}, headers=operator_headers(system, operator))
    assert r.status == 200, await r.text()
    reviewer = await new_reviewer(system)
    await login(page, reviewer, start=f"/#/cases/{case['id']}")
    await expect(page).to_have_url(re.compile(f"#/cases/{case['id']}"))
    await page.locator("[data-test=decision-reject]").click()
    page.expect_api_status(422)
    await page.locator("[data-test=decision-submit]").click()
    reason_item = page.locator("[data-test=decision-form] .el-form-item", has=page.locator("textarea[name=reason]"))
    await expect(reason_item.locator(".el-form-item__error")).to_contain_text("驳回")
    await page.locator("textarea[name=reason]").fill("网站名称与主办单位名称不符")
    await page.locator("[data-test=decision-submit]").click()
    await expect(page.locator("[data-test=case-result]")).to_contain_text("网站名称与主办单位名称不符")
    await page.get_by_role("button", name="查看申请").click()
    await expect(page.locator("[data-test=case-status]")).to_contain_text("管局退回")
    # the case is decided: no action form any more
    await expect(page.locator("[data-test=decision-form]")).to_have_count(0)


async def test_return_correct_and_resubmit(page: Page, system: System, operator: Account):
    filing = await submit_filing(system, operator, "退回更正")
    case = await case_of(system, operator, filing.application_id)
    await login(page, operator, start=f"/#/cases/{case['id']}")
    await page.locator("[data-test=verify-return]").click()
    await page.locator("textarea[name=opinion]").fill("网站名称与主办单位不符请修改")
    await page.locator("[data-test=verify-submit]").click()
    await expect(page.locator("[data-test=case-result]")).to_contain_text("已退回")
    await page.get_by_role("button", name="查看申请").click()
    await page.locator("[data-test=correct]").click()
    await expect(page.locator(".page-card")).to_contain_text("网站名称与主办单位不符请修改")
    name = page.locator("input[name='websites[0].name']")
    await expect(name).to_have_value("示例科技官网")
    await name.fill("退回更正科技官网")
    await shot(page, "application-correct")
    await page.locator("[data-test=resubmit]").click()
    await expect(page.locator("[data-test=resubmitted]")).to_contain_text("第2版")
    await page.get_by_role("button", name="去核实").click()
    row = page.locator(".el-table__row", has_text=filing.subject_name)
    await expect(row).to_contain_text("待核实")
    await row.locator(f"[data-test=case-action-{filing.application_id}]").click()
    await expect(page.locator(".application-view")).to_contain_text("退回更正科技官网")
    await expect(page.locator(".versions")).to_contain_text("第2版")


async def test_preapproval_result_then_approval(page: Page, system: System, operator: Account):
    filing = await submit_filing(system, operator, "前置审批", preapproval=("EDUCATION", "京教审2026第8号"))
    case = await case_of(system, operator, filing.application_id)
    from tests.browser.filings import operator_headers

    r = await system.client.post(f"/api/verification/cases/{case['id']}/verification",
                                 json={"result": "pass", "opinion": "已核实"}, headers=operator_headers(system, operator))
    assert (await r.json())["status"] == "PREAPPROVAL_PENDING"
    reviewer = await new_reviewer(system)
    await login(page, reviewer)
    await page.goto("/#/review?stage=preapproval&name=" + quote(filing.subject_name))
    row = page.locator(".el-table__row", has_text=filing.subject_name)
    await expect(row).to_contain_text("前置审批中")
    await expect(row).to_contain_text("涉及前置审批")
    await row.locator(f"[data-test=case-action-{filing.application_id}]").click()
    await expect(page.locator(".application-view")).to_contain_text("教育（京教审2026第8号）")
    await expect(page.locator("[data-test=decision-form]")).to_have_count(0)  # approval waits for the result
    await shot(page, "case-preapproval")
    await page.locator("[data-test=preapproval-form] textarea[name=note]").fill("教育主管部门已同意")
    await page.locator("[data-test=preapproval-submit]").click()
    await expect(page.locator("[data-test=case-result]")).to_contain_text("前置审批通过")
    await page.get_by_role("button", name="查看申请").click()
    await page.locator("[data-test=decision-approve]").click()
    await page.locator("[data-test=decision-submit]").click()
    await expect(page.locator("[data-test=case-result]")).to_contain_text(re.compile(r"京ICP备\d{10}号-1"))
