"""OpenAPI 3.1 documents of the services, built from their route tables (`shared.web.Api`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from shared.bounds import bound_schema
from shared.web import _TITLES, COOKIE_NAME

if TYPE_CHECKING:
    from shared.web import Api, Route


def build_openapi(api: Api) -> dict[str, Any]:
    """The service's OpenAPI 3.1 document, built from its route table's pydantic models."""
    models: list[tuple[type[BaseModel], str]] = []
    for r in api.routes:
        if r.body:
            models.append((r.body, "validation"))
        if r.response:
            models.append((r.response, "serialization"))
    _, defs = models_json_schema(models, ref_template="#/components/schemas/{model}") if models else ({}, {})
    schemas = bound_schema(dict(defs.get("$defs", {})))
    schemas["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    base = f"/api/{api.service}"
    for r in api.routes:
        op: dict[str, Any] = {
            "summary": r.summary or r.handler.__name__,
            "operationId": r.handler.__name__,
            "tags": r.tags or [api.service],
            "responses": {},
        }
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in re.findall(r"{(\w+)}", r.path)
        ]
        if r.query:
            properties = r.query.model_json_schema()["properties"]
            for name, f in r.query.model_fields.items():
                schema = bound_schema(_strip_defs(properties.get(name, {})))
                if _rejects_empty(schema) and _accepts_empty(r.query, name):
                    # an empty form field (`?approved_to=`) means "no filter" where the model says so
                    schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
                params.append({"name": name, "in": "query", "required": f.is_required(), "schema": schema})
        if params:
            op["parameters"] = params
        if r.body:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{r.body.__name__}"}}},
            }
        elif r.upload:
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": [r.upload],
                "properties": {r.upload: {"type": "string", "format": "binary"}}}}}}
        ok: dict[str, Any] = {"description": "成功"}
        if r.response:
            ok["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{r.response.__name__}"}}}
        elif r.raw_response:
            ok["content"] = {r.raw_response: {"schema": {"type": "string", "format": "binary"}}}
        op["responses"][str(r.status)] = ok
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        if r.roles is not None:
            op["security"] = [{"bearer": []}, {"cookie": []}]
            op["x-roles"] = sorted(str(x) for x in r.roles)
        for c in sorted(problem_statuses(r)):
            op["responses"][str(c)] = {"description": _TITLES.get(c, "错误"), "content": problem}
        paths.setdefault(base + r.path, {})[r.method.lower()] = op
    status = {"type": "object", "properties": {"status": {"type": "string"}, "service": {"type": "string"}},
              "required": ["status"], "additionalProperties": {"type": "string"}}
    as_json = {"application/json": {"schema": status}}
    paths[base + "/healthz"] = {"get": {"summary": "进程存活", "operationId": "healthz", "responses": {
        "200": {"description": "成功", "content": as_json}}}}
    paths[base + "/readyz"] = {"get": {"summary": "可接收请求（数据库与消息中间件连接正常）", "operationId": "readyz",
                                       "responses": {"200": {"description": "就绪", "content": as_json},
                                                     "503": {"description": "连接断开", "content": as_json}}}}
    paths[base + "/metrics"] = {"get": {"summary": "Prometheus 指标", "operationId": "metrics", "responses": {
        "200": {"description": "成功", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME},
            },
        },
    }


def problem_statuses(r: Route) -> set[int]:
    """Every problem status the route can answer: the platform's for what the route declares (a body,
    a query, path parameters, roles) and the use case's own (`errors=`)."""
    codes = {401}  # any route: a token that is invalid, expired or revoked (the auth middleware)
    if r.body or r.upload:
        codes |= {400, 413, 415, 422}  # malformed, too large, wrong content type, invalid
    if r.query:
        codes |= {400, 422}  # a combination of filters the use case refuses; an invalid value
    if "{" in r.path:
        codes |= {404, 422}  # unknown id; a control character in it
    if r.roles is not None:
        codes.add(403)
    if r.method in ("POST", "PUT", "PATCH", "DELETE"):
        codes |= {403, 415}  # a cross-site cookie request; a body that is neither JSON nor a declared upload
    return codes | set(r.errors)


def _accepts_empty(model: type[BaseModel], name: str) -> bool:
    try:
        model.model_validate({name: ""})
    except ValidationError as e:
        return not any(err["loc"] and err["loc"][0] == name for err in e.errors())
    except Exception:
        return False
    return True


def _rejects_empty(schema: dict[str, Any]) -> bool:
    """Whether a JSON Schema refuses the empty string (a $ref, an enum, a number, a date …)."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return all(_rejects_empty(s) for s in schema[key])
    if "$ref" in schema or "enum" in schema or "const" in schema:
        return "" not in schema.get("enum", [schema.get("const")])
    types = schema.get("type")
    if types != "string" and not (isinstance(types, list) and "string" in types):
        return types is not None
    pattern = schema.get("pattern")
    return (schema.get("minLength", 0) > 0 or schema.get("format") in ("date", "date-time", "uuid", "email")
            or (pattern is not None and not re.search(pattern, "")))


def _strip_defs(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("title",)}


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["title", "status", "detail"],
}
