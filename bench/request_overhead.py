"""CPU of the platform's per-request parts, without a socket or a database: a request through the root
app, a service app's middleware and a trivial authenticated view (`aiohttp`'s `make_mocked_request`,
built beforehand, not timed), and a first filing's body through the API's parse, the bounds walk and
`validate_filing`.

    .venv/bin/python bench/request_overhead.py [--requests 5000] [--rounds 8]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/request_overhead.py   # that checkout's code

Prints the best rounds (process CPU per request / per body), steadier than the load bench on a busy host.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import os
import sys
import time
from pathlib import Path

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def chain(n: int, rounds: int) -> list[float]:
    import structlog
    from aiohttp.test_utils import make_mocked_request

    from shared import logs
    from shared.auth import Role, issue_token, new_principal
    from shared.web import Api, create_app, mount, root_app

    secret = "request-overhead-bench-secret-0123456789"
    logs.configure("info", "json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=io.StringIO()))  # the access log line, unprinted
    api = Api("bench", "bench")

    @api.post("/ping", roles=["provider"], status=201)
    async def ping(request):
        return {"ok": True}

    async def readiness() -> dict[str, bool]:
        return {}

    root = root_app()
    mount(root, "bench", create_app(api, secret=secret, readiness=readiness))
    root.freeze()
    p = new_principal(user_id="u", role=Role.PROVIDER, username="u", ttl=3600, provider_id="p")
    headers = {"Authorization": f"Bearer {issue_token(secret, p)}", "Content-Type": "application/json"}
    out = []
    for _ in range(rounds):
        reqs = [make_mocked_request("POST", "/api/bench/ping", headers=headers, app=root) for _ in range(n)]
        t = time.process_time()
        for req in reqs:
            resp = await root._handle(req)
        out.append((time.process_time() - t) / n)
        assert resp.status == 201, resp.status
    return out


def bodies(n: int, rounds: int) -> dict[str, list[float]]:
    import orjson

    from services.filing.entry import model as filing_model
    from shared.bounds import violations
    from shared.filing_data import FilingData
    from tests import filing_samples as fs

    raw = [orjson.dumps(fs.filing()) for _ in range(n)]
    with_raw = "raw" in inspect.signature(violations).parameters
    out: dict[str, list[float]] = {"parse (model_validate_json, strict)": [], "bounds walk": [],
                                   "validate_filing (check_filing + canonical)": []}
    for _ in range(rounds):
        t = time.process_time()
        parsed = [FilingData.model_validate_json(b, strict=True) for b in raw]
        out["parse (model_validate_json, strict)"].append((time.process_time() - t) / n)
        t = time.process_time()
        if with_raw:  # the body's text too, as shared.web passes it (a tree whose walk takes it)
            for m, b in zip(parsed, raw, strict=True):
                violations(m, single_line=False, raw=b)
        else:
            for m in parsed:
                violations(m, single_line=False)
        out["bounds walk"].append((time.process_time() - t) / n)
        t = time.process_time()
        for m in parsed:
            filing_model.validate_filing(m, copy=False)
        out["validate_filing (check_filing + canonical)"].append((time.process_time() - t) / n)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()
    best = lambda xs: " ".join(f"{x * 1e6:.1f}" for x in sorted(xs)[:3])  # noqa: E731
    print(f"request through root app + service middleware + trivial view: {best(asyncio.run(chain(args.requests, args.rounds)))} µs (best 3 of {args.rounds})")
    for name, xs in bodies(min(args.requests, 2000), args.rounds).items():
        print(f"first filing body, {name}: {best(xs)} µs")


if __name__ == "__main__":
    main()
