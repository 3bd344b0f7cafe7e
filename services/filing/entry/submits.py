"""Group commit for `POST /filings`: concurrent submits share one transaction.

Under load most of a submit's cost is PostgreSQL's per-statement and per-commit work (one
statement writing ~10 tables, one WAL flush), not the rows themselves. So the submits that
arrive while earlier ones are being written wait for a writer and are written together with
the set-based statement of the import path (`bulk.create_first_filings`: the rules and the
inserts of the whole batch in one statement — one round trip, one commit, one NOTIFY, no
BEGIN/COMMIT; each round trip waits for the event loop, which at a quarter of the floor's load
is several ms). A submit after a pause (none came within `ICP_SUBMIT_LINGER`, 10 ms, before it)
that finds a free writer is written at once, alone, with the single-filing statement. Under a
steady flow a free writer waits for more submits until the oldest pending one has waited the
linger (one writer at a time gathers; those arriving meanwhile are its batch), trading at most
that much latency per submit for fewer, larger writes: a write costs ~2 ms of CPU (PostgreSQL's
and this process's) whatever its size, and at a quarter of the floor's load the writers are mostly
free, so without it nearly every submit was a write of its own (bench/README.md, "Submit").
While all writers are busy, batches form anyway and their size follows the load.

Every answer stays what the submit would get alone:
- the data is validated in the request (`validate_filing`, 422) before it is queued;
- a batch (the submits of one provider and operator in it) is all or nothing. When it is refused (a database rule, a conflict between two items
  of the batch, a username taken, a race lost on a unique index), the refused items are taken
  out, the rest is written again, and each refused item is then submitted alone with the
  single-filing path (`filing_store.create_first_filing`) — which gives exactly its own 409/422
  against what is committed by then (or succeeds when its only conflict was a batch-mate that
  was itself refused);
- audit entries and the event carry each request's own correlation id; the sponsor password
  is generated per item and returned once, as before;
- any other failure (database down) fails the items of that batch as it would fail them alone.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from dataclasses import dataclass, field

import asyncpg
from prometheus_client import Histogram

from services.filing.entry import bulk
from services.filing.entry import model as filing_model
from services.filing.entry import store as filing_store
from services.filing.sponsors import credentials as sponsors
from shared import logs
from shared.filing_data import FilingData
from shared.outbox import Outbox

WRITES = Histogram("icp_submit_batch_size", "Submits per group-commit write of POST /filings", ["service"],
                   buckets=(1, 2, 4, 8, 16, 32))


@dataclass
class _Pending:
    provider_id: str
    actor: str
    data: FilingData  # validated, canonical
    context: contextvars.Context  # the request's (correlation id for audit and event)
    future: asyncio.Future = field(repr=False)
    queued_at: float = 0.0  # loop time
    due: float = 0.0  # loop time by which a writer takes it (queued_at, or + the linger under a steady flow)


class SubmitBatcher:
    """One per process. `writers` batches are written at a time (each holds one pool connection);
    a batch takes at most `max_batch` submits."""

    def __init__(self, pool: asyncpg.Pool, outbox: Outbox, *, writers: int = 3, max_batch: int = 32,
                 linger: float = 0.0) -> None:
        self.pool = pool
        self.linger = linger  # ICP_SUBMIT_LINGER: a free writer waits this long for more submits
        self._gathering = False  # a writer is lingering: what is pending meanwhile is its batch, not another's
        self.outbox = outbox
        self.writers = max(1, writers)
        self.max_batch = max(1, max_batch)
        self._pending: list[_Pending] = []
        self._last_arrival = float("-inf")
        self._active = 0
        self._tasks: set[asyncio.Task] = set()
        self.batches = 0  # for tests and the bench: batches written, and submits in them
        self.batched = 0

    async def submit(self, provider_id: str, actor: str, data: FilingData) -> filing_model.CreatedFiling:
        """Write a validated first filing (`filing_model.validate_filing` done, canonical form)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        # the linger only under a steady flow (the previous submit came within it): then more are coming to
        # share the write; a submit after a pause would wait for nothing
        due = now + self.linger if now - self._last_arrival < self.linger else now
        self._last_arrival = now
        item = _Pending(provider_id, actor, data, contextvars.copy_context(), loop.create_future(), now, due)
        self._pending.append(item)
        if self._active < self.writers and not self._gathering:  # a gathering writer takes it
            self._active += 1
            # a task of its own: the writer must finish its batch even if this request is cancelled
            # (held in `_tasks`: the loop keeps only a weak reference to a task)
            task = loop.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await item.future

    async def _drain(self) -> None:
        try:
            while self._pending:
                # gather until the oldest pending submit is due (it has waited `linger`): none waits longer
                wait = self._pending[0].due - asyncio.get_running_loop().time()
                if wait > 0 and len(self._pending) < self.max_batch:
                    if self._gathering:  # another writer is gathering what is pending: its batch
                        return
                    self._gathering = True
                    try:
                        await asyncio.sleep(wait)
                    finally:
                        self._gathering = False
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                WRITES.labels("filing").observe(len(batch))
                try:
                    await self._write(batch)
                except Exception as e:  # not a refusal: the items fail as they would alone
                    for item in batch:
                        _settle(item, exc=e)
        finally:
            self._active -= 1

    async def _write(self, batch: list[_Pending]) -> None:
        # one statement per provider and operator (the set-based statement takes them as parameters),
        # each atomic by itself: a group refused does not undo another one's filings
        groups: dict[tuple[str, str], list[_Pending]] = {}
        for item in batch:
            groups.setdefault((item.provider_id, item.actor), []).append(item)
        for items in groups.values():
            await self._write_group(items)

    async def _write_group(self, batch: list[_Pending]) -> None:
        if len(batch) == 1:
            await self._alone(batch[0])
            return
        todo = batch
        refused: list[_Pending] = []
        while len(todo) > 1:
            try:
                created = await self._together(todo)
            except bulk.BulkRefused as e:
                out = {key for key, _error in e.conflicts}
                refused += [todo[i] for i in sorted(out)]
                todo = [item for i, item in enumerate(todo) if i not in out]
                continue
            self.batches += 1
            self.batched += len(todo)
            for item, (made, password) in zip(todo, created, strict=True):
                _settle(item, result=dataclasses.replace(made, sponsor_password=password))
            todo = []
        for item in todo + refused:  # one left, or refused in a batch: alone, for its exact answer
            await self._alone(item)

    async def _together(self, items: list[_Pending]) -> list[tuple[filing_model.CreatedFiling, str]]:
        """Items of one provider and operator in one statement (the rules and every insert: no
        transaction, one round trip)."""
        creds = [sponsors.new_credentials() for _ in items]
        async with self.pool.acquire() as conn:
            created = await bulk.create_first_filings(
                conn,
                provider_id=items[0].provider_id,
                items=[(item.data, (username, pw_hash), i)
                       for i, (item, (username, _password, pw_hash)) in enumerate(zip(items, creds, strict=True))],
                actor=items[0].actor,
                import_job_id=None,
                outbox=self.outbox,
                source="entry",
                checked=True,
                canonical_form=True,  # validate_filing's output (`_Pending.data`)
                correlation_ids=[item.context.get(logs.correlation_id) for item in items],
            )
        return [(made, cred[1]) for made, cred in zip(created, creds, strict=True)]

    async def _alone(self, item: _Pending) -> None:
        # the request's correlation id (all of its context the write reads) goes into the audit entries
        # and the event; set here rather than in a task of the request's context: one pass of the event
        # loop less before the statement is sent
        token = logs.correlation_id.set(item.context.get(logs.correlation_id))
        try:
            async with self.pool.acquire() as conn:
                result = await filing_store.create_first_filing(
                    conn, provider_id=item.provider_id, data=item.data, actor=item.actor, source="entry",
                    outbox=self.outbox, savepoint=False, checked=True,
                )
        except filing_model.FilingError as e:
            _settle(item, exc=e)
        else:
            _settle(item, result=result)
        finally:
            logs.correlation_id.reset(token)


def _settle(item: _Pending, *, result=None, exc: BaseException | None = None) -> None:
    if item.future.done():  # the request went away (cancelled); what was written stays written
        return
    if exc is not None:
        item.future.set_exception(exc)
    else:
        item.future.set_result(result)
