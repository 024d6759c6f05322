"""`llm-gate eval` and `llm-gate check` in-process, as a developer runs them in a checkout:
a real git repository, the fake OpenAI server on 127.0.0.1, the terminal's output."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gate.cli import main
from tests.end_to_end.conftest import (
    BAD_SYSTEM,
    PullRequestRepo,
    git,
    new_pull_request_repo,
    responder,
    write,
)
from tests.fakes.openai_server import FakeOpenAI

KEY = "sk-cli-test-0123456789abcdefSECRET"


@dataclass
class Done:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _terminal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell: no runner variables, inputs or provider settings of the host."""
    for name in list(os.environ):
        if name.startswith(("INPUT_", "GITHUB_", "OPENAI_", "ANTHROPIC_", "LLM_GATE_", "RUNNER_")):
            monkeypatch.delenv(name)


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder=responder) as server:
        yield server


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PullRequestRepo:
    repo = new_pull_request_repo(tmp_path / "app")
    monkeypatch.chdir(repo.root)
    return repo


def cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: FakeOpenAI | None,
    *args: str,
) -> Done:
    if server is not None:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err
    return Done(code, captured.out, captured.err)


def feature_branch(repo: PullRequestRepo, changes: dict[str, str]) -> None:
    """A `feature` branch off `main` with one commit, checked out; `origin` is the repository
    itself, so `origin/main` and `origin/HEAD` exist as after a clone."""
    git(repo.root, "remote", "add", "origin", str(repo.root))
    git(repo.root, "fetch", "-q", "origin")
    git(repo.root, "remote", "set-head", "origin", "main")
    git(repo.root, "checkout", "-q", "-b", "feature")
    write(repo.root, changes)
    git(repo.root, "commit", "-qam", "change")


# --------------------------------------------------------------------------- the cache


def test_the_cache_never_counts_as_a_change(
    repo: PullRequestRepo,
    openai: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default cache dir inside the checkout gets a `.gitignore` of `*` when it is made,
    and `.llm-gate/` never shows among the changed files."""
    write(repo.root, {"prompts/system.md": BAD_SYSTEM + "\n"})
    first = cli(capsys, monkeypatch, openai, "eval", "--base", "main")
    assert first.code == 1, first.err
    assert (repo.root / ".llm-gate/cache/.gitignore").read_text().splitlines()[-1] == "*"
    git(repo.root, "checkout", "-q", "--", "prompts/system.md")
    (repo.root / ".llm-gate/notes.txt").write_text("a local run's leftovers\n")

    again = cli(capsys, monkeypatch, openai, "eval", "--base", "main", "--results-dir", "out")

    assert again.code == 0, again.err
    results = json.loads((repo.root / "out/llm-gate-results.json").read_text())
    assert results["verdict"] == "skipped"
    changed = results["changes"]["changed_paths"]
    assert not any(path.startswith((".llm-gate/", "out/")) for path in changed)


# --------------------------------------------------------------------------- which base


def test_without_base_eval_compares_with_the_default_branch_and_says_so(
    repo: PullRequestRepo,
    openai: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A committed change on a feature branch, no --base: the merge base with origin/HEAD is
    the base, the log names it, and the regression is found (not "nothing changed")."""
    feature_branch(repo, {"prompts/system.md": BAD_SYSTEM + "\n"})

    done = cli(capsys, monkeypatch, openai, "eval")

    assert done.code == 1, done.err
    assert (
        f"llm-gate: comparing with the merge base of HEAD and origin/main (the default branch), "
        f"{repo.base_sha[:12]}; pass --base to choose another"
    ) in done.out
    assert "Nothing relevant changed" not in done.out
    # 30 changed cases, 10 in the terminal: the log says where to see them all
    assert "--results-dir DIR writes every case side by side (HTML)" in done.out


def test_a_branch_that_tracks_another_compares_with_its_upstream(
    repo: PullRequestRepo,
    openai: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`git checkout -b fix origin/release`: the upstream is the base, and the log says so."""
    git(repo.root, "remote", "add", "origin", str(repo.root))
    git(repo.root, "checkout", "-q", "-b", "release")
    write(repo.root, {"README.md": "# release\n"})
    git(repo.root, "commit", "-qam", "release notes")
    release = git(repo.root, "rev-parse", "HEAD")
    git(repo.root, "fetch", "-q", "origin")
    git(repo.root, "checkout", "-q", "-b", "fix", "--track", "origin/release")
    write(repo.root, {"prompts/system.md": BAD_SYSTEM + "\n"})
    git(repo.root, "commit", "-qam", "fix")

    done = cli(capsys, monkeypatch, openai, "eval")

    assert done.code == 1, done.err
    assert (
        f"merge base of HEAD and origin/release (the upstream of the current branch), "
        f"{release[:12]}"
    ) in done.out


def test_without_base_or_default_branch_eval_asks_for_base(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No upstream, no origin/HEAD, no main or master: one line asking for --base."""
    repo = new_pull_request_repo(tmp_path / "app")
    git(repo.root, "branch", "-m", "main", "trunk")
    monkeypatch.chdir(repo.root)

    done = cli(capsys, monkeypatch, None, "eval")

    assert done.code == 1 and done.out == ""
    assert done.err == (
        "llm-gate: error: no base to compare against: the current branch has no upstream and "
        "there is no origin/HEAD, main or master; pass --base REF (e.g. --base origin/develop)\n"
    )


# --------------------------------------------------------------------------- local evidence


HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & </pre>'


def test_results_dir_holds_the_report_json_and_a_side_by_side_page(
    repo: PullRequestRepo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--results-dir gets the full report, the comment, the JSON and an HTML page with every
    case's inputs and both outputs, filterable, with hostile text escaped; the log says where.
    --report writes the full report (every case listed, no pointer to a job summary) and
    --junit one test case per case and gating metric."""
    git(repo.root, "checkout", "-q", "-b", "feature")
    write(repo.root, {"prompts/system.md": BAD_SYSTEM + "\n"})

    def hostile(body: dict[str, object]) -> str:
        answer = responder(body)  # type: ignore[arg-type]
        return answer if body["model"] == "judge-1" else answer + " " + HOSTILE

    with FakeOpenAI(responder=hostile) as server:
        done = cli(
            capsys, monkeypatch, server, "eval", "--base", "main", "--results-dir", "out",
            "--report", "full.md", "--junit", "junit.xml",
        )  # fmt: skip

    assert done.code == 1, done.err
    out = repo.root / "out"
    for name in ("llm-gate-report.md", "llm-gate-comment.md", "llm-gate-results.json"):
        assert f": out/{name}\n" in done.out
    page = (out / "llm-gate-report.html").read_text()
    assert "every case side by side (open it in a browser): out/llm-gate-report.html" in done.out
    assert "<script" not in page and "<img" not in page and "onerror=alert(2)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('<details class="case changed regressed"') == 30  # every case regressed
    assert "--results-dir DIR" not in done.out
    assert 'id="show-regressed"' in page and "regressed (30)" in page
    assert "How do I reset my password?" in page and "Sure." in page and "Steps: to" in page
    full = (repo.root / "full.md").read_text()
    assert full == (out / "llm-gate-report.md").read_text()
    assert "case-29" in full and "job summary" not in full
    junit = (repo.root / "junit.xml").read_text()
    assert junit.count("<testcase ") == 2 * 30  # contains and judge, 30 cases each
    assert junit.count("<failure ") == 2 * 30
    assert "&lt;script&gt;" in junit and "<script" not in junit


def test_eval_offers_no_option_that_does_nothing_locally() -> None:
    """`eval --help` lists no posting or event input; `run` keeps them all."""
    from gate.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    local = {s for a in commands["eval"]._actions for s in a.option_strings}
    remote = {s for a in commands["run"]._actions for s in a.option_strings}
    for gone in ("--github-token", "--mode", "--status-context", "--comment", "--shard",
                 "--allow-pull-request-target"):  # fmt: skip
        assert gone not in local and gone in remote
    assert {"--results-dir", "--report", "--junit", "--base", "--fail-on"} <= local


# --------------------------------------------------------------------------- check


MISTAKES = {
    "missing dataset": {
        "llm-gate.yml": ("dataset: evals/cases.jsonl", "dataset: evals/gone.jsonl")
    },
    "wrong rubric path": {"llm-gate.yml": ("rubric: evals/rubric.md", "rubric: evals/rubrik.md")},
    "missing {file, key} key": {
        "llm-gate.yml": ("key: support.model", "key: support.modle"),
    },
    "template variable the dataset lacks": {
        "prompts/support.md.j2": ("{{ question }}", "{{ question }} ({{ product }})"),
    },
    "jinja syntax error": {
        "prompts/support.md.j2": ("{{ question }}", "{% if question %}{{ question }}"),
    },
    "scorer variable the dataset lacks": {
        "llm-gate.yml": ('value: "{{ topic }}"', 'value: "{{ expected }}"'),
    },
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_check_finds_what_eval_finds_with_the_same_line(
    mistake: str,
    repo: PullRequestRepo,
    openai: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each common config mistake: `check` fails with exactly the line `eval` fails with, and
    neither calls the model."""
    git(repo.root, "checkout", "-q", "-b", "feature")
    for path, (old, new) in MISTAKES[mistake].items():
        text = (repo.root / path).read_text()
        assert old in text
        (repo.root / path).write_text(text.replace(old, new))

    checked = cli(capsys, monkeypatch, None, "check")
    evaluated = cli(capsys, monkeypatch, openai, "eval", "--base", "main")

    assert checked.code == 1 and evaluated.code == 1
    assert checked.err.startswith("llm-gate: error: ") and checked.err.count("\n") == 1
    assert checked.err in evaluated.err.splitlines(keepends=True)
    assert openai.requests == []


def test_check_of_a_valid_config_lists_cases_and_watched_files(
    repo: PullRequestRepo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A valid config: `valid`, each suite's case count, and what it watches."""
    done = cli(capsys, monkeypatch, None, "check")
    assert done.code == 0, done.err
    assert done.out.startswith("llm-gate.yml: valid, 1 suite(s)\n\nsupport: 30 case(s)")
    assert "evals/rubric.md" in done.out


def test_case_errors_say_why_in_the_terminal_and_the_report(
    repo: PullRequestRepo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A judge that gives no score for some answers: the count and the first answer show in
    the terminal and in the full report."""
    git(repo.root, "checkout", "-q", "-b", "feature")
    write(repo.root, {"prompts/system.md": "Be kind.\n"})

    def moody(body: dict[str, object]) -> str:
        messages = body["messages"]
        if body["model"] == "judge-1" and "password" in str(messages):
            return "I would rather not say."
        return responder(body)  # type: ignore[arg-type]

    with FakeOpenAI(responder=moody) as server:
        done = cli(capsys, monkeypatch, server, "eval", "--base", "main", "--report", "r.md")
    line = "2 judge answers had no score (first: the judge's answer holds no score: "
    assert f"  case errors: {line}" in done.out
    report = (repo.root / "r.md").read_text()  # the same line, with HTML entities for quotes
    assert f"Case errors: {line.replace(chr(39), '&#39;')}" in report


def test_a_branch_pushed_to_its_own_upstream_still_compares_with_the_default_branch(
    repo: PullRequestRepo,
    openai: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`feature/x` tracking `origin/feature/x` (its own pushed copy): that holds the change, so
    the base is the default branch, never the upstream."""
    feature_branch(repo, {"prompts/system.md": BAD_SYSTEM + "\n"})
    git(repo.root, "branch", "-m", "feature/x")
    git(repo.root, "fetch", "-q", "origin")
    git(repo.root, "branch", "-q", "--set-upstream-to", "origin/feature/x")

    done = cli(capsys, monkeypatch, openai, "eval")

    assert done.code == 1, done.err
    assert "merge base of HEAD and origin/main (the default branch)" in done.out
