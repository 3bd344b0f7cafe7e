"""Filing numbers (备案号) and licence numbers (DOMAIN §6.1, §6.2)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from shared import codes

from ._text import InvalidValue, require_text

FilingKind = Literal["ICP备", "ICP证", "B2"]
SERVICE_SUFFIXES = ("", "A", "X", "K")  # website, App, mini-program, quick app

_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"})


@functools.cache
def _number_re() -> re.Pattern[str]:
    abbrs = "|".join(map(re.escape, codes.filing_abbreviations(include_alt=True)))
    service = r"(?:-(?P<seq>[1-9]\d*)(?P<suffix>[AXK]?))?"
    return re.compile(
        rf"(?P<abbr>{abbrs})(?:"
        rf"(?P<kind>ICP备)(?P<digits>\d{{6}}|\d{{8}}|\d{{10}})号"
        rf"|(?P<kind_lic>ICP证)(?P<digits_lic>\d{{6,10}})号"
        rf"|(?P<kind_b2>B2)-(?P<digits_b2>\d{{8}})"
        rf"){service}"
    )


@dataclass(frozen=True)
class FilingNumber:
    """A parsed filing / licence number, e.g. 蜀ICP备2026000123号-2A.

    province_abbr is the abbreviation as written (may be an alternative such as 川); canonical_abbr
    the current one (蜀); province_code the provinces.csv code (SC).
    """

    province_abbr: str
    canonical_abbr: str
    province_code: str
    kind: FilingKind
    digits: str
    website_seq: int | None = None
    suffix: str = ""

    @property
    def subject_number(self) -> str:
        """The subject part, as written (without `-n`)."""
        if self.kind == "B2":
            return f"{self.province_abbr}B2-{self.digits}"
        return f"{self.province_abbr}{self.kind}{self.digits}号"

    @property
    def is_website(self) -> bool:
        return self.website_seq is not None

    def __str__(self) -> str:
        if self.website_seq is None:
            return self.subject_number
        return f"{self.subject_number}-{self.website_seq}{self.suffix}"


def parse_filing_number(value: object) -> FilingNumber:
    """Parse a subject or website filing number (DOMAIN §6.1).

    Accepts `<abbr>ICP备<6|8|10 digits>号[-n[A|X|K]]`, licence numbers `<abbr>ICP证<6-10 digits>号`
    and `<abbr>B2-<8 digits>[-n[A|X|K]]`; abbreviations from provinces.csv incl. filing_abbr_alt.
    Internal spaces are ignored; full-width characters and dash variants are normalised.
    """
    text = re.sub(r"\s+", "", require_text(value)).translate(_DASHES)
    text = text.replace("icp", "ICP").replace("b2-", "B2-")
    if text[-1:] in ("a", "x", "k"):
        text = text[:-1] + text[-1].upper()
    match = _number_re().fullmatch(text)
    if not match:
        raise InvalidValue("备案号格式不正确，应类似“京ICP备12345678号”或“京ICP备12345678号-1”")
    abbr = match["abbr"]
    province = codes.province_by_filing_abbr(abbr)
    assert province is not None  # the regex only admits known abbreviations
    kind: FilingKind = match["kind"] or match["kind_lic"] or "B2"
    seq = match["seq"]
    return FilingNumber(
        province_abbr=abbr,
        canonical_abbr=province["filing_abbr"],
        province_code=province["code"],
        kind=kind,
        digits=match["digits"] or match["digits_lic"] or match["digits_b2"],
        website_seq=int(seq) if seq else None,
        suffix=match["suffix"] or "",
    )


def validate_filing_number(value: object, *, website: bool | None = None) -> str:
    """A filing number in normalised text form; `website=True/False` requires a website/subject number."""
    number = parse_filing_number(value)
    if website is True and not number.is_website:
        raise InvalidValue("应为网站备案号（主体备案号后加“-序号”）")
    if website is False and number.is_website:
        raise InvalidValue("应为主体备案号（不带“-序号”）")
    return str(number)


def _primary_abbr(abbr: str) -> str:
    province = codes.province_by_filing_abbr(abbr) or codes.get("provinces", abbr)
    if province is None or not province["filing_abbr"]:
        raise InvalidValue(f"未知的省份简称“{abbr}”")
    return province["filing_abbr"]


def format_subject_number(abbr: str, year: int, seq: int) -> str:
    """New subject number (DOMAIN §6.2): abbr + 'ICP备' + YYYY + 6-digit sequence + '号',
    e.g. ('京', 2026, 123) -> 京ICP备2026000123号. `abbr` may be an alternative abbreviation or a
    provinces.csv code ('BJ'); the current abbreviation is always used."""
    if not 1000 <= year <= 9999:
        raise InvalidValue("年份应为4位数字")
    if not 1 <= seq <= 999_999:
        raise InvalidValue("序号应在1至999999之间")
    return f"{_primary_abbr(abbr)}ICP备{year:04d}{seq:06d}号"


def format_website_number(subject_no: str, n: int, suffix: str = "") -> str:
    """Website/service number: subject number + '-n' + suffix ('' website, 'A' App, 'X'
    mini-program, 'K' quick app), e.g. 京ICP备2026000123号-1 (DOMAIN §6.1)."""
    subject = parse_filing_number(subject_no)
    if subject.is_website:
        raise InvalidValue("应为主体备案号（不带“-序号”）")
    if subject.kind == "ICP证":
        raise InvalidValue("许可证号下的服务编号应基于B2许可证号")
    if n < 1:
        raise InvalidValue("网站序号应从1开始")
    if suffix not in SERVICE_SUFFIXES:
        raise InvalidValue("服务类型后缀只能是A、X或K")
    return f"{subject.subject_number}-{n}{suffix}"
