"""Phone numbers, e-mail and principal consistency (DOMAIN §4.2, §5.3)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from shared.field_labels import label

from ._text import InvalidValue, normalize_text, require_text

# Permissive default (DOMAIN §5.3 `^1[3-9]\d{9}$`): allowed leading segments of a mobile number.
# A deployment may pass a narrower list, e.g. INSPUR_MOBILE_SEGMENTS.
DEFAULT_MOBILE_SEGMENTS: tuple[str, ...] = ("13", "14", "15", "16", "17", "18", "19")
# S-INSPUR's list `13x,14[579],15[0-35-9],166,17[0135678],18x,19[89]` as prefixes.
INSPUR_MOBILE_SEGMENTS: tuple[str, ...] = (
    "13",
    "145", "147", "149",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "166",
    "170", "171", "173", "175", "176", "177", "178",
    "18",
    "198", "199",
)  # fmt: skip

_MOBILE_RE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_PHONE_SEPARATORS_RE = re.compile(r"[\s-]")  # removed from phone numbers (not ASCII-only: as re.sub had it)
_LANDLINE_RE = re.compile(r"086-0\d{2,3}-\d{7,8}(?:-\d{1,6})?", re.ASCII)
# S-INSPUR e-mail regex (DOMAIN §5.3), ASCII semantics for \w.
_EMAIL_RE = re.compile(r"\w+((-\w+)|(\.\w+))*@[A-Za-z0-9]+((\.|-)[A-Za-z0-9]+)*\.[A-Za-z0-9]+", re.ASCII)
EMAIL_MAX_LEN = 100


def validate_mobile(value: object, segments: Iterable[str] | None = None) -> str:
    """Mainland mobile number (DOMAIN §5.3): 11 digits `^1[3-9]\\d{9}$`.

    Spaces and hyphens inside the number and a leading +86 / 0086 are removed. `segments` is the
    list of allowed leading digit groups (default DEFAULT_MOBILE_SEGMENTS).
    """
    text = _PHONE_SEPARATORS_RE.sub("", require_text(value))
    for country in ("+86", "0086"):
        if text.startswith(country) and len(text) == 11 + len(country):
            text = text[len(country) :]
    if not _MOBILE_RE.fullmatch(text):
        raise InvalidValue("手机号码格式不正确，应为11位中国大陆手机号码")
    allowed = DEFAULT_MOBILE_SEGMENTS if segments is None else tuple(segments)
    if not text.startswith(allowed):
        raise InvalidValue("该手机号段不支持，请更换手机号码")
    return text


def validate_landline(value: object) -> str:
    """Office phone (DOMAIN §4.2, §5.3): `086-<area code>-<number>[-<extension>]`,
    e.g. 086-010-87654321-123."""
    text = require_text(value)
    if not _LANDLINE_RE.fullmatch(text):
        raise InvalidValue("办公电话格式不正确，应为“086-区号-号码[-分机号]”，如 086-010-87654321-123")
    return text


def validate_email(value: object) -> str:
    """E-mail address (DOMAIN §5.3, S-INSPUR regex, ≤ 100 characters); the domain part is lower-cased."""
    text = require_text(value)
    if len(text) > EMAIL_MAX_LEN:
        raise InvalidValue(f"电子邮件地址不能超过{EMAIL_MAX_LEN}个字符")
    if not _EMAIL_RE.fullmatch(text):
        raise InvalidValue("电子邮件地址格式不正确")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


# --------------------------------------------------------------------------------------------
# Principal consistency (DOMAIN §4.2, last paragraph)

# Fields that must be identical when the website principal is the subject principal.
PRINCIPAL_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "id_valid_from",
    "id_valid_to",
    "mobile",
    "office_phone",
    "emergency_phone",
    "email",
    "im_type",
    "im_account",
)
# Fields that must differ when the website principal is a different person.
PRINCIPAL_DISTINCT_FIELDS = ("mobile", "emergency_phone", "email", "id_number")

def _named(field: str) -> str:
    """A principal field's name inside a sentence about the principals: the platform's label without its
    负责人 (the sentence says whose)."""
    return label(f"principal.{field}").removeprefix("负责人")


def _comparable(field: str, value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        text = normalize_text(value)
    except InvalidValue:
        text = str(value)
    if field == "email":
        return text.lower()
    if field == "id_number":
        return text.upper()
    if field in ("mobile", "emergency_phone"):
        return _PHONE_SEPARATORS_RE.sub("", text)
    return text


def principal_consistency_errors(
    subject_principal: Mapping[str, object],
    website_principal: Mapping[str, object],
    same_person: bool | None = None,
) -> list[tuple[str, str]]:
    """Cross-check the website principal against the subject principal (DOMAIN §4.2).

    Same person (explicit flag, or inferred from equal id_type + id_number): every field in
    PRINCIPAL_FIELDS must be identical. Different person: mobile, emergency_phone, email and
    id_number must all differ. Returns [(field of the website principal, message), ...].
    """
    sub = {f: _comparable(f, subject_principal.get(f)) for f in PRINCIPAL_FIELDS}
    web = {f: _comparable(f, website_principal.get(f)) for f in PRINCIPAL_FIELDS}
    if same_person is None:
        same_person = bool(sub["id_number"]) and (sub["id_type"], sub["id_number"]) == (
            web["id_type"],
            web["id_number"],
        )
    errors: list[tuple[str, str]] = []
    if same_person:
        for field in PRINCIPAL_FIELDS:
            if sub[field] != web[field]:
                errors.append((field, f"网站负责人与主体负责人为同一人时，{_named(field)}必须一致"))
    else:
        for field in PRINCIPAL_DISTINCT_FIELDS:
            if web[field] and web[field] == sub[field]:
                errors.append((field, f"网站负责人与主体负责人不是同一人时，{_named(field)}不能相同"))
    return errors


def principal_errors(principal: Mapping[str, object]) -> list[tuple[str, str]]:
    """Checks inside one principal (DOMAIN §4.2, §5.3): the emergency number must differ from the mobile."""
    mobile = _comparable("mobile", principal.get("mobile"))
    emergency = _comparable("emergency_phone", principal.get("emergency_phone"))
    if mobile and mobile == emergency:
        return [("emergency_phone", "应急联系电话不能与手机号码相同")]
    return []
