"""E-certificates (seed 1.5.1) read back from the PDF, and the public lookup (公共查询): no login,
public fields only, the certificate's verification code accepted, a 429 past the rate limit."""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from services.reporting.public import lookup_limit as lookup_limit_of
from tests import filing_samples as fs
from tests.conftest import System
from tests.integration.change_helpers import apply_cancellation, approve, filed
from tests.integration.filing_helpers import Tenant, new_tenant
from tests.integration.reporting_helpers import R, rget, until

PUBLIC_KEYS = {"website_no", "subject_no", "sponsor_name", "nature_name", "website_name", "domains", "approved_on"}


@pytest.fixture
def lookup_limit(system: System):
    """Set the public lookup's limit for one test, counted afresh (a bucket of its own: the counters in
    reporting's schema are shared by the whole run)."""
    service = system.ctx("reporting")
    saved = service.extras.get("lookup_limit")

    def set_limit(limit: int, window: float = 60) -> None:
        service.extras["lookup_limit"] = lookup_limit_of(limit, window, bucket=f"lookup-{uuid.uuid4().hex[:8]}")

    yield set_limit
    if saved is None:
        service.extras.pop("lookup_limit", None)
    else:
        service.extras["lookup_limit"] = saved


def pdf_text(body: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


async def test_certificate_pdf_holds_every_field_and_its_code_passes_the_public_lookup(system: System, tenant: Tenant,
                                                                                        lookup_limit):
    lookup_limit(100_000)  # the test polls the lookup
    data = fs.filing(2)
    data["subject"]["name"] = f"证书测试{uuid.uuid4().hex[:6]}有限公司"
    data["websites"][0]["name"] = "证书测试官网"
    f = await filed(tenant, websites=2, data=data)
    h = tenant.headers
    listed = await until(system, "/certificates", h, lambda b: b["total"] == 2, {"number": f["subject_no"]})
    item = next(i for i in listed["items"] if i["website_no"] == f["website_nos"][0])
    assert item["certificate_url"] == f"{R}/certificates/{item['website_id']}.pdf"

    resp = await system.client.get(item["certificate_url"], headers=h)
    assert resp.status == 200 and resp.content_type == "application/pdf"
    text = pdf_text(await resp.read()).replace("\n", "")
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    site = data["websites"][0]
    provider_name = (await rget(system, "/providers", system.auth("admin")))["items"]
    provider_name = next(p["name"] for p in provider_name if p["provider_id"] == tenant.provider_id)
    for label, value in (("主办单位名称", data["subject"]["name"]), ("网站名称", "证书测试官网"),
                         ("网站域名", site["domains"][0]), ("网站首页网址", site["home_urls"][0]),
                         ("主体备案号", f["subject_no"]), ("网站备案号", f["website_nos"][0]),
                         ("审核通过日期", today), ("接入服务提供者", provider_name), ("发证日期", today)):
        assert f"{label}：{value}" in text, (label, value, text)
    found = re.search(r"验证码：([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", text)
    assert found, text
    code = found.group(1)

    # the public lookup: no login, public fields only
    anon = {}
    by_code = await rget(system, "/public/lookup", anon, {"code": code.lower()})
    assert [i["website_no"] for i in by_code["items"]] == [f["website_nos"][0]]
    assert set(by_code["items"][0]) == PUBLIC_KEYS and by_code["items"][0]["approved_on"] == today
    assert by_code["items"][0]["nature_name"] == "企业"
    assert (await rget(system, "/public/lookup", anon, {"domain": site["domains"][0]}))["total"] == 1
    assert (await rget(system, "/public/lookup", anon, {"website_no": f["website_nos"][1]}))["total"] == 1
    assert (await rget(system, "/public/lookup", anon, {"subject_no": f["subject_no"]}))["total"] == 2
    assert (await rget(system, "/public/lookup", anon, {"sponsor_name": data["subject"]["name"]}))["total"] == 2
    assert (await rget(system, "/public/lookup", anon, {"sponsor_name": data["subject"]["name"][:6]}))["total"] == 0
    assert (await rget(system, "/public/lookup", anon, {"code": "AAAA-BBBB-CCCC-DDDD"}))["total"] == 0
    for bad in ({}, {"domain": site["domains"][0], "code": code}):
        status, body = await rget(system, "/public/lookup", anon, bad, expect=None)
        assert status == 422 and "查询条件" in body["detail"], body

    # another provider neither lists nor downloads it; a bureau elsewhere neither
    other = await new_tenant(system)
    assert (await rget(system, "/certificates", other.headers, {"number": f["subject_no"]}))["total"] == 0
    status, _ = await rget(system, f"/certificates/{item['website_id']}.pdf", other.headers, expect=None)
    assert status == 404
    status, _ = await rget(system, f"/certificates/{item['website_id']}.pdf",
                           system.auth("bureau", province="SH", user_id="sh"), expect=None)
    assert status == 404
    await rget(system, f"/certificates/{item['website_id']}.pdf", {}, expect=401)

    # cancelled: no certificate, and the public lookup no longer finds it
    c = await apply_cancellation(tenant, target_type="WEBSITE", target_no=f["website_nos"][0])
    await approve(tenant, c["application_id"])
    await until(system, "/public/lookup", anon, lambda b: b["total"] == 0, {"code": code})
    status, _ = await rget(system, f"/certificates/{item['website_id']}.pdf", h, expect=None)
    assert status == 404


async def test_public_lookup_is_rate_limited_per_client_address(system: System, lookup_limit):
    lookup_limit(3)
    for _ in range(3):
        await rget(system, "/public/lookup", {}, {"domain": "nothing-here.cn"})
    resp = await system.client.get(R + "/public/lookup", params={"domain": "nothing-here.cn"})
    body = await resp.json()
    assert resp.status == 429 and "查询过于频繁" in body["detail"]
    assert 1 <= int(resp.headers["Retry-After"]) <= 60 and body["retry_after"] == int(resp.headers["Retry-After"])
    # logged-in pages are not limited by it
    await rget(system, "/filings", system.auth("admin"), {"page_size": 1})
