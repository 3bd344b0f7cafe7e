"""Wiring of the reporting service."""

from __future__ import annotations

from pathlib import Path

from services.reporting.api import api
from services.reporting.handlers import register
from shared.directory import platform_handlers
from shared.service import ServiceDef


def service() -> ServiceDef:
    handlers = platform_handlers(provider_directory=False)  # logged and applied by handlers.py
    register(handlers)
    return ServiceDef(
        name="reporting",
        title="ICP 备案 — 查询统计服务 (reporting)",
        api=api,
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
    )
