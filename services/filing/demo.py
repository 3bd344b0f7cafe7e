"""`icp demo`: demo provider, accounts, home-page content and a few filings. Idempotent: what exists is kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from services.filing.accounts import store as accounts_store
from services.filing.accounts.model import ROLE_LABELS
from services.filing.content import store as content_store
from services.filing.entry.store import create_first_filing
from services.filing.providers.handlers import register_provider
from services.filing.providers.model import ProviderIn
from shared import validate as v
from shared.auth import hash_password
from shared.db import transaction
from shared.filing_data import FilingData
from shared.service import ServiceContext

PROVIDER_ID = "demo-idc"
PROVIDER_NAME = "示例数据中心有限公司"
PROVIDER_PROVINCE = "BJ"

# (role, username, password, display name, provider_id, province)
ACCOUNTS = [
    ("provider", "demo", "demo123", "示例数据中心备案专员", PROVIDER_ID, None),
    ("bureau", "bj-reviewer", "review123", "北京管局审核员", None, "BJ"),
    ("admin", "admin", "admin123", "系统管理员", None, None),
]

ARTICLES = [
    ("announcement", "关于备案系统升级维护的通知",
     "为提升服务质量，备案管理系统将于本周六 00:00 至 06:00 进行升级维护，期间暂停备案信息报备业务。"
     "请各接入服务提供者合理安排工作。", {}),
    ("announcement", "关于进一步加强网站备案信息核验工作的通知",
     "各接入服务提供者应严格履行备案信息核验义务，对主办者身份信息、网站信息的真实性进行核实，"
     "核验不通过的不得提交管局审核。", {"pinned": True}),
    ("announcement", "备案系统使用常见问题解答",
     "一、忘记密码怎么办？请联系本单位系统管理员重置。二、验证码看不清？点击图片即可刷新。", {}),
    ("law", "非经营性互联网信息服务备案管理办法",
     "第一条 为规范非经营性互联网信息服务备案及备案管理，促进互联网信息服务业的健康发展，"
     "根据《中华人民共和国电信条例》、《互联网信息服务管理办法》制定本办法。",
     {"issuer": "信息产业部", "document_no": "信息产业部令第33号"}),
]


# Demo filings: synthetic certificate and ID numbers (valid check characters, belonging to nobody),
# domains under example TLD space of the demo; entered as the demo operator would.
DEMO_FILINGS = [
    # (org code body, subject name, website name, domain, nature, preapproval)
    ("D0000001", "示例网络科技有限公司", "示例网络科技官网", "demo-icp-tech.cn", "ENTERPRISE", "NONE"),
    ("D0000002", "示例教育咨询有限公司", "示例教育咨询官网", "demo-icp-edu.cn", "ENTERPRISE", "EDUCATION"),
    ("D0000003", "示例文化传媒有限公司", "示例文化传媒官网", "demo-icp-media.com", "ENTERPRISE", "NONE"),
]


def demo_filing(index: int) -> FilingData:
    body, name, site, domain, nature, pre = DEMO_FILINGS[index]
    first17 = "91110105" + body + v.org_code_check_char(body)
    uscc = first17 + v.uscc_check_char(first17)
    id17 = f"11010519850101{index + 101:03d}"
    person = {
        "name": "李示例", "id_type": "RESIDENT_ID", "id_number": id17 + v.resident_id_check_char(id17),
        "id_valid_from": "2020-01-01", "id_valid_to": "LONG_TERM",
        "mobile": f"1390000{index + 1:04d}", "emergency_phone": f"1380000{index + 1:04d}",
        "email": f"demo{index + 1}@example.com",
    }
    preapprovals = [{"type": "NONE"}] if pre == "NONE" else [{"type": pre, "approval_no": "京教审〔2026〕001号"}]
    return FilingData.model_validate({
        "subject": {
            "nature": nature, "cert_type": "BIZ_LICENSE", "cert_number": uscc, "name": name,
            "cert_address": "北京市朝阳区示例路1号", "province": "110000", "city": "110100", "county": "110105",
            "mail_address": f"示例路1号{index + 1}号楼101室", "investor_or_superior": "李示例", "principal": person,
        },
        "websites": [{
            "name": site, "domains": [domain], "home_urls": [f"www.{domain}"], "service_content": ["ORG_PORTAL"],
            "preapprovals": preapprovals, "languages": ["ZH_HANS"], "principal_same_as_subject": True,
            "access": {"access_methods": ["CLOUD"], "ip_ranges": [{"start_ip": "203.0.113.10", "end_ip": "203.0.113.20"}],
                       "server_locations": ["BJ"]},
        }],
    })


@dataclass
class DemoResult:
    provider_created: bool = False
    accounts_created: list[str] = field(default_factory=list)
    articles_created: int = 0
    filings_created: list[tuple[str, str, str]] = field(default_factory=list)  # (subject, username, password)


async def load_demo(ctx: ServiceContext, *, out: Callable[[str], None] = print) -> DemoResult:
    """Create the demo provider, its operator, a Beijing reviewer, an admin and home-page content."""
    result = DemoResult()
    if not await accounts_store.provider_exists(ctx.pool, PROVIDER_ID):
        await register_provider(ctx, ProviderIn(name=PROVIDER_NAME, province=PROVIDER_PROVINCE,
                                                provider_id=PROVIDER_ID), actor="demo")
        result.provider_created = True
    for role, username, password, name, provider_id, province in ACCOUNTS:
        async with transaction(ctx.pool) as conn:
            if await accounts_store.user_by_username(conn, username) is not None:
                continue
            row = await accounts_store.insert_user(
                conn, username=username, password_hash=hash_password(password), role=role, display_name=name,
                provider_id=provider_id, province=province, created_by="demo",
            )
            if row is not None:
                result.accounts_created.append(username)
    for category, title, body, extra in ARTICLES:
        async with transaction(ctx.pool) as conn:
            if await content_store.article_exists(conn, category, title):
                continue
            data = {"title": title, "body": body, "issuer": None, "document_no": None, "effective_on": None,
                    "pinned": False, **extra}
            await content_store.insert_article(conn, category, data, "demo")
            result.articles_created += 1

    for i in range(len(DEMO_FILINGS)):
        data = demo_filing(i)
        async with transaction(ctx.pool) as conn:
            if await conn.fetchval("SELECT true FROM subjects WHERE cert_number = $1", data.subject.cert_number):
                continue
            created = await create_first_filing(conn, provider_id=PROVIDER_ID, data=data, actor="demo",
                                                outbox=ctx.outbox)
            result.filings_created.append((created.subject_name, created.sponsor_username,
                                           created.sponsor_password or ""))

    out(f"示例数据已就绪：接入服务提供者 {PROVIDER_NAME}（{PROVIDER_ID}，{PROVIDER_PROVINCE}）"
        + ("（新建）" if result.provider_created else "（已存在）"))
    # The login form asks for the role by its code (POST /sessions {"role": ...}): print both.
    out("登录账户（角色 / 登录角色代码 role / 用户名 / 密码）：")
    for role, username, password, _name, _pid, _prov in ACCOUNTS:
        note = "" if username in result.accounts_created else "（已存在，密码如被修改则以修改后的为准）"
        out(f"  {ROLE_LABELS[role]} / {role} / {username} / {password}{note}")
    out(f"新增通知公告/政策法规 {result.articles_created} 篇")
    for subject, username, password in result.filings_created:
        out(f"新增示例备案（待核实）：{subject}，主办者账户（{ROLE_LABELS['sponsor']} / sponsor）{username} / {password}")
    return result
