"""Messages produced by (or commanded to) the importer service."""

from __future__ import annotations
