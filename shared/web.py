"""aiohttp app factory shared by every service.

- `Api`: a route table whose entries name their body/query/response pydantic models
  and the roles allowed; it parses input (400 malformed JSON, 415 wrong content type,
  422 with `errors: [{field, message}]`), checks auth, and builds the OpenAPI document.
- Errors are RFC 9457 problem+json with a Chinese `detail`; an unexpected exception is
  logged and answered with a generic 500 that leaks nothing.
- Every request gets a request id (`X-Request-ID`, honoured when sent) which is the
  correlation id of the logs and of every message the request publishes.
- `/healthz`, `/readyz` (database and broker), `/metrics`, `/openapi.json`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from shared import field_labels, logs, security
from shared.auth import Principal, Role, TokenError, read_token
from shared.bounds import query_problems, text_problem, violations
from shared.errors_zh import translate_errors
from shared.metrics import ServiceView

log = structlog.get_logger(__name__)

COOKIE_NAME = "icp_session"
PRINCIPAL = web.RequestKey("principal", Principal)
# why the request's session cookie was not accepted (it is then expired in the answer)
STALE_SESSION = web.RequestKey("stale_session", str)

HTTP_REQUESTS = Counter("icp_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "icp_http_request_seconds", "HTTP request latency", ["service", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


# The labelled children of the request metrics, per (service, method, route, status): the same
# objects `labels()` returns, without its argument handling and lock on every request.
_METRIC_CHILDREN: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}


def _metrics_of(service: str, method: str, route: str, status: int) -> tuple[Any, Any]:
    key = (service, method, route, status)
    found = _METRIC_CHILDREN.get(key)
    if found is None:
        found = _METRIC_CHILDREN[key] = (
            HTTP_REQUESTS.labels(service, method, route, str(status)),
            HTTP_LATENCY.labels(service, route),
        )
    return found


# ---------------------------------------------------------------- problems


class Problem(Exception):
    """An RFC 9457 problem; raise it from any handler."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.headers = headers  # e.g. Retry-After of a 429
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "错误")
        self.errors = errors
        self.type = type_
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            out["instance"] = instance
        if self.errors is not None:
            out["errors"] = self.errors
        out.update(self.extra)
        return out


_TITLES = {
    400: "请求格式错误",
    401: "未登录",
    403: "无权操作",
    404: "未找到",
    405: "方法不允许",
    409: "冲突",
    413: "内容过大",
    415: "不支持的内容类型",
    422: "数据校验未通过",
    423: "已锁定",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


def invalid(errors: list[dict[str, str]], detail: str | None = None) -> Problem:
    """422 with field errors; `detail` defaults to the errors as Chinese sentences (`field_labels.summary`)."""
    return Problem(422, detail or field_labels.summary(errors), errors=errors)


def not_found(what: str = "记录") -> Problem:
    return Problem(404, f"{what}不存在")


def dumps(obj: Any) -> bytes:
    """JSON as the API writes it: UTF-8, ISO 8601 times, pydantic models as their JSON."""
    return orjson.dumps(obj, default=to_jsonable_python)


def json_response(obj: Any, *, status: int = 200, content_type: str = "application/json") -> web.Response:
    body = obj.model_dump_json().encode() if isinstance(obj, BaseModel) else dumps(obj)
    return web.Response(body=body, status=status, content_type=content_type, charset="utf-8")


def problem_response(p: Problem, request: web.Request | None = None) -> web.Response:
    resp = json_response(p.body(request.path if request is not None else None), status=p.status,
                         content_type="application/problem+json")
    if p.headers:
        resp.headers.update(p.headers)
    return resp


def http_problem(e: web.HTTPException, request: web.Request, allow: Callable[[str], str | None] | None = None,
                 ) -> web.Response:
    """aiohttp's own 4xx (no route, wrong method, body too large) as a problem; a 405 keeps its
    `Allow` header (RFC 9110 requires it), narrowed by `allow` to the methods of the documented path."""
    detail = {404: "接口不存在", 405: "不支持该请求方法", 413: "请求体过大"}.get(e.status, e.reason)
    resp = problem_response(Problem(e.status, detail), request)
    if "Allow" in e.headers:
        resp.headers["Allow"] = (allow(request.path) if allow else None) or e.headers["Allow"]
    return resp


def _allowed_methods(api: Api) -> Callable[[str], str | None]:
    """The methods the OpenAPI document lists for the path a request names. aiohttp's `Allow` is the
    union over every route the path matches: `/drafts/current` also matches `/drafts/{draft_id}`."""
    base = f"/api/{api.service}"
    methods: dict[str, set[str]] = {}
    for r in api.routes:
        methods.setdefault(r.path, set()).add(r.method)
    static = {p for p in methods if "{" not in p}
    dynamic = [(re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(p)) + "$"), p)
               for p in methods if "{" in p]

    def allow(path: str) -> str | None:
        rel = path[len(base):] if path.startswith(base) else path
        template = rel if rel in static else next((p for rx, p in dynamic if rx.match(rel)), None)
        return ",".join(sorted(methods[template])) if template else None

    return allow


# ---------------------------------------------------------------- route table


@dataclass
class Route:
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    roles: frozenset[Role] | None = None  # None = public
    status: int = 200
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    raw_response: str | None = None  # content type for non-JSON answers (files)
    multipart: bool = False  # the request body is multipart/form-data (uploads); else only JSON is accepted
    # problem statuses of the use case (409 conflict, 410 gone, 423 locked, 429 …) beyond those the
    # platform adds by itself for the route's body, query, path and roles (`shared.openapi`)
    errors: tuple[int, ...] = ()
    upload: str | None = None  # a multipart/form-data body read by the handler: the file field's name


class Api:
    """A service's HTTP routes, mounted under `/api/<service>/`."""

    def __init__(self, service: str, title: str, version: str = "0.1.0") -> None:
        self.service = service
        self.title = title
        self.version = version
        self.routes: list[Route] = []

    def route(self, method: str, path: str, **kw):
        def register(fn):
            roles = kw.pop("roles", None)
            kw["errors"] = tuple(kw.get("errors", ()))
            if kw.get("upload"):
                kw["multipart"] = True
            r = Route(method, path, fn, roles=frozenset(Role(x) for x in roles) if roles is not None else None, **kw)
            r.summary = r.summary or (fn.__doc__ or "").strip().split("\n")[0]
            self.routes.append(r)
            return fn

        return register

    def include(self, other: Api) -> None:
        """Add the routes of a feature module's `Api` (one service, several route modules)."""
        if other.service != self.service:
            raise ValueError(f"cannot include {other.service} routes into {self.service}")
        self.routes.extend(other.routes)

    def get(self, path: str, **kw):
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw):
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw):
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw):
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw):
        return self.route("DELETE", path, **kw)

    def openapi(self) -> dict[str, Any]:
        from shared.openapi import build_openapi

        return build_openapi(self)


# ---------------------------------------------------------------- request handling


async def _parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    ctype = request.content_type
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise Problem(415, f"请求体须为 JSON（Content-Type: application/json），收到的是 {ctype or '空'}")
    raw = await request.read()
    if not raw.strip():
        raise Problem(400, "请求体为空，须为 JSON 对象")
    try:
        # parse and validate in one pass; strict: a JSON number is not a date, a string not a number
        # (what the OpenAPI document says; custom field types still normalise their own input)
        parsed = model.model_validate_json(raw, strict=True)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        if any(err["type"] == "json_invalid" for err in errors):
            raise Problem(400, "请求体不是合法的 JSON，无法解析") from None
        if any(err["type"] in ("model_type", "model_attributes_type") and not err["loc"] for err in errors):
            raise Problem(400, "请求体须为 JSON 对象") from None
        raise invalid(translate_errors(e)) from None
    _check_bounds(parsed, single_line=False, raw=raw)
    return parsed


def _parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    data: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        f = model.model_fields.get(key)
        is_list = f is not None and getattr(f.annotation, "__origin__", None) is list
        data[key] = values if is_list else values[-1]
    if errors := query_problems(model, data):
        raise invalid(errors)
    try:
        parsed = model.model_validate(data)
    except ValidationError as e:
        raise invalid(translate_errors(e)) from None
    _check_bounds(parsed, single_line=True)
    return parsed


def _check_bounds(parsed: BaseModel, *, single_line: bool, raw: bytes | None = None) -> None:
    """What the database cannot hold (NUL, integers past its range, year 1 or 9999) is a 422 naming
    the field, for every model of every route (`shared.bounds`; `raw`: a body's JSON text)."""
    errors = violations(parsed, single_line=single_line, raw=raw)
    if errors:
        raise invalid(errors)


def _check_path(request: web.Request) -> None:
    errors = [{"field": name, "message": reason} for name, value in request.match_info.items()
              if (reason := text_problem(value, single_line=True))]
    if errors:
        raise invalid(errors)


def _wrap(route: Route, service: str):
    async def view(request: web.Request) -> web.StreamResponse:
        principal = request.get(PRINCIPAL)
        if route.roles is not None:
            if principal is None:
                raise Problem(401, request.get(STALE_SESSION) or "请先登录")
            if principal.role not in route.roles:
                raise Problem(403, "当前角色无权执行此操作")
        _check_path(request)
        kwargs: dict[str, Any] = {}
        if route.body is not None:
            kwargs["body"] = await _parse_body(request, route.body)
        if route.query is not None:
            kwargs["query"] = _parse_query(request, route.query)
        result = await route.handler(request, **kwargs)
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result, status=route.status)

    view.__name__ = route.handler.__name__
    view.icp_route = route  # type: ignore[attr-defined]  # read by shared.security's content-type check
    return view


# ---------------------------------------------------------------- middlewares


def _malformed(e: HttpProcessingError) -> Problem:
    """aiohttp's refusal of a body it was reading: a line or multipart part header past its limit
    (`LineTooLong`: 8 KiB per header, 512 KiB per line) is too large, anything else malformed."""
    if isinstance(e, LineTooLong):
        return Problem(413, "请求内容中的一行或分段头过长，无法解析")
    return Problem(400, f"请求内容格式错误，无法解析：{e.message or type(e).__name__}"[:300])


def _middlewares(service: str, secret: str, is_revoked: Callable[[str], Awaitable[bool]] | None,
                 policy: security.Policy, allow: Callable[[str], str | None] | None = None):
    """One middleware for what every request of a service goes through, in this order: request id and
    log context, metrics and the access log line; problems (any exception → problem+json); the
    cross-origin and content-type guard (`security.refusal`); authentication. One layer instead of
    three: each layer is a coroutine and a frame per request, on every request of the process."""

    @web.middleware
    async def platform(request: web.Request, handler):
        rid = request.headers.get("X-Request-ID") or logs.new_id()
        rid = rid[:64]
        token = logs.correlation_id.set(rid)
        structlog.contextvars.bind_contextvars(request_id=rid, service=service)
        started = time.perf_counter()
        resource = request.match_info.route.resource
        route = resource.canonical if resource else "unmatched"
        status = 500
        try:
            resp = await _guarded(request, handler)
            status = resp.status
            resp.headers["X-Request-ID"] = rid
            return resp
        finally:
            elapsed = time.perf_counter() - started
            counter, histogram = _metrics_of(service, request.method, route, status)
            counter.inc()
            histogram.observe(elapsed)
            if not route.endswith(("healthz", "readyz", "metrics")):
                log.info("http.request", method=request.method, path=request.path, status=status,
                         ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id", "service")
            logs.correlation_id.reset(token)

    async def _guarded(request: web.Request, handler) -> web.StreamResponse:
        try:
            refused = security.refusal(request, policy)
            if refused is not None:
                status, detail, title = refused
                raise Problem(status, detail, title=title)
            await _authenticate(request)
            try:
                return await handler(request)
            finally:
                structlog.contextvars.unbind_contextvars("user_id", "role")
        except Problem as p:
            return problem_response(p, request)
        except web.HTTPException as e:
            if e.status < 400:
                raise
            return http_problem(e, request, allow)
        except HttpProcessingError as e:  # a malformed body read by the handler (multipart, chunked)
            return problem_response(_malformed(e), request)
        except Exception:
            log.exception("http.unhandled", method=request.method, path=request.path)
            return problem_response(Problem(500, "服务器内部错误，请稍后重试；如持续出现请联系管理员"), request)

    async def _authenticate(request: web.Request) -> None:
        """The caller's principal from a bearer token or the session cookie (`PRINCIPAL`), bound to the
        log context; a bad bearer token is a 401, a stale cookie is forgotten (`STALE_SESSION`)."""
        token = None
        from_cookie = False
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        elif COOKIE_NAME in request.cookies:
            token, from_cookie = request.cookies[COOKIE_NAME], True
        if token:
            principal: Principal | None
            try:
                principal = read_token(secret, token)
            except TokenError as e:
                principal, refusal = None, f"身份令牌无效：{e}"
            if principal is not None and is_revoked is not None and await is_revoked(principal.session_id):
                principal, refusal = None, "登录已注销，请重新登录"
            if principal is None:
                if not from_cookie:
                    raise Problem(401, refusal)
                # A stale session cookie (logged out elsewhere, password changed, account disabled, key
                # rotated): the browser is told to forget it and the request goes on without a login, so
                # public routes — the console's login box and captcha — keep working; the others answer
                # 401 with this reason (`principal_of`).
                request[STALE_SESSION] = refusal
        if token and STALE_SESSION not in request:
            request[PRINCIPAL] = principal
            structlog.contextvars.bind_contextvars(user_id=principal.user_id, role=str(principal.role))

    return [platform]


_EXPIRED_COOKIE = f'{COOKIE_NAME}=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax'


async def _forget_stale_session(request: web.Request, response: web.StreamResponse) -> None:
    # the hook runs after aiohttp rendered the response's cookies: add the header itself
    if STALE_SESSION in request:
        response.headers.add("Set-Cookie", _EXPIRED_COOKIE)


def optional_principal(request: web.Request) -> Principal | None:
    """Who is calling, or None on a public route called without a login."""
    return request.get(PRINCIPAL)


def principal_of(request: web.Request) -> Principal:
    p = request.get(PRINCIPAL)
    if p is None:
        raise Problem(401, request.get(STALE_SESSION) or "请先登录")
    return p


def tenant_of(request: web.Request) -> str:
    """The provider (tenant) whose data this request may see; refuses other roles."""
    p = principal_of(request)
    if p.role != Role.PROVIDER or not p.provider_id:
        raise Problem(403, "仅接入服务提供者可执行此操作")
    return p.provider_id


# ---------------------------------------------------------------- the app


def create_app(
    api: Api,
    *,
    secret: str,
    readiness: Callable[[], Awaitable[dict[str, bool]]],
    is_revoked: Callable[[str], Awaitable[bool]] | None = None,
    client_max_size: int = 2 * 1024 * 1024,
    policy: security.Policy | None = None,
) -> web.Application:
    """The service's app; mount it under `/api/<service>/` (see `mount`)."""
    policy = policy or security.Policy()
    app = web.Application(middlewares=_middlewares(api.service, secret, is_revoked, policy, _allowed_methods(api)),
                          client_max_size=client_max_size)
    security.install(app, policy)
    app.on_response_prepare.append(_forget_stale_session)
    for r in api.routes:
        app.router.add_route(r.method, r.path, _wrap(r, api.service), name=r.handler.__name__)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": api.service})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness()
        ok = all(checks.values())
        body = {"status": "ok" if ok else "unavailable", "service": api.service,
                **{k: ("ok" if v else "down") for k, v in checks.items()}}
        return web.json_response(body, status=200 if ok else 503)

    own_metrics = ServiceView(api.service)  # this service's series and the process-wide ones (shared/metrics.py)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(own_metrics), headers={"Content-Type": CONTENT_TYPE_LATEST})

    spec = dumps(api.openapi())  # encoded once: it does not change while the app runs

    async def openapi(_: web.Request) -> web.Response:
        return web.Response(body=spec, content_type="application/json", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/openapi.json", openapi)

    async def asyncapi(_: web.Request) -> web.Response:
        from shared.asyncapi import build_asyncapi

        return json_response(build_asyncapi(api.version))

    app.router.add_get("/asyncapi.json", asyncapi)
    return app


def mount(root: web.Application, service: str, app: web.Application) -> None:
    root.add_subapp(f"/api/{service}/", app)


@web.middleware
async def _root_problems(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return http_problem(e, request)


def root_app(client_max_size: int = 2 * 1024 * 1024, policy: security.Policy | None = None) -> web.Application:
    """The outer app: `/healthz` and `/metrics` at the root, services mounted below."""
    root = web.Application(client_max_size=client_max_size, middlewares=[_root_problems])
    security.install(root, policy or security.Policy())

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    root.router.add_get("/healthz", healthz)
    root.router.add_get("/metrics", metrics)
    return root
