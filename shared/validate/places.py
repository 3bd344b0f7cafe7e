"""Regions and addresses (DOMAIN §4.1 province/city/county and mail_address, §5.8)."""

from __future__ import annotations

import functools
import re

from shared import codes

from ._text import InvalidValue, clean_text, normalize_text, require_text

ADDRESS_MAX_LEN = 200  # assumed (DOMAIN §4.1)
# Symbols allowed in an address detail besides CJK, letters and digits (assumed small set).
ADDRESS_ALLOWED_SYMBOLS = "()-#·"
_ADDRESS_RE = re.compile(
    r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z0-9" + re.escape(ADDRESS_ALLOWED_SYMBOLS) + r"]+"
)
# Administrative suffixes stripped to also catch a repeated short province name ("北京朝阳区…").
_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _region_code(value: object, what: str) -> str:
    text = require_text(value)
    if codes.region_level(text) is None:
        raise InvalidValue(f"{what}代码应为6位数字（GB/T 2260）")
    return text


def validate_region(
    province: object, city: object, county: object = None, *, filing_only: bool = True
) -> tuple[str, str, str | None]:
    """Province / city / county GB/T 2260 codes (DOMAIN §4.1), structural checks only.

    Province must be `xx0000` of a known province (with a filing bureau when `filing_only`);
    city `xxxx00` inside the province; county (optional) inside the city.
    """
    if type(province) is str and type(city) is str and (county is None or type(county) is str):
        return _known_region(province, city, county, filing_only)
    return _validate_region(province, city, county, filing_only)


# A file or a day of filings names the same few hundred regions again and again; the answer depends on
# the codes only (the code tables never change once read). A refusal raises each time (lru_cache keeps no
# exceptions).
@functools.lru_cache(maxsize=4096)
def _known_region(province: str, city: str, county: str | None, filing_only: bool) -> tuple[str, str, str | None]:
    return _validate_region(province, city, county, filing_only)


def _validate_region(
    province: object, city: object, county: object, filing_only: bool
) -> tuple[str, str, str | None]:
    p = _region_code(province, "省份")
    c = _region_code(city, "城市")
    if codes.region_level(p) != "province":
        raise InvalidValue("省份代码应以0000结尾")
    row = codes.province_by_gb(p)
    if row is None:
        raise InvalidValue("省份代码不存在")
    if filing_only and not row["filing_abbr"]:
        raise InvalidValue(f"{row['name_zh']}不属于备案受理地区")
    if codes.region_level(c) != "city":
        raise InvalidValue("城市代码应以00结尾且不能是省级代码")
    if not codes.region_in(c, p):
        raise InvalidValue("所选城市不属于所选省份")
    k: str | None = None
    if county is not None and county != "":
        k = _region_code(county, "区县")
        if codes.region_level(k) != "county":
            raise InvalidValue("区县代码不能以00结尾")
        if not codes.region_in(k, c):
            raise InvalidValue("所选区县不属于所选城市")
    return p, c, k


@functools.lru_cache(maxsize=1024)  # region names: a few hundred
def _name_variants(name: str | None, strip_suffix: bool) -> tuple[str, ...]:
    if not name:
        return ()
    variants = [name]
    if strip_suffix:
        for suffix in _PROVINCE_SUFFIXES:
            short = name.removesuffix(suffix)
            if short != name and len(short) >= 2:
                variants.append(short)
                break
    return tuple(variants)


def validate_address_detail(
    value: object,
    *,
    province_name: str | None = None,
    city_name: str | None = None,
    county_name: str | None = None,
    max_len: int = ADDRESS_MAX_LEN,
) -> str:
    """Detail part of the mail address (DOMAIN §4.1 mail_address, §5.8).

    Only CJK, letters, digits and the symbols in ADDRESS_ALLOWED_SYMBOLS; ≤ `max_len` characters;
    must not start with the selected province/city/county name (the region is stored separately;
    the province is also matched without its 省/市/自治区 suffix).
    """
    text = clean_text(value)
    if not text:
        raise InvalidValue("不能为空")
    if len(text) > max_len:
        raise InvalidValue(f"长度不能超过{max_len}个字符")
    # The address is kept as typed; its full-width brackets and dashes are the allowed symbols too.
    if not _ADDRESS_RE.fullmatch(normalize_text(text)):
        raise InvalidValue(f"详细地址不能包含空格或符号（仅允许 {ADDRESS_ALLOWED_SYMBOLS}）")
    for name in (
        *_name_variants(province_name, True),
        *_name_variants(city_name, False),
        *_name_variants(county_name, False),
    ):
        if text.startswith(name):
            raise InvalidValue(f"详细地址不需要重复填写所选的省、市、区县（“{name}”）")
    return text
