"""Audit trail: who changed which subject, website, application or draft, when, and what changed.

Entries are written in the transaction of the change (so a rolled-back change leaves no
entry) and read per subject: `GET /api/filing/subjects/{id}/history`. ID numbers are masked in
the recorded values (the full numbers stay only in the records themselves): every principal's
`id_number`, and the `cert_number` of a personal subject (个人: the certificate is the person's own
ID). Reading masks again (`subject_history`), so rows written before the rule, or by a writer that
forgot it, never reach a reader unmasked; migration 081 masked the rows already stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared import codes, logs
from shared import validate as v

_SECRET_KEYS = ("id_number", "legal_rep_id")
_PERSONAL_KEYS = ("id_number", "legal_rep_id", "cert_number")  # a personal subject's certificate is an ID number


@dataclass
class Entry:
    entity: str  # subject | website | application | draft
    entity_id: str
    action: str  # create | update | delete | status | submit | resubmit | approve | return | reject …
    actor: str
    subject_id: str | None = None
    provider_id: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    # whether the subject is (or, in this change, was) personal; None = judged from `changes`
    personal: bool | None = None

    def row(self) -> dict[str, Any]:
        personal = self.personal if self.personal is not None else looks_personal(self.changes)
        return {
            "entity": self.entity,
            "entity_id": self.entity_id,
            "subject_id": self.subject_id,
            "action": self.action,
            "actor": self.actor,
            "provider_id": self.provider_id,
            "changes": scrub(self.changes, personal=personal),
            "request_id": logs.correlation_id.get(),
        }


def scrub(value: Any, *, personal: bool = False) -> Any:
    """A copy with every `id_number` masked (recursively), and every `cert_number` too when the
    subject is personal; a value recorded as a change ([old, new]) has both sides masked."""
    keys = _PERSONAL_KEYS if personal else _SECRET_KEYS
    if isinstance(value, dict):
        return {
            k: (
                _mask(x) if k in keys
                else scrub(x, personal=personal) if isinstance(x, _CONTAINERS) else x
            )
            for k, x in value.items()
        }
    if isinstance(value, _CONTAINERS):
        return [scrub(x, personal=personal) if isinstance(x, _CONTAINERS) else x for x in value]
    return value


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return v.mask_id_number(value) if value else value
    if isinstance(value, list | tuple):  # [old, new] of a change
        return [_mask(x) for x in value]
    return value


def looks_personal(changes: dict[str, Any]) -> bool:
    """Whether an entry's certificate number may be a person's ID: yes when its `nature` (or either
    side of a nature change) is personal, and when it records no nature at all (a correction that
    changed only the number) — masking an organisation's number there loses little."""
    nature = changes.get("nature")
    if nature is None:
        return True
    sides = nature if isinstance(nature, list | tuple) else [nature]
    return any(isinstance(n, str) and codes.is_personal_nature(n) for n in sides)


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
    personal = bool(rows) and await ever_personal(conn, subject_id)
    return [
        {k: (str(r[k]) if k == "entity_id" else scrub(r[k], personal=personal) if k == "changes" else r[k])
         for k in ("id", "entity", "entity_id", "action", "actor", "at", "changes", "request_id")}
        for r in rows
    ], total


EVER_PERSONAL_SQL = """
SELECT EXISTS (SELECT 1 FROM subjects WHERE id = $1 AND nature = ANY($2::text[]))
    OR EXISTS (SELECT 1 FROM audit_log
               WHERE subject_id = $1 AND entity = 'subject'
                 AND (changes->>'nature' = ANY($2::text[]) OR changes->'nature' ?| $2::text[]))
"""


async def ever_personal(conn: asyncpg.Connection | asyncpg.Pool, subject_id: str) -> bool:
    """Whether the subject is personal or was so in any recorded change (a personal subject may
    become an organisation, DOMAIN §4: its earlier certificate numbers are still a person's ID)."""
    return bool(await conn.fetchval(EVER_PERSONAL_SQL, subject_id, personal_natures()))


def personal_natures() -> list[str]:
    return [r["code"] for r in codes.rows("unit_natures") if codes.is_personal_nature(r["code"])]
