"""What the report says, before any layout: suites, cases and rows in order, and the headline.

Pure: the comparison, changes and stats turned into plain values (rows sorted and grouped by
case), and the one-line headline that is also the commit status description.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from gate.annotate import annotations_for, split_annotations
from gate.escape import (
    clip,
    escape_inline,
    escape_plain,
    normalize_text,
)
from gate.models import (
    Annotation,
    CallStats,
    ChangeSet,
    Comparison,
    RowClass,
    RowDelta,
    RunInfo,
    Side,
    SuiteComparison,
    Verdict,
)
from gate.report.limits import HEADLINE_LIMIT
from gate.report.numbers import (
    _CHECK_LABEL,
    _check_change,
    _delta,
    _finite,
    _interval,
    _limit,
    _mean,
    _size,
)

_CLASS_ORDER: dict[str, int] = {
    "pass→fail": 0,
    "dropped": 1,
    "error": 2,
    "removed": 3,
    "new": 4,
    "flaky": 5,
    "fail→pass": 6,
    "improved": 7,
}
_IMPROVEMENTS = ("fail→pass", "improved")
_REGRESSIONS = ("pass→fail", "dropped")
_SUITE_ORDER = {
    Verdict.FAIL: 0,
    Verdict.ERROR: 1,
    Verdict.INCONCLUSIVE: 2,
    Verdict.PASS: 3,
    Verdict.SKIPPED: 4,
}
_MARK = {
    Verdict.PASS: "✅",
    Verdict.FAIL: "❌",
    Verdict.INCONCLUSIVE: "⚠️",
    Verdict.SKIPPED: "⏭️",
    Verdict.ERROR: "❗",
}


@dataclass(frozen=True, slots=True)
class _Case:
    """The rows of one case, worst first; a case is listed once however many metrics moved."""

    case_id: str
    rows: tuple[RowDelta, ...]

    @property
    def row_class(self) -> RowClass:
        return self.rows[0].row_class


@dataclass(frozen=True, slots=True)
class _Suite:
    comparison: SuiteComparison
    kinds: dict[str, str]  # metric → "binary" | "continuous"
    cases: tuple[_Case, ...]
    rows: tuple[RowDelta, ...]  # sorted

    @property
    def name(self) -> str:
        return self.comparison.suite


@dataclass(frozen=True, slots=True)
class _Facts:
    """Everything the renderings share, computed once (sorting, headline, verdict)."""

    verdict: Verdict
    headline: str  # plain, ≤ 140 characters
    title: str  # markdown, escaped
    title_plain: str
    comparison: Comparison | None
    changes: ChangeSet | None
    stats: dict[Side, CallStats]
    info: RunInfo
    error: str | None
    suites: tuple[_Suite, ...]
    confidence: int  # percent
    memo: dict[tuple[str, str, int], str] = field(default_factory=dict)  # see table()
    annotations: tuple[Annotation, ...] = ()  # for the log: at most 10 per level
    annotations_left_out: tuple[Annotation, ...] = ()  # listed in the job summary instead
    fork_repo: str | None = None  # not evaluated: a fork PR's run has no secrets

    def table(self, kind: str, suite: _Suite, size: int, build: Callable[[], str]) -> str:
        """A table built once per report however many renderings use it."""
        key = (kind, suite.name, size)
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]


def _facts(
    comparison: Comparison | None,
    changes: ChangeSet | None,
    stats: dict[Side, CallStats],
    info: RunInfo,
    error: str | None,
) -> _Facts:
    suites: tuple[_Suite, ...] = ()
    if error is not None:
        verdict = Verdict.ERROR
    elif comparison is None or not comparison.suites:
        verdict = Verdict.SKIPPED
    else:
        verdict = comparison.verdict
        # Failing suites first, so the reader meets the reason for the verdict at once.
        ordered = sorted(comparison.suites, key=lambda s: (_SUITE_ORDER[s.verdict], s.suite))
        suites = tuple(_suite_facts(s) for s in ordered)
    confidence = round((comparison.confidence if comparison else 0.95) * 100)
    headline, title, title_plain = _headlines(verdict, suites, changes, error, confidence)
    annotations, left_out = split_annotations(
        annotations_for(comparison if suites else None, changes)
    )
    return _Facts(
        verdict=verdict,
        headline=headline,
        title=title,
        title_plain=title_plain,
        comparison=comparison if suites else None,
        changes=changes,
        stats=dict(stats),
        info=info,
        error=error,
        suites=suites,
        confidence=confidence,
        annotations=annotations,
        annotations_left_out=left_out,
    )


_FORK_TITLE = "not evaluated, this pull request comes from a fork"


def _not_evaluated(facts: _Facts, fork_repo: str) -> _Facts:
    """The facts of a fork PR whose change needs the model, which its run cannot call."""
    where = f" ({fork_repo})" if fork_repo else ""
    return replace(
        facts,
        verdict=Verdict.ERROR,
        headline=_headline(f"Not evaluated: fork PR{where} gets no secrets; see the job summary"),
        title=f"{_MARK[Verdict.ERROR]} llm-gate: {_FORK_TITLE}",
        title_plain=f"llm-gate: {_FORK_TITLE}",
        fork_repo=fork_repo,
    )


def _row_key(row: RowDelta) -> tuple[int, bool, float, str, str]:
    delta = row.delta if row.delta is not None and math.isfinite(row.delta) else 0.0
    if row.row_class in _IMPROVEMENTS:
        delta = -delta
    return (_CLASS_ORDER.get(row.row_class, 99), row.delta is None, delta, row.case_id, row.metric)


def _suite_facts(suite: SuiteComparison) -> _Suite:
    rows = tuple(sorted(suite.rows, key=_row_key))
    by_case: dict[str, list[RowDelta]] = {}
    for row in rows:
        by_case.setdefault(row.case_id, []).append(row)

    # The most regressed case first: its worst class, then how many of its metrics regressed,
    # then the sum of its drops (an invoice case losing 4 judge points and its substring check
    # comes before one losing 3 points and its check).
    def severity(item: tuple[str, list[RowDelta]]) -> tuple[int, int, float, str]:
        case_id, case_rows = item
        worst = min(_CLASS_ORDER.get(r.row_class, 99) for r in case_rows)
        regressed = [r for r in case_rows if r.row_class in ("pass→fail", "dropped")]
        drop = sum(r.delta for r in regressed if r.delta is not None and math.isfinite(r.delta))
        return (worst, -len(regressed), drop, case_id)

    return _Suite(
        comparison=suite,
        kinds={m.metric: m.kind for m in suite.metrics},
        cases=tuple(
            _Case(case_id, tuple(case_rows))
            for case_id, case_rows in sorted(by_case.items(), key=severity)
        ),
        rows=rows,
    )


@dataclass(frozen=True, slots=True)
class _Item:
    """One reason in a headline: `support-bot judge −0.42 (tolerance −0.20)`."""

    suite: str
    name: str  # metric name, or an ops check label
    change: str  # formatted by us
    detail: str  # formatted by us: "(tolerance −0.20)"


def _metric_items(suites: Iterable[_Suite], verdict: Verdict) -> list[_Item]:
    items = []
    for suite in suites:
        for m in suite.comparison.metrics:
            if not m.gating or m.verdict is not verdict:
                continue
            head = _finite(m.head_mean)
            if m.floor is not None and head is not None and head < m.floor:
                change = _delta(m.delta, m.kind) if m.delta is not None else _mean(head, m.kind)
                detail = f"head {_mean(head, m.kind)} below min {_mean(m.floor, m.kind)}"
            else:
                change = _delta(m.delta, m.kind)
                detail = (
                    f"tolerance {_size(m.tolerance, m.kind)}" if m.tolerance is not None else ""
                )
            if verdict is Verdict.INCONCLUSIVE and (ci := _interval(m.ci_low, m.ci_high, m.kind)):
                detail = f"CI {ci}" + (f", {detail}" if detail else "")
            items.append(_Item(suite.name, m.metric, change, detail))
        for check in suite.comparison.checks:
            if check.verdict is verdict:
                items.append(
                    _Item(
                        suite.name,
                        _CHECK_LABEL[check.name],
                        _check_change(check),
                        f"limit {_limit(check.limit)}",
                    )
                )
    return items


def _improvement_items(suites: Iterable[_Suite]) -> list[_Item]:
    return [
        _Item(suite.name, m.metric, _delta(m.delta, m.kind), "")
        for suite in suites
        for m in suite.comparison.metrics
        if m.verdict is Verdict.PASS
        and (low := _finite(m.ci_low)) is not None
        and low > 0
        and (_finite(m.delta) or 0) > 0
    ]


def _cases(suites: Sequence[_Suite]) -> int:
    return sum(max((m.n for m in s.comparison.metrics), default=0) for s in suites)


def _headlines(
    verdict: Verdict,
    suites: tuple[_Suite, ...],
    changes: ChangeSet | None,
    error: str | None,
    confidence: int,
) -> tuple[str, str, str]:
    """The plain headline (≤ 140 characters), the markdown title and the terminal title."""
    mark = _MARK[verdict]
    n = _cases(suites)
    if error is not None:
        first = normalize_text(error).strip().split("\n")[0]
        return (
            _headline(f"Error: {first}"),
            f"{mark} llm-gate: error, the gate could not decide",
            "llm-gate: error, the gate could not decide",
        )
    if not suites:
        if changes is not None and changes.relevant:
            text = "no selected suite is affected by this change"
            return _headline(f"Skipped: {text}"), f"{mark} llm-gate: {text}", f"llm-gate: {text}"
        paths = changes.changed_paths if changes else ()
        shown = ", ".join(paths[:3]) + (f", +{len(paths) - 3} more" if len(paths) > 3 else "")
        return (
            _headline("Nothing relevant changed" + (f" ({shown})" if shown else "")),
            f"{_MARK[Verdict.PASS]} llm-gate: nothing relevant changed",
            "llm-gate: nothing relevant changed",
        )
    if verdict in (Verdict.FAIL, Verdict.INCONCLUSIVE):
        items = _metric_items(suites, verdict)
        quality = any(i.name not in _CHECK_LABEL.values() for i in items)
        if verdict is Verdict.FAIL:
            prefix, phrase = (
                "Regression",
                "quality regressed" if quality else "latency or cost regressed",
            )
        else:
            prefix, phrase = "Inconclusive", "inconclusive"
        return (
            _headline(f"{prefix}: " + _plain_items(items)),
            f"{mark} llm-gate: {phrase} in {_grouped(items, _md)}",
            f"llm-gate: {phrase} in {_grouped(items, lambda s: s)}",
        )
    if verdict is Verdict.ERROR:
        errored = [s for s in suites if s.comparison.verdict is Verdict.ERROR] or list(suites)
        names = _names([s.name for s in errored])
        note = next((s.comparison.note for s in errored if s.comparison.note), "")
        text = f"too many case errors in {names}"
        return (
            _headline(f"Error: {text}" + (f" ({note})" if note else "")),
            f"{mark} llm-gate: {escape_inline(text, 300)}",
            f"llm-gate: {text}",
        )
    if verdict is Verdict.SKIPPED:
        names = _names([s.name for s in suites])
        return (
            _headline(f"Skipped: nothing was evaluated in {names}"),
            f"{mark} llm-gate: skipped {escape_inline(names, 300)}",
            f"llm-gate: skipped {names}",
        )
    improved = _improvement_items(suites)
    where = suites[0].name if len(suites) == 1 else f"{len(suites)} suites"
    if improved:
        return (
            _headline(f"Pass: quality improved in {_plain_items(improved)} (n={n})"),
            f"{mark} llm-gate: quality improved in {_grouped(improved, _md)}",
            f"llm-gate: quality improved in {_grouped(improved, lambda s: s)}",
        )
    return (
        _headline(f"Pass: no regression in {where} (n={n})"),
        f"{mark} llm-gate: no regression in {_md(where)}",
        f"llm-gate: no regression in {where}",
    )


def _headline(text: str) -> str:
    return clip(" ".join(escape_plain(text).split()), HEADLINE_LIMIT)


def _plain_items(items: Sequence[_Item]) -> str:
    if not items:
        return "see the report"
    first = items[0]
    text = " ".join(p for p in (first.suite, first.name, first.change) if p)
    if first.detail:
        text += f" ({first.detail})"
    return text + (f" and {len(items) - 1} more" if len(items) > 1 else "")


def _grouped(
    items: Sequence[_Item], esc: Callable[[str], str], per_suite: int = 3, suites: int = 3
) -> str:
    """`support-bot (judge −0.42, contains −12.5 pts), faq (exact −5.0 pts)`."""
    groups: dict[str, list[_Item]] = {}
    for item in items:
        groups.setdefault(item.suite, []).append(item)
    parts = []
    for suite, group in list(groups.items())[:suites]:
        shown = [f"{esc(i.name)} {i.change}" for i in group[:per_suite]]
        if len(group) > per_suite:
            shown.append(f"+{len(group) - per_suite} more")
        parts.append(f"{esc(suite)} ({', '.join(shown)})")
    if len(groups) > suites:
        parts.append(f"{len(groups) - suites} more suites")
    return ", ".join(parts) if parts else "no suite"


def _names(names: Sequence[str], shown: int = 3) -> str:
    """`a, b, c and 4 more`."""
    text = ", ".join(names[:shown])
    return text + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _md(text: str) -> str:
    return escape_inline(text, 100)
