"""Unit tests for shared.validate and shared.fields (DOMAIN.md §4, §5, §6.1)."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from pydantic import BaseModel, ValidationError

from shared import codes, fields
from shared import validate as v
from shared.validate import InvalidValue

TODAY = dt.date(2026, 6, 15)


def invalid(fn, *args, **kwargs) -> str:
    """Call fn expecting InvalidValue; return its message."""
    with pytest.raises(InvalidValue) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    return info.value.message


# --------------------------------------------------------------------------------------------
# normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  abc  ", "abc"),
        ("\u3000北京\u3000", "北京"),
        ("\t\n x \r\n", "x"),
        ("\u200b\ufeffabc\u00a0", "abc"),
        ("１３８００１３８０００", "13800138000"),
        ("ＡＢＣｘｙｚ！＠（）", "ABCxyz!@()"),
        ("中 国", "中 国"),
        ("中\u3000国", "中\u3000国"),
        (None, ""),
        (13800138000, "13800138000"),
        ("", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert v.normalize_text(raw) == expected


@pytest.mark.parametrize("raw", [1.5, True, ["a"], b"abc"])
def test_normalize_text_rejects_non_text(raw):
    assert invalid(v.normalize_text, raw) == "类型不正确，应为文本"


def test_validate_text():
    assert v.validate_text("  名称 ", max_len=5) == "名称"
    assert v.validate_text("  ", max_len=5, required=False) == ""
    assert invalid(v.validate_text, " ", max_len=5) == "不能为空"
    assert invalid(v.validate_text, "abcdef", max_len=5) == "长度不能超过5个字符"
    assert invalid(v.validate_text, "ab", max_len=5, min_len=3) == "长度不能少于3个字符"


# --------------------------------------------------------------------------------------------
# Resident ID (§5.1)


def test_resident_id_weights_are_the_documented_ones():
    from shared.validate.identity import RESIDENT_ID_WEIGHTS

    assert RESIDENT_ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),  # the standard's own example
        ("11010519491231002x", "11010519491231002X"),  # lower-case x upper-cased
        (" 11010519491231002X\u3000", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width
        ("110105199001010029", "110105199001010029"),
        ("110105200002290013", "110105200002290013"),  # 29 Feb of a leap year
    ],
)
def test_resident_id_valid(raw, expected):
    assert v.validate_resident_id(raw, today=TODAY) == expected


def test_resident_id_1880_vector_checksum_and_year_bound():
    # DOMAIN §5.1 lists 440524188001010014 as valid (checksum); the assumed lower bound of the
    # birth year (1900) rejects it by default, a lower bound admits it.
    assert v.resident_id_check_char("44052418800101001") == "4"
    assert invalid(v.validate_resident_id, "440524188001010014") == "身份证号码中的出生年份不能早于1900年"
    assert v.validate_resident_id("440524188001010014", min_birth_year=1800) == "440524188001010014"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("110105199001011234", "身份证号码校验位不正确，请核对"),  # expected check 2
        ("110105199001011232", None),  # control: the corrected number is valid
        ("", "不能为空"),
        ("   ", "不能为空"),
        ("110105900101123", "不支持15位旧版身份证号码，请填写18位身份证号码"),
        ("11010519900101123", "身份证号码应为18位"),
        ("1101051990010112345", "身份证号码应为18位"),
        ("11010519900101123A", "身份证号码前17位应为数字，最后一位应为数字或X"),
        ("1101051990O101123X", "身份证号码前17位应为数字，最后一位应为数字或X"),
        ("010105199001011234", "身份证号码的地区码不正确"),
        ("110105199002300000", "身份证号码中的出生日期无效"),  # 30 Feb
        ("110105199902290000", "身份证号码中的出生日期无效"),  # 29 Feb of a non-leap year
        ("110105199013010000", "身份证号码中的出生日期无效"),  # month 13
        ("110105170001010000", "身份证号码中的出生日期无效"),  # 17xx not admitted by the regex
        ("110105202701010000", "身份证号码中的出生日期不能晚于今天"),
    ],
)
def test_resident_id_invalid(raw, message):
    if message is None:
        assert v.validate_resident_id(raw, today=TODAY) == raw
    else:
        assert invalid(v.validate_resident_id, raw, today=TODAY) == message


def test_resident_id_future_birth_date_relative_to_today():
    number = "110105202606160000"
    number = number[:17] + v.resident_id_check_char(number[:17])
    assert invalid(v.validate_resident_id, number, today=TODAY) == "身份证号码中的出生日期不能晚于今天"
    assert v.validate_resident_id(number, today=dt.date(2026, 6, 16)) == number


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        (" 11010519491231002x ", "110105********002x"),
        ("E12345678", "E12****78"),
        ("abc", "***"),
        ("", ""),
    ],
)
def test_mask_id_number(raw, masked):
    assert v.mask_id_number(raw) == masked


# --------------------------------------------------------------------------------------------
# USCC, organisation code, registration number (§5.2)


@pytest.mark.parametrize(
    "code",
    [
        "9135052155323005XL",
        "91440300MA5F0000X1",
        "1211000040000000XT",
        "92370102MA3C00003H",
        "51310000500000007E",
    ],
)
def test_uscc_valid(code):
    assert v.check_uscc(code) == (code, [])
    assert v.validate_uscc(code.lower()) == code
    assert v.validate_uscc(f" {code}\u3000") == code


def test_uscc_fullwidth_normalised():
    assert v.validate_uscc("９１３５０５２１５５３２３００５ＸＬ") == "9135052155323005XL"


def test_uscc_invalid_check_character():
    assert v.uscc_check_char("91350203M0001QAY9") == "9"
    assert invalid(v.validate_uscc, "91350203M0001QAY9B") == "统一社会信用代码校验位不正确，请核对"


def test_uscc_c31_edge_case_and_org_code_warning():
    # S mod 31 == 0 -> c = 31 -> check character '0' (not an index error)
    assert v.uscc_check_char("91110108000000008") == "0"
    code, warnings = v.check_uscc("911101080000000080")
    assert code == "911101080000000080"
    assert warnings == ["统一社会信用代码中的组织机构代码（第9至17位）校验不通过，请核对"]
    assert v.org_code_check_char("00000000") == "0"
    # validate_uscc only raises on hard errors
    assert v.validate_uscc("911101080000000080") == "911101080000000080"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "不能为空"),
        ("9135052155323005X", "统一社会信用代码应为18位"),
        ("9135052155323005XLX", "统一社会信用代码应为18位"),
        ("9135052155323005IL", "统一社会信用代码包含无效字符（不使用字母I、O、S、V、Z，第3至8位应为数字）"),
        ("91A5052155323005XL", "统一社会信用代码包含无效字符（不使用字母I、O、S、V、Z，第3至8位应为数字）"),
        ("0135052155323005XL", "统一社会信用代码第1位（登记管理部门代码）无效"),
        ("9135052155323005XA", "统一社会信用代码校验位不正确，请核对"),
    ],
)
def test_uscc_invalid(raw, message):
    assert invalid(v.check_uscc, raw) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D2143569-X", "D2143569-X"),
        ("d2143569x", "D2143569-X"),
        ("12345678-8", "12345678-8"),
        ("MA5F0000X", "MA5F0000-X"),
    ],
)
def test_org_code_valid(raw, expected):
    assert v.validate_org_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("D2143569-1", "组织机构代码校验位不正确，请核对"),
        ("D214356-X", "组织机构代码应为8位数字或大写字母加1位校验码，如 12345678-9"),
        ("D2143569--X", "组织机构代码应为8位数字或大写字母加1位校验码，如 12345678-9"),
        ("", "不能为空"),
    ],
)
def test_org_code_invalid(raw, message):
    assert invalid(v.validate_org_code, raw) == message


@pytest.mark.parametrize("number", ["110108000000016", "310000000000000", "440300000000121"])
def test_business_reg_no_valid(number):
    assert v.business_reg_no_checksum_ok(number)
    assert v.check_business_reg_no(number) == (number, [])


def test_business_reg_no_checksum_is_only_a_warning():
    assert not v.business_reg_no_checksum_ok("110108000000017")
    assert v.check_business_reg_no("110108000000017") == (
        "110108000000017",
        ["15位工商注册号校验位不正确，请核对"],
    )
    assert v.validate_business_reg_no("110108000000017") == "110108000000017"
    assert invalid(v.validate_business_reg_no, "11010800000001A") == "工商注册号应为15位数字"


# --------------------------------------------------------------------------------------------
# Certificate number dispatcher


def test_cert_number_rules_cover_every_code_of_both_tables():
    all_codes = {r["code"] for r in codes.rows("certificate_types")} | {
        r["code"] for r in codes.rows("id_types")
    }
    assert set(v.CERT_NUMBER_RULES) == all_codes
    assert {r["code"] for r in codes.rows("id_types")} == v.PERSON_ID_TYPES


def test_cert_number_rules_consistent_with_number_rule_column():
    for row in codes.rows("certificate_types"):
        rule, _ = v.CERT_NUMBER_RULES[row["code"]]
        text = row["number_rule"]
        if row["nature_code"] == "PERSONAL":
            continue  # the id_types rules apply to person documents
        if text.startswith("org code"):
            assert rule is v.NumberRule.ORG_CODE_OR_USCC, row["code"]
        elif text.startswith("USCC (18) or"):
            assert rule is v.NumberRule.USCC_OR_REG_NO
        elif text.startswith("USCC"):
            assert rule is v.NumberRule.USCC, row["code"]
        elif text.startswith("free text"):
            assert rule is v.NumberRule.FREE_TEXT, row["code"]
        else:  # pragma: no cover - a new rule text needs a decision
            pytest.fail(f"unmapped number_rule {text!r}")


@pytest.mark.parametrize(
    ("cert_type", "number", "expected", "warnings"),
    [
        ("BIZ_LICENSE", "9135052155323005xl", "9135052155323005XL", []),
        ("BIZ_LICENSE", "110108000000016", "110108000000016", []),
        ("BIZ_LICENSE", "110108000000017", "110108000000017", ["15位工商注册号校验位不正确，请核对"]),
        ("ORG_CODE_ENTERPRISE", "D2143569X", "D2143569-X", []),
        ("ORG_CODE_GOVERNMENT", "1211000040000000XT", "1211000040000000XT", []),
        (
            "USCC_GOVERNMENT",
            "1211000040000000XT",
            "1211000040000000XT",
            ["该证件的统一社会信用代码通常以11开头，请核对"],
        ),
        ("USCC_INSTITUTION", "1211000040000000XT", "1211000040000000XT", []),
        ("INSTITUTION_LEGAL_PERSON_CERT", "事证第110000001234号", "事证第110000001234号", []),
        ("INSTITUTION_LEGAL_PERSON_CERT", "1211000040000000XT", "1211000040000000XT", []),
        (
            "INSTITUTION_LEGAL_PERSON_CERT",
            "1211000040000000XA",
            "1211000040000000XA",
            ["证件号码看起来是统一社会信用代码，但统一社会信用代码校验位不正确，请核对"],
        ),
        ("MILITARY_UNIT_CODE", " 12345部队 ", "12345部队", []),
        ("RESIDENT_ID", "11010519491231002x", "11010519491231002X", []),
        ("PASSPORT", "e12345678", "E12345678", []),
        ("TW_TRAVEL_PERMIT", "12345678", "12345678", []),
        ("HKMO_TRAVEL_PERMIT", "h12345678", "H12345678", []),
        ("FOREIGN_PERMANENT_RESIDENT_ID", "USA123456789012", "USA123456789012", []),
        ("HKMO_RESIDENCE_PERMIT", "810000199001011230", "810000199001011230", []),
        ("TW_RESIDENCE_PERMIT", "830000198505050013", "830000198505050013", []),
    ],
)
def test_check_cert_number_valid(cert_type, number, expected, warnings):
    assert v.check_cert_number(cert_type, number) == (expected, warnings)
    assert v.validate_cert_number(cert_type, number) == expected


@pytest.mark.parametrize(
    ("cert_type", "number", "message"),
    [
        ("NOPE", "123", "不支持的证件类型"),
        ("BIZ_LICENSE", "12345", "营业执照号码应为18位统一社会信用代码或15位工商注册号"),
        ("BIZ_LICENSE", "91350203M0001QAY9B", "统一社会信用代码校验位不正确，请核对"),
        ("ORG_CODE_ENTERPRISE", "1234", "组织机构代码应为9位（如 12345678-9），或填写18位统一社会信用代码"),
        ("USCC_GOVERNMENT", "D2143569X", "统一社会信用代码应为18位"),
        ("MILITARY_UNIT_CODE", "", "不能为空"),
        ("MILITARY_UNIT_CODE", "x" * 51, "长度不能超过50个字符"),
        ("RESIDENT_ID", "110105199001011234", "身份证号码校验位不正确，请核对"),
        ("PASSPORT", "E12", "护照号码应为5至20位字母或数字"),
        ("HKMO_TRAVEL_PERMIT", "X12345678", "港澳居民来往内地通行证号码应为H或M加8位数字"),
        ("HKMO_RESIDENCE_PERMIT", "11010519491231002X", "港澳居民居住证号码应以810000或820000开头"),
        ("TW_RESIDENCE_PERMIT", "810000199001011230", "台湾居民居住证号码应以830000开头"),
    ],
)
def test_check_cert_number_invalid(cert_type, number, message):
    assert invalid(v.check_cert_number, cert_type, number) == message


def test_validate_id_number_only_person_documents():
    assert v.validate_id_number("RESIDENT_ID", "11010519491231002X") == "11010519491231002X"
    assert (
        invalid(v.validate_id_number, "BIZ_LICENSE", "9135052155323005XL") == "负责人证件类型必须是个人证件"
    )


# --------------------------------------------------------------------------------------------
# Phones and e-mail (§5.3)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        (" 13800138000 ", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("008613800138000", "13800138000"),
        (19912345678, "19912345678"),
    ],
)
def test_mobile_valid(raw, expected):
    assert v.validate_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "23800138000", "1380013800a"])
def test_mobile_invalid(raw):
    assert invalid(v.validate_mobile, raw) == "手机号码格式不正确，应为11位中国大陆手机号码"


def test_mobile_segments_configurable():
    assert v.validate_mobile("16212345678") == "16212345678"
    message = invalid(v.validate_mobile, "16212345678", segments=v.INSPUR_MOBILE_SEGMENTS)
    assert message == "该手机号段不支持，请更换手机号码"
    assert v.validate_mobile("16612345678", segments=v.INSPUR_MOBILE_SEGMENTS) == "16612345678"
    assert invalid(v.validate_mobile, "13800138000", segments=["15"]) == "该手机号段不支持，请更换手机号码"


@pytest.mark.parametrize(
    "raw",
    ["086-010-87654321-123", "086-010-8765432", "086-0755-12345678", "０８６－０１０－８７６５４３２１"],
)
def test_landline_valid(raw):
    assert v.validate_landline(raw) == v.normalize_text(raw)


@pytest.mark.parametrize(
    "raw",
    ["010-87654321", "086-10-87654321", "086-010-876543", "086-010-87654321-1234567", "086 010 87654321"],
)
def test_landline_invalid(raw):
    assert invalid(v.validate_landline, raw).startswith("办公电话格式不正确")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("user@example.com", "user@example.com"),
        ("First.Last-x@Mail.Example.COM", "First.Last-x@mail.example.com"),
        (" a_b@ex-ample.cn ", "a_b@ex-ample.cn"),
    ],
)
def test_email_valid(raw, expected):
    assert v.validate_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "user",
        "user@",
        "user@example",
        "us er@example.com",
        "用户@example.com",
        ".a@example.com",
        "a..b@example.com",
    ],
)
def test_email_invalid(raw):
    assert invalid(v.validate_email, raw) == "电子邮件地址格式不正确"


def test_email_too_long():
    raw = "a" * 90 + "@example.com"
    assert invalid(v.validate_email, raw) == "电子邮件地址不能超过100个字符"


# --------------------------------------------------------------------------------------------
# Domains (§5.4)


@pytest.mark.parametrize(
    ("raw", "ascii_", "unicode_"),
    [
        ("example.com", "example.com", "example.com"),
        ("  EXAMPLE.COM.  ", "example.com", "example.com"),
        ("https://Example.com:8443/path?q=1#x", "example.com", "example.com"),
        ("example.com.cn", "example.com.cn", "example.com.cn"),
        ("网址之家.cn", "xn--9iq21t6wdw30c.cn", "网址之家.cn"),
        ("小度.中国", "xn--yet23d.xn--fiqs8s", "小度.中国"),
        ("例子。中国", "xn--fsqu00a.xn--fiqs8s", "例子.中国"),
        ("xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s", "例子.中国"),
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com", "example.com"),
        ("beijing.gov.cn", "beijing.gov.cn", "beijing.gov.cn"),
        ("my-site.top", "my-site.top", "my-site.top"),
    ],
)
def test_domain_valid(raw, ascii_, unicode_):
    assert v.validate_domain(raw) == v.Domain(ascii=ascii_, unicode=unicode_)


def test_approved_tlds_constant():
    assert {"cn", "com", "net", "xn--fiqs8s", "top", "xyz"} <= v.APPROVED_TLDS
    assert not {"io", "org", "hk", "asia", "me"} & v.APPROVED_TLDS


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("www.example.com", "只能填写主域名，不能填写子域名（如 www），应填写“example.com”"),
        ("a.b.example.com.cn", "只能填写主域名，不能填写子域名（如 www），应填写“example.com.cn”"),
        ("www.例子.中国", "只能填写主域名，不能填写子域名（如 www），应填写“例子.中国”"),
        ("com", "不能只填写域名后缀，请填写完整的主域名（如 example.com）"),
        ("com.cn", "不能只填写域名后缀，请填写完整的主域名（如 example.com）"),
        ("gov.cn", "不能只填写域名后缀，请填写完整的主域名（如 example.com）"),
        ("example.io", "顶级域名“.io”不在工信部批准可备案的顶级域名列表中"),
        ("example.org", "顶级域名“.org”不在工信部批准可备案的顶级域名列表中"),
        ("", "不能为空"),
        ("http://", "不能为空"),
        ("192.168.1.1", "不能填写IP地址，请填写域名"),
        ("exa_mple.com", "域名只能包含字母、数字和连字符“-”，且不能以连字符开头或结尾"),
        ("-example.com", "域名只能包含字母、数字和连字符“-”，且不能以连字符开头或结尾"),
        ("example..com", "域名格式不正确（包含空的标签）"),
        ("ab--cd.com", "域名格式不正确（第3、4位不能同时为连字符）"),
        ("xn--zz.com", "国际化域名编码（xn--）无效"),
        ("a" * 64 + ".com", "域名每一级不能超过63个字符"),
        ("user@example.com", "域名格式不正确（不能包含“@”）"),
    ],
)
def test_domain_invalid(raw, message):
    assert invalid(v.validate_domain, raw) == message


def test_domain_total_length():
    label = "a" * 63
    raw = ".".join([label] * 4) + ".com"  # 4*64 + 3 = 259 characters
    assert invalid(v.validate_domain, raw) == "域名总长度不能超过253个字符"


def test_domain_gov_subdomain_only_with_flag():
    assert invalid(v.validate_domain, "jw.beijing.gov.cn").startswith("只能填写主域名")
    domain = v.validate_domain("jw.beijing.gov.cn", allow_gov_subdomain=True)
    assert domain.ascii == "jw.beijing.gov.cn"
    # the flag does not open up other suffixes
    assert invalid(v.validate_domain, "www.example.com", allow_gov_subdomain=True).startswith(
        "只能填写主域名"
    )


def test_domain_approved_tlds_configurable():
    assert v.validate_domain("example.io", approved_tlds={"io"}).ascii == "example.io"
    assert invalid(v.validate_domain, "example.com", approved_tlds={"cn"}).startswith("顶级域名“.com”")


# --------------------------------------------------------------------------------------------
# Home URL (§5.5)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("www.example.com", "www.example.com"),
        ("http://www.example.com/", "www.example.com"),
        ("HTTPS://WWW.Example.com/Index.html?a=1#top", "www.example.com/Index.html?a=1"),
        ("example.com", "example.com"),
        ("https://shop.example.com/cn/", "shop.example.com/cn/"),
        ("www.网址之家.cn", "www.xn--9iq21t6wdw30c.cn"),
    ],
)
def test_home_url_valid(url, expected):
    assert v.validate_home_url(url, ["example.com", "网址之家.cn"]) == expected


def test_home_url_accepts_domain_objects():
    domain = v.validate_domain("例子.中国")
    assert v.validate_home_url("http://www.例子.中国", [domain]) == "www.xn--fsqu00a.xn--fiqs8s"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("www.other.com", "首页URL必须使用本网站的域名或其子域名（如 www.example.com）"),
        ("www.notexample.com", "首页URL必须使用本网站的域名或其子域名（如 www.example.com）"),
        ("example.com.evil.cn", "首页URL必须使用本网站的域名或其子域名（如 www.example.com）"),
        ("http://1.2.3.4/", "首页URL不能使用IP地址，请使用网站域名"),
        ("http://1.2.3.4:8080/", "首页URL不能使用IP地址，请使用网站域名"),
        ("ftp://www.example.com", "首页URL只能使用http或https协议"),
        ("http://user@www.example.com", "首页URL不能包含用户名或密码"),
        ("www.example.com:8080", "首页URL不能包含端口号"),
        ("", "不能为空"),
    ],
)
def test_home_url_invalid(url, message):
    assert invalid(v.validate_home_url, url, ["example.com"]) == message


# --------------------------------------------------------------------------------------------
# IP ranges (§4.4)


def test_ip_range_ipv4():
    r = v.validate_ip_range("192.0.2.1", " 192.0.2.10 ")
    assert r.start == ipaddress.ip_address("192.0.2.1")
    assert r.end == ipaddress.ip_address("192.0.2.10")
    assert r.version == 4
    assert str(r) == "192.0.2.1-192.0.2.10"
    assert str(v.validate_ip_range("192.0.2.1", "192.0.2.1")) == "192.0.2.1-192.0.2.1"


def test_ip_range_ipv6():
    r = v.validate_ip_range("2001:DB8::1", "2001:db8:0:0:0:0:0:ff")
    assert r.version == 6
    assert str(r) == "2001:db8::1-2001:db8::ff"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("192.0.2.10", "192.0.2.1", "起始IP不能大于终止IP"),
        ("2001:db8::ff", "2001:db8::1", "起始IP不能大于终止IP"),
        ("192.0.2.1", "2001:db8::1", "起始IP和终止IP必须同为IPv4或同为IPv6"),
        ("192.0.2.256", "192.0.2.1", "起始IP“192.0.2.256”不是有效的IPv4或IPv6地址"),
        ("192.0.2.1", "abc", "终止IP“abc”不是有效的IPv4或IPv6地址"),
        ("", "192.0.2.1", "不能为空"),
    ],
)
def test_ip_range_invalid(start, end, message):
    assert invalid(v.validate_ip_range, start, end) == message


def test_parse_ip_ranges_export_format():
    ranges = v.parse_ip_ranges("192.0.2.1-192.0.2.10;198.51.100.7；2001:db8::1-2001:db8::ff、203.0.113.5")
    assert [str(r) for r in ranges] == [
        "192.0.2.1-192.0.2.10",
        "198.51.100.7-198.51.100.7",
        "2001:db8::1-2001:db8::ff",
        "203.0.113.5-203.0.113.5",
    ]
    assert v.format_ip_ranges(ranges[:1]) == "192.0.2.1-192.0.2.10"
    assert v.parse_ip_ranges(v.format_ip_ranges(ranges)) == ranges
    assert invalid(v.parse_ip_ranges, "192.0.2.9-192.0.2.1") == "起始IP不能大于终止IP"
    assert invalid(v.parse_ip_ranges, ";;") == "不能为空"


# --------------------------------------------------------------------------------------------
# Website name (§5.6)


@pytest.mark.parametrize(
    ("name", "nature", "expected"),
    [
        ("星辰科技官网", "ENTERPRISE", "星辰科技官网"),
        ("星辰（北京）科技", "ENTERPRISE", "星辰(北京)科技"),
        ("ABC科技", None, "ABC科技"),
        ("张三的博客", "PERSONAL", "张三的博客"),
        ("123号小店", None, "123号小店"),
        ("中国气象局", "GOVERNMENT", "中国气象局"),
        ("国家安全网", "DEFENSE", "国家安全网"),
        ("abc123", None, "abc123"),
    ],
)
def test_website_name_valid(name, nature, expected):
    assert v.validate_website_name(name, nature=nature) == expected


@pytest.mark.parametrize(
    ("name", "nature", "message"),
    [
        ("", None, "不能为空"),
        ("博客", None, "网站名称不能少于3个字符"),
        ("(a)", None, "网站名称不能少于3个字符"),
        ("星" * 31, None, "网站名称不能超过30个字符"),
        ("123456", None, "网站名称不能全部为数字"),
        ("123-456", None, "网站名称不能全部为数字"),
        ("example", None, "网站名称不能全部为英文字母"),
        ("example.com", None, "网站名称不能包含域名"),
        ("我的example.com网站", None, "网站名称不能包含域名"),
        ("网址之家.cn", None, "网站名称不能包含域名"),
        ("星辰 科技", None, "网站名称只能包含汉字、字母、数字和()-，不能包含空格或其他符号"),
        ("星辰科技！", None, "网站名称只能包含汉字、字母、数字和()-，不能包含空格或其他符号"),
        ("星辰·科技", None, "网站名称只能包含汉字、字母、数字和()-，不能包含空格或其他符号"),
        ("中国星辰科技", "ENTERPRISE", "网站名称不能以“中国”开头（仅限国家机关、国防机构）"),
        ("华夏文明网", None, "网站名称不能以“华夏”开头（仅限国家机关、国防机构）"),
        ("人民生活", "PERSONAL", "网站名称不能以“人民”开头（仅限国家机关、国防机构）"),
        ("赌博技巧", None, "网站名称包含敏感词“赌博”"),
        ("张三的论坛", "PERSONAL", "个人网站名称不能包含“论坛”"),
        ("张三工作室", "PERSONAL", "个人网站名称不能包含“工作室”"),
        ("星辰科技公司", "PERSONAL", "个人网站名称不能包含“公司”"),
    ],
)
def test_website_name_invalid(name, nature, message):
    assert invalid(v.validate_website_name, name, nature=nature) == message


def test_website_name_word_lists_configurable():
    assert v.validate_website_name("赌博技巧", sensitive_words=()) == "赌博技巧"
    assert (
        invalid(v.validate_website_name, "星辰科技", sensitive_words=["星辰"]) == "网站名称包含敏感词“星辰”"
    )
    # the personal list only applies to PERSONAL
    assert v.validate_website_name("星辰论坛", nature="ENTERPRISE") == "星辰论坛"
    assert v.validate_website_name("张三设计", nature="PERSONAL") == "张三设计"
    message = invalid(
        v.validate_website_name,
        "张三设计",
        nature="PERSONAL",
        extra_personal_words=v.PERSONAL_BANNED_WORDS_REPORTED,
    )
    assert message == "个人网站名称不能包含“设计”"


def test_website_name_warnings():
    assert v.website_name_warnings("星辰新闻网", ["NONE"]) == ["网站名称包含“新闻”，通常需要“新闻”前置审批"]
    assert v.website_name_warnings("星辰新闻网", ["NEWS"]) == []
    assert v.website_name_warnings("星辰科技", []) == []
    assert v.website_name_warnings("星辰BBS", []) == ["网站名称包含“BBS”，通常需要“电子公告服务”前置审批"]
    assert v.website_name_warnings("星辰游戏", ["CULTURE"]) == []
    assert v.website_name_warnings("星辰理财", []) == ["网站名称包含“理财”，通常需要“互联网金融”前置审批"]
    assert len(v.website_name_warnings("星辰影视论坛", [])) == 2


# --------------------------------------------------------------------------------------------
# Passwords (§5.7)


@pytest.mark.parametrize("password", ["abc123", "abcdef", "12345a", " 1234 5", "密码密码密码", "a" * 128])
def test_password_valid(password):
    assert v.validate_password(password) == password


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("123456", "密码不能全部为数字"),
        ("１２３４５６", "密码不能全部为数字"),
        ("12345678901234", "密码不能全部为数字"),
        ("abc12", "密码长度不能少于6位"),
        ("", "密码不能为空"),
        (None, "密码不能为空"),
        ("a" * 129, "密码长度不能超过128位"),
    ],
)
def test_password_invalid(password, message):
    assert invalid(v.validate_password, password) == message


def test_provider_password():
    assert v.validate_provider_password("abc_12.x") == "abc_12.x"
    for bad in ("abcdef", "123456", "ab1", "abc123abc123x", "abc 123"):
        assert invalid(v.validate_provider_password, bad).startswith("密码应为6至12位")


# --------------------------------------------------------------------------------------------
# Regions and addresses (§4.1, §5.8)


def test_region_valid():
    assert v.validate_region("110000", "110100", "110105") == ("110000", "110100", "110105")
    assert v.validate_region("440000", "440300", None) == ("440000", "440300", None)
    assert v.validate_region("440000", "440300", "") == ("440000", "440300", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("110000", "120100", "120101"), "所选城市不属于所选省份"),
        (("110000", "110100", "110205"), "所选区县不属于所选城市"),
        (("990000", "990100", None), "省份代码不存在"),
        (("110100", "110100", None), "省份代码应以0000结尾"),
        (("11000", "110100", None), "省份代码应为6位数字（GB/T 2260）"),
        (("110000", "110105", None), "城市代码应以00结尾且不能是省级代码"),
        (("110000", "110100", "110100"), "区县代码不能以00结尾"),
        (("810000", "810100", None), "香港特别行政区不属于备案受理地区"),
    ],
)
def test_region_invalid(args, message):
    assert invalid(v.validate_region, *args) == message


def test_address_detail():
    kwargs = {"province_name": "北京市", "city_name": "北京市", "county_name": "朝阳区"}
    detail = "花园路8号星辰小区42号楼2单元101室"
    assert v.validate_address_detail(detail, **kwargs) == detail
    assert v.validate_address_detail("建国路(东段)88号-3#楼", **kwargs) == "建国路(东段)88号-3#楼"
    assert invalid(v.validate_address_detail, "北京市朝阳区花园路8号", **kwargs).startswith(
        "详细地址不需要重复填写"
    )
    assert (
        invalid(v.validate_address_detail, "北京朝阳区花园路8号", **kwargs)
        == "详细地址不需要重复填写所选的省、市、区县（“北京”）"
    )
    assert (
        invalid(v.validate_address_detail, "朝阳区花园路8号", **kwargs)
        == "详细地址不需要重复填写所选的省、市、区县（“朝阳区”）"
    )
    assert invalid(v.validate_address_detail, "花园路8号，101室", **kwargs).startswith(
        "详细地址不能包含空格或符号"
    )
    assert invalid(v.validate_address_detail, "花园路 8号", **kwargs).startswith("详细地址不能包含空格或符号")
    assert invalid(v.validate_address_detail, "路" * 201) == "长度不能超过200个字符"
    assert invalid(v.validate_address_detail, "") == "不能为空"


# --------------------------------------------------------------------------------------------
# Dates (§4.2, §5.9)


@pytest.mark.parametrize(
    "raw",
    [
        dt.date(2020, 1, 2),
        dt.datetime(2020, 1, 2, 8, 30),
        "2020-01-02",
        "2020/01/02",
        "20200102",
        "2020-1-2",
        "２０２０－０１－０２",
    ],
)
def test_parse_date(raw):
    assert v.parse_date(raw) == dt.date(2020, 1, 2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2020-02-30", "日期不存在"),
        ("2020-01", "日期格式不正确，应为YYYY-MM-DD"),
        ("2020-01/02", "日期格式不正确，应为YYYY-MM-DD"),
        ("", "不能为空"),
    ],
)
def test_parse_date_invalid(raw, message):
    assert invalid(v.parse_date, raw) == message


def test_add_months_clamps():
    assert v.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert v.add_months(dt.date(2026, 6, 15), 3) == dt.date(2026, 9, 15)


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "expected"),
    [
        ("2020-01-01", "2036-01-01", (dt.date(2020, 1, 1), dt.date(2036, 1, 1))),
        ("2020/01/01", "20260915", (dt.date(2020, 1, 1), dt.date(2026, 9, 15))),  # exactly 3 months left
        ("2020-01-01", "LONG_TERM", (dt.date(2020, 1, 1), "LONG_TERM")),
        ("2020-01-01", "长期", (dt.date(2020, 1, 1), "LONG_TERM")),
        (dt.date(2026, 6, 15), dt.date(2046, 6, 15), (dt.date(2026, 6, 15), dt.date(2046, 6, 15))),
    ],
)
def test_id_validity_valid(valid_from, valid_to, expected):
    assert v.validate_id_validity(valid_from, valid_to, TODAY) == expected


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "message"),
    [
        ("2020-01-01", "2026-09-14", "证件有效期剩余不足3个月，请更换证件后再备案"),
        ("2020-01-01", "2026-06-15", "证件已过期，请更换有效证件"),
        ("2020-01-01", "2025-01-01", "证件已过期，请更换有效证件"),
        ("2026-06-16", "2036-01-01", "证件有效期起始日期不能晚于今天"),
        ("2026-06-16", "长期", "证件有效期起始日期不能晚于今天"),
        ("2020-01-01", "2020-01-01", "证件有效期起始日期必须早于截止日期"),
        ("2020-01-01", "永久", "日期格式不正确，应为YYYY-MM-DD"),
    ],
)
def test_id_validity_invalid(valid_from, valid_to, message):
    assert invalid(v.validate_id_validity, valid_from, valid_to, TODAY) == message


def test_id_validity_minimum_configurable():
    assert v.validate_id_validity("2020-01-01", "2026-07-01", TODAY, min_remaining_months=0)[1] == dt.date(
        2026, 7, 1
    )
    message = invalid(v.validate_id_validity, "2020-01-01", "2026-10-01", TODAY, min_remaining_months=6)
    assert message == "证件有效期剩余不足6个月，请更换证件后再备案"


def test_validate_unexpired():
    assert v.validate_unexpired("2026-06-15", TODAY) == dt.date(2026, 6, 15)
    assert v.validate_unexpired("长期", TODAY) == "LONG_TERM"
    assert invalid(v.validate_unexpired, "2026-06-14", TODAY) == "文件已过期"


# --------------------------------------------------------------------------------------------
# Filing numbers (§6.1)


@pytest.mark.parametrize(
    ("raw", "abbr", "canonical", "province", "kind", "digits", "seq", "suffix", "text"),
    [
        ("京ICP备12345678号", "京", "京", "BJ", "ICP备", "12345678", None, "", "京ICP备12345678号"),
        ("京ICP备12345678号-1", "京", "京", "BJ", "ICP备", "12345678", 1, "", "京ICP备12345678号-1"),
        ("陇ICP备2021001234号-12", "陇", "陇", "GS", "ICP备", "2021001234", 12, "", "陇ICP备2021001234号-12"),
        ("甘ICP备123456号", "甘", "陇", "GS", "ICP备", "123456", None, "", "甘ICP备123456号"),
        ("川ICP备16012345号-2a", "川", "蜀", "SC", "ICP备", "16012345", 2, "A", "川ICP备16012345号-2A"),
        (
            " 蜀icp备2026000123号－3X ",
            "蜀",
            "蜀",
            "SC",
            "ICP备",
            "2026000123",
            3,
            "X",
            "蜀ICP备2026000123号-3X",
        ),
        ("粤ICP备12345678号 - 4K", "粤", "粤", "GD", "ICP备", "12345678", 4, "K", "粤ICP备12345678号-4K"),
        ("京ICP证123456号", "京", "京", "BJ", "ICP证", "123456", None, "", "京ICP证123456号"),
        ("粤B2-20090059-1626X", "粤", "粤", "GD", "B2", "20090059", 1626, "X", "粤B2-20090059-1626X"),
        ("粤B2-20090059", "粤", "粤", "GD", "B2", "20090059", None, "", "粤B2-20090059"),
    ],
)
def test_parse_filing_number(raw, abbr, canonical, province, kind, digits, seq, suffix, text):
    number = v.parse_filing_number(raw)
    assert number == v.FilingNumber(abbr, canonical, province, kind, digits, seq, suffix)
    assert str(number) == text
    assert number.is_website is (seq is not None)


@pytest.mark.parametrize(
    "raw",
    [
        "京ICP备1234567号",  # 7 digits
        "京ICP备12345678",  # missing 号
        "港ICP备12345678号",  # not a filing province
        "京ICP备12345678号-0",
        "京ICP备12345678号-1B",
        "ICP备12345678号",
        "京ICP证12345号",
        "",
    ],
)
def test_parse_filing_number_invalid(raw):
    message = invalid(v.parse_filing_number, raw)
    assert message in ("备案号格式不正确，应类似“京ICP备12345678号”或“京ICP备12345678号-1”", "不能为空")


def test_format_numbers_roundtrip():
    subject = v.format_subject_number("京", 2026, 123)
    assert subject == "京ICP备2026000123号"
    website = v.format_website_number(subject, 1)
    assert website == "京ICP备2026000123号-1"
    parsed = v.parse_filing_number(website)
    assert (parsed.canonical_abbr, parsed.digits, parsed.website_seq, parsed.suffix) == (
        "京",
        "2026000123",
        1,
        "",
    )
    assert parsed.subject_number == subject
    assert v.format_website_number(subject, 2, "A") == "京ICP备2026000123号-2A"
    assert str(v.parse_filing_number(v.format_website_number(subject, 7, "K"))) == "京ICP备2026000123号-7K"


def test_format_subject_number_uses_current_abbreviation():
    assert v.format_subject_number("甘", 2026, 1) == "陇ICP备2026000001号"
    assert v.format_subject_number("SC", 2025, 999999) == "蜀ICP备2025999999号"
    assert invalid(v.format_subject_number, "港", 2026, 1) == "未知的省份简称“港”"
    assert invalid(v.format_subject_number, "HK", 2026, 1) == "未知的省份简称“HK”"
    assert invalid(v.format_subject_number, "京", 2026, 0) == "序号应在1至999999之间"
    assert invalid(v.format_subject_number, "京", 2026, 1_000_000) == "序号应在1至999999之间"
    assert invalid(v.format_subject_number, "京", 26, 1) == "年份应为4位数字"


def test_format_website_number_errors():
    assert invalid(v.format_website_number, "京ICP备2026000123号-1", 2) == "应为主体备案号（不带“-序号”）"
    assert invalid(v.format_website_number, "京ICP备2026000123号", 0) == "网站序号应从1开始"
    assert invalid(v.format_website_number, "京ICP备2026000123号", 1, "B") == "服务类型后缀只能是A、X或K"


def test_validate_filing_number():
    assert v.validate_filing_number("京ICP备12345678号－1", website=True) == "京ICP备12345678号-1"
    assert invalid(v.validate_filing_number, "京ICP备12345678号", website=True).startswith("应为网站备案号")
    assert invalid(v.validate_filing_number, "京ICP备12345678号-1", website=False).startswith(
        "应为主体备案号"
    )


# --------------------------------------------------------------------------------------------
# Principal consistency (§4.2)

SUBJECT_PRINCIPAL = {
    "name": "张三",
    "id_type": "RESIDENT_ID",
    "id_number": "11010519491231002X",
    "id_valid_from": "2020-01-01",
    "id_valid_to": "LONG_TERM",
    "mobile": "13800138000",
    "office_phone": "086-010-87654321",
    "emergency_phone": "13900139000",
    "email": "zhang@example.com",
}
OTHER_PERSON = {
    "name": "李四",
    "id_type": "RESIDENT_ID",
    "id_number": "110105199001010029",
    "id_valid_from": "2021-01-01",
    "id_valid_to": "2041-01-01",
    "mobile": "13700137000",
    "office_phone": "086-010-87654321",
    "emergency_phone": "13600136000",
    "email": "li@example.com",
}


def test_principal_same_person_identical():
    copy = dict(SUBJECT_PRINCIPAL, id_number="11010519491231002x", email="ZHANG@example.com")
    copy["id_valid_from"] = dt.date(2020, 1, 1)
    assert v.principal_consistency_errors(SUBJECT_PRINCIPAL, copy) == []


def test_principal_same_person_must_match_every_field():
    changed = dict(SUBJECT_PRINCIPAL, mobile="13700137000", email="other@example.com")
    assert v.principal_consistency_errors(SUBJECT_PRINCIPAL, changed) == [
        ("mobile", "网站负责人与主体负责人为同一人时，手机号码必须一致"),
        ("email", "网站负责人与主体负责人为同一人时，电子邮件地址必须一致"),
    ]


def test_principal_different_person_ok():
    # a shared office phone is fine
    assert v.principal_consistency_errors(SUBJECT_PRINCIPAL, OTHER_PERSON) == []


def test_principal_different_person_must_not_share_contacts():
    clash = dict(
        OTHER_PERSON, mobile="138 0013 8000", emergency_phone="13900139000", email="Zhang@Example.com"
    )
    assert v.principal_consistency_errors(SUBJECT_PRINCIPAL, clash) == [
        ("mobile", "网站负责人与主体负责人不是同一人时，手机号码不能相同"),
        ("emergency_phone", "网站负责人与主体负责人不是同一人时，应急联系电话不能相同"),
        ("email", "网站负责人与主体负责人不是同一人时，电子邮件地址不能相同"),
    ]


def test_principal_explicit_flag():
    errors = v.principal_consistency_errors(
        SUBJECT_PRINCIPAL, dict(OTHER_PERSON, id_number=SUBJECT_PRINCIPAL["id_number"]), same_person=False
    )
    assert errors == [("id_number", "网站负责人与主体负责人不是同一人时，证件号码不能相同")]
    errors = v.principal_consistency_errors(SUBJECT_PRINCIPAL, OTHER_PERSON, same_person=True)
    assert [field for field, _ in errors] == [
        "name", "id_number", "id_valid_from", "id_valid_to", "mobile", "emergency_phone", "email",
    ]  # fmt: skip


def test_principal_errors_emergency_differs_from_mobile():
    assert v.principal_errors(SUBJECT_PRINCIPAL) == []
    same = dict(SUBJECT_PRINCIPAL, emergency_phone="13800138000")
    assert v.principal_errors(same) == [("emergency_phone", "应急联系电话不能与手机号码相同")]


# --------------------------------------------------------------------------------------------
# pydantic integration (shared.fields)


class _Model(BaseModel):
    mobile: fields.Mobile = "13800138000"
    email: fields.Email = "a@example.com"
    resident_id: fields.ResidentId = "11010519491231002X"
    uscc: fields.Uscc = "9135052155323005XL"
    domain: fields.DomainName = "example.com"
    password: fields.Password = "abc123"
    landline: fields.Landline = "086-010-87654321"
    name: fields.CleanStr = ""
    title: fields.text_field(5) = "x"
    remark: fields.optional_text_field(10) = ""
    nature: fields.code_field("unit_natures") = "ENTERPRISE"
    valid_from: fields.FlexibleDate = dt.date(2020, 1, 1)
    valid_to: fields.ValidTo = "LONG_TERM"
    filing_no: fields.FilingNo = "京ICP备12345678号"


def test_fields_normalise():
    m = _Model(
        mobile=" １３８００１３８０００ ",
        resident_id="11010519491231002x",
        uscc="9135052155323005xl",
        domain="https://网址之家.cn/",
        name="\u3000张三 ",
        title=" abc ",
        remark="  ",
        valid_from="2020/01/02",
        valid_to="长期",
        filing_no="京ICP备12345678号－2",
    )
    assert m.mobile == "13800138000"
    assert m.resident_id == "11010519491231002X"
    assert m.uscc == "9135052155323005XL"
    assert m.domain == "xn--9iq21t6wdw30c.cn"
    assert m.name == "张三"
    assert m.title == "abc"
    assert m.remark == ""
    assert m.valid_from == dt.date(2020, 1, 2)
    assert m.valid_to == "LONG_TERM"
    assert m.filing_no == "京ICP备12345678号-2"
    assert _Model(valid_to="2030-01-01").valid_to == dt.date(2030, 1, 1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mobile", "12345", "手机号码格式不正确，应为11位中国大陆手机号码"),
        ("email", "bad", "电子邮件地址格式不正确"),
        ("resident_id", "110105199001011234", "身份证号码校验位不正确，请核对"),
        ("uscc", "91350203M0001QAY9B", "统一社会信用代码校验位不正确，请核对"),
        ("domain", "www.example.com", "只能填写主域名，不能填写子域名（如 www），应填写“example.com”"),
        ("password", "123456", "密码不能全部为数字"),
        (
            "landline",
            "010-1234567",
            "办公电话格式不正确，应为“086-区号-号码[-分机号]”，如 086-010-87654321-123",
        ),
        ("title", "abcdef", "长度不能超过5个字符"),
        ("title", " ", "不能为空"),
        ("nature", "NOPE", "无效的代码"),
        ("valid_from", "2020-02-30", "日期不存在"),
        ("filing_no", "京ICP备1号", "备案号格式不正确，应类似“京ICP备12345678号”或“京ICP备12345678号-1”"),
        ("name", 1.5, "类型不正确，应为文本"),
    ],
)
def test_fields_error_message_is_the_chinese_message(field, value, message):
    with pytest.raises(ValidationError) as info:
        _Model(**{field: value})
    errors = info.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == (field,)
    assert errors[0]["type"] == "invalid"
    assert errors[0]["msg"] == message


def test_fields_message_with_braces_is_not_a_template():
    class M(BaseModel):
        x: fields.text_field(3)

    with pytest.raises(ValidationError) as info:
        M(x="{reason}{x}")
    assert info.value.errors()[0]["msg"] == "长度不能超过3个字符"


def test_code_field_rejects_unknown_table():
    with pytest.raises(KeyError):
        fields.code_field("nope")


def test_fields_json_schema_is_string():
    schema = _Model.model_json_schema()
    assert schema["properties"]["mobile"]["type"] == "string"
    assert schema["properties"]["valid_from"]["format"] == "date"
