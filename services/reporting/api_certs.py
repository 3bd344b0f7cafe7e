"""HTTP surface of the e-certificates (seed 1.5.1) and the public lookup (公共查询)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel

from services.reporting import certificates, model, public, store, views
from services.reporting.api import FilingItem, _uuid
from services.reporting.queries import FilingQuery
from services.reporting.settings import reporting_settings
from shared.service import ctx
from shared.web import Api, not_found, principal_of

api = Api("reporting", "ICP 备案 — 查询统计服务")
ROLES = ["provider", "bureau", "admin"]


class CertificateItem(FilingItem):
    certificate_url: str


class CertificateList(BaseModel):
    items: list[CertificateItem]
    total: int
    total_more: bool = False  # more matches than `total` (counting stops at 10,000)
    page: int
    page_size: int


@api.get("/certificates", query=FilingQuery, response=CertificateList, roles=ROLES, tags=["certificates"])
async def list_certificates(request: web.Request, query: FilingQuery) -> dict[str, Any]:
    """电子证书下载：本接入服务提供者接入的、已有备案号的网站；条件可组合，为空时列出全部"""
    q = query.model_copy(update={"status": "LIVE"})  # a cancelled website has no certificate
    rows, total, more = await store.list_filings(ctx(request).pool, principal_of(request), q)
    items = [{**views.filing_item(r), "certificate_url": f"/api/reporting/certificates/{r['website_id']}.pdf"}
             for r in rows]
    return {"items": items, "total": total, "total_more": more, "page": q.page, "page_size": q.page_size}


@api.get("/certificates/{website_id}.pdf", roles=ROLES, tags=["certificates"])
async def certificate_pdf(request: web.Request) -> web.StreamResponse:
    """备案电子证书（PDF）：主办单位、网站名称、域名、首页网址、主体与网站备案号、审核通过日期、接入服务提供者、发证日期、验证码"""
    pool = ctx(request).pool
    row = await store.website_visible(pool, principal_of(request), _uuid(request.match_info["website_id"], "备案网站"),
                                      FilingQuery(status="LIVE"))
    if row is None:
        raise not_found("备案网站")
    providers = await store.website_providers(pool, row["website_id"])
    cert = certificates.Certificate(
        sponsor_name=row["sponsor_name"], website_name=row["name"], domains=list(row["domains"]),
        home_urls=list(row["home_urls"]), subject_no=row["subject_no"], website_no=row["website_no"],
        approved_on=model.cst_date(row["approved_at"]), providers=providers,
        issued_on=dt.datetime.now(model.CST).date(), code=row["cert_code"],
    )
    body = await _render(cert)
    return web.Response(body=body, content_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"certificate.pdf\"; filename*=UTF-8''{_quote(row['website_no'])}.pdf",
        "Cache-Control": "no-store",
    })


async def _render(cert: certificates.Certificate) -> bytes:
    # drawing takes a few milliseconds of CPU: off the event loop
    return await asyncio.get_running_loop().run_in_executor(None, certificates.render, cert)


def _quote(text: str) -> str:
    return quote(f"ICP备案电子证书_{text}")


class PublicItem(BaseModel):
    website_no: str
    subject_no: str
    sponsor_name: str
    nature_name: str
    website_name: str
    domains: list[str]
    approved_on: dt.date


class PublicResult(BaseModel):
    items: list[PublicItem]
    total: int


@api.get("/public/lookup", query=public.PublicQuery, response=PublicResult, roles=None, tags=["public"],
         errors=[429])
async def public_lookup(request: web.Request, query: public.PublicQuery) -> web.StreamResponse | dict[str, Any]:
    """公共查询（无需登录）：按域名、网站或主体备案号、主办单位名称（精确）或证书验证码查询已备案网站的公开信息；
    每个客户端地址限频，超出时返回 429"""
    service = ctx(request)
    settings = reporting_settings()
    # extras may hold another limit (tests)
    limit = service.extras.get("lookup_limit") or public.lookup_limit(settings.lookup_limit,
                                                                       settings.lookup_window_seconds)
    await public.limited(request, service.pool, limit)
    return await public.lookup(service.pool, query)
