"""Pure rules of the everyday pages: free text, code-table views, feedback visibility."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.filing.content.handlers import feedback_scope
from services.filing.content.model import (
    CODE_TABLE_TITLES,
    ArticleIn,
    CodeQuery,
    FeedbackIn,
    code_rows,
    free_text,
    public_tables,
)
from shared import codes
from shared.auth import Principal, Role
from shared.validate import InvalidValue
from shared.web import Problem


def test_free_text_keeps_chinese_punctuation():
    assert free_text("  第一条，（一）：说明。 ", max_len=50) == "第一条，（一）：说明。"
    assert free_text("", max_len=5, required=False) is None
    with pytest.raises(InvalidValue, match="不能为空"):
        free_text("  ", max_len=5)
    with pytest.raises(InvalidValue, match="超过5"):
        free_text("123456", max_len=5)
    with pytest.raises(InvalidValue, match="控制字符"):
        free_text("a\x00b", max_len=5)
    assert free_text("第一行\n第二行", max_len=20) == "第一行\n第二行"


def test_article_and_feedback_models_forbid_extra_fields():
    with pytest.raises(ValidationError):
        ArticleIn.model_validate({"title": "t", "body": "b", "author": "x"})
    with pytest.raises(ValidationError):
        FeedbackIn.model_validate({"title": "t"})
    assert FeedbackIn.model_validate({"title": "t", "content": "c", "contact": " "}).contact is None


def test_every_code_table_has_a_chinese_title():
    assert set(public_tables()) == set(codes.tables())
    assert all(t in CODE_TABLE_TITLES for t in codes.tables())


def test_certificate_types_by_nature():
    rows, errors = code_rows("certificate_types", CodeQuery(nature="ENTERPRISE"))
    assert not errors and rows and {r["nature_code"] for r in rows} == {"ENTERPRISE"}
    assert all("source" not in r and "comment" not in r for r in rows)
    personal, _ = code_rows("certificate_types", CodeQuery(nature="PERSONAL"))
    assert "RESIDENT_ID" in {r["code"] for r in personal}
    _, errors = code_rows("certificate_types", CodeQuery(nature="NOPE"))
    assert errors[0]["field"] == "nature"


def test_filters_only_apply_to_their_table():
    _, errors = code_rows("provinces", CodeQuery(nature="ENTERPRISE"))
    assert errors[0]["field"] == "nature" and "certificate_types" in errors[0]["message"]
    rows, _ = code_rows("provinces", CodeQuery(q="北京"))
    assert [r["code"] for r in rows] == ["BJ"]
    rows, _ = code_rows("cancel_reasons", CodeQuery(applies_to="SUBJECT"))
    assert rows and all("SUBJECT" in r["applies_to"] for r in rows)


def _p(role, **kw) -> Principal:
    return Principal(session_id="s", user_id="u1", role=Role(role), username="u", **kw)


def test_feedback_visibility_per_role():
    assert feedback_scope(_p("provider", provider_id="p1")) == {"provider_id": "p1", "author_role": "provider"}
    assert feedback_scope(_p("sponsor", provider_id="p1")) == {"author_id": "u1", "author_role": "sponsor"}
    assert feedback_scope(_p("bureau", province="BJ")) == {"province": "BJ"}
    assert feedback_scope(_p("admin")) == {}
    with pytest.raises(Problem):
        feedback_scope(_p("bureau"))
