"""What a service is (its definition) and what it runs with (its context).

A service module builds a `ServiceDef` in its `app.py`; `shared.runtime` turns the
definition into a running process: pool, migrations, transport, outbox relay,
inbox consumer, HTTP app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web

from shared.bus import HandlerTable
from shared.config import Settings
from shared.outbox import Outbox
from shared.web import Api

if TYPE_CHECKING:
    from shared.bus import Consumer, Transport
    from shared.outbox import OutboxRelay
    from shared.revocation import RevocationCache


@dataclass
class ServiceContext:
    name: str
    settings: Settings
    pool: asyncpg.Pool
    outbox: Outbox
    transport: Transport
    relay: OutboxRelay | None = None
    consumer: Consumer | None = None
    revocations: RevocationCache | None = None
    extras: dict = field(default_factory=dict)


CTX = web.AppKey("icp_ctx", ServiceContext)


@dataclass
class ServiceDef:
    name: str
    title: str
    api: Api
    handlers: HandlerTable
    migrations: Path
    # background loops run in the worker role (e.g. purging expired files)
    background: list[Callable[[ServiceContext], Awaitable[None]]] = field(default_factory=list)


def ctx(request: web.Request) -> ServiceContext:
    return request.app[CTX]
