"""HTTP surface of the importer service (thin: parse → handler → respond)."""

from __future__ import annotations

import asyncio
import functools
import io
import urllib.parse
from datetime import datetime

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, Field

from services.importer import handlers
from services.importer.errors import error_out
from services.importer.settings import import_settings
from services.importer.template import build_template
from shared.bounds import text_problem
from shared.service import ctx
from shared.web import Api, Problem, invalid, principal_of, tenant_of

api = Api("importer", "ICP 备案 — 批量导入服务")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Paging(BaseModel):
    page: int = Field(1, ge=1, description="页码，从 1 开始")
    page_size: int = Field(20, ge=1, le=500, description="每页条数")


class ErrorOut(BaseModel):
    sheet: str
    row: int | None = Field(None, description="Excel 行号（从 1 开始）")
    column: int | None = Field(None, description="列序号（从 1 开始）")
    column_name: str | None = Field(None, description="列标题")
    field: str | None = Field(None, description="字段名（模板隐藏第1行）")
    value: str = ""
    message: str


class JobOut(BaseModel):
    job_id: str
    status: str = Field(description="QUEUED 排队 | VALIDATING 校验中 | CHECKING 核对已备案信息 | IMPORTING 导入中 | "
                                    "COMPLETED 完成 | REJECTED 文件有错未导入 | FAILED 失败")
    status_zh: str
    filename: str
    size_bytes: int
    message: str | None = None
    rows_total: int | None = Field(None, description="网站行数（读完文件后可知）")
    subjects_total: int | None = None
    rows_read: int = 0
    rows_validated: int = Field(0, description="已校验的网站行数")
    rows_imported: int = Field(0, description="已导入的网站行数")
    subjects_imported: int = 0
    chunks_total: int | None = None
    chunks_done: int = 0
    error_count: int = 0
    errors: list[ErrorOut] = Field(default_factory=list, description="前 20 个错误；全部见 /errors")
    result_available: bool = Field(False, description="主办者账号结果文件可下载（完成，或失败前已导入的部分）")
    errors_file_available: bool = Field(False, description="错误标注文件（errors.xlsx）已生成可下载")
    errors_file_pending: bool = Field(False, description="错误标注文件正在生成（生成后 errors_file_available 为 true）")
    result_expires_at: datetime | None = None
    created_at: datetime
    finished_at: datetime | None = None


class JobList(BaseModel):
    items: list[JobOut]
    total: int
    page: int
    page_size: int


class ErrorList(BaseModel):
    items: list[ErrorOut]
    total: int
    page: int
    page_size: int


@functools.cache
def _template_bytes() -> bytes:
    return build_template()


def _file_response(data: bytes, filename: str, ascii_name: str) -> web.Response:
    quoted = urllib.parse.quote(filename)
    return web.Response(
        body=data,
        content_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}",
            "Cache-Control": "no-store",
        },
    )


@api.get("/template", roles=["provider"], raw_response=XLSX, tags=["import"])
async def download_template(request: web.Request) -> web.Response:
    """下载批量导入模板（.xlsx）"""
    tenant_of(request)
    data = await asyncio.to_thread(_template_bytes)
    return _file_response(data, "ICP备案批量导入模板.xlsx", "icp-import-template.xlsx")


async def _read_upload(request: web.Request) -> tuple[str, bytes]:
    if not request.content_type.startswith("multipart/"):
        raise Problem(415, "请以 multipart/form-data 上传文件（字段名 file）")
    limit = import_settings().max_bytes
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader) or part.name != "file":
                continue
            buf = io.BytesIO()
            while True:
                block = await part.read_chunk(256 * 1024)
                if not block:
                    break
                buf.write(block)
                if buf.tell() > limit:
                    raise Problem(413, f"文件过大（超过 {limit // (1024 * 1024)} MB），请拆分后分批导入")
            filename = urllib.parse.unquote(part.filename or "upload.xlsx")
            if reason := text_problem(filename, single_line=True):
                raise invalid([{"field": "file", "message": f"文件名{reason}"}])
            return filename, buf.getvalue()
    except (ValueError, AssertionError, RuntimeError) as e:
        raise Problem(400, f"上传内容格式错误：{e}") from None
    raise Problem(400, "没有收到文件：请在字段 file 中上传填写好的导入模板（.xlsx）")


@api.post("/jobs", roles=["provider"], response=JobOut, status=202, tags=["import"], upload="file")
async def create_job(request: web.Request) -> JobOut:
    """上传 Excel 批量导入（立即返回任务编号，后台校验与导入）"""
    provider_id = tenant_of(request)
    filename, data = await _read_upload(request)
    return await handlers.accept_upload(
        ctx(request), provider_id=provider_id, actor=principal_of(request).user_id, filename=filename, data=data
    )


@api.get("/jobs", roles=["provider"], query=Paging, response=JobList, tags=["import"])
async def list_jobs(request: web.Request, query: Paging) -> JobList:
    """本接入服务提供者的导入任务（分页，最新在前）"""
    items, total = await handlers.list_jobs(ctx(request), tenant_of(request), query.page, query.page_size)
    return JobList(items=items, total=total, page=query.page, page_size=query.page_size)


@api.get("/jobs/{job_id}", roles=["provider"], response=JobOut, tags=["import"])
async def get_job(request: web.Request) -> JobOut:
    """导入任务进度与结果"""
    return await handlers.get_job(ctx(request), tenant_of(request), request.match_info["job_id"])


@api.get("/jobs/{job_id}/errors", roles=["provider"], query=Paging, response=ErrorList, tags=["import"])
async def list_errors(request: web.Request, query: Paging) -> ErrorList:
    """导入任务的全部错误（分页；工作表、行、列、值、原因）"""
    rows, total = await handlers.list_errors(
        ctx(request), tenant_of(request), request.match_info["job_id"], query.page, query.page_size
    )
    return ErrorList(items=[ErrorOut(**error_out(r)) for r in rows], total=total, page=query.page,
                     page_size=query.page_size)


@api.get("/jobs/{job_id}/errors.xlsx", roles=["provider"], raw_response=XLSX, tags=["import"],
         errors=[409, 410, 413])
async def download_errors(request: web.Request) -> web.Response:
    """下载标出错误单元格的上传文件副本（文件被拒绝后生成一次，errors_file_available 为 true 时可下载）"""
    data, name = await handlers.errors_workbook(ctx(request), tenant_of(request), request.match_info["job_id"])
    return _file_response(data, f"错误标注-{name}", "import-errors.xlsx")


@api.get("/jobs/{job_id}/result", roles=["provider"], raw_response=XLSX, tags=["import"], errors=[409, 410])
async def download_result(request: web.Request) -> web.Response:
    """下载导入结果：每个已导入主体的主办者用户名和初始密码（导入完成，或失败前已导入的部分；仅上传者所属接入商，限期有效）"""
    data = await handlers.result_workbook(ctx(request), tenant_of(request), request.match_info["job_id"])
    return _file_response(data, "批量导入结果-主办者账号.xlsx", "import-result.xlsx")

