"""Accounts and login: request/response models and pure rules (no I/O).

Rules (DOMAIN §5.7, seed 1.2, 1.11, 1.12):
- login: username, password, role and captcha must all be non-empty (each missing one is named);
- a sponsor's password is ≥ 6 characters and not all digits; every other role uses the stricter
  provider-user rule (6–12 letters, digits, ".-_", at least one letter and one digit);
- `LOGIN_MAX_FAILURES` failures within `LOGIN_LOCK_MINUTES` lock the account for `LOGIN_LOCK_MINUTES`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from shared import codes
from shared import validate as v
from shared.auth import ROLE_NAMES_ZH, Role
from shared.config import get_settings
from shared.fields import Email, as_pydantic

# ---------------------------------------------------------------- settings (ICP_* variables)

LOGIN_MAX_FAILURES = get_settings().login_max_failures
LOGIN_LOCK_MINUTES = get_settings().login_lock_minutes
CAPTCHA_TTL_SECONDS = get_settings().captcha_ttl_seconds

# ---------------------------------------------------------------- pure rules

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,31}", re.ASCII)
ROLE_LABELS = {"provider": "ICP报备(接入服务商)", "bureau": "管局审核人员", "sponsor": "网站主办者", "admin": "系统管理员"}
LOGIN_FIELDS_ZH = {
    "username": "请输入用户名",
    "password": "请输入密码",
    "role": "请选择登录角色",
    "captcha_id": "请先获取验证码",
    "captcha": "请输入验证码",
}
BAD_CREDENTIALS = "用户名、密码或登录角色不正确"


def validate_username(value: object) -> str:
    """A login name: 3–32 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit."""
    text = v.require_text(value)
    if not USERNAME_RE.fullmatch(text):
        raise v.InvalidValue("用户名应为3至32位字母、数字或“._-”，并以字母或数字开头")
    return text


def password_rule(role: Role | str):
    """The validator of a role's passwords: sponsors use the seed rule, everybody else the provider rule."""
    return v.validate_password if Role(role) == Role.SPONSOR else v.validate_provider_password


def check_new_password(role: Role | str, password: object, *, username: str | None = None) -> str:
    """Validate a password a person chooses for an account of `role` (raises InvalidValue)."""
    value = password_rule(role)(password)
    if username and value.lower() == username.lower():
        raise v.InvalidValue("密码不能与用户名相同")
    return value


def validate_phone(value: object) -> str:
    """A contact phone: a mainland mobile number or an office landline (086-区号-号码[-分机号])."""
    text = v.require_text(value)
    try:
        return v.validate_mobile(text)
    except v.InvalidValue:
        pass
    try:
        return v.validate_landline(text)
    except v.InvalidValue:
        raise v.InvalidValue(
            "联系电话格式不正确，应为11位手机号码或“086-区号-号码[-分机号]”，如 086-010-87654321-123"
        ) from None


def login_field_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    """Every empty login field, each named with a Chinese message (seed 1.2: none may be empty)."""
    errors = []
    for name, message in LOGIN_FIELDS_ZH.items():
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append({"field": name, "message": message})
    role = data.get("role")
    if isinstance(role, str) and role.strip() and role.strip() not in {r.value for r in Role}:
        errors.append({"field": "role", "message": "登录角色无效，可选：provider、bureau、sponsor、admin"})
    return errors


def captcha_digest(secret: str, captcha_id: str, answer: str) -> str:
    """Keyed hash of a captcha answer (case-insensitive, surrounding spaces ignored)."""
    text = f"{captcha_id}:{answer.strip().upper()}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def captcha_matches(secret: str, captcha_id: str, answer: str, stored: str) -> bool:
    return hmac.compare_digest(captcha_digest(secret, captcha_id, answer), stored)


def after_failure(
    failed_logins: int, now: dt.datetime, *, failed_since: dt.datetime | None = None,
    max_failures: int = LOGIN_MAX_FAILURES, lock_minutes: int = LOGIN_LOCK_MINUTES,
) -> tuple[int, dt.datetime | None]:
    """(failed_logins, locked_until) after one more failed attempt. Failures count within
    `lock_minutes` of the first one of the run (`failed_since`; an older run starts again at 1).
    Reaching the limit locks the account and resets the counter, so the next lock again needs
    `max_failures` failures. The same rule counts names that are no account (no existence leak)."""
    if failed_since is not None and failed_since <= now - dt.timedelta(minutes=lock_minutes):
        failed_logins = 0
    failed = failed_logins + 1
    if failed >= max_failures:
        return 0, now + dt.timedelta(minutes=lock_minutes)
    return failed, None


def is_locked(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    return locked_until is not None and locked_until > now


CHINA_TZ = dt.timezone(dt.timedelta(hours=8))


def locked_message(locked_until: dt.datetime, *, just_locked: bool = False, max_failures: int = LOGIN_MAX_FAILURES) -> str:
    when = locked_until.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    head = f"连续{max_failures}次登录失败，" if just_locked else ""
    return f"{head}账户已被锁定，请于 {when}（北京时间）后再试"


def cookie_secure(env: str) -> bool:
    """The session cookie is `Secure` everywhere except local development and tests (plain HTTP)."""
    return env not in ("dev", "test")


# ---------------------------------------------------------------- models: login

RoleName = Literal["provider", "bureau", "sponsor", "admin"]


class CaptchaOut(BaseModel):
    captcha_id: str = Field(description="验证码标识，登录时原样提交")
    image: str = Field(description="验证码图片（PNG 的 data: URL）")
    expires_in: int = Field(description="有效期（秒）")
    answer: str | None = Field(None, description="仅测试环境（ICP_ENV=test）且请求 test_answer=1 时返回的答案")


class CaptchaQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_answer: bool = Field(False, description="仅测试环境有效：在响应中附带答案")


class LoginIn(BaseModel):
    """Every field is optional at the type level so that each empty one is named in Chinese."""

    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(None, max_length=64, description="用户名")
    password: str | None = Field(None, max_length=128, description="密码")
    role: str | None = Field(None, max_length=16, description="登录角色：provider（ICP报备(接入服务商)）、bureau、sponsor、admin")
    captcha_id: str | None = Field(None, max_length=64, description="验证码标识（GET /captcha 返回）")
    captcha: str | None = Field(None, max_length=16, description="验证码（不区分大小写）")


class UserOut(BaseModel):
    id: str = Field(description="用户标识")
    username: str = Field(description="用户名")
    role: RoleName = Field(description="角色")
    role_name: str = Field(description="角色中文名")
    display_name: str = Field(description="姓名/名称")
    phone: str | None = Field(None, description="联系电话")
    email: str | None = Field(None, description="电子邮件")
    provider_id: str | None = Field(None, description="所属接入服务提供者")
    provider_name: str | None = Field(None, description="所属接入服务提供者名称")
    province: str | None = Field(None, description="所属省份代码（管局审核人员）")
    province_name: str | None = Field(None, description="所属省份名称")
    disabled: bool = Field(False, description="是否已停用")
    locked_until: dt.datetime | None = Field(None, description="锁定截止时间")
    password_changed_at: dt.datetime | None = Field(None, description="最近修改密码时间")
    last_login_at: dt.datetime | None = Field(None, description="最近登录时间")
    created_at: dt.datetime | None = Field(None, description="创建时间")


class LoginOut(BaseModel):
    token: str = Field(description="会话令牌（Authorization: Bearer …），同时以 HttpOnly Cookie icp_session 下发")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: dt.datetime = Field(description="会话到期时间")
    user: UserOut


# ---------------------------------------------------------------- models: me

def _display_name(value: object) -> str:
    return v.require_text(value, max_len=50, min_len=2)


Phone = Annotated[str, BeforeValidator(as_pydantic(validate_phone))]
DisplayName = Annotated[str, BeforeValidator(as_pydantic(_display_name))]
Username = Annotated[str, BeforeValidator(as_pydantic(validate_username))]


class ProfilePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = Field(None, description="姓名/名称（2至50个字符）")
    phone: Phone | None = Field(None, description="联系电话：手机号码或“086-区号-号码[-分机号]”；null 清空")
    email: Email | None = Field(None, description="电子邮件；null 清空")

    @model_validator(mode="after")
    def _name_not_cleared(self):
        if "display_name" in self.model_fields_set and self.display_name is None:
            raise ValueError("姓名不能清空")
        return self


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old_password: str = Field(min_length=1, max_length=128, description="原密码")
    new_password: str = Field(min_length=1, max_length=128, description="新密码（规则见角色：接入服务商等为6至12位字母数字且兼有字母和数字；主办者至少6位且不能全为数字）")


class PasswordChanged(BaseModel):
    detail: str = Field(description="结果说明")
    revoked_sessions: int = Field(description="因修改密码而注销的其他会话数")


# ---------------------------------------------------------------- models: admin user management


class UserCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # no stripping: spaces in a password are significant

    role: Literal["provider", "bureau", "admin"] = Field(description="角色：provider 接入服务商操作员，bureau 管局审核人员，admin 管理员")
    username: Username = Field(description="用户名（3至32位字母、数字或“._-”）")
    password: str | None = Field(None, max_length=128, description="初始密码（与 generate_password 二选一）")
    generate_password: bool = Field(False, description="由系统生成随机初始密码（仅在本次响应中显示一次）")
    display_name: DisplayName | None = Field(None, description="姓名/名称；缺省为用户名")
    provider_id: str | None = Field(None, max_length=40, description="所属接入服务提供者（role=provider 时必填）")
    province: str | None = Field(None, max_length=4, description="所属省份代码（role=bureau 时必填，如 BJ）")
    phone: Phone | None = Field(None, description="联系电话")
    email: Email | None = Field(None, description="电子邮件")



def user_create_errors(cmd: UserCreateIn) -> list[dict[str, str]]:
    """Field errors of an account-creation request that depend on several fields."""
    errors: list[dict[str, str]] = []
    if cmd.generate_password and cmd.password:
        errors.append({"field": "password", "message": "指定初始密码与生成随机密码只能二选一"})
    elif not cmd.generate_password and not cmd.password:
        errors.append({"field": "password", "message": "请指定初始密码，或选择生成随机密码"})
    elif cmd.password:
        try:
            check_new_password(cmd.role, cmd.password, username=cmd.username)
        except v.InvalidValue as e:
            errors.append({"field": "password", "message": e.message})
    if cmd.role == "provider":
        if not cmd.provider_id:
            errors.append({"field": "provider_id", "message": "接入服务商操作员须指定所属接入服务提供者"})
    elif cmd.provider_id:
        errors.append({"field": "provider_id", "message": "仅接入服务商操作员可指定所属接入服务提供者"})
    if cmd.role == "bureau":
        if not cmd.province:
            errors.append({"field": "province", "message": "管局审核人员须指定所属省份"})
        elif not any(p["code"] == cmd.province for p in codes.filing_provinces()):
            errors.append({"field": "province", "message": f"省份代码 {cmd.province} 不存在或无备案管局"})
    elif cmd.province:
        errors.append({"field": "province", "message": "仅管局审核人员可指定所属省份"})
    return errors


class UserCreated(BaseModel):
    user: UserOut
    password: str | None = Field(None, description="系统生成的初始密码（仅显示这一次）")


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName | None = Field(None, description="按角色筛选")
    provider_id: str | None = Field(None, max_length=40, description="按接入服务提供者筛选")
    province: str | None = Field(None, max_length=4, description="按省份筛选")
    q: str | None = Field(None, max_length=64, description="用户名或姓名包含")
    page: int = Field(1, ge=1, description="页码（从1开始）")
    page_size: int = Field(20, ge=1, le=200, description="每页条数（1至200）")


class UserList(BaseModel):
    items: list[UserOut]
    total: int = Field(description="总条数")
    page: int
    page_size: int


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disabled: bool | None = Field(None, description="停用（true）或启用（false）账户；停用即注销其全部会话")
    unlock: bool | None = Field(None, description="true：解除登录失败锁定")


def user_out(row: Any) -> UserOut:
    """A `users` row (joined with the provider name) as the API shows it; never the hash."""
    role = Role(row["role"])
    province = row["province"]
    return UserOut(
        id=str(row["id"]),
        username=row["username"],
        role=role.value,
        role_name=ROLE_NAMES_ZH[role],
        display_name=row["display_name"],
        phone=row["phone"],
        email=row["email"],
        provider_id=row["provider_id"],
        provider_name=_get(row, "provider_name"),
        province=province,
        province_name=codes.name_zh("provinces", province) if province else None,
        disabled=row["disabled"],
        locked_until=row["locked_until"],
        password_changed_at=row["password_changed_at"],
        last_login_at=_get(row, "last_login_at"),
        created_at=row["created_at"],
    )


def _get(row: Any, key: str) -> Any:
    try:
        return row[key]
    except (KeyError, IndexError):
        return None
