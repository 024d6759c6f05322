"""GitHub's size limits end to end: 3,000 regressed cases with long outputs still post one
comment under 65,536 characters, a job summary under 1 MiB, a status description of at most
140 characters and step outputs in the runner's multiline syntax."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.end_to_end.conftest import (
    BAD_SYSTEM,
    PR_NUMBER,
    app_files,
    assert_no_secrets,
    new_pull_request_repo,
    run_entrypoint,
)
from tests.fakes.github_server import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.runner import workflow_commands

pytestmark = pytest.mark.e2e

CASES = 3_000
FILLER = "This answer goes on at length to make the report large. " * 45  # ~2,500 characters

CONFIG = """\
suites:
  support:
    dataset: evals/cases.jsonl
    target:
      model: gpt-4o
      system: prompts/system.md
      prompt: prompts/support.md.j2
    scorers:
      - {type: contains, value: "{{ topic }}"}
"""


def long_answers(body: dict[str, Any]) -> str:
    """Under the good system prompt the topic and a long text; under the bad one, only text."""
    messages = body["messages"]
    topic = messages[-1]["content"].rsplit(" ", 1)[-1]
    if BAD_SYSTEM in messages[0]["content"]:
        return "Sorry. " + FILLER
    return f"Steps for {topic}: " + FILLER


def test_three_thousand_regressed_cases_fit_every_limit(tmp_path: Path) -> None:
    """3,000 pass→fail cases with ~2,500-character outputs: one comment below 65,536
    characters with a visible note pointing to the job summary, a summary within 1 MiB,
    a status description of at most 140 characters, every output in the delimiter syntax."""
    files = app_files()
    files["llm-gate.yml"] = CONFIG
    files["evals/cases.jsonl"] = "".join(
        json.dumps({"id": f"case-{i:04d}", "topic": f"topic{i:04d}"}) + "\n" for i in range(CASES)
    )
    files["prompts/support.md.j2"] = "Customer question about {{ topic }}\n"
    repo = new_pull_request_repo(tmp_path / "workspace", files)
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    with FakeGitHub("acme/support-app") as github, FakeOpenAI(responder=long_answers) as openai:
        run = run_entrypoint(
            repo, github, openai.url, tmp_path / "temp", tmp_path / "cache", concurrency="64"
        )
        github.assert_no_surprises()
        comments = github.comments(PR_NUMBER)
        status = github.latest_status(repo.head_sha, "llm-gate")
        assert_no_secrets(run, github, tmp_path / "temp", tmp_path / "cache", repo.root)

    assert run.returncode == 1, run.stderr
    assert run.outputs["verdict"] == "fail"
    assert run.outputs["regressed-cases"] == str(CASES)
    assert len(comments) == 1
    body = comments[0].body
    assert len(body) < 65_536
    assert f"{CASES:,} changed cases: {CASES:,} pass→fail (showing 10)" in body
    assert f"{CASES - 10:,} more cases are in the [job summary](https://github.com/" in body
    assert "more characters]</code>" in body  # each long output is cut, visibly
    assert status is not None and status.state == "failure"
    assert status.description and len(status.description) <= 140
    assert len(run.summary.encode()) <= 1_048_576
    assert run.output_path("report-path").read_text(encoding="utf-8") == run.summary
    results = json.loads(run.output_path("results-path").read_text(encoding="utf-8"))
    assert len(results["suites"][0]["rows"]) == CASES
    warnings = [c for c in workflow_commands(run.stdout, run.stderr) if c.name == "warning"]
    assert [(c.properties["file"], c.properties["line"]) for c in warnings] == [
        ("prompts/system.md", "1")
    ]


def test_every_output_uses_the_multiline_delimiter_syntax(tmp_path: Path) -> None:
    """GITHUB_OUTPUT holds only `name<<ghadelimiter_<random>` blocks, each delimiter unique,
    so no value (a comment URL, a path) can end its block early or set another output."""
    repo = new_pull_request_repo(tmp_path / "workspace")
    repo.open_pull_request({"README.md": "# Support app\n\nDocs only.\n"})
    with FakeGitHub("acme/support-app") as github, FakeOpenAI() as openai:
        run = run_entrypoint(repo, github, openai.url, tmp_path / "temp", tmp_path / "cache")
    raw = (run.runner_temp / "output").read_text(encoding="utf-8")
    blocks = re.findall(r"^([\w-]+)<<(ghadelimiter_[0-9a-f]{32})\n(.*?)\n\2\n", raw, re.S | re.M)
    assert "".join(f"{n}<<{d}\n{v}\n{d}\n" for n, d, v in blocks) == raw
    assert [name for name, _, _ in blocks] == [
        "verdict",
        "report-path",
        "results-path",
        "comment-url",
        "regressions",
        "regressed-cases",
        "junit-path",
    ]
    assert len({delimiter for _, delimiter, _ in blocks}) == len(blocks)
    assert run.outputs["verdict"] == "skipped"
