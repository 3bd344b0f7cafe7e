"""What the importer keeps sealed (shared.crypto, AES-GCM with a key derived from ICP_SECRET_KEY, one
purpose per kind, bound to its job or chunk): the chunks' items in messages, the generated
credentials, the upload and the annotated copy at rest (both hold full ID numbers)."""

from __future__ import annotations

import uuid

import asyncpg

from shared import crypto

SEAL_PURPOSE = "batch-import"  # shared with services/filing/entry/batch.py (same string, no import); the key
# is ICP_SECRET_KEY (get_settings), which every service shares
RESULT_PURPOSE = "import-result"  # import_chunks.credentials, context "<job_id>:<chunk_no>"
UPLOAD_PURPOSE = "import-upload"  # the upload at rest (import_files), context: the job id
ANNOTATED_PURPOSE = "import-annotated"  # errors.xlsx at rest (import_annotated), context: the job id


def seal_upload(secret: str, job_id: uuid.UUID, data: bytes) -> bytes:
    return crypto.seal_bytes(secret, UPLOAD_PURPOSE, data, str(job_id))


async def load_upload(conn: asyncpg.Connection, secret: str, job_id: uuid.UUID) -> bytes | None:
    """The uploaded file (sealed at rest since migration 003; older rows are plain)."""
    row = await conn.fetchrow("SELECT content, sealed FROM import_files WHERE job_id = $1", job_id)
    if row is None:
        return None
    content = bytes(row["content"])
    return crypto.open_bytes(secret, UPLOAD_PURPOSE, content, str(job_id)) if row["sealed"] else content
