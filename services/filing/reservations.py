"""Batch import reservations (`batch_reservations`, migration 041): what a checked import file will file —
certificates ("<family>:<number>"), principal mobiles, domains — held for its job until its chunk is
imported, the job ends (`importer.job.finished`) or the reservation expires. Every path that files or
adds these keys looks at them (`rows`): the import's own chunks (`entry.bulk.find_conflicts`, in its one
query), a first filing (`entry.store`, `entry.bulk`), a correction (`entry.store.check_database_rules`), a new website or
changed domains and mobiles (`changes.store.check_conflicts`); `entry.model.conflict_error` words the
refusal ("与正在导入的另一个文件冲突"). So a file that passed its check is imported whole."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg


def keys_of(certs: Iterable[tuple[str, str]], mobiles: Iterable[str], domains: Iterable[str]) -> list[tuple[str, str]]:
    """(kind, key) pairs as reserved."""
    return ([("cert", f"{family}:{number}") for family, number in certs] + [("mobile", m) for m in mobiles]
            + [("domain", d) for d in domains])


_ROWS_SQL = """
SELECT r.kind, r.key
  FROM unnest($1::text[], $2::text[]) AS k(kind, key),
       LATERAL (SELECT r.kind, r.key FROM batch_reservations r
                 WHERE r.kind = k.kind AND r.key = k.key AND r.expires_at > now()
                   AND r.job_id IS DISTINCT FROM $3) r
"""


async def rows(conn: asyncpg.Connection, certs: Iterable[tuple[str, str]] = (), mobiles: Iterable[str] = (),
               domains: Iterable[str] = (), *, own_job: str | None = None) -> list[dict]:
    """The conflicts (rows for `entry.model.conflict_error`: kind reserved_cert / reserved_mobile /
    reserved_domain) of keys reserved by an import job other than `own_job`."""
    pairs = keys_of(certs, mobiles, domains)
    if not pairs:
        return []
    found = await conn.fetch(_ROWS_SQL, [p[0] for p in pairs], [p[1] for p in pairs], own_job)
    return [{"kind": f"reserved_{r['kind']}", "key": r["key"].partition(":")[2] if r["kind"] == "cert" else r["key"],
             "number": None} for r in found]


_RESERVE_SQL = """
INSERT INTO batch_reservations AS r (kind, key, job_id, chunk_no, provider_id, expires_at)
SELECT k.kind, k.key, $3, $4, $5, now() + make_interval(secs => $6)
  FROM unnest($1::text[], $2::text[]) AS k(kind, key)
 ORDER BY k.kind, k.key
ON CONFLICT (kind, key) DO UPDATE
   SET job_id = EXCLUDED.job_id, chunk_no = EXCLUDED.chunk_no, provider_id = EXCLUDED.provider_id,
       expires_at = EXCLUDED.expires_at
 WHERE r.job_id = EXCLUDED.job_id OR r.expires_at <= now()
"""


async def reserve(conn: asyncpg.Connection, pairs: Iterable[tuple[str, str]], *, job_id: str, chunk_no: int,
                  provider_id: str, seconds: float) -> None:
    """Reserve the chunk's certificates, mobiles and domains for its import job (batch_reservations).
    A key another live job holds stays that job's (`rows` then reports it); one held by
    this job (a chunk checked again) or expired is taken over. Keys are inserted in sorted order, so
    two files reserving overlapping keys wait for each other instead of deadlocking; the primary
    key makes the second wait until the first commits, then see its row."""
    pairs = sorted(set(pairs))
    if pairs:
        await conn.execute(_RESERVE_SQL, [p[0] for p in pairs], [p[1] for p in pairs], job_id, chunk_no,
                           provider_id, seconds)


async def release(conn: asyncpg.Connection, job_id: str, chunk_no: int | None = None) -> str:
    """Drop a job's reservations (of one chunk: imported, its keys are now held by the filings)."""
    if chunk_no is None:
        return await conn.execute("DELETE FROM batch_reservations WHERE job_id = $1", job_id)
    return await conn.execute("DELETE FROM batch_reservations WHERE job_id = $1 AND chunk_no = $2", job_id, chunk_no)
