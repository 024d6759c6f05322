"""The action's log and budget end to end: the estimate and progress in a group, max-cost-usd."""

from __future__ import annotations

import re

import pytest

from tests.end_to_end.conftest import BAD_SYSTEM

pytestmark = pytest.mark.e2e


def test_the_log_shows_the_estimate_then_progress_inside_a_group(pr_repo, github, openai, run_gate):  # type: ignore[no-untyped-def]
    """Before any call the log gives the estimate; progress lines sit in a collapsible group."""
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    run = run_gate(pr_repo, max_cost_usd="5")
    assert run.outputs.get("verdict") == "fail", run.stdout + run.stderr
    lines = run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::group::Evaluating"))
    end = next(i for i, line in enumerate(lines) if i > start and line == "::endgroup::")
    inside = lines[start + 1 : end]
    estimate = re.fullmatch(
        r"llm-gate: (\d+) requests: 0 from the cache, \1 to send, estimated \$\d+\.\d{4} "
        r"of max-cost-usd \$5\.00; no price for judge-1 .*",
        inside[0],
    )
    assert estimate, inside[0]
    assert re.fullmatch(r"llm-gate: 60/60 case runs, 0 from cache, 0 errors, .*/s", inside[-1])


def test_a_budget_below_the_estimate_ends_as_error_before_any_call(
    pr_repo, github, openai, run_gate
):  # type: ignore[no-untyped-def]
    """max-cost-usd below the estimate: no model call, verdict error, and the status and the
    log name the estimated and the spent amounts."""
    pr_repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    run = run_gate(pr_repo, max_cost_usd="0.001")
    assert run.returncode == 1
    assert run.outputs.get("verdict") == "error", run.stdout + run.stderr
    assert openai.requests == []
    status = github.latest_status(pr_repo.head_sha, "llm-gate")
    assert status is not None and status.state == "error"
    description = status.description or ""
    assert re.search(r"estimated at \$0\.\d{4} \(spent \$0\.00\)", description), description
    assert "more than max-cost-usd" in description
    assert len(description) <= 140
    assert "estimated at $" in run.stdout
