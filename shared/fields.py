"""Pydantic `Annotated` field types built on `shared.validate`.

Each type runs the matching validator before pydantic's own type validation; an `InvalidValue`
becomes a pydantic error of type "invalid" whose `msg` is exactly the Chinese message (no
"Value error, " prefix), e.g.::

    class SubjectIn(BaseModel):
        mobile: Mobile
        email: Email
        name: text_field(100)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from shared import codes
from shared import validate as v

ERROR_TYPE = "invalid"


# Validation context of data this platform validated and normalised itself and sealed (an import's items,
# `services/filing/batch.py`): the field validators keep a text value as it is; pydantic's own checks (types,
# required fields, lengths, literals, dates) still run. Only for values that went through these validators
# before: they are idempotent on their own output.
TRUSTED = {"trusted": True}


def as_pydantic(fn: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap a validator so that InvalidValue becomes PydanticCustomError('invalid', message)."""

    def wrapper(value: Any, info: Any) -> Any:
        if type(value) is str and info.context is TRUSTED:
            return value
        try:
            return fn(value)
        except v.InvalidValue as exc:
            # The message goes through the context so braces in it are never treated as a template.
            raise PydanticCustomError(ERROR_TYPE, "{reason}", {"reason": exc.message}) from None

    wrapper.__name__ = getattr(fn, "__name__", "validator")
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _before(fn: Callable[[Any], Any]) -> BeforeValidator:
    return BeforeValidator(as_pydantic(fn))


_normalize_text = as_pydantic(v.normalize_text)


def _clean_str(value: Any, info: Any) -> Any:
    """`as_pydantic(v.normalize_text)` with normalize_text's fast path inline (the most common field type)."""
    if type(value) is str and info.context is not TRUSTED and value.isascii():
        return value.strip()
    return _normalize_text(value, info)


_clean_str.__doc__ = v.normalize_text.__doc__
CleanStr = Annotated[str, BeforeValidator(_clean_str)]
"""Any text, normalised (trimmed, full-width ASCII converted); may be empty."""

Mobile = Annotated[str, _before(v.validate_mobile)]
Landline = Annotated[str, _before(v.validate_landline)]
Email = Annotated[str, _before(v.validate_email)]
ResidentId = Annotated[str, _before(v.validate_resident_id)]
Uscc = Annotated[str, _before(v.validate_uscc)]
OrgCode = Annotated[str, _before(v.validate_org_code)]
DomainName = Annotated[str, _before(lambda value: v.validate_domain(value).ascii)]
"""A registrable domain, stored as its A-label (`xn--…` for Chinese names)."""
Password = Annotated[str, _before(v.validate_password)]
"""Sponsor password: ≥ 6 characters, not all digits; not normalised."""
ProviderPassword = Annotated[str, _before(v.validate_provider_password)]
WebsiteName = Annotated[str, _before(v.validate_website_name)]
"""Website name with the nature-independent hard rules (nature rules need `validate_website_name`)."""
FilingNo = Annotated[str, _before(v.validate_filing_number)]
FlexibleDate = Annotated[dt.date, _before(v.parse_date)]
"""A date given as date, 'YYYY-MM-DD', 'YYYY/MM/DD' or 'YYYYMMDD'."""
ValidTo = Annotated[dt.date | Literal["LONG_TERM"], _before(v.parse_valid_to)]
"""Document validity end: a date or LONG_TERM (also accepts 长期)."""


def text_field(max_len: int, min_len: int = 1) -> Any:
    """Required free text with length bounds, e.g. `name: text_field(100)`; kept as typed (full-width
    punctuation stays, `validate.clean_text`)."""
    return Annotated[str, _before(functools.partial(v.validate_text, max_len=max_len, min_len=min_len))]


def optional_text_field(max_len: int) -> Any:
    """Optional free text as typed (empty -> ""), e.g. `remark: optional_text_field(500)`."""
    return Annotated[str, _before(functools.partial(v.validate_text, max_len=max_len, required=False))]


def code_field(table: str) -> Any:
    """A code of one code table, e.g. `nature: code_field('unit_natures')`."""
    known = codes.code_set(table)  # fails fast on an unknown table name

    def check(value: Any) -> str:
        text = value.strip() if type(value) is str and value.isascii() else v.normalize_text(value)
        if text not in known:
            raise v.InvalidValue("无效的代码" if text else "不能为空")
        return text

    return Annotated[str, _before(check)]


__all__ = [
    "CleanStr",
    "DomainName",
    "Email",
    "FilingNo",
    "FlexibleDate",
    "Landline",
    "Mobile",
    "OrgCode",
    "Password",
    "ProviderPassword",
    "ResidentId",
    "Uscc",
    "ValidTo",
    "WebsiteName",
    "as_pydantic",
    "code_field",
    "optional_text_field",
    "text_field",
]
