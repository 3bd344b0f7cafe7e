"""Pure rules of shared/security.py and the production start check."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from shared.config import DEV_SECRET_KEY, Settings, startup_problem
from shared.security import Policy, client_address, cross_origin, normalize_origin


@pytest.mark.parametrize(("env", "key", "refused"), [
    ("prod", DEV_SECRET_KEY, True),
    ("prod", "", True),
    ("prod", "x" * 31, True),
    ("prod", "é" * 16, False),  # 32 bytes in UTF-8
    ("prod", "x" * 32, False),
    ("dev", DEV_SECRET_KEY, False),
    ("test", "short", False),
])
def test_production_needs_a_secret_key_of_32_bytes(env, key, refused):
    problem = startup_problem(Settings(env=env, secret_key=key))
    assert (problem is not None) == refused
    if refused:
        assert "ICP_SECRET_KEY" in problem and "ICP_ENV=prod" in problem


def test_an_unknown_environment_is_refused():
    assert "ICP_ENV" in startup_problem(Settings(env="production", secret_key="x" * 40))


def test_settings_parse_comma_separated_proxies_and_origins(monkeypatch):
    monkeypatch.setenv("ICP_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")
    monkeypatch.setenv("ICP_ALLOWED_ORIGINS", "https://console.example.cn,https://gw.example.cn:8443")
    s = Settings()
    assert s.trusted_proxies == ["10.0.0.0/8", "192.168.1.1"]
    assert Policy.of(s).allowed_origins == {"https://console.example.cn", "https://gw.example.cn:8443"}
    monkeypatch.setenv("ICP_TRUSTED_PROXIES", "not-a-network")
    with pytest.raises(ValueError, match="ICP_TRUSTED_PROXIES"):
        Settings()


def _req(headers: dict[str, str], method: str = "POST", peer: str = "203.0.113.9", host: str = "icp.example.cn"):
    class Transport:
        def get_extra_info(self, name, default=None):
            return (peer, 40000) if name == "peername" else default

    return make_mocked_request(method, "/api/filing/drafts", headers={"Host": host, **headers},
                               transport=Transport())


def test_normalized_origins_drop_default_ports_and_case():
    assert normalize_origin("HTTPS://Icp.Example.cn:443/") == "https://icp.example.cn"
    assert normalize_origin("http://icp.example.cn:8080") == "http://icp.example.cn:8080"
    assert normalize_origin("http://[::1]:80") == "http://[::1]"


@pytest.mark.parametrize(("headers", "allowed"), [
    ({}, True),  # not a browser
    ({"Sec-Fetch-Site": "same-origin", "Origin": "https://icp.example.cn"}, True),
    ({"Sec-Fetch-Site": "none"}, True),  # typed into the address bar / bookmark
    ({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, False),
    ({"Sec-Fetch-Site": "same-site", "Origin": "https://other.example.cn"}, False),
    ({"Origin": "https://icp.example.cn"}, True),  # an older browser: Origin against Host
    ({"Origin": "https://icp.example.cn:443"}, True),
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": "null"}, False),  # sandboxed frame, data: URL
    ({"Origin": "https://console.example.cn", "Sec-Fetch-Site": "cross-site"}, True),  # configured
    ({"Origin": "http://icp.example.cn:bad"}, False),
])
def test_cross_origin_rule(headers, allowed):
    policy = Policy(allowed_origins=frozenset({"https://console.example.cn"}))
    assert (cross_origin(_req(headers), policy) is None) == allowed


def test_forwarded_host_counts_only_behind_a_trusted_proxy():
    headers = {"Origin": "https://public.example.cn", "X-Forwarded-Host": "public.example.cn"}
    assert cross_origin(_req(headers, host="icp-filing:8080"), Policy()) is not None
    trusted = Policy(trusted_proxies=((__import__("ipaddress").ip_network("203.0.113.0/24")),))
    assert cross_origin(_req(headers, host="icp-filing:8080"), trusted) is None


def test_client_address_believes_forwarded_for_only_from_trusted_proxies():
    import ipaddress

    none = Policy()
    proxy = Policy(trusted_proxies=(ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("10.0.0.0/8")))
    spoof = {"X-Forwarded-For": "1.2.3.4"}
    assert client_address(_req(spoof), none) == "203.0.113.9"  # the peer is not a proxy: header ignored
    assert client_address(_req(spoof), proxy) == "1.2.3.4"
    # the client prepends a lie; the proxies append what they saw: the nearest untrusted hop wins
    assert client_address(_req({"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.1.2.3"}), proxy) == "198.51.100.7"
    assert client_address(_req({"X-Forwarded-For": "garbage, 198.51.100.7"}), proxy) == "198.51.100.7"
    assert client_address(_req({"X-Forwarded-For": "198.51.100.7, garbage"}), proxy) == "203.0.113.9"
    assert client_address(_req({}), proxy) == "203.0.113.9"


@pytest.mark.parametrize(("argv", "needed"), [
    (["up"], True),
    (["serve", "filing", "--api"], True),
    (["serve", "importer", "--worker"], True),
    (["admin", "token"], True),
    (["migrate"], True),
    (["asyncapi"], False),
    (["serve", "console"], False),  # static files; its Deployment gets no ICP_SECRET_KEY
])
def test_which_commands_need_the_secret_key(argv, needed):
    from shared.cli import build_parser, needs_secret

    assert needs_secret(build_parser().parse_args(argv)) is needed
