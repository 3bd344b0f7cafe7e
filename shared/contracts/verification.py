"""Messages produced by (or commanded to) the verification service."""

from __future__ import annotations

from datetime import datetime

from shared.contracts import Contract, message

OUTCOME_CONSUMERS = ("filing", "reporting")


@message("verification.application.status_changed", consumers=OUTCOME_CONSUMERS)
class ApplicationStatusChanged(Contract):
    """An application moved forward without a final outcome: SUBMITTED_TO_BUREAU (provider
    verification passed) or PREAPPROVAL_PENDING."""

    application_id: str
    version: int
    case_id: str
    provider_id: str
    status: str
    note: str = ""
    changed_at: datetime
    changed_by: str


@message("verification.application.returned", consumers=OUTCOME_CONSUMERS)
class ApplicationReturned(Contract):
    """Provider verification returned the application for correction (VERIFY_RETURNED)."""

    application_id: str
    version: int
    case_id: str
    provider_id: str
    opinion: str
    returned_at: datetime
    returned_by: str


class NumberAssignment(Contract):
    website_id: str
    website_no: str


@message("verification.application.approved", consumers=OUTCOME_CONSUMERS)
class ApplicationApproved(Contract):
    """The bureau approved; numbers assigned (subject number at first approval, website numbers -N)."""

    application_id: str
    version: int
    case_id: str
    provider_id: str
    subject_id: str
    subject_no: str | None = None
    websites: list[NumberAssignment] = []
    approved_at: datetime
    approved_by: str
    opinion: str = ""
    # optional, added by verification (issue 4); `websites` lists every website of the application
    # that holds a number after approval (new and kept ones)
    application_type: str = ""  # codes/filing_types.csv (FIRST_FILING, ADD_WEBSITE, CHANGE_*, CANCEL_*)
    province: str = ""  # GB/T 2260 of the subject's province (the approving bureau)
    new_numbers: list[str] = []  # numbers first issued by this approval (subject number first)
    retired_numbers: list[str] = []  # numbers retired by a CANCEL_* approval; never issued again
    retired_websites: list[NumberAssignment] = []  # the websites whose numbers were retired
    retired_subject_no: str | None = None  # set when a CANCEL_SUBJECT retired the subject number


@message("verification.application.rejected", consumers=OUTCOME_CONSUMERS)
class ApplicationRejected(Contract):
    """The bureau rejected (or pre-approval failed) with a reason."""

    application_id: str
    version: int
    case_id: str
    provider_id: str
    reason: str
    rejected_at: datetime
    rejected_by: str
    stage: str = "bureau"  # bureau | preapproval
    application_type: str = ""  # optional, added by verification (issue 4)


@message("verification.application.withdrawal_refused", consumers=OUTCOME_CONSUMERS)
class WithdrawalRefused(Contract):
    """Verification could not follow filing because the case had already reached the bureau
    (SUBMITTED_TO_BUREAU, PREAPPROVAL_PENDING or APPROVED):
    - `kind` "withdrawal": a `filing.application.withdrawn` of `version` arrived too late;
    - `kind` "version": a newer version `version` (`filing.application.submitted`) arrived too late.
    The case stays at `case_version` with `status`; filing restores the application to it."""

    application_id: str
    version: int  # the version filing withdrew or submitted
    case_version: int  # the version verification keeps
    case_id: str
    provider_id: str
    kind: str  # withdrawal | version
    status: str  # the case's status (application_statuses.csv)
    reason: str  # Chinese explanation
    refused_at: datetime
