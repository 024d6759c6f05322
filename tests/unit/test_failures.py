"""Why cases failed: errors grouped by kind with their count and first message, shown in the
terminal, the comment and the job summary."""

from __future__ import annotations

from dataclasses import replace

from gate.failures import case_errors, describe
from gate.models import CaseResult, ErrorKind, Usage
from gate.report.terminal import render_terminal
from tests.unit.test_render import changes, regression, report_for


def result(case: int, *, error: str | None = None, **score_errors: str) -> CaseResult:
    return CaseResult(
        suite="s", side="head", case_id=f"c{case}", repeat=0, output=None if error else "out",
        error=error, latency_ms=None, usage=Usage(), cost_usd=None, cached=False,
        scores={}, score_errors=score_errors,
    )  # fmt: skip


def test_errors_are_grouped_by_kind_with_count_and_first_message() -> None:
    """Attempt counts and case numbers do not split a kind; the most frequent kind is first."""
    rows = [
        *(result(i, error=f"127.0.0.1: HTTP 429 after {6 + i % 3} attempts (model m)")
          for i in range(8)),
        *(result(10 + i, judge=f"the judge's answer holds no score: '{'Nope, ' * i}case {i}.'")
          for i in range(12)),
        result(30, helpful="judge call failed: 127.0.0.1: connection refused after 6 attempts"),
        result(31, error="not run: the provider is unavailable"),
    ]  # fmt: skip
    kinds = [describe(kind) for kind in case_errors(rows)]
    assert kinds == [
        "12 judge answers had no score (first: the judge's answer holds no score: 'case 0.')",
        "8 calls failed (first: 127.0.0.1: HTTP 429 after 6 attempts (model m))",
        "1 call not attempted: not run: the provider is unavailable",
        "1 judge call failed (helpful): judge call failed: 127.0.0.1: connection refused "
        "after 6 attempts",
    ]
    assert case_errors([result(1)]) == ()


def test_case_errors_show_in_the_terminal_the_comment_and_the_summary() -> None:
    """A short line per suite, escaped like any other text from a model or a provider."""
    kinds = (
        ErrorKind(
            "judge answers had no score", 12, "the judge's answer holds no score: '**x** <b>'"
        ),
        ErrorKind("calls failed", 8, "127.0.0.1: HTTP 429 after 6 attempts (model m)"),
    )
    comparison = regression()
    comparison = replace(comparison, suites=(replace(comparison.suites[0], errors=kinds),))
    report = report_for(comparison)
    for text in (report.comment, report.summary):
        line = next(line for line in text.splitlines() if line.startswith("Case errors: "))
        assert "12 judge answers had no score (first: " in line
        assert "; 8 calls failed (first: 127.0.0.1: HTTP 429 after 6 attempts (model m))" in line
        assert "<b>" not in line and "&lt;b&gt;" in line
    terminal = render_terminal(comparison, changes(), {})
    assert "  case errors: 8 calls failed (first: 127.0.0.1: HTTP 429 after 6 attempts" in terminal
