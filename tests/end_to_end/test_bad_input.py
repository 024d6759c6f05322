"""Bad input end to end: every broken config, dataset, prompt or template is one `::error`
line naming the file (and line or key), a commit status `error` naming it too, exit 1, no
model call, nothing half-posted and no traceback.

The matrix runs as one pull request per case (each in its own repository), all at once
against one pair of fake servers, so the whole matrix costs about one run's time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.end_to_end.conftest import (
    CONFIG,
    GITHUB_TOKEN,
    MODELS,
    REPOSITORY,
    Run,
    assert_no_secrets,
    new_pull_request_repo,
    run_entrypoint,
)
from tests.fakes.github_server import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.runner import workflow_commands

pytestmark = pytest.mark.e2e

ROWS = [
    {"id": f"case-{i:02d}", "question": f"How do I do thing {i}?", "topic": f"thing {i}"}
    for i in range(5)
]
JSONL = "".join(json.dumps(row) + "\n" for row in ROWS)


def _config(old: str, new: str) -> dict[str, str]:
    assert old in CONFIG
    return {"llm-gate.yml": CONFIG.replace(old, new)}


@dataclass(frozen=True)
class Case:
    """A pull request that breaks one thing, and what the error must name."""

    change: dict[str, str]
    names: tuple[str, ...]  # in the status description and the ::error line


CASES: dict[str, Case] = {
    "malformed YAML": Case(
        {"llm-gate.yml": CONFIG + "  oops: [unclosed\n"}, ("llm-gate.yml:", "invalid YAML")
    ),
    "misspelled key": Case(_config("rubric: evals", "rubrik: evals"), ("llm-gate.yml:", "rubrik")),
    "unknown key": Case(
        _config("    thresholds:", "    treshold: 1\n    thresholds:"),
        ("llm-gate.yml:", "treshold"),
    ),
    "missing dataset": Case(
        _config("dataset: evals/cases.jsonl", "dataset: evals/missing.jsonl"),
        ("evals/missing.jsonl",),
    ),
    "missing prompt": Case(
        _config("prompt: prompts/support.md.j2", "prompt: prompts/missing.md.j2"),
        ("prompts/missing.md.j2",),
    ),
    "JSONL line not JSON": Case(
        {"evals/cases.jsonl": JSONL + '{"id": "case-05", "question": oops}\n'},
        ("evals/cases.jsonl:6", "not valid JSON"),
    ),
    "CSV ragged row": Case(
        {
            **_config("dataset: evals/cases.jsonl", "dataset: evals/cases.csv"),
            "evals/cases.csv": "id,question,topic\na,How?,x\nb,Why?\n",
        },
        ("evals/cases.csv:3", "2 fields"),
    ),
    "template column missing": Case(
        {"prompts/support.md.j2": "Customer question: {{ questoin }}\n"},
        ("prompts/support.md.j2", "questoin"),
    ),
    "scorer column missing": Case(
        _config('value: "{{ topic }}"', 'value: "{{ topik }}"'), ("topik",)
    ),
    "empty dataset": Case({"evals/cases.jsonl": "\n"}, ("evals/cases.jsonl", "no cases")),
    "binary prompt": Case(
        {"prompts/system.md": "GIF89a\x00\x01\x02\x00"}, ("prompts/system.md", "binary")
    ),
    "duplicate case ids": Case(
        {"evals/cases.jsonl": JSONL + json.dumps(ROWS[1]) + "\n"},
        ("evals/cases.jsonl:6", "duplicate case id 'case-01'"),
    ),
    "unpaired surrogate": Case(
        {"evals/cases.jsonl": JSONL + '{"id": "x", "question": "\\ud800", "topic": "t"}\n'},
        ("evals/cases.jsonl:6", "surrogate"),
    ),
    "model key missing": Case(
        _config("key: support.model}", "key: support.modl}"),
        ("config/models.yaml", "support.modl"),
    ),
}


@dataclass(frozen=True)
class Outcome:
    run: Run
    head_sha: str
    pr_number: int
    roots: tuple[Path, ...]  # the workspace, RUNNER_TEMP and the cache directory


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeGitHub, FakeOpenAI]]:
    """One fake GitHub and one fake OpenAI for the whole matrix."""
    with FakeGitHub(REPOSITORY, token=GITHUB_TOKEN) as github, FakeOpenAI() as openai:
        yield github, openai
        github.assert_no_surprises()


@pytest.fixture(scope="module")
def outcomes(
    servers: tuple[FakeGitHub, FakeOpenAI], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Every case of the matrix, each its own pull request, run in parallel."""
    github, openai = servers
    root = tmp_path_factory.mktemp("bad-input")
    files = {
        "llm-gate.yml": CONFIG,
        "config/models.yaml": MODELS,
        "prompts/system.md": "You are a support assistant.\n",
        "prompts/support.md.j2": "Customer question: {{ question }}\n",
        "evals/cases.jsonl": JSONL,
        "evals/rubric.md": "Score 1-5.\n",
    }

    def one(item: tuple[int, str]) -> tuple[str, Outcome]:
        index, name = item
        repo = new_pull_request_repo(root / f"repo-{index}", files)
        repo.open_pull_request(CASES[name].change, message=name)
        here = root / f"run-{index}"
        run = run_entrypoint(
            repo, github, openai.url, here / "temp", here / "cache", pr_number=100 + index
        )
        return name, Outcome(run, repo.head_sha, 100 + index, (repo.root, here))

    with ThreadPoolExecutor(max_workers=len(CASES)) as pool:
        return dict(pool.map(one, enumerate(CASES)))


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_clear_error(
    name: str, outcomes: dict[str, Outcome], servers: tuple[FakeGitHub, FakeOpenAI]
) -> None:
    """Exit 1, verdict `error`, a final `error` status and exactly one `::error` line, both
    naming the file and key; no model call, no traceback, no comment but the error's, and
    neither secret anywhere."""
    github, openai = servers
    outcome = outcomes[name]
    run = outcome.run
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs.get("verdict") == "error"

    statuses = github.statuses(outcome.head_sha)
    assert [s.state for s in statuses] == ["pending", "error"]
    description = statuses[-1].description or ""
    assert len(description) <= 140
    for needle in CASES[name].names:
        assert needle in description, description

    errors = [c for c in workflow_commands(run.stdout, run.stderr) if c.name == "error"]
    assert len(errors) == 1, run.stdout
    assert "\n" not in errors[0].data
    for needle in CASES[name].names:
        assert needle in errors[0].data

    comments = github.comments(outcome.pr_number)
    everything = [run.stdout, run.stderr, run.summary, *(c.body for c in comments)]
    assert not any("Traceback" in text for text in everything)
    assert len(comments) <= 1
    for comment in comments:
        assert "llm-gate: error, the gate could not decide" in comment.body
        assert "| metric" not in comment.body
    assert openai.requests == []
    assert_no_secrets(run, github, *outcome.roots)
