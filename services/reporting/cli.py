"""`icp reporting …`: commands of the reporting service (found by shared/cli.py)."""

from __future__ import annotations

import json

from shared.runtime import command_context


def register(cli) -> None:
    group = cli.commands.add_parser("reporting", help="reporting read models (查询统计)")
    sub = group.add_subparsers(dest="reporting_command", required=True)
    sub.add_parser("rebuild", help="rebuild the query tables from the reporting event log").set_defaults(run=rebuild)


async def rebuild(settings, args) -> None:
    from services.reporting.rebuild import rebuild as run

    async with command_context(settings, "reporting") as ctx, ctx.pool.acquire() as conn:
        events = await run(conn)
    print(json.dumps({"rebuilt": True, "events": events}))
