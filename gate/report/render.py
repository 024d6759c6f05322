"""Rendering a comparison as the PR comment, the job summary, the JSON results and terminal tables.

Pure: the same comparison, changes and stats always give the same bytes (sorted rows, fixed
decimals, no clock). `render_report` puts the report's parts together: the facts
(gate/report/facts.py), the comment and summary (comment.py, with the tables of tables.py and
the numbers of numbers.py) cut to the limits of limits.py, and the JSON results (results.py).
"""

from __future__ import annotations

from gate.models import (
    CallStats,
    ChangeSet,
    Comparison,
    Report,
    RunInfo,
    Side,
)
from gate.report.comment import _bare, _fit
from gate.report.facts import _facts, _not_evaluated
from gate.report.limits import (
    _COMMENT_LEVELS,
    _SUMMARY_LEVELS,
    COMMENT_LIMIT,
    COMMENT_TARGET,
    SUMMARY_LIMIT,
)
from gate.report.results import _results


def render_report(
    comparison: Comparison | None,
    changes: ChangeSet | None,
    stats: dict[Side, CallStats],
    info: RunInfo,
    *,
    error: str | None = None,
    fork_repo: str | None = None,
) -> Report:
    """The comment, job summary, JSON results and headline of one run.

    `error` means the gate could not decide (provider down, bad config, budget): the report
    then says so and shows no table. Without a comparison (or with no suites in it) nothing
    relevant changed. `fork_repo` (the head repository of a pull request from a fork, "" when
    the fork was deleted) means the change needed the model but the run got no secrets: the
    verdict is `error`, and the report says why and how to evaluate the change safely.
    """
    facts = _facts(comparison, changes, stats, info, error)
    if fork_repo is not None:
        facts = _not_evaluated(facts, fork_repo)
    comment = _fit(facts, "comment", _COMMENT_LEVELS, lambda s: len(s) < COMMENT_TARGET)
    if len(comment) >= COMMENT_LIMIT:  # unreachable with today's levels; never post a reject
        comment = _bare(facts, "comment")
    summary = _fit(facts, "summary", _SUMMARY_LEVELS, lambda s: len(s.encode()) <= SUMMARY_LIMIT)
    if len(summary.encode()) > SUMMARY_LIMIT:
        summary = _bare(facts, "summary")
    return Report(
        verdict=facts.verdict,
        headline=facts.headline,
        comment=comment,
        summary=summary,
        results=_results(facts),
        regressions=comparison.regressions if comparison and error is None else 0,
        regressed_cases=comparison.regressed_cases if comparison and error is None else 0,
        annotations=facts.annotations,
    )
