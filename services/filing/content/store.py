"""SQL of home-page articles and feedback."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.filing.accounts.store import as_uuid

ARTICLE_FIELDS = ("title", "body", "issuer", "document_no", "effective_on", "pinned")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# ---------------------------------------------------------------- articles


async def list_articles(pool: asyncpg.Pool, category: str, *, q: str | None, include_future: bool,
                        limit: int, offset: int):
    where = ["category = $1"]
    args: list[Any] = [category]
    if not include_future:
        where.append("published_at <= now()")
    if q:
        args.append(_like(q.strip()))
        where.append(f"title ILIKE ${len(args)}")
    clause = " AND ".join(where)
    total = await pool.fetchval(f"SELECT count(*) FROM articles WHERE {clause}", *args)
    rows = await pool.fetch(
        f"""SELECT * FROM articles WHERE {clause}
            ORDER BY pinned DESC, published_at DESC, id LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}""",
        *args, limit, offset,
    )
    return total, rows


async def get_article(conn, category: str, article_id: str, *, include_future: bool):
    key = as_uuid(article_id)
    if key is None:
        return None
    extra = "" if include_future else " AND published_at <= now()"
    return await conn.fetchrow(f"SELECT * FROM articles WHERE id = $1 AND category = $2{extra}", key, category)


async def insert_article(conn, category: str, data: dict[str, Any], actor: str):
    return await conn.fetchrow(
        """INSERT INTO articles (category, title, body, issuer, document_no, effective_on, pinned, published_at,
                                 created_by, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, now()), $9, $9) RETURNING *""",
        category, *[data[k] for k in ARTICLE_FIELDS], data.get("published_at"), actor,
    )


async def update_article(conn, category: str, article_id: str, data: dict[str, Any], actor: str):
    key = as_uuid(article_id)
    if key is None:
        return None
    return await conn.fetchrow(
        """UPDATE articles SET title = $3, body = $4, issuer = $5, document_no = $6, effective_on = $7, pinned = $8,
               published_at = COALESCE($9, published_at), updated_by = $10, updated_at = now()
           WHERE id = $1 AND category = $2 RETURNING *""",
        key, category, *[data[k] for k in ARTICLE_FIELDS], data.get("published_at"), actor,
    )


async def delete_article(conn, category: str, article_id: str) -> bool:
    key = as_uuid(article_id)
    if key is None:
        return False
    status = await conn.execute("DELETE FROM articles WHERE id = $1 AND category = $2", key, category)
    return status == "DELETE 1"


async def article_exists(conn, category: str, title: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM articles WHERE category = $1 AND title = $2", category, title))


# ---------------------------------------------------------------- feedback

_FEEDBACK = """SELECT f.*, p.name AS provider_name FROM feedback f
               LEFT JOIN providers p ON p.provider_id = f.provider_id"""


def scope_clause(scope: dict[str, str | None], args: list[Any]) -> str:
    """WHERE conditions of a caller's visibility (`{column: value}`; empty = everything)."""
    parts = []
    for column, value in scope.items():
        args.append(value)
        parts.append(f"f.{column} = ${len(args)}")
    return " AND ".join(parts) or "true"


async def list_feedback(pool: asyncpg.Pool, scope: dict[str, str | None], *, status: str | None,
                        limit: int, offset: int):
    args: list[Any] = []
    where = scope_clause(scope, args)
    if status:
        args.append(status)
        where += f" AND f.status = ${len(args)}"
    total = await pool.fetchval(f"SELECT count(*) FROM feedback f WHERE {where}", *args)
    rows = await pool.fetch(
        f"{_FEEDBACK} WHERE {where} ORDER BY f.created_at DESC, f.id LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
        *args, limit, offset,
    )
    return total, rows


async def get_feedback(conn, feedback_id: str, scope: dict[str, str | None], *, for_update: bool = False):
    key = as_uuid(feedback_id)
    if key is None:
        return None
    args: list[Any] = [key]
    where = scope_clause(scope, args)
    lock = " FOR UPDATE OF f" if for_update else ""
    return await conn.fetchrow(f"{_FEEDBACK} WHERE f.id = $1 AND {where}{lock}", *args)


async def replies_of(conn, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    out: dict[uuid.UUID, list[Any]] = {i: [] for i in ids}
    if ids:
        for r in await conn.fetch(
            "SELECT * FROM feedback_replies WHERE feedback_id = ANY($1::uuid[]) ORDER BY created_at, id", ids
        ):
            out[r["feedback_id"]].append(r)
    return out


async def provider_province(conn, provider_id: str | None) -> str | None:
    if not provider_id:
        return None
    return await conn.fetchval("SELECT province FROM providers WHERE provider_id = $1", provider_id)


async def insert_feedback(conn, **fields: Any) -> uuid.UUID:
    cols = list(fields)
    return await conn.fetchval(
        f"INSERT INTO feedback ({', '.join(cols)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(cols)))}) RETURNING id",
        *fields.values(),
    )


async def insert_reply(conn, feedback_id: uuid.UUID, author_id: str, author_name: str, content: str) -> None:
    await conn.execute(
        "INSERT INTO feedback_replies (feedback_id, author_id, author_name, content) VALUES ($1, $2, $3, $4)",
        feedback_id, author_id, author_name, content,
    )
    await conn.execute(
        "UPDATE feedback SET status = 'REPLIED', last_replied_at = now() WHERE id = $1", feedback_id
    )


async def display_name(conn, user_id: str) -> str | None:
    key = as_uuid(user_id)
    if key is None:
        return None
    return await conn.fetchval("SELECT display_name FROM users WHERE id = $1", key)
