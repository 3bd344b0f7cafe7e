"""The console's frame: static files, portal home, login with the captcha, role menu, 404, print, logout."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.conftest import Account, login, new_reviewer, shot
from tests.conftest import System


async def test_static_files_404_and_api_routes_untouched(system: System):
    c = system.client
    r = await c.get("/")
    assert r.status == 200 and "text/html" in r.headers["Content-Type"]
    assert "script-src 'self' 'unsafe-eval'" in r.headers["Content-Security-Policy"]
    assert '<script type="module" src="/js/main.js">' in await r.text()
    r = await c.get("/favicon.ico")
    assert r.status == 200 and r.headers["Content-Type"] == "image/x-icon"
    r = await c.get("/vendor/vue.global.prod.js")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/javascript")
    for path in ("/no/such/page", "/js/../../app.py", "/%2e%2e/app.py", "/404.html"):
        r = await c.get(path)
        assert r.status == 404, path
        assert "页面不存在" in await r.text()
    # the API keeps its own answers: problem+json 404 and 405, not the console's page
    r = await c.get("/api/nosuch/x")
    assert r.status == 404 and r.headers["Content-Type"].startswith("application/problem+json")
    r = await c.get("/api/filing/sessions")
    assert r.status == 405
    r = await c.get("/api/filing/healthz")
    assert (await r.json())["status"] == "ok"


async def test_home_shows_login_box_and_public_content(page: Page):
    await page.goto("/")
    await expect(page.locator(".login-box")).to_contain_text("备案信息报备用户")
    await expect(page.locator(".home")).to_contain_text("通知公告")
    await expect(page.locator(".home")).to_contain_text("政策法规")
    await expect(page.get_by_role("link", name="公共查询（代码表）")).to_be_visible()
    # click-to-refresh: a new captcha image
    img = page.locator(".captcha-img")
    first = await img.get_attribute("src")
    await img.click()
    await expect(img).not_to_have_attribute("src", first)
    await shot(page, "home")


async def test_login_menu_print_and_logout(page: Page, operator: Account):
    await login(page, operator)
    await expect(page).to_have_url(re.compile(r"#/welcome$"))
    aside = page.locator(".console-aside")
    for link in ("修改密码", "修改个人信息", "意见反馈", "页面打印", "退出系统"):
        await expect(page.locator(".top-links")).to_contain_text(link)
    await shot(page, "welcome")

    # 1.14: the print stylesheet hides the menu, the links and the buttons
    await page.emulate_media(media="print")
    await expect(aside).to_be_hidden()
    await expect(page.locator(".top-links")).to_be_hidden()
    await expect(page.locator(".page-card")).to_be_visible()
    await page.emulate_media(media="screen")
    await expect(aside).to_be_visible()

    # a page that shows data, then 1.15 logout
    await page.get_by_role("link", name="修改个人信息").click()
    await expect(page.locator("input[name=display_name]")).to_have_value("备案专员")
    await page.locator("[data-test=logout]").click()
    await expect(page.locator(".login-box input[name=username]")).to_be_visible()
    # the back button does not show the data again: the guard sends it to the login box
    await page.go_back()
    await expect(page.locator(".login-box input[name=username]")).to_be_visible()
    await expect(page.locator("input[name=display_name]")).to_have_count(0)
    r = await page.request.get("/api/filing/me")
    assert r.status == 401  # the cookie was deleted and the session revoked


async def test_unknown_route_and_role_guard(page: Page, operator: Account):
    await page.goto("/#/no/such/page")
    await expect(page.locator(".not-found")).to_contain_text("页面不存在")
    await shot(page, "not-found")
    # a guarded page asked for before login: the login box, then that page
    await login(page, operator, start="/#/password")
    await expect(page).to_have_url(re.compile(r"#/password$"))
    await expect(page.locator(".page-title")).to_have_text("修改密码")


async def test_reviewer_menu_differs(page: Page, system: System):
    reviewer = await new_reviewer(system)
    await login(page, reviewer)
    await expect(page.locator("[data-test=who]")).to_contain_text("管局审核人员")
    await expect(page.locator(".page-title")).to_have_text("欢迎使用")


async def test_401_returns_to_login_box(page: Page, operator: Account):
    await login(page, operator)
    page.expect_api_status(401)
    await page.context.clear_cookies()  # the session is gone (expired, revoked elsewhere)
    await page.get_by_role("link", name="意见反馈").click()
    await expect(page.locator(".login-box input[name=username]")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"redirect=%2Ffeedback|redirect=/feedback"))
    # logging in again lands on the page that was asked for
    await login(page, operator, start=page.url)
    await expect(page).to_have_url(re.compile(r"#/feedback"))


async def test_server_error_shows_a_toast(page: Page, operator: Account):
    await login(page, operator)
    page.expect_api_status(503)
    await page.route(re.compile(r".*/api/filing/feedback\?.*"),
                     lambda route: route.fulfill(status=503, content_type="application/problem+json",
                                                 body='{"title":"x","status":503,"detail":"维护中"}'))
    await page.get_by_role("link", name="意见反馈").click()
    await expect(page.locator(".el-message--error")).to_contain_text("服务器暂时无法处理请求（503）")


async def test_network_failure_shows_a_toast(page: Page, operator: Account):
    await login(page, operator)
    page.expect_api_status(0, path="/api/filing/feedback")
    await page.route(re.compile(r".*/api/filing/feedback\?.*"), lambda route: route.abort("connectionrefused"))
    await page.get_by_role("link", name="意见反馈").click()
    await expect(page.locator(".el-message--error")).to_contain_text("网络连接失败")


async def test_a_session_ended_elsewhere_leaves_a_working_login_box(page: Page, operator: Account, system: System):
    await login(page, operator)
    cookie = next(c for c in await page.context.cookies() if c["name"] == "icp_session")
    # the same session ends elsewhere (another tab's logout, a password change, an administrator)
    r = await system.client.delete("/api/filing/sessions/current",
                                   headers={"Authorization": f"Bearer {cookie['value']}"})
    assert r.status == 204
    page.expect_api_status(401, path="/api/filing/me")
    await page.reload()
    await expect(page.locator(".login-box .captcha-img")).to_be_visible()
    assert not [c for c in await page.context.cookies() if c["name"] == "icp_session"]  # forgotten
    await login(page, operator)
    await expect(page.locator("[data-test=who]")).to_be_visible()
