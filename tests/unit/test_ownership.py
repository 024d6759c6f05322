"""Unit tests of gate/ownership.py: the action runs as the workspace's owner, so nothing it
writes (the cache, the results, `.git/index` refreshed by `git diff`) is root's.

Taking another uid cannot be undone, so each case runs in a child process. Becoming someone
else needs root: CI runs as root; elsewhere those cases cannot run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER_UID = 1001
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing the uid needs root")

CHILD = """
import json, os, subprocess, sys
from pathlib import Path
from gate.ownership import run_as_owner_of
workspace = Path(sys.argv[1])
if len(sys.argv) > 2:  # start as this user instead of root
    os.setuid(int(sys.argv[2]))
taken = run_as_owner_of(workspace)
(workspace / "written").write_text("x")
subprocess.run(["git", "diff", "--quiet"], cwd=workspace)
print(json.dumps(taken))
"""


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory another user can reach (pytest's own is root's alone)."""
    with tempfile.TemporaryDirectory(prefix="llm-gate-owner-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def _workspace(tmp_path: Path, uid: int) -> Path:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    (workspace / "tracked").write_text("a")
    subprocess.run(["git", "add", "tracked"], cwd=workspace, check=True)
    os.utime(workspace / "tracked", (0, 0))  # stale stat data: `git diff` refreshes the index
    for entry in [workspace, *workspace.rglob("*")]:
        os.chown(entry, uid, uid, follow_symlinks=False)
    return workspace


def _run_child(workspace: Path, *start_as: str) -> object:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_CONFIG_COUNT": "1",
           "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(workspace), *start_as],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@as_root
def test_root_becomes_the_workspace_owner(open_tmp: Path) -> None:
    """As root, with a checkout owned by the runner's uid: the process takes that uid, and what
    it writes, `.git/index` included, belongs to the runner's user."""
    workspace = _workspace(open_tmp, RUNNER_UID)

    assert _run_child(workspace) == RUNNER_UID

    owners = {p.relative_to(workspace).as_posix(): p.lstat().st_uid for p in workspace.rglob("*")}
    assert owners["written"] == RUNNER_UID and owners[".git/index"] == RUNNER_UID
    assert set(owners.values()) == {RUNNER_UID}


@as_root
def test_a_root_owned_workspace_keeps_root(open_tmp: Path) -> None:
    """A runner that runs as root (its checkout is root's): nothing changes."""
    workspace = _workspace(open_tmp, 0)

    assert _run_child(workspace) is None
    assert (workspace / "written").stat().st_uid == 0


def test_not_root_changes_nothing(open_tmp: Path) -> None:
    """Not root: the process stays who it is, whoever owns the workspace."""
    from gate.ownership import run_as_owner_of

    if os.geteuid() != 0:
        assert run_as_owner_of(open_tmp) is None
        return
    workspace = _workspace(open_tmp, RUNNER_UID)
    os.chmod(workspace, 0o777)
    assert _run_child(workspace, str(RUNNER_UID + 1)) is None
    assert (workspace / "written").stat().st_uid == RUNNER_UID + 1
