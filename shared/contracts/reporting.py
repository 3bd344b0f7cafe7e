"""Messages produced by (or commanded to) the reporting service."""

from __future__ import annotations
