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
