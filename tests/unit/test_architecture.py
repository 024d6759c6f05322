"""Architecture rules from DESIGN.md, enforced with `ast`: pure stages stay pure."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gate"
PURE = [
    "annotate",
    "artifact",
    "events",
    "calibrate",
    "config",
    "datasets",
    "detect",
    "plan",
    "compare",
    "special",
    "signflip",
    "report",
    "escape",
    "scorers",
    "values",
    "models",
    "html_report",
    "junit",
    "targets/base",
    "targets/registry",
]
FORBIDDEN = {
    "os",
    "subprocess",
    "time",
    "datetime",
    "socket",
    "httpx",
    "aiohttp",
    "github",
    "requests",
    "gate.pipeline",
    "gate.action",
    "gate.effects",
    "gate.publish",
    "gate.git",
    "gate.github",
    "gate.cache",
    "gate.evaluate",
    "gate.targets.openai_http",
    "gate.settings",
    "gate.workflow",
    "random",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(module: str) -> list[Path]:
    """A module's file, or every file of a package (gate/scorers/)."""
    package = PACKAGE / module
    if package.is_dir():
        return sorted(package.rglob("*.py"))
    return [PACKAGE / f"{module}.py"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_adapter(module: str) -> None:
    """detect, plan, compare, render and friends read no environment, clock, network or GitHub."""
    files = _files(module)
    assert all(path.is_file() for path in files), f"gate/{module} is missing"
    for path in files:
        imported = _imports(path)
        bad = {n for n in imported for f in FORBIDDEN if n == f or n.startswith(f + ".")}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_every_scorer_module_is_registered() -> None:
    """A scorer is one module and one registry line: every scorer module's SCORER is listed."""
    from gate.scorers.registry import SCORERS

    helpers = {"__init__", "base", "registry", "templating"}
    for path in sorted((PACKAGE / "scorers").glob("*.py")):
        if path.stem in helpers:
            continue
        module = importlib.import_module(f"gate.scorers.{path.stem}")
        assert SCORERS.get(module.SCORER.type) is module.SCORER, path.name


def test_only_the_github_adapter_imports_pygithub() -> None:
    """PyGithub stays inside gate/github.py."""
    users = [
        path.name
        for path in PACKAGE.rglob("*.py")
        if any(n == "github" or n.startswith("github.") for n in _imports(path))
    ]
    assert users == ["github.py"]


def test_only_the_http_adapters_speak_http_to_models() -> None:
    """httpx and aiohttp are imported only by the HTTP adapters, gate/targets/*_http.py."""
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(n.split(".")[0] in ("httpx", "aiohttp", "httpx_aiohttp") for n in _imports(path))
    )
    assert users == ["targets/anthropic_http.py", "targets/openai_http.py"], users


def test_every_target_module_is_registered() -> None:
    """A target kind is one module and one registry line: every kind module's TARGET is listed."""
    from gate.targets.registry import TARGETS

    helpers = {"__init__", "base", "registry"}
    for path in sorted((PACKAGE / "targets").glob("*.py")):
        if path.stem in helpers or path.stem.endswith("_http"):
            continue
        module = importlib.import_module(f"gate.targets.{path.stem}")
        assert TARGETS.get(module.TARGET.provider) is module.TARGET, path.name


def test_target_kinds_load_without_the_http_stack() -> None:
    """A kind's config, request and cache key need no HTTP: only `connect` imports its adapter."""
    code = (
        "import sys\n"
        "from gate.models import Message\n"
        "from gate.targets.registry import TARGETS\n"
        "kind = TARGETS['openai']\n"
        "request = kind.request(base_url='http://x', model='m', messages=(Message('user', 'hi'),),"
        " params=(), tools=None, repeat=0)\n"
        "assert request.key and request.payload()['model'] == 'm'\n"
        "print(sorted(m for m in ('httpx', 'aiohttp', 'httpx_aiohttp') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
