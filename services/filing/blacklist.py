"""Filing's projection of the filing blacklist (备案信息黑名单), fed by `detection.blacklist.changed`,
and the rule it serves: a new filing, an added website or a change naming a listed certificate or
domain is refused (the rows below join the conflicts of `entry.model.conflict_error`)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from shared.blacklist import cert_digest
from shared.bus import MessageContext
from shared.contracts.detection import BlacklistChanged


async def on_blacklist_changed(e: BlacklistChanged, mctx: MessageContext) -> None:
    """Latest change per entry wins (an older one arriving late changes nothing)."""
    await mctx.conn.execute(
        """INSERT INTO blacklist AS b (entry_id, kind, cert_digest, domains, reason, active, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (entry_id) DO UPDATE SET kind = EXCLUDED.kind, cert_digest = EXCLUDED.cert_digest,
               domains = EXCLUDED.domains, reason = EXCLUDED.reason, active = EXCLUDED.active,
               changed_at = EXCLUDED.changed_at
           WHERE b.changed_at <= EXCLUDED.changed_at""",
        uuid.UUID(e.entry_id), e.kind, e.cert_digest, e.domains, e.reason, e.action == "listed", e.changed_at,
    )


_ROWS_SQL = """
SELECT 'blacklist_cert' AS kind, b.cert_digest AS key, b.reason
  FROM blacklist b WHERE b.active AND b.kind = 'SUBJECT' AND b.cert_digest = ANY($1::text[])
UNION ALL
SELECT 'blacklist_domain', d, b.reason
  FROM blacklist b, unnest(b.domains) AS d
 WHERE b.active AND b.kind = 'WEBSITE' AND b.domains && $2::text[] AND d = ANY($2::text[])
"""


async def blacklist_rows(
    conn: asyncpg.Connection, certs: list[tuple[str, str]], domains: list[str], *,
    subject_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Conflict rows (kind blacklist_cert / blacklist_domain) for these certificates ((family, number)),
    the certificate of `subject_id`, and these domains; `key` is the certificate's (family, number) or
    the domain, as the callers' paths know them."""
    certs = [c for c in certs if c and c[1]]
    if subject_id is not None:
        s = await conn.fetchrow("SELECT cert_family, cert_number FROM subjects WHERE id = $1", subject_id)
        if s is not None:
            certs.append((s["cert_family"], s["cert_number"]))
    by_digest = {cert_digest(f, n): (f, n) for f, n in certs}
    if not by_digest and not domains:
        return []
    rows = await conn.fetch(_ROWS_SQL, list(by_digest), list(domains))
    out = []
    for r in rows:
        if r["kind"] == "blacklist_cert":
            family, number = by_digest[r["key"]]
            out.append({"kind": "blacklist_cert", "key": number, "family": family, "number": None,
                        "reason": r["reason"]})
        else:
            out.append({"kind": "blacklist_domain", "key": r["key"], "number": None, "reason": r["reason"]})
    return out
