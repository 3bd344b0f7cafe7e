"""Wiring of the filing service."""

from __future__ import annotations

from pathlib import Path

from services.filing import blacklist, housekeeping
from services.filing.accounts import api as api_accounts
from services.filing.applications import api as api_applications
from services.filing.cancellations import api as api_cancellations
from services.filing.changes import api as api_changes
from services.filing.content import api as api_content
from services.filing.entry import api as api_entry
from services.filing.entry import batch
from services.filing.outcomes import handlers as outcomes
from services.filing.providers.api import api as provider_routes
from services.filing.records import api as api_records
from services.filing.records import search as subject_search
from services.filing.selffiling import api as selffiling_api
from services.filing.sponsors import api as api_sponsors
from shared.contracts.detection import BlacklistChanged
from shared.directory import platform_handlers
from shared.service import ServiceDef
from shared.web import Api

ROUTE_MODULES = (
    provider_routes,  # providers (tenants)
    api_accounts.api,  # captcha, login/logout, me, user administration
    api_content.api,  # announcements, laws, feedback, code tables
    api_entry.api,  # entry wizard (drafts, submit) and POST /filings
    api_records.api,  # subjects, websites, their history
    api_applications.api,  # application detail, correction, resubmit
    api_changes.api,  # add website/access, changes, cancel access
    api_cancellations.api,  # cancellation requests
    api_sponsors.api,  # the sponsor accounts a provider filed for (password reset)
    subject_search.api,  # finding filed subjects of every provider; view all with the sponsor's credentials
    selffiling_api.api,  # 自主备案: public sponsor registration, a sponsor's own applications
)


def build_api() -> Api:
    api = Api("filing", "ICP 备案 — 备案服务")
    for fragment in ROUTE_MODULES:
        api.include(fragment)
    return api


def service() -> ServiceDef:
    # filing produces the provider and session events; it consumes none of the platform's
    handlers = platform_handlers(provider_directory=False, revocations=False)
    for contract, handler in outcomes.HANDLERS:  # review outcomes from verification
        handlers.on(contract)(handler)
    for contract, handler in batch.HANDLERS:  # batch import chunks from the importer
        handlers.on(contract)(handler)
    handlers.on(BlacklistChanged)(blacklist.on_blacklist_changed)  # the filing blacklist, from detection
    return ServiceDef(
        name="filing",
        title="ICP 备案 — 备案服务 (filing)",
        api=build_api(),
        handlers=handlers,
        migrations=Path(__file__).parent / "migrations",
        background=[housekeeping.housekeeping_loop],
    )
