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


@message("importer.chunk.validate", kind="command", consumers=("importer",), solo=True)
class ValidateChunk(Contract):
    """Validate one chunk of an import job's subjects (`import_vchunks`: whole subjects in key order,
    staged in `import_rows`) with the wizard's rules and plan its import chunk. Any importer worker takes
    it (competing consumers on the importer's queue); a chunk delivered twice is recorded once, and the
    worker recording the job's last chunk runs the file-wide rules and moves the job on.
    `clean`: no error was found while reading the file (only then are credentials generated)."""

    job_id: str
    vchunk_no: int
    clean: bool = True
