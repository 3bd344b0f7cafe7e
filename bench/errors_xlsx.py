"""errors.xlsx of a large rejected file: time and memory of building the annotated copy, and of each
download, now (built once by a worker, streaming with xlsxwriter `constant_memory`: `services/importer/annotate.py`;
downloads serve the stored sealed bytes) against the reference in the same run (the former download: openpyxl loads the
whole upload, marks the cells, saves — on every request).

    .venv/bin/python bench/errors_xlsx.py [--rows 10000] [--downloads 4]

The file (cached in /tmp, generation not timed) is bench/import.py's workbook: `--rows` subjects and as
many websites (20,000 rows by default), every website's IP cell wrong (10,000 errors, the importer's
`max_errors`). Each variant runs in its own child process, as a server would: its RSS at start, after
the build, after each download, and its peak (ru_maxrss). No database is needed (the errors are made
as the worker records them).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import json
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from services.importer import columns as C  # noqa: E402

MiB = 1024 * 1024


def _errors(rows: int) -> list[dict]:
    col = [c.key for c in C.WEBSITE_COLUMNS].index("ip_ranges") + 1
    return [{"sheet": C.WEBSITE_SHEET, "row": C.FIRST_DATA_ROW + r, "column": col, "column_name": "网站IP地址",
             "field": "ip_ranges", "value": "300.1.1.1", "message": "IP地址格式不正确（第1段超出0-255）"}
            for r in range(rows)]


def _bad_file(rows: int) -> Path:
    path = Path(f"/tmp/icp-bench-errors-{rows}.xlsx")
    if path.exists():
        return path
    good = importlib.import_module("bench.import").make_workbook(rows, 1)
    from openpyxl import load_workbook

    wb = load_workbook(good)  # one-off generation: the IP cell of every website made wrong
    ws = wb[C.WEBSITE_SHEET]
    col = [c.key for c in C.WEBSITE_COLUMNS].index("ip_ranges") + 1
    for r in range(C.FIRST_DATA_ROW, C.FIRST_DATA_ROW + rows):
        ws.cell(row=r, column=col, value="300.1.1.1")
    wb.save(path)
    return path


def reference_build(original: bytes, errors: list[dict]) -> bytes:
    """The former errors.xlsx, as it ran on every download (services/importer/results.py before issue 9)."""
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    wb = load_workbook(io.BytesIO(original))
    by_cell: dict[tuple[str, int, int], list[str]] = defaultdict(list)
    for e in errors:
        if e["sheet"] in wb.sheetnames and e["row"] and e["column"]:
            by_cell[(e["sheet"], e["row"], e["column"])].append(e["message"])
    for (sheet, row, col), messages in by_cell.items():
        cell = wb[sheet].cell(row=row, column=col)
        cell.fill = PatternFill("solid", fgColor="FFC7CE")
        cell.font = Font(color="9C0006")
        cell.comment = Comment("\n".join(dict.fromkeys(messages)), "导入校验", width=300, height=120)
    ws = wb.create_sheet("错误列表", 0)
    ws.append(["工作表", "行", "列", "填写的值", "错误原因"])
    for e in errors:
        ws.append([e["sheet"], e["row"], e["column_name"], e["value"], e["message"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rss() -> float:
    return psutil.Process().memory_info().rss / MiB


def child(variant: str, path: Path, rows: int, downloads: int) -> dict:
    """One variant in this process (a stand-in for a server process)."""
    from services.importer.annotate import build, trim_heap
    from shared import crypto

    original = path.read_bytes()
    errors = _errors(rows)
    gc.collect()
    out = {"variant": variant, "rss_start": _rss(), "downloads": []}
    secret = "x" * 32
    if variant == "now":
        t = time.perf_counter()
        buf = io.BytesIO()
        build(original, errors, buf)  # once, in the worker, when the job is rejected
        stored = crypto.seal_bytes(secret, "import-annotated", buf.getvalue(), "job")
        del buf
        out["build_s"] = time.perf_counter() - t
        gc.collect()
        trim_heap()
        out["rss_after_build"] = _rss()
        out["size_mb"] = len(stored) / MiB
    for _ in range(downloads):
        t = time.perf_counter()
        if variant == "now":
            body = crypto.open_bytes(secret, "import-annotated", stored, "job")
        else:
            body = reference_build(original, errors)
            out["size_mb"] = len(body) / MiB
        del body
        gc.collect()
        out["downloads"].append({"s": time.perf_counter() - t, "rss": _rss()})
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=10_000, help="subjects (and as many websites)")
    p.add_argument("--downloads", type=int, default=4)
    p.add_argument("--child", choices=["reference", "now"])
    a = p.parse_args()
    path = _bad_file(a.rows)
    if a.child:
        print(json.dumps(child(a.child, path, a.rows, a.downloads)))
        return
    print(f"file: {path} ({path.stat().st_size / MiB:.1f} MiB, {2 * a.rows} rows, {a.rows} errors)")
    results = {}
    for variant in ("reference", "now"):
        r = subprocess.run([sys.executable, __file__, "--rows", str(a.rows), "--downloads", str(a.downloads),
                            "--child", variant], capture_output=True, text=True, check=True)
        results[variant] = json.loads(r.stdout.strip().splitlines()[-1])
    print("| variant | build (once) | each download | RSS start → after build → after each download (MiB) "
          "| peak RSS | errors.xlsx |")
    print("|---|---:|---:|---|---:|---:|")
    for variant, r in results.items():
        build_s = f"{r['build_s']:.2f} s" if "build_s" in r else "—"
        each = " / ".join(f"{d['s']:.2f}" for d in r["downloads"])
        trail = [f"{r['rss_start']:.0f}"]
        if "rss_after_build" in r:
            trail.append(f"{r['rss_after_build']:.0f}")
        trail += [f"{d['rss']:.0f}" for d in r["downloads"]]
        print(f"| {variant} | {build_s} | {each} s | {' → '.join(trail)} | {r['peak_rss']:.0f} MiB "
              f"| {r['size_mb']:.1f} MiB |")


if __name__ == "__main__":
    main()
