"""The `icp` command: run, migrate and administer the platform.

The platform's own commands live here (`up`, `serve`, `migrate`, `asyncapi`, `admin token`).
Commands that belong to a service (accounts, providers, demo data, rebuilding a read model)
live in that service's `cli.py`, found by name like its `app.py` (`shared/` never imports a
service): `services/<name>/cli.py` exposes `register(cli: Cli)`, adds its sub-commands to
`cli.commands` (top level: `icp <command>`) or `cli.admin` (`icp admin <command>`), and gives
each one `set_defaults(run=fn)` with `async def fn(settings, args)`. See docs/PLATFORM.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass

from shared import logs
from shared.config import SERVICES, check_startup, get_settings


def _run(coro) -> None:
    """Servers run on uvloop: aiohttp, asyncpg and aio-pika all do measurably more per core on it."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; fall back on exotic platforms
        asyncio.run(coro)
        return
    uvloop.run(coro)


@dataclass
class Cli:
    """What a service's `cli.register` adds its commands to."""

    commands: argparse._SubParsersAction  # `icp <command>`
    admin: argparse._SubParsersAction  # `icp admin <command>`


def service_cli_modules() -> list[str]:
    """The services that contribute commands: those with a `cli` module, by name."""
    return [f"services.{name}.cli" for name in SERVICES if importlib.util.find_spec(f"services.{name}.cli")]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icp", description="ICP 备案平台 (ICP filing platform)")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run all five services, their workers and the console in one process")
    up.add_argument("--port", type=int, default=None, help="HTTP port (default ICP_PORT or 8080)")
    up.set_defaults(run=_up)

    serve = sub.add_parser("serve", help="run one service, as Kubernetes does")
    serve.add_argument("service", choices=(*SERVICES, "console"), help="a service, or console (the web console's static files)")
    role = serve.add_mutually_exclusive_group()
    role.add_argument("--api", action="store_true", help="HTTP API (and outbox relay) only")
    role.add_argument("--worker", action="store_true", help="inbox consumer (and outbox relay) only")
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(run=_serve)

    sub.add_parser("migrate", help="apply every service's migrations").set_defaults(run=_migrate)
    sub.add_parser("asyncapi", help="print the AsyncAPI document of every message").set_defaults(run=_asyncapi)

    admin = sub.add_parser("admin", help="administration")
    asub = admin.add_subparsers(dest="admin_command", required=True)
    tok = asub.add_parser("token", help="print a session token (operators' and tests' escape hatch)")
    tok.add_argument("--role", default="admin", choices=["admin", "bureau", "provider", "sponsor"])
    tok.add_argument("--user", default="admin")
    tok.add_argument("--provider-id")
    tok.add_argument("--province")
    tok.set_defaults(run=_token)

    cli = Cli(commands=sub, admin=asub)
    for module in service_cli_modules():
        importlib.import_module(module).register(cli)
    return parser


def needs_secret(args: argparse.Namespace) -> bool:
    """Every command runs services, signs tokens or touches data, so a prod process without a real
    ICP_SECRET_KEY refuses it; except printing the AsyncAPI document and serving the console's static
    files (its Deployment has no Secret: it signs and checks nothing)."""
    if args.command == "asyncapi":
        return False
    return not (args.command == "serve" and getattr(args, "service", None) == "console")


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    if needs_secret(args):
        check_startup(settings)
    result = args.run(settings, args)
    if inspect.isawaitable(result):
        asyncio.run(result)


def _up(settings, args) -> None:
    from shared.runtime import serve as run

    _run(run(settings, list(SERVICES), "all", port=args.port or settings.port, allow_embedded=True, console=True))


def _serve(settings, args) -> None:
    from shared.runtime import serve as run

    if args.service == "console":  # static files only; found by name: shared never imports a service
        console = importlib.import_module("services.console.app")
        _run(console.run(settings.host, args.port or settings.port, reuse_port=settings.reuse_port))
        return

    r = "api" if args.api else "worker" if args.worker else "all"
    _run(run(settings, [args.service], r, port=args.port or settings.port, allow_embedded=False))


def _asyncapi(settings, args) -> None:
    import json

    from shared.asyncapi import build_asyncapi

    print(json.dumps(build_asyncapi(), ensure_ascii=False, indent=2))


async def _migrate(settings, args) -> None:
    from shared.runtime import Runtime, resolve_endpoints

    ep = await resolve_endpoints(settings, allow_embedded=True)
    rt = Runtime(settings, ep, list(SERVICES))
    await rt.migrate()
    print("migrations applied:", ", ".join(SERVICES))
    if ep.embedded_pg is not None:
        ep.embedded_pg.cleanup()


def _token(settings, args) -> None:
    from shared.auth import Role, issue_token, new_principal

    p = new_principal(
        user_id=args.user, role=Role(args.role), username=args.user, ttl=settings.token_ttl,
        provider_id=args.provider_id, province=args.province,
    )
    print(issue_token(settings.secret_key, p))


if __name__ == "__main__":
    main(sys.argv[1:])
