"""No 5xx for bad input: NUL and control characters, numbers and dates past the database's range,
malformed multipart bodies — each a 4xx problem+json in Chinese naming the field (issue 9).

The bounds live in one place (`shared.bounds`, applied by `shared.web`): these requests reach
routes of every kind (query filters, bodies, paths) to show that no route is left out.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from tests.conftest import System
from tests.integration.filing_helpers import Tenant

NUL = "a\x00b"
CASE = str(uuid.uuid4())
JOB = str(uuid.uuid4())

# (service, path, query field, value, role)
QUERY_CASES = [
    *[("filing", "/subjects", f, NUL, "admin") for f in
      ("name", "cert_number", "domain", "filing_no", "province", "nature", "application_status")],
    *[("filing", "/websites", f, NUL, "admin") for f in ("name", "subject_name", "subject_id", "domain")],
    *[("filing", "/cancellations", f, NUL, "provider") for f in ("number", "name")],
    *[("filing", "/users", f, NUL, "admin") for f in ("q", "provider_id", "province")],
    ("filing", "/announcements", "q", NUL, None),
    ("filing", "/laws", "q", NUL, None),
    ("filing", "/codes/certificate_types", "q", NUL, None),
    ("filing", "/codes/certificate_types", "nature", NUL, None),
    *[("verification", "/cases", f, NUL, "admin") for f in
      ("name", "domain", "type", "application_id", "subject_id", "provider_id", "status")],
    ("filing", "/subjects", "name", "a\nb", "admin"),  # a filter is one line
    ("filing", "/subjects", "name", "a\x7fb", "admin"),
    # numbers past the database's range
    ("importer", "/jobs", "page", "9223372036854775807", "provider"),
    ("importer", f"/jobs/{JOB}/errors", "page", "9223372036854775807", "provider"),
    ("filing", "/users", "page", "9223372036854775807", "admin"),
    ("filing", "/announcements", "page", "9223372036854775807", None),
    ("filing", "/laws", "page", "9223372036854775807", None),
    ("filing", "/feedback", "page", "9223372036854775807", "admin"),
    ("verification", f"/cases/{CASE}", "version", "2147483648", "admin"),
    ("verification", "/cases", "page", "99999999999999999999999", "admin"),
    # dates past the database's (and Python's date arithmetic's) range
    ("verification", "/cases", "submitted_from", "0001-01-01", "admin"),
    ("verification", "/cases", "submitted_to", "9999-12-31", "admin"),
    ("filing", "/subjects", "created_from", "0001-01-01", "admin"),
    ("filing", "/websites", "approved_to", "9999-12-31", "admin"),
    ("filing", "/subjects", "created_to", "0", "admin"),  # not a Unix time: a date is YYYY-MM-DD
    ("filing", "/subjects", "created_to", "-6.3e-21", "admin"),
]


def _headers(system: System, role: str | None, tenant: Tenant) -> dict[str, str]:
    if role is None:
        return {}
    if role == "provider":
        return tenant.headers
    return system.auth(role, province="BJ" if role == "bureau" else None)


async def _refused(resp, field: str) -> dict:
    text = await resp.text()
    assert resp.status in (400, 413, 422), f"{resp.status}: {text[:500]}"
    assert resp.content_type == "application/problem+json", text[:300]
    body = await resp.json()
    named = [e["field"] for e in body.get("errors") or []]
    assert field in named or field in body["detail"], body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body  # Chinese
    return body


@pytest.mark.parametrize("service,path,field,value,role", QUERY_CASES,
                         ids=[f"{c[0]}{c[1]}?{c[2]}={c[3][:6]!r}" for c in QUERY_CASES])
async def test_query_out_of_bounds_is_a_4xx_naming_the_field(system: System, tenant: Tenant,
                                                            service, path, field, value, role):
    url = f"/api/{service}{path}?{field}={quote(value, safe='')}"
    r = await system.client.get(url, headers=_headers(system, role, tenant))
    await _refused(r, field)


async def test_values_inside_the_bounds_still_answer(system: System, tenant: Tenant):
    """The bounds refuse only what cannot be stored: a page past the end is an empty page, old and
    far dates inside the range are a filter like any other."""
    c, admin = system.client, system.auth("admin")
    r = await c.get("/api/filing/users?page=2147483647", headers=admin)
    assert r.status == 200 and (await r.json())["items"] == []
    r = await c.get("/api/verification/cases?submitted_from=1900-01-01&submitted_to=2999-12-31",
                    headers=admin)
    assert r.status == 200, await r.text()
    r = await c.get("/api/importer/jobs?page=2147483647", headers=tenant.headers)
    assert r.status == 200 and (await r.json())["items"] == []


@pytest.mark.parametrize("path", ["/users/a%00b", "/announcements/a%00b", "/laws/a%00b", "/codes/a%00b",
                                  "/subjects/a%00b", "/feedback/a%00b"])
async def test_path_parameter_with_a_control_character_is_refused(system: System, path: str):
    r = await system.client.get("/api/filing" + path, headers=system.auth("admin"))
    text = await r.text()
    assert r.status in (404, 422), f"{r.status}: {text}"
    assert r.content_type == "application/problem+json"


async def test_bodies_with_a_nul_are_refused_naming_the_field(system: System, tenant: Tenant):
    c, admin = system.client, system.auth("admin")

    r = await c.patch("/api/filing/me", json={"display_name": NUL}, headers=tenant.headers)
    await _refused(r, "display_name")

    r = await c.post("/api/filing/users", json={
        "role": "bureau", "username": "u" + uuid.uuid4().hex[:8], "generate_password": True,
        "display_name": "审核员", "province": "B\x00J"}, headers=admin)
    await _refused(r, "province")

    r = await c.post("/api/filing/users", json={
        "role": "bureau", "username": "u" + uuid.uuid4().hex[:8], "password": "pa\x00ss-word-1",
        "display_name": "审核员", "province": "BJ"}, headers=admin)
    await _refused(r, "password")

    status, draft = await tenant.call("POST", "/drafts")
    assert status == 201, draft
    r = await c.put(f"/api/filing/drafts/{draft['id']}/subject", json={"name": "北京\x00公司", "nested": {"x": [NUL]}},
                    headers=tenant.headers)
    body = await _refused(r, "name")
    assert "nested.x[0]" in [e["field"] for e in body["errors"]]

    r = await c.post(f"/api/verification/cases/{CASE}/verification", json={"result": "return", "opinion": NUL},
                     headers=tenant.headers)
    await _refused(r, "opinion")
    bureau = system.auth("bureau", province="BJ")
    r = await c.post(f"/api/verification/cases/{CASE}/decision", json={"decision": "reject", "reason": NUL},
                     headers=bureau)
    await _refused(r, "reason")

    # a JSON escape of a lone surrogate cannot be stored as UTF-8 text either (the parser refuses it)
    r = await c.patch("/api/filing/me", data=b'{"display_name": "ab\\ud800cd"}',
                      headers=tenant.headers | {"Content-Type": "application/json"})
    assert r.status == 400 and r.content_type == "application/problem+json", await r.text()

    # numbers past the range inside a body
    r = await c.post(f"/api/verification/cases/{CASE}/verification",
                     json={"result": "pass", "opinion": "核实通过", "version": 2**31}, headers=tenant.headers)
    await _refused(r, "version")


async def test_multi_line_free_text_keeps_its_lines(system: System, tenant: Tenant):
    """Tab, LF and CR are text in a body (an opinion, an article) — only the other controls are refused."""
    r = await system.client.post("/api/filing/feedback", json={"title": "换行", "content": "第一行\n第二行\t完"},
                                 headers=tenant.headers)
    assert r.status == 201, await r.text()


async def test_detection_ingest_refuses_a_nul_in_source(system: System):
    from tests.integration.detection_helpers import event, provider, source_key

    t = await provider(system)
    r = await system.client.post("/api/detection/events", json={
        **event(t.provider_id, "example-unfiled.cn"), "source": "probe\x00x",
    }, headers={"X-API-Key": await source_key(system)})
    await _refused(r, "source")


async def test_json_bodies_are_read_as_the_document_types_them(system: System):
    """A JSON string is not an integer (strict JSON parsing: what the document says is what is read)."""
    r = await system.client.post(f"/api/verification/cases/{CASE}/verification",
                                 json={"result": "pass", "opinion": "核实通过", "version": "2"},
                                 headers=system.auth("provider", provider_id="p-none"))
    await _refused(r, "version")


async def test_wrong_method_answers_405_with_the_documented_methods(system: System, tenant: Tenant):
    r = await system.client.request("OPTIONS", "/api/filing/drafts/current", headers=tenant.headers)
    assert r.status == 405 and r.content_type == "application/problem+json"
    assert r.headers["Allow"] == "GET"  # not DELETE: that is /drafts/{draft_id}'s


# ---------------------------------------------------------------- multipart


def _multipart(boundary: str, head: bytes, preamble: bytes = b"") -> bytes:
    return (preamble + f"--{boundary}\r\n".encode() + head
            + b"\r\n\r\nPK\x03\x04 not really a workbook\r\n" + f"--{boundary}--\r\n".encode())


async def test_multipart_with_an_overlong_part_header_is_413(system: System, tenant: Tenant):
    boundary = "b" + uuid.uuid4().hex
    head = b'Content-Disposition: form-data; name="file"; filename="' + b"x" * (9 * 1024) + b'.xlsx"'
    r = await system.client.post("/api/importer/jobs", data=_multipart(boundary, head), headers=tenant.headers | {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    text = await r.text()
    assert r.status in (400, 413), f"{r.status}: {text}"
    assert r.content_type == "application/problem+json" and "过长" in text


async def test_multipart_with_an_overlong_line_is_413(system: System, tenant: Tenant):
    boundary = "b" + uuid.uuid4().hex
    head = b'Content-Disposition: form-data; name="file"; filename="a.xlsx"'
    body = _multipart(boundary, head, preamble=b"y" * (600 * 1024) + b"\r\n")
    r = await system.client.post("/api/importer/jobs", data=body, headers=tenant.headers | {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    text = await r.text()
    assert r.status in (400, 413), f"{r.status}: {text}"
    assert r.content_type == "application/problem+json"


async def test_multipart_with_malformed_part_headers_is_400(system: System, tenant: Tenant):
    boundary = "b" + uuid.uuid4().hex
    head = b"Content-Disposition form-data no colon\r\n\x00bad: header"
    r = await system.client.post("/api/importer/jobs", data=_multipart(boundary, head), headers=tenant.headers | {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    text = await r.text()
    assert 400 <= r.status < 500, f"{r.status}: {text}"
    assert r.content_type == "application/problem+json"


async def test_upload_file_name_with_a_nul_is_refused(system: System, tenant: Tenant):
    r = await system.client.get("/api/importer/template", headers=tenant.headers)
    assert r.status == 200
    workbook = await r.read()  # a file that passes the checks, so the name is what is refused
    boundary = "b" + uuid.uuid4().hex
    body = (f"--{boundary}\r\n".encode()
            + b'Content-Disposition: form-data; name="file"; filename="a%00b.xlsx"\r\n\r\n'
            + workbook + f"\r\n--{boundary}--\r\n".encode())
    r = await system.client.post("/api/importer/jobs", data=body, headers=tenant.headers | {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    text = await r.text()
    assert 400 <= r.status < 500, f"{r.status}: {text}"
    assert r.content_type == "application/problem+json"
