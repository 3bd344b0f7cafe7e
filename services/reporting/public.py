"""Public lookup (公共查询, on the home page, no login) and its rate limit per client address."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.reporting import model, views
from services.reporting.queries import domain_key
from shared import ratelimit
from shared import validate as v
from shared.security import client_address
from shared.web import invalid

PUBLIC_FIELDS = ("domain", "website_no", "subject_no", "sponsor_name", "code")
MAX_RESULTS = 50


def lookup_limit(limit: int, window: float, bucket: str = "lookup") -> ratelimit.Limit:
    return ratelimit.Limit(bucket, limit, window, "查询过于频繁")


async def limited(request: web.Request, pool, limit: ratelimit.Limit) -> None:
    """Count this lookup of the client; the 429 (with Retry-After) when it is over its limit. The count is
    in reporting's schema, so every replica of reporting shares it."""
    # the platform's client address: X-Forwarded-For believed only from ICP_TRUSTED_PROXIES
    await ratelimit.take(pool, limit, client_address(request)[:64])


class PublicQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    domain: str | None = Field(None, max_length=253, description="网站域名（精确）")
    website_no: str | None = Field(None, max_length=60, description="网站备案号（精确）")
    subject_no: str | None = Field(None, max_length=60, description="主体备案号（精确）")
    sponsor_name: str | None = Field(None, max_length=100, description="主办单位名称（精确）")
    code: str | None = Field(None, max_length=40, description="电子证书验证码")

    @model_validator(mode="before")
    @classmethod
    def _drop_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: val for k, val in data.items() if val not in ("", None)}
        return data


def condition(q: PublicQuery) -> tuple[str, str]:
    given = [f for f in PUBLIC_FIELDS if getattr(q, f)]
    if len(given) != 1:
        message = "请填写一个查询条件：域名、网站备案号、主体备案号、主办单位名称或证书验证码之一"
        raise invalid([{"field": f, "message": message} for f in (given or ["domain"])], message)
    field = given[0]
    value = getattr(q, field)
    if field == "domain":
        return "w.domains @> ARRAY[$1]::text[]", domain_key(value)
    if field == "code":
        return "w.cert_code = $1", model.normalise_code(value)
    column = {"website_no": "w.website_no", "subject_no": "w.subject_no", "sponsor_name": "w.sponsor_name"}[field]
    return f"{column} = $1", v.normalize_text(value)


async def lookup(pool, q: PublicQuery) -> dict[str, Any]:
    where, value = condition(q)
    rows = await pool.fetch(
        f"""SELECT w.website_no, w.subject_no, w.sponsor_name, w.nature, w.name, w.domains, w.approved_at
              FROM websites w WHERE {where} AND w.status IN ('ACTIVE', 'NO_ACCESS')
             ORDER BY w.website_no LIMIT {MAX_RESULTS}""",
        value,
    )
    items = [{
        "website_no": r["website_no"], "subject_no": r["subject_no"], "sponsor_name": r["sponsor_name"],
        "nature_name": views.name("unit_natures", r["nature"]), "website_name": r["name"], "domains": list(r["domains"]),
        "approved_on": model.cst_date(r["approved_at"]),
    } for r in rows]
    return {"items": items, "total": len(items)}
