"""verification use cases and message handlers."""

from __future__ import annotations

from shared.bus import HandlerTable


def register(table: HandlerTable) -> None:
    """Message handlers of this service beyond the platform's (provider directory, revocations)."""
