"""Bounds that every parsed HTTP input obeys, whatever its model says (`shared.web` applies them).

A value the database cannot store or a date Python cannot shift is a client mistake, not a 500:
after pydantic has validated a body, query or path, `violations` walks the result and names each
field holding

- text with a control character: NUL and the other C0 controls, DEL, and lone UTF-16 surrogates
  (PostgreSQL refuses NUL and surrogates in text; the others are never meant). A body's text may
  hold tab, line feed and carriage return (free text such as an opinion has lines); a query or
  path parameter may not (`single_line`);
- an integer outside PostgreSQL's `integer` (−2³¹ … 2³¹−1), unless its field declares its own
  bounds (`Field(le=...)`): a page number, a version, a count;
- a float that is not finite;
- a date or time outside 1900-01-01 … 2999-12-31 (date arithmetic and time zones of 0001-01-01
  or 9999-12-31 overflow).

`shared.openapi` states the integer bounds in each service's document (`bound_schema`). A new endpoint gets all of this from `Api` without a line of its own.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
import typing
from typing import Any

import annotated_types
from pydantic import BaseModel

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

# C0 controls but tab, LF, CR; DEL; lone surrogates (only reachable through JSON \ud800 escapes)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

CONTROL_MESSAGE = "不能包含控制字符（如 NUL、换行以外的不可见字符）"
LINE_MESSAGE = "不能包含控制字符（如 NUL、换行、制表符）"
DATE_MESSAGE = f"日期须在 {DATE_MIN.isoformat()} 至 {DATE_MAX.isoformat()} 之间"


def text_problem(value: str, *, single_line: bool) -> str | None:
    """The Chinese reason `value` is refused, or None."""
    if (_CONTROL_LINE if single_line else _CONTROL).search(value):
        return LINE_MESSAGE if single_line else CONTROL_MESSAGE
    return None


def violations(model: BaseModel, *, single_line: bool = False, prefix: str = "",
               raw: bytes | None = None) -> list[dict[str, str]]:
    """Every out-of-bounds value of a validated model as `{field, message}` (API path notation).

    `raw`: the JSON text the model was parsed from (a body). When it cannot have decoded to a refused
    character (`text_clean`), its text is not searched: only the values that are not text are walked,
    along each model's fields whose type can hold one (`_numeric_plan`) — the same answer, a fifth of
    the walk (bench/request_overhead.py)."""
    found: list[tuple[str, str]] = []
    if raw is not None and not single_line and text_clean(raw):
        _walk_model(model, prefix, None, "", found)
    else:
        _walk_model(model, prefix, _CONTROL_LINE if single_line else _CONTROL,
                    LINE_MESSAGE if single_line else CONTROL_MESSAGE, found)
    return [{"field": path, "message": msg} for path, msg in found]


# What in a JSON text can decode to a refused character: a raw C0 control (JSON allows none inside a
# string; tab, LF and CR are whitespace between tokens, and the parser refuses them raw inside a string
# or key: tests/unit/test_bounds.py holds it to that), a raw DEL, an escape other than \" \\ \/ \u (\b
# and \f are controls; \t \n \r are refused in a key and a query; an invalid one is the parser's), and
# a \u escape of a C0 control, DEL or surrogate (a valid pair too: the slow walk decides). Raw bytes of
# a surrogate are not UTF-8, which the parser refuses. A false alarm only costs the full walk.
_RAW_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_SUSPECT_ESCAPE = re.compile(rb'\\(?:[^"\\/u]|u(?:00[01]|007[fF]|[dD][89a-fA-F]))')  # a literal prefix: fast


def text_clean(raw: bytes) -> bool:
    """Whether no string of the JSON text `raw` can hold a character the bounds refuse in a body."""
    if len(raw.translate(None, _RAW_CONTROLS)) != len(raw):  # a C scan; a regex class is 4× slower
        return False
    if b"\\" not in raw:
        return True
    # an escaped backslash is text, not the start of an escape: the lexer pairs a run of backslashes
    # from its left, as `replace` does (JSON `\\n` is a backslash and an n; `\\\n` a backslash and LF)
    return _SUSPECT_ESCAPE.search(raw.replace(b"\\\\", b"")) is None


def query_problems(model: type[BaseModel], data: dict[str, Any]) -> list[dict[str, str]]:
    """What pydantic's lax parsing would take but a query string must not mean: a date or time given
    as a number (`created_to=0` would be 1970-01-01, a Unix time)."""
    return [{"field": name, "message": "须为日期（YYYY-MM-DD）"} for name in _date_fields(model)
            if isinstance(data.get(name), str) and _is_number(data[name])]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_DATES: dict[type, tuple[str, ...]] = {}


def _date_fields(model: type[BaseModel]) -> tuple[str, ...]:
    found = _DATES.get(model)
    if found is None:
        found = _DATES[model] = tuple(f.alias or name for name, f in model.model_fields.items()
                                      if _mentions_date(f.annotation))
    return found


def _mentions_date(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, dt.date)
    return any(_mentions_date(a) for a in typing.get_args(annotation))


# ---------------------------------------------------------------- the walk


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


_PLANS: dict[type, list[tuple[str, str, bool, bool]]] = {}


def _plan(cls: type[BaseModel]) -> list[tuple[str, str, bool, bool]]:
    """Per field of a model: attribute, name in errors, has its own lower / upper bound."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = []
        for name, f in cls.model_fields.items():
            low = any(isinstance(m, annotated_types.Ge | annotated_types.Gt) for m in f.metadata)
            high = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in f.metadata)
            plan.append((name, f.alias or name, low, high))
        _PLANS[cls] = plan
    return plan


# The walk runs on every parsed body, query and path of every request: it appends to one list
# (a generator per level cost as much as the checks) and checks text with the one pattern of the
# request's kind. Without a pattern (a body whose JSON text is clean, `text_clean`) it checks no text
# and visits only the fields whose type can hold something else (`_numeric_plan`).


def _walk_model(model: BaseModel, prefix: str, pattern: re.Pattern | None, message: str,
                found: list[tuple[str, str]]) -> None:
    for name, key, low, high in _plan(type(model)) if pattern is not None else _numeric_plan(type(model)):
        value = getattr(model, name, None)
        if value is not None:
            _walk(value, f"{prefix}.{key}" if prefix else key, pattern, message, low, high, found)
    extra = model.__pydantic_extra__
    if extra:
        for key, value in extra.items():
            _walk(value, _join(prefix, str(key)), pattern, message, False, False, found)


def _scalar_problem(value: int | float | dt.date, low: bool, high: bool) -> str | None:
    """Why a number or date (not a bool: the walks return on those first) is out of bounds, or None;
    `low` / `high`: its field declares its own lower / upper bound."""
    if isinstance(value, int):
        if not high and value > INT_MAX:
            return f"不能大于 {INT_MAX}"
        if not low and value < INT_MIN:
            return f"不能小于 {INT_MIN}"
    elif isinstance(value, float):
        if not math.isfinite(value):
            return "须为有限的数字"
        if (not high and value > INT_MAX * 1e6) or (not low and value < INT_MIN * 1e6):
            return "数值超出允许范围"
    else:  # a date; datetime is a date too
        day = value.date() if isinstance(value, dt.datetime) else value
        if not DATE_MIN <= day <= DATE_MAX:
            return DATE_MESSAGE
    return None


def _walk(value: Any, path: str, pattern: re.Pattern | None, message: str, low: bool, high: bool,
          found: list[tuple[str, str]]) -> None:
    if value is None or value is True or value is False:
        return
    if isinstance(value, str):
        if pattern is not None and pattern.search(value):
            found.append((path, message))
    elif isinstance(value, int | float | dt.date):
        if (problem := _scalar_problem(value, low, high)) is not None:
            found.append((path, problem))
    elif isinstance(value, BaseModel):
        _walk_model(value, path, pattern, message, found)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", pattern, message, low, high, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            if pattern is not None and isinstance(key, str) and _CONTROL_LINE.search(key):
                found.append((_join(path, repr(key)[1:-1]), LINE_MESSAGE))
            else:
                _walk(item, _join(path, str(key)), pattern, message, low, high, found)


# ---------------------------------------------------------------- the fields a clean body's walk visits
#
# In a body whose text is clean only values that are not text can be out of bounds. A model's numeric
# plan names the fields whose declared type can hold one (an int, float, date, model, container, Any); a
# field declared as text, bool or a literal of those holds one of them once pydantic has validated it, and
# is not visited. A value is still checked by what it is, not by what its field declares (`_walk`).


_NUMERIC_PLANS: dict[type, list[tuple[str, str, bool, bool]]] = {}


def _can_hold_number(annotation: Any, seen: set[type]) -> bool:
    """Whether a value of this declared type can be (or contain) something `_walk` checks besides text."""
    if annotation is None or annotation is type(None) or annotation is bool:
        return False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _can_hold_number(typing.get_args(annotation)[0], seen)
    if origin is typing.Literal:
        return not all(isinstance(v, str | bool) or v is None for v in typing.get_args(annotation))
    if origin is typing.Union or origin is types.UnionType:
        return any(_can_hold_number(a, seen) for a in typing.get_args(annotation))
    if origin in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return not args or any(_can_hold_number(a, seen) for a in args)
    if isinstance(annotation, type) and origin is None:
        if issubclass(annotation, str):  # a str enum too
            return False
        if issubclass(annotation, BaseModel):
            if annotation not in _NUMERIC_PLANS and annotation in seen:
                return True  # a recursive model: visited
            return bool(_numeric_plan(annotation, seen)) or annotation.model_config.get("extra") == "allow"
    return True  # int, float, date, dict, Any, anything else: visited


def _numeric_plan(cls: type[BaseModel], seen: set[type] | None = None) -> list[tuple[str, str, bool, bool]]:
    """`_plan` less the fields that can hold only text (see above)."""
    plan = _NUMERIC_PLANS.get(cls)
    if plan is None:
        seen = (seen or set()) | {cls}
        fields = cls.model_fields
        plan = _NUMERIC_PLANS[cls] = [p for p in _plan(cls) if _can_hold_number(fields[p[0]].annotation, seen)]
    return plan


# ---------------------------------------------------------------- the same bounds in JSON Schema


def bound_schema(schema: Any) -> Any:
    """A copy of a JSON Schema whose integers state the bounds above where the model states none.
    (Text and date bounds have no plain JSON Schema form a client generator honours; they are
    described in the Problem answers instead.)"""
    if isinstance(schema, list):
        return [bound_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k in ("enum", "const", "default", "examples") else bound_schema(v) for k, v in schema.items()}
    if out.get("type") == "integer":
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["maximum"] = INT_MAX
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["minimum"] = INT_MIN
    return out
