"""Unit tests for shared.codes (code tables of DOMAIN.md `codes/`)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from shared import codes

EXPECTED_TABLES = [
    "access_methods",
    "application_statuses",
    "cancel_application_statuses",
    "cancel_reasons",
    "certificate_types",
    "detection_handling",
    "filing_types",
    "id_types",
    "languages",
    "material_types",
    "preapproval_types",
    "provinces",
    "service_content",
    "service_types",
    "unit_natures",
]


def test_all_tables_present():
    assert codes.tables() == EXPECTED_TABLES


@pytest.mark.parametrize("table", EXPECTED_TABLES)
def test_table_loads_with_unique_nonempty_codes(table):
    rows = codes.rows(table)
    assert rows, table
    all_codes = [r["code"] for r in rows]
    assert all(all_codes)
    assert len(all_codes) == len(set(all_codes))
    assert codes.codes(table) == all_codes
    assert "name_zh" in codes.columns(table)
    for row in rows:
        assert set(row) == set(codes.columns(table))
        assert codes.is_valid(table, row["code"])
        assert codes.get(table, row["code"]) == row
        assert codes.name_zh(table, row["code"]) == row["name_zh"] != ""


@pytest.mark.parametrize("table", EXPECTED_TABLES)
def test_table_matches_csv_file(table):
    path = Path(codes.__file__).with_name("codes") / f"{table}.csv"
    with path.open(encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    assert [r["code"] for r in codes.rows(table)] == [r["code"] for r in expected]


def test_unknown_table_raises_keyerror():
    with pytest.raises(KeyError):
        codes.rows("nope")
    with pytest.raises(KeyError):
        codes.get("nope", "X")
    with pytest.raises(KeyError):
        codes.is_valid("nope", "X")


def test_unknown_code():
    assert codes.get("provinces", "XX") is None
    assert not codes.is_valid("provinces", "XX")
    assert not codes.is_valid("provinces", None)
    assert codes.name_zh("provinces", "XX") is None
    assert codes.name_zh("provinces", "XX", default="?") == "?"


def test_rows_are_copies():
    row = codes.get("provinces", "BJ")
    row["name_zh"] = "changed"
    codes.rows("provinces")[0]["name_zh"] = "changed"
    assert codes.name_zh("provinces", "BJ") == "北京市"


def test_province_lookups():
    assert codes.province_by_gb("11")["code"] == "BJ"
    assert codes.province_by_gb("440000")["code"] == "GD"
    assert codes.province_by_gb(51)["code"] == "SC"
    assert codes.province_by_gb("440300") is None
    assert codes.province_by_gb("99") is None
    assert codes.province_by_filing_abbr("蜀")["code"] == "SC"
    assert codes.province_by_filing_abbr("川")["code"] == "SC"
    assert codes.province_by_filing_abbr("甘")["code"] == "GS"
    assert codes.province_by_filing_abbr("陇")["code"] == "GS"
    assert codes.province_by_filing_abbr("港") is None
    assert codes.province_by_filing_abbr("") is None


def test_filing_abbreviations_map_back_to_their_province():
    provinces = codes.filing_provinces()
    assert len(provinces) == 31
    assert {p["code"] for p in provinces}.isdisjoint({"TW", "HK", "MO"})
    for row in provinces:
        assert codes.province_by_filing_abbr(row["filing_abbr"])["code"] == row["code"]
        if row["filing_abbr_alt"]:
            assert codes.province_by_filing_abbr(row["filing_abbr_alt"])["code"] == row["code"]
    primary = codes.filing_abbreviations(include_alt=False)
    assert len(primary) == len(set(primary)) == 31
    everything = codes.filing_abbreviations()
    assert set(everything) - set(primary) == {"川", "贵", "云", "甘"}


def test_cert_types_filtered_by_nature():
    enterprise = [r["code"] for r in codes.cert_types_for_nature("ENTERPRISE")]
    assert enterprise == ["BIZ_LICENSE", "ORG_CODE_ENTERPRISE", "FOREIGN_ENT_REP_OFFICE"]
    government = {r["code"] for r in codes.cert_types_for_nature("GOVERNMENT")}
    assert government == {"ORG_CODE_GOVERNMENT", "USCC_GOVERNMENT"}
    assert codes.cert_types_for_nature("UNKNOWN") == []
    assert codes.is_cert_type_allowed("ENTERPRISE", "BIZ_LICENSE")
    assert not codes.is_cert_type_allowed("ENTERPRISE", "RESIDENT_ID")


def test_personal_cert_types_come_from_id_types():
    personal = [r["code"] for r in codes.cert_types_for_nature("PERSONAL")]
    assert personal == [r["code"] for r in codes.rows("id_types") if r["miit_form_value"]]
    assert "MILITARY_OFFICER_ID" not in personal
    assert "MILITARY_OFFICER_ID" in [
        r["code"] for r in codes.cert_types_for_nature("PERSONAL", include_legacy=True)
    ]
    # The PERSONAL rows of certificate_types.csv are the same documents.
    assert set(personal) == {
        r["code"] for r in codes.rows("certificate_types") if r["nature_code"] == "PERSONAL"
    }
    # rows carry the id_types columns (number_rule from id_types)
    assert codes.cert_types_for_nature("PERSONAL")[0]["name_en"] == "PRC resident identity card"


def test_every_certificate_nature_exists():
    for row in codes.rows("certificate_types"):
        assert codes.is_valid("unit_natures", row["nature_code"]), row["code"]


def test_is_personal_nature():
    assert codes.is_personal_nature("PERSONAL")
    assert not codes.is_personal_nature("ENTERPRISE")
    assert not codes.is_personal_nature("NOPE")


@pytest.mark.parametrize(
    ("table", "selected", "value"),
    [
        ("access_methods", ["LEASED_LINE", "CLOUD"], 17),
        ("access_methods", [], 0),
        ("service_content", ["BLOG", "OTHER"], 32 + 8388608),
        ("preapproval_types", ["NONE", "NEWS", "CULTURE"], 257),
        ("provinces", ["BJ", "GD"], 2 + 16),
    ],
)
def test_flags_roundtrip(table, selected, value):
    assert codes.codes_to_flags(table, selected) == value
    with_flag = [c for c in selected if c != "NONE"]
    assert codes.flags_to_codes(table, value) == with_flag


def test_flags_errors():
    with pytest.raises(KeyError):
        codes.codes_to_flags("access_methods", ["NOPE"])
    with pytest.raises(KeyError):
        codes.codes_to_flags("unit_natures", ["PERSONAL"])


def test_miit_value():
    assert codes.miit_value("unit_natures", "PERSONAL") == 5
    assert codes.miit_value("certificate_types", "BIZ_LICENSE") == 1
    assert codes.miit_value("access_methods", "CLOUD") == 16
    assert codes.miit_value("languages", "EN") == 12
    assert codes.miit_value("languages", "OTHER") is None
    assert codes.miit_value("languages", "NOPE") is None


def test_filtered_views():
    personal = [r["code"] for r in codes.service_content_for_nature("PERSONAL")]
    assert personal == ["BLOG", "OTHER"]
    assert len(codes.service_content_for_nature("ENTERPRISE")) == len(codes.rows("service_content"))
    assert [r["code"] for r in codes.cancel_reasons_for("SUBJECT")] == [
        "NO_LONGER_OPERATED",
        "SUBJECT_INFO_CHANGED",
        "SUBJECT_DISSOLVED",
        "MOVE_PROVINCE",
        "DUPLICATE_FILING",
        "OTHER",
    ]
    assert "DOMAIN_NOT_OWNED" in [r["code"] for r in codes.cancel_reasons_for("WEBSITE")]
    assert all(r["scope"] == "WEBSITE" for r in codes.material_types_for("WEBSITE"))
    assert codes.is_terminal_status("APPROVED")
    assert not codes.is_terminal_status("REJECTED")
    with pytest.raises(KeyError):
        codes.is_terminal_status("NOPE")


@pytest.mark.parametrize(
    ("service_type", "suffix"), [("WEBSITE", ""), ("APP", "A"), ("MINI_PROGRAM", "X"), ("QUICK_APP", "K")]
)
def test_service_type_suffix(service_type, suffix):
    assert codes.service_type_suffix(service_type) == suffix


def test_find_by_name_zh():
    assert [r["code"] for r in codes.find_by_name_zh("unit_natures", "企业")] == ["ENTERPRISE"]
    assert len(codes.find_by_name_zh("certificate_types", "组织机构代码证")) == 7
    assert codes.find_by_name_zh("unit_natures", "不存在") == []


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("110000", "province"),
        ("110100", "city"),
        ("110105", "county"),
        ("11010", None),
        ("11010a", None),
        ("１１００００", None),
    ],
)
def test_region_level(code, level):
    assert codes.region_level(code) == level


def test_region_structure():
    assert codes.region_province("110105")["code"] == "BJ"
    assert codes.region_province("990000") is None
    assert codes.region_in("110100", "110000")
    assert codes.region_in("110105", "110100")
    assert codes.region_in("110105", "110000")
    assert not codes.region_in("120100", "110000")
    assert not codes.region_in("110205", "110100")
    assert not codes.region_in("110000", "110000")
    assert not codes.region_in("110100", "110105")
