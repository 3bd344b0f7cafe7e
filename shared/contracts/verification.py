"""Messages produced by (or commanded to) the verification service."""

from __future__ import annotations
