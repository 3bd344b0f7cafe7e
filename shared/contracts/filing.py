"""Messages produced by (or commanded to) the filing service."""

from __future__ import annotations

from datetime import datetime

from shared.contracts import Contract, message

ALL_SERVICES = ("filing", "importer", "verification", "reporting", "detection")


@message("filing.provider.registered", consumers=("verification", "reporting", "detection", "importer"))
class ProviderRegistered(Contract):
    """A provider (接入服务提供者, the tenant) was created or its details changed."""

    provider_id: str
    name: str
    province: str | None = None
    registered_at: datetime


@message("filing.session.revoked", consumers=tuple(s for s in ALL_SERVICES if s != "filing"))
class SessionRevoked(Contract):
    """A session token was revoked (logout, password change, lock); every service stops accepting it."""

    session_id: str
    expires_at: datetime
