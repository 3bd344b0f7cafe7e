"""The batching knobs against issue 14's two goals at one load: p99 < 50 ms and ≤ 1.5 ms of CPU per
filing. Runs `bench/submit.py --services all --rate RATE` once per combination of the group commit's
linger (`ICP_SUBMIT_LINGER`) and the relay's linger under a steady flow (`ICP_OUTBOX_LINGER_BUSY`),
the combinations alternated over `--rounds`, and prints per run: p50 / p99, the server's and its
PostgreSQL backends' CPU per filing less idle, and the batching it got (group-commit writes and
delivery batches per filing).

    .venv/bin/python bench/submit_linger.py --rate 580                      # 0 / 5 / 10 / 20 ms × 10 / 30 / 60 ms
    .venv/bin/python bench/submit_linger.py --rate 580 --submit 0.01 --relay 0.03 0.1 --rounds 3

RATE: a quarter of the floor's throughput measured in the same window (`bench/submit.py --paced 0.25`
prints it): the load the goals name.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(rate: float, seconds: float, submit: float, relay: float) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {**os.environ, "ICP_SUBMIT_LINGER": str(submit), "ICP_OUTBOX_LINGER_BUSY": str(relay)}
        subprocess.run([sys.executable, str(ROOT / "bench" / "submit.py"), "--services", "all", "--rate", str(rate),
                        "--seconds", str(seconds), "--idle", "5", "--json", out.name],
                       env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = json.loads(Path(out.name).read_text())
    idle = next(r for r in results if "idle_cpu_ms_per_s" in r)["idle_cpu_ms_per_s"]
    r = next(r for r in results if r.get("offered"))
    c = r["cpu_ms_per_request"]
    net = sum(c[k] - idle[k] / r["throughput"] for k in ("server", "pg_db"))
    b = r.get("batching") or {}
    return {"done": r["throughput"], "p50": r["p50_ms"], "p99": r["p99_ms"], "cpu": net,
            "writes": b.get("icp_submit_batch_size_count", float("nan")),
            "deliveries": b.get("icp_consumer_batches_total{service=verification}", float("nan"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, required=True, help="submits per second (a quarter of the floor)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--submit", type=float, nargs="+", default=[0.0, 0.005, 0.01, 0.02],
                    help="ICP_SUBMIT_LINGER values (s)")
    ap.add_argument("--relay", type=float, nargs="+", default=[0.01, 0.03, 0.06],
                    help="ICP_OUTBOX_LINGER_BUSY values (s)")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    print(f"{'submit linger':>14} {'relay linger':>13} {'done/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'CPU ms/filing':>14} {'writes/filing':>14} {'deliveries/filing':>18}  load", flush=True)
    for _ in range(args.rounds):
        for submit, relay in itertools.product(args.submit, args.relay):
            r = run(args.rate, args.seconds, submit, relay)
            print(f"{submit * 1000:12.0f} ms {relay * 1000:10.0f} ms {r['done']:7.0f} {r['p50']:7.1f} {r['p99']:7.1f} "
                  f"{r['cpu']:14.3f} {r['writes']:14.3f} {r['deliveries']:18.3f}  {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
