"""The action end to end: entrypoint.py against fake GitHub and OpenAI servers on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.end_to_end.conftest import (
    BAD_SYSTEM,
    MODELS,
    PR_NUMBER,
    assert_no_secrets,
)
from tests.fakes.github_server import FakeGitHub

pytestmark = pytest.mark.e2e


def _status(github: FakeGitHub, sha: str) -> tuple[str, str]:
    status = github.latest_status(sha, "llm-gate")
    assert status is not None, "no llm-gate status on the head SHA"
    return status.state, status.description or ""


def _bodies(github: FakeGitHub) -> list[str]:
    return [c.body for c in github.comments(PR_NUMBER)]


def test_system_prompt_regression_fails_with_one_comment(
    pr_repo, github, openai, run_gate, tmp_path
):  # type: ignore[no-untyped-def]
    """A system prompt change that drops quality: failure status on the head SHA, one comment with
    the drop in its delta table, a non-zero exit; run again: still one comment, no model call."""
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    run = run_gate(pr_repo)
    assert run.returncode == 1, run.stderr
    assert run.outputs.get("verdict") == "fail", run.stdout + run.stderr
    state, description = _status(github, pr_repo.head_sha)
    assert state == "failure" and len(description) <= 140
    assert github.statuses(pr_repo.head_sha)[0].state == "pending"
    bodies = _bodies(github)
    assert len(bodies) == 1
    assert bodies[0].splitlines()[0] == "<!-- llm-gate config=llm-gate.yml -->"
    assert "| contains" in bodies[0] and "system_prompt" in bodies[0]
    assert int(run.outputs["regressions"]) >= 1
    assert run.output_path("report-path").read_text(encoding="utf-8") == run.summary
    assert run.outputs["comment-url"].startswith("http")
    requests_first = len(openai.requests)
    assert requests_first > 0

    again = run_gate(pr_repo)
    assert again.returncode == 1
    assert len(_bodies(github)) == 1
    assert len(openai.requests) == requests_first, "a re-run of the same PR sent model requests"
    assert _status(github, pr_repo.head_sha)[0] == "failure"
    assert_no_secrets(run, github, pr_repo.root, run.runner_temp, tmp_path / "cache")
    assert_no_secrets(again, github, again.runner_temp)


def test_readme_only_change_skips(pr_repo, github, openai, run_gate):  # type: ignore[no-untyped-def]
    """A README-only PR: success saying nothing relevant changed, no model request, no comment."""
    pr_repo.open_pull_request({"README.md": "# Support app\n\nMore words.\n"})
    run = run_gate(pr_repo)
    assert run.returncode == 0, run.stderr
    assert run.outputs["verdict"] == "skipped"
    state, description = _status(github, pr_repo.head_sha)
    assert state == "success" and "nothing relevant changed" in description.lower()
    assert openai.requests == []
    assert _bodies(github) == []


def test_skip_updates_an_existing_comment(pr_repo, github, openai, run_gate):  # type: ignore[no-untyped-def]
    """When a later push reverts the relevant change, the existing comment says so in place."""
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    run_gate(pr_repo)
    comment_id = github.comments(PR_NUMBER)[0].id
    pr_repo.open_pull_request({"README.md": "# Support app\n\nOnly docs now.\n"})
    run = run_gate(pr_repo)
    assert run.returncode == 0
    comments = github.comments(PR_NUMBER)
    assert [c.id for c in comments] == [comment_id]
    assert "nothing relevant changed" in comments[0].body.lower()


def test_model_and_temperature_changes_are_named(pr_repo, github, openai, run_gate):  # type: ignore[no-untyped-def]
    """A model-id change and a temperature change each show old → new in the comment."""
    models = MODELS.replace("model: gpt-4o\n", "model: gpt-4o-mini\n", 1).replace(
        "temperature: 0.2", "temperature: 1.5"
    )
    pr_repo.open_pull_request({"config/models.yaml": models})
    run = run_gate(pr_repo)
    assert run.returncode == 0, run.stderr
    body = _bodies(github)[0]
    assert "`model`: `gpt-4o` → `gpt-4o-mini`" in body
    assert "`temperature`: `0.2` → `1.5`" in body
    assert {b["model"] for b in openai.requests} >= {"gpt-4o", "gpt-4o-mini"}


def test_misspelled_config_key_is_an_error(pr_repo, github, openai, run_gate):  # type: ignore[no-untyped-def]
    """A misspelled key in llm-gate.yml: status error, the message names the key, exit 1."""
    config = (pr_repo.root / "llm-gate.yml").read_text(encoding="utf-8")
    pr_repo.open_pull_request({"llm-gate.yml": config.replace("rubric: evals", "rubrik: evals")})
    run = run_gate(pr_repo)
    assert run.returncode == 1
    assert "rubrik" in run.stdout + run.stderr
    state, description = _status(github, pr_repo.head_sha)
    assert state == "error" and "rubrik" in description
    assert run.outputs["verdict"] == "error"
    assert openai.requests == []
