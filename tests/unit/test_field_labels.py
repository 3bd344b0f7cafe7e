"""The Chinese labels of field paths and the 422 detail sentence (shared/field_labels.py)."""

from shared import validate as v
from shared.field_labels import label, summary


def test_labels_name_the_form_fields():
    assert label("subject.name") == "主办单位名称"
    assert label("subject.principal.mobile") == "主体负责人手机号码"
    assert label("websites[1].principal.email") == "第2个网站的负责人电子邮件地址"
    assert label("websites[0].domains[2]") == "第1个网站的网站域名（第3项）"
    assert label("websites[0].access.ip_ranges[1].start_ip") == "第1个网站的网站IP地址段第2项的起始IP"
    assert label("subject.principal.im_account") == "主体负责人即时通信账号"
    assert label("page") == "页码"
    assert label("something_new") == "something_new"  # an unknown field keeps its name


def test_summary_lists_several_errors_and_counts_them():
    errors = [{"field": f"websites[{i}].name", "message": "不能为空"} for i in range(7)]
    text = summary(errors)
    assert text.startswith("第1个网站的网站名称：不能为空；第2个网站的网站名称：不能为空")
    assert "第5个网站" in text and "第6个网站" not in text and text.endswith("等共 7 处错误")
    assert summary(errors[:2]).endswith("（共 2 处错误）")
    assert summary(errors[:1]) == "第1个网站的网站名称：不能为空"


def test_paths_into_an_array_body_name_the_item():
    assert label("[1].ip") == "第2项的IP地址"
    assert label("[3].provider_id", item="条事件") == "第4条事件的接入服务提供者"
    assert label("[0]", item="条事件") == "第1条事件"
    assert summary([{"field": "[1].detected_at", "message": "不能晚于当前时间"}], item="条事件") == \
        "第2条事件的检测时间：不能晚于当前时间"


def test_free_text_is_kept_as_typed_identifiers_are_normalised():
    assert v.validate_text("  身份，信息真实一致。\u200b", max_len=50) == "身份，信息真实一致。"
    assert v.clean_text("（集团）") == "（集团）"
    assert v.normalize_text("ＡＢＣ１２３") == "ABC123"
    assert v.validate_address_detail("示例路1号（东门）301室") == "示例路1号（东门）301室"
