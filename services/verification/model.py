"""Verification's request/response models and pure rules (statuses, stages, provinces)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared import codes
from shared.fields import FlexibleDate, optional_text_field, text_field

# ---------------------------------------------------------------- statuses (DOMAIN §7.2)

PENDING_VERIFICATION = "PENDING_VERIFICATION"
VERIFY_RETURNED = "VERIFY_RETURNED"
SUBMITTED_TO_BUREAU = "SUBMITTED_TO_BUREAU"
PREAPPROVAL_PENDING = "PREAPPROVAL_PENDING"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
ABANDONED = "ABANDONED"  # withdrawn by the provider in filing (filing.application.withdrawn); final

STATUSES = (PENDING_VERIFICATION, VERIFY_RETURNED, SUBMITTED_TO_BUREAU, PREAPPROVAL_PENDING, APPROVED, REJECTED,
            ABANDONED)

# A newer version of the application may reopen a case in these statuses (after a return or a
# rejection; or replace a version nobody has verified yet).
REOPENABLE = (PENDING_VERIFICATION, VERIFY_RETURNED, REJECTED)

# A withdrawal (filing.application.withdrawn) closes a case in these statuses (not yet with the
# bureau, or finally returned / rejected); in the others (with the bureau, approved) it is refused.
WITHDRAWABLE = (PENDING_VERIFICATION, VERIFY_RETURNED, REJECTED)

# What a bureau reviewer sees: cases that are (or were last) with the bureau.
BUREAU_VISIBLE = (SUBMITTED_TO_BUREAU, PREAPPROVAL_PENDING, APPROVED, REJECTED)

Stage = Literal["verification", "returned", "bureau", "preapproval", "approved", "rejected", "decided", "abandoned",
                "all"]
STAGES: dict[str, tuple[str, ...]] = {
    "verification": (PENDING_VERIFICATION,),
    "returned": (VERIFY_RETURNED,),
    "bureau": (SUBMITTED_TO_BUREAU,),
    "preapproval": (PREAPPROVAL_PENDING,),
    "approved": (APPROVED,),
    "rejected": (REJECTED,),
    "decided": (APPROVED, REJECTED),
    "abandoned": (ABANDONED,),
    "all": STATUSES,
}


def stage_of(status: str) -> str:
    return {
        PENDING_VERIFICATION: "verification",
        VERIFY_RETURNED: "returned",
        SUBMITTED_TO_BUREAU: "bureau",
        PREAPPROVAL_PENDING: "preapproval",
        APPROVED: "approved",
        REJECTED: "rejected",
        ABANDONED: "abandoned",
    }.get(status, "all")


# Application types whose websites' pre-approval items (前置审批) are checked before the bureau
# decides: those that bring new or changed website content.
PREAPPROVAL_TYPES = ("FIRST_FILING", "ADD_WEBSITE", "CHANGE_WEBSITE")
NUMBERING_TYPES = ("FIRST_FILING", "ADD_WEBSITE")  # approval assigns website numbers
CANCEL_TYPES = ("CANCEL_SUBJECT", "CANCEL_WEBSITE")  # approval retires numbers


def needs_preapproval(app_type: str, websites: list[dict[str, Any]]) -> bool:
    """True when some website lists a pre-approval item other than NONE (以上都不涉及)."""
    if app_type not in PREAPPROVAL_TYPES:
        return False
    for w in websites:
        for item in w.get("preapprovals") or []:
            t = (item or {}).get("type") if isinstance(item, dict) else None
            if t and t != "NONE":
                return True
    return False


def province_row(value: str | None) -> dict[str, str] | None:
    """A province given as provinces.csv code (BJ), GB/T 2260 (110000 or 11), or filing abbreviation (京)."""
    if not value:
        return None
    text = str(value).strip()
    row = codes.get("provinces", text.upper())
    if row is None:
        row = codes.province_by_gb(text) or codes.province_by_filing_abbr(text)
    if row is None or not row.get("filing_abbr"):
        return None
    return dict(row)


def gb_of(row: dict[str, str]) -> str:
    return row["gb2260"] + "0000"


def type_name(app_type: str) -> str:
    return codes.name_zh("filing_types", app_type, app_type) or app_type


def status_name(status: str) -> str:
    return codes.name_zh("application_statuses", status, status) or status


# ---------------------------------------------------------------- requests


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VerificationIn(_In):
    """核实：结果 pass（核实通过，提交管局）或 return（退回修改），核实意见必填。"""

    result: Literal["pass", "return"] = Field(description="pass 核实通过并提交管局；return 退回接入服务提供者修改")
    opinion: text_field(500) = Field(description="核实意见（必填）")
    version: int | None = Field(None, ge=1, description="可选：所核实的申请版本；与当前版本不符时拒绝（409）")


class DecisionIn(_In):
    """管局审核：approve 审核通过（发放备案号）或 reject 驳回（须填写原因）。"""

    decision: Literal["approve", "reject"] = Field(description="approve 审核通过；reject 驳回")
    reason: optional_text_field(500) = Field("", validate_default=True, description="审核意见；驳回时必填")
    version: int | None = Field(None, ge=1, description="可选：所审核的申请版本；与当前版本不符时拒绝（409）")

    @field_validator("reason")
    @classmethod
    def _reason_on_reject(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("decision") == "reject" and not v:
            raise ValueError("驳回时须填写驳回原因")
        return v


class PreapprovalIn(_In):
    """前置审批结果：pass 通过（回到管局审核）或 fail 未通过（申请被驳回，说明即驳回原因）。"""

    result: Literal["pass", "fail"] = Field(description="pass 前置审批通过；fail 前置审批未通过")
    note: optional_text_field(500) = Field("", validate_default=True, description="说明；未通过时必填（作为驳回原因）")

    @field_validator("note")
    @classmethod
    def _note_on_fail(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("result") == "fail" and not v:
            raise ValueError("前置审批未通过时须填写说明（作为驳回原因）")
        return v


class CaseQuery(_In):
    """案件列表查询条件（可组合）。"""

    stage: Stage | None = Field(
        None,
        description="阶段：verification 待核实（接入商默认）、bureau 管局审核中（管局默认）、preapproval 前置审批中、"
        "returned 已退回、approved、rejected、decided、abandoned 已撤回、all",
    )
    status: list[str] = Field(default_factory=list, description="申请状态代码（可多个，逗号分隔），优先于 stage")
    name: optional_text_field(100) = Field("", description="主办单位名称包含")
    domain: optional_text_field(253) = Field("", description="网站域名包含")
    type: optional_text_field(40) = Field("", description="申请类型代码（filing_types）")
    submitted_from: FlexibleDate | None = Field(None, description="提交日期起（含）")
    submitted_to: FlexibleDate | None = Field(None, description="提交日期止（含）")
    application_id: optional_text_field(100) = Field("", description="申请编号")
    subject_id: optional_text_field(100) = Field("", description="主体标识")
    provider_id: optional_text_field(100) = Field("", description="接入服务提供者（管局、管理员可用）")
    page: int = Field(1, ge=1, le=100000, description="页码，从 1 开始")
    page_size: int = Field(20, ge=1, le=100, description="每页条数（1-100）")

    @field_validator("status", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            out = []
            for item in v:
                out += [s.strip().upper() for s in str(item).split(",") if s.strip()]
            return out
        return v

    @field_validator("status")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in STATUSES:
                raise ValueError(f"未知的申请状态“{s}”，可选：{'、'.join(STATUSES)}")
        return v

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v and not codes.is_valid("filing_types", v.upper()):
            raise ValueError(f"未知的申请类型“{v}”")
        return v.upper()


class DetailQuery(_In):
    version: int | None = Field(None, ge=1, description="查看某一版本的申请内容（默认当前版本）")


# ---------------------------------------------------------------- responses


class NumberOut(BaseModel):
    website_id: str
    website_no: str


class CaseSummary(BaseModel):
    id: str
    application_id: str
    version: int
    type: str
    type_name: str
    source: str
    provider_id: str
    provider_name: str | None = None
    province: str = Field(description="主体所在省（GB/T 2260）")
    province_code: str
    province_name: str
    subject_id: str
    subject_name: str
    domains: list[str]
    status: str
    status_name: str
    stage: str
    needs_preapproval: bool
    submitted_at: dt.datetime
    first_submitted_at: dt.datetime
    updated_at: dt.datetime
    subject_no: str | None = None
    website_numbers: list[NumberOut] = []
    retired_numbers: list[str] = []
    decision_reason: str | None = None


class CaseList(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class HistoryEntry(BaseModel):
    version: int
    action: str
    action_name: str
    status_from: str | None
    status_to: str
    text: str = Field(description="核实意见 / 审核意见 / 驳回原因 / 前置审批说明")
    actor_role: str
    actor_id: str
    actor_name: str
    at: dt.datetime


class VersionOut(BaseModel):
    version: int
    submitted_at: dt.datetime
    submitted_by: str


class CaseDetail(CaseSummary):
    application: dict[str, Any] = Field(description="所示版本的完整申请内容（提交时的快照）")
    shown_version: int
    versions: list[VersionOut]
    history: list[HistoryEntry]


ACTION_NAMES = {
    "SUBMITTED": "提交核实",
    "RESUBMITTED": "修改后重新提交",
    "VERIFY_PASS": "核实通过，提交管局",
    "VERIFY_RETURN": "核实退回",
    "PREAPPROVAL_PASS": "前置审批通过",
    "PREAPPROVAL_FAIL": "前置审批未通过",
    "APPROVE": "管局审核通过",
    "REJECT": "管局驳回",
    "WITHDRAWN": "接入服务提供者撤回（已放弃）",
    "WITHDRAWAL_REFUSED": "撤回未受理（已提交管局）",
    "VERSION_REFUSED": "新版本未受理（已提交管局）",
}
