"""HTTP surface of the verification service (thin: parse → handler → respond)."""

from __future__ import annotations

from shared.web import Api

api = Api("verification", "ICP 备案 — verification")
