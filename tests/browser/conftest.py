"""Browser tests of the web console: Playwright drives Debian's Chromium against the running system.

The server is the session's `system` (tests/conftest.py: all five services and the console on a
throwaway database and vhost, on a real local TCP port). One browser per session; every test gets
a fresh context (no cookies) and fails on any browser console error or uncaught page error.
Screenshots go to tests/browser/artifacts/ (not committed).

Needs `/usr/bin/chromium` and `fonts-noto-cjk` (apt); never `playwright install`.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import System

CHROMIUM = os.environ.get("ICP_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "Test1234"
# the machine is shared: an assertion waits up to 15 s for the page (it passes as soon as it holds)
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
async def browser():
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once per session, before any await
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium fonts-noto-cjk` (never `playwright install`)",
                    pytrace=False)
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        await b.close()


@pytest.fixture(scope="session")
def base_url(system: System) -> str:
    return str(system.client.make_url("/")).rstrip("/")


FAILED_LOAD = re.compile(r"Failed to load resource: (?:the server responded with a status of (\d+)|net::ERR_)")


class ConsoleErrors(list):
    """Console messages of type error and uncaught page errors seen by one page.

    Chromium logs every HTTP error answer as a console error ("Failed to load resource"). A test
    that provokes one on purpose (a 422 with field errors, the 401 of an ended session) declares
    it: `page.expect_api_status(422)` (any `/api/` URL) or `page.expect_api_status(404,
    path="/api/filing/drafts/current")` (status 0: a network failure); such answers are then not
    counted. Nothing else is ever ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.allowed: list[tuple[int, str]] = []

    def allow(self, *statuses: int, path: str = "/api/") -> None:
        self.allowed += [(s, path) for s in statuses]

    def on_console(self, msg) -> None:
        if msg.type != "error":
            return
        m = FAILED_LOAD.search(msg.text)
        url = (msg.location or {}).get("url", "")
        status = int(m.group(1) or 0) if m else None  # 0: no answer at all (network failure)
        if m and any(status == s and p in url for s, p in self.allowed):
            return
        self.append(f"console.{msg.type}: {msg.text} @ {url}")


@pytest.fixture
async def page(browser: Browser, base_url: str):
    context = await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800},
                                        locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    p = await context.new_page()
    errors = ConsoleErrors()
    p.on("console", errors.on_console)
    p.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    p.console_errors = errors  # type: ignore[attr-defined]
    p.expect_api_status = errors.allow  # type: ignore[attr-defined]
    p.set_default_timeout(15000)
    yield p
    await context.close()
    assert not errors, "browser console errors:\n" + "\n".join(errors)


async def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot of the current page as an artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


# ---------------------------------------------------------------- accounts


@dataclass
class Account:
    username: str
    password: str
    role: str
    provider_id: str | None = None
    province: str | None = None
    user_id: str | None = None

    def headers(self, system: System) -> dict[str, str]:
        """A bearer token of this very user (for checks and set-ups through the API)."""
        return system.auth(self.role, user_id=self.user_id, provider_id=self.provider_id, province=self.province)


async def _create_user(system: System, **body) -> str:
    r = await system.client.post("/api/filing/users", json=body, headers=system.auth("admin"))
    assert r.status == 201, await r.text()
    return (await r.json())["user"]["id"]


async def new_provider_operator(system: System, province: str = "BJ") -> Account:
    """A new provider (tenant) and one operator with a real password."""
    pid = "p" + uuid.uuid4().hex[:10]
    r = await system.client.post("/api/filing/providers", headers=system.auth("admin"),
                                 json={"name": f"浏览器测试接入商{pid[-4:]}", "province": province, "provider_id": pid})
    assert r.status == 201, await r.text()
    username = "op" + uuid.uuid4().hex[:8]
    uid = await _create_user(system, role="provider", username=username, password=PASSWORD, provider_id=pid,
                             display_name="备案专员")
    return Account(username, PASSWORD, "provider", provider_id=pid, user_id=uid)


async def new_reviewer(system: System, province: str = "BJ") -> Account:
    username = "rv" + uuid.uuid4().hex[:8]
    uid = await _create_user(system, role="bureau", username=username, password=PASSWORD, province=province,
                             display_name="管局审核员")
    return Account(username, PASSWORD, "bureau", province=province, user_id=uid)


@pytest.fixture
async def operator(system: System) -> Account:
    return await new_provider_operator(system)


# ---------------------------------------------------------------- login through the login box

ROLE_LABELS = {"provider": "ICP报备(接入服务商)", "bureau": "管局审核人员", "sponsor": "网站主办者", "admin": "系统管理员"}


async def answer_captchas(page: Page) -> None:
    """Make the page's captcha requests carry `test_answer=1` (honoured only with ICP_ENV=test), so a
    test can read the answer of the image it shows. Once per page."""
    if getattr(page, "_captcha_route", False):
        return

    async def add_flag(route):
        url = route.request.url
        await route.continue_(url=url + ("&" if "?" in url else "?") + "test_answer=1")

    await page.route(re.compile(r".*/api/filing/captcha(\?.*)?$"), add_flag)
    page._captcha_route = True  # type: ignore[attr-defined]


async def fresh_captcha(page: Page) -> str:
    """Click the login box's captcha image (click-to-refresh) and return the new image's answer."""
    await answer_captchas(page)
    return await click_captcha(page, page.locator(".login-box .captcha-img"))


async def click_captcha(page: Page, img) -> str:
    """Click a captcha image (click-to-refresh) and return the new image's answer (ICP_ENV=test)."""
    await img.wait_for()
    before = await img.get_attribute("src")
    async with page.expect_response(re.compile(r".*/api/filing/captcha(\?.*)?$")) as info:
        await img.click()
    answer = (await (await info.value).json())["answer"]
    # the page has taken the new captcha (and cleared the typed answer) once the image changed
    await expect(img).not_to_have_attribute("src", before)
    return answer


async def login(page: Page, account: Account, *, start: str = "/") -> None:
    await answer_captchas(page)
    await page.goto(start)
    box = page.locator(".login-box")
    await box.locator("input[name=username]").fill(account.username)
    await box.locator("input[name=password]").fill(account.password)
    await box.locator("input[name=captcha]").fill(await fresh_captcha(page))
    if account.role != "provider":
        await box.locator("[data-test=role]").click()
        await page.get_by_role("option", name=ROLE_LABELS[account.role]).click()
    await box.locator("[data-test=login]").click()
    await page.wait_for_selector(".console-header [data-test=who]")


# ---------------------------------------------------------------- Element Plus controls


async def choose(page: Page, select, *options: str) -> None:
    """Open an el-select (a Locator of it) and click each option by its exact Chinese text."""
    await select.click()
    for text in options:
        await page.locator(".el-select-dropdown__item:visible").get_by_text(text, exact=True).click()
    if len(options) > 1 or await select.locator(".el-select__tags, .is-multiple").count():
        await page.keyboard.press("Escape")


def form_item(page: Page, name: str):
    """The el-form-item holding the input named `name` (its error shows inside it)."""
    return page.locator(".el-form-item", has=page.locator(f'input[name="{name}"]'))
