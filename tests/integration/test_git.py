"""Integration tests of the git adapter against real repositories made in a temp dir."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gate.errors import GitError
from gate.git import Git

ODD_NAMES = [
    "prompts/with space.md",
    "prompts/ünïcödé ✓.md",
    "prompts/new\nline.md",
    'prompts/"quoted".md',
    "prompts/tab\there.md",
]


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the machine's git config nor its identity leaks into the test repositories."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` and return its stdout."""
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def write(repo: Path, files: dict[str, str | None]) -> None:
    """Write (or delete, for None) files in the working tree."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def commit(repo: Path, message: str, files: dict[str, str | None]) -> str:
    """Write files, commit everything and return the new commit's sha."""
    write(repo, files)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    """A repository whose `main` has one base commit."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    commit(
        path,
        "base",
        {
            "llm-gate.yml": "suites: {}\n",
            "prompts/support.md": "Answer: {{ question }}\n",
            "prompts/old-name.md": "rename me\nline 2\nline 3\n",
            "README.md": "# demo\n",
            ".gitignore": "*.log\n",
        },
    )
    yield path


# --------------------------------------------------------------------------- commits


def test_resolve_gives_full_shas(repo: Path) -> None:
    """HEAD, a branch and a short sha all resolve to the full sha."""
    sha = git(repo, "rev-parse", "HEAD")
    g = Git(repo)
    assert g.resolve("HEAD") == sha
    assert g.resolve("main") == sha
    assert g.resolve(sha[:8]) == sha


def test_resolve_unknown_ref_is_a_one_line_git_error(repo: Path) -> None:
    """An unknown revision is a GitError naming it, not a traceback from subprocess."""
    with pytest.raises(GitError, match="unknown git revision 'no-such-branch'") as info:
        Git(repo).resolve("no-such-branch")
    assert "\n" not in str(info.value)


def test_merge_base_is_the_fork_point(repo: Path) -> None:
    """Diverged branches meet at the commit they forked from."""
    fork = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-b", "feature")
    head = commit(repo, "feature work", {"prompts/support.md": "changed\n"})
    git(repo, "checkout", "--quiet", "main")
    base = commit(repo, "main moves on", {"README.md": "# moved\n"})
    assert Git(repo).merge_base(base, head) == fork
    assert Git(repo).merge_base(base, fork) == fork


def test_merge_base_of_unrelated_histories_says_so(repo: Path) -> None:
    """Two roots share no history; the message says that, not 'shallow'."""
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "--orphan", "other")
    other = commit(repo, "unrelated", {"x.txt": "x\n"})
    with pytest.raises(GitError, match=f"commits {base[:7]} and {other[:7]} share no history"):
        Git(repo).merge_base(base, other)


def test_shallow_clone_without_base_asks_for_fetch_depth(repo: Path, tmp_path: Path) -> None:
    """A depth-1 clone lacks the base commit: the error says to set `fetch-depth: 0`."""
    base = git(repo, "rev-parse", "HEAD")
    commit(repo, "head", {"prompts/support.md": "changed\n"})
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth", "1", f"file://{repo}", str(clone))
    g = Git(clone)
    assert g.is_shallow()
    with pytest.raises(GitError) as info:
        g.merge_base(base, "HEAD")
    assert str(info.value) == (
        f"base commit {base[:7]} is not in the checkout (shallow clone?): "
        "set `fetch-depth: 0` on actions/checkout"
    )


def test_shallow_clone_with_base_but_no_history_asks_for_fetch_depth(
    repo: Path, tmp_path: Path
) -> None:
    """Both tips fetched at depth 1 have no common ancestor in the checkout: same advice."""
    git(repo, "checkout", "--quiet", "-b", "feature")
    commit(repo, "feature", {"prompts/support.md": "changed\n"})
    git(repo, "checkout", "--quiet", "main")
    base = commit(repo, "main moves on", {"README.md": "# moved\n"})
    clone = tmp_path / "clone"
    git(
        tmp_path,
        "clone",
        "--quiet",
        "--depth",
        "1",
        "--branch",
        "feature",
        f"file://{repo}",
        str(clone),
    )
    git(clone, "fetch", "--quiet", "--depth", "1", "origin", "main")
    assert Git(clone).resolve(base) == base  # present, but its history is cut off
    with pytest.raises(GitError, match="set `fetch-depth: 0` on actions/checkout"):
        Git(clone).merge_base(base, "HEAD")


def test_full_clone_is_not_shallow(repo: Path) -> None:
    """A repository with all its history is not shallow."""
    assert not Git(repo).is_shallow()


def test_not_a_repository_is_a_git_error(tmp_path: Path) -> None:
    """Running outside a repository fails with git's own one-line reason."""
    with pytest.raises(GitError, match="not a git repository"):
        Git(tmp_path).is_shallow()


# --------------------------------------------------------------------------- changes


def test_changed_files_between_commits(repo: Path) -> None:
    """Added, modified, deleted and renamed files between two commits, sorted by path."""
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "mv", "prompts/old-name.md", "prompts/new-name.md")
    head = commit(
        repo,
        "head",
        {"prompts/support.md": "Answer kindly\n", "README.md": None, "evals/new.jsonl": "{}\n"},
    )
    assert Git(repo).changed_files(base, head) == [
        ("deleted", "README.md", None),
        ("added", "evals/new.jsonl", None),
        ("renamed", "prompts/new-name.md", "prompts/old-name.md"),
        ("modified", "prompts/support.md", None),
    ]


def test_changed_files_of_the_working_tree(repo: Path) -> None:
    """Without a head sha: tracked edits, staged renames and untracked files, not ignored ones."""
    base = git(repo, "rev-parse", "HEAD")
    write(repo, {"prompts/support.md": "edited\n", "src/new.py": "x = 1\n", "debug.log": "no\n"})
    git(repo, "mv", "prompts/old-name.md", "prompts/renamed.md")
    assert Git(repo).changed_files(base, None) == [
        ("renamed", "prompts/renamed.md", "prompts/old-name.md"),
        ("modified", "prompts/support.md", None),
        ("added", "src/new.py", None),
    ]


def test_file_untracked_but_still_on_disk_is_modified(repo: Path) -> None:
    """`git rm --cached` leaves the file on disk: it is there, not deleted and added."""
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "rm", "--quiet", "--cached", "README.md")
    assert Git(repo).changed_files(base, None) == [("modified", "README.md", None)]


def test_odd_file_names_survive(repo: Path) -> None:
    """Spaces, unicode, quotes, tabs and newlines in names come back exactly."""
    base = git(repo, "rev-parse", "HEAD")
    head = commit(repo, "odd", dict.fromkeys(ODD_NAMES, "odd\n"))
    g = Git(repo)
    assert g.changed_files(base, head) == [("added", name, None) for name in sorted(ODD_NAMES)]
    write(repo, {name: "edited\n" for name in ODD_NAMES})
    untracked = "prompts/untracked\nname ✓.md"
    write(repo, {untracked: "new\n"})
    assert g.changed_files(head, None) == sorted(
        [("modified", name, None) for name in ODD_NAMES] + [("added", untracked, None)],
        key=lambda change: change[1],
    )


# --------------------------------------------------------------------------- contents


def test_read_at_a_revision_and_in_the_working_tree(repo: Path) -> None:
    """A file's bytes at a commit and on disk; None where it does not exist."""
    base = git(repo, "rev-parse", "HEAD")
    write(repo, {"prompts/support.md": "edited\n"})
    g = Git(repo)
    assert g.read(base, "prompts/support.md") == b"Answer: {{ question }}\n"
    assert g.read(None, "prompts/support.md") == b"edited\n"
    assert g.read(base, "missing.md") is None
    assert g.read(None, "missing.md") is None
    assert g.read(base, "prompts") is None  # a directory is no file
    assert g.read(None, "prompts") is None


def test_read_many_batches_odd_names(repo: Path) -> None:
    """One call reads every name, including ones the batch protocol cannot carry."""
    head = commit(repo, "odd", {name: f"content of {name}\n" for name in ODD_NAMES})
    g = Git(repo)
    wanted = [*ODD_NAMES, "missing.md", "README.md"]
    expected: dict[str, bytes | None] = {n: f"content of {n}\n".encode() for n in ODD_NAMES}
    expected |= {"missing.md": None, "README.md": b"# demo\n"}
    assert g.read_many(head, wanted) == expected
    assert g.read_many(None, wanted) == expected


def test_read_keeps_binary_bytes(repo: Path) -> None:
    """Binary content (with NULs and newlines) comes back byte for byte."""
    blob = bytes(range(256)) * 3
    (repo / "data.bin").write_bytes(blob)
    git(repo, "add", "data.bin")
    git(repo, "commit", "--quiet", "-m", "binary")
    assert Git(repo).read("HEAD", "data.bin") == blob


def test_read_at_unknown_revision_is_a_git_error(repo: Path) -> None:
    """An unknown revision is an error, not a file that is absent."""
    with pytest.raises(GitError, match="unknown git revision 'nope'"):
        Git(repo).read("nope", "README.md")


def test_read_outside_the_repository_is_refused(repo: Path) -> None:
    """A working-tree path that leaves the checkout is an error, never read."""
    (repo.parent / "secret.txt").write_text("no\n", encoding="utf-8")
    with pytest.raises(GitError, match="leaves the repository"):
        Git(repo).read(None, "../secret.txt")


# --------------------------------------------------------------------------- worktrees


def test_worktree_of_the_base_commit(repo: Path, tmp_path: Path) -> None:
    """A worktree holds the base commit's files, and goes away again."""
    base = git(repo, "rev-parse", "HEAD")
    commit(repo, "head", {"prompts/support.md": "changed\n"})
    tree = tmp_path / "base-tree"
    g = Git(repo)
    g.add_worktree(base, tree)
    assert (tree / "prompts/support.md").read_text(encoding="utf-8") == "Answer: {{ question }}\n"
    g.remove_worktree(tree)
    assert not tree.exists()
    assert "base-tree" not in git(repo, "worktree", "list")


def test_a_missing_checkout_is_not_a_missing_git(tmp_path: Path) -> None:
    """git run in a directory that is not there names the directory, not the git binary."""
    with pytest.raises(GitError, match="no such directory") as caught:
        Git(tmp_path / "gone").resolve("HEAD")
    assert "not installed" not in str(caught.value)
