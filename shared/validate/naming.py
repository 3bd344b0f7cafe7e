"""Website names and passwords (DOMAIN §5.6, §5.7)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._text import InvalidValue, normalize_text, require_text

WEBSITE_NAME_MIN_LEN = 3
WEBSITE_NAME_MAX_LEN = 30  # upper bound assumed (DOMAIN §4.3)

# Prefixes reserved for national units (DOMAIN §5.6), allowed for these natures only.
FORBIDDEN_NAME_PREFIXES: tuple[str, ...] = ("中国", "中华", "中央", "全国", "国家", "人民", "人大", "华夏")
NATIONAL_NATURES = frozenset({"GOVERNMENT", "DEFENSE"})

# Configurable sensitive words (DOMAIN §5.6 examples).
DEFAULT_SENSITIVE_WORDS: tuple[str, ...] = ("反腐", "赌博", "廉政", "色情", "维权")

# Nationwide banned words for individuals' website names (DOMAIN §5.6, S-XN/S-INSPUR/S-PAGES) plus
# company/organisation words ("no company/organisation words"; word list assumed).
PERSONAL_BANNED_WORDS: tuple[str, ...] = (
    "导航", "工作室", "论坛", "平台", "热线", "社区", "社团", "网络", "网站", "网址", "主页", "资讯",
    "公司", "集团", "有限", "股份", "协会", "学会", "商会", "研究院", "研究所", "事务所", "委员会",
)  # fmt: skip
# Extra words reported for some bureaus (DOMAIN §5.6); opt in per province via `extra_personal_words`.
PERSONAL_BANNED_WORDS_REPORTED: tuple[str, ...] = (
    "合伙", "框架", "大众", "维修", "设计", "沙龙", "艺术", "评论", "官网", "服务", "转让", "品牌",
    "排行榜", "行业", "宣传", "电商", "报价", "企业", "管理", "工坊", "传播", "中心", "交流", "咨询",
    "投资", "售后", "学院", "贸易", "旗舰", "产业", "农业", "传媒", "系统", "媒体", "股票", "证券",
    "彩票", "体彩", "在线", "营销", "商城", "交易", "折扣", "定做", "定制", "购物", "返现",
)  # fmt: skip

# Sector words and the pre-approval types (preapproval_types codes) that cover them (DOMAIN §5.6).
SECTOR_WORDS: dict[str, frozenset[str]] = {
    "新闻": frozenset({"NEWS"}),
    "出版": frozenset({"PUBLISHING"}),
    "教育": frozenset({"EDUCATION", "OFF_CAMPUS_TRAINING"}),
    "医疗器械": frozenset({"DRUGS_DEVICES"}),
    "医疗": frozenset({"HEALTHCARE"}),
    "医院": frozenset({"HEALTHCARE"}),
    "保健": frozenset({"HEALTHCARE"}),
    "药": frozenset({"DRUGS_DEVICES"}),
    "论坛": frozenset({"BBS"}),
    "bbs": frozenset({"BBS"}),
    "社区": frozenset({"BBS"}),
    "交流": frozenset({"BBS"}),
    "在线": frozenset({"BBS"}),
    "影视": frozenset({"AV_PROGRAMS"}),
    "视频": frozenset({"AV_PROGRAMS"}),
    "广播": frozenset({"AV_PROGRAMS"}),
    "文化": frozenset({"CULTURE"}),
    "游戏": frozenset({"ONLINE_GAMES", "CULTURE"}),
    **{
        w: frozenset({"INTERNET_FINANCE"})
        for w in ("金融", "理财", "基金", "投资", "支付", "p2p", "众筹", "保险")
    },
}
_SECTOR_LABELS = {
    "NEWS": "新闻",
    "PUBLISHING": "出版",
    "EDUCATION": "教育",
    "OFF_CAMPUS_TRAINING": "校外培训",
    "HEALTHCARE": "医疗保健",
    "DRUGS_DEVICES": "药品和医疗器械",
    "BBS": "电子公告服务",
    "AV_PROGRAMS": "广播电影电视节目",
    "CULTURE": "文化",
    "ONLINE_GAMES": "游戏",
    "INTERNET_FINANCE": "互联网金融",
}

_CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NAME_CHARS_RE = re.compile(rf"[{_CJK}A-Za-z0-9()\-]+")
# Anything that looks like a domain name: label(s) + dot + an alphabetic or CJK TLD.
_DOMAIN_LIKE_RE = re.compile(
    rf"[{_CJK}A-Za-z0-9-]+(?:[.。][{_CJK}A-Za-z0-9-]+)*[.。](?:[A-Za-z]{{2,}}|[{_CJK}]+)"
)


def validate_website_name(
    value: object,
    *,
    nature: str | None = None,
    sensitive_words: Iterable[str] = DEFAULT_SENSITIVE_WORDS,
    personal_banned_words: Iterable[str] = PERSONAL_BANNED_WORDS,
    extra_personal_words: Iterable[str] = (),
) -> str:
    """Website name, hard rules of DOMAIN §5.6.

    3..30 characters (`(`, `)` and `-` do not count towards the minimum); not only digits, not only
    Latin letters; must not contain a domain name; only CJK, letters, digits and ()- (full-width
    brackets are normalised); no reserved prefix (中国, 中华, …) unless `nature` is GOVERNMENT or
    DEFENSE; no sensitive word; for PERSONAL the banned words for individuals.
    """
    name = require_text(value)
    if _DOMAIN_LIKE_RE.search(name):
        raise InvalidValue("网站名称不能包含域名")
    if not _NAME_CHARS_RE.fullmatch(name):
        raise InvalidValue("网站名称只能包含汉字、字母、数字和()-，不能包含空格或其他符号")
    core = _NOT_COUNTED_RE.sub("", name)
    if len(core) < WEBSITE_NAME_MIN_LEN:
        raise InvalidValue(f"网站名称不能少于{WEBSITE_NAME_MIN_LEN}个字符")
    if len(name) > WEBSITE_NAME_MAX_LEN:
        raise InvalidValue(f"网站名称不能超过{WEBSITE_NAME_MAX_LEN}个字符")
    if core.isascii() and core.isdigit():
        raise InvalidValue("网站名称不能全部为数字")
    if core.isascii() and core.isalpha():
        raise InvalidValue("网站名称不能全部为英文字母")
    if nature not in NATIONAL_NATURES and name.startswith(FORBIDDEN_NAME_PREFIXES):
        for prefix in FORBIDDEN_NAME_PREFIXES:
            if name.startswith(prefix):
                raise InvalidValue(f"网站名称不能以“{prefix}”开头（仅限国家机关、国防机构）")
    lowered = name.lower()
    for word, word_lower in _lowered(sensitive_words):
        if word and word_lower in lowered:
            raise InvalidValue(f"网站名称包含敏感词“{word}”")
    if nature == "PERSONAL":
        for word, word_lower in (*_lowered(personal_banned_words), *_lowered(extra_personal_words)):
            if word and word_lower in lowered:
                raise InvalidValue(f"个人网站名称不能包含“{word}”")
    return name


_NOT_COUNTED_RE = re.compile(r"[()\-]")  # not counted towards the minimum length
# (word, lower-cased word) of the default lists (tuples: they never change), computed once
_LOWERED = [(words, tuple((w, w.lower() if w else w) for w in words))
            for words in (DEFAULT_SENSITIVE_WORDS, PERSONAL_BANNED_WORDS, ())]


def _lowered(words: Iterable[str]) -> Iterable[tuple[str, str]]:
    """(word, word.lower()) of each word, in order."""
    for default, pairs in _LOWERED:
        if words is default:
            return pairs
    return [(w, w.lower() if w else w) for w in words]


def website_name_warnings(name: object, preapproval_codes: Iterable[str]) -> list[str]:
    """Sector words in the name that need a matching pre-approval (DOMAIN §5.6, "depending on
    other fields"): one warning per word whose pre-approval types are all missing."""
    lowered = normalize_text(name).lower()
    chosen = set(preapproval_codes)
    warnings: list[str] = []
    for word, needed in SECTOR_WORDS.items():
        if word in lowered and not (needed & chosen):
            labels = "或".join(f"“{_SECTOR_LABELS[c]}”" for c in sorted(needed))
            display = word.upper() if word.isascii() else word
            warnings.append(f"网站名称包含“{display}”，通常需要{labels}前置审批")
    return warnings


# --------------------------------------------------------------------------------------------
# Passwords (DOMAIN §5.7). Passwords are *not* normalised: spaces and full-width characters are
# significant and must match at login.

PASSWORD_MIN_LEN = 6
PASSWORD_MAX_LEN = 128  # bound on hashing cost (assumed)
_PROVIDER_PASSWORD_RE = re.compile(r"(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9._-]{6,12}", re.ASCII)


def validate_password(value: object) -> str:
    """Sponsor account password (DOMAIN §4.6, §5.7, seed 1.6.1): ≥ 6 characters, not all digits."""
    if not isinstance(value, str) or not value:
        raise InvalidValue("密码不能为空")
    if len(value) < PASSWORD_MIN_LEN:
        raise InvalidValue(f"密码长度不能少于{PASSWORD_MIN_LEN}位")
    if len(value) > PASSWORD_MAX_LEN:
        raise InvalidValue(f"密码长度不能超过{PASSWORD_MAX_LEN}位")
    if value.isdigit():
        raise InvalidValue("密码不能全部为数字")
    return value


def validate_provider_password(value: object) -> str:
    """Stricter provider-user password (DOMAIN §5.7, S-INSPUR default): 6-12 letters, digits,
    '.', '-', '_' with at least one letter and one digit."""
    if not isinstance(value, str) or not value:
        raise InvalidValue("密码不能为空")
    if not _PROVIDER_PASSWORD_RE.fullmatch(value):
        raise InvalidValue("密码应为6至12位字母、数字或“.-_”，且至少包含一个字母和一个数字")
    return value
