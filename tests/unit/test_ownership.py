"""Unit tests of gate/ownership.py: what llm-gate creates is handed back to the runner's user.

Changing an owner needs root, which tests do not have: they check which entries would be
handed back, and that a run that is not root changes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gate.ownership import hand_back, owned_entries, roots_to_hand_back


def test_roots_are_the_first_folder_below_the_workspace(tmp_path: Path) -> None:
    """`.llm-gate/cache` hands back `.llm-gate`; a folder outside the workspace itself."""
    workspace = tmp_path / "workspace"
    roots = roots_to_hand_back(
        [workspace / ".llm-gate" / "cache", workspace / ".llm-gate" / "x", tmp_path / "temp" / "r"],
        workspace,
    )
    assert roots == [workspace / ".llm-gate", tmp_path / "temp" / "r"]
    assert roots_to_hand_back([workspace], workspace) == []


def test_walk_takes_every_entry_and_follows_no_symlink(tmp_path: Path) -> None:
    """Every file and folder under a root is listed; a symlink is listed, its target is not."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    root = tmp_path / "workspace" / ".llm-gate"
    (root / "cache" / "ab").mkdir(parents=True)
    (root / "cache" / "ab" / "entry.json").write_text("{}")
    (root / "link").symlink_to(outside, target_is_directory=True)

    found = owned_entries([root, tmp_path / "missing"], os.getuid())

    assert set(found) == {
        root,
        root / "cache",
        root / "cache" / "ab",
        root / "cache" / "ab" / "entry.json",
        root / "link",
    }
    assert owned_entries([root], os.getuid() + 1) == []


RUNNER_UID = 1001  # the runner user's uid on GitHub-hosted runners
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="changing an owner needs root")


def test_not_root_changes_nothing(tmp_path: Path) -> None:
    """Outside a container (not root) nothing is chowned."""
    (tmp_path / "cache").mkdir()
    assert hand_back([tmp_path / "cache"], tmp_path, euid=RUNNER_UID) == []


@root_only
def test_root_hands_what_it_created_to_the_workspace_owner(tmp_path: Path) -> None:
    """As root: every root-owned entry under the roots goes to the workspace's owner; entries
    of other users and the target of a symlink stay as they are."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    os.chown(workspace, RUNNER_UID, RUNNER_UID)
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = workspace / ".llm-gate" / "cache"
    (cache / "ab").mkdir(parents=True)
    (cache / "ab" / "entry.json").write_text("{}")
    (cache / "link").symlink_to(outside, target_is_directory=True)
    theirs = cache / "theirs.json"
    theirs.write_text("{}")
    os.chown(theirs, 2002, 2002)

    changed = hand_back(roots_to_hand_back([cache], workspace), workspace)

    assert len(changed) == 5
    for entry in (workspace / ".llm-gate", cache, cache / "ab", cache / "ab" / "entry.json"):
        assert (entry.stat().st_uid, entry.stat().st_gid) == (RUNNER_UID, RUNNER_UID)
    assert (cache / "link").lstat().st_uid == RUNNER_UID
    assert outside.stat().st_uid == 0 and theirs.stat().st_uid == 2002


@root_only
def test_root_changes_nothing_when_the_workspace_is_root_owned(tmp_path: Path) -> None:
    """A workspace owned by root (a local container run) keeps everything as it is."""
    (tmp_path / ".llm-gate").mkdir()
    assert hand_back([tmp_path / ".llm-gate"], tmp_path) == []
