"""Read-model rows as the API shows them: codes with their Chinese names (shared/codes)."""

from __future__ import annotations

from typing import Any

from services.reporting import model
from shared import codes

STATUS_NAMES = {"ACTIVE": "正常", "NO_ACCESS": "空壳网站（无接入）", "CANCELLED": "已注销", "BLACKLISTED": "黑名单",
                "SHELL": "空壳主体", "PENDING": "待审核"}
METHOD_NAMES = {"SELF": "自主备案", "PROXY": "代为备案"}


def name(table: str, code: str | None) -> str:
    return model.code_name(table, code) if code else ""


def location_names(values: list[str]) -> list[str]:
    return [(codes.get("provinces", x) or {}).get("name_zh", x) for x in values]


def progress_item(r: Any) -> dict[str, Any]:
    progress, progress_name = model.progress_of(r["status"])
    return {
        "application_id": str(r["application_id"]), "type": r["type"], "type_name": name("filing_types", r["type"]),
        "version": r["version"], "sponsor_name": r["sponsor_name"], "domains": list(r["domains"]),
        "website_names": list(r["website_names"]), "province": r["province"],
        "province_name": model.province_name(r["province"]), "submitted_at": r["submitted_at"],
        "resubmitted_at": r["resubmitted_at"], "status": r["status"],
        "status_name": name("application_statuses", r["status"]), "progress": progress,
        "progress_name": progress_name, "status_at": r["status_at"], "decided_at": r["decided_at"],
        "reason": r["reason"], "needs_preapproval": r["needs_preapproval"],
    }


def history_item(h: Any) -> dict[str, Any]:
    return {"version": h["version"], "status": h["status"], "status_name": name("application_statuses", h["status"]),
            "progress_name": model.progress_of(h["status"])[1], "note": h["note"], "at": h["at"]}


def filing_item(r: Any) -> dict[str, Any]:
    return {
        "website_id": str(r["website_id"]), "subject_id": str(r["subject_id"]), "website_no": r["website_no"],
        "subject_no": r["subject_no"], "website_name": r["name"], "sponsor_name": r["sponsor_name"],
        "nature": r["nature"], "nature_name": name("unit_natures", r["nature"]), "province": r["province"],
        "province_name": model.province_name(r["province"]), "filing_method": r["filing_method"],
        "filing_method_name": METHOD_NAMES.get(r["filing_method"], r["filing_method"]), "status": r["status"],
        "status_name": STATUS_NAMES.get(r["status"], r["status"]), "domains": list(r["domains"]),
        "home_urls": list(r["home_urls"]), "service_content": list(r["service_content"]),
        "service_content_names": model.names("service_content", list(r["service_content"])),
        "languages": list(r["languages"]), "access_methods": list(r["access_methods"]),
        "access_method_names": model.names("access_methods", list(r["access_methods"])),
        "server_locations": list(r["server_locations"]), "approved_at": r["approved_at"],
        "cancelled_at": r["cancelled_at"],
    }


def _principal(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "id_type_name": name("id_types", p.get("id_type"))}


def detail(state: dict[str, Any], visible: set[str] | None, provider_id: str | None,
           providers: dict[str, str]) -> dict[str, Any]:
    """A subject's filed state for the detail page: `visible` website ids (None = all numbered),
    access records of `provider_id` only when given (a provider sees its own)."""
    s = state.get("subject") or {"name": state["name"], "subject_no": state["subject_no"], "province": state["province"],
                                 "cert_type": state["cert_type"], "cert_number": state["cert_number_masked"],
                                 "nature": "", "principal": {}}
    websites = []
    for w in state["websites"]:
        if not w.get("website_no") or w["status"] in ("PENDING", "WITHDRAWN") or (
                visible is not None and w["website_id"] not in visible):
            continue
        w = {**w, "domains": w.get("display_domains") or w["domains"], "principal": w.get("principal") or {}}
        accesses = [a for a in w.get("accesses", []) if provider_id is None or a["provider_id"] == provider_id]
        websites.append({
            **{k: w[k] for k in ("website_id", "website_no", "name", "domains", "home_urls", "service_content",
                                 "languages", "remark", "status", "approved_at", "cancelled_at")},
            "service_type": w.get("service_type", "WEBSITE"),
            "service_type_name": name("service_types", w.get("service_type", "WEBSITE")),
            "status_name": STATUS_NAMES.get(w["status"], w["status"]),
            "service_content_names": model.names("service_content", w["service_content"]),
            "language_names": model.names("languages", w["languages"]),
            "preapprovals": [{**x, "type_name": name("preapproval_types", x.get("type"))} for x in w["preapprovals"]],
            "principal": _principal(w["principal"]),
            "accesses": [{
                **a, "provider_name": providers.get(a["provider_id"], a["provider_id"]),
                "access_method_names": model.names("access_methods", a["access_methods"]),
                "server_location_names": location_names(a["server_locations"]),
                "status_name": STATUS_NAMES.get(a["status"], a["status"]),
            } for a in accesses],
        })
    return {
        "subject": {
            **{k: v for k, v in s.items() if k != "principal"},
            "nature_name": name("unit_natures", s["nature"]), "cert_type_name": name("certificate_types", s["cert_type"]),
            "province_name": model.province_name(s["province"]), "principal": _principal(s["principal"]),
        },
        "status": state["status"], "status_name": STATUS_NAMES.get(state["status"], state["status"]),
        "filing_method": state.get("filing_method", "PROXY"),
        "filing_method_name": METHOD_NAMES.get(state.get("filing_method", "PROXY"), ""),
        "approved_at": state.get("approved_at"), "cancelled_at": state.get("cancelled_at"),
        "filing_provider_name": providers.get(state["provider_id"], state["provider_id"]),
        "websites": websites,
    }
