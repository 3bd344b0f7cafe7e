"""The import template carries the principal fields of DOMAIN §4.2 added by issue 11."""

from services.importer import columns as C


def test_template_has_im_and_legal_rep_columns_mapped_to_the_api_fields():
    keys = [c.key for c in C.SUBJECT_COLUMNS]
    for key in ("principal_im_type", "principal_im_account", "principal_legal_rep_name", "principal_legal_rep_id"):
        assert key in keys and key in [c.key for c in C.WEBSITE_COLUMNS]
    cells = [""] * len(C.SUBJECT_COLUMNS)
    i = C.SUBJECT_IDX
    cells[i["principal_im_type"]] = "微信"
    cells[i["principal_im_account"]] = "wx_zhang"
    cells[i["principal_legal_rep_name"]] = "李四"
    cells[i["principal_legal_rep_id"]] = "11010519491231002X"
    out = C.subject_input(cells, [])
    assert out["principal"]["im_type"] == "WECHAT" and out["principal"]["im_account"] == "wx_zhang"
    assert out["principal"]["legal_rep_name"] == "李四" and out["principal"]["legal_rep_id"] == "11010519491231002X"
    assert C.locate("subject.principal.legal_rep_id") == (C.SUBJECT_SHEET, None, "principal_legal_rep_id")
