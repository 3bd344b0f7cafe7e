"""1.6.1 主办者密码重置: a provider lists the sponsor accounts it filed for and resets their passwords.

Scope: a sponsor account belongs to the provider that filed one of its subjects on its behalf
(`subjects.provider_id`, 代为备案). Any other id answers 404, never "not yours": the provider must not
learn that an account exists. The new passwords are shown once, in the answer (JSON and the same
rows as an .xlsx workbook inside it, base64): nothing holds them at rest — the database keeps only
the hashes, the audit entry only who reset which accounts and how.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import uuid
from typing import Literal

import structlog
from openpyxl import Workbook
from pydantic import BaseModel, Field

from services.filing import audit
from services.filing.accounts import handlers as accounts
from services.filing.records.store import Where, like
from shared import codes
from shared import validate as v
from shared.auth import generate_password, hash_generated_password, hash_password
from shared.db import transaction
from shared.fields import optional_text_field
from shared.service import ServiceContext
from shared.web import Problem, invalid

log = structlog.get_logger(__name__)

MAX_RESET = 1000  # accounts per request: the answer carries every new password


class SponsorFilters(BaseModel):
    sponsor_name: optional_text_field(100) = Field("", description="主办单位名称包含")
    username: optional_text_field(50) = Field("", description="主办者用户名包含")
    cert_number: optional_text_field(50) = Field("", description="主办单位证件号码（精确）")
    domain: optional_text_field(253) = Field("", description="网站域名包含")


class SponsorQuery(SponsorFilters):
    page: int = Field(1, ge=1, le=100000, description="页码")
    page_size: int = Field(20, ge=1, le=100, description="每页条数")


class SponsorOut(BaseModel):
    id: str
    username: str
    sponsor_names: list[str] = Field(description="主办单位名称（该账户下本接入商代为备案的主体）")
    subject_nos: list[str] = Field(description="主体备案号")
    cert_numbers: list[str] = Field(description="主办单位证件号码（个人证件号码已脱敏）")
    domains: list[str] = Field(description="网站域名")
    disabled: bool
    locked: bool
    password_changed_at: dt.datetime | None
    last_login_at: dt.datetime | None


class SponsorList(BaseModel):
    items: list[SponsorOut]
    total: int
    page: int
    page_size: int


class ResetIn(BaseModel):
    ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_RESET, description="所选主办者账号")
    all_matching: bool = Field(False, description="重置符合筛选条件的全部账号（此时忽略 ids）")
    filters: SponsorFilters = Field(default_factory=SponsorFilters, description="all_matching 时的筛选条件")
    mode: Literal["same", "generate"] = Field(description="same：统一设置为 password；generate：每个账号随机生成")
    password: str | None = Field(None, max_length=64, description="mode=same 时的新密码（≥6 位，不能全为数字）")


class ResetItem(BaseModel):
    id: str
    username: str
    sponsor_names: list[str]
    password: str = Field(description="新密码（仅本次显示）")


class ResetOut(BaseModel):
    items: list[ResetItem]
    total: int
    revoked_sessions: int
    xlsx_filename: str
    xlsx_base64: str = Field(description="同样内容的 Excel 工作簿（base64），仅本次提供，服务器不保存")
    detail: str


_LIST_SQL = """
SELECT u.id, u.username, u.disabled, u.locked_until, u.password_changed_at, u.last_login_at,
       array_agg(DISTINCT s.name) AS names, array_agg(DISTINCT s.subject_no) FILTER (WHERE s.subject_no IS NOT NULL) AS nos,
       array_agg(DISTINCT s.cert_number || '|' || s.nature) AS certs,
       (SELECT array_agg(DISTINCT d.unicode) FROM domains d JOIN subjects s2 ON s2.id = d.subject_id
         WHERE s2.sponsor_user_id = u.id AND s2.provider_id = {pid} AND d.status NOT IN ('CANCELLED', 'WITHDRAWN')) AS domains,
       count(*) OVER () AS total
FROM users u JOIN subjects s ON s.sponsor_user_id = u.id AND s.provider_id = {pid}
WHERE u.role = 'sponsor' AND {where}
GROUP BY u.id
ORDER BY u.created_at DESC, u.id
"""


def _filters(w: Where, f: SponsorFilters, pid: str) -> None:
    """Conditions on the subjects (`s`) the provider filed for the account."""
    w.add(f"s.provider_id = {pid}")
    if f.sponsor_name:
        w.add(f"s.name ILIKE {w.param(like(f.sponsor_name))}")
    if f.username:
        w.add(f"u.username ILIKE {w.param(like(v.normalize_text(f.username)))}")
    if f.cert_number:
        w.add(f"upper(s.cert_number) = {w.param(v.normalize_text(f.cert_number).upper())}")
    if f.domain:
        p = w.param(like(v.normalize_text(f.domain).lower()))
        w.add(f"EXISTS (SELECT 1 FROM domains d WHERE d.subject_id = s.id AND (d.ascii ILIKE {p} OR d.unicode ILIKE {p}))")


def _out(r) -> SponsorOut:
    now = dt.datetime.now(dt.UTC)
    certs = []
    for item in r["certs"] or []:
        number, _, nature = item.rpartition("|")
        certs.append(v.mask_id_number(number) if codes.is_personal_nature(nature) else number)
    return SponsorOut(
        id=str(r["id"]), username=r["username"], sponsor_names=sorted(r["names"] or []),
        subject_nos=sorted(r["nos"] or []), cert_numbers=sorted(certs), domains=sorted(r["domains"] or []),
        disabled=r["disabled"], locked=bool(r["locked_until"] and r["locked_until"] > now),
        password_changed_at=r["password_changed_at"], last_login_at=r["last_login_at"],
    )


async def list_sponsors(ctx: ServiceContext, provider_id: str, q: SponsorQuery) -> SponsorList:
    w = Where()
    pid = w.param(provider_id)
    _filters(w, q, pid)
    sql = _LIST_SQL.format(pid=pid, where=w.sql()) + f" LIMIT {w.param(q.page_size)} OFFSET {w.param((q.page - 1) * q.page_size)}"
    rows = await ctx.pool.fetch(sql, *w.params)
    total = rows[0]["total"] if rows else 0
    if not rows and q.page > 1:
        total = await _count(ctx, provider_id, q)
    return SponsorList(items=[_out(r) for r in rows], total=total, page=q.page, page_size=q.page_size)


async def _count(ctx: ServiceContext, provider_id: str, f: SponsorFilters) -> int:
    w = Where()
    pid = w.param(provider_id)
    _filters(w, f, pid)
    return await ctx.pool.fetchval(
        f"SELECT count(DISTINCT u.id) FROM users u JOIN subjects s ON s.sponsor_user_id = u.id "
        f"WHERE u.role = 'sponsor' AND {w.sql()}", *w.params)


def _workbook(items: list[ResetItem]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("主办者新密码")
    ws.append(["主办者用户名", "主办单位名称", "新密码"])
    for it in items:
        ws.append([it.username, "、".join(it.sponsor_names), it.password])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def reset_passwords(ctx: ServiceContext, provider_id: str, body: ResetIn, *, actor: str) -> ResetOut:
    if body.mode == "same":
        if not body.password:
            raise invalid([{"field": "password", "message": "统一设置密码时须填写新密码"}])
        try:
            v.validate_password(body.password)
        except v.InvalidValue as e:
            raise invalid([{"field": "password", "message": e.message}]) from None
    elif body.password:
        raise invalid([{"field": "password", "message": "随机生成密码时不能填写新密码"}])
    if not body.all_matching and not body.ids:
        raise invalid([{"field": "ids", "message": "请选择要重置密码的主办者账号"}])

    w = Where()
    pid = w.param(provider_id)
    if body.all_matching:
        _filters(w, body.filters, pid)
    else:
        w.add(f"s.provider_id = {pid}")
        w.add(f"u.id = ANY({w.param(list(dict.fromkeys(body.ids)))}::uuid[])")
    # One hash for the one chosen password (argon2 costs ~100 ms; the accounts share the password
    # by the operator's choice anyway); a generated password gets the fast scheme of generated ones.
    same_hash = await asyncio.to_thread(hash_password, body.password) if body.mode == "same" else None
    now = dt.datetime.now(dt.UTC)
    async with transaction(ctx.pool) as conn:
        rows = await conn.fetch(
            f"""SELECT u.id, u.username, u.provider_id,
                       (SELECT array_agg(DISTINCT x.name) FROM subjects x
                         WHERE x.sponsor_user_id = u.id AND x.provider_id = {pid}) AS names
                FROM users u
                WHERE u.role = 'sponsor' AND u.id IN (SELECT s.sponsor_user_id FROM subjects s JOIN users u ON u.id = s.sponsor_user_id
                                                      WHERE {w.sql()})
                ORDER BY u.username LIMIT {MAX_RESET + 1}
                FOR UPDATE OF u""",
            *w.params,
        )
        if not body.all_matching and len(rows) != len(set(body.ids)):
            # an id of another provider's sponsor, or of no sponsor at all: the same answer
            raise Problem(404, "所选主办者账号不存在或不是本单位代为备案的主办者")
        if not rows:
            raise Problem(404, "没有符合条件的主办者账号")
        if len(rows) > MAX_RESET:
            raise invalid([{"field": "all_matching", "message": f"一次最多重置 {MAX_RESET} 个账号，请缩小筛选范围"}])
        items: list[ResetItem] = []
        revoked: list[str] = []
        for r in rows:
            if same_hash is not None:
                password, hashed = body.password, same_hash
            else:
                password = generate_password()
                hashed = hash_generated_password(password)
            await conn.execute(
                """UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3,
                          failed_logins = 0, failed_since = NULL, locked_until = NULL WHERE id = $1""",
                r["id"], hashed, now)
            revoked += await accounts._revoke_user(ctx, conn, r)  # the sessions, as a password change does
            items.append(ResetItem(id=str(r["id"]), username=r["username"], sponsor_names=sorted(r["names"] or []),
                                   password=password))
        # who reset which account and how; never the password
        await audit.record(conn, [audit.Entry(
            entity="user", entity_id=it.id, action="password_reset", actor=actor, provider_id=provider_id,
            changes={"username": it.username, "mode": body.mode}, personal=False,
        ) for it in items])
    accounts._known_here(ctx, revoked)
    log.info("sponsor.passwords_reset", provider_id=provider_id, accounts=len(items), mode=body.mode,
             revoked_sessions=len(revoked))
    stamp = now.strftime("%Y%m%d%H%M%S")
    return ResetOut(
        items=items, total=len(items), revoked_sessions=len(revoked),
        xlsx_filename=f"主办者新密码-{stamp}.xlsx",
        xlsx_base64=base64.b64encode(_workbook(items)).decode(),
        detail=f"已重置 {len(items)} 个主办者账号的密码，并注销其 {len(revoked)} 个会话；新密码仅显示这一次，请妥善交付主办者",
    )
