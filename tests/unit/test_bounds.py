"""shared.bounds: the walk that refuses what the database cannot hold, on any model shape."""

from __future__ import annotations

import datetime as dt
import enum
import random
import typing

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.bounds import INT_MAX, bound_schema, text_clean, violations
from shared.filing_data import FilingData
from tests import filing_samples as fs


class Inner(BaseModel):
    tags: list[str] = []
    when: dt.date | None = None


class Outer(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = ""
    page: int = 1
    big: int = Field(0, le=2**62)  # a field with its own bound keeps it
    items: list[Inner] = []
    at: dt.datetime | None = None
    ratio: float = 0.0


def fields(model: BaseModel, **kw) -> dict[str, str]:
    return {e["field"]: e["message"] for e in violations(model, **kw)}


def test_clean_model_has_no_violation():
    m = Outer(name="北京\t公司\r\n", page=INT_MAX, big=2**40, items=[Inner(tags=["a"], when=dt.date(1900, 1, 1))],
              at=dt.datetime(2999, 12, 31, 23, 59))
    assert fields(m) == {}


def test_each_kind_of_violation_is_named_by_its_path():
    m = Outer(name="a\x00b", page=INT_MAX + 1, items=[Inner(), Inner(tags=["ok", "x\x1by"], when=dt.date(1, 1, 1))],
              at=dt.datetime(9999, 12, 31), ratio=float("inf"), extra_field={"k": ["\x7f"]})
    got = fields(m)
    assert set(got) == {"name", "page", "items[1].tags[1]", "items[1].when", "at", "ratio", "extra_field.k[0]"}
    assert "控制字符" in got["name"] and str(INT_MAX) in got["page"] and "1900-01-01" in got["at"]


def test_single_line_refuses_line_breaks_and_negative_range():
    assert set(fields(Outer(name="a\nb", page=-(2**31) - 1), single_line=True)) == {"name", "page"}
    assert fields(Outer(name="a\nb")) == {}


def test_schema_states_the_integer_bounds_unless_declared():
    schema = bound_schema({"type": "object", "properties": {
        "page": {"type": "integer", "minimum": 1},
        "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "big": {"type": "integer", "maximum": 5},
        "e": {"enum": [1, 2], "type": "integer", "default": 1},
    }})
    p = schema["properties"]
    assert p["page"] == {"type": "integer", "minimum": 1, "maximum": INT_MAX}
    assert p["n"]["anyOf"][0] == {"type": "integer", "minimum": -(2**31), "maximum": INT_MAX}
    assert p["big"]["maximum"] == 5 and p["big"]["minimum"] == -(2**31)


# ---------------------------------------------------------------- a body's walk with its JSON text (`raw`)
# When the text cannot hold a refused character, only the values that are not text are walked; every
# body must get exactly the answer (fields, messages, order) of the full walk.

class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    LOW = 1


class Kind(enum.StrEnum):
    A = "a"


class Node(BaseModel):
    label: str = ""
    child: Node | None = None
    n: int = 0


class Everything(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str = ""
    kind: Kind = Kind.A
    lit: typing.Literal["x", "y"] = "x"
    flag: bool = False
    color: Color = Color.RED
    level: Level = Level.LOW
    nums: list[int] = []
    pair: tuple[int, str] = (0, "")
    ints: dict[str, int] = {}
    texts: dict[str, str] = {}
    anything: typing.Any = None
    ratio: float = 0.0
    when: dt.date | None = None
    inner: Inner | None = None
    node: Node | None = None
    outer: Outer | None = None
    small: int = Field(0, ge=-(2**40), le=2**40)


def both(model: type[BaseModel], raw: bytes) -> tuple[list, list] | None:
    """(the full walk's answer, the answer given the text) of a body, None when the body does not parse."""
    try:
        m = model.model_validate_json(raw, strict=True)
    except ValidationError:
        return None
    return violations(m), violations(m, raw=raw)


def same(model: type[BaseModel], raw: bytes) -> list:
    got = both(model, raw)
    if got is None:
        return []
    assert got[0] == got[1], raw
    return got[0]


def test_parser_refuses_raw_line_breaks_and_tabs_inside_strings_and_keys():
    # text_clean lets raw tab, LF and CR through (JSON whitespace): it relies on the parser refusing
    # them inside a string or a key, where they would be text
    for c in "\t\n\r\x00\x1f":
        for raw in (f'{{"text": "a{c}b"}}', f'{{"texts": {{"a{c}b": "x"}}}}', f'{{"extra{c}": 1}}'):
            with pytest.raises(ValidationError):
                Everything.model_validate_json(raw.encode(), strict=True)
    assert both(Everything, b'{\n\t"text":\r\n "a"}') == ([], [])


def test_every_escape_of_a_control_or_surrogate_takes_the_full_walk():
    for code in [*range(0x0, 0x300), *range(0xD7F0, 0xE010), 0x2028, 0xFEFF, 0xFFFF]:
        esc = f"\\u{code:04x}".encode()
        assert text_clean(b'{"text": "a' + esc + b'"}') == (not (code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF))
        for raw in (b'{"text": "a' + esc + b'"}', b'{"texts": {"k' + esc + b'": "v"}}',
                    b'{"ext' + esc + b'": "v"}', b'{"outer": {"name": "' + esc[:2] + esc[2:].upper() + b'"}}',
                    b'{"node": {"child": {"label": "' + esc + b'"}}}', b'{"nums": [1], "anything": ["' + esc + b'"]}'):
            same(Everything, raw)
    assert same(Everything, b'{"text": "a\\u0000"}') == [{"field": "text", "message": "不能包含控制字符（如 NUL、换行以外的不可见字符）"}]
    assert same(Everything, b'{"texts": {"a\\nb": "x"}}')[0]["field"] == "texts.a\\nb"
    assert both(Everything, b'{"anything": {"k": "\\ud800"}}') is None  # a lone surrogate: the parser's 400
    assert same(Everything, b'{"anything": "\\ud83d\\ude00"}') == []  # a valid pair: a false alarm, no refusal


def test_short_escapes_raw_del_and_escaped_backslashes():
    for esc in [b"\\b", b"\\f", b"\\n", b"\\r", b"\\t", b'\\"', b"\\\\", b"\\/", b"\\\\u0000", b"\\\\\\u0000",
                b"\x7f", "\u00a0\u3000中".encode()]:
        for raw in (b'{"text": "a' + esc + b'"}', b'{"texts": {"k' + esc + b'": "v"}}', b'{"e' + esc + b'": 1}',
                    b'{"inner": {"tags": ["' + esc + b'"]}}'):
            same(Everything, raw)
    assert not text_clean(b'{"text": "a\x7f"}') and same(Everything, b'{"text": "a\x7f"}')[0]["field"] == "text"
    assert text_clean(b'{"text": "a\\"b\\\\c\\/d\\u4e2d\\\\\\\\n"}')  # an escaped backslash before a letter
    assert not text_clean(b'{"text": "\\\\\\n"}')  # an escaped backslash, then \n


def test_values_out_of_range_are_refused_as_by_the_full_walk():
    bodies = [
        b'{"nums": [1, 2147483648, -2147483649], "pair": [2147483648, "x"], "ints": {"a": 9999999999}}',
        b'{"anything": {"a": [1, 1e300, {"b": -1e300}], "c": "2999-12-31"}, "ratio": 1e16}',
        b'{"when": "0001-01-01", "inner": {"when": "9999-12-31"}, "outer": {"at": "1899-12-31T23:59:59Z"}}',
        b'{"node": {"n": 2147483648, "child": {"n": -2147483649, "child": {"n": 1}}}}',
        b'{"small": 1099511627776, "outer": {"big": 4611686018427387904, "page": -2147483649}}',
        b'{"x": 2147483648, "y": [{"z": 1e20}], "level": 1, "kind": "a", "lit": "y", "flag": true}',
        b'{"outer": {"extra": {"deep": [2147483648]}, "ratio": 1e308}}',
    ]
    for raw in bodies:
        assert text_clean(raw)
        assert same(Everything, raw), raw


def test_a_filing_body_gets_the_full_walk_s_answer_under_random_edits():
    rng = random.Random(14)
    inserts = ["\\u0000", "\\u001f", "\\u007f", "\\ud800", "\\udfff", "\\b", "\\f", "\\n", "\\t", "\\r", "\x7f",
               "\\u0020", "\\u4e2d", "\\\\u0000", "\\\"", "\\/"]
    dates = ["0001-01-01", "1899-12-31", "1900-01-01", "2999-12-31", "3000-01-01", "9999-12-31"]
    refused = 0
    for _ in range(300):
        body = fs.filing()
        text = orjson.dumps(body).decode()
        if rng.random() < 0.5:  # an escape inside a string value
            spots = [i for i, ch in enumerate(text) if ch == '"' and text[i - 1] not in "{,"]
            i = rng.choice(spots)
            text = text[:i] + rng.choice(inserts) + text[i:]
        else:  # a date past the bounds
            p = body["subject"]["principal"]
            p[rng.choice(["id_valid_from", "id_valid_to"])] = rng.choice(dates)
            text = orjson.dumps(body).decode()
        got = both(FilingData, text.encode())
        if got is not None:
            assert got[0] == got[1], text
            refused += bool(got[0])
    assert refused > 20  # the edits did reach the walk
