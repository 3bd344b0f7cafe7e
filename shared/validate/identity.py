"""Identity and certificate numbers (DOMAIN §5.1, §5.2, §4.1 cert_number, §4.2 id_number)."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from operator import mul

from ._text import InvalidValue, normalize_text, require_text

# --------------------------------------------------------------------------------------------
# Resident identity number, GB 11643-1999 (DOMAIN §5.1)

# W_i = 2^(18-i) mod 11 for positions i = 1..17 -> 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
RESIDENT_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RESIDENT_ID_CHECK = "10X98765432"
_RESIDENT_ID_RE = re.compile(
    r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9X]", re.ASCII
)
_RESIDENT_ID_SHAPE_RE = re.compile(r"\d{17}[\dX]", re.ASCII)
# Assumed lower bound of the birth year (DOMAIN §5.1); the regex itself admits 18xx.
MIN_BIRTH_YEAR = 1900
_RESIDENT_ID_WEIGHT_SUM = sum(RESIDENT_ID_WEIGHTS)


def resident_id_check_char(first17: str) -> str:
    """Check character for the first 17 digits of a resident ID (GB 11643, DOMAIN §5.1)."""
    total = sum(int(ch) * w for ch, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def _resident_id_check_char(first17: str) -> str:
    """`resident_id_check_char` of 17 ASCII digits (the validators' shape check passed): weighted over the
    code points, less 48 (the code point of "0") per unit of weight."""
    total = sum(map(mul, first17.encode("ascii"), RESIDENT_ID_WEIGHTS)) - 48 * _RESIDENT_ID_WEIGHT_SUM
    return _RESIDENT_ID_CHECK[total % 11]


def validate_resident_id(
    value: object,
    *,
    today: dt.date | None = None,
    min_birth_year: int = MIN_BIRTH_YEAR,
) -> str:
    """18-character resident identity number, GB 11643-1999 (DOMAIN §5.1).

    Upper-cases a trailing x; rejects 15-digit first-generation numbers, impossible or future
    birth dates, birth years before `min_birth_year` and a wrong check character.
    """
    text = require_text(value).upper()
    if len(text) == 15 and text.isascii() and text.isdigit():
        raise InvalidValue("不支持15位旧版身份证号码，请填写18位身份证号码")
    if len(text) != 18:
        raise InvalidValue("身份证号码应为18位")
    if not _RESIDENT_ID_SHAPE_RE.fullmatch(text):
        raise InvalidValue("身份证号码前17位应为数字，最后一位应为数字或X")
    if not _RESIDENT_ID_RE.fullmatch(text):
        if text[0] == "0":
            raise InvalidValue("身份证号码的地区码不正确")
        raise InvalidValue("身份证号码中的出生日期无效")
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise InvalidValue("身份证号码中的出生日期无效") from None
    if birth > (today or dt.date.today()):
        raise InvalidValue("身份证号码中的出生日期不能晚于今天")
    if birth.year < min_birth_year:
        raise InvalidValue(f"身份证号码中的出生年份不能早于{min_birth_year}年")
    if _resident_id_check_char(text[:17]) != text[17]:
        raise InvalidValue("身份证号码校验位不正确，请核对")
    return text


def mask_id_number(value: object) -> str:
    """Mask a certificate/ID number for logs and messages: first 6 and last 4 characters kept for
    18-character numbers (`110105********002X`); shorter numbers keep proportionally less."""
    try:
        text = normalize_text(value)
    except InvalidValue:
        return "***"
    n = len(text)
    head, tail = min(6, n // 3), min(4, n // 4)
    return text[:head] + "*" * (n - head - tail) + text[n - tail :] if tail else "*" * n


# --------------------------------------------------------------------------------------------
# Unified Social Credit Code, GB 32100-2015 (DOMAIN §5.2)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# W_i = 3^(i-1) mod 31 -> 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}", re.ASCII)
# Registration authority codes (position 1).
USCC_AUTHORITIES = frozenset("123456789ANY")

# Organisation code, GB 11714: weights for the 8 body characters; values 0-9, A=10 … Z=35.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CODE_RE = re.compile(r"([0-9A-Z]{8})-?([0-9X])", re.ASCII)


_USCC_VALUES = {ch: i for i, ch in enumerate(USCC_CHARSET)}
_BASE36_VALUES = {ch: int(ch, 36) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _uscc_check_char(first17: str) -> str:
    """`uscc_check_char` of 17 characters of the USCC set (`_USCC_RE` matched): table look-ups."""
    c = 31 - sum(map(mul, map(_USCC_VALUES.__getitem__, first17), USCC_WEIGHTS)) % 31
    return USCC_CHARSET[0 if c == 31 else c]


def _org_code_check_char(body8: str) -> str:
    """`org_code_check_char` of 8 characters 0-9, A-Z (a matched USCC or organisation code)."""
    c = 11 - sum(map(mul, map(_BASE36_VALUES.__getitem__, body8), ORG_CODE_WEIGHTS)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_check_char(first17: str) -> str:
    """Check character of a USCC (DOMAIN §5.2), including the c == 31 -> 0 edge case."""
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    c = 31 - total % 31
    return USCC_CHARSET[0 if c == 31 else c]


def org_code_check_char(body8: str) -> str:
    """Check character of an organisation code body (8 chars), GB 11714 (DOMAIN §5.2)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def check_uscc(value: object) -> tuple[str, list[str]]:
    """USCC with warnings (DOMAIN §5.2): returns (normalised code, warnings).

    Hard errors (InvalidValue): empty, not 18 characters, characters outside the USCC set,
    unknown registration authority, wrong check character. Warning: the embedded organisation
    code (positions 9-17) fails its GB 11714 check.
    """
    text = require_text(value).upper()
    if len(text) != 18:
        raise InvalidValue("统一社会信用代码应为18位")
    if not _USCC_RE.fullmatch(text):
        raise InvalidValue("统一社会信用代码包含无效字符（不使用字母I、O、S、V、Z，第3至8位应为数字）")
    if text[0] not in USCC_AUTHORITIES:
        raise InvalidValue("统一社会信用代码第1位（登记管理部门代码）无效")
    if _uscc_check_char(text[:17]) != text[17]:
        raise InvalidValue("统一社会信用代码校验位不正确，请核对")
    warnings: list[str] = []
    if _org_code_check_char(text[8:16]) != text[16]:
        warnings.append("统一社会信用代码中的组织机构代码（第9至17位）校验不通过，请核对")
    return text, warnings


def validate_uscc(value: object) -> str:
    """USCC, raising only on hard errors (DOMAIN §5.2); see `check_uscc` for the warnings."""
    return check_uscc(value)[0]


def validate_org_code(value: object) -> str:
    """9-character organisation code, GB 11714 (DOMAIN §5.2), with or without the hyphen.

    Returns the printed form `XXXXXXXX-X`.
    """
    text = require_text(value).upper()
    match = _ORG_CODE_RE.fullmatch(text)
    if not match:
        raise InvalidValue("组织机构代码应为8位数字或大写字母加1位校验码，如 12345678-9")
    body, check = match.groups()
    if _org_code_check_char(body) != check:
        raise InvalidValue("组织机构代码校验位不正确，请核对")
    return f"{body}-{check}"


# --------------------------------------------------------------------------------------------
# Legacy business registration number (工商注册号, 15 digits, GS 15-2006; DOMAIN §5.2)


def business_reg_no_checksum_ok(number: str) -> bool:
    """ISO 7064 MOD 11,10 check of a 15-digit registration number."""
    p = 10
    for ch in number[:14]:
        s = p % 11 + int(ch)
        p = (s % 10 or 10) * 2
    return (p % 11 + int(number[14])) % 10 == 1


def check_business_reg_no(value: object) -> tuple[str, list[str]]:
    """15-digit registration number: format is a hard error, the check digit only a warning
    (DOMAIN §5.2 "accept as a warning-level check")."""
    text = require_text(value)
    if not re.fullmatch(r"\d{15}", text, re.ASCII):
        raise InvalidValue("工商注册号应为15位数字")
    if not business_reg_no_checksum_ok(text):
        return text, ["15位工商注册号校验位不正确，请核对"]
    return text, []


def validate_business_reg_no(value: object) -> str:
    """15-digit registration number, raising only on format errors."""
    return check_business_reg_no(value)[0]


# --------------------------------------------------------------------------------------------
# Certificate / ID number dispatcher (number_rule columns of certificate_types.csv and id_types.csv)


class NumberRule(StrEnum):
    USCC = "USCC"
    USCC_OR_REG_NO = "USCC_OR_REG_NO"  # BIZ_LICENSE
    ORG_CODE_OR_USCC = "ORG_CODE_OR_USCC"  # ORG_CODE_*: old certificate or its USCC successor
    RESIDENT_ID = "RESIDENT_ID"
    HKMO_RESIDENCE_PERMIT = "HKMO_RESIDENCE_PERMIT"
    TW_RESIDENCE_PERMIT = "TW_RESIDENCE_PERMIT"
    PASSPORT = "PASSPORT"
    TW_TRAVEL_PERMIT = "TW_TRAVEL_PERMIT"
    HKMO_TRAVEL_PERMIT = "HKMO_TRAVEL_PERMIT"
    FOREIGN_PERMANENT_RESIDENT_ID = "FOREIGN_PERMANENT_RESIDENT_ID"
    FREE_TEXT = "FREE_TEXT"


FREE_TEXT_MAX_LEN = 50  # DOMAIN §4.1 cert_number "string ≤ 50 (assumed)"

# code -> (rule, typical USCC prefix used for a warning hint or None). Kept explicit rather than
# parsed from the prose `number_rule` column; tests check every code of both tables is covered.
_O, _U, _F = NumberRule.ORG_CODE_OR_USCC, NumberRule.USCC, NumberRule.FREE_TEXT
CERT_NUMBER_RULES: dict[str, tuple[NumberRule, str | None]] = {
    "BIZ_LICENSE": (NumberRule.USCC_OR_REG_NO, None),
    "ORG_CODE_ENTERPRISE": (_O, None),
    "ORG_CODE_LAW_FIRM": (_O, None),
    "ORG_CODE_GOVERNMENT": (_O, None),
    "ORG_CODE_INSTITUTION": (_O, None),
    "ORG_CODE_SOCIAL_GROUP": (_O, None),
    "ORG_CODE_PRIVATE_NON_ENT": (_O, None),
    "ORG_CODE_FOUNDATION": (_O, None),
    "USCC_MASS_ORG": (_U, None),
    "USCC_GOVERNMENT": (_U, "11"),
    "USCC_INSTITUTION": (_U, None),
    "RURAL_COLLECTIVE_REG": (_U, "N"),
    "FOREIGN_ENT_REP_OFFICE": (_F, None),
    "LAW_FIRM_LICENSE": (_F, "31"),
    "FOREIGN_CULTURAL_CENTER_REG": (_F, None),
    "FOREIGN_TOURISM_OFFICE_REG": (_F, None),
    "EMBASSY_CHILDREN_SCHOOL_LICENSE": (_F, None),
    "JUDICIAL_EXPERTISE_LICENSE": (_F, None),
    "RELIGIOUS_VENUE_REG": (_F, None),
    "OVERSEAS_ORG_CERT": (_F, None),
    "MEDICAL_INSTITUTION_LICENSE": (_F, None),
    "NOTARY_LICENSE": (_F, None),
    "MILITARY_UNIT_CODE": (_F, None),
    "MILITARY_PAID_SERVICE_LICENSE": (_F, None),
    "INSTITUTION_LEGAL_PERSON_CERT": (_F, "12"),
    "SOCIAL_GROUP_LEGAL_PERSON_CERT": (_F, "51"),
    "PRIVATE_NON_ENT_REG": (_F, "52"),
    "SOCIAL_SERVICE_ORG_REG": (_F, None),
    "PRIVATE_SCHOOL_LICENSE": (_F, None),
    "ARBITRATION_COMMISSION_REG": (_F, None),
    "FOUNDATION_LEGAL_PERSON_CERT": (_F, "53"),
    # Person-type documents (id_types.csv; also the PERSONAL rows of certificate_types.csv, for
    # which the id_types rules apply).
    "RESIDENT_ID": (NumberRule.RESIDENT_ID, None),
    "PASSPORT": (NumberRule.PASSPORT, None),
    "TW_TRAVEL_PERMIT": (NumberRule.TW_TRAVEL_PERMIT, None),
    "HKMO_TRAVEL_PERMIT": (NumberRule.HKMO_TRAVEL_PERMIT, None),
    "FOREIGN_PERMANENT_RESIDENT_ID": (NumberRule.FOREIGN_PERMANENT_RESIDENT_ID, None),
    "HKMO_RESIDENCE_PERMIT": (NumberRule.HKMO_RESIDENCE_PERMIT, None),
    "TW_RESIDENCE_PERMIT": (NumberRule.TW_RESIDENCE_PERMIT, None),
    "MILITARY_OFFICER_ID": (_F, None),
}
del _O, _U, _F

# Codes of id_types.csv (person-type documents allowed for principals, DOMAIN §4.2).
PERSON_ID_TYPES = frozenset(
    {
        "RESIDENT_ID",
        "PASSPORT",
        "TW_TRAVEL_PERMIT",
        "HKMO_TRAVEL_PERMIT",
        "FOREIGN_PERMANENT_RESIDENT_ID",
        "HKMO_RESIDENCE_PERMIT",
        "TW_RESIDENCE_PERMIT",
        "MILITARY_OFFICER_ID",
    }
)

# Assumed formats from id_types.csv number_rule: (regex, message).
_SIMPLE_ID_RULES: dict[NumberRule, tuple[re.Pattern[str], str]] = {
    NumberRule.PASSPORT: (re.compile(r"[A-Z0-9]{5,20}", re.ASCII), "护照号码应为5至20位字母或数字"),
    NumberRule.TW_TRAVEL_PERMIT: (
        re.compile(r"\d{8}|[A-Z0-9]{10}", re.ASCII),
        "台湾居民来往大陆通行证号码应为8位数字（旧版为10位）",
    ),
    NumberRule.HKMO_TRAVEL_PERMIT: (
        # H/M + 8 digits is current; H/M + 10 digits older permits (assumed).
        re.compile(r"[HM]\d{8}(?:\d{2})?", re.ASCII),
        "港澳居民来往内地通行证号码应为H或M加8位数字",
    ),
    NumberRule.FOREIGN_PERMANENT_RESIDENT_ID: (
        re.compile(r"[A-Z]{3}\d{12}|9\d{16}[\dX]", re.ASCII),
        "外国人永久居留身份证号码应为3位字母加12位数字，或以9开头的18位号码",
    ),
}


def _uscc_prefix_hint(number: str, prefix: str | None) -> list[str]:
    if prefix and not number.startswith(prefix):
        return [f"该证件的统一社会信用代码通常以{prefix}开头，请核对"]
    return []


def check_cert_number(cert_type: str, number: object) -> tuple[str, list[str]]:
    """Validate a certificate number for its type (DOMAIN §4.1 cert_number, §5.1, §5.2).

    Returns (normalised number, warnings); raises InvalidValue on hard errors. Rules by type:
    BIZ_LICENSE: USCC or 15-digit registration number; ORG_CODE_*: organisation code or USCC;
    USCC_*: USCC; RESIDENT_ID and residence permits: GB 11643; passports/permits: the assumed
    formats of id_types.csv; everything else free text (non-empty, ≤ 50 characters).
    """
    try:
        rule, prefix = CERT_NUMBER_RULES[cert_type]
    except (KeyError, TypeError):
        raise InvalidValue("不支持的证件类型") from None
    text = require_text(number, max_len=FREE_TEXT_MAX_LEN)
    if rule is NumberRule.FREE_TEXT:
        warnings: list[str] = []
        upper = text.upper()
        if prefix and len(upper) == 18 and _USCC_RE.fullmatch(upper):
            # Looks like a USCC: help the user catch typos without rejecting.
            try:
                _, warnings = check_uscc(upper)
            except InvalidValue as exc:
                warnings = [f"证件号码看起来是统一社会信用代码，但{exc.message}"]
        return text, warnings
    if rule is NumberRule.USCC:
        code, warnings = check_uscc(text)
        return code, warnings + _uscc_prefix_hint(code, prefix)
    if rule is NumberRule.USCC_OR_REG_NO:
        if len(text) == 18:
            return check_uscc(text)
        if len(text) == 15:
            return check_business_reg_no(text)
        raise InvalidValue("营业执照号码应为18位统一社会信用代码或15位工商注册号")
    if rule is NumberRule.ORG_CODE_OR_USCC:
        if len(text) == 18:
            return check_uscc(text)
        if len(text) in (9, 10):
            return validate_org_code(text), []
        raise InvalidValue("组织机构代码应为9位（如 12345678-9），或填写18位统一社会信用代码")
    if rule is NumberRule.RESIDENT_ID:
        return validate_resident_id(text), []
    if rule is NumberRule.HKMO_RESIDENCE_PERMIT:
        result = validate_resident_id(text)
        if result[:6] not in ("810000", "820000"):
            raise InvalidValue("港澳居民居住证号码应以810000或820000开头")
        return result, []
    if rule is NumberRule.TW_RESIDENCE_PERMIT:
        result = validate_resident_id(text)
        if result[:6] != "830000":
            raise InvalidValue("台湾居民居住证号码应以830000开头")
        return result, []
    pattern, message = _SIMPLE_ID_RULES[rule]
    upper = text.upper()
    if not pattern.fullmatch(upper):
        raise InvalidValue(message)
    return upper, []


def validate_cert_number(cert_type: str, number: object) -> str:
    """Certificate number of a subject, raising only on hard errors (see `check_cert_number`)."""
    return check_cert_number(cert_type, number)[0]


def validate_id_number(id_type: str, number: object) -> str:
    """ID document number of a principal (DOMAIN §4.2): only person-type documents (id_types)."""
    if id_type not in PERSON_ID_TYPES:
        raise InvalidValue("负责人证件类型必须是个人证件")
    return check_cert_number(id_type, number)[0]
