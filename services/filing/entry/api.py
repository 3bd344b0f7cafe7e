"""HTTP surface of the entry wizard (代为录入, seed 1.3.1) and of one-request filing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from services.filing.entry import handlers as entry
from shared.auth import Role
from shared.filing_data import FilingData
from shared.service import ctx
from shared.web import Api, principal_of, tenant_of

api = Api("filing", "ICP 备案 — 代为录入")
TAGS = ["entry"]


def _lenient(ref: str, description: str):
    """A body that accepts any JSON object (a wizard step saves what was typed, valid or not)
    while the OpenAPI document shows the real schema `ref`."""

    class Step(BaseModel):
        model_config = ConfigDict(extra="allow")

        @classmethod
        def __get_pydantic_json_schema__(cls, core_schema, handler):
            return {"$ref": f"#/components/schemas/{ref}", "description": description}

    return Step


class SubjectStep(_lenient("Subject", "第一步：主办单位（主体）信息；校验未通过时仍保存到草稿并返回 422")):
    pass


class WebsiteStep(_lenient("Website", "第二步：网站信息（含接入信息）；校验未通过时仍保存到草稿并返回 422")):
    pass


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    another_website: bool | None = Field(
        None, description="第三步的提问“该主体是否还开办其他网站”：true 继续录入网站，false 进入第四步"
    )


class FieldErrorOut(BaseModel):
    field: str
    message: str


class DraftWebsite(BaseModel):
    id: str
    data: dict[str, Any] | None


class DraftOut(BaseModel):
    id: str
    status: str
    step: int = Field(description="1 主体 → 2 网站 → 3 网站浏览 → 4 全部信息浏览（可提交）")
    another_website: bool | None
    subject: dict[str, Any] | None
    websites: list[DraftWebsite]
    errors: list[FieldErrorOut] = Field(description="当前全部校验错误；为空时可以提交")
    warnings: list[FieldErrorOut] = Field(description="提示（不阻止提交），如网站名称涉及前置审批")
    complete: bool
    filing_method: str = Field("PROXY", description="PROXY 代为录入；SELF 自主备案（主办者本人，网站不填接入信息）")
    application_id: str | None = None
    website_id: str | None = Field(None, description="刚保存的网站在草稿中的标识")
    created_at: datetime
    updated_at: datetime


class PreapprovalContact(BaseModel):
    preapproval_type: str
    preapproval_type_name: str
    province: str
    province_name: str
    department: str
    phone: str
    address: str
    website: str
    note: str


class CompletionOut(BaseModel):
    """第五步：录入完成。密码只在这里出现一次，系统只保存其散列值。"""

    application_id: str
    subject_id: str
    website_ids: list[str]
    draft_id: str | None = None
    status: str
    sponsor_name: str
    username: str
    password: str | None
    needs_preapproval: bool
    preapproval_contacts: list[PreapprovalContact]
    notice: str
    submitted_at: datetime


# The wizard's drafts serve a provider's operators (代为录入) and self-registered sponsors (自主备案:
# no provider, no access record; services/filing/selffiling).
WIZARD_ROLES = ["provider", "sponsor"]


def _who(request: web.Request) -> tuple[str | None, str]:
    """(provider, owner) of the drafts: a sponsor files for itself, with no provider."""
    p = principal_of(request)
    if p.role == Role.SPONSOR:
        return None, p.user_id
    return tenant_of(request), p.user_id


@api.get("/drafts/current", errors=[404], response=DraftOut, roles=WIZARD_ROLES, tags=TAGS)
async def current_draft(request: web.Request) -> dict:
    """当前操作员未完成的代为录入草稿（没有时 404）"""
    return to_jsonable_python(await entry.current_draft(ctx(request), *_who(request)))


@api.post("/drafts", errors=[409], response=DraftOut, roles=WIZARD_ROLES, status=201, tags=TAGS)
async def start_draft(request: web.Request) -> dict:
    """开始代为录入；已有未完成的草稿时 409，返回其 draft_id 与 summary（继续录入或删除后重新录入）"""
    return to_jsonable_python(await entry.start_draft(ctx(request), *_who(request)))


@api.get("/drafts/{draft_id}", response=DraftOut, roles=WIZARD_ROLES, tags=TAGS)
async def get_draft(request: web.Request) -> dict:
    """草稿全部信息（第四步：主体与网站浏览），含当前校验错误"""
    return to_jsonable_python(await entry.get_draft(ctx(request), request.match_info["draft_id"], *_who(request)))


@api.delete("/drafts/{draft_id}", errors=[409], roles=WIZARD_ROLES, status=204, tags=TAGS)
async def delete_draft(request: web.Request) -> web.Response:
    """删除未完成的草稿"""
    await entry.delete_draft(ctx(request), request.match_info["draft_id"], *_who(request))
    return web.Response(status=204)


@api.put("/drafts/{draft_id}/subject", errors=[409], body=SubjectStep, response=DraftOut, roles=WIZARD_ROLES, tags=TAGS)
async def put_subject(request: web.Request, body: SubjectStep) -> dict:
    """第一步（及第四步修改）：保存主体信息"""
    out = await entry.put_subject(ctx(request), request.match_info["draft_id"], *_who(request), body.model_extra or {})
    return to_jsonable_python(out)


@api.post("/drafts/{draft_id}/websites", errors=[409], body=WebsiteStep, response=DraftOut, roles=WIZARD_ROLES, status=201, tags=TAGS)
async def add_website(request: web.Request, body: WebsiteStep) -> dict:
    """第二步：添加一个网站（第三步选择“是”时再次调用）"""
    out, _ = await entry.save_website(
        ctx(request), request.match_info["draft_id"], *_who(request), body.model_extra or {}
    )
    return to_jsonable_python(out)


@api.put("/drafts/{draft_id}/websites/{website_id}", errors=[409], body=WebsiteStep, response=DraftOut, roles=WIZARD_ROLES, tags=TAGS)
async def put_website(request: web.Request, body: WebsiteStep) -> dict:
    """修改草稿中的一个网站"""
    out, _ = await entry.save_website(
        ctx(request), request.match_info["draft_id"], *_who(request), body.model_extra or {},
        website_id=request.match_info["website_id"],
    )
    return to_jsonable_python(out)


@api.delete("/drafts/{draft_id}/websites/{website_id}", errors=[409], response=DraftOut, roles=WIZARD_ROLES, tags=TAGS)
async def delete_website(request: web.Request) -> dict:
    """删除草稿中的一个网站"""
    return to_jsonable_python(await entry.delete_website(
        ctx(request), request.match_info["draft_id"], *_who(request), request.match_info["website_id"]
    ))


@api.put("/drafts/{draft_id}/step", errors=[409], body=StepIn, response=DraftOut, roles=WIZARD_ROLES, tags=TAGS)
async def put_step(request: web.Request, body: StepIn) -> dict:
    """第三步的回答：是否还开办其他网站（false 进入第四步）"""
    out = await entry.set_step(ctx(request), request.match_info["draft_id"], *_who(request), body.another_website)
    return to_jsonable_python(out)


@api.post("/drafts/{draft_id}/submit", errors=[409], response=CompletionOut, roles=WIZARD_ROLES, status=201, tags=TAGS)
async def submit_draft(request: web.Request) -> dict:
    """提交：创建主办者账号、主体、网站、接入与首次备案申请（待核实）；返回第五步完成信息"""
    return to_jsonable_python(await entry.submit_draft(ctx(request), request.match_info["draft_id"], *_who(request)))


@api.post("/filings", errors=[409], body=FilingData, response=CompletionOut, roles=["provider"], status=201, tags=TAGS)
async def create_filing(request: web.Request, body: FilingData) -> dict:
    """一次请求提交完整的首次备案（相当于填写完成的代为录入向导）"""
    return to_jsonable_python(await entry.submit_filing(ctx(request), *_who(request), body))
