"""Pure rules of accounts and login (DOMAIN §5.7, seed 1.2, 1.11, 1.12)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from services.filing.accounts import captcha
from services.filing.accounts.model import (
    LOGIN_FIELDS_ZH,
    CaptchaOut,
    PasswordChangeIn,
    ProfilePatch,
    UserCreateIn,
    after_failure,
    captcha_digest,
    captcha_matches,
    check_new_password,
    cookie_secure,
    is_locked,
    locked_message,
    login_field_errors,
    user_create_errors,
    validate_phone,
    validate_username,
)
from shared.validate import InvalidValue

NOW = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("name", ["abc", "demo", "bj-reviewer", "op.01", "A_b-c.d", "x" * 32])
def test_good_usernames(name):
    assert validate_username(name) == name


@pytest.mark.parametrize("name", ["ab", "-abc", "有中文", "a b", "x" * 33, "", "a@b"])
def test_bad_usernames(name):
    with pytest.raises(InvalidValue):
        validate_username(name)


def test_sponsor_password_rule_is_the_seed_rule():
    assert check_new_password("sponsor", "abcdef") == "abcdef"  # letters only are fine for sponsors
    with pytest.raises(InvalidValue, match="全部为数字"):
        check_new_password("sponsor", "12345678")
    with pytest.raises(InvalidValue, match="少于6位"):
        check_new_password("sponsor", "ab1")


@pytest.mark.parametrize("role", ["provider", "bureau", "admin"])
def test_other_roles_use_the_provider_rule(role):
    assert check_new_password(role, "demo123") == "demo123"
    for bad in ("abcdef", "123456", "abc12", "abcdefgh12345", "abc 123"):
        with pytest.raises(InvalidValue):
            check_new_password(role, bad)


def test_password_may_not_be_the_username():
    with pytest.raises(InvalidValue, match="用户名"):
        check_new_password("provider", "Demo123", username="demo123")


def test_phone_is_mobile_or_landline():
    assert validate_phone("138 0013 8000") == "13800138000"
    assert validate_phone("086-010-87654321-123") == "086-010-87654321-123"
    with pytest.raises(InvalidValue, match="手机号码或"):
        validate_phone("010-1234")


def test_every_empty_login_field_is_named_in_chinese():
    errors = login_field_errors({"username": " ", "password": "", "role": None})
    assert [e["field"] for e in errors] == ["username", "password", "role", "captcha_id", "captcha"]
    assert all(e["message"] == LOGIN_FIELDS_ZH[e["field"]] for e in errors)
    assert login_field_errors(
        {"username": "u", "password": "p", "role": "provider", "captcha_id": "x", "captcha": "y"}
    ) == []


def test_unknown_role_is_named():
    errors = login_field_errors({"username": "u", "password": "p", "role": "root", "captcha_id": "x", "captcha": "y"})
    assert errors == [{"field": "role", "message": errors[0]["message"]}] and "登录角色无效" in errors[0]["message"]


def test_lockout_after_five_consecutive_failures():
    failed, until = 0, None
    for _ in range(4):
        failed, until = after_failure(failed, NOW, max_failures=5, lock_minutes=15)
        assert until is None
    assert failed == 4
    failed, until = after_failure(failed, NOW, max_failures=5, lock_minutes=15)
    assert failed == 0 and until == NOW + dt.timedelta(minutes=15)
    assert is_locked(until, NOW + dt.timedelta(minutes=14))
    assert not is_locked(until, NOW + dt.timedelta(minutes=15))
    assert not is_locked(None, NOW)


def test_lock_message_says_until_when_in_beijing_time():
    msg = locked_message(NOW + dt.timedelta(minutes=15), just_locked=True, max_failures=5)
    assert "连续5次登录失败" in msg and "2026-03-01 10:15" in msg and "北京时间" in msg


def test_captcha_hash_is_case_insensitive_and_bound_to_its_id():
    d = captcha_digest("k", "id-1", "ab3k")
    assert captcha_matches("k", "id-1", " AB3K ", d)
    assert not captcha_matches("k", "id-2", "AB3K", d)
    assert not captcha_matches("other-key", "id-1", "AB3K", d)
    assert not captcha_matches("k", "id-1", "AB3X", d)
    assert "AB3K" not in d and "ab3k" not in d


def test_captcha_image_is_a_png_and_answers_avoid_look_alikes():
    answer = captcha.new_answer()
    assert len(answer) == 4 and not set(answer) & set("IL0O1")
    png = captcha.render_png(answer)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert captcha.data_url(png).startswith("data:image/png;base64,")


def test_captcha_answer_is_absent_from_the_default_response():
    out = CaptchaOut(captcha_id="x", image="data:", expires_in=300)
    assert "answer" not in out.model_dump(exclude_none=True)


def test_cookie_is_secure_outside_dev_and_test():
    assert not cookie_secure("dev") and not cookie_secure("test")
    assert cookie_secure("prod") and cookie_secure("staging")


def test_profile_patch_validates_and_clears():
    p = ProfilePatch.model_validate({"phone": "086-010-87654321", "email": "A@Example.COM"})
    assert p.phone == "086-010-87654321" and p.email == "A@example.com"
    cleared = ProfilePatch.model_validate({"phone": None, "email": None})
    assert cleared.model_fields_set == {"phone", "email"} and cleared.phone is None
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"display_name": None})
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"phone": "12345"})
    with pytest.raises(ValidationError):
        ProfilePatch.model_validate({"role": "admin"})  # extra fields are refused


def test_password_change_requires_both_fields():
    with pytest.raises(ValidationError):
        PasswordChangeIn.model_validate({"new_password": "abc123"})


def _create(**kw) -> UserCreateIn:
    return UserCreateIn.model_validate({"username": "op-1", **kw})


def test_account_creation_rules():
    assert user_create_errors(_create(role="provider", provider_id="p1", password="pass123")) == []
    assert user_create_errors(_create(role="bureau", province="BJ", generate_password=True)) == []
    fields = lambda cmd: [e["field"] for e in user_create_errors(cmd)]  # noqa: E731
    assert fields(_create(role="provider", password="pass123")) == ["provider_id"]
    assert fields(_create(role="bureau", password="pass123")) == ["province"]
    assert fields(_create(role="bureau", province="TW", password="pass123")) == ["province"]  # no filing bureau
    assert fields(_create(role="admin", province="BJ", password="pass123")) == ["province"]
    assert fields(_create(role="admin", password="123456")) == ["password"]
    assert fields(_create(role="admin")) == ["password"]
    assert fields(_create(role="admin", password="pass123", generate_password=True)) == ["password"]
    with pytest.raises(ValidationError):
        _create(role="sponsor", password="pass123")  # sponsors are created at filing, not here


# ---------------------------------------------------------------- generated sponsor credentials


def test_generated_passwords_are_long_mixed_and_without_look_alikes():
    from shared.auth import generate_password

    seen = set()
    for _ in range(2000):
        pw = generate_password()
        assert len(pw) == 12 and pw.isascii() and pw.isalnum()
        assert any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw)
        assert not set(pw) & set("0O1lIio"), pw
        seen.add(pw)
    assert len(seen) == 2000
    with pytest.raises(ValueError):
        generate_password(9)


def test_generated_password_hashes_have_a_salt_each_and_the_configured_iterations():
    from services.filing.sponsors.credentials import new_credentials
    from shared.auth import hash_generated_password, verify_password
    from tests.password_checks import assert_generated_hashes

    password = "Abc234defgh5"
    first, second = hash_generated_password(password), hash_generated_password(password)
    assert first != second  # the same password twice: two salts, two hashes
    assert verify_password(first, password) and verify_password(second, password)
    assert not verify_password(first, password + "x")
    creds = [new_credentials() for _ in range(50)]  # what filing stores for its sponsors
    assert all(verify_password(h, pw) for _u, pw, h in creds)
    assert_generated_hashes([first, second] + [h for _u, _pw, h in creds])


def test_generated_password_hashes_are_standard_pbkdf2_so_stored_ones_still_verify():
    """The hash comes from cryptography's PBKDF2 (cheaper); it must be the same function as the hashlib one that
    wrote the hashes already stored, both ways."""
    import base64
    import hashlib

    from shared.auth import hash_generated_password, pbkdf2_sha256, verify_password

    def b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    salt, password = bytes(range(16)), "Abc234defgh5"
    for iterations in (1, 100, 1000):
        assert pbkdf2_sha256(password.encode(), salt, iterations) == hashlib.pbkdf2_hmac(
            "sha256", password.encode(), salt, iterations)
    stored = f"$pbkdf2-sha256$100${b64(salt)}${b64(hashlib.pbkdf2_hmac('sha256', password.encode(), salt, 100))}"
    assert verify_password(stored, password) and not verify_password(stored, password + "x")
    _, scheme, iterations, salt_b64, dk_b64 = hash_generated_password(password).split("$")
    salt2 = base64.urlsafe_b64decode(salt_b64 + "=" * (-len(salt_b64) % 4))
    assert (scheme, iterations) == ("pbkdf2-sha256", "100")
    assert dk_b64 == b64(hashlib.pbkdf2_hmac("sha256", password.encode(), salt2, 100))


def test_generated_usernames_are_readable_and_distinct():
    from shared.auth import generate_username

    names = {generate_username() for _ in range(2000)}
    assert len(names) == 2000
    for name in names:
        assert name.startswith("zbz") and len(name) == 11 and not set(name[3:]) & set("01ilo")


def test_random_chars_favours_no_character():
    from shared.auth import random_chars

    # 30 characters: 256 % 30 = 16 byte values are rejected; a plain modulo would favour the first 16
    alphabet = "abcdefghijklmnopqrstuvwxyz0123"
    counts = {c: 0 for c in alphabet}
    for c in random_chars(alphabet, 300_000):
        counts[c] += 1
    expected = 300_000 / len(alphabet)
    assert all(abs(n - expected) < 0.05 * expected for n in counts.values()), counts
    # with bias (a plain b % 30), the first 16 would come 9/8 as often
    first, rest = sum(counts[c] for c in alphabet[:16]) / 16, sum(counts[c] for c in alphabet[16:]) / 14
    assert abs(first / rest - 1) < 0.03
