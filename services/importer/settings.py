"""Importer knobs, from ICP_IMPORT_* environment variables (the platform's Settings holds the rest)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ICP_IMPORT_", extra="ignore")

    max_bytes: int = Field(20 * 1024 * 1024, description="largest accepted upload (bytes)")
    max_uncompressed: int = Field(400 * 1024 * 1024, description="sum of uncompressed part sizes (zip bomb guard)")
    max_ratio: float = Field(150.0, description="largest compression ratio of one part above 1 MB (zip bomb guard)")
    max_website_rows: int = Field(100_000, description="most website rows in one file")
    max_subject_rows: int = Field(100_000, description="most subject rows in one file")
    max_errors: int = Field(10_000, description="errors recorded per job (the count goes on)")
    read_process: bool = Field(
        True, description="read the subjects sheet in a short-lived process of its own while the reading worker "
                          "reads the websites sheet (both cores); off: one after the other in the worker"
    )
    chunk_websites: int = Field(500, description="website rows per filing.batch.* command")
    window: int = Field(4, description="chunks in flight per job (flow control towards filing)")
    check_window: int = Field(
        16, description="dry-run checks in flight per job (a check carries a chunk's keys only, ~1/20 of its items: "
                        "more in flight keep the checks up with the validation, behind whose commands their answers queue)"
    )
    lease_seconds: float = Field(60.0, description="a worker's claim on a job; renewed at a third of it")
    poll_seconds: float = Field(2.0, description="job queue polling when no wake-up event arrives")
    stall_seconds: float = Field(600.0, description="a chunk unanswered this long is sent again (idempotent)")
    max_attempts: int = Field(5, description="workers that may try one job before it is marked failed")
    result_ttl_hours: float = Field(24.0, description="the credentials workbook is deleted this long after completion")
    rejected_ttl_hours: float = Field(
        8.0, description="a rejected file's annotated copy (sealed) and the values of its error list are deleted "
                        "this long after the rejection (the upload itself once the copy is built)"
    )
    reservation_hours: float = Field(
        24.0, description="filing holds a checked file's certificates, mobiles and domains for its job at most "
                          "this long (released at once when the job ends)"
    )
    errors_xlsx_max_rows: int = Field(
        100_000, description="largest file (rows) for which an annotated copy (errors.xlsx) is built"
    )


@lru_cache
def import_settings() -> ImportSettings:
    return ImportSettings()
