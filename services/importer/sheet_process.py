"""One sheet read in a process of its own, beside the reading worker: the worker reads the websites sheet
in its reader thread while this process reads the subjects sheet on the other core (two threads of one
process share the interpreter lock, so they would take turns on one core). The rows come back staged-ready.

    python -m services.importer.sheet_process     (started by `reading.read_and_stage`, never by hand)

stdin: one JSON line {"sheet", "columns", "max_rows"}, then the file's bytes to the end. stdout: frames of a
4-byte big-endian length and orjson: lists of rows [row_no, key, cells as JSON text, [error column keys],
[[column key, value, reason], …]], then one last frame {"end": n} | {"too_many": sheet} | {"crash": text}.
The file holds full ID numbers: it passes through the pipe only, never a file or a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import struct
import sys
import threading
from collections.abc import AsyncIterator, Iterator

import orjson

from services.importer.columns import column_index
from services.importer.reader import sheet_batches

_AHEAD = 8
_LEN = struct.Struct(">I")


def frames(data: bytes, sheet: str, columns: list[str], max_rows: int) -> Iterator[list | dict]:
    """The frames' objects for a sheet of the file (what `main` writes)."""
    idx = column_index(sheet)
    count = 0
    for kind, batch in sheet_batches(data, (sheet,), {sheet: columns}, {sheet: max_rows}):
        if kind != sheet:
            yield {kind: count if kind == "end" else batch}
            return
        count += len(batch)
        yield [r.staged(idx) for r in batch]


def main() -> None:
    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    header = orjson.loads(stdin.readline())
    data = stdin.read()
    # a thread writes the frames: the reading goes on while the worker, busy with its own sheet, is slow to
    # take them (a frame is ~650 KB, the pipe holds 64 KB), up to `_AHEAD` frames (bounded memory)
    ahead: queue.Queue = queue.Queue(maxsize=_AHEAD)

    def write() -> None:
        while (body := ahead.get()) is not None:
            out.write(_LEN.pack(len(body)))
            out.write(body)
        out.flush()

    writer = threading.Thread(target=write, name="frames")
    writer.start()
    try:
        for frame in frames(data, header["sheet"], header["columns"], header["max_rows"]):
            ahead.put(orjson.dumps(frame))
    finally:
        ahead.put(None)
        writer.join()


# ---------------------------------------------------------------- the reading worker's side


class SheetReader:
    """A running sheet process: `start` it with the file, then take its frames (`frames`); `close` ends it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, data: bytes, sheet: str, columns: list[str], max_rows: int) -> SheetReader:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.importer.sheet_process",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        reader = cls(proc)
        try:
            assert proc.stdin is not None
            proc.stdin.write(orjson.dumps({"sheet": sheet, "columns": columns, "max_rows": max_rows}) + b"\n")
            proc.stdin.write(data)
            await proc.stdin.drain()
            proc.stdin.close()
        except BaseException:
            await reader.close()
            raise
        return reader

    async def frames(self) -> AsyncIterator[list | dict]:
        """The frames, up to the last one (a dict); a process that ends without it raises (a worker's
        failure, not the file's: the job is tried again)."""
        assert self.proc.stdout is not None
        while True:
            try:
                (n,) = _LEN.unpack(await self.proc.stdout.readexactly(_LEN.size))
                frame = orjson.loads(await self.proc.stdout.readexactly(n))
            except asyncio.IncompleteReadError:
                code = await self.proc.wait()
                raise RuntimeError(f"the sheet process ended without a result (exit code {code})") from None
            yield frame
            if isinstance(frame, dict):
                return

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self.proc.wait()


if __name__ == "__main__":
    main()
