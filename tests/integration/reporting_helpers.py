"""Helpers for the reporting tests: calls to /api/reporting and waiting for the read model."""

from __future__ import annotations

import json

from tests.conftest import System

R = "/api/reporting"


async def rget(system: System, path: str, headers: dict, params: dict | None = None, expect: int | None = 200):
    resp = await system.client.get(R + path, headers=headers, params=params or {})
    text = await resp.text()
    body = json.loads(text) if text and resp.content_type.endswith("json") else text
    if expect is not None:
        assert resp.status == expect, (resp.status, body)
    return body if expect is not None else (resp.status, body)


async def until(system: System, path: str, headers: dict, check, params: dict | None = None):
    """Poll a reporting GET until `check(body)` holds; returns the body."""

    async def ready():
        body = await rget(system, path, headers, params)
        return body if check(body) else None

    return await system.eventually(ready)


def website_nos(body: dict) -> set[str]:
    return {i["website_no"] for i in body["items"]}


async def dump(conn, tables) -> dict[str, list[str]]:
    """Every row of each table as text, sorted: two dumps are equal when the tables are."""
    out = {}
    for t in tables:
        rows = await conn.fetch(f"SELECT t::text AS r FROM {t} t")
        out[t] = sorted(r["r"] for r in rows)
    return out
