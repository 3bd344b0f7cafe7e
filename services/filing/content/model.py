"""Home-page content (seed 1.1), feedback (1.13) and code tables (1.10): models and pure rules."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from shared import codes
from shared import validate as v
from shared.fields import FlexibleDate, as_pydantic

# ---------------------------------------------------------------- free text

_CONTROL = {c for c in range(32) if c not in (9, 10, 13)} | {127}


def free_text(value: object, *, max_len: int, required: bool = True) -> str | None:
    """Prose as written (Chinese punctuation kept, unlike `normalize_text`): trimmed, no control
    characters, length-bounded; empty → None when optional."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise v.InvalidValue("类型不正确，应为文本")
    if not text:
        if required:
            raise v.InvalidValue("不能为空")
        return None
    if any(ord(ch) in _CONTROL for ch in text):
        raise v.InvalidValue("不能包含控制字符")
    if len(text) > max_len:
        raise v.InvalidValue(f"长度不能超过{max_len}个字符")
    return text


def prose(max_len: int) -> Any:
    return Annotated[str, BeforeValidator(as_pydantic(lambda value: free_text(value, max_len=max_len)))]


def optional_prose(max_len: int) -> Any:
    return Annotated[
        str | None, BeforeValidator(as_pydantic(lambda value: free_text(value, max_len=max_len, required=False)))
    ]


# ---------------------------------------------------------------- paging


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, description="页码（从1开始）")
    page_size: int = Field(20, ge=1, le=100, description="每页条数（1至100）")


def offset(q: PageQuery) -> int:
    return (q.page - 1) * q.page_size


# ---------------------------------------------------------------- articles: 通知公告, 政策法规

Category = Literal["announcement", "law"]
CATEGORY_NAMES = {"announcement": "通知公告", "law": "政策法规"}


class ArticleQuery(PageQuery):
    q: str | None = Field(None, max_length=50, description="标题包含")


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: prose(200) = Field(description="标题（不超过200字）")
    body: prose(50000) = Field(description="正文（纯文本，不超过50000字）")
    issuer: optional_prose(100) = Field(None, description="发布机关（政策法规）")
    document_no: optional_prose(100) = Field(None, description="文号，如 工业和信息化部令第24号（政策法规）")
    effective_on: FlexibleDate | None = Field(None, description="施行日期（政策法规）")
    pinned: bool = Field(False, description="置顶")
    published_at: dt.datetime | None = Field(None, description="发布时间；缺省为现在，晚于现在则到时才公开")


class ArticleSummary(BaseModel):
    id: str = Field(description="标识")
    category: Category = Field(description="栏目：announcement 通知公告，law 政策法规")
    title: str = Field(description="标题")
    issuer: str | None = Field(None, description="发布机关")
    document_no: str | None = Field(None, description="文号")
    effective_on: dt.date | None = Field(None, description="施行日期")
    pinned: bool = Field(description="是否置顶")
    published_at: dt.datetime = Field(description="发布时间")


class ArticleOut(ArticleSummary):
    body: str = Field(description="正文")
    created_at: dt.datetime = Field(description="创建时间")
    updated_at: dt.datetime = Field(description="最近修改时间")


class ArticleList(BaseModel):
    items: list[ArticleSummary]
    total: int = Field(description="总条数")
    page: int
    page_size: int


def article_out(row: Any, *, full: bool) -> ArticleSummary:
    data = {k: row[k] for k in ("category", "title", "issuer", "document_no", "effective_on", "pinned", "published_at")}
    data["id"] = str(row["id"])
    if full:
        return ArticleOut(**data, body=row["body"], created_at=row["created_at"], updated_at=row["updated_at"])
    return ArticleSummary(**data)


# ---------------------------------------------------------------- feedback (意见反馈)

FeedbackStatus = Literal["OPEN", "REPLIED"]
FEEDBACK_STATUS_NAMES = {"OPEN": "待回复", "REPLIED": "已回复"}


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: prose(100) = Field(description="标题（不超过100字）")
    content: prose(2000) = Field(description="意见或建议（不超过2000字）")
    contact: optional_prose(100) = Field(None, description="联系方式（可选）")


class FeedbackReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: prose(2000) = Field(description="答复内容（不超过2000字）")


class FeedbackQuery(PageQuery):
    status: FeedbackStatus | None = Field(None, description="按状态筛选：OPEN 待回复，REPLIED 已回复")


class FeedbackReplyOut(BaseModel):
    id: str
    author_name: str = Field(description="答复人")
    content: str = Field(description="答复内容")
    created_at: dt.datetime = Field(description="答复时间")


class FeedbackOut(BaseModel):
    id: str
    title: str = Field(description="标题")
    content: str = Field(description="意见或建议")
    contact: str | None = Field(None, description="联系方式")
    status: FeedbackStatus = Field(description="状态")
    status_name: str = Field(description="状态中文名")
    provider_id: str | None = Field(None, description="接入服务提供者")
    provider_name: str | None = Field(None, description="接入服务提供者名称")
    province: str | None = Field(None, description="受理管局所在省份代码")
    province_name: str | None = Field(None, description="受理管局所在省份")
    author_role: Literal["provider", "sponsor"] = Field(description="提出人角色")
    author_name: str = Field(description="提出人")
    created_at: dt.datetime = Field(description="提出时间")
    last_replied_at: dt.datetime | None = Field(None, description="最近答复时间")
    replies: list[FeedbackReplyOut] = Field(default_factory=list, description="管局答复")


class FeedbackList(BaseModel):
    items: list[FeedbackOut]
    total: int = Field(description="总条数")
    page: int
    page_size: int


def feedback_out(row: Any, replies: list[Any]) -> FeedbackOut:
    province = row["province"]
    return FeedbackOut(
        id=str(row["id"]), title=row["title"], content=row["content"], contact=row["contact"],
        status=row["status"], status_name=FEEDBACK_STATUS_NAMES[row["status"]],
        provider_id=row["provider_id"], provider_name=row["provider_name"],
        province=province, province_name=codes.name_zh("provinces", province) if province else None,
        author_role=row["author_role"], author_name=row["author_name"], created_at=row["created_at"],
        last_replied_at=row["last_replied_at"],
        replies=[FeedbackReplyOut(id=str(r["id"]), author_name=r["author_name"], content=r["content"],
                                  created_at=r["created_at"]) for r in replies],
    )


# ---------------------------------------------------------------- code tables (公共查询)

CODE_TABLE_TITLES: dict[str, str] = {
    "provinces": "省、自治区、直辖市",
    "unit_natures": "主办单位性质",
    "certificate_types": "主办单位证件类型",
    "id_types": "负责人证件类型",
    "service_types": "服务类型",
    "service_content": "网站服务内容",
    "preapproval_types": "前置审批项目",
    "languages": "网站语言",
    "access_methods": "接入方式",
    "filing_types": "备案类型",
    "application_statuses": "备案申请状态",
    "cancel_application_statuses": "注销申请状态",
    "cancel_reasons": "注销原因",
    "material_types": "材料类型",
    "detection_handling": "未备案网站处理结果",
}
# Provenance notes of the code files and their English names and notes: users read Chinese only
# (the English and the vendor mappings stay in the files for developers).
HIDDEN_COLUMNS = ("source", "comment", "name_en", "number_rule", "inspur_type", "xinnet_order_type", "owner")


class CodeTableOut(BaseModel):
    table: str = Field(description="代码表名，用于 GET /codes/{table}")
    title: str = Field(description="代码表中文名")
    count: int = Field(description="代码数")
    columns: list[str] = Field(description="各行包含的字段")


class CodeTableList(BaseModel):
    items: list[CodeTableOut]
    total: int


class CodeRow(BaseModel):
    """A code with its Chinese name; the table's other columns come as further fields."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="代码")
    name_zh: str = Field(description="中文名称")


class CodeRows(BaseModel):
    table: str
    title: str
    items: list[CodeRow]
    total: int


class CodeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=50, description="代码或中文名称包含")
    nature: str | None = Field(None, max_length=40, description="仅 certificate_types：按主办单位性质筛选（如 ENTERPRISE）")
    applies_to: Literal["SUBJECT", "WEBSITE"] | None = Field(None, description="仅 cancel_reasons：适用对象")
    scope: str | None = Field(None, max_length=20, description="仅 material_types：材料所属（如 SUBJECT、WEBSITE）")


FILTERS = {"nature": "certificate_types", "applies_to": "cancel_reasons", "scope": "material_types"}


def public_tables() -> list[str]:
    return [t for t in CODE_TABLE_TITLES if t in codes.tables()] + sorted(
        t for t in codes.tables() if t not in CODE_TABLE_TITLES
    )


def visible_columns(table: str) -> list[str]:
    return [c for c in codes.columns(table) if c not in HIDDEN_COLUMNS]


def code_rows(table: str, q: CodeQuery) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(rows, errors) of a public code table under the query's filters. Pure."""
    errors = [
        {"field": name, "message": f"代码表 {table} 不支持按 {name} 筛选（仅适用于 {FILTERS[name]}）"}
        for name in FILTERS
        if getattr(q, name) and FILTERS[name] != table
    ]
    if errors:
        return [], errors
    if q.nature:
        if not codes.is_valid("unit_natures", q.nature):
            return [], [{"field": "nature", "message": f"主办单位性质 {q.nature} 不存在"}]
        rows = codes.cert_types_for_nature(q.nature)
    else:
        rows = codes.rows(table)
    if q.applies_to:
        rows = [r for r in rows if q.applies_to in r.get("applies_to", "").split(";")]
    if q.scope:
        rows = [r for r in rows if r.get("scope") == q.scope]
    if q.q:
        needle = q.q.strip().lower()
        rows = [r for r in rows if needle in r["code"].lower() or needle in r.get("name_zh", "").lower()]
    return [{k: val for k, val in r.items() if k not in HIDDEN_COLUMNS} for r in rows], []
