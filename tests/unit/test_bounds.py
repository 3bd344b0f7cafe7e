"""shared.bounds: the walk that refuses what the database cannot hold, on any model shape."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from shared.bounds import INT_MAX, bound_schema, violations


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
