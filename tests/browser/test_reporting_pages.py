"""Reporting pages in the browser: progress (1.7.1), filing information + detail (1.7.2), combined
query + Excel export (1.7.3), statistics with a chart (1.7.4), e-certificates (1.5.1) and the public
lookup on the home page (公共查询, no login)."""

from __future__ import annotations

import io
import re

import openpyxl
from playwright.async_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import Account, login, shot
from tests.browser.filings import approved_filing
from tests.conftest import System


async def reporting_sees(system: System, account: Account, number: str) -> None:
    async def seen():
        r = await system.client.get("/api/reporting/filings", params={"number": number},
                                    headers=account.headers(system))
        return (await r.json())["total"] == 1

    await system.eventually(seen)


async def test_progress_filings_detail_combined_export_statistics_and_certificate(page: Page, system: System,
                                                                                   operator: Account):
    filing, number = await approved_filing(system, operator, "报表页面")
    await reporting_sees(system, operator, number)
    await login(page, operator)
    aside = page.locator(".console-aside")

    # 网站备案进度查询: 已通过, and its history
    await aside.get_by_text("网站备案进度查询").click()
    filters = page.locator("[data-test=progress-filters]")
    await filters.locator("input[name=sponsor_name]").fill(filing.subject_name)
    await filters.locator("[data-test=search]").click()
    row = page.locator(".el-table__row", has_text=filing.subject_name)
    await expect(row).to_have_count(1)
    await expect(row.locator(f"[data-test=progress-{filing.application_id}]")).to_have_text("已通过")
    await row.locator(f"[data-test=history-{filing.application_id}]").click()
    await expect(page.locator(".el-dialog .el-timeline")).to_contain_text("已提交管局")
    await expect(page.locator(".el-dialog .el-timeline")).to_contain_text("审核通过")
    await shot(page, "reporting-progress")
    await page.keyboard.press("Escape")

    # 网站备案信息查询 → 详细信息
    await aside.get_by_text("网站备案信息查询").click()
    filters = page.locator("[data-test=filing-filters]")
    await filters.locator("input[name=number]").fill(number)
    await filters.locator("[data-test=search]").click()
    await expect(page).to_have_url(re.compile("number="))
    await page.locator(f"[data-test='detail-{number}']").click()
    subject = page.locator("[data-test=subject]")
    await expect(subject).to_contain_text(filing.subject_name)
    await expect(page.locator(f"[data-test='website-{number}']")).to_contain_text(filing.domain)
    await expect(page.locator(f"[data-test='website-{number}']")).to_contain_text("203.0.113.10-203.0.113.20")
    await expect(page.locator(".page-card")).to_contain_text("*")  # masked ID numbers
    await shot(page, "reporting-filing-detail")

    # 组合查询: an IP within the filed range, then the export of the same rows
    await aside.get_by_text("网站备案信息组合查询").click()
    filters = page.locator("[data-test=filing-filters]")
    await filters.locator("input[name=sponsor_name]").fill(filing.subject_name)
    await filters.locator("input[name=ip]").fill("203.0.113.15")
    await filters.locator("[data-test=search]").click()
    await expect(page.locator(".el-table__row", has_text=number)).to_have_count(1)
    async with page.expect_download() as info:
        await filters.locator("[data-test=export]").click()
    download = await info.value
    data = io.BytesIO((await download.path()).read_bytes())
    rows = list(openpyxl.load_workbook(data, read_only=True).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [number] and rows[1][2] == filing.subject_name
    await shot(page, "reporting-combined")

    # 统计: the table with its totals row and the chart beside it
    await aside.get_by_text("网站备案信息统计").click()
    stats = page.locator("[data-test=stats]")
    await expect(stats).to_contain_text("合计")
    await expect(stats).to_contain_text("北京市")
    await expect(page.locator("[data-test=stats-chart] canvas")).to_have_count(1)
    await shot(page, "reporting-statistics")

    # 电子证书下载: the PDF of the website
    await aside.get_by_text("电子证书下载").click()
    filters = page.locator("[data-test=cert-filters]")
    await filters.locator("input[name=sponsor_name]").fill(filing.subject_name)
    await filters.locator("[data-test=search]").click()
    async with page.expect_download() as info:
        await page.locator(f"[data-test='cert-{number}']").click()
    pdf = await info.value
    reader = PdfReader(io.BytesIO((await pdf.path()).read_bytes()))
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert f"网站备案号：{number}" in text and f"主办单位名称：{filing.subject_name}" in text
    await shot(page, "reporting-certificates")


async def test_statistics_page_requires_the_cutoff(page: Page, system: System, operator: Account):
    await login(page, operator)
    page.expect_api_status(400)
    await page.goto("/#/query/statistics?cutoff=&group_by=nature")  # a link with the cutoff left empty
    item = page.locator(".el-form-item", has_text="统计截止时间")
    await expect(item.locator(".el-form-item__error")).to_contain_text("统计截止时间为必填项")
    await expect(page.locator("[data-test=stats]")).to_have_count(0)
    await shot(page, "reporting-statistics-cutoff")


async def test_public_lookup_on_the_home_page_without_login(page: Page, system: System, operator: Account):
    filing, number = await approved_filing(system, operator, "公共查询页")
    await reporting_sees(system, operator, number)
    await page.goto("/")
    await page.get_by_text("公共查询（备案信息）").click()
    form = page.locator("[data-test=lookup-form]")
    await form.locator("input[name=lookup-value]").fill(filing.domain)
    await form.locator("[data-test=lookup-submit]").click()
    results = page.locator("[data-test=lookup-results]")
    await expect(results.locator(".el-table__row")).to_have_count(1)
    await expect(results).to_contain_text(number)
    await expect(results).to_contain_text(filing.subject_name)
    await shot(page, "reporting-public-lookup")
