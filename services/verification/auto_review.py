"""Optional automatic review for demos and load tests (off by default).

`ICP_AUTO_REVIEW` holds a rule set, e.g. `verify=pass,preapproval=pass,decision=approve,after=2s`:

| key          | values               | effect                                                                 |
|--------------|----------------------|------------------------------------------------------------------------|
| verify       | pass / return        | provider verification of cases waiting in PENDING_VERIFICATION         |
| preapproval  | pass / fail          | pre-approval result of cases in PREAPPROVAL_PENDING                    |
| decision     | approve / reject     | bureau decision of cases in SUBMITTED_TO_BUREAU (approve assigns numbers) |
| after        | 2s, 500ms, 1m, 0     | only cases unchanged for at least this long (default 2s)               |
| providers    | p1;p2                | only these tenants (default: all)                                      |
| provinces    | BJ;SH or 110000      | only these provinces (default: all)                                    |
| concurrency  | 4                    | cases handled at once per worker process                               |
| interval     | 1s                   | pause when nothing is due                                              |

A key left out means that step stays manual. The loop runs in the worker role
(`ServiceDef.background`); several replicas share the work through `FOR UPDATE SKIP LOCKED`,
one transaction per case, through the same transitions as the HTTP endpoints.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from dataclasses import dataclass

import structlog

from services.verification import review
from services.verification.model import (
    PENDING_VERIFICATION,
    PREAPPROVAL_PENDING,
    SUBMITTED_TO_BUREAU,
    gb_of,
    province_row,
)
from shared.db import transaction
from shared.service import ServiceContext
from shared.web import Problem

log = structlog.get_logger(__name__)

ENV = "ICP_AUTO_REVIEW"

OPINIONS = {
    "pass": "自动核实通过（演示/压测配置）",
    "return": "自动核实退回（演示/压测配置）",
}


@dataclass(frozen=True)
class Rules:
    verify: str | None = None
    preapproval: str | None = None
    decision: str | None = None
    after: float = 2.0
    providers: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()  # GB codes
    concurrency: int = 4
    interval: float = 1.0

    def statuses(self) -> list[str]:
        out = []
        if self.verify:
            out.append(PENDING_VERIFICATION)
        if self.preapproval:
            out.append(PREAPPROVAL_PENDING)
        if self.decision:
            out.append(SUBMITTED_TO_BUREAU)
        return out


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")


def _seconds(text: str) -> float:
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"{ENV}: duration {text!r} not understood (use 500ms, 2s, 1m)")
    value = float(m[1])
    return value / 1000 if m[2] == "ms" else value * 60 if m[2] == "m" else value


def parse_rules(text: str | None) -> Rules | None:
    """The rule set of `ICP_AUTO_REVIEW`; None when unset, empty or `off`."""
    if text is None or text.strip().lower() in ("", "off", "false", "0", "no"):
        return None
    values: dict[str, object] = {}
    allowed = {"verify": ("pass", "return"), "preapproval": ("pass", "fail"), "decision": ("approve", "reject")}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise ValueError(f"{ENV}: {part!r} is not key=value")
        if key in allowed:
            if value.lower() not in allowed[key]:
                raise ValueError(f"{ENV}: {key} must be one of {', '.join(allowed[key])}")
            values[key] = value.lower()
        elif key in ("after", "interval"):
            values[key] = _seconds(value)
        elif key == "concurrency":
            if not value.isdigit() or not 1 <= int(value) <= 64:
                raise ValueError(f"{ENV}: concurrency must be 1..64")
            values[key] = int(value)
        elif key == "providers":
            values[key] = tuple(p.strip() for p in re.split(r"[;|]", value) if p.strip())
        elif key == "provinces":
            gbs = []
            for p in re.split(r"[;|]", value):
                if p.strip():
                    row = province_row(p)
                    if row is None:
                        raise ValueError(f"{ENV}: unknown province {p!r}")
                    gbs.append(gb_of(row))
            values[key] = tuple(gbs)
        else:
            raise ValueError(f"{ENV}: unknown key {key!r}")
    rules = Rules(**values)  # type: ignore[arg-type]
    if not rules.statuses():
        raise ValueError(f"{ENV}: give at least one of verify=, preapproval=, decision=")
    return rules


def rules_from_env() -> Rules | None:
    return parse_rules(os.environ.get(ENV))


def _actor() -> review.Actor:
    return review.Actor(role="system", id=f"auto-review@{socket.gethostname()}:{os.getpid()}", name="自动审核")


async def _next_case(conn, rules: Rules, skip: set):
    """The longest-waiting due case, locked; cases another transaction holds are skipped.

    One status at a time so the (status, updated_at) index yields them in order and the scan
    stops at the first free one; only ids are ordered, the row is read once locked.
    """
    for status in rules.statuses():
        args: list[object] = [status, rules.after]
        where = ["status = $1", "updated_at <= now() - make_interval(secs => $2)"]
        if skip:
            args.append(list(skip))
            where.append(f"NOT (id = ANY(${len(args)}::uuid[]))")
        if rules.providers:
            args.append(list(rules.providers))
            where.append(f"provider_id = ANY(${len(args)}::text[])")
        if rules.provinces:
            args.append(list(rules.provinces))
            where.append(f"province = ANY(${len(args)}::text[])")
        row = await conn.fetchrow(
            f"""SELECT * FROM cases WHERE id = (
                    SELECT id FROM cases WHERE {' AND '.join(where)}
                    ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED)""",
            *args,
        )
        if row is not None:
            return row
    return None


async def _apply(conn, ctx: ServiceContext, case, rules: Rules, actor: review.Actor) -> str:
    status = case["status"]
    if status == PENDING_VERIFICATION:
        return await review.verify(conn, ctx.outbox, case, result=rules.verify, opinion=OPINIONS[rules.verify],
                                   actor=actor)
    if status == PREAPPROVAL_PENDING:
        note = "自动前置审批通过" if rules.preapproval == "pass" else "自动前置审批未通过（演示/压测配置）"
        return await review.preapproval(conn, ctx.outbox, case, result=rules.preapproval, note=note, actor=actor)
    reason = "" if rules.decision == "approve" else "自动驳回（演示/压测配置）"
    return await review.decide(conn, ctx.outbox, case, decision=rules.decision, reason=reason, actor=actor)


async def run_once(ctx: ServiceContext, rules: Rules, *, skip: set | None = None) -> int:
    """Handle every case that is due now (with `rules.concurrency` transactions at a time)."""
    actor = _actor()
    skip = skip if skip is not None else set()
    done = 0

    async def work() -> None:
        nonlocal done
        while True:
            try:
                async with transaction(ctx.pool) as conn:
                    case = await _next_case(conn, rules, skip)  # a case refused once is left to a person
                    if case is None:
                        return
                    to = await _apply(conn, ctx, case, rules, actor)
                done += 1
                log.info("auto_review.applied", case_id=str(case["id"]), status=to)
            except Problem as p:
                skip.add(case["id"])
                log.warning("auto_review.refused", case_id=str(case["id"]), detail=p.detail)

    await asyncio.gather(*(work() for _ in range(rules.concurrency)))
    return done


def make_loop(rules: Rules):
    async def auto_review(ctx: ServiceContext) -> None:
        log.info("auto_review.enabled", rules=str(rules))
        skip: set = set()
        while True:
            n = await run_once(ctx, rules, skip=skip)
            if n == 0:
                await asyncio.sleep(rules.interval)

    return auto_review
