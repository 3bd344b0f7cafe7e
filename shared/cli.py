"""The `icp` command: run, migrate and administer the platform."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from shared import logs
from shared.config import SERVICES, get_settings


def _run(coro) -> None:
    """Servers run on uvloop: aiohttp, asyncpg and aio-pika all do measurably more per core on it."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; fall back on exotic platforms
        asyncio.run(coro)
        return
    uvloop.run(coro)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="icp", description="ICP 备案平台 (ICP filing platform)")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run all five services, their workers and the console in one process")
    up.add_argument("--port", type=int, default=None, help="HTTP port (default ICP_PORT or 8080)")

    serve = sub.add_parser("serve", help="run one service, as Kubernetes does")
    serve.add_argument("service", choices=SERVICES)
    role = serve.add_mutually_exclusive_group()
    role.add_argument("--api", action="store_true", help="HTTP API (and outbox relay) only")
    role.add_argument("--worker", action="store_true", help="inbox consumer (and outbox relay) only")
    serve.add_argument("--port", type=int, default=None)

    sub.add_parser("migrate", help="apply every service's migrations")
    sub.add_parser("asyncapi", help="print the AsyncAPI document of every message")

    admin = sub.add_parser("admin", help="administration")
    asub = admin.add_subparsers(dest="admin_command", required=True)
    cp = asub.add_parser("create-provider", help="create a provider (tenant)")
    cp.add_argument("--name", required=True)
    cp.add_argument("--province", required=True, help="province code, e.g. BJ")
    cp.add_argument("--id", dest="provider_id")
    for name, what in (("create-operator", "a provider operator (接入服务商操作员)"),
                       ("create-reviewer", "a bureau reviewer (管局审核人员), scoped to a province"),
                       ("create-admin", "a platform administrator")):
        ca = asub.add_parser(name, help=f"create {what}")
        if name == "create-operator":
            ca.add_argument("--provider-id", required=True)
        if name == "create-reviewer":
            ca.add_argument("--province", required=True, help="province code, e.g. BJ")
        ca.add_argument("--username", required=True)
        pw = ca.add_mutually_exclusive_group(required=True)
        pw.add_argument("--password", help="initial password (6-12 letters/digits/.-_, with a letter and a digit)")
        pw.add_argument("--generate", action="store_true", help="generate a random password and print it once")
        ca.add_argument("--display-name", help="姓名/名称 (default: the username)")
    tok = asub.add_parser("token", help="print a session token (operators' and tests' escape hatch)")
    tok.add_argument("--role", default="admin", choices=["admin", "bureau", "provider", "sponsor"])
    tok.add_argument("--user", default="admin")
    tok.add_argument("--provider-id")
    tok.add_argument("--province")

    sub.add_parser("demo", help="load demo data: provider demo-idc, its operator, a reviewer, an admin, content")

    args = parser.parse_args(argv)
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)

    if args.command == "up":
        from shared.runtime import serve as run

        _run(run(settings, list(SERVICES), "all", port=args.port or settings.port, allow_embedded=True))
    elif args.command == "serve":
        from shared.runtime import serve as run

        r = "api" if args.api else "worker" if args.worker else "all"
        _run(run(settings, [args.service], r, port=args.port or settings.port, allow_embedded=False))
    elif args.command == "asyncapi":
        import json

        from shared.asyncapi import build_asyncapi

        print(json.dumps(build_asyncapi(), ensure_ascii=False, indent=2))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "admin":
        asyncio.run(_admin(settings, args))
    elif args.command == "demo":
        asyncio.run(_demo(settings))


async def _migrate(settings) -> None:
    from shared.runtime import Runtime, resolve_endpoints

    ep = await resolve_endpoints(settings, allow_embedded=True)
    rt = Runtime(settings, ep, list(SERVICES))
    await rt.migrate()
    print("migrations applied:", ", ".join(SERVICES))
    if ep.embedded_pg is not None:
        ep.embedded_pg.cleanup()


async def _admin(settings, args) -> None:
    from shared.auth import Role, issue_token, new_principal

    if args.admin_command == "token":
        p = new_principal(
            user_id=args.user, role=Role(args.role), username=args.user, ttl=settings.token_ttl,
            provider_id=args.provider_id, province=args.province,
        )
        print(issue_token(settings.secret_key, p))
        return
    if args.admin_command in ("create-operator", "create-reviewer", "create-admin"):
        await _create_account(settings, args)
        return
    if args.admin_command == "create-provider":
        from services.filing.handlers import register_provider
        from services.filing.model import ProviderIn
        from shared import db
        from shared.outbox import Outbox
        from shared.runtime import Runtime, resolve_endpoints
        from shared.service import ServiceContext

        ep = await resolve_endpoints(settings, allow_embedded=False)
        await Runtime(settings, ep, ["filing"]).migrate()
        pool = await db.create_pool(ep.dsn, "filing", min_size=1, max_size=2)
        try:
            ctx = ServiceContext("filing", settings, pool, Outbox("filing"), transport=None)  # type: ignore[arg-type]
            out = await register_provider(
                ctx, ProviderIn(name=args.name, province=args.province, provider_id=args.provider_id), actor="cli"
            )
            print(out.model_dump_json())
        finally:
            await pool.close()


@contextlib.asynccontextmanager
async def _filing_context(settings, *, allow_embedded: bool = False):
    """A filing ServiceContext for one command: endpoints resolved, filing migrated, a small pool.
    Messages it writes wait in filing's outbox until a running filing relays them."""
    from shared import db
    from shared.outbox import Outbox
    from shared.runtime import Runtime, resolve_endpoints
    from shared.service import ServiceContext

    ep = await resolve_endpoints(settings, allow_embedded=allow_embedded)
    await Runtime(settings, ep, ["filing"]).migrate()
    pool = await db.create_pool(ep.dsn, "filing", min_size=1, max_size=2)
    try:
        yield ServiceContext("filing", settings, pool, Outbox("filing"), transport=None)  # type: ignore[arg-type]
    finally:
        await pool.close()
        if ep.embedded_pg is not None:
            ep.embedded_pg.cleanup()


async def _create_account(settings, args) -> None:
    from pydantic import ValidationError

    from services.filing.accounts import create_account
    from services.filing.accounts_model import UserCreateIn
    from shared.errors_zh import translate_errors
    from shared.web import Problem

    role = {"create-operator": "provider", "create-reviewer": "bureau", "create-admin": "admin"}[args.admin_command]
    try:
        cmd = UserCreateIn(
            role=role, username=args.username, password=args.password, generate_password=args.generate,
            display_name=args.display_name, provider_id=getattr(args, "provider_id", None),
            province=getattr(args, "province", None),
        )
    except ValidationError as e:
        raise SystemExit("; ".join(f"{x['field']}: {x['message']}" for x in translate_errors(e))) from None
    async with _filing_context(settings) as ctx:
        try:
            out = await create_account(ctx, cmd, actor="cli")
        except Problem as p:
            lines = [f"  {x['field']}: {x['message']}" for x in (p.errors or [])] if len(p.errors or []) > 1 else []
            raise SystemExit("\n".join([p.detail, *lines])) from None
    print(out.model_dump_json())


async def _demo(settings) -> None:
    from services.filing.demo import load_demo

    async with _filing_context(settings, allow_embedded=True) as ctx:
        await load_demo(ctx)


if __name__ == "__main__":
    main(sys.argv[1:])
