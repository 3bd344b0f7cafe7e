"""The import template's columns (DOMAIN §9): one definition used to write the template, to read an
upload, to turn a row into `shared.filing_data` input and to point an error at its cell.

Sheet 主体 has one row per subject, sheet 网站 one row per website; both carry the subject key
(主体编号). Row 1 of each data sheet is hidden and holds the machine names (the DOMAIN §4 /
`FilingData` field names, nested fields flattened: `principal_mobile`, `preapproval_types`, …);
row 2 holds the Chinese headers; data starts at row 3 (rows whose key starts with 示例 are the
template's example and are skipped). Code columns show Chinese labels and map back to codes;
multi-value cells separate values with `;` (also accepted: `；`, `、`, `,`, `，`, line breaks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from shared import codes
from shared import validate as v

TEMPLATE_VERSION = 2  # bump when columns change; older files are refused with a clear message
VERSION_NAME = "ICP_TEMPLATE_VERSION"  # defined name → the version cell on the hidden meta sheet
META_SHEET = "模板信息"
CODE_SHEET = "代码表"
HELP_SHEET = "填写说明"
SUBJECT_SHEET = "主体"
WEBSITE_SHEET = "网站"
MACHINE_ROW = 1  # 1-based Excel rows
HEADER_ROW = 2
FIRST_DATA_ROW = 3
EXAMPLE_PREFIX = "示例"
SEPARATOR = ";"
_SPLIT = re.compile(r"[;；、,，\n\r]+")
YES = {"是", "Y", "YES", "TRUE", "1", "同主体", "同主体负责人"}
NO = {"否", "N", "NO", "FALSE", "0", ""}

# kinds: text | free (free text kept as typed: names, addresses, remarks) | id (text that must not be a number)
#        | phone | code | codes (multi) | list (multi text) | date | valid_to | bool | province | region
# `text` cells have full-width letters, digits and punctuation made half-width (`normalize_text`), as the
# validators of those fields do; `free` cells only lose the spaces at their ends (`clean_text`), as the
# wizard keeps them: a name "深圳某某（集团）有限公司" is stored with its full-width brackets either way


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    table: str | None = None
    required: bool = True
    width: int = 16
    help: str = ""
    example: str = ""


PRINCIPAL_COLUMNS = (
    Column("principal_name", "负责人姓名", "free", help="与证件一致", example="张三", width=12),
    Column("principal_id_type", "负责人证件类型", "code", "id_types", example="居民身份证", width=14),
    Column("principal_id_number", "负责人证件号码", "id", help="文本格式；居民身份证18位，末位可为X",
           example="11010519491231002X", width=22),
    Column("principal_id_valid_from", "证件有效期起", "date", help="日期，如 2020-01-01", example="2020-01-01"),
    Column("principal_id_valid_to", "证件有效期止", "valid_to", help="日期，或填“长期”；剩余有效期须不少于3个月",
           example="长期"),
    Column("principal_mobile", "手机号码", "phone", help="11位中国大陆手机号码", example="13800138000", width=14),
    Column("principal_office_phone", "办公电话", "phone", required=False,
           help="格式 086-区号-号码[-分机]，如 086-010-87654321；个人可填手机号码", example="086-010-87654321"),
    Column("principal_emergency_phone", "应急联系电话", "phone", help="手机号码，不能与手机号码相同",
           example="13900139000", width=14),
    Column("principal_email", "电子邮件", help="用于接收通知", example="zhangsan@example.com", width=24),
)

# Optional principal fields (DOMAIN §4.2), last on both sheets so that template version 1's columns
# keep their letters.
PRINCIPAL_EXTRA_COLUMNS = (
    Column("principal_im_type", "即时通信类型", required=False, help="QQ、微信、钉钉或其他；可不填", example="QQ",
           width=12),
    Column("principal_im_account", "即时通信账号", "id", required=False, help="填写类型时必填", example="12345678",
           width=14),
    Column("principal_legal_rep_name", "法定代表人姓名", "free", required=False,
           help="单位主体负责人不是法定代表人时填写（同时填写证件号码）", example="", width=12),
    Column("principal_legal_rep_id", "法定代表人证件号码", "id", required=False, help="与法定代表人姓名同时填写",
           example="", width=22),
)

# 即时通信类型 as typed in the template → the API's code
IM_TYPES = {"QQ": "QQ", "微信": "WECHAT", "WECHAT": "WECHAT", "钉钉": "DINGTALK", "DINGTALK": "DINGTALK",
            "其他": "OTHER", "OTHER": "OTHER", "无": "NONE", "NONE": "NONE", "": ""}

SUBJECT_COLUMNS = (
    Column("subject_key", "主体编号", help="本文件内唯一的编号（如 S001），网站表用它关联主体；以“示例”开头的行不导入",
           example="示例S001", width=12),
    Column("nature", "主办单位性质", "code", "unit_natures", example="企业", width=14),
    Column("cert_type", "主办单位证件类型", "code", "certificate_types",
           help="须与单位性质相符；个人填身份证件类型（如 居民身份证）", example="营业执照（个人或企业）", width=22),
    Column("cert_number", "主办单位证件号码", "id", help="文本格式，与证件完全一致（统一社会信用代码18位）",
           example="91440300MA5F0000X1", width=22),
    Column("name", "主办单位名称", "free", help="与证件完全一致；个人填姓名", example="深圳示例科技有限公司", width=26),
    Column("province", "所属省份", "province", help="从下拉列表选择，或填 GB/T 2260 六位代码（如 440000）",
           example="广东省", width=12),
    Column("city", "所属市（代码）", "region", help="GB/T 2260 六位代码，如 440300", example="440300", width=12),
    Column("county", "所属县/区（代码）", "region", required=False, help="GB/T 2260 六位代码，如 440305",
           example="440305", width=12),
    Column("cert_address", "证件住所", "free", help="与证件上的住所一致", example="深圳市南山区科技园路1号", width=28),
    Column("mail_address", "通信地址", "free", help="详细地址，精确到门牌号，不要重复省市县", example="科技园路1号A座101室",
           width=28),
    Column("investor_or_superior", "投资者或上级主管单位", "free", help="单位：法定代表人姓名或主管单位全称；个人：本人姓名",
           example="张三", width=18),
    Column("remark", "备注", "free", required=False, example="", width=20),
    *PRINCIPAL_COLUMNS,
    *PRINCIPAL_EXTRA_COLUMNS,
)

WEBSITE_COLUMNS = (
    Column("subject_key", "主体编号", help="对应主体表的主体编号；一个主体可有多个网站", example="示例S001", width=12),
    Column("service_type", "服务类型", "code", "service_types", required=False, help="默认 网站", example="网站",
           width=10),
    Column("name", "网站名称", help="3个字符以上，不能只有数字或字母，不能含域名或特殊符号", example="示例科技官网",
           width=18),
    Column("domains", "网站域名", "list", help="新网站只填一个主域名（不带 www.），如 example.com",
           example="example.com", width=20),
    Column("home_urls", "首页URL", "list", help="须在网站域名之下，多个用英文分号 ; 分隔", example="www.example.com",
           width=22),
    Column("service_content", "网站服务内容", "codes", "service_content", help="可多选，用 ; 分隔；个人只能选 博客/个人空间 或 其他",
           example="单位门户网站", width=16),
    Column("preapproval_types", "前置审批类型", "codes", "preapproval_types",
           help="不涉及时填“以上都不涉及”；可多选，用 ; 分隔", example="以上都不涉及", width=16),
    Column("preapproval_nos", "前置审批文号", "list", required=False,
           help="涉及前置审批时按前置审批类型的顺序填写文号，用 ; 分隔", example="", width=18),
    Column("languages", "网站语言", "codes", "languages", help="可多选，用 ; 分隔", example="中文简体", width=12),
    Column("remark", "备注", "free", required=False, example="", width=16),
    Column("principal_same_as_subject", "负责人同主体负责人", "bool",
           help="填“是”时网站负责人各列可留空（自动使用主体负责人）；填“否”时必须填写", example="是", width=12),
    *(Column(c.key, "网站" + c.label, c.kind, c.table, False, c.width, c.help, "") for c in PRINCIPAL_COLUMNS),
    Column("access_methods", "接入方式", "codes", "access_methods", help="可多选，用 ; 分隔", example="云接入",
           width=12),
    Column("ip_ranges", "网站IP地址", "list", help="起始IP-终止IP，多个用 ; 分隔；单个地址直接填写，如 1.2.3.4",
           example="203.0.113.10-203.0.113.20", width=28),
    Column("server_locations", "服务器放置地", "codes", "provinces", help="省份，可多选，用 ; 分隔", example="广东省",
           width=14),
    *(Column(c.key, "网站" + c.label, c.kind, c.table, False, c.width, c.help, "") for c in PRINCIPAL_EXTRA_COLUMNS),
)

SHEETS = {SUBJECT_SHEET: SUBJECT_COLUMNS, WEBSITE_SHEET: WEBSITE_COLUMNS}
SHEET_NO = {SUBJECT_SHEET: 1, WEBSITE_SHEET: 2}


def column_index(sheet: str) -> dict[str, int]:
    return {c.key: i for i, c in enumerate(SHEETS[sheet])}


SUBJECT_IDX = column_index(SUBJECT_SHEET)
WEBSITE_IDX = column_index(WEBSITE_SHEET)


# ---------------------------------------------------------------- code labels


def _norm(text: str) -> str:
    return v.normalize_text(text).replace(" ", "")


@cache
def choices(table: str) -> tuple[str, ...]:
    """Labels offered in the template's dropdown for a code table (Chinese names, deduplicated)."""
    if table == "certificate_types":
        labels = [r["name_zh"] for r in codes.rows("certificate_types")] + [
            r["name_zh"] for r in codes.principal_id_types()
        ]
    elif table == "id_types":
        labels = [r["name_zh"] for r in codes.principal_id_types()]
    elif table == "provinces":
        labels = [r["name_zh"] for r in codes.filing_provinces()]
    else:
        labels = [r["name_zh"] for r in codes.rows(table)]
    return tuple(dict.fromkeys(labels))


@cache
def _label_map(table: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    source = codes.rows("provinces") if table == "provinces" else codes.rows(table)
    for r in source:
        for name in {r["name_zh"], r["code"], r.get("short_zh", "")} - {""}:
            out.setdefault(_norm(name).upper() if name == r["code"] else _norm(name), []).append(r["code"])
    if table == "certificate_types":
        for r in codes.rows("id_types"):
            out.setdefault(_norm(r["name_zh"]), []).append(r["code"])
            out.setdefault(r["code"], []).append(r["code"])
    return out


def to_code(table: str, text: str, *, nature: str | None = None) -> str | None:
    """A label (or code) → the code; None if unknown. Certificate labels repeat across natures
    (组织机构代码证): the subject's nature picks the row."""
    return _to_code(table, text, nature)


@lru_cache(maxsize=4096)  # a file repeats the same few labels on every row
def _to_code(table: str, text: str, nature: str | None) -> str | None:
    found = _label_map(table).get(_norm(text)) or _label_map(table).get(_norm(text).upper())
    if not found:
        return None
    if len(found) > 1 and table == "certificate_types" and nature:
        for code in found:
            if codes.is_cert_type_allowed(nature, code):
                return code
    return found[0]


def split_multi(text: str) -> list[str]:
    if _SPLIT.search(text) is None:  # one value or none (the common case): nothing to split
        value = text.strip()
        return [value] if value else []
    return [p.strip() for p in _SPLIT.split(text) if p.strip()]


@lru_cache(maxsize=1024)  # every subject row names its province: a few dozen labels
def province_gb(text: str) -> str | None:
    """Province name / short name / code / GB code → the 6-digit GB/T 2260 code (440000)."""
    t = _norm(text)
    if t.isdigit():
        row = codes.province_by_gb(t)
    else:
        code = to_code("provinces", t)
        row = codes.get("provinces", code) if code else None
    return f"{row['gb2260']}0000" if row else None


# ---------------------------------------------------------------- rows → FilingData input


class CellError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _codes(cells: list[str], idx: dict[str, int], key: str, table: str, errors: list[CellError]) -> list[str]:
    out = []
    for part in split_multi(cells[idx[key]]):
        code = _to_code(table, part, None)  # to_code without its frame
        if code is None:
            errors.append(CellError(key, f"“{part}”不是可选的值，请从下拉列表选择"))
        else:
            out.append(code)
    return out


def _code(cells: list[str], idx: dict[str, int], key: str, table: str, errors: list[CellError],
          nature: str | None = None) -> str:
    text = cells[idx[key]]
    if not text:
        return ""
    code = _to_code(table, text, nature)  # to_code without its frame
    if code is None:
        errors.append(CellError(key, f"“{text}”不是可选的值，请从下拉列表选择"))
        return text
    return code


def _principal(cells: list[str], idx: dict[str, int], errors: list[CellError]) -> dict:
    return {
        "name": cells[idx["principal_name"]],
        "id_type": _code(cells, idx, "principal_id_type", "id_types", errors),
        "id_number": cells[idx["principal_id_number"]],
        "id_valid_from": cells[idx["principal_id_valid_from"]] or None,
        "id_valid_to": cells[idx["principal_id_valid_to"]] or None,
        "mobile": cells[idx["principal_mobile"]],
        "office_phone": cells[idx["principal_office_phone"]],
        "emergency_phone": cells[idx["principal_emergency_phone"]],
        "email": cells[idx["principal_email"]],
        "im_type": IM_TYPES.get(cells[idx["principal_im_type"]].strip().upper(), cells[idx["principal_im_type"]]),
        "im_account": cells[idx["principal_im_account"]],
        "legal_rep_name": cells[idx["principal_legal_rep_name"]],
        "legal_rep_id": cells[idx["principal_legal_rep_id"]],
    }


def subject_input(cells: list[str], errors: list[CellError]) -> dict:
    """Cells of a 主体 row → `Subject` input (codes mapped; validation is FilingData's)."""
    i = SUBJECT_IDX
    nature = _code(cells, i, "nature", "unit_natures", errors)
    province = cells[i["province"]]
    gb = province_gb(province) if province else ""
    if gb is None:
        errors.append(CellError("province", f"“{province}”不是有效的省份"))
        gb = province
    return {
        "nature": nature,
        "cert_type": _code(cells, i, "cert_type", "certificate_types", errors, nature=nature),
        "cert_number": cells[i["cert_number"]],
        "name": cells[i["name"]],
        "cert_address": cells[i["cert_address"]],
        "province": gb,
        "city": cells[i["city"]],
        "county": cells[i["county"]],
        "mail_address": cells[i["mail_address"]],
        "investor_or_superior": cells[i["investor_or_superior"]],
        "remark": cells[i["remark"]],
        "principal": _principal(cells, i, errors),
    }


_WEBSITE_PRINCIPAL_CELLS = tuple(WEBSITE_IDX[c.key] for c in (*PRINCIPAL_COLUMNS, *PRINCIPAL_EXTRA_COLUMNS))


def website_input(cells: list[str], errors: list[CellError]) -> dict:
    """Cells of a 网站 row → `Website` input."""
    i = WEBSITE_IDX
    same_text = cells[i["principal_same_as_subject"]].upper()
    if same_text in YES:
        same = True
    elif same_text in NO:
        same = False
    else:
        errors.append(CellError("principal_same_as_subject", "请填写“是”或“否”"))
        same = False
    has_principal = any(cells[k] for k in _WEBSITE_PRINCIPAL_CELLS)
    types = _codes(cells, i, "preapproval_types", "preapproval_types", errors)
    numbers = split_multi(cells[i["preapproval_nos"]])
    preapprovals = []
    n = 0
    for t in types:
        if t == "NONE":
            preapprovals.append({"type": t})
        else:
            preapprovals.append({"type": t, "approval_no": numbers[n] if n < len(numbers) else ""})
            n += 1
    if n < len(numbers):
        errors.append(CellError("preapproval_nos", "审批文号多于涉及的前置审批类型"))
    ranges = []
    for part in split_multi(cells[i["ip_ranges"]]):
        start, sep, end = part.partition("-")
        ranges.append({"start_ip": start.strip(), "end_ip": (end if sep else start).strip()})
    out = {
        "service_type": _code(cells, i, "service_type", "service_types", errors) or "WEBSITE",
        "name": cells[i["name"]],
        "domains": split_multi(cells[i["domains"]]),
        "home_urls": split_multi(cells[i["home_urls"]]),
        "service_content": _codes(cells, i, "service_content", "service_content", errors),
        "preapprovals": preapprovals,
        "languages": _codes(cells, i, "languages", "languages", errors),
        "remark": cells[i["remark"]],
        "principal_same_as_subject": same,
        "access": {
            "access_methods": _codes(cells, i, "access_methods", "access_methods", errors),
            "ip_ranges": ranges,
            "server_locations": _codes(cells, i, "server_locations", "provinces", errors),
        },
    }
    if not same or has_principal:
        out["principal"] = _principal(cells, i, errors)
    return out


# ---------------------------------------------------------------- FilingData paths → columns

_INDEX = re.compile(r"\[\d+\]")

_SUBJECT_FIELD = {
    "subject": "subject_key",
    "principal": "principal_name",
    "region": "province",
}
_WEBSITE_FIELD = {
    "": "subject_key",
    "preapprovals": "preapproval_types",
    "preapprovals.type": "preapproval_types",
    "preapprovals.approval_no": "preapproval_nos",
    "preapprovals.document": "preapproval_nos",
    "principal": "principal_name",
    "access": "access_methods",
    "access.access_methods": "access_methods",
    "access.ip_ranges": "ip_ranges",
    "access.ip_ranges.start_ip": "ip_ranges",
    "access.ip_ranges.end_ip": "ip_ranges",
    "access.server_locations": "server_locations",
}


def locate(path: str) -> tuple[str, int | None, str]:
    """A FilingData error path → (sheet, website index or None, column key).

    `subject.principal.mobile` → (主体, None, principal_mobile);
    `websites[1].access.ip_ranges[0]` → (网站, 1, ip_ranges); `websites` → (主体, None, subject_key).
    """
    if path.startswith("websites["):
        head, _, rest = path.partition("]")
        index = int(head[len("websites["):])
        field = _INDEX.sub("", rest.lstrip("."))
        key = _WEBSITE_FIELD.get(field) or field.replace(".", "_")
        if key not in WEBSITE_IDX:
            key = _WEBSITE_FIELD.get(field.split(".")[0], "subject_key")
        return WEBSITE_SHEET, index, key
    field = _INDEX.sub("", path.removeprefix("subject").lstrip("."))
    key = _SUBJECT_FIELD.get(field) or field.replace(".", "_") or "subject_key"
    if key not in SUBJECT_IDX:
        key = "subject_key"
    return SUBJECT_SHEET, None, key
