"""The importer's RSS across many small jobs, and across a large rejected file with its errors.xlsx
downloads: does the process return to its level after each job (issue 9: +5 MiB per small job, +185 MiB
per errors.xlsx download, for good)?

    .venv/bin/python bench/importer_rss.py [--jobs 30] [--rows 20] [--big 10000] [--downloads 4]

`icp serve filing`, `verification` and `importer` (role all) run as child processes on a throwaway
database and vhost of the local servers (as bench/import.py). Then `--jobs` valid files of `--rows`
websites each (unique keys) are imported one after the other (upload → COMPLETED → result downloaded),
then a rejected file of `--big` subjects + `--big` websites (every IP wrong) whose errors.xlsx is
downloaded `--downloads` times. The importer's RSS is read after each step, 1 s after it settled.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import psutil  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from openpyxl.utils import quote_sheetname  # noqa: E402
from openpyxl.workbook.defined_name import DefinedName  # noqa: E402

from bench.submit import AMQP, PG, SECRET, free_port, rabbitmqctl, token, wait_http  # noqa: E402
from services.importer import columns as C  # noqa: E402
from shared import validate as v  # noqa: E402

_import_bench = importlib.import_module("bench.import")
MiB = 1024 * 1024


def small_workbook(rows: int, offset: int) -> bytes:
    """`rows` subjects with one website each; keys unique per `offset`."""
    import io

    first17 = "11010519800101123"
    rid = first17 + v.resident_id_check_char(first17)
    wb = Workbook(write_only=True)
    ws_s = wb.create_sheet(C.SUBJECT_SHEET)
    ws_s.append([c.key for c in C.SUBJECT_COLUMNS])
    ws_s.append([c.label for c in C.SUBJECT_COLUMNS])
    ws_w = wb.create_sheet(C.WEBSITE_SHEET)
    ws_w.append([c.key for c in C.WEBSITE_COLUMNS])
    ws_w.append([c.label for c in C.WEBSITE_COLUMNS])
    for i in range(offset, offset + rows):
        ws_s.append([
            f"S{i:06d}", "企业", "营业执照（个人或企业）", _import_bench._uscc(50_000_000 + i), f"深圳市测试有限公司{i}",
            "广东省", "440300", "440305", "深圳市南山区科技园路1号", "科技园路1号A座101室", "张三", "", "张三",
            "居民身份证", rid, "2020-01-01", "长期", f"17{i:09d}", "", f"18{i:09d}", f"r{i}@example.com",
        ])
        ws_w.append([
            f"S{i:06d}", "网站", "测试科技官网", f"rss{i}.com", f"www.rss{i}.com", "单位门户网站", "以上都不涉及",
            "", "中文简体", "", "是", *[""] * 9, "云接入", "203.0.113.10-203.0.113.20", "广东省",
        ])
    meta = wb.create_sheet(C.META_SHEET)
    meta.append(["模板版本", C.TEMPLATE_VERSION])
    meta.sheet_state = "hidden"
    wb.defined_names[C.VERSION_NAME] = DefinedName(C.VERSION_NAME, attr_text=f"{quote_sheetname(C.META_SHEET)}!$B$1")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def run(args, base: dict[str, str], importer: psutil.Process) -> None:
    pid = "rss" + uuid.uuid4().hex[:8]
    admin = {"Authorization": f"Bearer {token('admin')}"}
    prov = {"Authorization": f"Bearer {token('provider', user_id='bench-op', provider_id=pid)}"}
    imp = base["importer"] + "/api/importer"

    def rss() -> float:
        return importer.memory_info().rss / MiB

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=900)) as s:
        async with s.post(f"{base['filing']}/api/filing/providers", headers=admin,
                          json={"name": "内存测试接入商", "province": "GD", "provider_id": pid}) as r:
            assert r.status == 201, await r.text()
        await asyncio.sleep(1)

        async def job(data: bytes) -> dict:
            form = aiohttp.FormData()
            form.add_field("file", data, filename="rss.xlsx")
            async with s.post(f"{imp}/jobs", data=form, headers=prov) as r:
                body = await r.json()
                assert r.status == 202, body
            while body["status"] not in ("COMPLETED", "REJECTED", "FAILED"):
                await asyncio.sleep(0.2)
                async with s.get(f"{imp}/jobs/{body['job_id']}", headers=prov) as r:
                    body = await r.json()
            return body

        start = rss()
        trail = []
        for n in range(args.jobs):
            body = await job(small_workbook(args.rows, 1000 + n * args.rows))
            assert body["status"] == "COMPLETED", body
            async with s.get(f"{imp}/jobs/{body['job_id']}/result", headers=prov) as r:
                assert r.status == 200
                await r.read()
            await asyncio.sleep(1)
            trail.append(rss())
        print(f"small jobs ({args.jobs} × {args.rows} websites): RSS at start {start:.0f} MiB, after job "
              + ", ".join(f"{i + 1}: {x:.0f}" for i, x in enumerate(trail) if i in (0, 4, 9, 19, 29, len(trail) - 1))
              + f" MiB → {(trail[-1] - trail[0]) / max(1, len(trail) - 1):+.2f} MiB per job after the first")

        path = importlib.import_module("bench.errors_xlsx")._bad_file(args.big)
        before = rss()
        t = time.perf_counter()
        body = await job(path.read_bytes())
        assert body["status"] == "REJECTED", body
        while not body["errors_file_available"]:
            await asyncio.sleep(0.2)
            async with s.get(f"{imp}/jobs/{body['job_id']}", headers=prov) as r:
                body = await r.json()
        built = time.perf_counter() - t
        await asyncio.sleep(1)
        after_build = rss()
        downloads = []
        for _ in range(args.downloads):
            t = time.perf_counter()
            async with s.get(f"{imp}/jobs/{body['job_id']}/errors.xlsx", headers=prov) as r:
                assert r.status == 200
                size = len(await r.read())
            downloads.append((time.perf_counter() - t, rss()))
        print(f"rejected file ({2 * args.big} rows, {body['error_count']} errors): upload → errors.xlsx ready in "
              f"{built:.1f} s; RSS {before:.0f} → {after_build:.0f} MiB after the job and its annotated copy; "
              "downloads (" + f"{size / MiB:.1f} MiB): " + ", ".join(f"{d:.2f} s → {m:.0f} MiB" for d, m in downloads))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=30)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--big", type=int, default=10_000)
    ap.add_argument("--downloads", type=int, default=4)
    args = ap.parse_args()
    run_id = uuid.uuid4().hex[:8]
    db = vhost = f"icp_bench_rss_{run_id}"
    admin = await asyncpg.connect(f"{PG}/postgres")
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    env = {**os.environ, "ICP_DATABASE_URL": f"{PG}/{db}", "ICP_AMQP_URL": f"{AMQP}/{vhost}", "ICP_SECRET_KEY": SECRET,
           "ICP_LOG_LEVEL": "warning", "ICP_DB_POOL_MIN": "1", "ICP_DB_POOL_MAX": "4"}
    procs: dict[str, subprocess.Popen] = {}
    base: dict[str, str] = {}
    try:
        migrate = subprocess.run([str(ROOT / ".venv/bin/icp"), "migrate"], env=env, cwd=ROOT, capture_output=True)
        assert migrate.returncode == 0, migrate.stderr.decode()[-2000:]
        for service in ("filing", "verification", "importer"):
            port = free_port()
            procs[service] = _import_bench.spawn(service, port, env)
            base[service] = f"http://127.0.0.1:{port}"
        for service, url in base.items():
            await wait_http(f"{url}/api/{service}/healthz")
        await run(args, base, psutil.Process(procs["importer"].pid))
    finally:
        await _import_bench.teardown(procs, db, vhost)


if __name__ == "__main__":
    asyncio.run(main())
