"""Row errors of a job: where (sheet, Excel row, column header), the value, and why (Chinese)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg

from services.importer.columns import SHEETS


@dataclass
class RowError:
    sheet: str
    row_no: int | None
    key: str | None  # template column key
    value: str
    message: str

    def record(self, job_id: uuid.UUID, seq: int, file_columns: dict[str, list[str]]) -> tuple:
        col = None
        label = None
        if self.key:
            cols = file_columns.get(self.sheet) or []
            if self.key in cols:
                col = cols.index(self.key) + 1
            label = next((c.label for c in SHEETS.get(self.sheet, ()) if c.key == self.key), self.key)
        return (job_id, seq, self.sheet, self.row_no, col, label, self.key, self.value[:500], self.message[:1000])


COLUMNS = ("job_id", "seq", "sheet", "row_no", "col", "column_name", "field", "value", "message")


@dataclass
class ErrorSink:
    """Collects errors and writes them in batches; keeps at most `limit` rows, counts them all."""

    job_id: uuid.UUID
    file_columns: dict[str, list[str]]
    limit: int
    count: int = 0
    _pending: list[tuple] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.count += 1
        if self.count <= self.limit:
            self._pending.append(error.record(self.job_id, self.count, self.file_columns))

    async def flush(self, conn: asyncpg.Connection) -> None:
        # taken first: errors added while the COPY runs (another task of the job) wait for the next flush
        pending, self._pending = self._pending, []
        if pending:
            await conn.copy_records_to_table("import_errors", records=pending, columns=COLUMNS)


def error_out(r) -> dict:
    return {
        "sheet": r["sheet"],
        "row": r["row_no"],
        "column": r["col"],
        "column_name": r["column_name"],
        "field": r["field"],
        "value": r["value"],
        "message": r["message"],
    }
