"""Reporting knobs, from ICP_REPORTING_* environment variables (the platform's Settings holds the rest)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ICP_REPORTING_", extra="ignore")

    lookup_limit: int = Field(30, ge=1, description="public lookups per client address per window")
    lookup_window_seconds: float = Field(60.0, gt=0, description="the public lookup's rate-limit window")
    export_batch: int = Field(2000, ge=100, description="rows fetched per round from the export's cursor")


@lru_cache
def reporting_settings() -> ReportingSettings:
    return ReportingSettings()
