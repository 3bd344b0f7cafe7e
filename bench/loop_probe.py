"""Where a server's latency goes between CPU and waiting: runs `python -m shared.cli ARGS…` with a
probe in the process, and writes its report to `$ICP_PROBE_OUT` when the server stops (SIGTERM).

    ICP_PROBE_OUT=/tmp/probe.txt .venv/bin/python bench/loop_probe.py up --port 8080
    .venv/bin/python bench/submit.py --probe /tmp/probe.txt …     # the same, started by the bench

The probe (bench only, never in the services):
- loop lag: a callback due every millisecond records how late it runs (how long the event loop
  was held by something else: one callback or one step of a coroutine that does not yield);
- stalls: a watchdog thread samples the event loop thread's Python stack every ~2 ms while the
  loop has not ticked for 5 ms; the report gives the stalls by length and the code they were in
  (collapsed stacks, weighted by samples, i.e. ~time spent blocking);
- request phases of `POST /api/filing/filings`: time in the view (parse + validation + waiting for
  the group commit + answer) and, inside it, time awaiting the group commit; and the group commit's
  batches (size, duration).
Only the window between `probe_reset()` calls counts: the bench resets it when each paced run's
measured window starts (`GET /__probe/reset`, served by the probe on the server's own port).
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK = 0.001
STALL = 0.005  # a stall: no tick for this long
SAMPLE = 0.002


class Probe:
    def __init__(self) -> None:
        self.reset()
        self.last_tick = time.perf_counter()
        self.main_ident = threading.get_ident()
        self._stop = False

    def reset(self) -> None:
        self.started = time.perf_counter()
        self.cpu0 = time.process_time()
        self.trips: collections.Counter = collections.Counter()
        self.trip_wall: collections.Counter = collections.Counter()
        self.lags: list[float] = []
        self.stalls: list[float] = []
        self.stall_stacks: collections.Counter = collections.Counter()
        self.stall_leaf: collections.Counter = collections.Counter()
        self.view: list[float] = []
        self.commit_wait: list[float] = []
        self.batches: list[tuple[int, float]] = []
        self.consumer_batches: list[tuple[str, int, float]] = []
        self.relay_rounds: list[tuple[int, float]] = []

    # ---- loop side
    def tick(self, due: float) -> None:
        now = time.perf_counter()
        self.lags.append(now - due)
        self.last_tick = now
        asyncio.get_running_loop().call_later(TICK, self.tick, now + TICK)

    # ---- watchdog thread
    def watch(self) -> None:
        if os.environ.get("ICP_PROBE_STACKS", "1") == "0":
            return
        in_stall = False
        stall_started = 0.0
        while not self._stop:
            time.sleep(SAMPLE)
            now = time.perf_counter()
            quiet = now - self.last_tick
            if quiet > STALL:
                if not in_stall:
                    in_stall, stall_started = True, self.last_tick
                frame = sys._current_frames().get(self.main_ident)
                if frame is not None:
                    stack = traceback.extract_stack(frame)
                    names = [f"{_short(f.filename)}:{f.name}" for f in stack]
                    self.stall_stacks[";".join(names[-25:])] += 1
                    ours = [n for n in names if n.startswith(("services/", "shared/"))]
                    self.stall_leaf[ours[-1] if ours else names[-1]] += 1
            elif in_stall:
                in_stall = False
                self.stalls.append(self.last_tick - stall_started)

    def report(self) -> str:
        window = time.perf_counter() - self.started
        cpu = time.process_time() - self.cpu0
        out = [f"window {window:.1f} s; the process's CPU {cpu:.2f} s ({cpu / window * 100:.0f} % of one core)"]
        lags = sorted(self.lags)
        if lags:
            q = lambda p: lags[min(len(lags) - 1, int(p / 100 * (len(lags) - 1)))] * 1000  # noqa: E731
            out.append(f"loop lag (1 ms ticker, {len(lags)} ticks): p50 {q(50):.2f} ms, p90 {q(90):.2f}, "
                       f"p99 {q(99):.2f}, max {lags[-1] * 1000:.1f}")
        st = sorted(self.stalls)
        out.append(f"stalls ≥ {STALL * 1000:.0f} ms: {len(st)}, total {sum(st) * 1000:.0f} ms "
                   f"({sum(st) / window * 100:.1f} % of the window); longest "
                   + ", ".join(f"{s * 1000:.0f}" for s in st[-10:][::-1]))
        for name, values in (("view (POST /filings)", self.view), ("awaiting the group commit", self.commit_wait)):
            v = sorted(values)
            if v:
                out.append(f"{name}: n {len(v)}, p50 {v[len(v) // 2] * 1000:.1f} ms, "
                           f"p99 {v[int(0.99 * (len(v) - 1))] * 1000:.1f}, mean {sum(v) / len(v) * 1000:.1f}")
        if self.batches:
            sizes = [b[0] for b in self.batches]
            durs = sorted(b[1] for b in self.batches)
            out.append(f"group-commit writes: {len(sizes)}, mean size {sum(sizes) / len(sizes):.1f}, max {max(sizes)}; "
                       f"duration p50 {durs[len(durs) // 2] * 1000:.1f} ms, max {durs[-1] * 1000:.1f}")
        by_svc: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
        for svc, n, d in self.consumer_batches:
            by_svc[svc].append((n, d))
        for svc, items in sorted(by_svc.items()):
            durs = sorted(d for _, d in items)
            out.append(f"consumer {svc}: {len(items)} batches, mean size {sum(n for n, _ in items) / len(items):.1f}; "
                       f"duration p50 {durs[len(durs) // 2] * 1000:.1f} ms, max {durs[-1] * 1000:.1f}")
        if self.relay_rounds:
            durs = sorted(d for _, d in self.relay_rounds)
            out.append(f"relay rounds: {len(durs)}, mean size {sum(n for n, _ in self.relay_rounds) / len(durs):.1f}; "
                       f"duration p50 {durs[len(durs) // 2] * 1000:.1f} ms, max {durs[-1] * 1000:.1f}")
        if self.trips:
            out.append("asyncpg round trips (count, mean wall ms from send to the awaiting task's resumption):")
            out += [f"  {k:40} {n:7d} {self.trip_wall[k] / n * 1000:8.2f}" for k, n in self.trips.most_common(20)]
        total = sum(self.stall_leaf.values()) or 1
        out.append("stall samples by innermost project frame:")
        out += [f"  {n * 100 / total:5.1f} %  {name}" for name, n in self.stall_leaf.most_common(25)]
        out.append("stall stacks (collapsed, samples):")
        out += [f"{n} {stack}" for stack, n in self.stall_stacks.most_common(40)]
        return "\n".join(out) + "\n"


def _short(path: str) -> str:
    for marker in ("/services/", "/shared/", "/site-packages/"):
        i = path.rfind(marker)
        if i >= 0:
            return path[i + 1:] if marker != "/site-packages/" else path[i + len(marker):]
    return os.path.basename(path)


PROBE = Probe()


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _instrument() -> None:
    from aiohttp import web

    import shared.web as sw
    from services.filing.entry import submits

    wrap = sw._wrap

    def timed_wrap(route, service):
        view = wrap(route, service)
        if not (route.method == "POST" and route.path == "/filings"):
            return view

        async def timed(request):
            t = time.perf_counter()
            try:
                return await view(request)
            finally:
                PROBE.view.append(time.perf_counter() - t)

        timed.__name__ = view.__name__
        timed.icp_route = route
        return timed

    sw._wrap = timed_wrap

    submit, write = submits.SubmitBatcher.submit, submits.SubmitBatcher._write

    async def timed_submit(self, *a, **kw):
        t = time.perf_counter()
        try:
            return await submit(self, *a, **kw)
        finally:
            PROBE.commit_wait.append(time.perf_counter() - t)

    async def timed_write(self, batch):
        t = time.perf_counter()
        try:
            return await write(self, batch)
        finally:
            PROBE.batches.append((len(batch), time.perf_counter() - t))

    submits.SubmitBatcher.submit, submits.SubmitBatcher._write = timed_submit, timed_write

    from shared import bus

    handle = bus.Consumer._handle_batch

    async def timed_handle(self, batch):
        t = time.perf_counter()
        try:
            return await handle(self, batch)
        finally:
            PROBE.consumer_batches.append((self.service, len(batch), time.perf_counter() - t))

    bus.Consumer._handle_batch = timed_handle

    from shared import outbox

    drain_once = outbox.OutboxRelay.drain_once

    async def timed_drain(self, *a, **kw):
        t = time.perf_counter()
        n = await drain_once(self, *a, **kw)
        if n:
            PROBE.relay_rounds.append((n, time.perf_counter() - t))
        return n

    outbox.OutboxRelay.drain_once = timed_drain

    from asyncpg.connection import Connection

    execute, _execute = Connection.execute, Connection._execute

    def _key(conn, query) -> str:
        app = (conn.get_settings().application_name or "").removeprefix("icp-")
        q = " ".join(str(query).split())[:28]
        return f"{app}: {q}"

    async def timed_execute(self, query, *args, **kw):
        if args:
            return await execute(self, query, *args, **kw)
        t = time.perf_counter()
        try:
            return await execute(self, query, *args, **kw)
        finally:
            k = _key(self, query)
            PROBE.trips[k] += 1
            PROBE.trip_wall[k] += time.perf_counter() - t

    async def timed__execute(self, query, *a, **kw):
        t = time.perf_counter()
        try:
            return await _execute(self, query, *a, **kw)
        finally:
            k = _key(self, query)
            PROBE.trips[k] += 1
            PROBE.trip_wall[k] += time.perf_counter() - t

    Connection.execute, Connection._execute = timed_execute, timed__execute

    root_app = sw.root_app

    def probed_root(*a, **kw):
        root = root_app(*a, **kw)

        async def reset(_):
            PROBE.reset()
            return web.json_response({"ok": True})

        root.router.add_get("/__probe/reset", reset)
        return root

    sw.root_app = probed_root
    import shared.runtime as runtime

    runtime.root_app = probed_root


def main() -> None:
    out = os.environ.get("ICP_PROBE_OUT", "/tmp/loop_probe.txt")
    _instrument()
    import shared.cli as cli

    run = cli._run

    def probed_run(coro):
        async def wrapped():
            loop = asyncio.get_running_loop()
            loop.call_later(TICK, PROBE.tick, time.perf_counter() + TICK)
            PROBE.main_ident = threading.get_ident()
            threading.Thread(target=PROBE.watch, daemon=True).start()
            try:
                return await coro
            finally:
                PROBE._stop = True
                _write(out, PROBE.report())

        return run(wrapped())

    cli._run = probed_run
    cli.main(sys.argv[1:])


if __name__ == "__main__":
    main()
