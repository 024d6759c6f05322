"""Architecture rules from DESIGN.md, enforced with `ast`: pure stages stay pure."""

from __future__ import annotations

import ast
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


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_adapter(module: str) -> None:
    """detect, plan, compare, render and friends read no environment, clock, network or GitHub."""
    imported = _imports(PACKAGE / f"{module}.py")
    bad = {name for name in imported for f in FORBIDDEN if name == f or name.startswith(f + ".")}
    assert not bad, f"gate/{module}.py imports {sorted(bad)}"


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
