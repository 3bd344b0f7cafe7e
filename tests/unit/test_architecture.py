"""Structural rules: services never import each other; every subscription has a handler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.config import SERVICES
from shared.contracts import REGISTRY, subscriptions

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_service_never_imports_another_service(service):
    offenders = []
    for path in (ROOT / "services" / service).rglob("*.py"):
        for mod in _imports(path):
            parts = mod.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != service:
                offenders.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert offenders == []


def test_shared_never_imports_a_service():
    """Not even the composition roots: `shared.runtime` finds `services.<name>.app` and `shared.cli`
    finds `services.<name>.cli` by name."""
    offenders = []
    for path in (ROOT / "shared").rglob("*.py"):
        offenders += [f"{path.name}: {m}" for m in _imports(path) if m.split(".")[0] == "services"]
    assert offenders == []


def test_service_commands_are_found_by_name():
    """`icp admin create-provider` and the other filing commands come from services/filing/cli.py."""
    from shared.cli import build_parser, service_cli_modules

    assert "services.filing.cli" in service_cli_modules()
    parser = build_parser()
    args = parser.parse_args(["admin", "create-provider", "--name", "x", "--province", "BJ"])
    assert args.run.__module__ == "services.filing.cli"
    assert parser.parse_args(["demo"]).run.__module__ == "services.filing.cli"
    assert parser.parse_args(["admin", "token"]).run.__module__ == "shared.cli"


def test_every_service_cli_module_registers_its_commands():
    modules = sorted((ROOT / "services").glob("*/cli.py"))
    assert modules  # filing's at least
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert "register" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, path


def test_the_import_rule_detects_a_violation(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from services.filing import store\n")
    assert "services.filing" in _imports(bad)


@pytest.mark.parametrize("service", SERVICES)
def test_every_subscription_has_a_handler_and_every_handler_a_subscription(service):
    from shared.runtime import load_service

    handled = load_service(service).handlers.types()
    subscribed = {s.type for s in subscriptions(service) if s.run_of is None}
    assert handled == subscribed
    # an EventRun is handled as its events: their handler
    assert {s.run_of for s in subscriptions(service) if s.run_of is not None} <= handled


def test_every_message_has_a_consumer_and_a_valid_name():
    for type_, spec in REGISTRY.items():
        if type_.startswith("spine."):
            continue  # test-only contract
        assert spec.consumers, f"{type_} has no consumer: it would be unroutable"
        assert all(c in SERVICES for c in spec.consumers)
        assert spec.producer in SERVICES or spec.kind == "command" or type_ == "detection.site.detected"
