"""Posting under adverse conditions, end to end: entrypoint.py against the fake servers with a
read-only token, a fork's pull request, injected GitHub faults, two runs at once, and the
two-workflow pattern (`mode: publish` on workflow_run)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.end_to_end.conftest import BAD_SYSTEM, PR_NUMBER, REPOSITORY, Run
from tests.fakes.events import pull_request_event, workflow_run_event
from tests.fakes.github_server import (
    CREATE_COMMENT,
    CREATE_STATUS,
    GET_PULL,
    LIST_COMMENTS,
)

pytestmark = pytest.mark.e2e


def _own_warnings(run: Run) -> list[str]:
    """The run's warnings that are not annotations on changed lines (those carry `file=`)."""
    return [line for line in run.stdout.splitlines() if line.startswith("::warning::")]


def test_read_only_token_reports_to_the_summary(pr_repo, github, run_gate):  # type: ignore[no-untyped-def]
    """A token without write access: one line naming both permissions, the full report in the
    job summary, the same verdict and exit code, no traceback."""
    github.read_only = True
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})

    run = run_gate(pr_repo)

    assert run.returncode == 1 and run.outputs["verdict"] == "fail"
    assert _own_warnings(run) == [
        "::warning::GitHub refused to post the report (403 Resource not accessible by "
        "integration): add `permissions: {pull-requests: write, statuses: write}` to the "
        "workflow job (fork PRs get a read-only token); the full report is in the job summary"
    ]
    assert "| contains" in run.summary and "Traceback" not in run.stdout + run.stderr
    assert run.stderr == ""
    assert github.comments(PR_NUMBER) == [] and github.statuses(pr_repo.head_sha) == []


def test_fork_pull_request_is_not_evaluated(pr_repo, github, openai, run_gate):  # type: ignore[no-untyped-def]
    """A fork's PR (no secrets, read-only token): no model call, exit 1, the summary explains
    why and how to evaluate it safely, one line about the permissions, no status."""
    github.read_only = True
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    pr_repo.extra_env["OPENAI_API_KEY"] = ""  # GitHub passes no secrets to a fork's run
    event = pull_request_event(
        number=PR_NUMBER,
        base_sha=pr_repo.base_sha,
        head_sha=pr_repo.head_sha,
        repository=REPOSITORY,
        head_repository="mallory/support-app",
    )

    run = run_gate(pr_repo, event=event)

    assert openai.requests == []
    assert run.returncode == 1 and run.outputs["verdict"] == "error"
    assert "did not evaluate this change" in run.summary
    assert "How to evaluate it safely" in run.summary
    warned = _own_warnings(run)
    assert len(warned) == 2 and "not evaluated: this pull request comes from a fork" in warned[0]
    assert "this pull request comes from a fork, whose token is read-only" in warned[1]
    assert github.statuses(pr_repo.head_sha) == [] and github.comments(PR_NUMBER) == []
    assert "Traceback" not in run.stderr


def test_github_faults_are_retried_and_leave_one_comment(pr_repo, github, run_gate):  # type: ignore[no-untyped-def]
    """A 5xx, a secondary rate limit, a 429 and a connection reset after GitHub created the
    comment: all retried; the duplicate the reset caused is deleted; the status is final."""
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    github.fail_next(LIST_COMMENTS, 502)
    github.secondary_rate_limit_next(CREATE_STATUS, retry_after=1)
    github.too_many_requests_next(GET_PULL, retry_after=1)
    github.reset_next(CREATE_COMMENT, after_serving=True)

    run = run_gate(pr_repo)

    assert github.pending_faults() == 0
    assert run.returncode == 1 and run.outputs["verdict"] == "fail", run.stdout + run.stderr
    assert len(github.requests_to(CREATE_COMMENT)) == 2  # the reset request, then its retry
    [comment] = github.comments(PR_NUMBER)
    assert f"head={pr_repo.head_sha}" in comment.body and "| contains" in comment.body
    assert [s.state for s in github.statuses(pr_repo.head_sha)] == ["pending", "failure"]
    assert _own_warnings(run) == []


def test_two_runs_at_once_leave_one_comment(pr_repo, github, run_gate):  # type: ignore[no-untyped-def]
    """Two runs for the same PR in parallel (a re-run, a double push): one comment stays."""
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    github.add_pull(PR_NUMBER, head_sha=pr_repo.head_sha, base_sha=pr_repo.base_sha)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: run_gate(pr_repo), range(2)))

    assert [r.returncode for r in runs] == [1, 1], [r.stderr for r in runs]
    [comment] = github.comments(PR_NUMBER)
    assert f"head={pr_repo.head_sha}" in comment.body
    assert github.latest_status(pr_repo.head_sha, "llm-gate").state == "failure"  # type: ignore[union-attr]
    assert {r.outputs["comment-url"] for r in runs} == {
        f"https://github.com/{REPOSITORY}/pull/{PR_NUMBER}#issuecomment-{comment.id}"
    }


def test_two_workflow_pattern_posts_from_the_artifact(pr_repo, github, run_gate):  # type: ignore[no-untyped-def]
    """The pull_request run posts nothing and leaves its results; the workflow_run run with
    `mode: publish` posts one comment and the status from them."""
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    evaluated = run_gate(pr_repo, **{"github-token": ""})
    assert evaluated.returncode == 1 and github.requests == []
    artifact = evaluated.output_path("report-path").parent
    assert (artifact / "llm-gate-publish.json").is_file()

    posted = run_gate(
        pr_repo,
        event_name="workflow_run",
        event=workflow_run_event(head_sha=pr_repo.head_sha, pr_number=PR_NUMBER),
        mode="publish",
        **{"results-dir": str(artifact)},
    )

    assert posted.returncode == 1 and posted.outputs["verdict"] == "fail", posted.stdout
    [comment] = github.comments(PR_NUMBER)
    assert "| contains" in comment.body and "Posted by llm-gate" in comment.body
    status = github.latest_status(pr_repo.head_sha, "llm-gate")
    assert status is not None and status.state == "failure"
    assert [s.state for s in github.statuses(pr_repo.head_sha)] == ["failure"]
