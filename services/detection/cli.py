"""detection's `icp` commands: API keys of the source systems that POST detections
(registered by `shared.cli`, found by name)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.cli import Cli


def register(cli: Cli) -> None:
    cs = cli.admin.add_parser("create-source", help="create (or re-key) a detection source system; prints its API key once")
    cs.add_argument("--name", required=True, help="the source system, e.g. probe-bj-01")
    cs.set_defaults(run=create_source)
    rs = cli.admin.add_parser("revoke-source", help="revoke a detection source system's API key")
    rs.add_argument("--name", required=True)
    rs.set_defaults(run=revoke_source)
    ls = cli.admin.add_parser("list-sources", help="list detection source systems (keys are never shown)")
    ls.set_defaults(run=list_sources)
    pb = cli.admin.add_parser("publish-blacklist", help="publish every active filing-blacklist entry again, its "
                              "certificate digest recomputed with the current ICP_SECRET_KEY (after rotating it, "
                              "with `icp admin publish-records`), so filing's projection matches")
    pb.set_defaults(run=publish_blacklist)


async def create_source(settings, args) -> None:
    from services.detection import handlers
    from shared.runtime import command_context
    from shared.web import Problem

    async with command_context(settings, "detection") as ctx:
        try:
            out = await handlers.create_source(ctx.pool, args.name, actor="cli")
        except Problem as p:
            raise SystemExit(p.detail) from None
    print(json.dumps(out, ensure_ascii=False))


async def revoke_source(settings, args) -> None:
    from services.detection import handlers
    from shared.runtime import command_context

    async with command_context(settings, "detection") as ctx:
        if not await handlers.revoke_source(ctx.pool, args.name, actor="cli"):
            raise SystemExit(f"没有未吊销的数据源“{args.name}”")
    print(json.dumps({"name": args.name, "revoked": True}, ensure_ascii=False))


async def list_sources(settings, args) -> None:
    from services.detection import store
    from shared.runtime import command_context

    async with command_context(settings, "detection") as ctx:
        for r in await store.list_sources(ctx.pool):
            print(json.dumps({"name": r["name"], "key_prefix": r["key_prefix"], "created_at": r["created_at"].isoformat(),
                              "revoked_at": r["revoked_at"].isoformat() if r["revoked_at"] else None},
                             ensure_ascii=False))


async def publish_blacklist(settings, args) -> None:
    from datetime import UTC, datetime

    from services.detection.blacklists import _event
    from shared.blacklist import cert_digest
    from shared.db import transaction
    from shared.runtime import command_context

    async with command_context(settings, "detection") as ctx:
        async with transaction(ctx.pool) as conn:
            rows = await conn.fetch("SELECT * FROM blacklist WHERE removed_at IS NULL ORDER BY listed_at FOR UPDATE")
            for r in rows:
                if r["kind"] == "SUBJECT":
                    r = await conn.fetchrow("UPDATE blacklist SET cert_digest = $2 WHERE id = $1 RETURNING *", r["id"],
                                            cert_digest(r["cert_family"], r["cert_number"], settings.secret_key))
                await ctx.outbox.add(conn, _event(r, "listed", datetime.now(UTC)))
    print(json.dumps({"published": len(rows)}))
