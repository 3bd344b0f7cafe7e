"""Schemathesis against every service's OpenAPI document, a token per role (issue 9).

The operations come from each service's own `/openapi.json`, so a new endpoint is covered without
a line here. Each operation runs once with the token of one of the roles allowed to call it (`x-roles`, taken
in turn so that admin, provider, bureau and sponsor all take part), one `st run --checks all` per
(service, role), against the running `system` (its event loop
keeps serving while the CLI runs as a subprocess). Fails on any server error, undocumented status,
wrong content type or response that does not match its schema. Deterministic:
`--generation-deterministic` (no seed, no example database).

Budget: `ST_MAX_EXAMPLES` examples per operation (default 6) in the examples, coverage and fuzzing
phases, two CLI runs at a time: about two minutes on two cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from shared.config import SERVICES
from tests.conftest import System
from tests.integration.filing_helpers import Tenant

MAX_EXAMPLES = int(os.environ.get("ST_MAX_EXAMPLES", "6"))
HEAVY_BODY = 20  # properties in a request body's schema, nested ones included
ROLES = ("admin", "provider", "bureau", "sponsor")

# Schema-valid data may still break a rule the schema cannot state (an ID number's checksum, a code
# table, a rule across fields, an uploaded file that is no workbook): 400/413/415/422 are correct
# answers to such "positive" data; so are the conflicts and refusals of the use cases.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "410", "413", "415", "422", "423", "429"]

# Schemathesis' default refusals plus 413: a batch past its maxItems is refused as too large.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""

# Logging out revokes the token the run is using: that operation gets a run and a token of its own.
ENDS_SESSION = {"delete_session"}
ST = str(Path(sys.executable).with_name("st"))
SERVICES_UNDER_TEST = [s for s in os.environ.get("ST_SERVICES", ",".join(SERVICES)).split(",") if s]


def _operations(spec: dict) -> dict[tuple[str | None, bool], list[str]]:
    """operationIds per (role or None for public, ends the session). Each operation runs once, as one
    of the roles allowed to call it, taken in turn, so every role gets its share; a role refused
    everywhere would only be answered 403 (which the role tests check)."""
    out: dict[tuple[str | None, bool], list[str]] = {}
    turn = 0
    for path in sorted(spec["paths"]):
        for method in sorted(spec["paths"][path]):
            op = spec["paths"][path][method]
            roles = op.get("x-roles")
            allowed = [r for r in ROLES if roles is not None and r in roles]
            role = None if roles is None else (allowed[turn % len(allowed)] if allowed else None)
            turn += 1
            out.setdefault((role, op["operationId"] in ENDS_SESSION), []).append(op["operationId"])
    # public operations ride along with a role's run (a run's start-up costs seconds)
    public = out.get((None, False))
    host = next((k for k in out if k[0] is not None and not k[1]), None)
    if public and host:
        out[host] += public
        del out[(None, False)]
    return out


async def _run(base: str, spec_file: Path, config: Path, ops: list[str], token: str | None,
               report: Path, headers: dict[str, str]) -> tuple[int, str]:
    args = [ST, "--config-file", str(config), "run", str(spec_file), "--url", base, "--checks", "all",
            "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
            "--phases", "examples,coverage,fuzzing", "--workers", "1",
            "--no-color", "--request-timeout", "30", "--suppress-health-check", "all",
            "--report", "junit", "--report-junit-path", str(report)]
    for op in ops:
        args += ["--include-operation-id", op]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, cwd=report.parent)
    out, _ = await proc.communicate()
    return proc.returncode, out.decode(errors="replace")


def _heavy(spec: dict) -> list[str]:
    """Operations whose JSON body is a large object graph (a whole filing): the coverage phase's
    per-keyword cases there take minutes; they keep the examples and fuzzing phases."""
    def size(schema, seen) -> int:
        if isinstance(schema, list):
            return sum(size(x, seen) for x in schema)
        if not isinstance(schema, dict):
            return 0
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return 0
            seen.add(name)
            return size(spec["components"]["schemas"].get(name, {}), seen)
        return len(schema.get("properties", {})) + sum(size(v, seen) for v in schema.values())

    return [op["operationId"] for item in spec["paths"].values() for op in item.values()
            if size(op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"),
                    set()) > HEAVY_BODY]


@pytest.mark.timeout(600)
async def test_every_service_passes_schemathesis(system: System, tenant: Tenant, tmp_path: Path):
    base = str(system.client.make_url("")).rstrip("/")
    specs = {}
    for service in SERVICES_UNDER_TEST:
        r = await system.client.get(f"/api/{service}/openapi.json")
        specs[service] = await r.json()
    config = tmp_path / "schemathesis.toml"
    heavy = [op for spec in specs.values() for op in _heavy(spec)]
    config.write_text(CONFIG + "".join(
        f'\n[[operations]]\ninclude-operation-id = "{op}"\nphases = {{ coverage = {{ enabled = false }} }}\n'
        for op in heavy))

    def token(role: str | None) -> str | None:  # a session of its own per run
        return {
            "admin": lambda: system.token("admin"),
            "provider": lambda: system.token("provider", user_id=tenant.operator_id, provider_id=tenant.provider_id),
            "bureau": lambda: system.token("bureau", user_id="st-bureau", province="BJ"),
            "sponsor": lambda: system.token("sponsor", user_id="st-sponsor", provider_id=tenant.provider_id),
            None: lambda: None,
        }[role]()

    # credentials besides the session: detection's ingest takes a data source's key (X-API-Key)
    extra: dict[str, dict[str, str]] = {}
    if "detection" in specs:
        from tests.integration.detection_helpers import source_key

        extra["detection"] = {"X-API-Key": await source_key(system, "schemathesis")}
    jobs = []
    for service, spec in specs.items():
        spec_file = tmp_path / f"{service}.json"
        spec_file.write_text(json.dumps(spec))
        for (role, ends), ops in _operations(spec).items():
            jobs.append((f"{service}-{role or 'anonymous'}{'-logout' if ends else ''}", spec_file, ops, role))

    gate = asyncio.Semaphore(2)
    logs = Path(os.environ.get("ST_LOG_DIR", tmp_path))

    async def one(name, spec_file, ops, role):
        async with gate:
            started = time.monotonic()
            code, out = await _run(base, spec_file, config, ops, token(role), tmp_path / f"{name}.xml",
                                   extra.get(name.split("-")[0], {}))
            (logs / f"{name}.log").write_text(out)
            print(f"schemathesis {name}: exit {code} in {time.monotonic() - started:.1f} s")
            return name, code, out

    results = await asyncio.gather(*(one(*j) for j in jobs))
    failed = [(name, out) for name, code, out in results if code != 0]
    assert not failed, "\n\n".join(f"===== {name}\n{out[-6000:]}" for name, out in failed)
