"""1.3.1 代为录入 in the browser: the five steps, field errors beside their fields, the draft prompt."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests import filing_samples as samples
from tests.browser.conftest import Account, choose, form_item, login, shot
from tests.conftest import System


async def fill_principal(page: Page, prefix: str, *, mobile: str) -> None:
    await page.locator(f'input[name="{prefix}.name"]').fill("张三")
    await page.locator(f'input[name="{prefix}.id_number"]').fill(samples.resident_id())
    picker = page.locator(".el-form-item", has_text="证件有效期起").locator("input")
    await picker.fill("2020-01-01")
    await picker.press("Enter")
    await page.locator(".el-form-item", has_text="证件有效期止").get_by_text("长期").click()
    await page.locator(f'input[name="{prefix}.mobile"]').fill(mobile)
    await page.locator(f'input[name="{prefix}.emergency_phone"]').fill(samples.mobile())
    await page.locator(f'input[name="{prefix}.email"]').fill("zhangsan@example.com")


async def fill_subject(page: Page, *, name: str, mobile: str) -> None:
    form = page.locator("[data-test=subject-form]")
    await choose(page, form.locator("[data-test=nature]"), "企业")
    await choose(page, form.locator("[data-test=cert-type]"), "营业执照（个人或企业）")
    await page.locator('input[name="subject.cert_number"]').fill(samples.uscc())
    await page.locator('input[name="subject.name"]').fill(name)
    await page.locator('input[name="subject.cert_address"]').fill("北京市朝阳区示例路1号")
    await choose(page, form.locator("[data-test=region-province]"), "北京市")
    await choose(page, form.locator("[data-test=region-city]"), "市辖区")
    await choose(page, form.locator("[data-test=region-county]"), "朝阳区")
    await page.locator('input[name="subject.mail_address"]').fill("示例路1号2号楼301室")
    await page.locator('input[name="subject.investor_or_superior"]').fill("张三")
    await fill_principal(page, "subject.principal", mobile=mobile)


async def fill_website(page: Page, index: int, *, domain: str) -> None:
    p = f"websites[{index}]"
    form = page.locator("[data-test=website-form]")
    await page.locator(f'input[name="{p}.name"]').fill("示例科技官网")
    await page.locator(f'input[name="{p}.domains[0]"]').fill(domain)
    await page.locator(f'input[name="{p}.home_urls[0]"]').fill("www." + domain)
    await choose(page, form.locator("[data-test=service-content]"), "单位门户网站")
    await choose(page, form.locator("[data-test=access-methods]"), "云接入")
    await page.locator(f'input[name="{p}.access.ip_ranges[0].start_ip"]').fill("203.0.113.10")
    await page.locator(f'input[name="{p}.access.ip_ranges[0].end_ip"]').fill("203.0.113.20")
    await choose(page, form.locator("[data-test=server-locations]"), "北京市")
    # a multi-select's dropdown stays open over the buttons below it: close it before clicking on
    await page.keyboard.press("Escape")
    await expect(page.locator(".el-select-dropdown:visible")).to_have_count(0)


async def test_wizard_to_credentials_with_a_field_error_on_the_way(page: Page, operator: Account, system: System):
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.expect_api_status(404, path="/api/filing/drafts/current")  # no unfinished draft: the page starts one
    await login(page, operator)
    await page.locator(".console-aside").get_by_text("代为录入").click()
    await expect(page.locator("[data-test=step-1]")).to_be_visible()
    await fill_subject(page, name="浏览器测试科技有限公司", mobile="12345")
    await shot(page, "entry-step1")

    # the server refuses the mobile: the message stands beside that field, the step stays
    page.expect_api_status(422)
    await page.locator("[data-test=step-1] [data-test=next]").click()
    item = form_item(page, "subject.principal.mobile")
    await expect(item).to_have_class(re.compile("is-error"))
    await expect(item.locator(".el-form-item__error")).to_contain_text("手机")
    await expect(page.locator("[data-test=step-1]")).to_be_visible()
    await shot(page, "entry-field-error")
    await page.locator('input[name="subject.principal.mobile"]').fill(samples.mobile())
    await page.locator("[data-test=step-1] [data-test=next]").click()
    # accepted: the wizard moves on (the step-1 form item is gone, so its class cannot be awaited)

    # step 2: one website; reload keeps the draft and the step (no draft prompt)
    await expect(page.locator("[data-test=step-2]")).to_be_visible()
    await page.reload()
    await expect(page.locator("[data-test=step-2]")).to_be_visible()
    await expect(page.locator("[data-test=draft-prompt] .el-dialog")).to_have_count(0)
    domain = samples.domain()
    await fill_website(page, 0, domain=domain)
    await page.locator("[data-test=step-2] [data-test=next]").click()

    # step 3: the list of websites, "another website?" → no
    await expect(page.locator("[data-test=step-3]")).to_contain_text(domain)
    await page.locator("[data-test=another-no]").click()

    # step 4: everything, codes by their Chinese names; submit
    review = page.locator("[data-test=step-4]")
    await expect(review).to_contain_text("浏览器测试科技有限公司")
    for label in ("企业", "营业执照（个人或企业）", "北京市 市辖区 朝阳区", "单位门户网站", "云接入", "以上都不涉及"):
        await expect(review).to_contain_text(label)
    await expect(review).not_to_contain_text("ENTERPRISE")
    await shot(page, "entry-step4")
    await page.locator("[data-test=submit]").click()

    # step 5: sponsor name, username and password once, with a copy button and a warning
    done = page.locator("[data-test=step-5]")
    await expect(done).to_contain_text("录入完成")
    await expect(done).to_contain_text("仅在此显示一次")
    creds = done.locator(".credentials")
    await expect(creds).to_contain_text("浏览器测试科技有限公司")
    cells = await creds.locator(".el-descriptions__content").all_inner_texts()
    username, password = cells[1].strip(), cells[2].strip()
    assert username and len(password) >= 6
    await done.locator("[data-test=copy]").click()
    clip = await page.evaluate("navigator.clipboard.readText()")
    assert username in clip and password in clip
    await shot(page, "entry-done")

    # the sponsor account works with that password (and the filing exists for this provider)
    r = await system.client.get("/api/filing/subjects", params={"name": "浏览器测试科技有限公司"},
                                headers=operator.headers(system))
    assert r.status == 200 and (await r.json())["total"] == 1


async def test_unfinished_draft_prompt_continue_and_delete(page: Page, operator: Account, system: System):
    # an entry left half-way: the subject's name only (saved although incomplete)
    headers = operator.headers(system)
    r = await system.client.post("/api/filing/drafts", headers=headers)
    assert r.status == 201
    draft_id = (await r.json())["id"]
    r = await system.client.put(f"/api/filing/drafts/{draft_id}/subject", json={"name": "半途主办单位"}, headers=headers)
    assert r.status == 422 and (await r.json())["saved"] is True

    await login(page, operator)
    await page.locator(".console-aside").get_by_text("代为录入").click()
    dialog = page.locator(".el-dialog", has_text="您有未完成的代为录入")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("半途主办单位")
    await shot(page, "entry-draft-prompt")

    # continue: the saved typing is back in step 1
    await dialog.locator("[data-test=draft-continue]").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator('input[name="subject.name"]')).to_have_value("半途主办单位")

    # leave and start again: the prompt again; delete → a blank new draft
    await page.goto("/#/welcome")
    await page.goto("/#/entry")
    await expect(dialog).to_be_visible()
    await dialog.locator("[data-test=draft-delete]").click()
    await page.locator(".el-message-box").get_by_role("button", name="删除").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator('input[name="subject.name"]')).to_have_value("")
    r = await system.client.get("/api/filing/drafts/current", headers=headers)
    assert r.status == 200 and (await r.json())["id"] != draft_id
    r = await system.client.get(f"/api/filing/drafts/{draft_id}", headers=headers)
    assert r.status == 404


async def test_principal_im_and_legal_representative_fields(page: Page, operator: Account, system: System):
    """DOMAIN §4.2's optional principal fields: the IM account only once a type is chosen, the legal
    representative only when the principal is not the legal representative; errors beside them."""
    page.expect_api_status(404, path="/api/filing/drafts/current")
    await login(page, operator, start="/#/entry")
    await expect(page.locator("[data-test=step-1]")).to_be_visible()
    await fill_subject(page, name="法定代表人测试有限公司", mobile=samples.mobile())
    p = "subject.principal"
    principal_id = await page.locator(f'input[name="{p}.id_number"]').input_value()
    account = page.locator(f'input[name="{p}.im_account"]')
    rep_name, rep_id = page.locator(f'input[name="{p}.legal_rep_name"]'), page.locator(f'input[name="{p}.legal_rep_id"]')
    await expect(account).to_have_count(0)
    await expect(rep_name).to_have_count(0)
    await choose(page, page.locator("[data-test=im-type]"), "QQ")
    await account.fill("qq-abc")
    await page.locator("[data-test=is-legal-rep]").get_by_text("否").click()
    await rep_name.fill("李四")
    await rep_id.fill(principal_id)  # the principal is not the legal representative: another person
    page.expect_api_status(422)
    await page.locator("[data-test=step-1] [data-test=next]").click()
    await expect(form_item(page, f"{p}.im_account").locator(".el-form-item__error")).to_contain_text("QQ")
    await expect(form_item(page, f"{p}.legal_rep_id").locator(".el-form-item__error")).to_contain_text("不能与负责人的相同")
    await shot(page, "entry-legal-rep-error")
    await account.fill("12345678")
    await rep_id.fill(samples.resident_id())
    await page.locator("[data-test=step-1] [data-test=next]").click()
    await expect(page.locator("[data-test=step-2]")).to_be_visible()
    await fill_website(page, 0, domain=samples.domain())
    await page.locator("[data-test=step-2] [data-test=next]").click()
    await page.locator("[data-test=another-no]").click()
    review = page.locator("[data-test=step-4]")
    for text in ("即时通信", "QQ：12345678", "法定代表人姓名", "李四"):
        await expect(review).to_contain_text(text)
    await shot(page, "entry-legal-rep-review")

    # back to the subject: "是" drops the legal representative typed before
    await review.get_by_role("button", name="修改主体信息").click()
    await expect(rep_name).to_have_value("李四")
    await page.locator("[data-test=is-legal-rep]").get_by_text("是").click()
    await expect(rep_name).to_have_count(0)
    await page.locator("[data-test=step-1] [data-test=next]").click()
    await expect(review).to_contain_text("QQ：12345678")
    await expect(review).not_to_contain_text("李四")
    r = await system.client.get("/api/filing/drafts/current", headers=operator.headers(system))
    principal = (await r.json())["subject"]["principal"]
    assert (principal["im_type"], principal["legal_rep_name"], principal["legal_rep_id"]) == ("QQ", "", "")
