"""HTTP surface of cancellation requests (seed 1.5.2–1.5.3).

All for provider operators (role `provider`); ids of other providers' records answer 404.
"""

from __future__ import annotations

from aiohttp import web
from pydantic_core import to_jsonable_python

from services.filing.cancellations import handlers as cancellations
from services.filing.changes.model import (
    CancellationChangeIn,
    CancellationIn,
    CancellationList,
    CancellationOut,
    CancellationQuery,
)
from shared.service import ctx
from shared.web import Api, principal_of, tenant_of

api = Api("filing", "ICP 备案 — 注销申请")
CANCEL_TAGS = ["cancellations"]
ROLES = ["provider"]


def _who(request: web.Request) -> tuple[str, str]:
    return tenant_of(request), principal_of(request).user_id


@api.get("/cancellations", query=CancellationQuery, response=CancellationList, roles=ROLES, tags=CANCEL_TAGS)
async def list_cancellations(request: web.Request, query: CancellationQuery) -> dict:
    """注销申请查询：status=NOT_APPLIED 列出可提出注销申请的已备案主体/网站；其他为已提出的申请"""
    return to_jsonable_python(await cancellations.list_cancellations(ctx(request), tenant_of(request), query))


@api.post("/cancellations", errors=[409, 423], body=CancellationIn, response=CancellationOut, roles=ROLES, status=201, tags=CANCEL_TAGS)
async def apply_cancellation(request: web.Request, body: CancellationIn) -> dict:
    """提出注销申请（注销主体：主体及其全部网站均被注销；注销网站：仅该网站）"""
    return to_jsonable_python(await cancellations.apply(ctx(request), *_who(request), body))


@api.get("/cancellations/{cancellation_id}", response=CancellationOut, roles=ROLES, tags=CANCEL_TAGS)
async def get_cancellation(request: web.Request) -> dict:
    """注销申请详情（含提出、修改、再次提出与审核记录）"""
    return to_jsonable_python(await cancellations.get_cancellation(
        ctx(request), tenant_of(request), request.match_info["cancellation_id"]))


@api.put("/cancellations/{cancellation_id}", errors=[409, 423], body=CancellationChangeIn, response=CancellationOut, roles=ROLES,
         tags=CANCEL_TAGS)
async def modify_cancellation(request: web.Request, body: CancellationChangeIn) -> dict:
    """修改注销申请（仅限尚未提交管局审核的申请）"""
    return to_jsonable_python(await cancellations.modify(
        ctx(request), *_who(request), request.match_info["cancellation_id"], body))


@api.delete("/cancellations/{cancellation_id}", errors=[409, 423], roles=ROLES, status=204, tags=CANCEL_TAGS)
async def delete_cancellation(request: web.Request) -> web.Response:
    """删除注销申请（仅限尚未提交管局审核的申请）"""
    await cancellations.delete(ctx(request), *_who(request), request.match_info["cancellation_id"])
    return web.Response(status=204)


@api.post("/cancellations/{cancellation_id}/reapply", errors=[409, 423], body=CancellationChangeIn, response=CancellationOut,
          roles=ROLES, tags=CANCEL_TAGS)
async def reapply_cancellation(request: web.Request, body: CancellationChangeIn) -> dict:
    """再次提出注销申请（仅限被管局拒绝的申请）"""
    return to_jsonable_python(await cancellations.reapply(
        ctx(request), *_who(request), request.match_info["cancellation_id"], body))
