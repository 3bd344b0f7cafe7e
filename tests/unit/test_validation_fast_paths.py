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
