"""Architecture rules from DESIGN.md, enforced with `ast`: pure stages stay pure."""

from __future__ import annotations

import ast
import importlib
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
    "render",
    "escape",
    "scorers",
    "values",
    "models",
    "html_report",
    "junit",
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
    "gate.main",
    "gate.git",
    "gate.github",
    "gate.cache",
    "gate.evaluate",
    "gate.providers",
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


def test_only_providers_speak_http_to_models() -> None:
    """httpx and aiohttp are imported only by the provider modules."""
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(n.split(".")[0] in ("httpx", "aiohttp", "httpx_aiohttp") for n in _imports(path))
    )
    assert all(u.startswith("providers/") for u in users), users
