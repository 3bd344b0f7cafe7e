"""Unfiled sites (1.8.1: list, history, handling), their statistics (1.8.2), the filing blacklist
(1.9.1: query, detail, listing and removal by the regulator) and the illegal-access list (1.9.2)
in the browser. Detections arrive through the real HTTP ingest with a source key."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Page, expect

from tests import filing_samples as fs
from tests.browser.conftest import Account, choose, login, new_reviewer, shot
from tests.browser.test_review_pages import logout
from tests.conftest import System
from tests.integration.change_helpers import filed
from tests.integration.detection_helpers import event, post_events, source_key
from tests.integration.filing_helpers import Tenant


async def _detections(system: System, operator: Account, *events: dict) -> None:
    pool = system.ctx("detection").pool
    await system.eventually(lambda: pool.fetchval("SELECT true FROM providers WHERE provider_id = $1",
                                                   operator.provider_id))
    await post_events(system, await source_key(system), list(events))


async def test_unfiled_list_history_and_handling(page: Page, system: System, operator: Account):
    dom, other = f"u{uuid.uuid4().hex[:10]}.cn", f"o{uuid.uuid4().hex[:10]}.cn"
    await _detections(system, operator, event(operator.provider_id, dom, ip="203.0.113.21"),
                      event(operator.provider_id, dom, ip="203.0.113.22"), event(operator.provider_id, other))
    await login(page, operator)
    await page.locator(".console-aside").get_by_text("未备案检测结果查询").click()
    table = page.locator(".paged-table")
    await expect(table).to_contain_text(dom)
    await expect(table).to_contain_text(other)
    await page.locator("[data-test=unfiled-filters] input[name=domain]").fill(dom)
    await page.locator("[data-test=unfiled-filters] [data-test=search]").click()
    await expect(page).to_have_url(re.compile(r"domain=" + re.escape(dom)))
    await expect(table).not_to_contain_text(other)
    await expect(table).to_contain_text("北京市")  # codes by their Chinese names
    await expect(table).to_contain_text("未处理")
    await shot(page, "unfiled-list")

    # the detection count opens the history
    await page.locator(f"[data-test='count-{dom}']").click()
    await expect(page.locator("[data-test=sightings]")).to_contain_text("203.0.113.21")
    await expect(page.locator("[data-test=sightings]")).to_contain_text("203.0.113.22")
    await expect(page.locator(".page-card")).to_contain_text("检测历史（共 2 次）")

    # handling: no result chosen → the error beside the field; then a result and a note
    page.expect_api_status(422)
    await page.locator("[data-test=handling-submit]").click()
    code_item = page.locator("[data-test=handling-form] .el-form-item", has=page.locator("[data-test=handling-code]"))
    await expect(code_item.locator(".el-form-item__error")).to_be_visible()
    await choose(page, page.locator("[data-test=handling-code]"), "已通知整改，处理中")
    await page.locator("textarea[name=note]").fill("已电话通知客户")
    await page.locator("[data-test=handling-submit]").click()
    await expect(page.locator("[data-test=handled]")).to_be_visible()
    await expect(page.locator("[data-test=handlings]")).to_contain_text("已通知整改，处理中")
    await expect(page.locator("[data-test=handlings]")).to_contain_text("已电话通知客户")
    await shot(page, "unfiled-history")
    await page.locator("[data-test=back-to-list]").click()
    await expect(page).to_have_url(re.compile(r"#/unfiled"))
    await page.locator("[data-test=unfiled-filters] input[name=domain]").fill(dom)
    await page.locator("[data-test=unfiled-filters] [data-test=search]").click()
    await expect(page.locator(".paged-table")).to_contain_text("处理中")

    # handle from the list's 处理 link: the second handling closes it, both are kept
    await page.locator(f"[data-test='handle-{dom}']").click()
    await choose(page, page.locator("[data-test=handling-code]"), "已停止接入（关停）")
    await page.locator("[data-test=handling-submit]").click()
    await expect(page.locator("[data-test=handlings] .el-table__row")).to_have_count(2)


async def test_statistics_group_and_open_their_detections(page: Page, system: System, operator: Account):
    a, b = f"s{uuid.uuid4().hex[:10]}.cn", f"s{uuid.uuid4().hex[:10]}.cn"
    await _detections(system, operator, event(operator.provider_id, a), event(operator.provider_id, a),
                      event(operator.provider_id, b, province="SH"))
    await login(page, operator)
    await page.goto("/#/unfiled-statistics")
    stats = page.locator("[data-test=stats]")
    await expect(stats.locator(".el-table__row", has_text="北京市")).to_contain_text("2")
    await expect(stats.locator(".el-table__row", has_text="上海市")).to_be_visible()
    await expect(stats.locator(".el-table__row", has_text="合计")).to_contain_text("3")
    await shot(page, "unfiled-statistics")
    await page.locator("[data-test=browse-SH]").click()
    await expect(page).to_have_url(re.compile(r"#/unfiled\?.*province=SH"))
    await expect(page.locator(".paged-table")).to_contain_text(b)
    await expect(page.locator(".paged-table")).not_to_contain_text(a)
    # by handling result
    await page.goto("/#/unfiled-statistics")
    await choose(page, page.locator("[data-test=group-by]"), "按处理结果")
    await page.locator("[data-test=stats-submit]").click()
    await expect(stats).to_contain_text("未处理")


async def test_regulator_lists_and_removes_a_website_and_providers_read_the_list(page: Page, system: System,
                                                                               operator: Account):
    reviewer = await new_reviewer(system)
    dom = fs.domain()
    await login(page, reviewer)
    await page.goto("/#/blacklist")
    await page.locator("[data-test=blacklist-add]").click()
    form = page.locator("[data-test=blacklist-form]")
    await form.get_by_text("网站", exact=True).click()
    await form.locator("input[name=domains]").fill("not a domain")
    await form.locator("textarea[name=reason]").fill("传播违法信息")
    page.expect_api_status(422)
    await page.locator("[data-test=blacklist-save]").click()
    await expect(form.locator(".el-form-item__error")).to_contain_text("域名")
    await form.locator("input[name=domains]").fill(dom)
    await page.locator("[data-test=blacklist-save]").click()
    entry = page.locator("[data-test=blacklist-entry]")
    await expect(entry).to_contain_text(dom)
    await expect(entry).to_contain_text("在黑名单中")
    await shot(page, "blacklist-detail")
    entry_url = page.url

    # a provider reads it: query by domain (one condition only), then 详细
    await logout(page)
    await login(page, operator)
    await page.goto("/#/blacklist")
    await page.locator("[data-test=blacklist-by]").get_by_text("域名").click()
    await page.locator("[data-test=blacklist-filters] input[name=value]").fill(dom)
    await page.locator("[data-test=blacklist-filters] [data-test=search]").click()
    await expect(page.locator("[data-test=blacklist-table]")).to_contain_text("传播违法信息")
    await shot(page, "blacklist-query")
    await page.locator("[data-test=blacklist-detail]").first.click()
    await expect(page.locator("[data-test=blacklist-entry]")).to_contain_text(dom)
    await expect(page.locator("[data-test=blacklist-remove]")).to_have_count(0)  # providers only read

    # the regulator removes it with a reason
    await logout(page)
    await login(page, reviewer)
    await page.goto(entry_url)
    await page.locator("[data-test=blacklist-remove]").click()
    await page.locator("textarea[name=removal_reason]").fill("已整改完毕")
    await page.locator("[data-test=blacklist-remove-confirm]").click()
    await expect(page.locator("[data-test=blacklist-entry]")).to_contain_text("已移出")
    await expect(page.locator("[data-test=blacklist-entry]")).to_contain_text("已整改完毕")


async def test_illegal_access_shows_blacklisted_filings_the_provider_serves(page: Page, system: System,
                                                                           operator: Account):
    data = fs.filing(1)
    done = await filed(Tenant(system, operator.provider_id, operator.user_id), data=data)
    dom = data["websites"][0]["domains"][0]
    pool = system.ctx("detection").pool
    await system.eventually(lambda: pool.fetchval("SELECT true FROM filed_domains WHERE domain = $1", dom))
    r = await system.client.post("/api/detection/blacklist", json={"kind": "WEBSITE", "domains": [dom], "reason": "涉赌"},
                                 headers=system.auth("bureau", province="BJ", user_id="bj-api-reviewer"))
    assert r.status == 201, await r.text()
    await login(page, operator)
    await page.locator(".console-aside").get_by_text("非法接入黑名单查询").click()
    table = page.locator(".paged-table")
    await expect(table).to_contain_text(done["website_nos"][0])
    await expect(table).to_contain_text("涉赌")
    await page.locator("[data-test=illegal-filters] input[name=domain]").fill("no-such-" + dom)
    await page.locator("[data-test=illegal-filters] [data-test=search]").click()
    await expect(table).to_contain_text("暂无数据")
    await page.locator("[data-test=illegal-filters] input[name=domain]").fill(dom)
    await page.locator("[data-test=illegal-filters] [data-test=search]").click()
    await expect(table).to_contain_text(done["website_nos"][0])
    await shot(page, "illegal-access")
