"""HTTP surface of business changes (seed 1.4); cancellation requests are in `cancellations/api.py`.

All for provider operators (role `provider`); ids of other providers' records answer 404.
"""

from __future__ import annotations

from aiohttp import web

from services.filing.changes import handlers as changes
from services.filing.changes.model import (
    AccessCancelled,
    AddAccessIn,
    AddWebsiteIn,
    ApplicationCreated,
    SubjectChangeIn,
    WebsiteChangeIn,
)
from shared.filing_data import Access
from shared.service import ctx
from shared.web import Api, principal_of, tenant_of

api = Api("filing", "ICP 备案 — 备案业务管理")
TAGS = ["changes"]
ROLES = ["provider"]


def _who(request: web.Request) -> tuple[str, str]:
    return tenant_of(request), principal_of(request).user_id


# ---------------------------------------------------------------- seed 1.4


@api.post("/subjects/{subject_id}/websites", errors=[409, 423], body=AddWebsiteIn, response=ApplicationCreated, roles=ROLES, status=201,
          tags=TAGS)
async def add_filed_website(request: web.Request, body: AddWebsiteIn) -> dict:
    """新增网站（1.4.1）：为已备案主体增加一个网站，审核通过后取得下一个网站备案号（-N）；
    自主备案或由其他接入服务提供者备案的主体须提供主办者用户名和密码"""
    return await changes.add_website(ctx(request), *_who(request), request.match_info["subject_id"], body)


@api.post("/websites/{website_id}/accesses", errors=[409, 423], body=AddAccessIn, response=ApplicationCreated, roles=ROLES, status=201,
          tags=TAGS)
async def add_website_access(request: web.Request, body: AddAccessIn) -> dict:
    """新增接入（1.4.2）：为已备案网站（按网站 id、网站备案号或域名指定）增加本接入服务提供者的接入信息；
    须提供主办者的用户名和密码（权限验证）"""
    return await changes.add_access(ctx(request), *_who(request), request.match_info["website_id"], body)


@api.post("/subjects/{subject_id}/changes", errors=[409, 423], body=SubjectChangeIn, response=ApplicationCreated, roles=ROLES,
          status=201, tags=TAGS)
async def request_subject_change(request: web.Request, body: SubjectChangeIn) -> dict:
    """变更主体（1.4.3）：提交变更后的主体信息，审核通过后生效（备案号不变）"""
    return await changes.change_subject(ctx(request), *_who(request), request.match_info["subject_id"], body)


@api.post("/websites/{website_id}/changes", errors=[409, 423], body=WebsiteChangeIn, response=ApplicationCreated, roles=ROLES,
          status=201, tags=TAGS)
async def request_website_change(request: web.Request, body: WebsiteChangeIn) -> dict:
    """变更网站（1.4.4）：提交变更后的网站信息（域名只能删除），审核通过后生效（备案号不变）"""
    return await changes.change_website(ctx(request), *_who(request), request.match_info["website_id"], body)


@api.put("/websites/{website_id}/accesses/current", errors=[409, 423], body=Access, response=ApplicationCreated, roles=ROLES,
         status=201, tags=TAGS)
async def request_access_change(request: web.Request, body: Access) -> dict:
    """变更接入（1.4.5）：提交本接入服务提供者新的接入信息，审核通过后生效"""
    return await changes.change_access(ctx(request), *_who(request), request.match_info["website_id"], body)


@api.delete("/websites/{website_id}/accesses/current", errors=[409, 423], response=AccessCancelled, roles=ROLES, tags=TAGS)
async def cancel_website_access(request: web.Request) -> dict:
    """取消接入（1.4.5）：立即生效；网站没有其他接入时成为空壳网站（NO_ACCESS）"""
    return await changes.cancel_access(ctx(request), *_who(request), request.match_info["website_id"])
