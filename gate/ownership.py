"""Running as the workspace's owner, so nothing the container writes is root's.

A Docker action runs as root (GitHub asks action images not to set `USER`), while the job's
other steps run as the runner's user, who owns the checkout. Whatever root writes into the
workspace (the cache, the results, and `.git/index`, which `git diff` refreshes as a side
effect) then makes a later step, `actions/cache` or the next job's checkout fail with
"Permission denied". Handing files back after the run cannot cover what git rewrites, nor a run
that is killed; becoming the owner of `GITHUB_WORKSPACE` before anything is read or written
covers every file at once, with the owner's own permissions.
https://docs.github.com/actions/sharing-automations/creating-actions/dockerfile-support-for-github-actions#user
"""

from __future__ import annotations

import os
from pathlib import Path


def run_as_owner_of(workspace: Path) -> int | None:
    """Become the owner of `workspace` (its uid and gid, no supplementary groups) for the rest
    of the process, when this process runs as root and the workspace belongs to someone else.

    Returns the uid taken, or None when nothing changed (not root, no such directory, or a
    root-owned workspace as on a runner that runs as root).
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        owner = workspace.stat()
    except OSError:
        return None
    if owner.st_uid == 0:
        return None
    os.setgroups([])
    os.setgid(owner.st_gid)
    os.setuid(owner.st_uid)
    return owner.st_uid
