"""What a first filing writes and publishes, built from its FilingData: the rows of the subject, its
websites, domains and accesses, the version payload, the snapshot of `filing.application.submitted`
(ID numbers masked); and the FilingData read back from stored rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from services.filing.entry.model import _display
from shared import codes
from shared import validate as v
from shared.contracts.filing import (
    AccessSnapshot,
    ApplicationSubmitted,
    PrincipalSnapshot,
    SubjectSnapshot,
    WebsiteSnapshot,
)
from shared.filing_data import (
    FilingData,
    Principal,
    Website,
    subject_key,
    website_principal,
)

# ---------------------------------------------------------------- snapshots


def principal_snapshot(p: Principal) -> PrincipalSnapshot:
    return PrincipalSnapshot(
        name=p.name,
        id_type=p.id_type,
        id_number_masked=v.mask_id_number(p.id_number),
        id_valid_from=p.id_valid_from.isoformat() if p.id_valid_from else None,
        id_valid_to=(p.id_valid_to if isinstance(p.id_valid_to, str) else p.id_valid_to.isoformat())
        if p.id_valid_to
        else None,
        mobile=p.mobile,
        office_phone=p.office_phone,
        emergency_phone=p.emergency_phone,
        email=p.email,
        im_type=p.im_type,
        im_account=p.im_account,
        legal_rep_name=p.legal_rep_name,
        legal_rep_id_masked=v.mask_id_number(p.legal_rep_id) if p.legal_rep_id else "",
    )


def website_snapshot(w: Website, website_id: str, data: FilingData, website_no: str | None = None) -> WebsiteSnapshot:
    return WebsiteSnapshot(
        website_id=website_id,
        website_no=website_no,
        service_type=w.service_type,
        name=w.name,
        domains=list(w.domains),
        home_urls=list(w.home_urls),
        service_content=list(w.service_content),
        preapprovals=[{"type": p.type, "approval_no": p.approval_no, "document": p.document} for p in w.preapprovals],
        languages=list(w.languages),
        remark=w.remark,
        principal=principal_snapshot(website_principal(w, data.subject)),
        access=AccessSnapshot(
            access_methods=list(w.access.access_methods),
            ip_ranges=[f"{r.start_ip}-{r.end_ip}" for r in w.access.ip_ranges],
            server_locations=list(w.access.server_locations),
        ) if w.access is not None else None,  # a self-filing's website has none (自主备案)
    )


def submitted_event(
    *,
    application_id: str,
    version: int,
    type_: str,
    provider_id: str,
    data: FilingData,
    subject_id: str,
    website_ids: list[str],
    submitted_at: dt.datetime,
    submitted_by: str,
    source: str,
    import_job_id: str | None,
    filing_method: str = "PROXY",
    subject_no: str | None = None,
    website_nos: list[str | None] | None = None,
) -> ApplicationSubmitted:
    """The `filing.application.submitted` payload: the full snapshot, ID numbers masked."""
    s = data.subject
    personal = codes.is_personal_nature(s.nature)
    nos = website_nos or [None] * len(website_ids)
    return ApplicationSubmitted(
        application_id=application_id,
        version=version,
        type=type_,
        provider_id=provider_id,
        province=s.province,
        filing_method=filing_method,
        subject=SubjectSnapshot(
            subject_id=subject_id,
            subject_no=subject_no,
            nature=s.nature,
            cert_type=s.cert_type,
            cert_number=v.mask_id_number(s.cert_number) if personal else s.cert_number,
            name=s.name,
            cert_address=s.cert_address,
            province=s.province,
            city=s.city,
            county=s.county,
            mail_address=s.mail_address,
            investor_or_superior=s.investor_or_superior,
            remark=s.remark,
            principal=principal_snapshot(s.principal),
        ),
        websites=[
            website_snapshot(w, wid, data, no) for w, wid, no in zip(data.websites, website_ids, nos, strict=True)
        ],
        submitted_at=submitted_at,
        submitted_by=submitted_by,
        source=source,
        import_job_id=import_job_id,
    )


def _principal_json(p: dict[str, Any]) -> dict[str, Any]:
    """`principal_snapshot(…).model_dump(mode="json")`, from the principal's JSON dump."""
    return {
        "name": p["name"],
        "id_type": p["id_type"],
        "id_number_masked": v.mask_id_number(p["id_number"]),
        "id_valid_from": p["id_valid_from"] or None,
        "id_valid_to": p["id_valid_to"] or None,
        "mobile": p["mobile"],
        "office_phone": p["office_phone"],
        "emergency_phone": p["emergency_phone"],
        "email": p["email"],
        "im_type": p["im_type"],
        "im_account": p["im_account"],
        "legal_rep_name": p["legal_rep_name"],
        "legal_rep_id_masked": v.mask_id_number(p["legal_rep_id"]) if p["legal_rep_id"] else "",
    }


def submitted_event_json(
    *,
    application_id: str,
    type_: str,
    provider_id: str,
    dump: dict[str, Any],
    subject_id: str,
    website_ids: list[str],
    submitted_at: str,
    submitted_by: str,
    source: str,
    import_job_id: str | None,
) -> dict[str, Any]:
    """`submitted_event(…).model_dump(mode="json")` (version 1, no numbers yet) built from the FilingData's
    JSON dump (`model_dump(mode="json")`) and `submitted_at` in its JSON form: for the import's chunk write,
    which sends 250 at once (`Outbox.row_json`) — building, validating and dumping the nine models of each
    cost four times as much. Held equal to the model's dump by tests/unit/test_filing_rules.py."""
    s = dump["subject"]
    subject_principal = _principal_json(s["principal"])
    websites = []
    for w, wid in zip(dump["websites"], website_ids, strict=True):
        a = w["access"]
        websites.append({
            "website_id": wid,
            "website_no": None,
            "service_type": w["service_type"],
            "name": w["name"],
            "domains": w["domains"],
            "home_urls": w["home_urls"],
            "service_content": w["service_content"],
            "preapprovals": w["preapprovals"],
            "languages": w["languages"],
            "remark": w["remark"],
            "principal": subject_principal if w["principal_same_as_subject"] or w["principal"] is None
            else _principal_json(w["principal"]),
            "access": {
                "access_methods": a["access_methods"],
                "ip_ranges": [f"{r['start_ip']}-{r['end_ip']}" for r in a["ip_ranges"]],
                "server_locations": a["server_locations"],
            } if a is not None else None,
        })
    return {
        "application_id": application_id,
        "version": 1,
        "type": type_,
        "provider_id": provider_id,
        "province": s["province"],
        "filing_method": "PROXY",
        "subject": {
            "subject_id": subject_id,
            "subject_no": None,
            "nature": s["nature"],
            "cert_type": s["cert_type"],
            "cert_number": v.mask_id_number(s["cert_number"]) if codes.is_personal_nature(s["nature"])
            else s["cert_number"],
            "name": s["name"],
            "cert_address": s["cert_address"],
            "province": s["province"],
            "city": s["city"],
            "county": s["county"],
            "mail_address": s["mail_address"],
            "investor_or_superior": s["investor_or_superior"],
            "remark": s["remark"],
            "principal": subject_principal,
        },
        "websites": websites,
        "submitted_at": submitted_at,
        "submitted_by": submitted_by,
        "source": source,
        "import_job_id": import_job_id,
        "changes": None,
    }


def preapproval_types(data: FilingData) -> list[str]:
    found: dict[str, None] = {}
    for w in data.websites:
        for p in w.preapprovals:
            if p.type != "NONE":
                found[p.type] = None
    return list(found)


def version_payload(data: FilingData, subject_id: str, website_ids: list[str],
                    dump: dict[str, Any] | None = None) -> dict[str, Any]:
    """`dump`: `data.model_dump(mode="json")` when the caller has it already."""
    return {"data": dump if dump is not None else data.model_dump(mode="json"), "subject_id": subject_id,
            "website_ids": website_ids}


# ---------------------------------------------------------------- rows


def subject_row(data: FilingData, dump: dict[str, Any] | None = None) -> dict[str, Any]:
    """The subject's columns; `data` in canonical form (`dump`: its `model_dump(mode="json")`, when at hand:
    the principal is taken from it rather than dumped again)."""
    s = data.subject
    family, number = subject_key(s, normalized=True)
    return {
        "nature": s.nature,
        "cert_type": s.cert_type,
        "cert_family": family,
        "cert_number": number,
        "name": s.name,
        "cert_address": s.cert_address,
        "province": s.province,
        "city": s.city,
        "county": s.county,
        "mail_address": s.mail_address,
        "investor_or_superior": s.investor_or_superior,
        "remark": s.remark,
        "principal": dump["subject"]["principal"] if dump is not None else s.principal.model_dump(mode="json"),
    }


def website_row(w: Website, position: int, dump: dict[str, Any] | None = None) -> dict[str, Any]:
    """`dump`: the website's `model_dump(mode="json")`, when at hand (its preapprovals and principal)."""
    if dump is None:
        dump = {
            "home_urls": list(w.home_urls),
            "service_content": list(w.service_content),
            "preapprovals": [p.model_dump(mode="json") for p in w.preapprovals],
            "languages": list(w.languages),
            "principal": w.principal.model_dump(mode="json") if w.principal is not None else None,
        }
    return {
        "position": position,
        "service_type": w.service_type,
        "name": w.name,
        "home_urls": dump["home_urls"],
        "service_content": dump["service_content"],
        "preapprovals": dump["preapprovals"],
        "needs_preapproval": any(p.type != "NONE" for p in w.preapprovals),
        "languages": dump["languages"],
        "remark": w.remark,
        "principal_same_as_subject": w.principal_same_as_subject,
        "principal": dump["principal"],
    }


def access_row(w: Website) -> dict[str, Any]:
    return {
        "access_methods": list(w.access.access_methods),
        "ip_ranges": [f"{r.start_ip}-{r.end_ip}" for r in w.access.ip_ranges],
        "server_locations": list(w.access.server_locations),
    }


def domain_rows(w: Website, website_id: str, subject_id: str, status: str = "PENDING") -> list[dict[str, Any]]:
    return [
        {"website_id": website_id, "subject_id": subject_id, "position": j, "ascii": d, "unicode": _display(d),
         "status": status}
        for j, d in enumerate(w.domains)
    ]


# ---------------------------------------------------------------- reading a filing back


def filing_from_rows(subject: asyncpg.Record | dict, websites: list, domains: list, accesses: list) -> FilingData:
    """FilingData from the stored rows of one subject (websites in position order)."""
    by_site: dict[Any, list[str]] = {}
    for d in sorted(domains, key=lambda d: d["position"]):
        by_site.setdefault(d["website_id"], []).append(d["ascii"])
    acc = {a["website_id"]: a for a in accesses}
    out_sites = []
    for w in websites:
        a = acc.get(w["id"])
        out_sites.append(
            {
                "service_type": w["service_type"],
                "name": w["name"],
                "domains": by_site.get(w["id"], []),
                "home_urls": w["home_urls"],
                "service_content": w["service_content"],
                "preapprovals": w["preapprovals"],
                "languages": w["languages"],
                "remark": w["remark"],
                "principal_same_as_subject": w["principal_same_as_subject"],
                "principal": w["principal"],
                "access": {
                    "access_methods": a["access_methods"] if a else [],
                    "ip_ranges": [_split_range(r) for r in (a["ip_ranges"] if a else [])],
                    "server_locations": a["server_locations"] if a else [],
                },
            }
        )
    subj = {
        k: subject[k]
        for k in ("nature", "cert_type", "cert_number", "name", "cert_address", "province", "city", "county",
                  "mail_address", "investor_or_superior", "remark", "principal")
    }
    return FilingData.model_validate({"subject": subj, "websites": out_sites})


def _split_range(text: str) -> dict[str, str]:
    start, _, end = text.partition("-")
    return {"start_ip": start, "end_ip": end or start}
