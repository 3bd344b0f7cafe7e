"""Wiring of the importer service."""

from __future__ import annotations

from pathlib import Path

from services.importer.api import api
from services.importer.handlers import register
from services.importer.worker import job_loop, purge_loop
from shared.directory import platform_handlers
from shared.service import ServiceDef


def service() -> ServiceDef:
    handlers = platform_handlers()
    register(handlers)
    return ServiceDef(
        name="importer",
        title="ICP 备案 — 批量导入服务 (importer)",
        api=api,
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
        background=[job_loop, purge_loop],
    )
