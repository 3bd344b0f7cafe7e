"""The read side of detections: the unfiled list (1.8.1) and the statistics (1.8.2)."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.detection.model import StatisticsQuery, UnfiledQuery


class Where:
    """Conditions with numbered parameters, starting after the scope's."""

    def __init__(self, condition: str, args: list[Any]) -> None:
        self.parts = [condition]
        self.args = list(args)

    def param(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, sql: str) -> None:
        self.parts.append(sql)

    @property
    def sql(self) -> str:
        return " AND ".join(f"({p})" for p in self.parts)


def _sightings_in_range(w: Where, q: UnfiledQuery | StatisticsQuery, month: str | None = None) -> str | None:
    """Condition on sightings `s` for the date range (and month), or None when there is none."""
    start, end = q.bounds()
    parts = []
    if start:
        parts.append(f"s.detected_at >= {w.param(start)}")
    if end:
        parts.append(f"s.detected_at < {w.param(end)}")
    if month:
        parts.append(f"to_char(s.detected_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') = {w.param(month)}")
    return " AND ".join(parts) or None


def _handling(w: Where, status: str | None) -> None:
    if status == "handled":
        w.add("d.closed")
    elif status == "unhandled":
        w.add("NOT d.closed")


async def unfiled(pool: asyncpg.Pool, scope: tuple[str, list[Any]], q: UnfiledQuery) -> tuple[int, list[asyncpg.Record]]:
    w = Where(*scope)
    if q.domain:
        w.add(f"d.domain LIKE {w.param('%' + _like(q.domain.lower()) + '%')}")
    if q.ip:
        w.add(f"d.ip LIKE {w.param(_like(q.ip) + '%')}")
    if q.province:
        w.add(f"d.province = {w.param(q.province)}")
    _handling(w, q.handling_status)
    if q.handling_code == "UNHANDLED":
        w.add("d.handling_code IS NULL")
    elif q.handling_code:
        w.add(f"d.handling_code = {w.param(q.handling_code)}")
    if q.filed_meanwhile is not None:
        w.add("d.filed_at IS NOT NULL" if q.filed_meanwhile else "d.filed_at IS NULL")
    in_range = _sightings_in_range(w, q, q.month)
    if in_range:
        w.add(f"EXISTS (SELECT 1 FROM sightings s WHERE s.provider_id = d.provider_id AND s.domain = d.domain "
              f"AND {in_range})")
    total = await pool.fetchval(f"SELECT count(*) FROM detections d WHERE {w.sql}", *w.args)
    limit, offset = w.param(q.page_size), w.param((q.page - 1) * q.page_size)
    rows = await pool.fetch(
        f"""SELECT d.*, p.name AS provider_name FROM detections d LEFT JOIN providers p USING (provider_id)
             WHERE {w.sql} ORDER BY d.last_seen DESC, d.id DESC LIMIT {limit} OFFSET {offset}""",
        *w.args,
    )
    return total, rows


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_GROUP_KEYS = {
    "province": "d.province",
    "handling": "CASE WHEN d.handling_code IS NULL THEN 'UNHANDLED' ELSE d.handling_code END",
    "month": "to_char(s.detected_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
}


async def statistics(pool: asyncpg.Pool, scope: tuple[str, list[Any]], q: StatisticsQuery) -> list[asyncpg.Record]:
    """Per group: detected domains (records), detections (sightings in the range), handled and unhandled
    records; grouping sets add the total row (key NULL)."""
    w = Where(*scope)
    _handling(w, q.handling_status)
    in_range = _sightings_in_range(w, q)
    if in_range:
        w.add(in_range)
    key = _GROUP_KEYS[q.group_by]
    return await pool.fetch(
        f"""SELECT {key} AS key, count(DISTINCT d.id) AS domains, count(*) AS detections,
                   count(DISTINCT d.id) FILTER (WHERE d.closed) AS handled,
                   count(DISTINCT d.id) FILTER (WHERE NOT d.closed) AS unhandled
              FROM detections d JOIN sightings s ON s.provider_id = d.provider_id AND s.domain = d.domain
             WHERE {w.sql}
             GROUP BY GROUPING SETS (({key}), ())
             ORDER BY GROUPING({key}), 1""",
        *w.args,
    )
