"""PostgreSQL access: one asyncpg pool per service, per-schema migrations, transactions.

Each service owns one schema. Migrations are the ordered `NNN_name.sql` files of the
platform (`shared/migrations`, tables every service needs: outbox, inbox, revoked
sessions) followed by the service's own `migrations/` folder. Applied versions are kept
in `<schema>.schema_migrations`; an advisory lock keyed on the schema makes two
replicas that start together migrate once.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import orjson
import structlog
from pydantic_core import to_jsonable_python

log = structlog.get_logger(__name__)

PLATFORM_MIGRATIONS = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{3,})_[\w-]+\.sql$")
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _json_encode(value) -> bytes:
    return orjson.dumps(value, default=to_jsonable_python)


def _jsonb_encode(value) -> bytes:
    return b"\x01" + orjson.dumps(value, default=to_jsonable_python)  # jsonb's binary form: version 1, the text


def _jsonb_decode(data: bytes):
    return orjson.loads(memoryview(data)[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    # json and jsonb travel as Python objects both ways (orjson: fast, and dates become ISO 8601), in the
    # binary format (the same text behind a version byte): binary COPY takes them (`copy_records_to_table`,
    # the import's chunk write), and no UTF-8 text is decoded and encoded again on the way.
    await conn.set_type_codec("jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode, schema="pg_catalog",
                              format="binary")
    await conn.set_type_codec("json", encoder=_json_encode, decoder=orjson.loads, schema="pg_catalog",
                              format="binary")


async def _release(conn: asyncpg.Connection) -> None:
    # Pooled connections carry no session state (no SET, LISTEN, advisory locks or open
    # cursors: those use dedicated connections), so the default reset query — a round trip
    # on every release — is skipped. asyncpg has already rolled back an abandoned transaction
    # (`Connection._reset`, before this hook) by the time this runs.
    return None


async def create_pool(
    dsn: str,
    schema: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    idle_seconds: float = 30.0,
    statement_cache_size: int = 100,
    pgbouncer: bool = False,
) -> asyncpg.Pool:
    """A pool whose connections see `schema` first; SQL names tables unqualified.

    Idle connections above `min_size` close after `idle_seconds` (README, "Connection budget").
    Behind a transaction-mode PgBouncer (`pgbouncer=True`) a session setting in the startup packet
    would be refused (or lost between transactions), so the search_path is the role's default
    `"$user", public` — the role must be named like its schema (deploy/k8s does so); checked here.
    PgBouncer ≥ 1.21 with `max_prepared_statements` keeps asyncpg's prepared statements working;
    else pass `statement_cache_size=0`."""
    check_schema_name(schema)
    settings = {"application_name": f"icp-{schema}"}
    if not pgbouncer:
        settings["search_path"] = f"{schema},public"
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        max_inactive_connection_lifetime=idle_seconds,
        statement_cache_size=statement_cache_size,
        init=_init_connection,
        reset=_release,
        server_settings=settings,
    )
    if pgbouncer:
        current = await pool.fetchval("SELECT current_schema()")
        if current != schema:
            await pool.close()
            raise RuntimeError(
                f"behind PgBouncer the search_path comes from the role: connect as role {schema!r} "
                f"(its own schema first), not as one whose current schema is {current!r}")
    return pool


def idle_connection_budget(services: int, *, pool_min: int = 1) -> int:
    """PostgreSQL connections an idle process holds: `pool_min` per service it runs and one LISTEN
    connection (shared.listener). `icp up` (five services): 6; one `icp serve S` pod: 2."""
    return services * pool_min + 1


async def connect(dsn: str, schema: str | None = None) -> asyncpg.Connection:
    settings = {"search_path": f"{schema},public"} if schema else {}
    conn = await asyncpg.connect(dsn, server_settings=settings)
    await _init_connection(conn)
    return conn


def check_schema_name(schema: str) -> str:
    if not _SCHEMA.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return schema


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One connection in one transaction: commit on success, roll back on any error."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


def _migration_files(folder: Path, source: str) -> list[tuple[str, str, Path]]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        m = _NAME.match(path.name)
        if m:
            found.append((source, path.stem, path))
    versions = [f[1].split("_", 1)[0] for f in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration numbers in {folder}")
    return found


async def migrate(dsn_or_conn: str | asyncpg.Connection, schema: str, folder: Path | None) -> list[str]:
    """Apply pending migrations of the platform and of `folder` to `schema`; return what ran.

    Safe to run concurrently from several processes: the advisory lock serialises them and
    the second finds nothing left to do.
    """
    check_schema_name(schema)
    own = isinstance(dsn_or_conn, str)
    conn = await asyncpg.connect(dsn_or_conn) if own else dsn_or_conn
    lock_key = zlib.crc32(f"icp-migrate:{schema}".encode())
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
        try:
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations (
                    source text NOT NULL, name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (source, name))"""
            )
            done = {
                (r["source"], r["name"])
                for r in await conn.fetch(f'SELECT source, name FROM "{schema}".schema_migrations')
            }
            files = _migration_files(PLATFORM_MIGRATIONS, "platform")
            if folder is not None:
                files += _migration_files(folder, "service")
            for source, name, path in files:
                if (source, name) in done:
                    continue
                sql = path.read_text(encoding="utf-8")
                async with conn.transaction():
                    await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
                    await conn.execute(sql)
                    await conn.execute(
                        f'INSERT INTO "{schema}".schema_migrations (source, name) VALUES ($1, $2)',
                        source,
                        name,
                    )
                applied.append(f"{source}/{name}")
                log.info("migration.applied", schema=schema, source=source, migration=name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)
    finally:
        if own:
            await conn.close()
    return applied

