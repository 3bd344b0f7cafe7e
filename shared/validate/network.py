"""Domain names, home-page URLs and IP ranges (DOMAIN §4.3, §4.4, §5.4, §5.5)."""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import idna
from publicsuffixlist import PublicSuffixList

from ._text import InvalidValue, require_text

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# MIIT-approved TLDs (DOMAIN §5.4 item 5): the 2019 Beijing snapshot published by Tencent (S-QC).
# ".中文域名" in that list stands for the Chinese-script TLDs; 公司/网络/网址 are assumed members.
# Keep configurable: validators take `approved_tlds`.
_APPROVED_TLD_LABELS = (
    "com", "cn", "net", "中国", "公司", "网络", "网址",
    "wang", "ren", "xin", "shop", "ltd", "vip", "ink", "club", "site", "biz", "fun", "online",
    "store", "tech", "work", "law", "art", "love", "xyz", "group", "center", "chat", "city",
    "company", "cool", "email", "fund", "gold", "guru", "pub", "run", "show", "social", "team",
    "today", "video", "world", "zone", "life", "live", "plus", "info", "pro", "auto", "co",
    "cloud", "fashion", "fit", "host", "link", "luxe", "mobi", "press", "space", "top",
    "website", "yoga", "cc", "tv", "icu", "tel",
)  # fmt: skip
# Stored as A-labels ('中国' -> 'xn--fiqs8s').
APPROVED_TLDS: frozenset[str] = frozenset(idna.encode(t).decode() for t in _APPROVED_TLD_LABELS)

DOMAIN_MAX_LEN = 253
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL, re.ASCII)
# Every label of a host at once: a host it matches and without "--" passes `_check_labels` (the common
# case, one regex instead of a loop over the labels).
_HOST_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.ASCII)
_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*://", re.ASCII | re.IGNORECASE)


@dataclass(frozen=True)
class Domain:
    """A validated domain: `ascii` is the A-label form (compare/de-duplicate on it), `unicode` the
    display form (equal to `ascii` for non-IDN names)."""

    ascii: str
    unicode: str

    def __str__(self) -> str:
        return self.ascii


@functools.cache
def _psl() -> PublicSuffixList:
    # The PSL bundled with the package, ICANN section only; unknown TLDs are not public suffixes.
    return PublicSuffixList(only_icann=True, accept_unknown=False)


_NOT_IPV4 = re.compile(r"[^0-9.]")


def _is_ip(host: str) -> bool:
    host = host.strip("[]")
    if ":" not in host and _NOT_IPV4.search(host):
        return False  # an IPv6 address has a colon, an IPv4 one only digits and dots (the common case: a name)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# Memoised: a filing's domain is converted again for each of its home URLs (`validate_home_url`'s filed
# domains) after its field validator converted it. Pure (the answer depends on `host` only); a refused
# host raises each time, as lru_cache keeps no exceptions.
@functools.lru_cache(maxsize=4096)
def _to_alabel(host: str) -> str:
    """Lower-case A-label form of a host name, with label syntax checks (DOMAIN §5.4 items 2-3)."""
    if not host:
        raise InvalidValue("不能为空")
    if _is_ip(host):
        raise InvalidValue("不能填写IP地址，请填写域名")
    try:
        ascii_host = host.lower() if host.isascii() else idna.encode(host, uts46=True).decode()
    except idna.IDNAError:
        raise InvalidValue("域名格式不正确") from None
    if len(ascii_host) > DOMAIN_MAX_LEN:
        raise InvalidValue(f"域名总长度不能超过{DOMAIN_MAX_LEN}个字符")
    if "--" in ascii_host or _HOST_RE.fullmatch(ascii_host) is None:
        _check_labels(ascii_host)  # a label to decode (xn--) or to refuse, with the reason
    return ascii_host


def _check_labels(ascii_host: str) -> None:
    """Each label's syntax (DOMAIN §5.4 items 2-3); raises with the first fault found."""
    for label in ascii_host.split("."):
        if not label:
            raise InvalidValue("域名格式不正确（包含空的标签）")
        if len(label) > 63:
            raise InvalidValue("域名每一级不能超过63个字符")
        if not _LABEL_RE.fullmatch(label):
            raise InvalidValue("域名只能包含字母、数字和连字符“-”，且不能以连字符开头或结尾")
        if label[2:4] == "--":
            if not label.startswith("xn--"):
                raise InvalidValue("域名格式不正确（第3、4位不能同时为连字符）")
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                raise InvalidValue("国际化域名编码（xn--）无效") from None


# What `_host_from_input` strips starts at one of these characters (a scheme and a port have a colon).
_URL_PART_RE = re.compile(r"[:/?#\\@]")
_PATH_START_RE = re.compile(r"[/?#\\]")
_PORT_RE = re.compile(r":\d*$")


def _host_from_input(text: str) -> str:
    """Strip scheme, user info, path, query, fragment, port and the trailing dot (DOMAIN §5.4 item 1)."""
    if _URL_PART_RE.search(text) is None:
        return text.rstrip(".。")  # a bare name (the common case): nothing else to strip
    return _host_from_url(text)


def _host_from_url(text: str) -> str:
    """`_host_from_input` of any text."""
    text = _SCHEME_RE.sub("", text, count=1)
    text = _PATH_START_RE.split(text, maxsplit=1)[0]
    if "@" in text:
        raise InvalidValue("域名格式不正确（不能包含“@”）")
    if _PORT_RE.search(text) and not _is_ip(text):
        text = text.rsplit(":", 1)[0]
    return text.rstrip(".。")


def _unicode_form(ascii_host: str) -> str:
    if "xn--" not in ascii_host:
        return ascii_host  # nothing to decode (the common case; idna.decode costs ~100 µs)
    try:
        return idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError):
        return ascii_host


def validate_domain(
    value: object,
    *,
    allow_gov_subdomain: bool = False,
    approved_tlds: Iterable[str] | None = None,
) -> Domain:
    """A filed website domain (DOMAIN §4.3 domains, §5.4 items 1-5).

    Normalises (scheme/path/query/port/trailing dot removed, lower-case, IDN -> A-label via
    UTS-46), checks label syntax and length, requires an approved TLD (`approved_tlds`, A-labels,
    default APPROVED_TLDS) and that the name is exactly a registrable domain per the Public
    Suffix List (ICANN section): bare suffixes and sub-domains are rejected, except sub-domains
    under gov.cn when `allow_gov_subdomain` (nature GOVERNMENT).
    """
    text = require_text(value)
    ascii_host = _to_alabel(_host_from_input(text))
    tlds = APPROVED_TLDS if approved_tlds is None else frozenset(approved_tlds)
    tld = ascii_host.rsplit(".", 1)[-1]
    if tld not in tlds:
        raise InvalidValue(f"顶级域名“.{_unicode_form(tld)}”不在工信部批准可备案的顶级域名列表中")
    psl = _psl()
    registrable = psl.privatesuffix(ascii_host)
    if registrable is None:
        raise InvalidValue("不能只填写域名后缀，请填写完整的主域名（如 example.com）")
    if registrable != ascii_host:
        suffix = psl.publicsuffix(ascii_host)
        if not (allow_gov_subdomain and suffix == "gov.cn"):
            raise InvalidValue(
                f"只能填写主域名，不能填写子域名（如 www），应填写“{_unicode_form(registrable)}”"
            )
    return Domain(ascii=ascii_host, unicode=_unicode_form(ascii_host))


_NETLOC_RE = re.compile(r"([^/?#\\]*)(.*)", re.DOTALL)
_SPACE_RE = re.compile(r"\s")


def validate_home_url(url: object, domains: Iterable[str | Domain]) -> str:
    """Home-page URL (DOMAIN §4.3 home_urls, §5.5).

    The host must equal one of `domains` or be a sub-domain of one; IP addresses, user info, ports
    and schemes other than http/https are rejected. The value is stored *without scheme*:
    `<A-label host>[/path][?query]` (fragment and a lone "/" dropped), e.g.
    `HTTPS://WWW.Example.com/` -> `www.example.com`.
    """
    text = require_text(url, max_len=500)
    scheme = _SCHEME_RE.match(text)
    if scheme and scheme.group(0).lower() not in ("http://", "https://"):
        raise InvalidValue("首页URL只能使用http或https协议")
    rest = text[scheme.end() :] if scheme else text
    match = _NETLOC_RE.match(rest)
    assert match is not None  # the pattern always matches
    netloc, tail = match.groups()
    if "@" in netloc:
        raise InvalidValue("首页URL不能包含用户名或密码")
    host = netloc.rstrip(".")
    if _is_ip(host) or _is_ip(host.rsplit(":", 1)[0]):
        raise InvalidValue("首页URL不能使用IP地址，请使用网站域名")
    if ":" in host:
        raise InvalidValue("首页URL不能包含端口号")
    ascii_host = _to_alabel(host)
    filed = {_to_alabel(d.ascii if isinstance(d, Domain) else str(d).strip().rstrip(".")) for d in domains}
    for d in filed:
        if ascii_host == d or ascii_host.endswith("." + d):
            break
    else:
        raise InvalidValue("首页URL必须使用本网站的域名或其子域名（如 www.example.com）")
    tail = tail.split("#", 1)[0]
    if _SPACE_RE.search(tail):
        raise InvalidValue("首页URL不能包含空格")
    if tail == "/":
        tail = ""
    return ascii_host + tail


# --------------------------------------------------------------------------------------------
# IP ranges (DOMAIN §4.4 ip_ranges)


@dataclass(frozen=True)
class IpRange:
    """A validated start..end address range of one family (single address: start == end)."""

    start: IPAddress
    end: IPAddress

    @property
    def version(self) -> Literal[4, 6]:
        return self.start.version  # type: ignore[return-value]

    def __str__(self) -> str:
        return f"{self.start.compressed}-{self.end.compressed}"


# A plain dotted quad of ASCII decimal octets without leading zeros: the common case, parsed by the C
# library instead of `ipaddress` (~2 µs an address in pure Python). Anything else (leading zeros, IPv6,
# other digits) and an octet over 255 (inet_pton refuses it) go to `ipaddress.ip_address`, so acceptance
# and messages stay the module's.
_DOTTED_QUAD_RE = re.compile(r"(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}", re.ASCII)


def _ip_address(text: str) -> IPAddress:
    """`ipaddress.ip_address(text)` (same result, same ValueError), faster for a plain IPv4 address."""
    if _DOTTED_QUAD_RE.fullmatch(text) is not None:
        try:
            return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
        except OSError:
            pass
    return ipaddress.ip_address(text)


def compressed(address: IPAddress, text: str) -> str:
    """`address.compressed`, where `text` is what `address` was parsed from: a plain dotted quad is its
    own compressed form, which saves `ipaddress`'s string conversion (~1 µs)."""
    if _DOTTED_QUAD_RE.fullmatch(text) is not None and address.version == 4:
        return text
    return address.compressed


def _parse_ip(value: object, which: str) -> IPAddress:
    text = require_text(value)
    try:
        return _ip_address(text)
    except ValueError:
        raise InvalidValue(f"{which}“{text}”不是有效的IPv4或IPv6地址") from None


def validate_ip_range(start: object, end: object) -> IpRange:
    """One IP range (DOMAIN §4.4): IPv4 or IPv6, both ends of the same family, start ≤ end."""
    first = _parse_ip(start, "起始IP")
    last = _parse_ip(end, "终止IP")
    if first.version != last.version:
        raise InvalidValue("起始IP和终止IP必须同为IPv4或同为IPv6")
    if first > last:  # type: ignore[operator]
        raise InvalidValue("起始IP不能大于终止IP")
    return IpRange(first, last)


def parse_ip_ranges(text: object) -> list[IpRange]:
    """Parse the export format `a.b.c.d-a.b.c.d;e.f.g.h-e.f.g.h` (DOMAIN §4.4, §9); items may
    also be separated by '、', ',' or new lines, and a single address means start = end."""
    raw = require_text(text)
    ranges: list[IpRange] = []
    for item in re.split(r"[;,、\s]+", raw):
        if not item:
            continue
        start, sep, end = item.partition("-")
        ranges.append(validate_ip_range(start, end if sep else start))
    if not ranges:
        raise InvalidValue("不能为空")
    return ranges


def format_ip_ranges(ranges: Iterable[IpRange]) -> str:
    """Inverse of `parse_ip_ranges`: `start-end;start-end`."""
    return ";".join(str(r) for r in ranges)


def validate_host(value: object) -> str:
    """A host name as a monitor sees it (a registrable domain or any sub-domain, e.g. www.example.cn):
    normalised like `validate_domain` (scheme/path/port/trailing dot removed, lower-case A-label),
    label syntax checked, at least two labels; no TLD or registrable-domain requirement."""
    ascii_host = _to_alabel(_host_from_input(require_text(value)))
    if "." not in ascii_host:
        raise InvalidValue("域名格式不正确（至少包含两级，如 example.cn）")
    return ascii_host


def validate_ip(value: object) -> str:
    """One IPv4 or IPv6 address, in its compressed canonical form."""
    return _parse_ip(value, "IP地址").compressed


def host_suffixes(host: str) -> list[str]:
    """The host and every parent name with at least two labels: www.a.example.cn → itself,
    a.example.cn, example.cn (a filed domain covers its sub-domains)."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]
