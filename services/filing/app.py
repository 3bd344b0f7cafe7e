"""Wiring of the filing service."""

from __future__ import annotations

from pathlib import Path

from services.filing import (
    api_accounts,
    api_applications,
    api_changes,
    api_content,
    api_entry,
    api_records,
    batch,
    housekeeping,
    outcomes,
)
from services.filing.api import api
from shared.directory import platform_handlers
from shared.service import ServiceDef

api.include(api_accounts.api)  # captcha, login/logout, me, user administration (once, at import)
api.include(api_content.api)  # announcements, laws, feedback, code tables
api.include(api_entry.api)  # entry wizard (drafts, submit) and POST /filings
api.include(api_records.api)  # subjects, websites, their history
api.include(api_applications.api)  # application detail, correction, resubmit
api.include(api_changes.api)  # add website/access, changes, cancel access, cancellation requests


def service() -> ServiceDef:
    # filing produces the provider and session events; it consumes none of the platform's
    handlers = platform_handlers(provider_directory=False, revocations=False)
    for contract, handler in outcomes.HANDLERS:  # review outcomes from verification
        handlers.on(contract)(handler)
    for contract, handler in batch.HANDLERS:  # batch import chunks from the importer
        handlers.on(contract)(handler)
    return ServiceDef(
        name="filing",
        title="ICP 备案 — 备案服务 (filing)",
        api=api,
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
        background=[housekeeping.housekeeping_loop],
    )
