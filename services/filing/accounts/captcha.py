"""Image captchas for login (seed 1.2).

A captcha is 4 characters from an alphabet without look-alikes, drawn as a PNG by the
`captcha` package (its own bundled fonts). Only a keyed hash of the answer is stored, with
an expiry; `consume` deletes the row whatever the outcome, so each captcha is tried once.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from enum import Enum

import asyncpg
from captcha.image import ImageCaptcha

from services.filing.accounts.model import CAPTCHA_TTL_SECONDS, captcha_digest, captcha_matches

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0, 1
LENGTH = 4
WIDTH, HEIGHT = 160, 60
_PURGE_BATCH = 500

_image = ImageCaptcha(width=WIDTH, height=HEIGHT)


def new_answer(length: int = LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def render_png(answer: str) -> bytes:
    return _image.generate(answer, format="png").getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


@dataclass(frozen=True)
class IssuedCaptcha:
    captcha_id: str
    image: str  # data: URL
    expires_in: int
    answer: str  # the caller decides whether it may ever leave the process (tests only)


async def issue(pool: asyncpg.Pool, secret: str, *, ttl: int = CAPTCHA_TTL_SECONDS) -> IssuedCaptcha:
    answer = new_answer()
    png = await asyncio.to_thread(render_png, answer)  # a few ms of CPU: keep it off the event loop
    captcha_id = str(uuid.uuid4())
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO captchas (id, answer_hash, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))",
            uuid.UUID(captcha_id), captcha_digest(secret, captcha_id, answer), float(ttl),
        )
        # expired captchas nobody tried: bounded clean-up on the way
        await conn.execute(
            """DELETE FROM captchas WHERE id IN (
                   SELECT id FROM captchas WHERE expires_at < now() - interval '1 minute' LIMIT $1)""",
            _PURGE_BATCH,
        )
    return IssuedCaptcha(captcha_id, data_url(png), ttl, answer)


class Check(Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"  # unknown, already used, or past its expiry


CHECK_MESSAGES = {
    Check.WRONG: "验证码错误，请重新输入",
    Check.EXPIRED: "验证码已失效，请刷新后重新输入",
}


async def consume(conn: asyncpg.Connection, secret: str, captcha_id: str, answer: str | None) -> Check:
    """Use up a captcha (deleted whatever the outcome) and say whether `answer` was right."""
    try:
        key = uuid.UUID(captcha_id)
    except (ValueError, TypeError, AttributeError):
        return Check.EXPIRED
    row = await conn.fetchrow("DELETE FROM captchas WHERE id = $1 RETURNING answer_hash, expires_at", key)
    if row is None or row["expires_at"] <= dt.datetime.now(dt.UTC):
        return Check.EXPIRED
    if not answer or not captcha_matches(secret, str(key), answer, row["answer_hash"]):
        return Check.WRONG
    return Check.OK
