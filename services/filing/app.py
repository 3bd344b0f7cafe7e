"""Wiring of the filing service."""

from __future__ import annotations

from pathlib import Path

from services.filing.api import api
from shared.directory import platform_handlers
from shared.service import ServiceDef


def service() -> ServiceDef:
    # filing produces the provider and session events; it consumes none of the platform's
    handlers = platform_handlers(provider_directory=False, revocations=False)
    return ServiceDef(
        name="filing",
        title="ICP 备案 — 备案服务 (filing)",
        api=api,
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
    )
