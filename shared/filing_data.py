"""The filing data of DOMAIN.md §4.1–4.4: subject, principals, websites, access.

One definition used by the entry wizard, the Excel import, the application snapshot in
messages and the verification service, so the same input gets the same answer
everywhere. Field-level rules run in the pydantic types (`shared.fields`); rules that
span fields are in `check_filing`, which returns every error with its path in the API's
notation (`websites[1].domains[0]`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from shared import codes
from shared import validate as v
from shared.fields import (
    CleanStr,
    Email,
    FlexibleDate,
    Mobile,
    ValidTo,
    as_pydantic,
    code_field,
    optional_text_field,
    text_field,
)
from shared.validate.network import compressed

FieldError = dict[str, str]  # {"field": path, "message": Chinese reason}

# A filed domain as its A-label. Sub-domains of gov.cn pass here and are refused in
# `check_website` unless the subject is a GOVERNMENT unit (DOMAIN §5.4 item 4).
FilingDomain = Annotated[
    str, BeforeValidator(as_pydantic(lambda value: v.validate_domain(value, allow_gov_subdomain=True).ascii))
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Principal(_Model):
    """负责人 (DOMAIN §4.2): subject principal or website principal."""

    name: text_field(50) = Field(description="负责人姓名")
    id_type: code_field("id_types") = Field(description="负责人证件类型")
    id_number: CleanStr = Field(max_length=50, description="负责人证件号码")
    id_valid_from: FlexibleDate | None = Field(None, description="证件有效期起")
    id_valid_to: ValidTo | None = Field(None, description="证件有效期止（日期或 LONG_TERM 长期）")
    mobile: Mobile = Field(description="手机号码")
    office_phone: CleanStr = Field("", max_length=30, description="办公电话，格式 086-010-87654321[-分机]；个人可填手机")
    emergency_phone: Mobile = Field(description="应急联系电话（手机，不能与手机号码相同）")
    email: Email = Field(description="电子邮件地址")
    im_type: Literal["", "NONE", "QQ", "WECHAT", "DINGTALK", "OTHER"] = Field(
        "", description="即时通信类型：QQ、WECHAT（微信）、DINGTALK（钉钉）、OTHER（其他）、NONE（无）；可不填")
    im_account: CleanStr = Field("", max_length=50, description="即时通信账号（填写类型时必填）")
    legal_rep_name: optional_text_field(50) = Field(
        "", description="法定代表人姓名（单位主体负责人不是法定代表人时填写，与证件号码同时填写）")
    legal_rep_id: CleanStr = Field("", max_length=30, description="法定代表人证件号码（与姓名同时填写）")


class Subject(_Model):
    """主办单位 / 主办人 (DOMAIN §4.1)."""

    nature: code_field("unit_natures") = Field(description="主办单位性质")
    cert_type: CleanStr = Field(max_length=40, description="主办单位证件类型（按性质筛选）")
    cert_number: CleanStr = Field(max_length=50, description="主办单位证件号码")
    name: text_field(100) = Field(description="主办单位名称 / 主办人姓名")
    cert_address: text_field(200) = Field(description="主办单位证件住所")
    province: CleanStr = Field(description="所属区域：省（GB/T 2260 六位代码，如 110000）")
    city: CleanStr = Field(description="所属区域：市（如 110100）")
    county: CleanStr = Field("", description="所属区域：县/区（如 110105）")
    mail_address: text_field(200) = Field(description="通信地址（详细地址，不重复省市县）")
    investor_or_superior: text_field(100) = Field(description="投资者或上级主管单位")
    remark: optional_text_field(500) = Field("", description="备注")
    principal: Principal = Field(description="主体负责人")


class PreApproval(_Model):
    """前置审批项."""

    type: code_field("preapproval_types") = Field(description="前置审批类型；NONE 表示以上都不涉及")
    approval_no: optional_text_field(100) = Field("", description="审批文号（NONE 以外必填）")
    document: optional_text_field(200) = Field("", description="审批文件（附件标识）")


class IpRangeIn(_Model):
    start_ip: CleanStr = Field(description="起始IP")
    end_ip: CleanStr = Field(description="终止IP")


class Access(_Model):
    """接入信息 (DOMAIN §4.4); the provider is the one filing."""

    access_methods: list[code_field("access_methods")] = Field(min_length=1, description="接入方式")
    ip_ranges: list[IpRangeIn] = Field(min_length=1, max_length=64, description="网站IP地址段")
    server_locations: list[code_field("provinces")] = Field(min_length=1, description="服务器放置地（省份代码）")


class Website(_Model):
    """网站 (DOMAIN §4.3) with its access record."""

    service_type: code_field("service_types") = Field("WEBSITE", description="服务类型")
    name: CleanStr = Field(max_length=30, description="网站名称")
    domains: list[FilingDomain] = Field(min_length=1, max_length=10, description="网站域名（新网站仅一个）")
    home_urls: list[CleanStr] = Field(min_length=1, max_length=10, description="网站首页URL")
    service_content: list[code_field("service_content")] = Field(min_length=1, description="网站服务内容")
    preapprovals: list[PreApproval] = Field(min_length=1, description="前置审批项")
    languages: list[code_field("languages")] = Field(min_length=1, description="网站语言")
    remark: optional_text_field(500) = Field("", description="备注")
    principal_same_as_subject: bool = Field(False, description="网站负责人同主体负责人")
    principal: Principal | None = Field(None, description="网站负责人（同主体负责人时可省略）")
    access: Access = Field(description="接入信息")


class SelfWebsite(Website):
    """网站 of a self-filing (自主备案): no access record — no provider serves it yet; a provider adds
    its access later (新增接入, seed 1.4.2). An access sent along is ignored."""

    access: Access | None = Field(None, description="接入信息（自主备案不填写，由接入服务提供者新增接入）")

    @model_validator(mode="before")
    @classmethod
    def _ignore_access(cls, data):
        # the wizard's form may carry empty access fields: a self-filing has no access to validate
        if isinstance(data, dict) and "access" in data:
            data = {k: x for k, x in data.items() if k != "access"}
        return data


class WebsiteChange(_Model):
    """变更网站 (DOMAIN §7.1 CHANGE_WEBSITE): the proposed website fields. The access record is
    changed separately (CHANGE_ACCESS) and the service type cannot change; domains may only be
    removed (`check_website_change`)."""

    name: CleanStr = Field(max_length=30, description="网站名称")
    domains: list[FilingDomain] = Field(min_length=1, max_length=10, description="网站域名（只能删除，不能新增）")
    home_urls: list[CleanStr] = Field(min_length=1, max_length=10, description="网站首页URL")
    service_content: list[code_field("service_content")] = Field(min_length=1, description="网站服务内容")
    preapprovals: list[PreApproval] = Field(min_length=1, description="前置审批项")
    languages: list[code_field("languages")] = Field(min_length=1, description="网站语言")
    remark: optional_text_field(500) = Field("", description="备注")
    principal_same_as_subject: bool = Field(False, description="网站负责人同主体负责人")
    principal: Principal | None = Field(None, description="网站负责人（同主体负责人时可省略）")


class FilingData(_Model):
    """A subject with its websites: what a first filing (首次备案) submits."""

    subject: Subject
    websites: list[Website] = Field(min_length=1, max_length=50)


class SelfFilingData(FilingData):
    """A self-filing (自主备案): the subject with its websites, without access records."""

    websites: list[SelfWebsite] = Field(min_length=1, max_length=50)


# ---------------------------------------------------------------- cross-field rules

# Provincial variations of DOMAIN §10 that are cheap to check; keyed by the GB/T 2260 province
# prefix. Keep them here (one table) so a deployment can see and change them in one place.
# (The 河南/重庆/天津/甘肃 rule "emergency numbers of the two principals differ" is already
# nationwide in `principal_consistency_errors`.)
OFFICE_PHONE_NOT_MOBILE = frozenset({"21", "22", "11"})  # 辽宁、吉林、北京


def _err(errors: list[FieldError], field: str, message: str) -> None:
    errors.append({"field": field, "message": message})


def _try(errors: list[FieldError], field: str, fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except v.InvalidValue as e:
        _err(errors, field, e.message)
        return None


def check_principal(
    p: Principal, path: str, errors: list[FieldError], today: dt.date, *, province: str = "", normalize: bool = False
) -> None:
    number = _try(errors, f"{path}.id_number", v.validate_id_number, p.id_type, p.id_number)
    if normalize and number is not None:
        p.id_number = number
    if p.id_valid_from is None:
        _err(errors, f"{path}.id_valid_from", "必填项，不能为空")
    if p.id_valid_to is None:
        _err(errors, f"{path}.id_valid_to", "必填项，不能为空")
    if p.id_valid_from is not None and p.id_valid_to is not None:
        _try(errors, f"{path}.id_valid_to", v.validate_id_validity, p.id_valid_from, p.id_valid_to, today)
    if p.office_phone:
        try:
            v.validate_landline(p.office_phone)
        except v.InvalidValue:
            if _try(errors, f"{path}.office_phone", v.validate_mobile, p.office_phone) is not None:
                if province[:2] in OFFICE_PHONE_NOT_MOBILE and p.office_phone == p.mobile:
                    _err(errors, f"{path}.office_phone", "本省要求办公电话不能与负责人手机号码相同")
    for field, message in v.principal_errors({"mobile": p.mobile, "emergency_phone": p.emergency_phone}):
        _err(errors, f"{path}.{field}", message)
    check_principal_extras(p, path, errors, normalize=normalize)


_QQ_RE = re.compile(r"[1-9]\d{4,11}")
_LEGAL_REP_ID_RE = re.compile(r"[A-Z0-9]{5,30}")


def check_principal_extras(p: Principal, path: str, errors: list[FieldError], *, normalize: bool = False) -> None:
    """Instant messaging and the legal representative (DOMAIN §4.2): an account needs its type and a
    type other than NONE its account; the legal representative's name and ID number come together and
    name someone other than the principal."""
    if p.im_type in ("QQ", "WECHAT", "DINGTALK", "OTHER") and not p.im_account:
        _err(errors, f"{path}.im_account", "填写即时通信类型时须填写账号")
    if p.im_account and p.im_type in ("", "NONE"):
        _err(errors, f"{path}.im_type", "填写即时通信账号时须选择类型")
    if p.im_type == "QQ" and p.im_account and not _QQ_RE.fullmatch(p.im_account):
        _err(errors, f"{path}.im_account", "QQ 号码应为5到12位数字")
    if p.legal_rep_name and not p.legal_rep_id:
        _err(errors, f"{path}.legal_rep_id", "填写法定代表人姓名时须填写其证件号码")
    if p.legal_rep_id and not p.legal_rep_name:
        _err(errors, f"{path}.legal_rep_name", "填写法定代表人证件号码时须填写其姓名")
    if p.legal_rep_id:
        number = p.legal_rep_id.upper()
        if len(number) == 18 and number[:17].isdigit():
            number = _try(errors, f"{path}.legal_rep_id", v.validate_resident_id, number)
        elif not _LEGAL_REP_ID_RE.fullmatch(number):
            _err(errors, f"{path}.legal_rep_id", "证件号码应为5到30位字母或数字")
            number = None
        if number is not None:
            if number == v.normalize_text(p.id_number).upper():
                _err(errors, f"{path}.legal_rep_id", "负责人不是法定代表人时，法定代表人证件号码不能与负责人的相同")
            if normalize:
                p.legal_rep_id = number


def check_subject(
    s: Subject, errors: list[FieldError], today: dt.date, path: str = "subject", *, normalize: bool = False
) -> None:
    if not codes.is_cert_type_allowed(s.nature, s.cert_type):
        if not s.cert_type:
            _err(errors, f"{path}.cert_type", "不能为空")
        else:
            _err(errors, f"{path}.cert_type", f"证件类型与主办单位性质（{codes.name_zh('unit_natures', s.nature)}）不符")
    else:
        number = _try(errors, f"{path}.cert_number", v.validate_cert_number, s.cert_type, s.cert_number)
        if normalize and number is not None:
            s.cert_number = number
    region = _try(errors, f"{path}.province", v.validate_region, s.province, s.city, s.county or None)
    if region is not None:
        _try(errors, f"{path}.mail_address", v.validate_address_detail, s.mail_address,
             province_name=_province_name(s.province))
    check_principal(s.principal, f"{path}.principal", errors, today, province=s.province, normalize=normalize)


@functools.lru_cache(maxsize=256)  # a province code (validated: one of a few dozen) → its name
def _province_name(gb: str) -> str | None:
    prov = codes.province_by_gb(gb)
    return prov["name_zh"] if prov else None


def check_website(
    w: Website,
    i: int,
    subject: Subject | None,
    errors: list[FieldError],
    *,
    new_website: bool = True,
    today: dt.date | None = None,
    normalize: bool = False,
) -> None:
    """Rules of one website. `subject` None (not entered yet, or invalid) skips the rules that
    depend on it (nature, principal consistency)."""
    today = today or dt.date.today()
    path = f"websites[{i}]"
    nature = subject.nature if subject is not None else None
    _try(errors, f"{path}.name", v.validate_website_name, w.name, nature=nature)
    if new_website and len(w.domains) != 1:
        _err(errors, f"{path}.domains", "新增网站只能填写一个域名")
    gov = nature == "GOVERNMENT"
    for j, d in enumerate(w.domains):
        # The field type admitted gov.cn sub-domains; everything else it checked already.
        if not gov and d.endswith(".gov.cn"):
            _try(errors, f"{path}.domains[{j}]", v.validate_domain, d)
    seen: set[str] = set()
    for j, d in enumerate(w.domains):
        if d in seen:
            _err(errors, f"{path}.domains[{j}]", "域名重复")
        seen.add(d)
    urls = [_try(errors, f"{path}.home_urls[{j}]", v.validate_home_url, url, w.domains) for j, url in enumerate(w.home_urls)]
    if normalize and None not in urls:
        w.home_urls = _dedupe(urls)
    if nature is not None and codes.is_personal_nature(nature):
        allowed = {r["code"] for r in codes.service_content_for_nature(nature)}
        for j, c in enumerate(w.service_content):
            if c not in allowed:
                _err(errors, f"{path}.service_content[{j}]", "个人网站的服务内容只能选择博客/个人空间或其他")
    types = [p.type for p in w.preapprovals]
    if "NONE" in types and len(types) > 1:
        _err(errors, f"{path}.preapprovals", "“以上都不涉及”不能与其他前置审批项同时选择")
    if len(set(types)) != len(types):
        _err(errors, f"{path}.preapprovals", "前置审批类型重复")
    for j, p in enumerate(w.preapprovals):
        if p.type != "NONE" and not p.approval_no:
            _err(errors, f"{path}.preapprovals[{j}].approval_no", "涉及前置审批时须填写审批文号")
    if w.principal_same_as_subject:
        if subject is not None and w.principal is not None and not _same_principal(w.principal, subject.principal):
            _err(errors, f"{path}.principal", "选择“同主体负责人”时，网站负责人信息须与主体负责人完全一致")
    elif w.principal is None:
        _err(errors, f"{path}.principal", "必填项，不能为空（或选择同主体负责人）")
    else:
        province = subject.province if subject is not None else ""
        check_principal(w.principal, f"{path}.principal", errors, today, province=province, normalize=normalize)
        if subject is not None:
            for field, message in v.principal_consistency_errors(_compared(subject.principal), _compared(w.principal)):
                _err(errors, f"{path}.principal.{field}", message)
    if w.access is not None:  # None only in a self-filing (SelfWebsite)
        check_access(w.access, f"{path}.access", errors, normalize=normalize)


def _compared(p: Principal) -> dict:
    """The fields the principal rules compare (`v.PRINCIPAL_FIELDS`), as `model_dump()` has them (the
    values themselves: strings and dates), without dumping the whole model."""
    return {k: getattr(p, k) for k in v.PRINCIPAL_FIELDS}


def _same_principal(a: Principal, b: Principal) -> bool:
    """Field for field, the ID numbers in their normalised form: `normalize=True` has written the
    subject principal's back (`x` → `X`) by the time its websites' copies are compared. The legal
    representative belongs to the subject, not to the person (not in `v.PRINCIPAL_FIELDS`)."""
    return _compared(a) | {"id_number": _id_form(a)} == _compared(b) | {"id_number": _id_form(b)}


def _id_form(p: Principal) -> str:
    try:
        return v.validate_id_number(p.id_type, p.id_number)
    except v.InvalidValue:
        return p.id_number


def check_access(a: Access, path: str, errors: list[FieldError], *, normalize: bool = False) -> None:
    """Rules of one access record (接入信息): IP ranges, mainland server locations. `path` is the
    prefix of the error fields (`websites[0].access`; "" for an access given on its own)."""
    prefix = f"{path}." if path else ""
    for j, r in enumerate(a.ip_ranges):
        rng = _try(errors, f"{prefix}ip_ranges[{j}]", v.validate_ip_range, r.start_ip, r.end_ip)
        if normalize and rng is not None:
            # assigned only when it changes: a pydantic assignment costs ~1 µs (both fields are required,
            # so the fields set stay the same either way)
            start, end = compressed(rng.start, r.start_ip), compressed(rng.end, r.end_ip)
            if r.start_ip != start:
                r.start_ip = start
            if r.end_ip != end:
                r.end_ip = end
    outside = _outside_mainland()
    for j, loc in enumerate(a.server_locations):
        if loc in outside:
            _err(errors, f"{prefix}server_locations[{j}]", "服务器放置地只能选择中国大陆的省份")


@functools.cache
def _outside_mainland() -> frozenset[str]:
    """Province codes without a filing bureau (Taiwan, Hong Kong, Macao); the code tables never change."""
    return frozenset(row["code"] for row in codes.rows("provinces") if not row["filing_abbr"])


def check_websites_together(websites: list[Website], errors: list[FieldError]) -> None:
    """A domain may appear once in one application (DOMAIN §5.4 item 7)."""
    domains: dict[str, int] = {}
    for i, w in enumerate(websites):
        for j, d in enumerate(w.domains):
            if d in domains and domains[d] != i:
                _err(errors, f"websites[{i}].domains[{j}]", f"域名与第 {domains[d] + 1} 个网站重复")
            domains.setdefault(d, i)


def check_filing(data: FilingData, today: dt.date | None = None, *, normalize: bool = False) -> list[FieldError]:
    """Every cross-field rule of a first filing; an empty list means valid.

    `normalize=True` also writes the normalised form of each value it validated into `data`
    (certificate and ID numbers, home URLs, IP ranges): with no errors, `canonical(data,
    copy=False, checked=True)` then finishes the canonical form without validating again.

    Database rules (certificate, domain or mobile already filed, DOMAIN §5.10) are the
    filing service's (`services/filing/entry/store.py`), not this pure function's.
    """
    today = today or dt.date.today()
    errors: list[FieldError] = []
    check_subject(data.subject, errors, today, normalize=normalize)
    for i, w in enumerate(data.websites):
        check_website(w, i, data.subject, errors, today=today, normalize=normalize)
    check_websites_together(data.websites, errors)
    return errors


def filing_warnings(data: FilingData) -> list[FieldError]:
    """Non-blocking hints (DOMAIN §5.2 organisation-code check, §5.6 sector words)."""
    out: list[FieldError] = []
    s = data.subject
    if codes.is_cert_type_allowed(s.nature, s.cert_type):
        try:
            _, warns = v.check_cert_number(s.cert_type, s.cert_number)
        except v.InvalidValue:
            warns = []
        out += [{"field": "subject.cert_number", "message": m} for m in warns]
    for i, w in enumerate(data.websites):
        for m in v.website_name_warnings(w.name, [p.type for p in w.preapprovals]):
            out.append({"field": f"websites[{i}].name", "message": m})
    return out


def check_website_change(
    change: WebsiteChange, current_domains: list[str], errors: list[FieldError], path: str = "website"
) -> None:
    """CHANGE_WEBSITE: domains may only be removed (DOMAIN §4.3, §7.1); a new domain is filed by
    新增网站. The other website rules are `check_website(..., new_website=False)`'s."""
    for j, d in enumerate(change.domains):
        if d not in current_domains:
            _err(errors, f"{path}.domains[{j}]", "变更网站时只能删除域名，不能新增域名；新域名请通过“新增网站”备案")


def check_subject_change(current: Subject, proposed: Subject, errors: list[FieldError], path: str = "subject") -> None:
    """CHANGE_SUBJECT (DOMAIN §4.1, §7.1): no cross-province change (cancel and re-file in the new
    province), and the certificate (nature, type, number) identifies the subject: a changed
    certificate is a new subject (cancel and re-file)."""
    if proposed.province != current.province:
        _err(errors, f"{path}.province", "不能跨省变更主体；迁往其他省份须注销后在新省份重新备案")
    if proposed.nature != current.nature:
        _err(errors, f"{path}.nature", "主办单位性质不能通过变更修改；须注销后重新备案")
    if proposed.cert_type != current.cert_type:
        _err(errors, f"{path}.cert_type", "主办单位证件类型不能变更；证件变化须注销后重新备案")
    if subject_key(proposed) != subject_key(current):
        _err(errors, f"{path}.cert_number", "主办单位证件号码不能变更；证件变化须注销后重新备案")


def website_principal(w: Website, subject: Subject) -> Principal:
    return subject.principal if w.principal_same_as_subject or w.principal is None else w.principal


def _dedupe(items: list) -> list:
    return list(dict.fromkeys(items))


def _dedupe_field(model: BaseModel, name: str) -> None:
    """`model.<name>` without repeats, assigned only when there were some: a pydantic assignment costs
    ~1 µs, and the multi-selects deduplicated here are required fields (in the fields set either way)."""
    items = getattr(model, name)
    unique = _dedupe(items)
    if len(unique) != len(items):
        setattr(model, name, unique)


def canonical(data: FilingData, *, copy: bool = True, checked: bool = False) -> FilingData:
    """A copy in canonical form, for storage and uniqueness checks; call only on data that passed
    `check_filing`. Certificate and ID numbers as the validators print them (upper case, org
    codes `XXXXXXXX-X`), home URLs without scheme, multi-selects without repeats, IP addresses
    compressed, and a website principal that is "same as subject" stored as the flag alone.
    `copy=False` converts `data` in place (and returns it); `checked=True` trusts the values
    `check_filing(..., normalize=True)` already normalised."""
    out = data.model_copy(deep=True) if copy else data
    s = out.subject
    if not checked:
        s.cert_number = v.validate_cert_number(s.cert_type, s.cert_number)
        s.principal.id_number = v.validate_id_number(s.principal.id_type, s.principal.id_number)
    for w in out.websites:
        canonical_website(w, copy=False, checked=checked)
    return out


def canonical_access(a: Access, *, copy: bool = True, checked: bool = False) -> Access:
    """An access record in canonical form (multi-selects without repeats, IPs compressed);
    call only on an access that passed `check_access`."""
    out = a.model_copy(deep=True) if copy else a
    _dedupe_field(out, "access_methods")
    _dedupe_field(out, "server_locations")
    if not checked:
        for r in out.ip_ranges:
            rng = v.validate_ip_range(r.start_ip, r.end_ip)
            r.start_ip, r.end_ip = rng.start.compressed, rng.end.compressed
    return out


def canonical_website(w: Website, *, copy: bool = True, checked: bool = False) -> Website:
    """One website (with its access) in canonical form, as `canonical` does for a whole filing;
    call only on a website that passed `check_website`."""
    out = w.model_copy(deep=True) if copy else w
    if not checked:
        out.home_urls = _dedupe([v.validate_home_url(u, out.domains) for u in out.home_urls])
    _dedupe_field(out, "service_content")
    _dedupe_field(out, "languages")
    if out.access is not None:
        canonical_access(out.access, copy=False, checked=checked)
    if out.principal_same_as_subject:
        out.principal = None
    elif out.principal is not None and not checked:
        out.principal.id_number = v.validate_id_number(out.principal.id_type, out.principal.id_number)
    return out


def subject_key(s: Subject, *, normalized: bool = False) -> tuple[str, str]:
    """Uniqueness key of a subject (DOMAIN §4.1): (certificate family, normalised number).

    The same organisation shows the same USCC on a business licence, a USCC certificate or an
    institution certificate, so every 18-character USCC is one family; organisation codes are
    another; the GB 11643 person numbers (ID card, residence permits) a third; anything else is
    keyed by its certificate type. `normalized`: `s.cert_number` is already in canonical form.
    """
    if normalized:
        number = s.cert_number
    else:
        try:
            number = v.validate_cert_number(s.cert_type, s.cert_number)
        except v.InvalidValue:
            number = v.normalize_text(s.cert_number).upper()
    rule = v.CERT_NUMBER_RULES.get(s.cert_type, (None, None))[0]
    if rule in (v.NumberRule.RESIDENT_ID, v.NumberRule.HKMO_RESIDENCE_PERMIT, v.NumberRule.TW_RESIDENCE_PERMIT):
        return "PERSON_ID", number
    upper = number.upper()
    if len(upper) == 18 and not codes.is_personal_nature(s.nature):
        if normalized and rule in (v.NumberRule.USCC, v.NumberRule.USCC_OR_REG_NO, v.NumberRule.ORG_CODE_OR_USCC):
            return "USCC", upper  # validated as a USCC already
        try:
            v.validate_uscc(upper)
            return "USCC", upper
        except v.InvalidValue:
            pass
    if rule is v.NumberRule.ORG_CODE_OR_USCC:
        return "ORG_CODE", upper
    return s.cert_type, number


def principal_mobiles(data: FilingData) -> dict[str, str]:
    """Each principal mobile of the filing → the path of its first occurrence (DOMAIN §5.3:
    a mobile belongs to one subject only)."""
    found = {data.subject.principal.mobile: "subject.principal.mobile"}
    for i, w in enumerate(data.websites):
        if w.principal is not None and not w.principal_same_as_subject:
            found.setdefault(w.principal.mobile, f"websites[{i}].principal.mobile")
    return found


def domain_paths(data: FilingData) -> dict[str, str]:
    """Each domain of the filing → the path of its first occurrence (`websites[i].domains[j]`)."""
    paths: dict[str, str] = {}
    for i, w in enumerate(data.websites):
        for j, d in enumerate(w.domains):
            paths.setdefault(d, f"websites[{i}].domains[{j}]")
    return paths


def rule_keys(data: FilingData) -> dict:
    """What the database rules of DOMAIN §5.10 look up for a filing in canonical form: the subject's
    certificate key, its principal mobiles and its domains (each → its path). The importer seals it
    beside each item, so filing's dry run needs no second parse (services/filing/entry/batch.py)."""
    return {"cert": list(subject_key(data.subject, normalized=True)), "mobiles": principal_mobiles(data),
            "domains": domain_paths(data)}


def masked(data: FilingData) -> dict:
    """The data with every ID number masked, for logs."""
    out = data.model_dump(mode="json")
    out["subject"]["principal"]["id_number"] = v.mask_id_number(out["subject"]["principal"]["id_number"])
    if codes.is_personal_nature(out["subject"]["nature"]):
        out["subject"]["cert_number"] = v.mask_id_number(out["subject"]["cert_number"])
    for w in out["websites"]:
        if w.get("principal"):
            w["principal"]["id_number"] = v.mask_id_number(w["principal"]["id_number"])
    return out


ApplicationType = Literal[
    "FIRST_FILING", "ADD_WEBSITE", "ADD_ACCESS", "CHANGE_SUBJECT", "CHANGE_WEBSITE", "CHANGE_ACCESS", "CANCEL_ACCESS",
    "CANCEL_SUBJECT", "CANCEL_WEBSITE",
]
