"""The validators' fast paths (issue 14) answer exactly as the general code they short-cut: the same
value, the same error message, on the tricky inputs around each shortcut."""

from __future__ import annotations

import ipaddress

import pytest

from shared.validate import network

IP_INPUTS = [
    "0.0.0.0", "1.2.3.4", "203.0.113.10", "255.255.255.255", "10.0.0.1",
    "256.1.1.1", "1.2.3.256", "999.1.1.1", "1.2.3.2555",  # octets out of range
    "01.2.3.4", "1.02.3.4", "1.2.3.00", "1.2.3.010", "00.0.0.0", "0.0.0.01",  # leading zeros
    "1.2.3", "1.2.3.4.5", "1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n",
    "１.２.３.４", "1.2.3.٤", "1.2.3.4/32", "0x1.2.3.4", "1.2.3.4%eth0", "+1.2.3.4", "-1.2.3.4",
    "::", "::1", "2001:db8::1", "2001:DB8::FF", "::ffff:1.2.3.4", "2001:db8::1%eth0", "fe80::1%1",
    "1.2.3.4::", "", "abc", "localhost",
]  # fmt: skip


def _outcome(fn, text):
    try:
        address = fn(text)
    except ValueError as e:
        return ("error", str(e))
    return (type(address), address, address.compressed)


@pytest.mark.parametrize("text", IP_INPUTS)
def test_ip_address_fast_path_answers_as_ipaddress(text):
    assert _outcome(network._ip_address, text) == _outcome(ipaddress.ip_address, text)


@pytest.mark.parametrize("text", [t for t in IP_INPUTS if _outcome(ipaddress.ip_address, t)[0] != "error"])
def test_compressed_shortcut_is_the_compressed_form(text):
    address = ipaddress.ip_address(text)
    assert network.compressed(address, text) == address.compressed


HOST_INPUTS = [
    "example.com", "Example.COM", "example.com.", "example.com。", "例子.中国", "例子.中国。", "xn--fsqu00a.xn--fiqs8s",
    "http://example.com", "HTTPS://Example.com/path?q=1#f", "ftp://example.com", "example.com:8080", "example.com:",
    "example.com/", "example.com?x", "example.com#x", "example.com\\x", "user@example.com", "a@b", "1.2.3.4:80",
    "[2001:db8::1]", "2001:db8::1", "::1", "example.com:80/x", "www.example.com:abc", ".", "", "a..b", "。",
]  # fmt: skip


@pytest.mark.parametrize("text", HOST_INPUTS)
def test_bare_host_shortcut_answers_as_the_url_parser(text):
    def outcome(fn):
        try:
            return fn(text)
        except network.InvalidValue as e:
            return ("error", e.message)

    assert outcome(network._host_from_input) == outcome(network._host_from_url)


@pytest.mark.parametrize("host", ["-bad.com", "a..com", "xn--zz.com", "1.2.3.4", "例子.中国", "Example.com"])
def test_memoised_alabel_answers_the_same_every_time(host):
    def outcome():
        try:
            return network._to_alabel(host)
        except network.InvalidValue as e:
            return ("error", e.message)

    first = outcome()
    assert outcome() == outcome() == first
    try:
        direct = network._to_alabel.__wrapped__(host)
    except network.InvalidValue as e:
        direct = ("error", e.message)
    assert direct == first


def test_check_characters_by_table_answer_as_the_published_functions():
    import random

    from shared.validate import identity

    rng = random.Random(14)
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(17))
        assert identity._resident_id_check_char(digits) == identity.resident_id_check_char(digits)
        first17 = "".join(rng.choice(identity.USCC_CHARSET) for _ in range(17))
        assert identity._uscc_check_char(first17) == identity.uscc_check_char(first17)
        body = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(8))
        assert identity._org_code_check_char(body) == identity.org_code_check_char(body)
    # the edge cases of each: every remainder, so c == 31 / 10 / 11 and check X all occur
    assert {identity._uscc_check_char(f"{n:017d}") for n in range(400)} >= {"0", "Y"}
    assert {identity._org_code_check_char(f"{n:08d}") for n in range(200)} == set("0123456789X")
    assert {identity._resident_id_check_char(f"{n:017d}") for n in range(200)} == set("0123456789X")


LABEL_HOSTS = [
    "example.com", "a.b.c.d.example.com", "a" * 63 + ".com", "a" * 64 + ".com", "a-b.com", "-ab.com", "ab-.com",
    "a--b.com", "ab--c.com", "xn--fsqu00a.com", "xn--zz.com", "a..com", ".com", "com.", "a_b.com", "0.com",
    "1-2.cn", "a.b-", "é.com", "a b.com", "a.com\n", "x" * 62 + "y.cn",
]  # fmt: skip


@pytest.mark.parametrize("host", LABEL_HOSTS)
def test_host_regex_admits_only_hosts_the_label_checks_pass(host):
    try:
        network._check_labels(host)
        passes = True
    except network.InvalidValue:
        passes = False
    shortcut = "--" not in host and network._HOST_RE.fullmatch(host) is not None
    if shortcut:
        assert passes  # the shortcut never admits what the label loop refuses
    if passes and "--" not in host:
        assert shortcut  # and takes every plain valid host (else it saves nothing)


TEXTS = [
    "", " ", "abc", "  abc  ", "\tabc\n", "a b", "中文", " 中文 ", "\u3000中文\u3000", "\u200b中文", "中文\ufeff",
    " \u200b 中文 \u200b ", "\u200b \u200b", "ＡＢＣ１２３", " ＡＢＣ ", "\xa0x\xa0", "\u2060", "x\u200d", "\u200bx ",
    "１８０１２３４５６７８", "abc\u200b", "\x1cabc\x1f",
]  # fmt: skip


def _strip_ends_reference(text: str) -> str:  # the loop before the strip() shortcut
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or text[start] in "\u200b\u200c\u200d\u2060\ufeff"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in "\u200b\u200c\u200d\u2060\ufeff"):
        end -= 1
    return text[start:end]


@pytest.mark.parametrize("text", TEXTS)
def test_strip_shortcut_answers_as_the_loop(text):
    from shared.validate import _text

    assert _text._strip_ends(text) == _strip_ends_reference(text)


@pytest.mark.parametrize("value", [*TEXTS, None, 0, 12, True, 1.5, b"x", " ENTERPRISE ", "ＥＮＴＥＲＰＲＩＳＥ"])
def test_field_types_answer_as_their_validators(value):
    from pydantic import TypeAdapter, ValidationError

    from shared import codes, fields
    from shared import validate as v

    def outcome(fn):
        try:
            return ("ok", fn(value))
        except ValidationError as e:
            return ("error", e.errors()[0]["msg"])
        except v.InvalidValue as e:
            return ("error", e.message)

    def code(x):
        text = v.normalize_text(x)
        if not codes.is_valid("unit_natures", text):
            raise v.InvalidValue("无效的代码" if text else "不能为空")
        return text

    for type_, reference in [
        (fields.CleanStr, v.normalize_text),
        (fields.text_field(5, min_len=2), lambda x: v.validate_text(x, max_len=5, min_len=2)),
        (fields.optional_text_field(5), lambda x: v.validate_text(x, max_len=5, required=False)),
        (fields.code_field("unit_natures"), code),
    ]:
        assert outcome(TypeAdapter(type_).validate_python) == outcome(reference), type_


REGIONS = [
    ("440000", "440300", "440305"), ("440000", "440300", None), ("440000", "440300", ""), ("110000", "110100", "110105"),
    ("440000", "450300", None), ("440000", "440300", "440405"), ("440000", "440000", None), ("440300", "440300", None),
    ("710000", "710100", None), ("990000", "990100", None), ("44000", "440300", None), ("４４００００", "440300", None),
    (" 440000 ", "440300", None), ("", "440300", None), ("440000", "", None), ("440000", "440300", "440300"),
]  # fmt: skip


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("filing_only", [True, False])
def test_memoised_region_answers_as_the_checks(region, filing_only):
    from shared.validate import places

    def outcome(fn):
        try:
            return fn(*region, filing_only)
        except places.InvalidValue as e:
            return ("error", e.message)

    first = outcome(lambda *a: places.validate_region(*a[:3], filing_only=a[3]))
    assert outcome(lambda *a: places.validate_region(*a[:3], filing_only=a[3])) == first  # from the cache
    assert outcome(places._validate_region) == first


NAMES = ["示例科技官网", "反腐网站", "色情反腐之家", "中国示例网", "我的个人论坛", "ABC在线", "abc-def", "Bbs交流之家", "我的博客"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("nature", [None, "ENTERPRISE", "PERSONAL", "GOVERNMENT"])
def test_website_name_default_word_lists_answer_as_given_lists(name, nature):
    from shared import validate as v

    def outcome(**kw):
        try:
            return v.validate_website_name(name, nature=nature, **kw)
        except v.InvalidValue as e:
            return ("error", e.message)

    # copies of the default lists are not the defaults: they take the general path
    assert outcome() == outcome(sensitive_words=list(v.DEFAULT_SENSITIVE_WORDS),
                                personal_banned_words=list(v.PERSONAL_BANNED_WORDS), extra_personal_words=[])


@pytest.mark.parametrize("text", [
    "", " ", "a", " a ", "a;b", "a；b", "a、b", "a,b", "a，b", "a\nb", "a\r\nb", ";", " ; ", "a;", ";a", "a;;b",
    "\u3000a\u3000", "a b", "\u3000", "a\tb", " a ; b ",
])  # fmt: skip
def test_split_multi_single_value_shortcut(text):
    from services.importer import columns as C

    assert C.split_multi(text) == [p.strip() for p in C._SPLIT.split(text) if p.strip()]
