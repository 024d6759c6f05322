"""The report on a terminal (`llm-gate eval`): the same facts as text tables.

Pure: no clock, no colour codes; the caller prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gate.escape import (
    escape_plain,
)
from gate.failures import describe as describe_errors
from gate.models import (
    CallStats,
    ChangeSet,
    Comparison,
    RunInfo,
    Side,
)
from gate.report.comment import _changes_view, _explanations
from gate.report.facts import _Facts, _facts, _Suite
from gate.report.limits import _TERMINAL_LEVEL
from gate.report.tables import _cases_table, _metrics_table, _ops_table, _stats_view
from gate.report.templates import _template


def render_terminal(
    comparison: Comparison, changes: ChangeSet, stats: dict[Side, CallStats]
) -> str:
    """Plain-text tables of a comparison for `llm-gate eval` in a terminal."""
    info = RunInfo(None, "llm-gate.yml", None, changes.base_sha, changes.head_sha)
    facts = _facts(comparison, changes, stats, info, None)
    suites = [_suite_text(s, facts) for s in facts.suites]
    text = _template("terminal.txt.j2").render(
        title=facts.title_plain,
        changes=_changes_view(facts, _TERMINAL_LEVEL),
        suites=suites,
        stats=_stats_view(facts.stats),
    )
    return "\n".join(escape_plain(line).rstrip() for line in text.split("\n"))


@dataclass(frozen=True, slots=True)
class _SuiteText:
    name: str
    verdict: str
    note: str
    table: str
    ops: str
    cases_total: int
    cases_table: str
    explanations: list[str]
    errors: list[str] = field(default_factory=list)


def _suite_text(suite: _Suite, facts: _Facts) -> _SuiteText:
    c = suite.comparison
    return _SuiteText(
        name=suite.name,
        verdict=c.verdict.value,
        note=c.note,
        explanations=_explanations(suite, facts, markdown=False),
        table=_metrics_table(c.metrics, facts.confidence, markdown=False),
        ops=_ops_table(c, markdown=False),
        cases_total=len(suite.cases),
        cases_table=_cases_table(suite.cases[: _TERMINAL_LEVEL.cases], suite.kinds, markdown=False),
        errors=[describe_errors(kind) for kind in c.errors],
    )
