"""Messages produced by (or commanded to) the filing service."""

from __future__ import annotations

import zlib
from datetime import datetime

from shared.contracts import Contract, EventRun, message

ALL_SERVICES = ("filing", "importer", "verification", "reporting", "detection")


@message("filing.provider.registered", consumers=("verification", "reporting", "detection", "importer"))
class ProviderRegistered(Contract):
    """A provider (接入服务提供者, the tenant) was created or its details changed."""

    provider_id: str
    name: str
    province: str | None = None
    registered_at: datetime


@message("filing.session.revoked", consumers=tuple(s for s in ALL_SERVICES if s != "filing"))
class SessionRevoked(Contract):
    """A session token was revoked (logout, password change, lock); every service stops accepting it."""

    session_id: str
    expires_at: datetime


# ---------------------------------------------------------------- applications
# Snapshots are deliberately lenient (plain strings): a message accepted once must stay
# readable after validation rules change. ID numbers are masked (DESIGN §3): the full
# numbers stay in filing's schema.


class PrincipalSnapshot(Contract):
    name: str
    id_type: str
    id_number_masked: str
    id_valid_from: str | None = None
    id_valid_to: str | None = None
    mobile: str
    office_phone: str = ""
    emergency_phone: str = ""
    email: str = ""
    im_type: str = ""
    im_account: str = ""
    legal_rep_name: str = ""  # when the principal is not the legal representative
    legal_rep_id_masked: str = ""


class SubjectSnapshot(Contract):
    subject_id: str
    subject_no: str | None = None
    nature: str
    cert_type: str
    cert_number: str  # organisation certificate numbers are public; a PERSONAL subject's is masked
    name: str
    cert_address: str = ""
    province: str  # GB/T 2260, e.g. 110000
    city: str = ""
    county: str = ""
    mail_address: str = ""
    investor_or_superior: str = ""
    remark: str = ""
    principal: PrincipalSnapshot


class AccessSnapshot(Contract):
    access_methods: list[str]
    ip_ranges: list[str]  # "start-end"
    server_locations: list[str]


class WebsiteSnapshot(Contract):
    website_id: str
    website_no: str | None = None
    service_type: str = "WEBSITE"
    name: str
    domains: list[str]
    home_urls: list[str]
    service_content: list[str]
    preapprovals: list[dict[str, str]]  # {type, approval_no}
    languages: list[str]
    remark: str = ""
    principal: PrincipalSnapshot
    access: AccessSnapshot | None = None


@message("filing.application.submitted", consumers=("verification", "reporting"))
class ApplicationSubmitted(Contract):
    """An application (first filing, added website/access, change, cancellation) entered
    verification: a new one, or a corrected version of a returned one (same id, version + 1)."""

    application_id: str
    version: int = 1
    type: str  # codes/filing_types.csv, plus CANCEL_SUBJECT / CANCEL_WEBSITE
    provider_id: str  # the tenant; "" for a self-filing's first filing (自主备案: no provider, no verification)
    province: str  # the subject's province (GB/T 2260): decides the bureau
    filing_method: str = "PROXY"  # SELF | PROXY
    subject: SubjectSnapshot
    websites: list[WebsiteSnapshot]
    submitted_at: datetime
    submitted_by: str
    source: str = "entry"  # entry | import
    import_job_id: str | None = None
    # For applications other than FIRST_FILING (filing's services/filing/changes/handlers.py): {"type": …} plus
    # ADD_WEBSITE {website_ids}; ADD_ACCESS / CHANGE_ACCESS {website_id, access: {before, after}};
    # CHANGE_SUBJECT {subject: {field: [old, new]}}; CHANGE_WEBSITE {website_id, website: {field: [old, new]}};
    # CANCEL_SUBJECT / CANCEL_WEBSITE {cancellation_id, target_type, target_no, reason_code, reason_name,
    # reason}. Values as in the snapshots (ID numbers masked). `subject` carries the proposed subject for
    # CHANGE_SUBJECT; `websites` the websites concerned (the new one, the changed one with its proposed
    # data, the one to cancel; every live website for subject-wide types), numbered ones with website_no.
    changes: dict | None = None


@message("filing.applications.submitted", consumers=("verification", "reporting"),
         run_of="filing.application.submitted")
class ApplicationsSubmitted(EventRun):
    """The applications an import chunk submitted, in one message: each is exactly a
    `filing.application.submitted` and is handled as one (under its id in `event_ids`); one message
    per chunk instead of one per application through the outbox, the broker and each consumer."""

    events: list[ApplicationSubmitted]


# ---------------------------------------------------------------- batch import (importer → filing)
# The items of a chunk travel sealed (shared.crypto, purpose "batch-import", context
# "<job_id>:<chunk_no>"): JSON list of {"data": FilingData, "sponsor": [username, password_hash]}.
# A check with `keys_only` carries only what the dry run looks up, sealed under the context
# "<job_id>:<chunk_no>:check": JSON list of {"k": rule keys, "sponsor": [username, ""], "c": 1}.
# The JSON is compressed before it is sealed (`pack_items` / `unpack_items`).
# Full ID numbers and sponsor password hashes never appear in plaintext in a message.


def pack_items(body: bytes) -> bytes:
    """A chunk's items as they are sealed: their JSON, zlib-compressed (level 1: ≈ 1 ms for a chunk's
    400 kB). Sealed data does not compress (and base64 adds a third), so compressing first is what
    shrinks what the chunk costs on its way: the importer's chunk row and outbox row, the broker, filing's
    opening of it (bench/README.md, Importer, seventh round). Compressing before encrypting tells no one
    anything: a chunk holds one uploaded file's rows, its uploader's own, and its size is seen only inside
    the platform (the databases, the broker)."""
    return zlib.compress(body, 1)


def unpack_items(data: bytes) -> bytes:
    """The items' JSON from what was sealed: compressed (`pack_items`), or the JSON itself (a chunk planned
    before the items were compressed). A zlib stream starts with 0x78 ('x'), JSON never does."""
    return zlib.decompress(data) if data[:1] == b"x" else data


@message("filing.batch.check", kind="command", consumers=("filing",), solo=True)
class BatchCheck(Contract):
    """Dry run of one chunk of an import: run the database rules of a first filing (subject or
    domain already filed or reserved by another file being imported, sponsor username taken, …)
    for every item and report conflicts. Answered by `filing.batch.chunk_checked`.

    `reserve_hours`: when set, a chunk without conflicts reserves its certificates, mobiles and
    domains for the job (until its chunks are imported, `importer.job.finished` arrives, or that
    many hours pass), so no other file or filing takes them before the job is imported whole.
    Unset (a file already rejected for its own errors, checked only to list every error): nothing
    is written.

    `keys_only`: `items_sealed` holds each item's rule keys and username only (about a twentieth of
    the full items, which the dry run never reads), sealed under its own context (above).

    `attempt`: the importer's attempt at the job, echoed in the answer: a chunk is checked while the
    file is still being validated, so a file planned again (a generated username repeated) can meet
    answers to its earlier attempt's checks, which it then ignores."""

    job_id: str
    chunk_no: int
    provider_id: str
    actor: str
    items_sealed: str
    item_count: int
    reserve_hours: float | None = None
    keys_only: bool = False
    attempt: int = 0


@message("filing.batch.import", kind="command", consumers=("filing",), solo=True)
class BatchImport(Contract):
    """Create the first filings of one chunk of an import in one transaction (sponsor account,
    subject, websites, access, application → verification), idempotent per (job_id, chunk_no).
    Answered by `filing.batch.chunk_imported`."""

    job_id: str
    chunk_no: int
    provider_id: str
    actor: str
    items_sealed: str
    item_count: int


class BatchConflict(Contract):
    item: int  # index in the chunk's items
    field: str  # FilingData path, e.g. websites[0].domains[0], subject.cert_number, sponsor.username
    message: str  # Chinese reason


@message("filing.batch.chunk_checked", consumers=("importer",))
class BatchChunkChecked(Contract):
    """Result of `filing.batch.check` for one chunk: no conflicts means it can be imported. `attempt`:
    the check's, echoed."""

    job_id: str
    chunk_no: int
    conflicts: list[BatchConflict] = []
    attempt: int = 0


@message("filing.batch.chunk_imported", consumers=("importer",))
class BatchChunkImported(Contract):
    """Result of `filing.batch.import` for one chunk. `ok` false: nothing of the chunk was created
    (a conflict appeared after the dry run); the conflicts say why."""

    job_id: str
    chunk_no: int
    ok: bool = True
    subjects_created: int = 0
    websites_created: int = 0
    application_ids: list[str] = []
    conflicts: list[BatchConflict] = []


# ---------------------------------------------------------------- withdrawal (filing → verification)


@message("filing.application.withdrawn", consumers=("verification", "reporting"))
class ApplicationWithdrawn(Contract):
    """The provider withdrew an application before the bureau reviewed it: a cancellation request
    deleted (`reason` "deleted", 删除注销申请) or a returned / rejected application abandoned
    ("abandoned", 放弃申请). Filing marked it ABANDONED; verification closes the case (ABANDONED), or
    answers `verification.application.withdrawal_refused` when the case already reached the bureau."""

    application_id: str
    version: int
    provider_id: str
    reason: str  # deleted | abandoned
    withdrawn_at: datetime
    withdrawn_by: str


# ---------------------------------------------------------------- filed records (filing → read models)


class AccessState(Contract):
    """One provider's access record (接入信息) of a website (added for reporting)."""

    provider_id: str
    access_methods: list[str]
    ip_ranges: list[str]  # "start-end"
    server_locations: list[str]
    status: str  # ACTIVE | CANCELLED | PENDING (an ADD_ACCESS in review)


class FiledWebsite(Contract):
    website_id: str
    website_no: str | None = None
    name: str
    status: str  # ACTIVE | NO_ACCESS | BLACKLISTED | CANCELLED | PENDING | WITHDRAWN
    domains: list[str]  # A-labels of the website's live domains
    access_providers: list[str] = []  # providers with an ACTIVE access record
    ip_ranges: dict[str, list[str]] = {}  # provider → its access's "start-end" ranges
    # optional, added for reporting's pages (everything filed; ID numbers masked)
    service_type: str = "WEBSITE"
    display_domains: list[str] = []  # display form; a cancelled website's those it had at cancellation
    home_urls: list[str] = []
    service_content: list[str] = []
    preapprovals: list[dict[str, str]] = []  # {type, approval_no}
    languages: list[str] = []
    remark: str = ""
    principal: PrincipalSnapshot | None = None
    approved_at: datetime | None = None
    cancelled_at: datetime | None = None
    accesses: list[AccessState] = []  # every provider's access record (ACTIVE, CANCELLED, PENDING)


@message("filing.record.changed", consumers=("detection", "reporting"))
class FiledRecordChanged(Contract):
    """The filed state of one subject after a change took effect (an approval of any application type,
    取消接入): its status and every website with its domains and the providers serving it.
    `seq` grows with every change of the subject: a consumer keeps the highest and ignores older ones.
    The certificate travels as `cert_digest` (`shared.blacklist.cert_digest`) and masked."""

    subject_id: str
    seq: int
    provider_id: str  # the provider that filed the subject; "" for a self-filing (自主备案, filing_method SELF)
    subject_no: str | None = None
    name: str
    status: str
    province: str  # GB/T 2260
    cert_type: str
    cert_digest: str
    cert_number_masked: str
    websites: list[FiledWebsite]
    changed_at: datetime
    # optional, added for reporting's pages
    subject: SubjectSnapshot | None = None  # every filed field of the subject (ID numbers masked)
    filing_method: str = "PROXY"  # SELF | PROXY
    approved_at: datetime | None = None
    cancelled_at: datetime | None = None
    cause: str = ""  # the application type that took effect (FIRST_FILING, …, CANCEL_ACCESS)
    application_id: str | None = None
