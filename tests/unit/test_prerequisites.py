"""`make test` checks the tools the tests call before running them (tests/check_prerequisites.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "check_prerequisites.sh"
INSTALL = "apt-get install -y libreoffice-calc kubectl chromium fonts-noto-cjk"


def run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_missing_tools_are_named_with_the_one_install_command(tmp_path):
    bare = tmp_path / "bin"  # a PATH with none of the tools
    bare.mkdir()
    out = run({"PATH": str(bare), "ICP_TEST_CHROMIUM": str(tmp_path / "chromium"),
               "ICP_TEST_CJK_FONT": str(tmp_path / "NotoSansCJK-Regular.ttc")})
    assert out.returncode == 1
    for name in ("soffice", "kubectl", "chromium", "NotoSansCJK", "rabbitmqctl"):
        assert name in out.stderr, name
    assert f"\n  {INSTALL}\n" in out.stderr


def test_this_machine_has_every_prerequisite():
    """What `make test` runs first: fails (never skips) on a machine that lacks one."""
    out = run(dict(os.environ))
    assert out.returncode == 0, out.stderr
