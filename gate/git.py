"""The git adapter: the only module that runs git (as a subprocess; no GitPython).

`workdir` is the top level of the checkout. Paths in and out are repository-relative with `/`
separators, exactly as git spells them (`-z` output, so spaces, unicode and even newlines in
file names survive). Every failure becomes a GitError with one line a person can act on.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from gate.errors import GitError

FileStatus = Literal["added", "modified", "deleted", "renamed"]
Change = tuple[FileStatus, str, str | None]  # (status, path, old path of a rename)

_HEX_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
# `git diff --name-status` letters; T (type change), U (unmerged) and X read as "modified".
_STATUS: dict[str, FileStatus] = {"A": "added", "D": "deleted", "R": "renamed", "C": "added"}


class Git:
    """Answers the questions llm-gate asks about one checkout."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)

    @classmethod
    def containing(cls, path: Path) -> Git:
        """The checkout that contains `path` (its top level), for local runs from a subfolder."""
        top = cls(path)._run(["rev-parse", "--show-toplevel"], ok=(0, 128))
        if top.returncode != 0:
            raise GitError(f"{path}: not inside a git repository; run llm-gate from your checkout")
        return cls(Path(os.fsdecode(top.stdout.strip())))

    # ------------------------------------------------------------------ commits

    def resolve(self, ref: str) -> str:
        """The full sha of a commit-ish (`HEAD`, a branch, a short sha)."""
        sha = self._commit(ref)
        if sha is None:
            raise GitError(f"unknown git revision '{ref}': no such commit in {self.workdir}")
        return sha

    def merge_base(self, a: str, b: str) -> str:
        """The best common ancestor of `a` (the PR's base commit) and `b` (the checkout)."""
        base = self._commit(a)
        if base is None:
            raise GitError(_not_in_checkout(a))
        head = self.resolve(b)
        result = self._run(["merge-base", base, head], ok=(0, 1, 128))
        sha = result.stdout.decode().strip()
        if result.returncode == 0 and sha:
            return sha
        if self.is_shallow():
            raise GitError(_not_in_checkout(a))
        if result.returncode == 128:
            raise GitError(f"git merge-base: {_first_error_line(result.stderr)}")
        raise GitError(f"commits {_short(a)} and {_short(b)} share no history")

    def local_base(self) -> tuple[str, str]:
        """The ref a local run compares against when none is given, and why that one.

        The current branch's upstream when it tracks another branch (`git checkout -b fix
        origin/main`), else the default branch: `origin/HEAD`, then `origin/main`,
        `origin/master`, `main`, `master`. A branch's own copy on the remote
        (`origin/fix` for `fix`) is not a base: it holds the change itself.
        """
        branch = self._output(["symbolic-ref", "--quiet", "--short", "HEAD"])
        upstream = self._output(
            ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"]
        )
        # `branch.<name>.merge` is the upstream's own name (`refs/heads/feature/x`), which
        # `origin/feature/x` alone does not tell apart from the remote's name
        merges = self._output(["config", "--get", f"branch.{branch}.merge"]) if branch else None
        if upstream and merges and merges != f"refs/heads/{branch}":
            return upstream, "the upstream of the current branch"
        remote_head = self._output(
            ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]
        )
        candidates = [remote_head] if remote_head else []
        for name in (*candidates, "origin/main", "origin/master", "main", "master"):
            if self._commit(name) is not None:
                return name, "the default branch"
        raise GitError(
            "no base to compare against: the current branch has no upstream and there is no "
            "origin/HEAD, main or master; pass --base REF (e.g. --base origin/develop)"
        )

    def _output(self, args: Sequence[str]) -> str | None:
        """The first line git prints for `args`, or None when it fails."""
        result = self._run(args, ok=(0, 1, 128))
        text = os.fsdecode(result.stdout).strip()
        return text if result.returncode == 0 and text else None

    def is_shallow(self) -> bool:
        """True when the checkout holds only part of the history (`fetch-depth` above 0)."""
        out = self._run(["rev-parse", "--is-shallow-repository"]).stdout
        return out.decode().strip() == "true"

    # ------------------------------------------------------------------ changes

    def changed_files(self, base: str, head: str | None) -> list[Change]:
        """What changed from `base` to `head`, or to the working tree when `head` is None.

        The working tree side includes untracked files that are not ignored, as "added".
        Sorted by path.
        """
        args = ["diff", "--name-status", "-M", "-z", "--no-ext-diff", "--no-relative", base]
        if head is not None:
            args.append(head)
        args.append("--")
        changes = {
            path: (status, path, old)
            for status, path, old in _parse_name_status(self._run(args).stdout)
        }
        if head is None:
            untracked = self._run(["ls-files", "--others", "--exclude-standard", "-z"]).stdout
            for raw in untracked.split(b"\0"):
                path = os.fsdecode(raw)
                if not path or path.endswith("/"):  # "" at the end; "sub/" is a nested repo
                    continue
                known = changes.get(path)
                # Removed from the index (`git rm --cached`) but still on disk: it is there.
                status: FileStatus = "modified" if known and known[0] == "deleted" else "added"
                changes[path] = (status, path, None)
        return [changes[path] for path in sorted(changes)]

    # ------------------------------------------------------------------ contents

    def read(self, rev: str | None, path: str) -> bytes | None:
        """A file's bytes at `rev` (the working tree when None); None when it is not there."""
        return self.read_many(rev, [path])[path]

    def read_many(self, rev: str | None, paths: Iterable[str]) -> dict[str, bytes | None]:
        """Several files at one revision, with one `git cat-file --batch` for the lot."""
        wanted = list(dict.fromkeys(paths))
        if rev is None:
            return {path: self._read_working_tree(path) for path in wanted}
        sha = self.resolve(rev)
        out: dict[str, bytes | None] = {}
        # The batch protocol is line based: names with line breaks take the slow road.
        batch = [p for p in wanted if "\n" not in p and "\r" not in p]
        out.update(self._cat_file_batch(sha, batch))
        for path in wanted:
            if path not in out:
                result = self._run(["cat-file", "blob", f"{sha}:{path}"], ok=(0, 128))
                out[path] = result.stdout if result.returncode == 0 else None
        return {path: out[path] for path in wanted}

    # ------------------------------------------------------------------ worktrees

    def add_worktree(self, sha: str, directory: Path) -> None:
        """Check out `sha` (detached) into `directory`, e.g. to run the base side's code."""
        self._run(["worktree", "add", "--detach", "--force", str(directory), sha])

    def remove_worktree(self, directory: Path) -> None:
        """Remove a worktree made by add_worktree, local changes and all."""
        self._run(["worktree", "remove", "--force", str(directory)])

    # ------------------------------------------------------------------ plumbing

    def _commit(self, ref: str) -> str | None:
        if ref.startswith("-"):  # never let a ref read as an option
            return None
        result = self._run(
            ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], ok=(0, 1, 128)
        )
        sha = result.stdout.decode().strip()
        return sha if result.returncode == 0 and sha else None

    def _read_working_tree(self, path: str) -> bytes | None:
        root = self.workdir.resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise GitError(f"{path}: the path leaves the repository; use a path inside it")
        try:
            return target.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as exc:
            raise GitError(f"{path}: cannot read the file: {exc.strerror}") from None

    def _cat_file_batch(self, sha: str, paths: Sequence[str]) -> dict[str, bytes | None]:
        if not paths:
            return {}
        request = b"".join(os.fsencode(f"{sha}:{path}") + b"\n" for path in paths)
        stdout = self._run(["cat-file", "--batch"], stdin=request).stdout
        out: dict[str, bytes | None] = {}
        pos = 0
        for path in paths:
            end = stdout.index(b"\n", pos)
            header = stdout[pos:end]
            pos = end + 1
            if header.endswith((b" missing", b" ambiguous")):
                out[path] = None
                continue
            _oid, kind, size = header.rsplit(b" ", 2)
            content = stdout[pos : pos + int(size)]
            pos += int(size) + 1  # the object, then a newline
            out[path] = content if kind == b"blob" else None
        return out

    def _run(
        self, args: Sequence[str], *, ok: Sequence[int] = (0,), stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        command = [
            "git",
            "--no-pager",
            "-c",
            "core.quotepath=off",
            # A container action runs as root over a workspace the runner user owns; git
            # refuses such a "dubious" repository unless told it is safe (git ≥ 2.35.2).
            "-c",
            f"safe.directory={self.workdir.resolve()}",
            *args,
        ]
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
        try:
            result = subprocess.run(
                command, cwd=self.workdir, input=stdin, capture_output=True, env=env, check=False
            )
        except (FileNotFoundError, NotADirectoryError):
            # subprocess raises the same error for a missing working directory as for a
            # missing git: tell them apart, the directory is the likelier mistake
            if not self.workdir.is_dir():
                raise GitError(_no_checkout(self.workdir)) from None
            raise GitError("git is not installed (or not on PATH)") from None
        if result.returncode not in ok:
            raise GitError(f"git {args[0]}: {_first_error_line(result.stderr)}")
        return result


def _no_checkout(workdir: Path) -> str:
    shown = str(workdir)
    if not workdir.is_absolute():
        shown += f" (relative to {Path.cwd()})"
    what = "not a directory" if workdir.exists() else "no such directory"
    return (
        f"{shown}: {what}; the checkout must be there (GITHUB_WORKSPACE, when set, must be "
        "the absolute path of the checkout)"
    )


def _parse_name_status(out: bytes) -> list[Change]:
    """Parse `git diff --name-status -z`: `M\\0path\\0`, `R100\\0old\\0new\\0`."""
    fields = out.split(b"\0")
    changes: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        letter = fields[i][:1].decode()
        status = _STATUS.get(letter, "modified")
        if letter in ("R", "C"):
            old, new = os.fsdecode(fields[i + 1]), os.fsdecode(fields[i + 2])
            changes.append((status, new, old if letter == "R" else None))
            i += 3
        else:
            changes.append((status, os.fsdecode(fields[i + 1]), None))
            i += 2
    return changes


def _first_error_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    for line in lines:
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                return line.removeprefix(prefix)
    return next((line for line in lines if line), "failed without a message")


def _short(ref: str) -> str:
    return ref[:7] if _HEX_SHA.fullmatch(ref) else ref


def _not_in_checkout(ref: str) -> str:
    what = "base commit" if _HEX_SHA.fullmatch(ref) else "base ref"
    return (
        f"{what} {_short(ref)} is not in the checkout (shallow clone?): "
        "set `fetch-depth: 0` on actions/checkout"
    )
