#!/usr/bin/env bash
# perf of filing's PostgreSQL backends during an import's write phase:
#   bench/perf_import_pg.sh [tree=.] [seconds=18] [out=/tmp/perf-import-pg.data]
#   perf report -i /tmp/perf-import-pg.data --children --sort symbol --stdio -g none | grep -E 'AfterTriggerEndQuery|ExecInsertIndexTuples|jsonb_recv|DoCopy'
# Runs `tree`'s bench/import.py (100,000 rows, 2 importer workers, a second filing process; for another
# checkout, copy this bench/import.py into it first, as for ab_import.sh), waits until a filing backend
# runs a COPY (the import phase), then records every `icp-filing` backend of the bench's database for
# `seconds`. Needs perf (/usr/bin/perf) and
# the privileges to attach to the postgres processes (root here).
set -euo pipefail
tree=$(cd "${1:-.}" && pwd); seconds=${2:-18}; out=${3:-/tmp/perf-import-pg.data}

psql_() { psql -h 127.0.0.1 -U postgres -Atc "$1"; }
(cd "$tree" && PYTHONPATH="$tree" .venv/bin/python bench/import.py --rows 100000 --importer-workers 2 \
  --filing-workers 1 > /tmp/perf-import-run.log 2>&1) &
for _ in $(seq 1 400); do
  sleep 0.5
  n=$(psql_ "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'icp_bench_import%'
             AND application_name = 'icp-filing' AND query ILIKE 'COPY%'")
  [ "${n:-0}" -gt 0 ] && break
done
sleep 2
pids=$(psql_ "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE datname LIKE 'icp_bench_import%'
              AND application_name = 'icp-filing'")
perf record -F 300 -g -p "$pids" -o "$out" -- sleep "$seconds" > /dev/null 2>&1
wait
grep 'end to end' /tmp/perf-import-run.log | head -1
