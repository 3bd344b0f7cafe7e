"""Everyday pages: announcements and laws (seed 1.1), feedback to the bureau (1.13), code tables (1.10)."""

from __future__ import annotations

import structlog

from services.filing.accounts.store import provider_exists
from services.filing.content import store
from services.filing.content.model import (
    CATEGORY_NAMES,
    CODE_TABLE_TITLES,
    ArticleIn,
    ArticleList,
    ArticleOut,
    ArticleQuery,
    CodeQuery,
    CodeRow,
    CodeRows,
    CodeTableList,
    CodeTableOut,
    FeedbackIn,
    FeedbackList,
    FeedbackOut,
    FeedbackQuery,
    FeedbackReplyIn,
    article_out,
    code_rows,
    feedback_out,
    offset,
    public_tables,
    visible_columns,
)
from shared import codes
from shared.auth import Principal, Role
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem, invalid, not_found

log = structlog.get_logger(__name__)

# ---------------------------------------------------------------- articles


async def list_articles(ctx: ServiceContext, category: str, q: ArticleQuery, *, include_future: bool) -> ArticleList:
    total, rows = await store.list_articles(ctx.pool, category, q=q.q, include_future=include_future,
                                            limit=q.page_size, offset=offset(q))
    return ArticleList(items=[article_out(r, full=False) for r in rows], total=total, page=q.page,
                       page_size=q.page_size)


async def get_article(ctx: ServiceContext, category: str, article_id: str, *, include_future: bool) -> ArticleOut:
    row = await store.get_article(ctx.pool, category, article_id, include_future=include_future)
    if row is None:
        raise not_found(CATEGORY_NAMES[category])
    return article_out(row, full=True)


async def create_article(ctx: ServiceContext, category: str, body: ArticleIn, *, actor: str) -> ArticleOut:
    async with transaction(ctx.pool) as conn:
        row = await store.insert_article(conn, category, body.model_dump(), actor)
    log.info("content.created", category=category, id=str(row["id"]), actor=actor)
    return article_out(row, full=True)


async def update_article(ctx: ServiceContext, category: str, article_id: str, body: ArticleIn, *,
                         actor: str) -> ArticleOut:
    async with transaction(ctx.pool) as conn:
        row = await store.update_article(conn, category, article_id, body.model_dump(), actor)
    if row is None:
        raise not_found(CATEGORY_NAMES[category])
    log.info("content.updated", category=category, id=article_id, actor=actor)
    return article_out(row, full=True)


async def delete_article(ctx: ServiceContext, category: str, article_id: str, *, actor: str) -> None:
    async with transaction(ctx.pool) as conn:
        if not await store.delete_article(conn, category, article_id):
            raise not_found(CATEGORY_NAMES[category])
    log.info("content.deleted", category=category, id=article_id, actor=actor)


# ---------------------------------------------------------------- code tables


def list_code_tables() -> CodeTableList:
    items = [
        CodeTableOut(table=t, title=CODE_TABLE_TITLES.get(t, t), count=len(codes.codes(t)), columns=visible_columns(t))
        for t in public_tables()
    ]
    return CodeTableList(items=items, total=len(items))


def get_code_table(table: str, q: CodeQuery) -> CodeRows:
    if table not in codes.tables():
        raise Problem(404, f"代码表 {table} 不存在；可查询的代码表见 GET /api/filing/codes")
    rows, errors = code_rows(table, q)
    if errors:
        raise invalid(errors)
    return CodeRows(table=table, title=CODE_TABLE_TITLES.get(table, table),
                    items=[CodeRow(**r) for r in rows], total=len(rows))


# ---------------------------------------------------------------- feedback


def feedback_scope(p: Principal) -> dict[str, str | None]:
    """What a caller may see: a provider its own provider's feedback, a sponsor its own, a bureau
    reviewer its province's, an administrator everything. Anything else answers 404."""
    if p.role == Role.PROVIDER:
        if not p.provider_id:
            raise Problem(403, "当前账户未关联接入服务提供者")
        return {"provider_id": p.provider_id, "author_role": "provider"}
    if p.role == Role.SPONSOR:
        return {"author_id": p.user_id, "author_role": "sponsor"}
    if p.role == Role.BUREAU:
        if not p.province:
            raise Problem(403, "当前管局账户未关联省份")
        return {"province": p.province}
    return {}


async def _with_replies(conn, rows) -> list[FeedbackOut]:
    replies = await store.replies_of(conn, [r["id"] for r in rows])
    return [feedback_out(r, replies[r["id"]]) for r in rows]


async def list_feedback(ctx: ServiceContext, p: Principal, q: FeedbackQuery) -> FeedbackList:
    total, rows = await store.list_feedback(ctx.pool, feedback_scope(p), status=q.status, limit=q.page_size,
                                            offset=offset(q))
    return FeedbackList(items=await _with_replies(ctx.pool, rows), total=total, page=q.page, page_size=q.page_size)


async def get_feedback(ctx: ServiceContext, p: Principal, feedback_id: str) -> FeedbackOut:
    row = await store.get_feedback(ctx.pool, feedback_id, feedback_scope(p))
    if row is None:
        raise not_found("意见反馈")
    return (await _with_replies(ctx.pool, [row]))[0]


async def submit_feedback(ctx: ServiceContext, p: Principal, body: FeedbackIn) -> FeedbackOut:
    """A provider operator or a sponsor sends an opinion to the bureau of its provider's province."""
    async with transaction(ctx.pool) as conn:
        provider_province = await store.provider_province(conn, p.provider_id)
        known = p.provider_id is not None and await provider_exists(conn, p.provider_id)
        if p.role == Role.PROVIDER and not known:
            raise Problem(403, "当前账户未关联有效的接入服务提供者")
        province = provider_province or p.province
        author = await store.display_name(conn, p.user_id) or p.username
        fid = await store.insert_feedback(
            conn, provider_id=p.provider_id if known else None, province=province, author_id=p.user_id,
            author_role=p.role.value, author_name=author, title=body.title, content=body.content,
            contact=body.contact,
        )
        row = await store.get_feedback(conn, str(fid), {})
        out = (await _with_replies(conn, [row]))[0]
    log.info("feedback.submitted", id=str(fid), provider_id=p.provider_id, province=province)
    return out


def _replier_name(p: Principal, display: str | None) -> str:
    if p.role == Role.BUREAU and p.province:
        bureau = f"{codes.name_zh('provinces', p.province, p.province)}通信管理局"
        return f"{bureau}（{display}）" if display else bureau
    return display or "系统管理员"


async def reply_feedback(ctx: ServiceContext, p: Principal, feedback_id: str, body: FeedbackReplyIn) -> FeedbackOut:
    """A bureau reviewer (of the feedback's province) or an administrator answers."""
    async with transaction(ctx.pool) as conn:
        row = await store.get_feedback(conn, feedback_id, feedback_scope(p), for_update=True)
        if row is None:
            raise not_found("意见反馈")
        name = _replier_name(p, await store.display_name(conn, p.user_id))
        await store.insert_reply(conn, row["id"], p.user_id, name, body.content)
        out = (await _with_replies(conn, [await store.get_feedback(conn, feedback_id, {})]))[0]
    log.info("feedback.replied", id=feedback_id, by=p.user_id)
    return out
