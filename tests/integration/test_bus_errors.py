"""Errors that can never succeed go to `<service>.dead` at once, with the reason; errors that may be
a race or an outage keep the retry back-off. On real RabbitMQ and PostgreSQL (the spine service of
test_bus): each handler error below is PostgreSQL's or asyncpg's own, not a raised stand-in."""

from __future__ import annotations

import aio_pika
import asyncpg
from pydantic import BaseModel

from shared.bus import is_permanent
from tests.integration.test_bus import RETRIES, Harness, Ping, _harness, dead_count

MODES = {
    1: "nul",        # CharacterNotInRepertoireError (SQLSTATE 22021), a DataError
    2: "int4",       # asyncpg's client-side DataError: 2**31 for an integer parameter
    3: "not_null",   # NotNullViolationError
    4: "model",      # pydantic ValidationError of a model built from the payload
    5: "unique",     # UniqueViolationError: may be a race, so retried
}


async def _handler(p: Ping, ctx) -> None:
    if p.mode == "nul":
        await ctx.conn.execute("SELECT $1::text", "detector\x00x")
    elif p.mode == "int4":
        await ctx.conn.execute("SELECT $1::int4", 2**31)
    elif p.mode == "not_null":
        await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES (NULL, $1)", ctx.envelope.id)
    elif p.mode == "model":
        class Strict(BaseModel):
            n: int

        Strict.model_validate({"n": "not a number"})
    elif p.mode == "unique":
        await ctx.conn.execute("INSERT INTO effects (id, n, message_id) VALUES (1, $1, $2)", p.n, ctx.envelope.id)
    else:
        await ctx.conn.execute("INSERT INTO effects (n, message_id) VALUES ($1, $2)", p.n, ctx.envelope.id)


async def _dead_letters(url: str, queue: str) -> list[dict]:
    conn = await aio_pika.connect(url)
    try:
        ch = await conn.channel()
        q = await ch.declare_queue(queue, passive=True)
        out = []
        while (m := await q.get(no_ack=True, fail=False)) is not None:
            out.append(dict(m.headers))
        return out
    finally:
        await conn.close()


async def test_never_succeeding_errors_are_dead_lettered_at_once(pg_dsn, amqp_url):
    h: Harness = await _harness("amqp", pg_dsn, amqp_url)
    try:
        h.handlers.on(Ping)(_handler)
        await h.pool.execute("INSERT INTO effects (id, n, message_id) VALUES (1, 0, gen_random_uuid())")
        await h.write([Ping(n=n, mode=mode) for n, mode in MODES.items()] + [Ping(n=6)])
        await h.consumer.start()
        h.relay()
        await h.wait_for(lambda: _dead(h, 5), limit=20)
        assert sorted(await h.effects()) == [0, 6]
        # attempts before the dead letter, by its reason
        attempts = {d["x-icp-error"]: int(d.get("x-icp-attempt") or 0)
                    for d in await _dead_letters(amqp_url, "spine.dead")}
        assert len(attempts) == 5, attempts
        for name in ("CharacterNotInRepertoireError", "DataError", "NotNullViolationError", "ValidationError"):
            reason = next((r for r in attempts if r.startswith(name)), None)
            assert reason is not None, (name, attempts)
            assert attempts[reason] == 0, f"{name} was retried {attempts[reason]} times"
        # the unique violation (a possible race) went through every retry first
        unique = next(r for r in attempts if r.startswith("UniqueViolationError"))
        assert attempts[unique] == len(RETRIES)
    finally:
        await h.close()


async def _dead(h: Harness, n: int) -> bool:
    return await dead_count(h) >= n


def test_transient_database_errors_keep_the_back_off():
    for transient in (asyncpg.DeadlockDetectedError("deadlock"), asyncpg.SerializationError("serialize"),
                      asyncpg.UniqueViolationError("dup"), asyncpg.ForeignKeyViolationError("fk"),
                      asyncpg.ConnectionDoesNotExistError("gone"), ConnectionResetError(), TimeoutError()):
        assert not is_permanent(transient), transient
    assert is_permanent(asyncpg.CharacterNotInRepertoireError("nul"))
    assert is_permanent(asyncpg.NumericValueOutOfRangeError("range"))
    assert is_permanent(asyncpg.CheckViolationError("check"))
