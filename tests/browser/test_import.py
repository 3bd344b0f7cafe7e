"""1.3.2 批量导入 in the browser: template, upload, progress to the end, errors and both workbooks."""

from __future__ import annotations

from openpyxl import load_workbook
from playwright.async_api import Page, expect

from tests.browser.conftest import Account, login, shot
from tests.integration import importer_workbooks as wb


async def _saved_book(download, tmp_path):
    path = tmp_path / ("dl-" + download.suggested_filename)
    await download.save_as(path)
    return load_workbook(path)


async def _upload(page: Page, tmp_path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    await page.locator("[data-test=file] input[type=file]").set_input_files(str(path))
    await page.locator("[data-test=submit-import]").click()


async def test_import_template_rejected_file_and_credentials(page: Page, operator: Account, tmp_path):
    await login(page, operator)
    await page.locator(".console-aside").get_by_text("批量导入").click()
    await expect(page.locator("[data-test=upload-form]")).to_be_visible()

    # the template
    async with page.expect_download() as info:
        await page.locator("[data-test=template]").click()
    template = await info.value
    assert template.suggested_filename == "ICP备案批量导入模板.xlsx"
    book = await _saved_book(template, tmp_path)
    assert {"主体", "网站"} <= set(book.sheetnames)

    # a file with an error: rejected, the error listed by sheet/row/column, the annotated workbook
    bad = wb.filled([wb.subject_row("S1", principal_mobile="12345")], [wb.website_row("S1")])
    await _upload(page, tmp_path, "有错误.xlsx", bad)
    job = page.locator("[data-test=job]")
    await expect(job).to_contain_text("文件有错误", timeout=30000)
    errors = page.locator("[data-test=import-errors]")
    await expect(errors).to_contain_text("主体")
    await expect(errors).to_contain_text("12345")
    await expect(page.locator("[data-test=progress] .el-progress.is-exception, [data-test=progress].is-exception")).to_have_count(1)
    await shot(page, "import-rejected")
    async with page.expect_download() as info:
        await page.locator("[data-test=errors-xlsx]").click()
    annotated = await info.value
    assert annotated.suggested_filename.startswith("错误标注")
    await _saved_book(annotated, tmp_path)  # a real workbook

    # reload keeps the job on screen (it is in the URL)
    await page.reload()
    await expect(errors).to_contain_text("12345")

    # a good file: the progress bar runs to 100 %, then the credentials workbook
    await page.locator("[data-test=import-again]").click()
    good = wb.filled([wb.subject_row("S1"), wb.subject_row("S2")],
                     [wb.website_row("S1"), wb.website_row("S2"), wb.website_row("S2")])
    await _upload(page, tmp_path, "正确.xlsx", good)
    bar = page.locator("[data-test=progress]")
    await expect(bar).to_be_visible()
    await expect(job).to_contain_text("导入完成", timeout=60000)
    await expect(bar).to_contain_text("100%")
    await expect(job).to_contain_text("成功导入 2 个主体、3 个网站")
    await shot(page, "import-completed")
    async with page.expect_download() as info:
        await page.locator("[data-test=result]").click()
    result = await info.value
    assert result.suggested_filename == "批量导入结果-主办者账号.xlsx"
    sheet = (await _saved_book(result, tmp_path)).active
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "深圳市测试" in text  # the subjects' names with their generated usernames and passwords
