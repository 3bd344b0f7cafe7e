"""Wiring of the detection service."""

from __future__ import annotations

from pathlib import Path

from services.detection.api import api
from services.detection.handlers import register
from shared.directory import platform_handlers
from shared.service import ServiceDef


def service() -> ServiceDef:
    handlers = platform_handlers()
    register(handlers)
    return ServiceDef(
        name="detection",
        title="ICP 备案 — 未备案检测服务 (detection)",
        api=api,
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
    )
