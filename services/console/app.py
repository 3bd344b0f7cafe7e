"""The web console: static files (Vue 3 + Element Plus, vendored, no build step) served at `/`.

It is a client of the gateway like any other: the pages call only `/api/<service>/…`. `icp up`
adds these routes to its root app (`add_routes`); `icp serve console` runs them alone
(`run`), as the `console` Deployment does behind the Ingress's `/`. Client routes are hash
routes (`/#/entry?page=2`), so the server needs no fallback: a path that is not a file gets
the 404 page.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import structlog
from aiohttp import web

from shared import security

log = structlog.get_logger(__name__)

STATIC = Path(__file__).resolve().parent / "static"

# The console's own pages: every script is a file (no inline script), Vue's template compiler
# needs 'unsafe-eval'; the captcha is a data: image; the API is same-origin.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # no bundler, no hashed names: the browser revalidates every file (a 304 is cheap)
    "Cache-Control": "no-cache",
}
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".json": "application/json",
         ".ico": "image/x-icon", ".svg": "image/svg+xml", ".png": "image/png", ".html": "text/html"}


def _file(rel: str) -> Path | None:
    """The static file at `rel`, or None; never a path outside STATIC."""
    try:
        path = (STATIC / rel).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(STATIC) or not path.is_file():
        return None
    return path


async def _static(request: web.Request) -> web.StreamResponse:
    rel = request.match_info["path"] or "index.html"
    path = _file(rel)
    if path is None or path.name == "404.html":
        return _not_found()
    headers = dict(HTML_HEADERS) if path.suffix == ".html" else {"Cache-Control": "no-cache",
                                                                  "X-Content-Type-Options": "nosniff"}
    ctype = TYPES.get(path.suffix)
    if ctype:
        headers["Content-Type"] = ctype + ("; charset=utf-8" if ctype.startswith("text/") or ctype.endswith("json")
                                           else "")
    return web.FileResponse(path, headers=headers)


def _not_found() -> web.Response:
    body = (STATIC / "404.html").read_bytes()
    return web.Response(status=404, body=body, content_type="text/html", charset="utf-8", headers=HTML_HEADERS)


def add_routes(app: web.Application) -> None:
    """The console's GET routes on `app` (the gateway's root app): every path not under /api/."""
    app.router.add_route("GET", r"/{path:(?!api/)[^?]*}", _static)


def service_app() -> web.Application:
    """`icp serve console`: the static files plus the probes the Deployment uses."""
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": "console"})

    async def readyz(_: web.Request) -> web.Response:
        ok = (STATIC / "index.html").is_file()
        return web.json_response({"status": "ok" if ok else "unavailable", "service": "console"},
                                 status=200 if ok else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    add_routes(app)
    security.install(app, security.Policy())  # the headers every service's answers carry (no aiohttp version)
    return app


async def run(host: str, port: int, *, reuse_port: bool = False) -> None:
    """Serve until SIGTERM/SIGINT; in-flight requests finish."""
    runner = web.AppRunner(service_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    log.info("http.listening", host=host, port=port, services=["console"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await site.stop()
    await runner.cleanup()
