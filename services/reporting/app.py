"""Wiring of the reporting service."""

from __future__ import annotations

from pathlib import Path

from services.reporting import api, api_certs, api_stats
from services.reporting.handlers import register
from shared.directory import platform_handlers
from shared.service import ServiceDef
from shared.web import Api

ROUTE_MODULES = (
    api.api,  # providers, progress (1.7.1), filings + combined query + export (1.7.2, 1.7.3)
    api_stats.api,  # statistics (1.7.4)
    api_certs.api,  # e-certificates (1.5.1), public lookup (公共查询)
)


def build_api() -> Api:
    out = Api("reporting", "ICP 备案 — 查询统计服务")
    for fragment in ROUTE_MODULES:
        out.include(fragment)
    return out


def service() -> ServiceDef:
    handlers = platform_handlers(provider_directory=False)  # the directory is logged and applied by handlers.py
    register(handlers)
    return ServiceDef(
        name="reporting",
        title="ICP 备案 — 查询统计服务 (reporting)",
        api=build_api(),
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
    )
