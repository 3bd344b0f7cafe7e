"""Wiring of the verification service."""

from __future__ import annotations

from pathlib import Path

from services.verification import auto_review
from services.verification.api import api
from services.verification.handlers import register
from shared.directory import platform_handlers
from shared.service import ServiceDef


def service() -> ServiceDef:
    handlers = platform_handlers()
    register(handlers)
    rules = auto_review.rules_from_env()  # ICP_AUTO_REVIEW; off unless set
    return ServiceDef(
        name="verification",
        title="ICP 备案 — 核实与审核服务 (verification)",
        api=api,
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
        background=[auto_review.make_loop(rules)] if rules else [],
    )
