"""SQL of the statistics (seed 1.7.4): one scan per request, counting at three instants at once."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import asyncpg

from services.reporting import statistics as st
from services.reporting.queries import Where, province_gb, website_scope
from shared.auth import Principal, Role

# the grouping expression of each stock dimension; multi-valued ones are unnested
_KEYS = {
    "province": ("w.province", ""),
    "nature": ("w.nature", ""),
    "access_method": ("k.key", "CROSS JOIN LATERAL unnest(w.stat_access_methods) AS k(key)"),
    "service_content": ("k.key", "CROSS JOIN LATERAL unnest(w.service_content) AS k(key)"),
}


def _where(principal: Principal, q: st.StatisticsQuery) -> Where:
    w = Where()
    website_scope(w, principal, providers="stat_provider_ids")
    if q.province:
        w.add(f"w.province = {w.param(q.province)}")
    if q.nature:
        w.add(f"w.nature = {w.param(q.nature)}")
    if q.access_method:
        w.add(f"w.stat_access_methods @> ARRAY[{w.param(q.access_method)}]::text[]")
    if q.service_content:
        w.add(f"w.service_content @> ARRAY[{w.param(q.service_content)}]::text[]")
    if q.filing_method:
        w.add(f"w.filing_method = {w.param(q.filing_method)}")
    return w


def _alive(at: str) -> str:
    return f"w.approved_at < {at} AND (w.cancelled_at IS NULL OR w.cancelled_at >= {at})"


async def stock(pool: asyncpg.Pool, principal: Principal, q: st.StatisticsQuery, at: dt.datetime,
                yoy: dt.datetime, pop: dt.datetime) -> tuple[list[asyncpg.Record], asyncpg.Record]:
    """Per group and in total: the count at `at`, at `yoy` and at `pop`."""
    w = _where(principal, q)
    t, y, p = w.param(at), w.param(yoy), w.param(pop)
    w.add(f"w.approved_at < {t}")  # nothing approved later counts at any of the three instants
    agg = "count(DISTINCT w.subject_id)" if q.measure == "subjects" else "count(*)"
    counts = (f"{agg} FILTER (WHERE {_alive(t)}) AS value, {agg} FILTER (WHERE {_alive(y)}) AS yoy, "
              f"{agg} FILTER (WHERE {_alive(p)}) AS pop")
    key, join = _KEYS[q.group_by]
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await conn.fetch(
            f"SELECT * FROM (SELECT {key} AS key, {counts} FROM websites w {join} WHERE {w.sql()} GROUP BY 1) g "
            f"WHERE value > 0 OR yoy > 0 OR pop > 0 ORDER BY 1", *w.params
        )
        total = await conn.fetchrow(f"SELECT {counts} FROM websites w WHERE {w.sql()}", *w.params)
    return rows, total


def counters_serve(principal: Principal, q: st.StatisticsQuery) -> bool:
    """Whether the day/month counters answer this question (websites by province, nature or access
    method, for the admin or a bureau, filtered by province, nature, filing method or access method);
    else the websites are scanned."""
    # (by access method with one access method as the condition, the scan lists the other methods of its
    # websites too: the counters cannot, so that combination is scanned)
    return (q.measure == "websites" and q.group_by in ("province", "nature", "access_method")
            and not (q.group_by == "access_method" and q.access_method)
            and not q.service_content and principal.role in (Role.ADMIN, Role.BUREAU))


def _counter_where(principal: Principal, q: st.StatisticsQuery, access: bool = False) -> Where:
    """`access`: the per-access-method counters (020), where the access method can be a condition."""
    w = Where()
    if access and q.access_method:
        w.add(f"c.access_method = {w.param(q.access_method)}")
    if principal.role == Role.BUREAU:
        w.add(f"c.province = {w.param(province_gb(principal.province) or '-')}")
    if q.province:
        w.add(f"c.province = {w.param(q.province)}")
    if q.nature:
        w.add(f"c.nature = {w.param(q.nature)}")
    if q.filing_method:
        w.add(f"c.filing_method = {w.param(q.filing_method)}")
    return w


async def stock_from_counters(pool: asyncpg.Pool, principal: Principal, q: st.StatisticsQuery,
                              days: tuple[dt.date, dt.date, dt.date]) -> tuple[list[dict], dict]:
    """Like `stock`, from `website_monthly` (the months before each day's month) plus `website_daily`
    (that month's days up to the day); grouped by or filtered on the access method, from the
    per-access-method counters (a website counts once per access method, as the scan's unnest)."""
    names = ("value", "yoy", "pop")
    access = q.group_by == "access_method" or bool(q.access_method)
    rows = await _counted(pool, principal, q, days, access, q.group_by)
    rows = [r for r in rows if r["value"] or r["yoy"] or r["pop"]]
    if q.group_by == "access_method" and not q.access_method:
        # the totals row counts websites, not (website, access method) pairs
        total = (await _counted(pool, principal, q, days, False, None))[0]
    else:
        total = {n: sum(r[n] for r in rows) for n in names}
    return rows, {n: total[n] for n in names}


async def _counted(pool: asyncpg.Pool, principal: Principal, q: st.StatisticsQuery,
                   days: tuple[dt.date, dt.date, dt.date], access: bool, group: str | None) -> list[dict]:
    """The counters' sums at the three days, per `group` (a column of the counters) or in all (None)."""
    w = _counter_where(principal, q, access)
    daily, monthly = ("website_access_daily", "website_access_monthly") if access else ("website_daily",
                                                                                        "website_monthly")
    starts = [w.param(d.replace(day=1)) for d in days]
    ends = [w.param(d) for d in days]
    names = ("value", "yoy", "pop")
    sums_m = ", ".join(f"sum(c.delta) FILTER (WHERE c.month < {m}) AS {n}" for m, n in zip(starts, names, strict=True))
    sums_d = ", ".join(f"sum(c.delta) FILTER (WHERE c.day >= {m} AND c.day <= {e}) AS {n}"
                       for m, e, n in zip(starts, ends, names, strict=True))
    in_days = " OR ".join(f"(c.day >= {m} AND c.day <= {e})" for m, e in zip(starts, ends, strict=True))
    key = f"c.{group}" if group else "''"
    sql = f"""
        SELECT key, sum(value)::bigint AS value, sum(yoy)::bigint AS yoy, sum(pop)::bigint AS pop FROM (
          SELECT {key} AS key, {sums_m} FROM {monthly} c WHERE {w.sql()} GROUP BY 1
          UNION ALL
          SELECT {key} AS key, {sums_d} FROM {daily} c WHERE {w.sql()} AND ({in_days}) GROUP BY 1
        ) x GROUP BY key ORDER BY key"""
    rows = [{k: r[k] or 0 for k in ("key", "value", "yoy", "pop")} for r in await pool.fetch(sql, *w.params)]
    if group is None:
        return rows or [{"key": "", "value": 0, "yoy": 0, "pop": 0}]
    return rows


def approvals_from_counters(principal: Principal, q: st.StatisticsQuery) -> bool:
    """Whether the counters' `approved` answer the statistics by month (websites, admin or bureau,
    filtered by province, nature or filing method at most)."""
    return (q.measure == "websites" and not q.access_method and not q.service_content
            and principal.role in (Role.ADMIN, Role.BUREAU))


async def approvals_in(pool: asyncpg.Pool, principal: Principal, q: st.StatisticsQuery,
                       windows: list[st.Window]) -> dict[st.Window, int]:
    """Websites approved in each window (from a month's first day to a day of it) from the counters:
    a whole month from `website_monthly`, the first days of one from `website_daily`."""
    full = {win for win in windows if (win.last + dt.timedelta(days=1)).day == 1}
    days = sorted({win.first + dt.timedelta(days=k) for win in set(windows) - full
                   for k in range((win.last - win.first).days + 1)})
    w = _counter_where(principal, q)
    months, each = w.param(sorted({win.first for win in full})), w.param(days)
    rows = await pool.fetch(
        f"SELECT c.month AS d, true AS month, sum(c.approved)::bigint AS n FROM website_monthly c "
        f"WHERE {w.sql()} AND c.month = ANY({months}::date[]) GROUP BY 1 UNION ALL "
        f"SELECT c.day, false, sum(c.approved)::bigint FROM website_daily c "
        f"WHERE {w.sql()} AND c.day = ANY({each}::date[]) GROUP BY 1", *w.params)
    by_month = {r["d"]: r["n"] for r in rows if r["month"]}
    by_day = {r["d"]: r["n"] for r in rows if not r["month"]}
    return {win: by_month.get(win.first, 0) if win in full else window_sum(by_day, win) for win in windows}


async def daily_approvals(pool: asyncpg.Pool, principal: Principal, q: st.StatisticsQuery, start: dt.date,
                          end: dt.date) -> dict[dt.date, int]:
    """Websites (or subjects, by their first website) approved per China day in [start, end]."""
    w = _where(principal, q)
    lo, hi = w.param(st.day_end(start - dt.timedelta(days=1))), w.param(st.day_end(end))
    w.add(f"w.approved_at >= {lo} AND w.approved_at < {hi}")
    day = "(w.approved_at AT TIME ZONE 'Asia/Shanghai')::date"
    if q.measure == "subjects":
        sql = (f"SELECT d, count(*) AS n FROM (SELECT min({day}) AS d FROM websites w WHERE {w.sql()} "
               f"GROUP BY w.subject_id) x GROUP BY d")
    else:
        sql = f"SELECT {day} AS d, count(*) AS n FROM websites w WHERE {w.sql()} GROUP BY 1"
    rows = await pool.fetch(sql, *w.params)
    return {r["d"]: r["n"] for r in rows}


def window_sum(daily: dict[dt.date, int], window: st.Window) -> int:
    return sum(n for d, n in daily.items() if window.first <= d <= window.last)


async def compute(pool: asyncpg.Pool, principal: Principal, q: st.StatisticsQuery,
                  counters: bool = True) -> dict[str, Any]:
    """The statistics; from the counters where they answer (`counters=False`: by scanning the websites)."""
    cutoff = q.cutoff
    months = st.PERIODS[q.period]
    yoy_day, pop_day = st.shift_months(cutoff, -12), st.shift_months(cutoff, -months)
    out: dict[str, Any] = {
        "cutoff": cutoff, "group_by": q.group_by, "group_by_name": st.GROUPS[q.group_by], "measure": q.measure,
        "measure_name": st.MEASURES[q.measure], "period": q.period, "yoy_date": yoy_day, "pop_date": pop_day,
    }
    if q.group_by == "month":
        windows = st.month_windows(cutoff)
        if counters and approvals_from_counters(principal, q):
            every = [x for _, win in windows for x in (win, win.shifted(-12), win.shifted(-1))]
            found = await approvals_in(pool, principal, q, every)
            count = found.__getitem__
        else:
            first = windows[0][1].first
            daily = await daily_approvals(pool, principal, q, st.shift_months(first, -12), cutoff)
            count = partial(window_sum, daily)
        rows = []
        for key, win in windows:
            rows.append(st.row(key, f"{key[:4]}年{int(key[5:])}月", count(win), count(win.shifted(-12)),
                               count(win.shifted(-1))))
        total = st.row("total", "合计", sum(r["value"] for r in rows), sum(r["yoy_base"] for r in rows),
                       sum(r["pop_base"] for r in rows))
        out.update(rows=rows, total=total, yoy_date=st.shift_months(cutoff, -12), pop_date=st.shift_months(cutoff, -1))
        return out
    if counters and counters_serve(principal, q):
        found, total = await stock_from_counters(pool, principal, q, (cutoff, yoy_day, pop_day))
    else:
        found, total = await stock(pool, principal, q, st.day_end(cutoff), st.day_end(yoy_day), st.day_end(pop_day))
    rows = [st.row(r["key"], st.key_name(q.group_by, r["key"]), r["value"], r["yoy"], r["pop"]) for r in found]
    out.update(rows=rows, total=st.row("total", "合计", total["value"], total["yoy"], total["pop"]))
    return out
