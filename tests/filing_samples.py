"""Valid, unique filing data for tests and the bench (synthetic numbers that belong to nobody)."""

from __future__ import annotations

import copy
import itertools
import random
import uuid

from shared.validate import org_code_check_char, resident_id_check_char, uscc_check_char

_rng = random.Random()
# numbers drawn from a random start, then consecutive: unique within a process (the bench
# submits tens of thousands; random draws collided on mobiles and certificates)
_serial = itertools.count(_rng.randrange(10**8))


def uscc() -> str:
    """A synthetic enterprise USCC (91 + Beijing Chaoyang + an organisation code) with both checks valid."""
    body = f"{next(_serial) % 10**8:08d}"
    first17 = "91110105" + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def resident_id() -> str:
    year = _rng.randint(1960, 2000)
    month, day = _rng.randint(1, 12), _rng.randint(1, 28)
    first17 = f"110105{year}{month:02d}{day:02d}{_rng.randint(0, 999):03d}"
    return first17 + resident_id_check_char(first17)


def mobile() -> str:
    return f"139{next(_serial) % 10**8:08d}"


def domain() -> str:
    return f"t{uuid.uuid4().hex[:16]}.com"


def principal(**over) -> dict:
    p = {
        "name": "张三",
        "id_type": "RESIDENT_ID",
        "id_number": resident_id(),
        "id_valid_from": "2020-01-01",
        "id_valid_to": "LONG_TERM",
        "mobile": mobile(),
        "emergency_phone": mobile(),
        "email": "zhangsan@example.com",
    }
    p.update(over)
    return p


def subject(**over) -> dict:
    s = {
        "nature": "ENTERPRISE",
        "cert_type": "BIZ_LICENSE",
        "cert_number": uscc(),
        "name": "示例网络科技有限公司",
        "cert_address": "北京市朝阳区示例路1号",
        "province": "110000",
        "city": "110100",
        "county": "110105",
        "mail_address": "示例路1号2号楼301室",
        "investor_or_superior": "张三",
        "principal": principal(),
    }
    s.update(over)
    return s


def website(**over) -> dict:
    d = over.pop("domain", None) or domain()
    w = {
        "name": "示例科技官网",
        "domains": [d],
        "home_urls": [f"www.{d}"],
        "service_content": ["ORG_PORTAL"],
        "preapprovals": [{"type": "NONE"}],
        "languages": ["ZH_HANS"],
        "principal_same_as_subject": True,
        "access": {
            "access_methods": ["CLOUD"],
            "ip_ranges": [{"start_ip": "203.0.113.10", "end_ip": "203.0.113.20"}],
            "server_locations": ["BJ"],
        },
    }
    w.update(over)
    return w


def filing(websites: int = 1) -> dict:
    return {"subject": subject(), "websites": [website() for _ in range(websites)]}


def clone(value: dict) -> dict:
    return copy.deepcopy(value)
