"""Dates and validity periods (DOMAIN §4.2 id_valid_from/id_valid_to, §5.9)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Final, Literal

from ._text import InvalidValue, require_text

LONG_TERM: Final = "LONG_TERM"
LongTerm = Literal["LONG_TERM"]
LONG_TERM_ALIASES = frozenset({"LONG_TERM", "长期", "长期有效"})
DEFAULT_MIN_REMAINING_MONTHS = 3  # S-HWREJ; configurable

_DATE_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})|(\d{4})(\d{2})(\d{2})", re.ASCII)


def parse_date(value: object) -> dt.date:
    """A date from `date`/`datetime` or text 'YYYY-MM-DD', 'YYYY/MM/DD', 'YYYY.MM.DD', 'YYYYMMDD'."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = require_text(value)
    match = _DATE_RE.fullmatch(text)
    if not match:
        raise InvalidValue("日期格式不正确，应为YYYY-MM-DD")
    year, _, month, day, year8, month8, day8 = match.groups()
    try:
        return dt.date(int(year or year8), int(month or month8), int(day or day8))
    except ValueError:
        raise InvalidValue("日期不存在") from None


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` shifted by `months` calendar months, clamped to the end of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def parse_valid_to(value: object) -> dt.date | LongTerm:
    """End of a document's validity: a date or LONG_TERM ('LONG_TERM', '长期', '长期有效')."""
    if isinstance(value, str) and value.strip() in LONG_TERM_ALIASES:
        return LONG_TERM
    return parse_date(value)


def validate_id_validity(
    valid_from: object,
    valid_to: object,
    today: dt.date | None = None,
    *,
    min_remaining_months: int = DEFAULT_MIN_REMAINING_MONTHS,
) -> tuple[dt.date, dt.date | LongTerm]:
    """Validity period of an ID document (DOMAIN §4.2, §5.9).

    valid_from ≤ today and before valid_to; valid_to is LONG_TERM or a date at least
    `min_remaining_months` months after today. Returns (valid_from, valid_to).
    """
    today = today or dt.date.today()
    start = parse_date(valid_from)
    end = parse_valid_to(valid_to)
    if start > today:
        raise InvalidValue("证件有效期起始日期不能晚于今天")
    if end == LONG_TERM:
        return start, end
    assert isinstance(end, dt.date)
    if start >= end:
        raise InvalidValue("证件有效期起始日期必须早于截止日期")
    if end <= today:
        raise InvalidValue("证件已过期，请更换有效证件")
    if end < add_months(today, min_remaining_months):
        raise InvalidValue(f"证件有效期剩余不足{min_remaining_months}个月，请更换证件后再备案")
    return start, end


def validate_unexpired(value: object, today: dt.date | None = None) -> dt.date | LongTerm:
    """A document that must still be valid today, e.g. a pre-approval document (DOMAIN §5.9)."""
    end = parse_valid_to(value)
    if end != LONG_TERM and end < (today or dt.date.today()):  # type: ignore[operator]
        raise InvalidValue("文件已过期")
    return end
