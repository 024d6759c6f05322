"""Provider faults end to end: a flaky provider still gives the right verdict, a provider that
is down ends `error` with the count of failed calls (never `success` on incomplete evidence),
a judge answer without a score is that case's error, and a provider that echoes the key in
its error body leaks it nowhere."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.end_to_end.conftest import (
    BAD_SYSTEM,
    GITHUB_TOKEN,
    PR_NUMBER,
    REPOSITORY,
    Run,
    assert_no_secrets,
    new_pull_request_repo,
    responder,
    run_entrypoint,
)
from tests.fakes.github_server import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.runner import workflow_commands

pytestmark = pytest.mark.e2e


def _regression_pr(tmp_path: Path, openai: FakeOpenAI) -> tuple[Run, FakeGitHub, str]:
    """The system-prompt regression PR of test_action, against `openai`."""
    repo = new_pull_request_repo(tmp_path / "workspace")
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    with FakeGitHub(REPOSITORY, token=GITHUB_TOKEN) as github:
        run = run_entrypoint(repo, github, openai.url, tmp_path / "temp", tmp_path / "cache")
        github.assert_no_surprises()
    assert_no_secrets(run, github, tmp_path / "temp", tmp_path / "cache", repo.root)
    return run, github, repo.head_sha


def _final_status(github: FakeGitHub, sha: str) -> tuple[str, str]:
    states = [s.state for s in github.statuses(sha)]
    assert states[0] == "pending" and states[-1] != "pending"
    status = github.latest_status(sha, "llm-gate")
    assert status is not None
    return status.state, status.description or ""


def test_flaky_provider_still_finds_the_regression(tmp_path: Path) -> None:
    """Every 5th call 429 and every 7th 500 (each with Retry-After: 0, to keep the test fast):
    retries absorb them, no case is lost, and the regression fails."""
    flaky = FakeOpenAI(
        responder=responder, rate_limit_every=5, error_every=7, error_retry_after="0"
    )
    with flaky as openai:
        run, github, sha = _regression_pr(tmp_path, openai)
        assert {429, 500} <= set(openai.statuses)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["verdict"] == "fail"
    assert _final_status(github, sha)[0] == "failure"
    body = github.comments(PR_NUMBER)[0].body
    assert "| case errors   |  0 of 30" in body


def test_provider_down_is_an_error_with_the_failed_calls(tmp_path: Path) -> None:
    """Every call 503 (Retry-After: 0): the run stops early as `error`, and the status
    description and the ::error line count the failed calls."""
    with FakeOpenAI(down=True, error_retry_after="0") as openai:
        run, github, sha = _regression_pr(tmp_path, openai)
        assert openai.answered == []
    assert run.returncode == 1
    assert run.outputs["verdict"] == "error"
    state, description = _final_status(github, sha)
    assert state == "error"
    assert re.search(r"\b\d+ calls failed after retries\b", description), description
    errors = [c for c in workflow_commands(run.stdout, run.stderr) if c.name == "error"]
    assert len(errors) == 1 and "HTTP 503" in errors[0].data
    assert "llm-gate: error, the gate could not decide" in github.comments(PR_NUMBER)[0].body
    assert "Traceback" not in run.stdout + run.stderr


def test_a_judge_answer_without_a_score_is_that_cases_error(tmp_path: Path) -> None:
    """The judge dodges one case on both sides: that case is counted as an error (1 of 30)
    and the run still decides; nothing crashes."""

    def dodging_judge(body: dict[str, Any]) -> str:
        if body["model"] == "judge-1" and "reset my password" in body["messages"][-1]["content"]:
            return "I would rather not grade this one."
        return responder(body)

    with FakeOpenAI(responder=dodging_judge) as openai:
        run, github, sha = _regression_pr(tmp_path, openai)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["verdict"] == "fail"
    assert _final_status(github, sha)[0] == "failure"
    body = github.comments(PR_NUMBER)[0].body
    assert "| case errors   | 1 of 30 (3.3%) | 1 of 30 (3.3%) |" in body
    assert "Traceback" not in run.stdout + run.stderr


def test_a_provider_echoing_the_key_leaks_it_nowhere(tmp_path: Path) -> None:
    """Every call answers 401 with the key in its error body: the run ends `error` and the
    key is in no log line, comment, status, summary, output, results or cache file."""
    with FakeOpenAI(script=["401"] * 200) as openai:
        run, github, sha = _regression_pr(tmp_path, openai)
    assert run.returncode == 1
    assert run.outputs["verdict"] == "error"
    assert _final_status(github, sha)[0] == "error"
    errors = [c for c in workflow_commands(run.stdout, run.stderr) if c.name == "error"]
    assert len(errors) == 1 and "HTTP 401" in errors[0].data and "***" in errors[0].data
    results = json.loads(run.output_path("results-path").read_text(encoding="utf-8"))
    assert results["verdict"] == "error"


def test_malformed_answers_fail_closed(tmp_path: Path) -> None:
    """Every 6th answer is broken JSON and every 9th connection drops: dropped calls are
    retried, broken answers are case errors, and too many of them make the run `error` with
    the counts, never `success`."""
    with FakeOpenAI(responder=responder, malformed_every=6, drop_every=9) as openai:
        run, github, sha = _regression_pr(tmp_path, openai)
    assert run.returncode == 1
    assert run.outputs["verdict"] == "error"
    state, description = _final_status(github, sha)
    assert state == "error"
    assert re.search(r"error rate above 5 %: base \d+ of 30 runs", description), description
