"""Common base of the validators: the error type and text normalisation (DOMAIN §4 conventions)."""

from __future__ import annotations

# Characters stripped at both ends besides everything `str.isspace()` knows (which already covers
# U+3000 IDEOGRAPHIC SPACE and U+00A0): zero-width characters and the BOM that come with pasted text.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

# Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E by subtracting 0xFEE0.
_FULLWIDTH_TO_ASCII = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}


class InvalidValue(ValueError):
    """A value failed validation. `message` is Simplified Chinese, says why, and does not name
    the field (the caller adds the field label)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalize_text(value: object) -> str:
    """Normalise free input (DOMAIN §4 "General conventions").

    - None -> ""; int -> its decimal text (Excel cells); other non-str types -> InvalidValue;
    - strip ASCII and Unicode whitespace (incl. full-width space U+3000) and zero-width
      characters at both ends;
    - convert full-width ASCII digits/letters/punctuation (U+FF01..U+FF5E) to half-width.
    Internal spaces and all other characters (Chinese text) are kept as entered.
    """
    if type(value) is str and value.isascii():
        return value.strip()  # the common case: no full-width or zero-width characters; strip() = isspace()
    if value is None:
        return ""
    if isinstance(value, bool):
        raise InvalidValue("类型不正确，应为文本")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidValue("类型不正确，应为文本")
    text = value.translate(_FULLWIDTH_TO_ASCII)
    if not text or not (text[0].isspace() or text[-1].isspace() or text[0] in _INVISIBLE or text[-1] in _INVISIBLE):
        return text  # nothing to strip (the common case)
    return _strip_ends(text)


def _strip_ends(text: str) -> str:
    """`text` without the whitespace and invisible characters (zero-width, BOM, …) at both ends."""
    # str.strip() removes exactly what isspace() knows; when what is left neither starts nor ends with an
    # invisible character, the loop below would stop at the same places (the common case)
    text = text.strip()
    if not text or (text[0] not in _INVISIBLE and text[-1] not in _INVISIBLE):
        return text
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or text[start] in _INVISIBLE):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in _INVISIBLE):
        end -= 1
    return text[start:end]


def clean_text(value: object) -> str:
    """Free text as typed (names, addresses, remarks, opinions): like `normalize_text` but the
    full-width punctuation stays (`身份，信息真实一致` is stored and shown as typed); only the
    whitespace and invisible characters at both ends go. Half-width conversion is for identifiers,
    numbers, codes, domains and e-mail (`normalize_text`)."""
    if type(value) is str and value.isascii():
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidValue("类型不正确，应为文本")
    text = str(value)
    return _strip_ends(text)


def require_text(value: object, *, max_len: int | None = None, min_len: int = 1) -> str:
    """normalize_text + non-empty + length bounds (in Unicode characters)."""
    # normalize_text's own fast path, inline: the validators call this for nearly every value
    text = value.strip() if type(value) is str and value.isascii() else normalize_text(value)
    if not text:
        raise InvalidValue("不能为空")
    if len(text) < min_len:
        raise InvalidValue(f"长度不能少于{min_len}个字符")
    if max_len is not None and len(text) > max_len:
        raise InvalidValue(f"长度不能超过{max_len}个字符")
    return text


def validate_text(value: object, *, max_len: int, min_len: int = 1, required: bool = True) -> str:
    """Generic text field (names, addresses, remarks; DOMAIN §4 length limits).

    Returns the text as typed (`clean_text`: trimmed, full-width punctuation kept); when not
    `required`, empty input returns "".
    """
    text = value.strip() if type(value) is str and value.isascii() else clean_text(value)  # its fast path inline
    if not text:
        if not required:
            return ""
        raise InvalidValue("不能为空")
    if len(text) < min_len:
        raise InvalidValue(f"长度不能少于{min_len}个字符")
    if len(text) > max_len:
        raise InvalidValue(f"长度不能超过{max_len}个字符")
    return text
