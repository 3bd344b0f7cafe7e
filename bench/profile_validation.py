"""CPU profile of the importer's validation of one chunk's worth of subjects, outside the services:
the bench workbook's first N subjects with their websites, read as the worker reads them, then
`assess.assess` (the wizard's rules, the file-wide keys, canonical form, credentials, sealing).

    .venv/bin/python bench/profile_validation.py [--subjects 5000] [--top 25]

Prints CPU ms per subject and the top functions by cumulative and own time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import importlib  # noqa: E402

from python_calamine_plus import CalamineWorkbook  # noqa: E402

make_workbook = importlib.import_module("bench.import").make_workbook  # bench/import.py's workbook
from services.importer import columns as C  # noqa: E402
from services.importer.assess import Plan, assess  # noqa: E402
from services.importer.reader import read_sheet  # noqa: E402


def groups(rows: int, subjects: int) -> list[tuple]:
    path = make_workbook(rows, 2)
    wb = CalamineWorkbook.from_path(str(path))
    s_rows = {}
    for r in read_sheet(wb, C.SUBJECT_SHEET, [c.key for c in C.SUBJECT_COLUMNS], max_rows=10**6):
        if len(s_rows) >= subjects:
            break
        s_rows[r.cells[0]] = r
    sites: dict[str, list] = {}
    for r in read_sheet(wb, C.WEBSITE_SHEET, [c.key for c in C.WEBSITE_COLUMNS], max_rows=10**6):
        if r.cells[0] in s_rows:
            sites.setdefault(r.cells[0], []).append([r.row_no, r.cells, []])
        elif len(sites) >= subjects:
            break
    return [(k, s.row_no, s.cells, [], sites.get(k, [])) for k, s in sorted(s_rows.items())]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000, help="the bench workbook to take subjects from")
    ap.add_argument("--subjects", type=int, default=5000)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    group = groups(args.rows, args.subjects)
    plan = Plan("k" * 32, "r" * 32, uuid.uuid4(), 1 << 30)
    errors: list = []
    prof = cProfile.Profile(time.thread_time)  # CPU time of this thread: wall time varies with the load
    t0 = time.process_time()
    prof.enable()
    assess(group, plan, errors)
    plan.flush()
    prof.disable()
    cpu = time.process_time() - t0
    assert not errors, errors[:3]
    print(f"{len(group)} subjects: {cpu:.2f} CPU-s = "
          f"{cpu / len(group) * 1000:.3f} ms per subject (under cProfile)")
    t0 = time.process_time()
    plan2 = Plan("k" * 32, "r" * 32, uuid.uuid4(), 1 << 30)
    assess(group, plan2, [])
    plan2.flush()
    cpu = time.process_time() - t0
    print(f"without the profiler: {cpu:.2f} CPU-s = {cpu / len(group) * 1000:.3f} ms per subject")
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
