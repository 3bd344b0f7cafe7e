"""Audit trail: who changed which subject, website, application or draft, when, and what changed.

Entries are written in the transaction of the change (so a rolled-back change leaves no
entry) and read per subject: `GET /api/filing/subjects/{id}/history`. ID numbers are masked in
the recorded values (the full numbers stay only in the records themselves).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared import logs
from shared import validate as v

_SECRET_KEYS = ("id_number",)


@dataclass
class Entry:
    entity: str  # subject | website | application | draft
    entity_id: str
    action: str  # create | update | delete | status | submit | resubmit | approve | return | reject …
    actor: str
    subject_id: str | None = None
    provider_id: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "entity_id": self.entity_id,
            "subject_id": self.subject_id,
            "action": self.action,
            "actor": self.actor,
            "provider_id": self.provider_id,
            "changes": scrub(self.changes),
            "request_id": logs.correlation_id.get(),
        }


def scrub(value: Any) -> Any:
    """A copy with every `id_number` masked (recursively)."""
    if isinstance(value, dict):
        return {
            k: (
                v.mask_id_number(x) if k in _SECRET_KEYS and isinstance(x, str)
                else scrub(x) if isinstance(x, _CONTAINERS) else x
            )
            for k, x in value.items()
        }
    if isinstance(value, _CONTAINERS):
        return [scrub(x) if isinstance(x, _CONTAINERS) else x for x in value]
    return value


_CONTAINERS = (dict, list, tuple)


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every top-level field whose value changed."""
    out: dict[str, list[Any]] = {}
    for key in dict.fromkeys([*old, *new]):
        a, b = old.get(key), new.get(key)
        if _canon(a) != _canon(b):
            out[key] = [a, b]
    return out


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


INSERT_SQL = """
INSERT INTO audit_log (entity, entity_id, subject_id, action, actor, provider_id, changes, request_id)
SELECT x.entity, x.entity_id, x.subject_id, x.action, x.actor, x.provider_id, coalesce(x.changes, '{}'), x.request_id
FROM jsonb_to_recordset($1::jsonb) AS x(entity text, entity_id uuid, subject_id uuid, action text, actor text,
                                        provider_id text, changes jsonb, request_id text)
"""


async def record(conn: asyncpg.Connection, entries: list[Entry]) -> None:
    """Write the entries in one statement."""
    if entries:
        await conn.execute(INSERT_SQL, [e.row() for e in entries])


async def subject_history(
    conn: asyncpg.Connection | asyncpg.Pool, subject_id: str, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(
        """SELECT id, entity, entity_id, action, actor, at, changes, request_id, count(*) OVER () AS total
           FROM audit_log WHERE subject_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3""",
        subject_id,
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    if not rows and offset:
        total = await conn.fetchval("SELECT count(*) FROM audit_log WHERE subject_id = $1", subject_id)
    return [
        {k: (str(r[k]) if k == "entity_id" else r[k]) for k in ("id", "entity", "entity_id", "action", "actor", "at", "changes", "request_id")}
        for r in rows
    ], total
