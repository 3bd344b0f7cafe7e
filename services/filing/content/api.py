"""HTTP routes of the everyday pages: announcements, laws and regulations, feedback, code tables."""

from __future__ import annotations

from aiohttp import web

from services.filing.content import handlers as content
from services.filing.content.model import (
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticleQuery,
    CodeQuery,
    CodeRows,
    CodeTableList,
    FeedbackIn,
    FeedbackList,
    FeedbackOut,
    FeedbackQuery,
    FeedbackReplyIn,
)
from shared.auth import Role
from shared.service import ctx
from shared.web import Api, optional_principal, principal_of

api = Api("filing", "ICP 备案 — 公告、法规、意见反馈与代码表")


def _is_admin(request: web.Request) -> bool:
    p = optional_principal(request)
    return p is not None and p.role == Role.ADMIN


def _article_routes(prefix: str, category: str, label: str) -> None:
    """List/detail (public) and create/update/delete (admin) of one article category."""

    async def list_(request: web.Request, query: ArticleQuery) -> ArticleList:
        return await content.list_articles(ctx(request), category, query, include_future=_is_admin(request))

    async def detail(request: web.Request) -> ArticleOut:
        return await content.get_article(ctx(request), category, request.match_info["article_id"],
                                         include_future=_is_admin(request))

    async def create(request: web.Request, body: ArticleIn) -> ArticleOut:
        return await content.create_article(ctx(request), category, body, actor=principal_of(request).user_id)

    async def update(request: web.Request, body: ArticleIn) -> ArticleOut:
        return await content.update_article(ctx(request), category, request.match_info["article_id"], body,
                                            actor=principal_of(request).user_id)

    async def delete(request: web.Request) -> web.Response:
        await content.delete_article(ctx(request), category, request.match_info["article_id"],
                                     actor=principal_of(request).user_id)
        return web.Response(status=204)

    for fn, verb in ((list_, "list"), (detail, "get"), (create, "create"), (update, "update"), (delete, "delete")):
        fn.__name__ = f"{verb}_{category}"
    tags = ["content"]
    api.get(prefix, query=ArticleQuery, response=ArticleList, tags=tags, summary=f"{label}列表（公开）")(list_)
    api.get(prefix + "/{article_id}", response=ArticleOut, tags=tags, summary=f"{label}详情（公开）")(detail)
    api.post(prefix, body=ArticleIn, response=ArticleOut, roles=["admin"], status=201, tags=tags,
             summary=f"发布{label}")(create)
    api.put(prefix + "/{article_id}", body=ArticleIn, response=ArticleOut, roles=["admin"], tags=tags,
            summary=f"修改{label}")(update)
    api.delete(prefix + "/{article_id}", roles=["admin"], status=204, tags=tags, summary=f"删除{label}")(delete)


_article_routes("/announcements", "announcement", "通知公告")
_article_routes("/laws", "law", "政策法规")


# ---------------------------------------------------------------- feedback


@api.get("/feedback", query=FeedbackQuery, response=FeedbackList,
         roles=["provider", "sponsor", "bureau", "admin"], tags=["feedback"])
async def list_feedback(request: web.Request, query: FeedbackQuery) -> FeedbackList:
    """意见反馈列表（接入服务商/主办者：本方提出的；管局：本省的）"""
    return await content.list_feedback(ctx(request), principal_of(request), query)


@api.post("/feedback", body=FeedbackIn, response=FeedbackOut, roles=["provider", "sponsor"], status=201,
          tags=["feedback"])
async def submit_feedback(request: web.Request, body: FeedbackIn) -> FeedbackOut:
    """提出新意见（提交给管局）"""
    return await content.submit_feedback(ctx(request), principal_of(request), body)


@api.get("/feedback/{feedback_id}", response=FeedbackOut, roles=["provider", "sponsor", "bureau", "admin"],
         tags=["feedback"])
async def get_feedback(request: web.Request) -> FeedbackOut:
    """意见反馈详情（含管局答复）"""
    return await content.get_feedback(ctx(request), principal_of(request), request.match_info["feedback_id"])


@api.post("/feedback/{feedback_id}/replies", body=FeedbackReplyIn, response=FeedbackOut, roles=["bureau", "admin"],
          status=201, tags=["feedback"])
async def reply_feedback(request: web.Request, body: FeedbackReplyIn) -> FeedbackOut:
    """管局答复意见反馈"""
    return await content.reply_feedback(ctx(request), principal_of(request), request.match_info["feedback_id"], body)


# ---------------------------------------------------------------- code tables (公共查询)


@api.get("/codes", response=CodeTableList, tags=["codes"])
async def list_codes(request: web.Request) -> CodeTableList:
    """代码表目录（公开）"""
    return content.list_code_tables()


@api.get("/codes/{table}", query=CodeQuery, response=CodeRows, tags=["codes"])
async def get_codes(request: web.Request, query: CodeQuery) -> CodeRows:
    """代码表内容（公开），可筛选"""
    return content.get_code_table(request.match_info["table"], query)
