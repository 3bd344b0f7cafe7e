"""Pydantic validation errors → `[{field, message}]` in Chinese.

Field paths use the API's notation: `websites[1].domains[0]`. Messages raised by our
own validators (PydanticCustomError) are already Chinese and pass through unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


def field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith(("function-", "constrained-")):
            continue  # pydantic's internal steps, not fields
        else:
            out += ("." if out else "") + str(part)
    return out


def _msg(err: dict[str, Any]) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    simple = {
        "missing": "必填项，不能为空",
        "string_type": "须为文本",
        "int_type": "须为整数",
        "int_parsing": "须为整数",
        "float_type": "须为数字",
        "float_parsing": "须为数字",
        "bool_type": "须为是或否（true/false）",
        "bool_parsing": "须为是或否（true/false）",
        "list_type": "须为列表",
        "dict_type": "须为对象",
        "model_type": "须为对象",
        "model_attributes_type": "须为对象",
        "date_type": "须为日期（YYYY-MM-DD）",
        "date_parsing": "须为日期（YYYY-MM-DD）",
        "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）",
        "datetime_type": "须为时间（ISO 8601）",
        "datetime_parsing": "须为时间（ISO 8601）",
        "datetime_from_date_parsing": "须为时间（ISO 8601）",
        "uuid_type": "须为 UUID",
        "uuid_parsing": "须为 UUID",
        "extra_forbidden": "不允许的字段",
        "json_invalid": "不是合法的 JSON",
        "string_unicode": "须为合法的 Unicode 文本",
        "none_required": "须为空",
        "set_type": "须为列表",
        "frozen_field": "不允许修改",
    }
    if t in simple:
        return simple[t]
    if t == "string_too_short":
        n = ctx.get("min_length", 1)
        return "不能为空" if n == 1 else f"长度不能少于 {n} 个字符"
    if t == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符"
    if t == "too_short":
        n = ctx.get("min_length", 1)
        return "至少须有 1 项" if n == 1 else f"至少须有 {n} 项"
    if t == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if t == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if t == "greater_than":
        return f"须大于 {ctx.get('gt')}"
    if t == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if t == "less_than":
        return f"须小于 {ctx.get('lt')}"
    if t in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        return f"取值无效，可选值：{expected}".replace("' or '", "'、'").replace("', '", "'、'")
    if t == "string_pattern_mismatch":
        return "格式不正确"
    if t == "value_error":
        return str(ctx.get("error", err.get("msg", "取值无效")))
    if t == "union_tag_invalid":
        return "类型取值无效"
    # our validators raise PydanticCustomError with a Chinese message
    return err.get("msg") or "取值无效"


def translate_errors(e: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    out = []
    for err in e.errors(include_url=False):
        path = field_path(tuple(err["loc"]))
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        out.append({"field": path, "message": _msg(err)})
    return out
