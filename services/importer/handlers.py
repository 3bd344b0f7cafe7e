"""importer use cases and message handlers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import orjson

from services.importer import flow, validation
from services.importer.errors import error_out
from services.importer.flow import WAKE
from services.importer.results import CredentialsWriter
from services.importer.sealing import ANNOTATED_PURPOSE, RESULT_PURPOSE, seal_upload
from services.importer.settings import import_settings
from services.importer.upload import FileRejected, check_file
from shared import crypto
from shared.bus import HandlerTable, MessageContext
from shared.contracts.filing import BatchChunkChecked, BatchChunkImported
from shared.contracts.importer import ImportJobAccepted, ValidateChunk
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem, not_found

STATUS_ZH = {
    "QUEUED": "排队中",
    "VALIDATING": "校验中",
    "CHECKING": "核对已备案信息",
    "IMPORTING": "导入中",
    "COMPLETED": "导入完成",
    "REJECTED": "文件有错误，未导入",
    "FAILED": "导入失败",
}


def register(table: HandlerTable) -> None:
    """Message handlers of this service beyond the platform's (provider directory, revocations)."""
    table.on(ImportJobAccepted)(on_job_accepted)
    table.on(BatchChunkChecked)(flow.on_chunk_checked)
    table.on(BatchChunkImported)(flow.on_chunk_imported)
    table.on(ValidateChunk)(validation.on_validate_chunk)


async def on_job_accepted(payload: ImportJobAccepted, mctx: MessageContext) -> None:
    """Wake this process's job loop at once (other workers find the job by polling)."""
    for event in WAKE:
        event.set()


# ---------------------------------------------------------------- upload


def _checked(data: bytes, settings):
    """check_file; any failure of the readers themselves (a Rust panic is a BaseException) is a
    file we cannot read, never a 500."""
    try:
        return check_file(data, settings)
    except FileRejected:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        raise FileRejected(422, "文件内容无法读取（可能已损坏），请用 Excel 重新保存为 .xlsx 后上传") from None


async def accept_upload(ctx: ServiceContext, *, provider_id: str, actor: str, filename: str, data: bytes):
    settings = import_settings()
    size = len(data)
    try:
        info = await asyncio.to_thread(_checked, data, settings)
    except FileRejected as e:
        raise Problem(e.status, e.message, errors=e.errors) from None
    job_id = uuid.uuid4()
    name = filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload.xlsx"
    # kept sealed at rest (it holds full ID numbers) until the job is done; a Strict Open XML file is
    # kept in its transitional translation (upload.check_file), the form every reader here takes
    sealed = await asyncio.to_thread(seal_upload, ctx.settings.secret_key, job_id, info.data or data)
    del data
    async with transaction(ctx.pool) as conn:
        row = await conn.fetchrow(
            """INSERT INTO import_jobs (id, provider_id, created_by, filename, size_bytes, template_version, file_columns)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
            job_id, provider_id, actor, name, size, info.template_version, info.columns,
        )
        await conn.execute("INSERT INTO import_files (job_id, content, sealed) VALUES ($1, $2, true)", job_id, sealed)
        await ctx.outbox.add(
            conn,
            ImportJobAccepted(job_id=str(job_id), provider_id=provider_id, filename=name, size_bytes=size,
                              accepted_at=datetime.now(UTC)),
            provider_id=provider_id,
        )
    return job_out(row, [])


# ---------------------------------------------------------------- queries


def job_out(r: asyncpg.Record, errors: list) -> dict:
    now = datetime.now(UTC)
    available = (
        (r["status"] == "COMPLETED" or (r["status"] == "FAILED" and r["subjects_imported"] > 0))
        and r["purged_at"] is None and r["result_expires_at"] is not None and r["result_expires_at"] > now
    )
    return {
        "job_id": str(r["id"]),
        "status": r["status"],
        "status_zh": STATUS_ZH[r["status"]],
        "filename": r["filename"],
        "size_bytes": r["size_bytes"],
        "message": r["message"],
        "rows_total": r["rows_total"],
        "subjects_total": r["subjects_total"],
        "rows_read": r["rows_read"],
        "rows_validated": r["rows_validated"],
        "rows_imported": r["rows_imported"],
        "subjects_imported": r["subjects_imported"],
        "chunks_total": r["chunks_total"],
        "chunks_done": r["chunks_done"],
        "error_count": r["error_count"],
        "errors": [error_out(e) for e in errors],
        "result_available": available,
        "errors_file_available": r["annotation"] == "READY" and r["purged_at"] is None,
        # a rejected job's annotated copy is built by a worker after the rejection: clients wait for it
        "errors_file_pending": r["annotation"] in ("PENDING", "BUILDING"),
        "result_expires_at": r["result_expires_at"],
        "created_at": r["created_at"],
        "finished_at": r["finished_at"],
    }


def _uuid(job_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(job_id)
    except ValueError:
        raise not_found("导入任务") from None


async def _job(conn, provider_id: str, job_id: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "SELECT * FROM import_jobs WHERE id = $1 AND provider_id = $2", _uuid(job_id), provider_id
    )
    if row is None:
        raise not_found("导入任务")
    return row


async def get_job(ctx: ServiceContext, provider_id: str, job_id: str) -> dict:
    async with ctx.pool.acquire() as conn:
        row = await _job(conn, provider_id, job_id)
        errors = await conn.fetch("SELECT * FROM import_errors WHERE job_id = $1 ORDER BY seq LIMIT 20", row["id"])
    return job_out(row, errors)


async def list_jobs(ctx: ServiceContext, provider_id: str, page: int, size: int) -> tuple[list[dict], int]:
    async with ctx.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM import_jobs WHERE provider_id = $1", provider_id)
        rows = await conn.fetch(
            "SELECT * FROM import_jobs WHERE provider_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
            provider_id, size, (page - 1) * size,
        )
    return [job_out(r, []) for r in rows], total


async def list_errors(ctx: ServiceContext, provider_id: str, job_id: str, page: int, size: int):
    async with ctx.pool.acquire() as conn:
        row = await _job(conn, provider_id, job_id)
        total = await conn.fetchval("SELECT count(*) FROM import_errors WHERE job_id = $1", row["id"])
        rows = await conn.fetch(
            "SELECT * FROM import_errors WHERE job_id = $1 ORDER BY seq LIMIT $2 OFFSET $3", row["id"], size,
            (page - 1) * size,
        )
    return rows, total


async def errors_workbook(ctx: ServiceContext, provider_id: str, job_id: str) -> tuple[bytes, str]:
    """The annotated copy a worker built once when the job was rejected (services/importer/annotate.py)."""
    async with ctx.pool.acquire() as conn:
        row = await _job(conn, provider_id, job_id)
        if row["status"] not in ("REJECTED", "FAILED") or not row["error_count"]:
            raise Problem(409, "该导入任务没有错误标注文件（仅在文件被拒绝时提供）")
        if row["annotation"] in ("PENDING", "BUILDING"):
            raise Problem(409, "错误标注文件正在生成，请稍后再下载；错误列表（/errors）已可查看")
        content = await conn.fetchval("SELECT content FROM import_annotated WHERE job_id = $1", row["id"])
    if content is None:
        if row["purged_at"] is not None:
            raise Problem(410, "错误标注文件已过期并已删除；错误列表（/errors）仍可查看")
        limit = import_settings().errors_xlsx_max_rows
        if (row["rows_read"] or 0) > limit:
            raise Problem(
                413, f"文件超过 {limit} 行，无法生成错误标注副本；请通过错误列表（/errors）查看每个错误的位置"
            )
        raise Problem(410, "没有错误标注文件（上传的文件无法生成副本或已删除）；请通过错误列表（/errors）查看每个错误的位置")
    data = crypto.open_bytes(ctx.settings.secret_key, ANNOTATED_PURPOSE, bytes(content), str(row["id"]))
    return data, row["filename"]


async def result_workbook(ctx: ServiceContext, provider_id: str, job_id: str) -> bytes:
    """The credentials of every subject filing committed (a failed job's committed chunks included):
    built from the chunks' sealed credentials at each download (a few MB for the largest file)."""
    async with ctx.pool.acquire() as conn:
        row = await _job(conn, provider_id, job_id)
        if row["status"] not in ("COMPLETED", "FAILED") or (row["status"] == "FAILED" and not row["subjects_imported"]):
            raise Problem(409, f"导入尚未完成（{STATUS_ZH[row['status']]}），没有结果文件")
        expired = row["purged_at"] is not None or (
            row["result_expires_at"] is not None and row["result_expires_at"] <= datetime.now(UTC))
        chunks = [] if expired else await conn.fetch(
            """SELECT chunk_no, credentials FROM import_chunks
               WHERE job_id = $1 AND state = 'DONE' AND credentials IS NOT NULL ORDER BY chunk_no""", row["id"]
        )
    if not chunks:
        raise Problem(410, "结果文件已过期并已删除（用户名和密码不再提供）；如需重置主办者密码请使用“主办者密码重置”")
    return await asyncio.to_thread(_credentials, ctx.settings.secret_key, str(row["id"]), chunks)


def _credentials(secret: str, job_id: str, chunks) -> bytes:
    writer = CredentialsWriter()
    for c in chunks:
        for key, name, username, password, domains in orjson.loads(
            crypto.open_bytes(secret, RESULT_PURPOSE, bytes(c["credentials"]), f"{job_id}:{c['chunk_no']}")
        ):
            writer.add(key, name, username, password, domains)
    return writer.finish()
