"""filing's `icp` commands: providers, accounts, demo data (registered by `shared.cli`, found by name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.runtime import command_context

if TYPE_CHECKING:
    from shared.cli import Cli

ACCOUNT_COMMANDS = {
    "create-operator": ("provider", "a provider operator (接入服务商操作员)"),
    "create-reviewer": ("bureau", "a bureau reviewer (管局审核人员), scoped to a province"),
    "create-admin": ("admin", "a platform administrator"),
}


def register(cli: Cli) -> None:
    cp = cli.admin.add_parser("create-provider", help="create a provider (tenant)")
    cp.add_argument("--name", required=True)
    cp.add_argument("--province", required=True, help="province code, e.g. BJ")
    cp.add_argument("--id", dest="provider_id")
    cp.set_defaults(run=create_provider)
    for name, (_role, what) in ACCOUNT_COMMANDS.items():
        ca = cli.admin.add_parser(name, help=f"create {what}")
        if name == "create-operator":
            ca.add_argument("--provider-id", required=True)
        if name == "create-reviewer":
            ca.add_argument("--province", required=True, help="province code, e.g. BJ")
        ca.add_argument("--username", required=True)
        pw = ca.add_mutually_exclusive_group(required=True)
        pw.add_argument("--password", help="initial password (6-12 letters/digits/.-_, with a letter and a digit)")
        pw.add_argument("--generate", action="store_true", help="generate a random password and print it once")
        ca.add_argument("--display-name", help="姓名/名称 (default: the username)")
        ca.set_defaults(run=create_account)
    pr = cli.admin.add_parser(
        "publish-records", help="publish filing.record.changed for every filed subject (fills a new read model, "
                                "e.g. detection's filed domains, with the records filed before it existed)")
    pr.add_argument("--batch", type=int, default=200, help="subjects per transaction")
    pr.set_defaults(run=publish_records)
    demo = cli.commands.add_parser(
        "demo", help="load demo data: provider demo-idc, its operator, a reviewer, an admin, content")
    demo.set_defaults(run=load_demo)


async def create_provider(settings, args) -> None:
    from services.filing.providers.handlers import register_provider
    from services.filing.providers.model import ProviderIn

    async with command_context(settings, "filing") as ctx:
        out = await register_provider(
            ctx, ProviderIn(name=args.name, province=args.province, provider_id=args.provider_id), actor="cli"
        )
    print(out.model_dump_json())


async def create_account(settings, args) -> None:
    from pydantic import ValidationError

    from services.filing.accounts.handlers import create_account as create
    from services.filing.accounts.model import UserCreateIn
    from shared.errors_zh import translate_errors
    from shared.web import Problem

    role = ACCOUNT_COMMANDS[args.admin_command][0]
    try:
        cmd = UserCreateIn(
            role=role, username=args.username, password=args.password, generate_password=args.generate,
            display_name=args.display_name, provider_id=getattr(args, "provider_id", None),
            province=getattr(args, "province", None),
        )
    except ValidationError as e:
        raise SystemExit("; ".join(f"{x['field']}: {x['message']}" for x in translate_errors(e))) from None
    async with command_context(settings, "filing") as ctx:
        try:
            out = await create(ctx, cmd, actor="cli")
        except Problem as p:
            lines = [f"  {x['field']}: {x['message']}" for x in (p.errors or [])] if len(p.errors or []) > 1 else []
            raise SystemExit("\n".join([p.detail, *lines])) from None
    print(out.model_dump_json())


async def load_demo(settings, args) -> None:
    from services.filing.demo import load_demo as load

    async with command_context(settings, "filing", allow_embedded=True) as ctx:
        await load(ctx)


async def publish_records(settings, args) -> None:
    """One `filing.record.changed` per subject that ever held a number, in batches (each its own
    transaction; the events wait in the outbox until a running filing relays them). Safe to repeat:
    consumers keep the newest state by `seq`."""
    import json

    from services.filing.records.events import publish_record

    done, after = 0, None
    async with command_context(settings, "filing") as ctx:
        while True:
            ids = await ctx.pool.fetch(
                """SELECT id FROM subjects WHERE subject_no IS NOT NULL AND ($1::uuid IS NULL OR id > $1)
                   ORDER BY id LIMIT $2""", after, max(1, args.batch))
            if not ids:
                break
            async with ctx.pool.acquire() as conn, conn.transaction():
                for r in ids:
                    await publish_record(conn, r["id"])
            done += len(ids)
            after = ids[-1]["id"]
    print(json.dumps({"published": done}))
