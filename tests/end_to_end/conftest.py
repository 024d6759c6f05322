"""End-to-end harness: a real git repository with a pull request, the runner's environment,
`entrypoint.py` as a subprocess, and fake GitHub and OpenAI servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.events import pull_request_event
from tests.fakes.github_server import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "entrypoint.py"
API_KEY = "sk-test-e2e-0123456789abcdefSECRET"
GITHUB_TOKEN = "ghs_e2eTokenThatMustNeverLeak0123456789"
REPOSITORY = "acme/support-app"
PR_NUMBER = 42
GOOD_SYSTEM = "You are Acme's support assistant. Answer with concrete steps."
BAD_SYSTEM = "Answer in one word."

QUESTIONS = [
    "reset my password",
    "change my billing plan",
    "export my invoices",
    "enable two-factor login",
    "delete my account",
    "invite a teammate",
    "recover deleted files",
    "upgrade storage quota",
    "download the desktop app",
    "share a folder publicly",
    "revoke an API token",
    "change my email",
    "update payment card",
    "restore a previous version",
    "set up single sign-on",
    "cancel my trial",
    "rename a workspace",
    "move files between folders",
    "limit upload bandwidth",
    "find my receipts",
    "turn off notifications",
    "transfer ownership",
    "sync a mobile device",
    "block a device",
    "request a refund",
    "see storage usage",
    "pin a file offline",
    "report a phishing email",
    "merge duplicate accounts",
    "schedule a backup",
]

CONFIG = """\
suites:
  support:
    dataset: evals/cases.jsonl
    target:
      provider: openai
      model: {file: config/models.yaml, key: support.model}
      params: {file: config/models.yaml, key: support.params}
      system: prompts/system.md
      prompt: prompts/support.md.j2
    scorers:
      - {type: contains, value: "{{ topic }}", ignore_case: true}
      - {type: judge, rubric: evals/rubric.md, model: judge-1, scale: 5}
    thresholds:
      default: {max_drop: 0.05}
      judge: {max_drop: 0.3}
"""

MODELS = """\
support:
  model: gpt-4o
  params: {temperature: 0.2, max_tokens: 300}
triage:
  model: gpt-4o-mini
"""


def app_files() -> dict[str, str]:
    cases = "".join(
        json.dumps({"id": f"case-{i:02d}", "question": f"How do I {q}?", "topic": q.split()[-1]})
        + "\n"
        for i, q in enumerate(QUESTIONS)
    )
    return {
        "llm-gate.yml": CONFIG,
        "config/models.yaml": MODELS,
        "prompts/system.md": GOOD_SYSTEM + "\n",
        "prompts/support.md.j2": "Customer question: {{ question }}\n",
        "evals/cases.jsonl": cases,
        "evals/rubric.md": "Score 1-5: does the answer give concrete, correct steps?\n",
        "README.md": "# Support app\n",
    }


def responder(body: dict[str, Any]) -> str:
    """A scripted model: good answers under the good system prompt, one word under the bad one;
    the judge (model judge-1) scores answers with concrete steps 5 and others 2."""
    messages = body["messages"]
    if body["model"] == "judge-1":
        judged = messages[-1]["content"]
        return json.dumps({"score": 5 if "Steps:" in judged else 2, "reason": "scripted"})
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    question = messages[-1]["content"].removeprefix("Customer question: ").strip()
    if BAD_SYSTEM in system:
        return "Sure."
    task = question.removeprefix("How do I ").rstrip("?")
    return f"Steps: to {task}, open Settings and follow the guide."


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    runner_temp: Path
    workspace: Path

    def output_path(self, name: str) -> Path:
        """The file output `name` names, opened as a later step opens it: from the workspace."""
        return self.workspace / self.outputs[name]


@dataclass
class PullRequestRepo:
    """A repository whose `feature` branch is a pull request into `main`, checked out the way
    actions/checkout does by default: the merge commit, detached."""

    root: Path
    base_sha: str = ""
    head_sha: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    def open_pull_request(self, changes: dict[str, str], message: str = "change") -> None:
        git(self.root, "checkout", "-q", "-B", "feature", self.base_sha)
        write(self.root, changes)
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
        self.head_sha = git(self.root, "rev-parse", "HEAD")
        git(self.root, "checkout", "-q", "--detach", self.base_sha)
        git(self.root, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature")


def _parse_outputs(text: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for match in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.S | re.M):
        outputs[match.group(1)] = match.group(3)
    return outputs


@pytest.fixture
def pr_repo(tmp_path: Path) -> PullRequestRepo:
    root = tmp_path / "workspace"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, app_files())
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return PullRequestRepo(root, base_sha=git(root, "rev-parse", "HEAD"))


@pytest.fixture
def run_gate(tmp_path: Path, github: FakeGitHub, openai: FakeOpenAI):  # type: ignore[no-untyped-def]
    """Run entrypoint.py as the runner runs the container, and collect what it left."""
    counter = iter(range(1, 100))

    def run(
        repo: PullRequestRepo,
        *,
        event_name: str = "pull_request",
        event: dict[str, Any] | None = None,
        **inputs: str,
    ) -> Run:
        """One run; `event` replaces the pull_request payload (`event_name` names it)."""
        runner_temp = tmp_path / f"runner-temp-{next(counter)}"
        return run_entrypoint(
            repo, github, openai.url, runner_temp, tmp_path / "cache",
            event_name=event_name, event=event, **inputs,
        )  # fmt: skip

    return run


# --------------------------------------------------------------------------- issue 4 helpers
# Any number of pull requests (one repository each) through one pair of fake servers, and leak
# checks over everything a run leaves behind (tests/fakes/runner.py reads the log as the
# runner does).


def new_pull_request_repo(root: Path, files: dict[str, str] | None = None) -> PullRequestRepo:
    """A repository in `root` with the app (or `files`) committed on `main`."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write(root, app_files() if files is None else files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return PullRequestRepo(root, base_sha=git(root, "rev-parse", "HEAD"))


def run_entrypoint(
    repo: PullRequestRepo,
    github: FakeGitHub,
    openai_url: str,
    runner_temp: Path,
    cache_dir: Path,
    *,
    pr_number: int = PR_NUMBER,
    event_name: str = "pull_request",
    event: dict[str, Any] | None = None,
    **inputs: str,
) -> Run:
    """entrypoint.py for pull request `pr_number` of `repo`, as the runner runs the container
    (for any number of pull requests and in parallel); `event` replaces the pull_request
    payload and `event_name` names it."""
    runner_temp.mkdir(parents=True)
    (runner_temp / "home").mkdir()
    event_path = runner_temp / "event.json"
    if event is None:
        event = pull_request_event(
            number=pr_number, base_sha=repo.base_sha, head_sha=repo.head_sha, repository=REPOSITORY
        )
    event_path.write_text(json.dumps(event), encoding="utf-8")
    if event_name == "pull_request":
        if pr_number not in github._pulls:
            github.add_pull(pr_number, head_sha=repo.head_sha, base_sha=repo.base_sha)
        else:  # the push that triggered this run moved the pull request's head
            github.push_to_pull(pr_number, repo.head_sha)
    output_file = runner_temp / "output"
    summary_file = runner_temp / "summary.md"
    output_file.touch()
    summary_file.touch()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(runner_temp / "home"),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "1234",
        "GITHUB_WORKSPACE": str(repo.root),
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_SHA": git(repo.root, "rev-parse", "HEAD"),
        "RUNNER_TEMP": str(runner_temp),
        "INPUT_GITHUB-TOKEN": GITHUB_TOKEN,
        "INPUT_CONFIG": "llm-gate.yml",
        "INPUT_FAIL-ON": "regression",
        "INPUT_COMMENT": "update",
        "INPUT_CONCURRENCY": "8",
        "INPUT_CACHE-DIR": str(cache_dir),
        "INPUT_MAX-COST-USD": "",  # the runner passes an unset input as an empty string
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": openai_url,
        **repo.extra_env,
        **{f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()},
    }
    done = subprocess.run(
        [sys.executable, str(ENTRYPOINT)],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(
        done.returncode,
        done.stdout,
        done.stderr,
        _parse_outputs(output_file.read_text(encoding="utf-8")),
        summary_file.read_text(encoding="utf-8"),
        runner_temp,
        repo.root,
    )


def assert_no_secrets(run: Run, github: FakeGitHub, *roots: Path) -> None:
    """Neither the provider key nor the GitHub token, nor a 12-character piece of either,
    appears in stdout, stderr, the summary, the outputs, any comment or status, or any file
    under `roots` (.git included). `::add-mask::` lines are the one place a secret may be
    printed: the runner consumes them."""
    stdout = "\n".join(
        line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")
    )
    posted = [c.body for c in github._comments] + [s.description or "" for s in github._statuses]
    texts = [stdout, run.stderr, run.summary, *run.outputs.values(), *posted]
    for secret in (API_KEY, GITHUB_TOKEN):
        assert f"::add-mask::{secret}" in run.stdout
        for piece in (secret, secret[len(secret) // 2 - 6 :][:12]):
            assert not any(piece in text for text in texts), f"{secret[:6]}… leaked"
            for root in roots:
                for path in root.rglob("*"):
                    if path.is_file():
                        assert piece.encode() not in path.read_bytes(), (
                            f"{secret[:6]}… leaked into {path}"
                        )
