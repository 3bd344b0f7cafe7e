"""Batch import, filing side (`filing.batch.check`, `filing.batch.import` from the importer).

The importer has validated every row with the same `shared.filing_data` rules; here run the
rules that need filing's database. Items arrive sealed (shared.crypto, purpose "batch-import",
context "<job_id>:<chunk_no>"): JSON [{"data": FilingData, "sponsor": [username, password_hash]}];
no full ID number or password hash travels in plaintext, no plaintext password at all.

- check: a dry run of one chunk — `bulk.check_chunk`: the rules of `check_database_rules`
  (certificate, domain, mobile already filed or in progress) for the whole chunk in one query, and
  whether a sponsor username is taken; answers `filing.batch.chunk_checked` with the conflicts.
  Items that carry their rule keys (`"k"`, `shared.filing_data.rule_keys`, sealed with them by
  the importer) are checked by those keys without being parsed. With `reserve_hours` a clean
  chunk reserves its certificates, mobiles and domains for the job (`batch_reservations`,
  `reservations.reserve`): a second file holding any of them is refused at its own check ("conflict with
  a file being imported"), and so is a filing entered meanwhile, so a file that passed is
  imported whole. Reservations go when the chunk is imported (same transaction), when the job
  ends (`importer.job.finished`), or at expiry (housekeeping).
- import: one transaction per chunk — `bulk.create_first_filings` for the whole chunk (set-based:
  the same rows and events as `create_first_filing` per subject — sponsor account with the given
  hash, subject, websites, access, application PENDING_VERIFICATION, the
  `filing.application.submitted` events with source="import", in one `filing.applications.submitted`
  message per chunk); all or nothing per chunk; recorded
  in `batch_chunks` so a chunk delivered again creates nothing twice and gets the same answer.
"""

from __future__ import annotations

import time
import zlib

import orjson
import structlog

from services.filing import reservations
from services.filing.entry.bulk import (
    BulkRefused,
    create_first_filings,
    find_conflicts,
    item_keys,
    reservation_keys,
    sealed_keys,
)
from services.filing.entry.model import FilingError, parse_filing
from shared import crypto
from shared.bus import MessageContext, PermanentError
from shared.config import get_settings
from shared.contracts.filing import (
    BatchCheck,
    BatchChunkChecked,
    BatchChunkImported,
    BatchConflict,
    BatchImport,
    unpack_items,
)
from shared.contracts.importer import ImportJobFinished

log = structlog.get_logger(__name__)

SEAL_PURPOSE = "batch-import"  # the importer seals with the same purpose (services/importer/worker.py)


def open_items(cmd: BatchCheck | BatchImport) -> list[dict]:
    """The chunk's items (a keys-only check: their rule keys and usernames, under a context of their own,
    so neither payload opens as the other); a chunk that cannot be opened can never succeed (dead-lettered)."""
    context = f"{cmd.job_id}:{cmd.chunk_no}" + (":check" if getattr(cmd, "keys_only", False) else "")
    try:
        raw = unpack_items(crypto.open_sealed(get_settings().secret_key, SEAL_PURPOSE, cmd.items_sealed, context))
        items = orjson.loads(raw)
    except (crypto.SealError, ValueError, zlib.error) as e:
        raise PermanentError(f"batch chunk {cmd.job_id}:{cmd.chunk_no} cannot be opened: {e}") from None
    if not isinstance(items, list) or len(items) != cmd.item_count:
        raise PermanentError(f"batch chunk {cmd.job_id}:{cmd.chunk_no}: item count mismatch")
    return items


def _canonical(items: list[dict]) -> bool:
    """Every item came in canonical form (`"c": 1`: the importer ran `check_filing` and `canonical` on it
    before sealing): filing then parses it with `FilingData` (structural validation, always) and finishes
    the canonical form without validating the certificate/ID numbers, home URLs and IPs again. The seal
    (AES-GCM with the shared key, bound to job and chunk) is what makes the flag trustworthy."""
    return bool(items) and all(isinstance(it, dict) and it.get("c") == 1 for it in items)


def _conflicts(index: int, e: FilingError) -> list[BatchConflict]:
    errors = e.errors or [{"field": "subject", "message": e.detail}]
    return [BatchConflict(item=index, field=err["field"], message=err["message"]) for err in errors]


def _parse(items: list[dict]) -> tuple[list[tuple], dict[int, list[BatchConflict]]]:
    """The items as `bulk` takes them ((data, (username, password hash), index)), and the conflicts
    of those that do not parse, by index. Items in canonical form (`_canonical`: sealed by the importer
    after every rule) are parsed without running the field validators again (`shared.fields.TRUSTED`)."""
    parsed, refused = [], {}
    trusted = _canonical(items)
    for i, it in enumerate(items):
        try:
            parsed.append((parse_filing(it["data"], trusted=trusted), (str(it["sponsor"][0]), str(it["sponsor"][1])), i))
        except FilingError as e:
            refused[i] = _conflicts(i, e)
    return parsed, refused


async def _provider_known(mctx: MessageContext, provider_id: str) -> bool:
    return bool(await mctx.conn.fetchval("SELECT true FROM providers WHERE provider_id = $1", provider_id))


async def on_batch_check(cmd: BatchCheck, mctx: MessageContext) -> None:
    conn = mctx.conn
    items = open_items(cmd)
    conflicts: list[BatchConflict] = []
    if not await _provider_known(mctx, cmd.provider_id):
        conflicts = [BatchConflict(item=i, field="subject", message="接入服务提供者不存在") for i in range(len(items))]
    else:
        # the importer validated every item with the same rules (check_filing); only the database
        # rules are new here, for the whole chunk in one query (bulk.check_chunk), and they need the
        # parsed (normalised) data only
        by_item: dict[int, list[BatchConflict]] = {}
        canonical = _canonical(items)
        if cmd.keys_only and not (canonical and all(isinstance(it.get("k"), dict) for it in items)):
            raise PermanentError(f"batch chunk {cmd.job_id}:{cmd.chunk_no}: a keys-only check without the keys")
        if canonical and all(isinstance(it.get("k"), dict) for it in items):
            # the rule keys came sealed with the items (shared.filing_data.rule_keys): no parse needed;
            # the import parses every item anyway
            keys = sealed_keys([(it["k"], str(it["sponsor"][0])) for it in items])
        else:
            parsed, by_item = _parse(items)
            keys = [None] * len(items)
            for (i, k) in zip([p[2] for p in parsed], item_keys(parsed, normalized=canonical), strict=True):
                keys[i] = k
        if cmd.reserve_hours:
            # reserve first: a file reserving the same keys at the same moment waits on the primary key
            # until this commits (or the other way round), so exactly one of the two sees a conflict
            await reservations.reserve(conn, [(kind, key) for kind, key, _i in reservation_keys(keys)],
                                       job_id=cmd.job_id, chunk_no=cmd.chunk_no, provider_id=cmd.provider_id,
                                       seconds=cmd.reserve_hours * 3600)
        refused, taken = await find_conflicts(conn, keys, own_job=cmd.job_id)
        for i, e in refused:
            by_item.setdefault(i, []).extend(_conflicts(i, e))
        for i in taken:
            by_item.setdefault(i, []).append(
                BatchConflict(item=i, field="sponsor.username", message="生成的主办者用户名已被占用"))
        conflicts = [c for i in sorted(by_item) for c in by_item[i]]
        if conflicts and cmd.reserve_hours:
            await reservations.release(conn, cmd.job_id, cmd.chunk_no)  # the file is refused: hold nothing for it
    await mctx.publish(BatchChunkChecked(job_id=cmd.job_id, chunk_no=cmd.chunk_no, conflicts=conflicts,
                                         attempt=cmd.attempt))


async def on_import_finished(event: ImportJobFinished, mctx: MessageContext) -> None:
    """The job ended: what it still reserves is free again (an imported chunk released its own)."""
    released = await reservations.release(mctx.conn, event.job_id)
    log.info("batch.reservations_released", job_id=event.job_id, status=event.status, released=released)


async def on_batch_import(cmd: BatchImport, mctx: MessageContext) -> None:
    conn = mctx.conn
    claimed = await conn.fetchval(
        """INSERT INTO batch_chunks (job_id, chunk_no, provider_id) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        cmd.job_id, cmd.chunk_no, cmd.provider_id,
    )
    if not claimed:
        reply = await conn.fetchval(
            "SELECT reply FROM batch_chunks WHERE job_id = $1 AND chunk_no = $2", cmd.job_id, cmd.chunk_no
        )
        log.info("batch.chunk_repeated", job_id=cmd.job_id, chunk_no=cmd.chunk_no)
        if reply is not None:
            await mctx.publish(BatchChunkImported.model_validate(reply))
        return
    items = open_items(cmd)
    conflicts: list[BatchConflict] = []
    created: list[str] = []
    websites = 0
    started = time.perf_counter()
    parsed, unparsed = _parse(items)
    conflicts += [c for i in sorted(unparsed) for c in unparsed[i]]
    try:
        async with conn.transaction():  # the chunk is all or nothing
            filings = await create_first_filings(
                conn, provider_id=cmd.provider_id, items=parsed, actor=cmd.actor, import_job_id=cmd.job_id,
                checked=_canonical(items), one_message=True,  # the chunk's events in one message
                copy=True,  # the rows by binary COPY in this transaction (no JSON parameters to parse)
            )
            if conflicts:  # an item that did not parse: the others' conflicts are reported with it
                raise BulkRefused([])
            created = [f.application_id for f in filings]
            websites = sum(len(f.website_ids) for f in filings)
            await reservations.release(conn, cmd.job_id, cmd.chunk_no)  # the filings hold these keys now
    except BulkRefused as e:
        found = [c for i, err in e.conflicts for c in _conflicts(i, err)]
        conflicts = sorted(conflicts + found, key=lambda c: c.item)  # in item order, as one by one
        created, websites = [], 0
    reply = BatchChunkImported(
        job_id=cmd.job_id,
        chunk_no=cmd.chunk_no,
        ok=not conflicts,
        subjects_created=len(created),
        websites_created=websites,
        application_ids=created,
        conflicts=conflicts,
    )
    await conn.execute(
        "UPDATE batch_chunks SET reply = $3 WHERE job_id = $1 AND chunk_no = $2",
        cmd.job_id, cmd.chunk_no, reply.model_dump(mode="json"),
    )
    await mctx.publish(reply)
    log.info("batch.chunk_imported", job_id=cmd.job_id, chunk_no=cmd.chunk_no, ok=reply.ok,
             subjects=len(created), websites=websites, ms=round((time.perf_counter() - started) * 1000))


HANDLERS = ((BatchCheck, on_batch_check), (BatchImport, on_batch_import), (ImportJobFinished, on_import_finished))
