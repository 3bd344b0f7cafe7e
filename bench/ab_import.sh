#!/usr/bin/env bash
# Before/now import runs alternated in one window (the host is shared: only same-window figures compare).
#   git archive <commit> | tar -x -C /tmp/imp-before && ln -s "$PWD/.venv" /tmp/imp-before/.venv
#   cp bench/import.py /tmp/imp-before/bench/import.py      # the same bench script for both
#   bench/ab_import.sh /tmp/imp-before [rounds=2] [rows=20000] ["--filing-workers 1" (more bench arguments)]
# Prints per run: end to end, CPU seconds of the services' processes + their PostgreSQL backends by phase,
# and the import phase's split (filing, verification, RabbitMQ, the host's busy CPU).
set -euo pipefail
before=${1:?the before tree}; rounds=${2:-2}; rows=${3:-20000}; extra=${4:-}
here=$(cd "$(dirname "$0")/.." && pwd)
summary() {
  python3 - "$1" "$2" <<'PY'
import ast, re, sys
label, path = sys.argv[1], sys.argv[2]
s = open(path).read()
total = re.search(r"([\d.]+) s end to end", s).group(1)
d = ast.literal_eval(re.search(r"CPU seconds per service between status changes: (\{.*\})", s).group(1))
phases = {ph.split("→")[1]: sum(x for k, x in v.items() if not k.startswith("~")) for ph, v in d.items()}
imp = d["IMPORTING→COMPLETED"]
print(f"{label:6s} e2e {total} s, CPU {sum(phases.values()):.1f} s:", " ".join(f"{k} {v:.1f}" for k, v in phases.items()),
      f"| import: filing {imp['filing']:.2f}+{imp.get('pg filing', 0):.2f} verification {imp['verification']:.2f}"
      f"+{imp.get('pg verification', 0):.2f} rabbitmq {imp.get('~rabbitmq', 0):.2f} host {imp.get('~host', 0):.1f}"
      f" | load {open('/proc/loadavg').read().split()[0]}")
PY
}
for _ in $(seq 1 "$rounds"); do
  (cd "$before" && PYTHONPATH="$before" .venv/bin/python bench/import.py --rows "$rows" --importer-workers 2 $extra > /tmp/ab-before.log 2>&1)
  summary before /tmp/ab-before.log
  (cd "$here" && .venv/bin/python bench/import.py --rows "$rows" --importer-workers 2 $extra > /tmp/ab-now.log 2>&1)
  summary now /tmp/ab-now.log
done
