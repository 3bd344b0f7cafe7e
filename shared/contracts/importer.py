"""Messages produced by (or commanded to) the importer service."""

from __future__ import annotations

from datetime import datetime

from shared.contracts import Contract, message


@message("importer.job.accepted", consumers=("importer",))
class ImportJobAccepted(Contract):
    """An Excel upload passed the synchronous checks and was queued (status QUEUED). The importer's
    own workers take it from the job table (lease); this event only wakes them at once."""

    job_id: str
    provider_id: str
    filename: str
    size_bytes: int
    accepted_at: datetime


@message("importer.job.finished", consumers=("filing",))
class ImportJobFinished(Contract):
    """An import job ended (COMPLETED, REJECTED or FAILED) after its chunks were sent to filing:
    filing releases what the job still holds (its reservations, `filing.batch.check`)."""

    job_id: str
    provider_id: str
    status: str
    finished_at: datetime
