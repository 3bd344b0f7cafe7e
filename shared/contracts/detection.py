"""Messages produced by (or commanded to) the detection service."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.contracts import Contract, message


@message("detection.site.detected", consumers=("detection",))
class SiteDetected(Contract):
    """An external monitoring system saw a site served without a filing (未备案网站检测).

    Published by other systems to exchange `icp.events` with this routing key, or POSTed
    to `/api/detection/events`.
    """

    domain: str = Field(max_length=253)
    ip: str | None = Field(None, max_length=45)
    province: str | None = Field(None, description="province code of provinces.csv, e.g. BJ")
    provider_id: str | None = None
    detected_at: datetime
    source: str = Field(max_length=100, description="the detecting system")
