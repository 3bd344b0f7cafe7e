"""HTTP surface of the importer service (thin: parse → handler → respond)."""

from __future__ import annotations

from shared.web import Api

api = Api("importer", "ICP 备案 — importer")
