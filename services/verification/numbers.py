"""Filing numbers (备案号, DOMAIN §6): issued, kept and retired inside the approval transaction.

- Subject number: once, at the subject's first approval: filing abbreviation + 'ICP备' + year
  (Beijing time) + 6-digit serial per (province, year) + '号'. The serial comes from
  `number_sequences` with `INSERT … ON CONFLICT DO UPDATE … RETURNING`: the row stays locked until
  the approval commits, so concurrent approvals (any number of processes) queue on it and get
  consecutive serials; a rolled-back approval rolls its increment back too (no gaps).
- Website numbers: subject number + '-N' (+ service-type letter), N from the subject's row in
  `subjects` (locked `FOR UPDATE`), in order of approval, never decreasing — so a number
  retired by a cancellation is never issued again.
- UNIQUE constraints on every issued number back all of this up.
- Lock order in every approval: case row → subject row → (province, year) row. Nothing else is
  locked, so approvals cannot deadlock one another.

Numbers issued by an earlier system (snapshots that already carry `subject_no` / `website_no`)
are adopted on first sight, so later ADD_WEBSITE approvals continue after them and
cancellations can retire them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter

from services.verification.model import CANCEL_TYPES, province_row
from shared import codes
from shared.validate import InvalidValue, format_subject_number, format_website_number, parse_filing_number

log = structlog.get_logger(__name__)

# A serial that came back already taken (by an adopted number, or — if the increment ever lost its
# row lock — by a concurrent approval). Expected to stay 0 for issued numbers; the concurrency test
# asserts it does, so a lost lock cannot hide behind the retry loop and the unique index.
SERIAL_RETRIES = Counter("icp_filing_number_serial_retries_total",
                         "Subject-number serials skipped because the number was already taken", ["service"])
_RETRIES = SERIAL_RETRIES.labels("verification")

CHINA = dt.timezone(dt.timedelta(hours=8))  # the year in a number is the Beijing year of approval


class NumberingError(Exception):
    """The application cannot be numbered (conflicting numbers); a Chinese message for the reviewer."""


@dataclass
class Numbers:
    subject_no: str | None = None
    websites: list[tuple[str, str]] = field(default_factory=list)  # (website_id, website_no), current
    new_numbers: list[str] = field(default_factory=list)  # issued by this approval
    retired_numbers: list[str] = field(default_factory=list)  # retired by this approval
    retired_websites: list[tuple[str, str]] = field(default_factory=list)
    retired_subject_no: str | None = None


def approval_year(at: dt.datetime) -> int:
    return at.astimezone(CHINA).year


async def _lock_subject(conn: asyncpg.Connection, subject_id: str, province: str) -> asyncpg.Record:
    """The subject's row, created if new and locked (the DO UPDATE takes the row lock) until commit."""
    return await conn.fetchrow(
        """INSERT INTO subjects (subject_id, province) VALUES ($1, $2)
           ON CONFLICT (subject_id) DO UPDATE SET subject_id = EXCLUDED.subject_id RETURNING *""",
        subject_id,
        province,
    )


async def _issue_subject_number(
    conn: asyncpg.Connection, subject_id: str, province: str, at: dt.datetime, application_id: str
) -> str:
    row = province_row(province)
    if row is None:
        raise NumberingError(f"省份“{province}”没有备案管局，无法发放备案号")
    year = approval_year(at)
    prefix = f"{row['filing_abbr']}ICP备{year:04d}"
    for _ in range(1000):  # skips serials already taken by adopted numbers
        # one round trip: take the next serial (row-locked until commit) and record the number
        got = await conn.fetchrow(
            """WITH s AS (
                   INSERT INTO number_sequences (province, year, last_seq) VALUES ($3, $4, 1)
                   ON CONFLICT (province, year) DO UPDATE
                       SET last_seq = number_sequences.last_seq + 1, updated_at = now()
                   RETURNING last_seq)
               INSERT INTO subject_numbers (subject_no, subject_id, province, year, seq, application_id, issued_at)
               SELECT $1 || lpad(s.last_seq::text, 6, '0') || '号', $2, $3, $4, s.last_seq, $5, $6 FROM s
               ON CONFLICT DO NOTHING RETURNING subject_no, seq""",
            prefix, subject_id, province, year, application_id, at,
        )
        if got is not None:
            number = got["subject_no"]
            if number != format_subject_number(row["filing_abbr"], year, got["seq"]):  # one definition of the format
                raise NumberingError(f"备案号格式异常：{number}")
            return number
        _RETRIES.inc()
        log.warning("numbers.serial_taken", province=province, year=year)
    raise NumberingError("备案号序列异常：连续 1000 个序号已被占用")


async def _adopt(conn: asyncpg.Connection, subject: asyncpg.Record, app: dict[str, Any], application_id: str):
    """Register numbers the snapshot already carries (issued before this system); return the
    refreshed subject row."""
    snap_no = (app.get("subject") or {}).get("subject_no")
    subject_id = subject["subject_id"]
    if snap_no and subject["subject_no"] is None:
        try:
            parsed = parse_filing_number(snap_no)
        except InvalidValue:
            raise NumberingError(f"申请中的主体备案号“{snap_no}”格式不正确") from None
        if parsed.is_website:
            raise NumberingError(f"申请中的主体备案号“{snap_no}”是网站备案号")
        number = parsed.subject_number
        owner = await conn.fetchval("SELECT subject_id FROM subject_numbers WHERE subject_no = $1", number)
        if owner is not None and owner != subject_id:
            raise NumberingError(f"主体备案号“{number}”已属于其他主体")
        if owner is None:
            year = seq = None
            if len(parsed.digits) == 10 and parsed.kind == "ICP备":
                year, seq = int(parsed.digits[:4]), int(parsed.digits[4:])
            try:
                async with conn.transaction():
                    await conn.execute(
                        """INSERT INTO subject_numbers (subject_no, subject_id, province, year, seq, origin,
                               application_id) VALUES ($1, $2, $3, $4, $5, 'ADOPTED', $6)""",
                        number, subject_id, subject["province"], year, seq, application_id,
                    )
            except asyncpg.UniqueViolationError:
                raise NumberingError(f"主体备案号“{number}”的序号已被占用") from None
        await conn.execute("UPDATE subjects SET subject_no = $2, updated_at = now() WHERE subject_id = $1",
                           subject_id, number)
        subject = await conn.fetchrow("SELECT * FROM subjects WHERE subject_id = $1", subject_id)
    if subject["subject_no"] is None:
        return subject
    for w in app.get("websites") or []:
        wno, wid = w.get("website_no"), w.get("website_id")
        if not wno or not wid:
            continue
        try:
            parsed = parse_filing_number(wno)
        except InvalidValue:
            continue
        if not parsed.is_website or parsed.subject_number != subject["subject_no"]:
            continue
        known = await conn.fetchval("SELECT true FROM website_numbers WHERE website_no = $1", str(parsed))
        if known:
            continue
        await conn.execute(
            """INSERT INTO website_numbers (website_no, website_id, subject_id, subject_no, seq, origin, application_id)
               VALUES ($1, $2, $3, $4, $5, 'ADOPTED', $6) ON CONFLICT DO NOTHING""",
            str(parsed), wid, subject_id, subject["subject_no"], parsed.website_seq, application_id,
        )
        await conn.execute(
            "UPDATE subjects SET next_website_seq = GREATEST(next_website_seq, $2) WHERE subject_id = $1",
            subject_id, parsed.website_seq + 1,
        )
    return await conn.fetchrow("SELECT * FROM subjects WHERE subject_id = $1", subject_id)


async def _active_numbers(conn: asyncpg.Connection, subject_id: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT website_id, website_no FROM website_numbers WHERE subject_id = $1 AND status = 'ACTIVE' ORDER BY seq",
        subject_id,
    )
    return {r["website_id"]: r["website_no"] for r in rows}


async def _retire_websites(conn, subject_id: str, website_ids: list[str] | None, at: dt.datetime):
    return await conn.fetch(
        """UPDATE website_numbers SET status = 'RETIRED', retired_at = $3
           WHERE subject_id = $1 AND status = 'ACTIVE' AND ($2::text[] IS NULL OR website_id = ANY($2::text[]))
           RETURNING website_id, website_no, seq""",
        subject_id, website_ids, at,
    )


async def assign_on_approval(
    conn: asyncpg.Connection, *, app_type: str, province: str, application_id: str, app: dict[str, Any],
    at: dt.datetime,
) -> Numbers:
    """Issue, keep or retire numbers for an approved application, in the caller's transaction
    (which already holds the case row)."""
    subject_id = (app.get("subject") or {}).get("subject_id")
    if not subject_id:
        raise NumberingError("申请中缺少主体标识，无法发放备案号")
    websites = [w for w in app.get("websites") or [] if w.get("website_id")]
    subject = await _lock_subject(conn, subject_id, province)
    subject = await _adopt(conn, subject, app, application_id)
    out = Numbers()

    if app_type in CANCEL_TYPES:
        if app_type == "CANCEL_SUBJECT":
            rows = await _retire_websites(conn, subject_id, None, at)
            if subject["subject_no"] is not None and subject["status"] == "ACTIVE":
                await conn.execute(
                    "UPDATE subject_numbers SET status = 'RETIRED', retired_at = $2 WHERE subject_no = $1",
                    subject["subject_no"], at,
                )
                out.retired_subject_no = subject["subject_no"]
            await conn.execute("UPDATE subjects SET status = 'CANCELLED', updated_at = now() WHERE subject_id = $1",
                               subject_id)
        else:
            rows = await _retire_websites(conn, subject_id, [w["website_id"] for w in websites], at)
        out.retired_websites = [(r["website_id"], r["website_no"]) for r in sorted(rows, key=lambda r: r["seq"])]
        out.retired_numbers = [no for _, no in out.retired_websites]
        if out.retired_subject_no:
            out.retired_numbers.append(out.retired_subject_no)
        out.subject_no = subject["subject_no"]
        return out

    subject_no = subject["subject_no"]
    next_seq = subject["next_website_seq"]
    reissue = subject["status"] == "CANCELLED" and app_type in ("FIRST_FILING", "ADD_WEBSITE")
    fresh = subject_no is None or reissue
    if fresh:
        subject_no = await _issue_subject_number(conn, subject_id, province, at, application_id)
        out.new_numbers.append(subject_no)
        next_seq = 1  # a new subject number starts its own website series
    out.subject_no = subject_no

    # a fresh subject number has no website numbers yet (a cancelled subject's are all retired)
    active = {} if fresh else await _active_numbers(conn, subject_id)
    new: list[tuple[str, str, int]] = []  # (website_id, website_no, seq)
    if app_type not in ("ADD_ACCESS", "CHANGE_SUBJECT", "CHANGE_WEBSITE", "CHANGE_ACCESS", "CANCEL_ACCESS"):
        # FIRST_FILING, ADD_WEBSITE (and imports of unnumbered records): number the websites that
        # have none yet, in the order of the application.
        for w in websites:
            if w["website_id"] in active:
                continue
            number = format_website_number(subject_no, next_seq, _suffix(w.get("service_type") or "WEBSITE"))
            new.append((w["website_id"], number, next_seq))
            active[w["website_id"]] = number
            out.new_numbers.append(number)
            next_seq += 1
    if new:
        await conn.execute(
            """INSERT INTO website_numbers (website_no, website_id, subject_id, subject_no, seq, application_id,
                   issued_at)
               SELECT n, w, $3, $4, s, $5, $6 FROM unnest($1::text[], $2::text[], $7::int[]) AS x(n, w, s)""",
            [n for _, n, _ in new], [w for w, _, _ in new], subject_id, subject_no, application_id, at,
            [s for _, _, s in new],
        )
    if fresh or new:
        await conn.execute(
            """UPDATE subjects SET subject_no = $2, next_website_seq = $3, status = 'ACTIVE',
                   first_approved_at = COALESCE(first_approved_at, $4), updated_at = now()
               WHERE subject_id = $1""",
            subject_id, subject_no, next_seq, at,
        )
    out.websites = [(w["website_id"], active[w["website_id"]]) for w in websites if w["website_id"] in active]
    return out


def _suffix(service_type: str) -> str:
    try:
        return codes.service_type_suffix(service_type)
    except KeyError:
        return ""
