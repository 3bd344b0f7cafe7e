"""Messages produced by (or commanded to) the detection service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import Field, field_validator

from shared import codes
from shared import validate as v
from shared.contracts import Contract, message

# A monitor's clock may run a little ahead of ours; beyond this a detection time is refused.
CLOCK_SKEW = timedelta(minutes=5)


@message("detection.site.detected", consumers=("detection",))
class SiteDetected(Contract):
    """An external monitoring system saw a site served without a filing (未备案网站检测).

    Published by other systems to exchange `icp.events` with this routing key (the envelope `id`
    is the event id: the same id counts once), or POSTed to `/api/detection/events`. A message
    that fails these rules (or names a provider the platform does not know) goes to
    `detection.dead` with the reason in the `x-icp-error` header.
    """

    domain: str = Field(max_length=253, description="host name seen, e.g. www.example.cn (IDN allowed)")
    ip: str | None = Field(None, max_length=45, description="IPv4 or IPv6 address serving it")
    province: str = Field(description="province code of provinces.csv, e.g. BJ")
    provider_id: str = Field(min_length=1, max_length=64, description="the access provider whose address serves it")
    detected_at: datetime = Field(description="when it was seen (ISO 8601 with offset); not in the future")
    source: str = Field(min_length=1, max_length=100, description="the detecting probe or system")
    url: str | None = Field(None, max_length=2000, description="the URL fetched, if any")
    title: str | None = Field(None, max_length=500, description="the page title seen, if any")

    @field_validator("domain", mode="before")
    @classmethod
    def _domain(cls, value: object) -> str:
        try:
            return v.validate_host(value)
        except v.InvalidValue as e:
            raise ValueError(e.message) from None

    @field_validator("ip", mode="before")
    @classmethod
    def _ip(cls, value: object) -> str | None:
        if value is None or value == "":
            return None
        try:
            return v.validate_ip(value)
        except v.InvalidValue as e:
            raise ValueError(e.message) from None

    @field_validator("province")
    @classmethod
    def _province(cls, value: str) -> str:
        value = value.strip().upper()
        if not codes.is_valid("provinces", value):
            raise ValueError(f"未知的省份代码“{value}”（见代码表 provinces）")
        return value

    @field_validator("detected_at")
    @classmethod
    def _not_future(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("须带时区（如 2026-11-29T07:59:12+08:00）")
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("不能晚于当前时间")
        return value


# ---------------------------------------------------------------- blacklist (detection → filing)


@message("detection.blacklist.changed", consumers=("filing",))
class BlacklistChanged(Contract):
    """A filing-blacklist entry (备案信息黑名单, seed 1.9.1) was listed or removed by the regulator or
    an admin. Filing keeps its own projection of the active entries and refuses new filings, added
    websites and changes that name a listed certificate or domain.

    A SUBJECT entry names a certificate: `cert_digest` is the keyed digest of (certificate family,
    normalised number) (`shared.blacklist.cert_digest`), so no ID number travels in plaintext.
    A WEBSITE entry names its domains (A-labels)."""

    entry_id: str
    action: Literal["listed", "removed"]
    kind: Literal["SUBJECT", "WEBSITE"]
    sponsor_name: str = ""
    cert_type: str = ""
    cert_digest: str = ""
    cert_number_masked: str = ""
    website_name: str = ""
    domains: list[str] = []
    reason: str
    changed_at: datetime
