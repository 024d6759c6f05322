"""The lock files the image installs from agree with pyproject.toml (`make lock` rewrites them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "llm-gate (pyproject.toml)"


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _entries(path: Path) -> list[tuple[str, str, list[str], list[str]]]:
    """(name, version, hashes, what it is there for) for each pinned line of a uv lock."""
    entries = []
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8")):
        head = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", block)
        if head is None:
            continue
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        _, _, via = block.partition("# via")
        reasons = [line.strip().lstrip("#").strip() for line in via.splitlines()]
        entries.append((canonicalize_name(head[1]), head[2], hashes, [r for r in reasons if r]))
    return entries


def test_every_dependency_is_locked_at_a_version_pyproject_allows() -> None:
    """Each of pyproject's dependencies has a pin (one per Python where they differ) that
    satisfies its range, and the lock names no other package as pyproject's."""
    requirements = [Requirement(r) for r in _pyproject()["project"]["dependencies"]]
    wanted = {canonicalize_name(r.name): r for r in requirements}
    entries = _entries(ROOT / "requirements.lock")
    direct = {name for name, _, _, via in entries if SOURCE in via}
    assert direct == set(wanted), "the lock is stale: run `make lock`"
    for name, version, _, _ in entries:
        if name in wanted:
            allowed = wanted[name].specifier
            assert allowed.contains(version, prereleases=True), (
                f"{name}=={version} is outside pyproject's {allowed}: run `make lock`"
            )


def test_every_pin_carries_hashes() -> None:
    """`pip install --require-hashes` refuses a pin without one; each lock has them all."""
    for lock in ("requirements.lock", "requirements-build.lock"):
        entries = _entries(ROOT / lock)
        assert entries, lock
        assert all(hashes for _, _, hashes, _ in entries), lock


def test_the_build_lock_holds_the_build_backend_pyproject_asks_for() -> None:
    """The image builds the package offline from requirements-build.lock: it must pin exactly
    what `[build-system].requires` asks for."""
    wanted = [Requirement(r) for r in _pyproject()["build-system"]["requires"]]
    pins = {name: version for name, version, _, _ in _entries(ROOT / "requirements-build.lock")}
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is missing from requirements-build.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name]), "run `make lock`"
