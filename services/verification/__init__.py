"""Verification: provider verification (核实), bureau review and pre-approval, filing numbers.

Cases (`handlers.on_application_submitted`): one per `filing.application.submitted`
(`application_id`); a later version (after a return or a rejection) reopens the same case;
every version's snapshot and every opinion/decision is kept (`case_versions`, `case_history`).

States (DOMAIN §7.2)::

    PENDING_VERIFICATION --verify pass--> SUBMITTED_TO_BUREAU, or PREAPPROVAL_PENDING when a
                                          website lists a pre-approval item other than NONE
    PENDING_VERIFICATION --verify return--> VERIFY_RETURNED          (…returned, opinion)
    PREAPPROVAL_PENDING  --preapproval pass--> SUBMITTED_TO_BUREAU   (…status_changed)
    PREAPPROVAL_PENDING  --preapproval fail--> REJECTED              (…rejected, stage preapproval)
    SUBMITTED_TO_BUREAU  --approve--> APPROVED (numbers)             (…approved)
    SUBMITTED_TO_BUREAU | PREAPPROVAL_PENDING --reject--> REJECTED   (…rejected, stage bureau)
    VERIFY_RETURNED | REJECTED --next version submitted--> PENDING_VERIFICATION
    PENDING_VERIFICATION | VERIFY_RETURNED | REJECTED --filing.application.withdrawn--> ABANDONED (final;
        verification and decisions answer 409; a withdrawal before the case opened leaves a tombstone)
    SUBMITTED_TO_BUREAU | PREAPPROVAL_PENDING | APPROVED --withdrawn, or a newer version--> unchanged,
        `verification.application.withdrawal_refused` (kind withdrawal | version) → filing restores

HTTP (`api.py`): `GET /cases`, `GET /cases/{id}[?version=n]`, `POST /cases/{id}/verification`
(provider), `POST /cases/{id}/preapproval` and `POST /cases/{id}/decision` (bureau).
Scope: a provider sees its own tenant's cases; a bureau reviewer sees the cases of its province
once they reached the bureau (SUBMITTED_TO_BUREAU, PREAPPROVAL_PENDING, APPROVED, REJECTED);
anything else answers 404. The reviewer's `Principal.province` is the provinces.csv code (`BJ`,
as for providers and `icp admin token --province BJ`); the GB/T 2260 code (`110000`) and the
filing abbreviation (`京`) are accepted too. A case's province is the subject's GB/T 2260 code.

Numbers: `numbers.py` (serials per (province, year) under a row lock held to commit; UNIQUE on
every number; retired numbers kept forever).

Settings (environment, read when the service is built):
- `ICP_AUTO_REVIEW` — optional automatic review for demos and load tests, e.g.
  `verify=pass,preapproval=pass,decision=approve,after=2s`; off when unset (`auto_review.py`).
"""
