"""Business changes and cancellations: request/response models and pure helpers (no I/O).

Bodies (field paths of 422 errors are paths into the request body):
- 新增网站 `POST /subjects/{id}/websites`: `{"website": Website, "sponsor": {username, password}?}`;
- 新增接入 `POST /websites/{id}/accesses`: `{"access": Access, "sponsor": {...}?}`;
- 变更主体 `POST /subjects/{id}/changes`: `{"subject": Subject, "sponsor": {...}?}`;
- 变更网站 `POST /websites/{id}/changes`: `{"website": WebsiteChange}`;
- 变更接入 `PUT /websites/{id}/accesses/current`: the Access itself;
- 注销申请 `POST /cancellations`: `{target_type, target_id | target_no, reason_code, reason}`.
The sponsor's credentials (主办者用户名和密码, seed 1.4.2/1.4.3) are needed when the subject was
filed by the sponsor itself (自主备案) or through another provider.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared import codes
from shared import validate as v
from shared.contracts.filing import AccessSnapshot, PrincipalSnapshot, SubjectSnapshot, WebsiteSnapshot
from shared.fields import CleanStr, optional_text_field
from shared.filing_data import Access, FieldError, Subject, Website, WebsiteChange

CANCEL_TYPES = ("CANCEL_SUBJECT", "CANCEL_WEBSITE")
CHANGE_TYPES = ("ADD_WEBSITE", "ADD_ACCESS", "CHANGE_SUBJECT", "CHANGE_WEBSITE", "CHANGE_ACCESS")
PREAPPROVAL_TYPES = ("ADD_WEBSITE", "CHANGE_WEBSITE")  # as verification's model.PREAPPROVAL_TYPES
LIVE_WEBSITE = ("ACTIVE", "NO_ACCESS", "BLACKLISTED")  # a filed website (holds its number and domains)
FILED_SUBJECT = ("ACTIVE", "SHELL")  # a filed subject on which business can be done


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SponsorCredentials(_In):
    """主办者的用户名和密码（权限验证，seed 1.4.2、1.4.3）。"""

    username: str = Field(min_length=1, max_length=64, description="主办者用户名")
    password: str = Field(min_length=1, max_length=128, description="主办者密码")


class AddWebsiteIn(_In):
    """新增网站：一个新网站（一个域名）及本接入服务提供者的接入信息。"""

    website: Website
    sponsor: SponsorCredentials | None = Field(
        None, description="主办者用户名和密码：自主备案或由其他接入服务提供者备案的主体必填"
    )


class AddAccessIn(_In):
    """新增接入：本接入服务提供者对已备案网站的接入信息；须提供主办者用户名和密码。"""

    access: Access
    sponsor: SponsorCredentials | None = Field(
        None, description="主办者用户名和密码（自主备案或由其他接入服务提供者备案时必填）"
    )


class SubjectChangeIn(_In):
    """变更主体：变更后的完整主体信息（省份、性质、证件不能变更）。"""

    subject: Subject
    sponsor: SponsorCredentials | None = Field(
        None, description="主办者用户名和密码：自主备案或由其他接入服务提供者备案的主体必填"
    )


class WebsiteChangeIn(_In):
    """变更网站：变更后的网站信息（域名只能删除，不能新增；接入信息请用变更接入）。"""

    website: WebsiteChange


class ProposalIn(BaseModel):
    """更正被退回的变更类申请：按申请类型提供 subject（变更主体）、website（新增网站/变更网站）或
    access（新增接入/变更接入）。"""

    model_config = ConfigDict(extra="forbid")

    subject: dict[str, Any] | None = None
    website: dict[str, Any] | None = None
    access: dict[str, Any] | None = None


class CancellationIn(_In):
    """注销申请：注销对象（主体或网站，以 id 或备案号指定）与注销原因。"""

    target_type: Literal["SUBJECT", "WEBSITE"] = Field(description="SUBJECT 注销主体；WEBSITE 注销网站")
    target_id: str | None = Field(None, max_length=40, description="主体或网站 id（与 target_no 二选一）")
    target_no: str | None = Field(None, max_length=60, description="主体或网站备案号（与 target_id 二选一）")
    reason_code: CleanStr = Field(max_length=40, description="注销原因代码（codes/cancel_reasons.csv）")
    reason: optional_text_field(500) = Field("", description="原因说明；选择“其他”时必填")


class CancellationChangeIn(_In):
    """修改注销申请 / 再次提出注销申请：新的注销原因。"""

    reason_code: CleanStr = Field(max_length=40, description="注销原因代码（codes/cancel_reasons.csv）")
    reason: optional_text_field(500) = Field("", description="原因说明；选择“其他”时必填")


def check_reason(target_type: str, reason_code: str, reason: str) -> None:
    """A reason of `cancel_reasons` that applies to the target; OTHER needs the explanation."""
    row = codes.get("cancel_reasons", reason_code)
    if row is None:
        raise ValueError(f"reason_code：未知的注销原因“{reason_code}”")
    if target_type not in row["applies_to"].split(";"):
        kind = "主体" if target_type == "SUBJECT" else "网站"
        raise ValueError(f"reason_code：注销原因“{row['name_zh']}”不适用于注销{kind}")
    if reason_code == "OTHER" and not reason:
        raise ValueError("reason：选择“其他”时须填写原因说明")


def reason_errors(target_type: str, reason_code: str, reason: str) -> list[FieldError]:
    try:
        check_reason(target_type, reason_code, reason)
    except ValueError as e:
        field, _, message = str(e).partition("：")
        return [{"field": field, "message": message}]
    return []


CancellationStatus = Literal["NOT_APPLIED", "APPLIED", "APPROVED", "REJECTED"]


class CancellationQuery(_In):
    """注销申请查询（组合条件）。status=NOT_APPLIED 列出尚未提出注销申请的已备案主体/网站。"""

    status: CancellationStatus | None = Field(
        None, description="NOT_APPLIED 未提出；APPLIED 已提出（待审核）；APPROVED 已注销；REJECTED 拒绝；不填为全部已提出的申请"
    )
    target_type: Literal["SUBJECT", "WEBSITE"] | None = Field(None, description="注销对象类型")
    number: str | None = Field(None, max_length=60, description="备案号（包含）")
    name: str | None = Field(None, max_length=100, description="主办单位名称或网站名称（包含）")
    page: int = Field(1, ge=1, le=100000, description="页码，从 1 开始")
    page_size: int = Field(20, ge=1, le=200, description="每页条数（最多 200）")

    @field_validator("status", "target_type", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


# ---------------------------------------------------------------- responses


class ApplicationCreated(BaseModel):
    """已提交的变更类申请（待核实）。"""

    application_id: str
    type: str
    type_name: str
    status: str
    status_name: str
    version: int
    subject_id: str
    website_id: str | None = None
    needs_preapproval: bool = False
    preapproval_contacts: list[dict[str, Any]] = []
    submitted_at: dt.datetime
    notice: str = ""


class AccessCancelled(BaseModel):
    """取消接入已生效。"""

    application_id: str
    website_id: str
    access_id: str
    access_status: str
    website_status: str
    subject_id: str
    subject_status: str
    cancelled_at: dt.datetime
    notice: str


class CancellationOut(BaseModel):
    id: str | None = Field(description="注销申请 id；未提出（NOT_APPLIED）时为空")
    target_type: str
    target_id: str
    subject_id: str
    website_id: str | None = None
    target_no: str | None
    target_name: str
    subject_name: str
    target_status: str = Field(description="主体/网站当前状态")
    status: str
    status_name: str
    application_id: str | None = None
    application_status: str | None = None
    reason_code: str | None = None
    reason_name: str | None = None
    reason: str | None = None
    bureau_reason: str | None = None
    can_apply: bool
    can_modify: bool
    can_delete: bool
    can_reapply: bool
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    history: list[dict[str, Any]] = []


class CancellationList(BaseModel):
    items: list[CancellationOut]
    total: int
    page: int
    page_size: int


# ---------------------------------------------------------------- pure helpers


def rebase(errors: list[FieldError], old: str, new: str) -> list[FieldError]:
    """Error paths of one part re-rooted: `websites[0].name` → `website.name` (`new` "" drops it)."""
    out = []
    for e in errors:
        field = e["field"]
        if field == old:
            field = new or old
        elif field.startswith(old + "."):
            rest = field[len(old) + 1 :]
            field = f"{new}.{rest}" if new else rest
        out.append({"field": field, "message": e["message"]})
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def principal_snap(p: dict[str, Any]) -> PrincipalSnapshot:
    """A principal snapshot from stored or proposed data (ID number masked)."""
    return PrincipalSnapshot(
        name=str(p.get("name") or ""),
        id_type=str(p.get("id_type") or ""),
        id_number_masked=v.mask_id_number(p.get("id_number") or ""),
        id_valid_from=_text(p.get("id_valid_from")),
        id_valid_to=_text(p.get("id_valid_to")),
        mobile=str(p.get("mobile") or ""),
        office_phone=str(p.get("office_phone") or ""),
        emergency_phone=str(p.get("emergency_phone") or ""),
        email=str(p.get("email") or ""),
        im_type=str(p.get("im_type") or ""),
        im_account=str(p.get("im_account") or ""),
        legal_rep_name=str(p.get("legal_rep_name") or ""),
        legal_rep_id_masked=v.mask_id_number(p["legal_rep_id"]) if p.get("legal_rep_id") else "",
    )


SUBJECT_FIELDS = ("nature", "cert_type", "cert_number", "name", "cert_address", "province", "city", "county",
                  "mail_address", "investor_or_superior", "remark", "principal")
WEBSITE_FIELDS = ("name", "home_urls", "service_content", "preapprovals", "languages", "remark",
                  "principal_same_as_subject", "principal")


def subject_data(row: Any) -> dict[str, Any]:
    """The subject's filing fields (a `Subject` dump) from its row."""
    return {k: row[k] for k in SUBJECT_FIELDS}


def subject_snap(s: dict[str, Any], subject_id: str, subject_no: str | None) -> SubjectSnapshot:
    personal = codes.is_personal_nature(s["nature"])
    return SubjectSnapshot(
        subject_id=subject_id,
        subject_no=subject_no,
        nature=s["nature"],
        cert_type=s["cert_type"],
        cert_number=v.mask_id_number(s["cert_number"]) if personal else s["cert_number"],
        name=s["name"],
        cert_address=s.get("cert_address") or "",
        province=s["province"],
        city=s.get("city") or "",
        county=s.get("county") or "",
        mail_address=s.get("mail_address") or "",
        investor_or_superior=s.get("investor_or_superior") or "",
        remark=s.get("remark") or "",
        principal=principal_snap(s["principal"]),
    )


def ip_texts(ranges: list[Any]) -> list[str]:
    """IP ranges as "start-end" from stored strings or {start_ip, end_ip} objects."""
    out = []
    for r in ranges or []:
        out.append(r if isinstance(r, str) else f"{r['start_ip']}-{r['end_ip']}")
    return out


def access_snap(a: dict[str, Any] | None) -> AccessSnapshot | None:
    if a is None:
        return None
    return AccessSnapshot(
        access_methods=list(a.get("access_methods") or []),
        ip_ranges=ip_texts(a.get("ip_ranges") or []),
        server_locations=list(a.get("server_locations") or []),
    )


def website_snap(
    w: dict[str, Any], *, website_id: str, website_no: str | None, domains: list[str], access: dict[str, Any] | None,
    subject_principal: dict[str, Any],
) -> WebsiteSnapshot:
    same = w.get("principal_same_as_subject") or not w.get("principal")
    return WebsiteSnapshot(
        website_id=website_id,
        website_no=website_no,
        service_type=w.get("service_type") or "WEBSITE",
        name=w["name"],
        domains=list(domains),
        home_urls=list(w.get("home_urls") or []),
        service_content=list(w.get("service_content") or []),
        preapprovals=[
            {"type": str(p.get("type") or ""), "approval_no": str(p.get("approval_no") or ""),
             "document": str(p.get("document") or "")}
            for p in w.get("preapprovals") or []
        ],
        languages=list(w.get("languages") or []),
        remark=w.get("remark") or "",
        principal=principal_snap(subject_principal if same else w["principal"]),
        access=access_snap(access),
    )


def needs_preapproval(app_type: str, websites: list[dict[str, Any]]) -> bool:
    if app_type not in PREAPPROVAL_TYPES:
        return False
    return any(p.get("type") != "NONE" for w in websites for p in w.get("preapprovals") or [])


def preapproval_types(websites: list[dict[str, Any]]) -> list[str]:
    found: dict[str, None] = {}
    for w in websites:
        for p in w.get("preapprovals") or []:
            if p.get("type") and p["type"] != "NONE":
                found[p["type"]] = None
    return list(found)


def masked_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} of two snapshot dumps (already masked)."""
    out: dict[str, list[Any]] = {}
    for key in dict.fromkeys([*old, *new]):
        if old.get(key) != new.get(key):
            out[key] = [old.get(key), new.get(key)]
    return out


def cancel_status(app_status: str | None, deleted: bool) -> str:
    """The cancellation status (codes/cancel_application_statuses.csv) of its application's status."""
    if deleted:
        return "DELETED"
    if app_status == "APPROVED":
        return "APPROVED"
    if app_status == "REJECTED":
        return "REJECTED"
    return "APPLIED"


def cancel_status_name(status: str) -> str:
    if status == "DELETED":
        return "已删除"
    return codes.name_zh("cancel_application_statuses", status) or status


MODIFIABLE = ("PENDING_VERIFICATION", "VERIFY_RETURNED")  # not yet with the bureau
