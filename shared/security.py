"""HTTP security shared by every service: response headers, cross-origin refusal, client address.

- `add_headers` (an `on_response_prepare` hook, so it also covers files, streamed answers and
  errors raised past the middlewares): `X-Content-Type-Options`, the CSP, `Referrer-Policy`,
  `X-Frame-Options`, HSTS in prod, `Cache-Control: no-store` on API answers, and a `Server`
  header without aiohttp's version.
- `refusal` (applied by `shared.web`'s middleware): a browser request with an unsafe method that is not authenticated by a
  bearer token (so: by the session cookie, or a login) must come from this origin; and a body sent
  to an endpoint is JSON unless the endpoint documents multipart (an upload). A cross-origin HTML
  form can only send form-encoded, multipart or text bodies, so refusing those is a second wall.
- `client_address`: the peer, or the nearest untrusted `X-Forwarded-For` hop when the peer is a
  trusted proxy (`ICP_TRUSTED_PROXIES`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

if TYPE_CHECKING:
    from shared.config import Settings

# The one policy for every answer. The console (same origin) loads Vue's global build, which
# compiles its in-page templates at runtime with `new Function` ('unsafe-eval'), and Element Plus,
# which sets inline styles ('unsafe-inline' for styles only); captcha images are data: URLs and
# downloads may be blob: URLs. Nothing may frame the pages (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"
SERVER = "icp"  # aiohttp would announce "Python/3.x aiohttp/3.x"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
COOKIE_NAME = "icp_session"  # shared.web.COOKIE_NAME (not imported: shared.web imports this module)


@dataclass(frozen=True)
class Policy:
    """What a deployment adds to the defaults: HSTS (prod, served over TLS) and the other origins
    (e.g. a gateway on another host) allowed to send state-changing browser requests."""

    hsts: bool = False
    allowed_origins: frozenset[str] = frozenset()
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            hsts=settings.env == "prod",
            allowed_origins=frozenset(normalize_origin(o) for o in settings.allowed_origins),
            trusted_proxies=parse_networks(settings.trusted_proxies),
        )


def parse_networks(values: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())


def normalize_origin(origin: str) -> str:
    """scheme://host[:port], lower case, without a default port or trailing slash."""
    parts = urlsplit(origin.strip().lower())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a port: compare the text as sent (it matches nothing real)
        return origin.strip().lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


# ---------------------------------------------------------------- headers


POLICY = web.AppKey("icp_security_policy", Policy)


def policy_of(request: web.Request) -> Policy:
    return request.config_dict.get(POLICY) or Policy()


def install(app: web.Application, policy: Policy) -> None:
    """Add the headers to every answer of `app` (and of the apps mounted in it); remember the policy."""
    app[POLICY] = policy

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        add_headers(request, response, policy)

    app.on_response_prepare.append(on_prepare)


def add_headers(request: web.Request, response: web.StreamResponse, policy: Policy) -> None:
    h = response.headers
    h["X-Content-Type-Options"] = "nosniff"
    h["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "same-origin"
    h["Server"] = SERVER
    if policy.hsts:
        h["Strict-Transport-Security"] = HSTS
    # API answers carry tokens, passwords or personal data, or are errors: never stored by a browser
    # or a proxy. An unauthenticated API answer may choose its own caching (public lookups);
    # files outside /api/ (the console's scripts and styles) keep what their handler says.
    if request.path.startswith("/api/"):
        from shared.web import PRINCIPAL

        if "Cache-Control" not in h or request.get(PRINCIPAL) is not None:
            h["Cache-Control"] = "no-store"


# ---------------------------------------------------------------- cross-origin and content type


def _bearer(request: web.Request) -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def cross_origin(request: web.Request, policy: Policy) -> str | None:
    """Why this unsafe browser request is refused as cross-origin, or None. The algorithm of Go's
    `http.CrossOriginProtection`: `Sec-Fetch-Site` when the browser sends it (all current ones do),
    else `Origin` against the request's host; neither header means not a browser (curl, a server)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and normalize_origin(origin) in policy.allowed_origins:
        return None
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site.strip().lower() in ("same-origin", "none"):
            return None
        return f"来源 {origin or site} 不是本系统"
    if origin is None:
        return None
    if origin != "null":
        hosts = [request.host]
        forwarded = request.headers.get("X-Forwarded-Host")
        if forwarded and _in(request.remote, policy.trusted_proxies):
            hosts.append(forwarded.split(",")[0].strip())
        mine = normalize_origin(origin)
        scheme = mine.partition("://")[0]
        if any(normalize_origin(f"{scheme}://{h}") == mine for h in hosts):
            return None
    return f"来源 {origin} 不是本系统"


def refusal(request: web.Request, policy: Policy) -> tuple[int, str, str | None] | None:
    """Why this request is refused before its handler runs — (status, Chinese detail, title) — or None:
    an unsafe browser request from another origin (403), or a body that is not JSON where the endpoint
    takes JSON (415). Applied by `shared.web`'s middleware."""
    if request.method in UNSAFE_METHODS:
        if not _bearer(request):
            why = cross_origin(request, policy)
            if why is not None:
                return 403, f"跨站请求已拒绝：{why}，请从本系统页面操作", "跨站请求被拒绝"
        route = getattr(request.match_info.handler, "icp_route", None)
        if route is not None and request.body_exists:
            ctype = request.content_type
            json_body = ctype == "application/json" or ctype.endswith("+json")
            if not json_body and not (route.multipart and ctype == "multipart/form-data"):
                want = "multipart/form-data" if route.multipart else "JSON（Content-Type: application/json）"
                return 415, f"请求体须为 {want}，收到的是 {ctype or '空'}", None
    return None


# ---------------------------------------------------------------- client address


def _in(address: str | None, networks) -> bool:
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_address(request: web.Request, policy: Policy | None = None) -> str:
    """The client's address for per-client limits. `X-Forwarded-For` is believed only when the peer
    is a trusted proxy, and then read from the right: each proxy appends the address it saw, so the
    first hop (from the right) that is not itself a trusted proxy is the client as the outermost
    trusted proxy saw it; hops to its left are whatever the client chose to send. With one proxy
    that sets the header afresh (ingress-nginx's default) this is the header's first hop."""
    policy = policy or policy_of(request)
    peer = request.remote or ""
    if not _in(peer, policy.trusted_proxies):
        return peer or "unknown"
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if h.strip()]
    nearest = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return nearest  # a malformed hop: believe nothing further left
        if not _in(hop, policy.trusted_proxies):
            return hop
        nearest = hop
    return nearest
