"""Contract tests of the bus: outbox → transport → inbox consumer, on RabbitMQ and in-process.

A test-only service, `spine`, with its own schema and queues, so each mechanism can be
broken on purpose: handlers that fail, duplicates sent by hand, two relays, a broker
that drops the connection. Each test fails if the mechanism it covers is removed.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from types import SimpleNamespace

import aio_pika
import asyncpg
import orjson
import pytest

from shared import db
from shared.bus import Consumer, HandlerTable, Outgoing, PermanentError
from shared.contracts import Contract, Envelope, EventRun, message
from shared.ids import uuid7
from shared.outbox import Outbox, OutboxRelay
from shared.topology import build_topology
from shared.transports.amqp import AmqpTransport
from shared.transports.memory import MemoryBroker, MemoryTransport
from tests.conftest import close_vhost_connections

SERVICE = "spine"
RETRIES = [0.2, 0.4]


@message("spine.ping.sent", consumers=(SERVICE,))
class Ping(Contract):
    """Test-only message."""

    n: int
    mode: str = "ok"  # ok | flaky | broken | slow


@message("spine.chunk.sent", consumers=(SERVICE,), solo=True)
class Chunk(Contract):
    """Test-only heavy command: one per transaction."""

    n: int


@message("spine.pings.sent", consumers=(SERVICE,), run_of="spine.ping.sent")
class PingRun(EventRun):
    """Test-only run of pings in one message."""

    events: list[Ping]


def ping_run(pings: list[Ping]) -> PingRun:
    return PingRun(events=pings, event_ids=[uuid7() for _ in pings])


def record_runs(h: Harness) -> list[int]:
    """A run handler for pings (`on_many`) writing their effects; returns the sizes of the runs it got."""
    sizes: list[int] = []

    async def many(items) -> None:
        sizes.append(len(items))
        for p, ctx in items:
            await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES ($1, $2)", p.n, ctx.envelope.id)

    h.handlers.on_many(Ping)(many)
    return sizes


MIGRATION = Path(__file__).parent / "spine_migrations"


def topology():
    return build_topology((SERVICE,), delivery_limit=5, retry_delays=RETRIES)


class Harness:
    """One spine service: pool, outbox, relay, consumer on a chosen transport."""

    def __init__(self, dsn: str, schema: str, transport, make_transport) -> None:
        self.dsn = dsn
        self.schema = schema
        self.transport = transport
        self.make_transport = make_transport
        self.flaky_failures: dict[int, int] = {}
        self.handlers = HandlerTable()
        self.handlers.on(Ping)(self.handle)
        self.outbox = Outbox(SERVICE, schema)
        self.relays: list[OutboxRelay] = []

    async def setup(self) -> None:
        await db.migrate(self.dsn, self.schema, MIGRATION)
        self.pool = await db.create_pool(self.dsn, self.schema, min_size=1, max_size=6)
        await self.transport.start(topology())
        self.consumer = Consumer(
            SERVICE, self.pool, self.transport, self.handlers, self.outbox,
            prefetch=100, batch_size=50, retry_delays=RETRIES,
        )

    async def handle(self, p: Ping, ctx) -> None:
        await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES ($1, $2)", p.n, ctx.envelope.id)
        if p.mode == "flaky":
            seen = self.flaky_failures.get(p.n, 0)
            if seen < 2:
                self.flaky_failures[p.n] = seen + 1
                raise ConnectionError("transient: dependency unavailable")
        elif p.mode == "broken":
            raise RuntimeError("this handler always fails")
        elif p.mode == "permanent":
            raise PermanentError("bad data")
        elif p.mode == "slow":
            await asyncio.sleep(0.3)

    async def write(self, pings: list[Ping]) -> None:
        async with db.transaction(self.pool) as conn:
            for p in pings:
                await self.outbox.add(conn, p)

    def relay(self, transport=None, runs: bool = True) -> OutboxRelay:
        r = OutboxRelay(self.pool, self.dsn, self.schema, transport or self.transport, batch=100, poll_interval=0.3,
                        runs=runs)
        self.relays.append(r)
        r.start()
        return r

    async def effects(self) -> list[int]:
        return [r["n"] for r in await self.pool.fetch("SELECT n FROM effects ORDER BY n")]

    async def wait_for(self, predicate, limit: float = 20.0) -> None:
        deadline = asyncio.get_running_loop().time() + limit
        while True:
            if await predicate():
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.consumer.stop(5)
        for r in self.relays:
            await r.stop(5)
        await self.transport.close()
        await self.pool.close()


async def _harness(kind: str, pg_dsn: str, amqp_url: str) -> Harness:
    schema = f"spine_{uuid.uuid4().hex[:8]}"
    if kind == "amqp":
        # fresh queues per test: remove whatever an earlier test left
        conn = await aio_pika.connect(amqp_url)
        ch = await conn.channel()
        for q in topology().queues:
            await ch.queue_delete(q.name)
        await conn.close()

        def make():
            return AmqpTransport(amqp_url)
    else:
        broker = MemoryBroker()

        def make():
            return MemoryTransport(broker)

    h = Harness(pg_dsn, schema, make(), make)
    h.kind = kind
    await h.setup()
    return h


@pytest.fixture(params=["amqp", "memory"])
async def spine(request, pg_dsn, amqp_url):
    h = await _harness(request.param, pg_dsn, amqp_url)
    yield h
    await h.close()


@pytest.fixture
async def spine_amqp(pg_dsn, amqp_url):
    h = await _harness("amqp", pg_dsn, amqp_url)
    yield h
    await h.close()


async def dead_count(h: Harness) -> int:
    return await h.transport.queue_depth("spine.dead")


async def dead_letters(h: Harness) -> list[dict]:
    """The dead letters (taken off the queue): message id and the envelope each carries."""
    if h.kind == "memory":
        q = h.transport.broker.queues["spine.dead"]
        items = []
        while not q.items.empty():
            items.append(q.items.get_nowait())
        return [{"message_id": mid, "envelope": orjson.loads(body)} for body, _h, mid, _c in items]
    conn = await aio_pika.connect(h.transport.url)
    try:
        ch = await conn.channel()
        q = await ch.declare_queue("spine.dead", passive=True)
        out = []
        while (m := await q.get(no_ack=True, fail=False)) is not None:
            out.append({"message_id": m.message_id, "envelope": orjson.loads(m.body)})
        return out
    finally:
        await conn.close()


async def test_event_written_with_state_crosses_and_is_handled(spine: Harness):
    await spine.write([Ping(n=i) for i in range(50)])
    await spine.consumer.start()
    spine.relay()
    await spine.wait_for(lambda: _eq(spine.effects(), list(range(50))))
    assert await spine.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    assert await spine.pool.fetchval("SELECT count(*) FROM inbox") == 50


async def test_rolled_back_transaction_publishes_nothing(spine: Harness):
    with pytest.raises(RuntimeError):
        async with db.transaction(spine.pool) as conn:
            await spine.outbox.add(conn, Ping(n=1))
            raise RuntimeError("the state change failed")
    await spine.write([Ping(n=2)])
    await spine.consumer.start()
    spine.relay()
    await spine.wait_for(lambda: _eq(spine.effects(), [2]))
    await asyncio.sleep(0.3)
    assert await spine.effects() == [2]


async def test_message_delivered_twice_has_one_effect(spine: Harness):
    await spine.write([Ping(n=7)])
    row = await spine.pool.fetchrow("SELECT * FROM outbox")
    msg = Outgoing(str(row["id"]), row["exchange"], row["routing_key"], bytes(row["body"]), row["headers"])
    # the same message three times, as a broker redelivery or a relay crash after confirm would do
    assert await spine.transport.publish_many([msg, msg, msg]) == [None, None, None]
    await spine.consumer.start()
    await spine.wait_for(lambda: _ge(spine.consumer.stats.duplicates, 2))
    assert await spine.effects() == [7]
    assert spine.consumer.stats.handled == 1
    assert await dead_count(spine) == 0


@pytest.mark.parametrize("path", ["handler fails", "batch handler fails"])
async def test_redelivery_in_a_batch_redone_one_by_one_has_one_effect(spine: Harness, path: str):
    """The one-by-one path (after a handler, or the batch handler, fails in a delivery batch) checks the
    inbox itself: an already-handled message redelivered in that batch is skipped, not handled again."""
    if path == "batch handler fails":
        async def many(items) -> None:
            raise RuntimeError("the batch handler fails: the delivery batch is redone message by message")

        spine.handlers.on_many(Ping)(many)
    await spine.write([Ping(n=7)])
    row = await spine.pool.fetchrow("SELECT * FROM outbox")
    done = Outgoing(str(row["id"]), row["exchange"], row["routing_key"], bytes(row["body"]), row["headers"])
    await spine.consumer.start()
    assert await spine.transport.publish_many([done]) == [None]
    await spine.wait_for(lambda: _eq(spine.effects(), [7]))
    await spine.consumer.stop(5)

    # one delivery batch: a message whose handler fails, the handled one again, a new one
    await spine.write([Ping(n=8, mode="permanent"), Ping(n=9)])
    rows = await spine.pool.fetch("SELECT * FROM outbox WHERE id <> $1 ORDER BY seq", row["id"])
    fresh = [Outgoing(str(r["id"]), r["exchange"], r["routing_key"], bytes(r["body"]), r["headers"]) for r in rows]
    assert await spine.transport.publish_many([fresh[0], done, fresh[1]]) == [None, None, None]
    spine.consumer.linger = 0.5  # the three arrive in one delivery batch
    batches = spine.consumer.stats.batches
    await spine.consumer.start()
    await spine.wait_for(lambda: _ge_async(dead_count(spine), 1))
    await spine.wait_for(lambda: _eq(spine.effects(), [7, 9]))
    await asyncio.sleep(0.3)
    assert spine.consumer.stats.batches == batches + 1  # really one batch, redone one by one
    assert await spine.effects() == [7, 9]  # the redelivered 7 had no second effect
    assert spine.consumer.stats.duplicates >= 1


async def test_transient_failure_is_retried_then_succeeds(spine: Harness):
    await spine.write([Ping(n=1, mode="flaky"), Ping(n=2)])
    await spine.consumer.start()
    spine.relay()
    await spine.wait_for(lambda: _eq(spine.effects(), [1, 2]))
    assert spine.flaky_failures == {1: 2}
    assert spine.consumer.stats.retried == 2
    assert await dead_count(spine) == 0


async def test_unreadable_bodies_go_to_the_dead_letters_and_the_rest_is_handled(spine: Harness):
    """Bodies that are not an envelope (not JSON, not an object, no type) are dead-lettered at once, each
    on its own; a readable message delivered with them is handled."""
    await spine.write([Ping(n=5)])
    row = await spine.pool.fetchrow("SELECT * FROM outbox")
    good = Outgoing(str(row["id"]), row["exchange"], row["routing_key"], bytes(row["body"]), row["headers"])
    bad = [Outgoing(str(uuid.uuid4()), row["exchange"], row["routing_key"], body, {})
           for body in (b"not json", b"[1, 2]", b'{"id": "x"}', b'{"payload": NaN}')]
    assert await spine.transport.publish_many([*bad, good]) == [None] * 5
    await spine.consumer.start()
    await spine.wait_for(lambda: _ge_async(dead_count(spine), 4))
    await spine.wait_for(lambda: _eq(spine.effects(), [5]))
    assert spine.consumer.stats.dead == 4 and spine.consumer.stats.retried == 0


async def test_always_failing_message_ends_in_dead_queue_with_nothing_written(spine: Harness):
    await spine.write([Ping(n=1, mode="broken"), Ping(n=2, mode="permanent"), Ping(n=3)])
    await spine.consumer.start()
    spine.relay()
    await spine.wait_for(lambda: _ge_async(dead_count(spine), 2), limit=20)
    await spine.wait_for(lambda: _eq(spine.effects(), [3]))
    # the broken handler's own insert was rolled back on every attempt
    assert await spine.effects() == [3]
    assert spine.consumer.stats.retried == len(RETRIES)  # only the transient-looking one was retried
    assert await spine.pool.fetchval("SELECT count(*) FROM inbox") == 1
    assert await dead_count(spine) == 2


async def test_two_relays_publish_each_message_once(spine: Harness):
    n = 3000
    await spine.write([Ping(n=i) for i in range(n)])
    second = spine.make_transport()
    await second.start(topology())
    pool2 = await db.create_pool(spine.dsn, spine.schema, min_size=1, max_size=2)
    r1 = spine.relay()
    r2 = OutboxRelay(pool2, spine.dsn, spine.schema, second, batch=100, poll_interval=0.3)
    r2.start()
    await spine.wait_for(lambda: _eq(spine.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0))
    await r2.stop(5)
    await pool2.close()
    await second.close()
    assert r1.published > 0 and r2.published > 0, "both relays took part"
    assert r1.published + r2.published == n
    await spine.consumer.start()  # the relays packed the pings into runs: count the events that arrive
    await spine.wait_for(lambda: _ge(spine.consumer.stats.handled, n), limit=60)
    await asyncio.sleep(0.3)
    # no event published twice (a second copy would be a duplicate here)
    assert spine.consumer.stats.handled == n and spine.consumer.stats.duplicates == 0


async def test_relay_lingers_after_a_wake_up_so_that_commits_share_a_round(spine: Harness):
    """Events committed one by one within the linger go out in one relay round (hence arrive as one
    delivery batch), each exactly once; without the linger each commit gets a round of its own."""
    await spine.consumer.start()
    r = OutboxRelay(spine.pool, spine.dsn, spine.schema, spine.transport, batch=100, poll_interval=5, linger=0.4)
    spine.relays.append(r)
    r.start()
    await asyncio.sleep(0.3)  # subscribed, idle
    for i in range(5):
        await spine.write([Ping(n=i)])  # a transaction (a commit, a NOTIFY) each
        await asyncio.sleep(0.02)
    await spine.wait_for(lambda: _eq(spine.effects(), list(range(5))))
    assert r.published == 5
    assert r.rounds == 1, f"{r.rounds} relay rounds for 5 commits within the linger"


async def test_relay_lingers_longer_under_a_steady_flow_only(spine: Harness):
    """With `linger_busy`, a wake-up soon after a round that published waits that long (the commits of a
    steady flow share fewer, larger rounds); a wake-up after a quiet spell waits only `linger`."""
    r = OutboxRelay(spine.pool, spine.dsn, spine.schema, spine.transport, batch=100, poll_interval=5,
                    linger=0.05, linger_busy=0.8)
    spine.relays.append(r)
    r.start()
    await asyncio.sleep(0.3)  # subscribed, idle
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await spine.write([Ping(n=0)])  # after a quiet spell: the short linger
    await spine.wait_for(lambda: _ge(r.published, 1))
    assert loop.time() - t0 < 0.5 and r.rounds == 1
    for i in range(1, 6):  # a steady flow: every commit within the long linger of the round before
        await spine.write([Ping(n=i)])
        await asyncio.sleep(0.08)
    await spine.wait_for(lambda: _ge(r.published, 6))
    assert r.rounds == 2, f"{r.rounds} rounds: the steady flow's five commits did not share one"


async def test_graceful_stop_finishes_in_flight_work_and_loses_nothing(spine: Harness):
    await spine.write([Ping(n=i, mode="slow") for i in range(20)])
    spine.relay(runs=False)  # a message per ping (in runs, the first run would be all of them)
    spine.consumer.batch_size = 1
    await spine.consumer.start()
    await spine.wait_for(lambda: _ge_async(_count(spine), 1))
    await spine.consumer.stop(grace=10)
    done = await spine.effects()
    assert len(done) < 20
    await asyncio.sleep(0.5)
    assert await spine.effects() == done  # nothing half-done keeps running after stop
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), list(range(20))), limit=30)


async def test_unroutable_message_is_an_error_and_stays_in_outbox(spine: Harness):
    async with db.transaction(spine.pool) as conn:
        await conn.execute(
            "INSERT INTO outbox (id, exchange, routing_key, body) VALUES ($1, 'icp.events', 'nobody.listens.here', '{}')",
            uuid.uuid4(),
        )
    relay = spine.relay()
    await spine.wait_for(lambda: _ge(relay.failed, 1))
    row = await spine.pool.fetchrow("SELECT published_at, attempts, last_error FROM outbox")
    assert row["published_at"] is None and row["attempts"] >= 1 and row["last_error"]


async def test_batch_handler_takes_runs_and_a_failure_is_settled_per_message(spine: Harness):
    """A batch handler gets runs of one type; when it raises, the delivery batch is redone message by
    message with the single handler: the poison message is dead-lettered alone, every other message
    has exactly one effect."""
    sizes: list[int] = []

    async def many(items) -> None:
        sizes.append(len(items))
        for p, ctx in items:
            if p.mode != "ok":
                raise RuntimeError("the batch handler takes plain pings only")
            await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES ($1, $2)", p.n, ctx.envelope.id)

    spine.handlers.on_many(Ping)(many)
    await spine.write([Ping(n=i) for i in range(30)] + [Ping(n=999, mode="permanent")]
                      + [Ping(n=i) for i in range(30, 60)])
    spine.relay()
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), list(range(60))), limit=30)
    await spine.wait_for(lambda: _ge_async(dead_count(spine), 1))
    assert max(sizes) > 1, sizes  # runs were handed over together
    assert await spine.pool.fetchval("SELECT count(*) FROM effects") == 60
    assert spine.consumer.stats.handled == 60 and await dead_count(spine) == 1


async def test_a_run_of_events_is_handled_as_its_events(spine: Harness):
    """An EventRun is one message standing for its events: each is handled once under its own id (the run
    sent twice changes nothing), a run handler gets them together, and plain messages beside it go on."""
    sizes = record_runs(spine)
    run = ping_run([Ping(n=i) for i in range(40)])
    await spine.write([run, Ping(n=100), run])
    spine.relay()
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), [*range(40), 100]), limit=30)
    await asyncio.sleep(0.5)  # the second copy of the run, if it were handled again, would show by now
    assert await spine.effects() == [*range(40), 100]
    ids = {r["message_id"] for r in await spine.pool.fetch("SELECT message_id FROM effects WHERE n < 40")}
    assert ids == set(run.event_ids)  # each event under the id it has in the run
    assert spine.consumer.stats.handled == 41 and spine.consumer.stats.duplicates >= 40
    assert max(sizes) >= 40, sizes  # the run's events reached the run handler together


async def test_runs_delivered_together_get_a_transaction_each(spine: Harness):
    """Runs can be hundreds of events: two whose events together exceed the consumer's batch size (50 here)
    are not merged into one transaction (the second goes back to the queue), so a backlog of runs never
    makes one huge transaction."""
    sizes = record_runs(spine)
    await spine.write([ping_run([Ping(n=i) for i in range(k, k + 30)]) for k in range(0, 120, 30)])
    spine.relay()
    await asyncio.sleep(1.0)  # the four runs wait in the queue: the consumer's first batch takes them all
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), list(range(120))), limit=30)
    assert sizes and max(sizes) == 30, sizes


async def test_small_runs_delivered_together_share_a_transaction(spine: Harness):
    """Runs whose events together stay within the batch size are handled in one delivery batch (a relay
    round's run each, under a backlog): the run handler gets them at once."""
    sizes = record_runs(spine)
    await spine.write([ping_run([Ping(n=i) for i in range(k, k + 10)]) for k in range(0, 40, 10)])
    spine.relay()
    await asyncio.sleep(1.0)  # the four runs wait in the queue
    spine.consumer.linger = 0.3  # and reach the first delivery batch (of the one worker)
    spine.consumer.concurrency = 1
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), list(range(40))), limit=30)
    assert sizes == [40], sizes


async def test_relay_packs_events_of_separate_transactions_into_a_run(spine: Harness):
    """Events of a type that has a run, committed one by one within a relay round, go out as one message;
    the consumer handles each under its own id with its own envelope (time, tenant, correlation, cause)."""
    seen: list[tuple] = []

    async def many(items) -> None:
        for p, ctx in items:
            e = ctx.envelope
            seen.append((p.n, e.id, e.occurred_at, e.correlation_id, e.causation_id, e.provider_id))
            await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES ($1, $2)", p.n, e.id)

    spine.handlers.on_many(Ping)(many)
    r = OutboxRelay(spine.pool, spine.dsn, spine.schema, spine.transport, batch=100, poll_interval=5, linger=0.4)
    spine.relays.append(r)
    r.start()
    await asyncio.sleep(0.3)  # subscribed, idle
    written = []
    for i in range(5):  # a transaction each, each request with its own tenant and correlation
        async with db.transaction(spine.pool) as conn:
            written.append(await spine.outbox.add(conn, Ping(n=i), provider_id=f"p{i % 2}",
                                                  correlation_id=f"req-{i}", causation_id=f"cause-{i}"))
    await spine.wait_for(lambda: _ge(r.published, 5))
    assert r.rounds == 1
    await spine.wait_for(lambda: _eq_async(spine.transport.queue_depth("spine.inbox"), 1))  # one message
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), list(range(5))))
    assert sorted(seen) == [(i, e.id, e.occurred_at, e.correlation_id, e.causation_id, e.provider_id)
                            for i, e in enumerate(written)]


async def test_a_packed_run_settles_each_event_on_its_own(spine: Harness):
    """An event of a relay's run that fails goes on as a message of its own, as if it had come alone: a
    transient failure is retried (its neighbours are not handled again), a permanent one dead-letters
    that event only (its own envelope), even when both are in one run."""
    await spine.write([Ping(n=1), Ping(n=2, mode="permanent"), Ping(n=3, mode="flaky"), Ping(n=4)])
    [permanent] = [r["id"] for r in await spine.pool.fetch("SELECT id, body FROM outbox")
                   if orjson.loads(bytes(r["body"]))["payload"]["n"] == 2]
    spine.relay()
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), [1, 3, 4]), limit=30)
    await spine.wait_for(lambda: _ge_async(dead_count(spine), 1))
    await asyncio.sleep(0.5)
    assert await spine.effects() == [1, 3, 4] and await dead_count(spine) == 1
    assert spine.flaky_failures[3] == 2 and spine.consumer.stats.retried == 2
    [dead] = await dead_letters(spine)
    assert dead["message_id"] == str(permanent) and dead["envelope"]["id"] == str(permanent)
    assert dead["envelope"]["type"] == "spine.ping.sent"


async def test_a_run_with_a_failing_event_comes_back_and_each_event_has_one_effect(spine: Harness):
    """A run's events are settled each on its own: a transient failure sends that event to the retry
    delay, a permanent one to the dead letters, after the run's other events were handled. Every good
    event has exactly one effect."""
    await spine.write([ping_run([Ping(n=i) for i in range(10)] + [Ping(n=50, mode="flaky")]
                                + [Ping(n=i) for i in range(10, 20)]),
                       ping_run([Ping(n=60, mode="permanent")] + [Ping(n=i) for i in range(61, 65)])])
    spine.relay()
    await spine.consumer.start()
    want = [*range(20), 50, *range(61, 65)]
    await spine.wait_for(lambda: _eq(spine.effects(), want), limit=30)
    await spine.wait_for(lambda: _ge_async(dead_count(spine), 1))
    await asyncio.sleep(0.5)
    assert await spine.effects() == want and await dead_count(spine) == 1
    assert spine.flaky_failures[50] == 2


async def test_solo_messages_get_a_transaction_each(spine: Harness):
    """Messages of a `solo` type (import chunks) are never handled together in one delivery batch:
    each in its own transaction, every one exactly once, the light messages around them still batched."""

    async def chunk(p: Chunk, ctx) -> None:
        # the effect records the transaction it ran in (n = its id)
        await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES (txid_current(), $1)", ctx.envelope.id)
        await asyncio.sleep(0.02)

    spine.handlers.on(Chunk)(chunk)
    async with db.transaction(spine.pool) as conn:
        for i in range(12):
            await spine.outbox.add(conn, Chunk(n=i))
            await spine.outbox.add(conn, Ping(n=1000 + i))
    spine.relay()
    await spine.consumer.start()

    async def all_handled() -> bool:
        return await spine.pool.fetchval("SELECT count(*) FROM effects") == 24

    await spine.wait_for(all_handled, limit=30)
    chunk_ids = [r["id"] for r in await spine.pool.fetch(
        "SELECT id FROM outbox WHERE routing_key = 'spine.chunk.sent'")]
    txids = await spine.pool.fetch("SELECT n FROM effects WHERE message_id = ANY($1::uuid[])", chunk_ids)
    assert len(txids) == 12 and len({r["n"] for r in txids}) == 12  # twelve transactions
    assert spine.consumer.stats.handled == 24 and spine.consumer.stats.batches < 24, spine.consumer.stats


def handed_over(pings: list[Ping], handler) -> list:
    """Pings as the consumer hands a delivery batch to `_fast_path`: (delivery, envelope, payload, handler)."""
    out = []
    for p in pings:
        env = Envelope(type="spine.ping.sent", producer="test", payload=p.model_dump(mode="json"))
        out.append((SimpleNamespace(message_id=str(env.id)), env, p, handler))
    return out


async def test_a_batchs_locks_are_taken_before_its_handlers_so_two_batches_never_deadlock(spine: Harness):
    """Two delivery batches in two transactions, each handler locking its message's key and holding it a
    while: [1, 2] and [2, 1] deadlock when each lock is taken as its message comes (the server aborts one,
    which goes back for another try). With `HandlerTable.before`, every lock of a batch is taken first, in
    one order: the second batch waits for the first, and both commit."""
    async def locked(p: Ping, ctx) -> None:
        await ctx.conn.execute("SELECT pg_advisory_xact_lock(7, $1)", p.n)
        await asyncio.sleep(0.3)
        await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES ($1, $2)", p.n, ctx.envelope.id)

    async def lock_all(conn, payloads) -> None:
        await conn.execute("SELECT count(pg_advisory_xact_lock(7, k)) FROM unnest($1::int4[]) AS k",
                           sorted({p.n for p in payloads}))

    async def both() -> list[tuple[str, Exception | None]]:
        outcomes = await asyncio.gather(spine.consumer._fast_path(handed_over([Ping(n=1), Ping(n=2)], locked)),
                                        spine.consumer._fast_path(handed_over([Ping(n=2), Ping(n=1)], locked)))
        return [(outcome, err) for one in outcomes for _d, outcome, err in one]

    # the control: each lock as its message comes — the server finds the deadlock and aborts one batch
    control = await both()
    assert any(o == "retry" and isinstance(e, asyncpg.DeadlockDetectedError) for o, e in control), control
    survivors = await spine.effects()
    assert len(survivors) == 3  # the aborted message's effect rolled back, the three others redone
    spine.handlers.before(lock_all)
    found = await both()
    assert [o for o, _e in found] == ["ok"] * 4, found
    assert await spine.effects() == sorted(survivors + [1, 1, 2, 2])


async def test_before_runs_first_in_every_transaction_with_its_payloads(spine: Harness):
    """`HandlerTable.before` sees what each transaction handles, first: the whole batch, and after a
    failure the rest redone one by one (its own transaction), in the same transaction as the handlers."""
    calls: list[tuple[list[int], int]] = []

    async def record(conn, payloads) -> None:
        calls.append(([p.n for p in payloads], await conn.fetchval("SELECT txid_current()")))

    async def handle(p: Ping, ctx) -> None:
        if p.mode == "permanent":
            raise PermanentError("bad data")
        await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES (txid_current(), $1)", ctx.envelope.id)

    spine.handlers.before(record)
    outcomes = await spine.consumer._fast_path(handed_over([Ping(n=1), Ping(n=2, mode="permanent"), Ping(n=3)], handle))
    assert [o for _d, o, _e in outcomes] == ["dead", "ok", "ok"]
    assert [ns for ns, _tx in calls] == [[1, 2, 3], [1, 3]]
    assert {r["n"] for r in await spine.pool.fetch("SELECT n FROM effects")} == {calls[1][1]}  # the redo's


async def test_one_write_batch_answers_each_message_on_its_own(spine_amqp: Harness):
    """The relay's batch goes to RabbitMQ in one write, but each message keeps its own confirm: an
    unroutable one in the middle fails alone, its neighbours are delivered."""
    from shared.transports.amqp import supports_batch

    spine = spine_amqp
    channel = await spine.transport._pub.get_underlay_channel()
    assert supports_batch(channel)  # the installed aiormq takes the one-write path, not the fallback
    await spine.write([Ping(n=1), Ping(n=2)])
    rows = await spine.pool.fetch("SELECT * FROM outbox ORDER BY seq")
    good = [Outgoing(str(r["id"]), r["exchange"], r["routing_key"], bytes(r["body"]), r["headers"]) for r in rows]
    lost = Outgoing(str(uuid.uuid4()), "icp.events", "nobody.listens.here", b"{}", {})
    results = await spine.transport.publish_many([good[0], lost, good[1]])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], aio_pika.exceptions.PublishError), results
    assert not channel.confirmations and not channel.message_id_delivery_tag  # nothing left registered
    await spine.consumer.start()
    await spine.wait_for(lambda: _eq(spine.effects(), [1, 2]))


async def test_broker_connection_dropped_loses_no_event(spine_amqp: Harness, amqp_vhost):
    spine = spine_amqp  # a broker-side connection drop exists only on RabbitMQ
    n = 4000
    await spine.write([Ping(n=i) for i in range(n)])
    await spine.consumer.start()
    relay = spine.relay()
    await spine.wait_for(lambda: _ge(relay.published, 200))
    await asyncio.to_thread(close_vhost_connections, amqp_vhost)
    await spine.wait_for(lambda: _eq(_count(spine), n), limit=90)
    assert await spine.pool.fetchval("SELECT count(DISTINCT n) FROM effects") == n
    assert await spine.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_concurrent_migrations_apply_once(pg_dsn):
    schema = f"mig_{uuid.uuid4().hex[:8]}"
    results = await asyncio.gather(*(db.migrate(pg_dsn, schema, MIGRATION) for _ in range(4)))
    applied = [r for r in results if r]
    assert len(applied) == 1 and "service/001_effects" in applied[0]
    conn = await asyncpg.connect(pg_dsn)
    try:
        rows = await conn.fetchval(f"SELECT count(*) FROM {schema}.schema_migrations")
        assert rows == len(applied[0])
    finally:
        await conn.close()


# ------------------------------------------------------------------ helpers


async def _count(h: Harness) -> int:
    return await h.pool.fetchval("SELECT count(*) FROM effects")


async def _eq(aw, expected) -> bool:
    return (await aw) == expected


async def _eq_async(aw, expected) -> bool:
    return (await aw) == expected


async def _ge(value, minimum) -> bool:
    return value >= minimum


async def _ge_async(aw, minimum) -> bool:
    return (await aw) >= minimum
