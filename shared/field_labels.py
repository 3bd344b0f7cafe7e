"""Chinese labels of the API's fields (DOMAIN.md §4), and the Chinese sentence of a 422's `detail`.

The one table of labels: an error's `field` keeps the API path (`websites[1].principal.mobile`) for
programs, its `detail` names the field the way the form does (`第2个网站的负责人手机号码`). A label is
looked up by the last two names of the path (`principal.name`), then by the last one (`name`); a path
with no label keeps its own name, so a new field never breaks a message.
"""

from __future__ import annotations

import re

# By "parent.field" first, then by "field".
LABELS: dict[str, str] = {
    # subject (§4.1)
    "subject": "主办单位信息",
    "subject.name": "主办单位名称",
    "subject.remark": "主体备注",
    "nature": "主办单位性质",
    "cert_type": "主办单位证件类型",
    "cert_number": "主办单位证件号码",
    "cert_address": "主办单位证件住所",
    "province": "所属区域（省）",
    "city": "所属区域（市）",
    "county": "所属区域（县/区）",
    "mail_address": "通信地址",
    "investor_or_superior": "投资者或上级主管单位",
    "remark": "备注",
    "name": "名称",
    # principal (§4.2)
    "principal": "负责人",
    "principal.name": "负责人姓名",
    "id_type": "负责人证件类型",
    "id_number": "负责人证件号码",
    "id_valid_from": "证件有效期起",
    "id_valid_to": "证件有效期止",
    "mobile": "手机号码",
    "office_phone": "办公电话",
    "emergency_phone": "应急联系电话",
    "email": "电子邮件地址",
    "im_type": "即时通信类型",
    "im_account": "即时通信账号",
    "is_legal_rep": "负责人是否为法定代表人",
    "legal_rep_name": "法定代表人姓名",
    "legal_rep_id": "法定代表人证件号码",
    # website (§4.3)
    "websites": "网站信息",
    "websites.name": "网站名称",
    "website.name": "网站名称",
    "service_type": "服务类型",
    "domains": "网站域名",
    "domain": "域名",
    "home_urls": "网站首页URL",
    "service_content": "网站服务内容",
    "preapprovals": "前置审批项",
    "preapprovals.type": "前置审批类型",
    "approval_no": "审批文号",
    "document": "审批文件",
    "languages": "网站语言",
    "principal_same_as_subject": "网站负责人同主体负责人",
    # access (§4.4)
    "access": "接入信息",
    "access_methods": "接入方式",
    "ip_ranges": "网站IP地址段",
    "start_ip": "起始IP",
    "end_ip": "终止IP",
    "server_locations": "服务器放置地",
    # numbers, accounts, workflow
    "subject_no": "主体备案号",
    "website_no": "网站备案号",
    "filing_no": "备案号",
    "number": "备案号",
    "sponsor_name": "主办单位名称",
    "username": "用户名",
    "password": "密码",
    "old_password": "原密码",
    "new_password": "新密码",
    "captcha": "验证码",
    "captcha_id": "验证码",
    "captcha_answer": "验证码",
    "sponsor": "主办者账号",
    "sponsor_username": "主办者用户名",
    "sponsor_password": "主办者密码",
    "reason": "原因说明",
    "reason_code": "原因",
    "opinion": "核实意见",
    "note": "说明",
    "ids": "所选账号",
    # detection (unfiled-site events, handling, blacklists)
    "id": "编号",
    "ip": "IP地址",
    "provider_id": "接入服务提供者",
    "detected_at": "检测时间",
    "source": "检测来源",
    "url": "网址",
    "title": "标题",
    "handling_status": "处理状态",
    "handling_code": "处理结果",
    "code": "代码",
    "filed_meanwhile": "检测后已备案",
    "month": "月份",
    "date_from": "起始日期",
    "date_to": "截止日期",
    "group_by": "分组方式",
    "kind": "类型",
    "website_name": "网站名称",
    "page": "页码",
    "page_size": "每页条数",
    "body": "请求内容",
}

_PART = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


_ITEM = re.compile(r"^\[(\d+)\]\.?")


def label(path: str, *, item: str = "项") -> str:
    """The Chinese name of a field path, e.g. `websites[1].principal.mobile` → `第2个网站的负责人手机号码`,
    `subject.principal.name` → `主体负责人姓名`, `websites[0].domains[2]` → `第1个网站的网站域名（第3项）`.
    A path into an array body starts with the index: `[1].ip` → `第2项的IP地址` (`item` names the
    elements, e.g. "条事件" → `第2条事件的IP地址`)."""
    whole = _ITEM.match(path or "")
    if whole:
        rest = path[whole.end():]
        return f"第{int(whole.group(1)) + 1}{item}" + (f"的{label(rest)}" if rest else "")
    parts = [(m.group(1), [int(i) for i in re.findall(r"\d+", m.group(2))]) for m in _PART.finditer(path or "")]
    if not parts:
        return "请求内容"
    names = [name for name, _ in parts]
    leaf, leaf_index = parts[-1]
    parent = names[-2] if len(names) > 1 else ""
    text = LABELS.get(f"{parent}.{leaf}") or LABELS.get(leaf) or leaf
    if parent == "principal" and not text.startswith("负责人"):
        text = "负责人" + text
    if "principal" in names[:-1] and names[0] == "subject":
        text = "主体" + text
    if leaf_index and leaf != "websites":
        text += f"（第{leaf_index[0] + 1}项）"
    if leaf == "websites" and leaf_index:
        text = f"第{leaf_index[0] + 1}个网站"
    prefixes = []
    for name, index in parts[:-1]:
        if index and name == "websites":
            prefixes.append(f"第{index[0] + 1}个网站的")
        elif index:
            prefixes.append(f"{LABELS.get(name, name)}第{index[0] + 1}项的")
    return "".join(prefixes) + text


def summary(errors: list[dict[str, str]], *, shown: int = 5, item: str = "项") -> str:
    """The `detail` of a 422: every error (up to `shown`) as `label：reason`, then how many in all."""
    if not errors:
        return "数据校验未通过"
    parts = [f"{label(e.get('field', ''), item=item)}：{e.get('message', '')}" for e in errors[:shown]]
    text = "；".join(parts)
    if len(errors) > shown:
        text += f"；等共 {len(errors)} 处错误"
    elif len(errors) > 1:
        text += f"（共 {len(errors)} 处错误）"
    return text
