"""The console's static files, checked without a browser: every referenced file exists, no inline script
(the CSP allows only files), every module import resolves, and the package ships the files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from services.console.app import CSP, STATIC, _file

ROOT = Path(__file__).resolve().parents[2]
HTML = [STATIC / "index.html", STATIC / "404.html"]
MODULES = sorted((STATIC / "js").rglob("*.js"))
IMPORT = re.compile(r"""(?:import\s[^'"]*?from\s*|import\s*\(\s*|^import\s*)['"](\.{1,2}/[^'"<]+)['"]""", re.M)


def test_html_references_existing_files_and_no_inline_script():
    for page in HTML:
        text = page.read_text(encoding="utf-8")
        for ref in re.findall(r'(?:src|href)="(/[^"]*)"', text):
            if ref == "/":
                continue
            assert (STATIC / ref.lstrip("/")).is_file(), f"{page.name}: {ref} missing"
        # every <script> has a src (CSP script-src 'self'): no inline code, no on…= handlers
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"{page.name}: inline script"
        assert not re.search(r"\son[a-z]+=", text), f"{page.name}: inline event handler"
    assert "script-src 'self' 'unsafe-eval'" in CSP and "unsafe-inline" not in CSP.split("script-src")[1].split(";")[0]


def test_every_module_import_resolves():
    assert MODULES, "no console modules found"
    for module in MODULES:
        for rel in IMPORT.findall(module.read_text(encoding="utf-8")):
            target = (module.parent / rel).resolve()
            assert target.is_file(), f"{module.relative_to(STATIC)} imports {rel}: missing"


def test_menu_pages_exist_and_have_roles():
    menu = (STATIC / "js" / "menu.js").read_text(encoding="utf-8")
    entries = re.findall(r"\{[^{}]*?path: '([^']+)'[^{}]*?\}", menu, re.S)
    assert "/entry" in entries and "/import" in entries
    for block in re.findall(r"\{ group: [^{}]*?\}", menu, re.S):
        assert "roles:" in block, f"menu entry without roles: {block}"


def test_static_lookup_never_leaves_the_folder():
    assert _file("index.html") is not None
    assert _file("js/main.js") is not None
    for bad in ("../app.py", "js/../../app.py", "/etc/passwd", "vendor/../../__init__.py", "js"):
        assert _file(bad) is None, bad


def test_package_data_ships_the_static_files():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["services.console"]
    base = ROOT / "services" / "console"
    shipped = {p for g in globs for p in base.glob(g) if p.is_file()}
    every = {p for p in (base / "static").rglob("*") if p.is_file()}
    assert every <= shipped, sorted(str(p.relative_to(base)) for p in every - shipped)
