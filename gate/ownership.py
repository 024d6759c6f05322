"""Handing what the container created back to the runner's user.

A Docker action runs as root (GitHub asks action images not to set `USER`), while the job's
other steps run as the runner's user. A root-owned cache directory in the workspace makes a
later step that writes there, `actions/cache` restoring into it, or the next job's checkout
(which cleans the workspace) fail with "Permission denied". So after a run, every entry
llm-gate created (the cache directory, the results directory) is given to the owner of
`GITHUB_WORKSPACE`: only entries owned by root are changed, symlinks are not followed, and
nothing is made group- or world-writable.
https://docs.github.com/actions/sharing-automations/creating-actions/dockerfile-support-for-github-actions#user
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def roots_to_hand_back(paths: Iterable[Path], workspace: Path) -> list[Path]:
    """The top-most directory llm-gate may have created for each path.

    Inside the workspace that is the path's first component (`.llm-gate` for
    `.llm-gate/cache`); elsewhere (under `RUNNER_TEMP`) the path itself. The workspace itself
    is never one: it belongs to the runner already.
    """
    workspace = workspace.absolute()
    roots: list[Path] = []
    for path in paths:
        path = path.absolute()
        if path == workspace:
            continue
        if path.is_relative_to(workspace):
            path = workspace / path.relative_to(workspace).parts[0]
        if path not in roots:
            roots.append(path)
    return roots


def owned_entries(roots: Iterable[Path], uid: int) -> list[Path]:
    """Every existing entry under `roots` (the roots included) owned by `uid`; no symlink is
    followed, so the walk never leaves the roots."""
    found: list[Path] = []
    for root in roots:
        entries = [root]
        if root.is_dir() and not root.is_symlink():
            for folder, dirs, files in os.walk(root, followlinks=False):
                entries += [Path(folder) / name for name in [*dirs, *files]]
        for entry in entries:
            try:
                owner = entry.lstat().st_uid
            except OSError:  # gone meanwhile, or never there
                continue
            if owner == uid:
                found.append(entry)
    return found


def hand_back(roots: Iterable[Path], owner_of: Path, *, euid: int | None = None) -> list[Path]:
    """Give the root-owned entries under `roots` to the owner of `owner_of` (the workspace).

    Does nothing unless this process runs as root (`euid`, default the process's) and
    `owner_of` belongs to someone else; returns the entries it changed. An entry it cannot
    change is left as it is.
    """
    if euid is None:
        euid = os.geteuid() if hasattr(os, "geteuid") else -1
    if euid != 0 or not owner_of.exists():
        return []
    owner = owner_of.stat()
    if owner.st_uid == 0:
        return []
    changed = []
    for entry in owned_entries(roots, 0):
        try:
            os.chown(entry, owner.st_uid, owner.st_gid, follow_symlinks=False)
        except OSError:
            continue
        changed.append(entry)
    return changed
