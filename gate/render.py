"""Rendering a comparison as the PR comment, the job summary, the JSON results and terminal tables.

Pure: the same comparison, changes and stats always give the same bytes (sorted rows, fixed
decimals, no clock). The layout lives in the jinja2 templates of `gate/templates/`; this module
turns the comparison into plain view values (numbers formatted, rows sorted and grouped by
case, tables built with tabulate) and chooses how much detail fits: GitHub refuses comments of
65,536 characters or more and job summaries over 1 MiB
(https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions#step-isolation-and-limits),
so row details go first, then diffs, and a visible note says where the rest is. Text that came
from a model, a dataset or the repository is escaped explicitly with `gate.escape`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from gate.annotate import annotations_for, split_annotations
from gate.escape import (
    clip,
    code_fence,
    escape_block,
    escape_cell,
    escape_code,
    escape_fenced,
    escape_inline,
    escape_plain,
    escape_url,
    escape_wrapped,
    neutralise_commands,
    normalize_text,
)
from gate.failures import describe as describe_errors
from gate.models import (
    Annotation,
    CallStats,
    Category,
    ChangedFile,
    ChangeSet,
    Comparison,
    MetricComparison,
    OpsCheck,
    Report,
    RowClass,
    RowDelta,
    RunInfo,
    Side,
    SideOps,
    SuiteComparison,
    ValueChange,
    Verdict,
)

if TYPE_CHECKING:
    from jinja2 import Environment, Template

__all__ = [
    "comment_marker",
    "compile_templates",
    "render_relayed_comment",
    "render_report",
    "render_terminal",
]

COMMENT_LIMIT = 65_536  # characters; GitHub rejects an issue comment of this size or more
COMMENT_TARGET = 60_000  # what the comment aims to stay below, leaving room to spare
SUMMARY_LIMIT = 1_048_576  # bytes of UTF-8; GitHub drops a larger step summary
HEADLINE_LIMIT = 140  # a commit status description
RESULT_TEXT_LIMIT = 10_000  # characters of one model output or variable in the JSON results
ANNOTATIONS_LISTED = 200  # annotations beyond GitHub's 10 per level listed in the job summary

MINUS = "−"
DASH = "—"
Target = Literal["comment", "summary"]


# --------------------------------------------------------------------------- public API


def comment_marker(config_path: str) -> str:
    """The hidden first line that finds this config's sticky comment again."""
    return f"<!-- llm-gate config={_marker_value(config_path)} -->"


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


# --------------------------------------------------------------------------- templates


@cache
def _environment() -> Environment:
    # jinja2 and tabulate are imported on first use: a cold run imports them on a thread
    # while its calls are in flight (gate/pipeline.py), not before the first call.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("gate", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # markdown, not HTML: escaping is explicit, per place (gate.escape)
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cell=escape_cell,
        inline=escape_inline,
        block=escape_block,
        wrapped=escape_wrapped,
        code=escape_code,
        fenced=escape_fenced,
        url=escape_url,
        plain=escape_plain,
        count=_count,
    )
    return env


def _template(name: str) -> Template:
    return _environment().get_template(name)


def compile_templates() -> None:
    """Compile every template now (jinja2 keeps them): a cold run calls this on a thread while
    its calls are in flight, so its report does not wait the 0.1 s compiling takes."""
    environment = _environment()
    for name in environment.list_templates():
        environment.get_template(name)


# --------------------------------------------------------------------------- facts


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


# --------------------------------------------------------------------------- numbers

# One formatter for every number the report shows, so the same value is always the same
# string: `format_number(value, unit)`. A unit fixes the decimals and the suffix; `signed`
# adds "+" or "−" (nothing for a value that rounds to zero).
Unit = Literal["score", "fraction", "points", "percent", "ms"]
_UNITS: dict[str, tuple[float, int, str]] = {  # unit → (scale, decimals, suffix)
    "score": (1.0, 2, ""),  # a judge's mean or delta on its 1..scale range
    "fraction": (100.0, 1, "%"),  # a pass rate: 0.85 → 85.0%
    "points": (100.0, 1, " pts"),  # a difference of pass rates: −0.125 → −12.5 pts
    "percent": (1.0, 1, "%"),  # a relative change already in percent: 31.7 → +31.7%
    "ms": (1.0, 0, " ms"),
}


def format_number(value: float, unit: Unit, *, signed: bool = False) -> str:
    """`value` in `unit`: fixed decimals, thousands separators, one minus sign (U+2212)."""
    scale, digits, suffix = _UNITS[unit]
    text = f"{abs(value * scale):,.{digits}f}"
    if not any(c in "123456789" for c in text):
        return text + suffix
    if value < 0:
        return MINUS + text + suffix
    return ("+" if signed else "") + text + suffix


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _mean_unit(kind: str) -> Unit:
    return "fraction" if kind == "binary" else "score"


def _delta_unit(kind: str) -> Unit:
    return "points" if kind == "binary" else "score"


def _mean(value: float | None, kind: str) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(value, _mean_unit(kind))


def _delta(value: float | None, kind: str) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(value, _delta_unit(kind), signed=True)


def _interval(low: float | None, high: float | None, kind: str) -> str:
    low, high = _finite(low), _finite(high)
    if low is None or high is None:
        return ""
    # the Δ beside it carries the unit: "−12.5 pts (−22.5 to −2.5)"
    return f"{_delta(low, kind).removesuffix(' pts')} to {_delta(high, kind).removesuffix(' pts')}"


def _drop(value: float | None, kind: str) -> str:
    """A tolerated or detectable drop, shown as the negative change it stands for."""
    value = _finite(value)
    if value is None:
        return DASH
    return _delta(-abs(value), kind)


def _size(value: float | None, kind: str) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(abs(value), _delta_unit(kind))


def _score(value: float | None, kind: str) -> str:
    """One case's score: pass/fail for a check (a share when repeats disagree), else a mean."""
    value = _finite(value)
    if value is None:
        return DASH
    if kind == "binary":
        if value == 1.0:
            return "pass"
        if value == 0.0:
            return "fail"
    return _mean(value, kind)


def _ms(value: float | None, *, signed: bool = False) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(value, "ms", signed=signed)


def _usd(value: float | None) -> str:
    value = _finite(value)
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    digits = max(4, 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{digits}f}"
    return "$" + (text.rstrip("0") if digits > 4 else text)


def _pct_change(base: float | None, head: float | None) -> str:
    base, head = _finite(base), _finite(head)
    if base is None or head is None or base == 0:
        return ""
    return format_number((head - base) / base * 100, "percent", signed=True)


_PERCENT = re.compile(r"([+-]?)(\d+(?:\.\d+)?) ?%")


def _limit(text: str) -> str:
    """An ops limit as compare states it (`+15 %`) in the report's one percent style."""

    def percent(match: re.Match[str]) -> str:
        value = float(match.group(2)) * (-1 if match.group(1) == "-" else 1)
        return format_number(value, "percent", signed=bool(match.group(1)))

    return _PERCENT.sub(percent, text)


def _count(value: int) -> str:
    return f"{value:,}"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{_count(n)} {word if n == 1 else (plural or word + 's')}"


# --------------------------------------------------------------------------- headline


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


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True, slots=True)
class _Limits:
    """How much of the report one rendering shows."""

    cases: int  # cases listed per suite
    details: bool  # each listed case's inputs and outputs
    output_chars: int  # per model output
    value_chars: int  # per dataset variable
    diff_chars: int  # per diff; 0 leaves diffs out
    files: int  # changed paths listed when nothing relevant changed
    suites: int | None = None  # suites shown in full (None: all)
    truncated: bool = False  # show the "truncated" note


_COMMENT_LEVELS = (
    _Limits(
        cases=10, details=True, output_chars=2_000, value_chars=300, diff_chars=20_000, files=50
    ),
    _Limits(10, True, 600, 200, 8_000, 50, truncated=True),
    _Limits(5, True, 300, 100, 3_000, 30, truncated=True),
    _Limits(5, False, 300, 100, 3_000, 30, truncated=True),
    _Limits(3, False, 300, 100, 0, 20, truncated=True),
    _Limits(0, False, 300, 100, 0, 10, truncated=True),
)
_SUMMARY_LEVELS = (
    _Limits(
        cases=100,
        details=True,
        output_chars=10_000,
        value_chars=2_000,
        diff_chars=100_000,
        files=1_000,
    ),
    _Limits(100, True, 2_000, 500, 50_000, 1_000, truncated=True),
    _Limits(50, True, 1_000, 300, 20_000, 500, truncated=True),
    _Limits(25, True, 500, 200, 10_000, 200, truncated=True),
    _Limits(25, False, 500, 200, 10_000, 200, truncated=True),
    _Limits(10, False, 500, 200, 0, 100, truncated=True),
    _Limits(0, False, 500, 200, 0, 50, truncated=True),
)
RELAYED_LIMITS = _COMMENT_LEVELS[0]  # what a results artifact keeps for `mode: publish`
_TERMINAL_LEVEL = _Limits(
    cases=10, details=False, output_chars=0, value_chars=0, diff_chars=0, files=20
)


def _fit(
    facts: _Facts, target: Target, levels: Sequence[_Limits], fits: Callable[[str], bool]
) -> str:
    """The most detailed rendering that fits; whole suites go last, the headline never.

    Candidates are ordered from most to least detail (each level, then the last level with
    half as many suites, a quarter, ..., none); their sizes shrink along the list, so a binary
    search finds the first that fits in a few renderings.
    """
    candidates = list(levels)
    shown = len(facts.suites)
    while shown > 0:
        shown //= 2
        candidates.append(replace(levels[-1], suites=shown, truncated=True))
    first = _render(facts, target, candidates[0])
    if fits(first) or len(candidates) == 1:
        return first
    low, high = 1, len(candidates) - 1
    best = _render(facts, target, candidates[high])
    while low < high:
        middle = (low + high) // 2
        text = _render(facts, target, candidates[middle])
        if fits(text):
            high, best = middle, text
        else:
            low = middle + 1
    return best


# --------------------------------------------------------------------------- markdown


def _render(facts: _Facts, target: Target, limits: _Limits) -> str:
    shown = facts.suites if limits.suites is None else facts.suites[: limits.suites]
    text = _template("comment.md.j2").render(
        marker=comment_marker(facts.info.config_path),
        head_marker=f"<!-- llm-gate head={_marker_value(_head_sha(facts))} -->",
        title=facts.title,
        target=target,
        verdict=facts.verdict.value,
        limits=limits,
        run_url=facts.info.run_url,
        config_path=facts.info.config_path,
        compared=_compared(facts),
        error=facts.error,
        fork_repo=facts.fork_repo,
        changes=_changes_view(facts, limits),
        suites=[_suite_view(s, facts, limits, target) for s in shown],
        hidden_suites=[s.name for s in facts.suites[len(shown) :]],
        hidden_listed=20,
        annotations_left_out=_annotation_views(facts) if target == "summary" else [],
        annotations_listed=ANNOTATIONS_LISTED,
        stats=_stats_view(facts.stats),
    )
    return neutralise_commands(text)


@dataclass(frozen=True, slots=True)
class _AnnotationView:
    file: str
    lines: str  # "line 3", "lines 3-5"
    message: str


def _annotation_views(facts: _Facts) -> list[_AnnotationView]:
    return [
        _AnnotationView(
            a.file,
            f"line {a.line}" if a.line == a.end_line else f"lines {a.line}-{a.end_line}",
            a.message,
        )
        for a in facts.annotations_left_out
    ]


_RELAYED_NOTE_ROOM = 2_000  # characters kept free for the markers and the provenance note


def render_relayed_comment(
    comparison: Comparison | None,
    changes: ChangeSet | None,
    stats: dict[Side, CallStats],
    info: RunInfo,
    *,
    head_sha: str,
    fork: bool,
    error: str | None = None,
    fork_repo: str | None = None,
    warning: str | None = None,
) -> Report:
    """The sticky comment `mode: publish` posts, rebuilt from a results artifact's data.

    The artifact was written by the pull request's own workflow run, which may have run code
    the pull request controls, so nothing of its markdown is posted: the comparison, changes
    and stats it carries (checked by gate/artifact.py) are rendered here like a run's own,
    every text escaped. `info` holds this run's trusted config path and run URL. Where the
    results came from goes first, where nothing rendered after it can hide or fold it away;
    `warning` follows when the results of a fork's run cannot be trusted.
    """
    facts = _facts(comparison, changes, stats, info, error)
    if fork_repo is not None:
        facts = _not_evaluated(facts, fork_repo)
    room = COMMENT_TARGET - _RELAYED_NOTE_ROOM
    body = _fit(facts, "comment", _COMMENT_LEVELS, lambda s: len(s) < room)
    if len(body) >= room:
        body = _bare(facts, "comment")
    comment = _template("relayed.md.j2").render(
        marker=comment_marker(info.config_path),
        head_marker=f"<!-- llm-gate head={_marker_value(head_sha)} -->",
        body="\n".join(body.split("\n")[2:]).rstrip("\n"),  # below our own markers
        run_url=info.run_url,
        fork=fork,
        warning=warning,
    )
    return Report(
        verdict=facts.verdict,
        headline=facts.headline,
        comment=neutralise_commands(comment),
        summary="",
        results={},
        regressions=comparison.regressions if comparison and error is None else 0,
        regressed_cases=comparison.regressed_cases if comparison and error is None else 0,
    )


def _bare(facts: _Facts, target: Target) -> str:
    """Markers, title and the truncation note: the last resort when nothing else fits."""
    return _template("bare.md.j2").render(
        marker=comment_marker(facts.info.config_path),
        head_marker=f"<!-- llm-gate head={_marker_value(_head_sha(facts))} -->",
        title=facts.title,
        target=target,
        run_url=facts.info.run_url,
    )


def _marker_value(text: str) -> str:
    # Percent-encoding keeps `-->` and newlines out of the HTML comment, paths unchanged.
    return quote(text, safe="/@+,=:")


def _head_sha(facts: _Facts) -> str:
    if facts.changes is not None and facts.changes.head_sha:
        return facts.changes.head_sha
    return facts.info.head_ref or "unknown"


def _compared(facts: _Facts) -> str:
    """`Base `main` (`1a2b3c4`) and head `5d6e7f8`, 40 cases in 1 suite, 95 % confidence.`"""
    if not facts.suites:
        return ""
    parts = []
    if facts.changes is not None:
        for label, ref, sha in (
            ("base", facts.info.base_ref, facts.changes.base_sha),
            ("head", facts.info.head_ref, facts.changes.head_sha),
        ):
            short = escape_code(sha[:7])
            if ref and not _is_sha(ref):
                parts.append(f"{label} {escape_code(ref, 80)} ({short})")
            else:
                parts.append(f"{label} {short}")
    sides = f"Compared {parts[0]} with {parts[1]} on " if parts else "Evaluated "
    return (
        f"{sides}{_plural(_cases(facts.suites), 'case')} in {_plural(len(facts.suites), 'suite')}"
        f"; intervals at {facts.confidence}% confidence."
    )


def _is_sha(ref: str) -> bool:
    return 7 <= len(ref) <= 64 and all(c in "0123456789abcdef" for c in ref)


@dataclass(frozen=True, slots=True)
class _SuiteChanges:
    name: str
    categories: str
    values: list[ValueChange]
    files: list[ChangedFile]
    left_out: int  # values and files not listed


@dataclass(frozen=True, slots=True)
class _Diff:
    path: str
    about: str  # "prompt, modified, +3 −1"
    fence: str
    text: str
    more_lines: int


@dataclass(frozen=True, slots=True)
class _ChangesView:
    relevant: bool
    suites: list[_SuiteChanges]
    suites_left_out: int
    diffs: list[_Diff]
    diffs_left_out: int
    paths: list[str]  # every changed path (capped), when nothing relevant changed
    paths_left_out: int
    other_paths: int  # changed paths no suite uses, when something relevant changed


def _changes_view(facts: _Facts, limits: _Limits) -> _ChangesView | None:
    changes = facts.changes
    if changes is None:
        return None
    names = list(changes.suites_to_run) or sorted({s for f in changes.files for s in f.suites})
    suites = []
    for name in names[: limits.suites]:
        values = [v for v in changes.values if v.suite == name]
        files = [f for f in changes.files if name in f.suites]
        suites.append(
            _SuiteChanges(
                name=name,
                categories=", ".join(c.value for c in _suite_categories(changes, name)),
                values=values[: limits.files],
                files=files[: limits.files],
                left_out=max(0, len(values) - limits.files) + max(0, len(files) - limits.files),
            )
        )
    with_diff = [f for f in changes.files if f.diff.strip()]
    diffs = [_diff_view(f, limits.diff_chars) for f in with_diff] if limits.diff_chars else []
    relevant_paths = {f.path for f in changes.files}
    return _ChangesView(
        relevant=changes.relevant,
        suites=suites,
        suites_left_out=len(names) - len(suites),
        diffs=diffs,
        diffs_left_out=len(with_diff) - len(diffs),
        paths=list(changes.changed_paths[: limits.files]),
        paths_left_out=max(0, len(changes.changed_paths) - limits.files),
        other_paths=len([p for p in changes.changed_paths if p not in relevant_paths]),
    )


def _suite_categories(changes: ChangeSet, suite: str) -> list[Category]:
    found = set(changes.reasons.get(suite, ()))
    found |= {c for f in changes.files if suite in f.suites for c in f.categories}
    found |= {v.category for v in changes.values if v.suite == suite}
    return [c for c in Category if c in found]


def _diff_view(file: ChangedFile, limit: int) -> _Diff:
    lines = normalize_text(file.diff).rstrip("\n").split("\n")
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > limit and kept:
            break
        kept.append(line if len(line) <= limit else clip(line, limit))
    text = "\n".join(kept)
    about = ", ".join(
        [
            *(c.value for c in file.categories),
            file.status,
            f"+{added} {MINUS}{removed}",
            *_whitespace_note(lines),
        ]
    )
    return _Diff(file.path, about, code_fence(text), text, len(lines) - len(kept))


def _whitespace_note(lines: Sequence[str]) -> list[str]:
    """ "whitespace only" when the removed and added lines differ only in whitespace (they look
    the same in the diff), or how many changed lines did."""
    removed = [line[1:] for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")]
    if not removed and not added:
        return []
    if "".join("".join(removed).split()) == "".join("".join(added).split()):
        return ["whitespace only"]
    left: dict[str, int] = {}
    for line in removed:
        key = "".join(line.split())
        left[key] = left.get(key, 0) + 1
    same = 0
    for line in added:
        key = "".join(line.split())
        if left.get(key, 0) > 0 and line not in removed:
            left[key] -= 1
            same += 1
    return (
        [f"{same} {'line differs' if same == 1 else 'lines differ'} only in whitespace"]
        if same
        else []
    )


@dataclass(frozen=True, slots=True)
class _RowView:
    metric: str
    row_class: str
    base: str
    head: str
    delta: str


@dataclass(frozen=True, slots=True)
class _CaseView:
    case_id: str
    rows: list[_RowView]
    variables: list[tuple[str, str]]  # raw: the template escapes each cell
    base_output: str | None  # raw: the template escapes it into a wrapping <code>
    head_output: str | None
    reasons: list[tuple[str, str, str]]  # raw (metric, side, reason) of the regressed rows


@dataclass(frozen=True, slots=True)
class _SuiteView:
    name: str
    mark: str
    verdict: str
    note: str
    table: str  # markdown, escaped
    metric_notes: list[tuple[str, str]]  # (metric, note)
    underpowered: list[tuple[str, str, str]]  # (metric, detectable drop, tolerance)
    ops: str  # markdown table, escaped
    cases_total: int
    cases_summary: str  # "30 pass→fail, 5 flaky"
    cases_table: str
    cases: list[_CaseView] = field(default_factory=list)  # with inputs and outputs
    explanations: list[str] = field(default_factory=list)  # markdown, escaped: what it means
    errors: list[str] = field(default_factory=list)  # why case runs failed, one per kind


def cases_needed(m: MetricComparison) -> int | None:
    """About how many cases would let `m` detect a drop as small as its tolerance.

    The detectable drop shrinks with the square root of the number of cases, so n cases that
    detect `mde` need n × (mde / tolerance)² to detect `tolerance`. A comparison that states
    its own `cases_needed` is taken at its word.
    """
    stated = getattr(m, "cases_needed", None)
    if isinstance(stated, int) and not isinstance(stated, bool):
        return stated
    mde, tolerance = _finite(m.mde), _finite(m.tolerance)
    if mde is None or tolerance is None or tolerance <= 0 or m.n <= 0:
        return None
    return math.ceil(m.n * (mde / tolerance) ** 2 - 1e-9)


def _inconclusive_note(m: MetricComparison, confidence: int, *, markdown: bool) -> str:
    name = escape_inline(m.metric, 80) if markdown else m.metric
    strong, code = ("**", "`") if markdown else ("", "")
    ci = _interval(m.ci_low, m.ci_high, m.kind)
    where = f"the {confidence}% interval of its change ({ci})" if ci else "its change"
    tolerance = _size(m.tolerance, m.kind)
    text = (
        f"{strong}Inconclusive:{strong} {name}: {where} still allows a drop beyond the "
        f"tolerance of {tolerance}, and the drop is not significant, so these cases can show "
        f"neither a pass nor a regression. The commit status stays {code}success{code} unless "
        f"the workflow sets {code}fail-on: inconclusive{code}."
    )
    needed = cases_needed(m)
    if needed is not None and needed > m.n:
        text += (
            f" About {_count(needed)} cases (now {_count(m.n)}) would detect a drop of "
            f"{tolerance}: add cases to the dataset to decide it."
        )
    else:
        text += " More cases narrow the interval and decide it."
    return text


def _rubric_only(facts: _Facts, suite: str) -> bool:
    changes = facts.changes
    return changes is not None and _suite_categories(changes, suite) == [Category.RUBRIC]


def _rubric_only_note(*, markdown: bool) -> str:
    strong = "**" if markdown else ""
    return (
        "Only the judge's rubric changed, so both sides' outputs were reused from the cache "
        f"and {strong}both sides were re-judged with the new rubric{strong}: the table "
        "compares the two sides under the same rubric (a change near 0 is expected), not the "
        "old rubric with the new one."
    )


def _explanations(suite: _Suite, facts: _Facts, *, markdown: bool = True) -> list[str]:
    """What the suite's verdicts mean, for a reader who has not read the README."""
    c = suite.comparison
    lines = [
        _inconclusive_note(m, facts.confidence, markdown=markdown)
        for m in c.metrics
        if m.gating and m.verdict is Verdict.INCONCLUSIVE
    ]
    if _rubric_only(facts, suite.name):
        lines.append(_rubric_only_note(markdown=markdown))
    return lines


def _suite_view(suite: _Suite, facts: _Facts, limits: _Limits, target: Target) -> _SuiteView:
    c = suite.comparison
    shown = suite.cases[: limits.cases]
    return _SuiteView(
        name=suite.name,
        mark=_MARK[c.verdict],
        verdict=c.verdict.value,
        note=c.note,
        table=facts.table(
            "metrics", suite, 0, lambda: _metrics_table(c.metrics, facts.confidence, markdown=True)
        ),
        metric_notes=[(m.metric, m.note) for m in c.metrics if m.note],
        underpowered=[
            (m.metric, _size(m.mde, m.kind), _size(m.tolerance, m.kind))
            for m in c.metrics
            if m.gating
            and m.verdict is not Verdict.INCONCLUSIVE  # its explanation says how many cases
            and (mde := _finite(m.mde)) is not None
            and m.tolerance is not None
            and mde > m.tolerance
        ],
        ops=facts.table("ops", suite, 0, lambda: _ops_table(c, markdown=True)),
        cases_total=len(suite.cases),
        cases_summary=_class_counts(suite.cases),
        cases_table=facts.table(
            "cases", suite, len(shown), lambda: _cases_table(shown, suite.kinds, markdown=True)
        ),
        cases=[_case_view(case, suite.kinds) for case in shown] if limits.details else [],
        explanations=_explanations(suite, facts),
        errors=[describe_errors(kind) for kind in c.errors],
    )


def _verdict_cell(verdict: Verdict, gating: bool, markdown: bool) -> str:
    if not gating:
        return "not gated"
    if markdown and verdict in (Verdict.FAIL, Verdict.ERROR):
        return f"**{verdict.value}**"
    return verdict.value


def _metrics_table(metrics: Sequence[MetricComparison], confidence: int, *, markdown: bool) -> str:
    """Verdict first and seven narrow columns, so a ~600 px window (GitHub's mobile app, a
    split screen) shows the verdict and the change; the interval and the floor go on a second
    line of their cell."""
    esc = escape_cell if markdown else escape_plain
    second = "<br>" if markdown else " "
    rows = []
    for m in metrics:
        ci = _interval(m.ci_low, m.ci_high, m.kind)
        tolerance = _drop(m.tolerance, m.kind) if m.tolerance is not None else ""
        if m.floor is not None:
            floor = f"min {_mean(m.floor, m.kind)}"
            tolerance = f"{tolerance}{'<br>' if markdown else ', '}{floor}" if tolerance else floor
        rows.append(
            [
                _verdict_cell(m.verdict, m.gating, markdown),
                esc(m.metric, 80),
                _count(m.n),
                f"{_mean(m.base_mean, m.kind)} → {_mean(m.head_mean, m.kind)}",
                _delta(m.delta, m.kind) + (f"{second}({ci})" if ci else ""),
                tolerance or DASH,
                _size(m.mde, m.kind),
            ]
        )
    headers = [
        "verdict",
        "metric",
        "n",
        "base → head",
        f"Δ ({confidence}% CI)",
        "tolerance",
        "detectable drop",
    ]
    return _table(rows, headers, markdown, numbers=5)


_CHECK_LABEL = {"latency_p95_ms": "latency p95", "cost_usd": "cost per case"}


def _check_change(check: OpsCheck) -> str:
    if check.name == "cost_usd":
        return _pct_change(check.base, check.head) or DASH
    base, head = _finite(check.base), _finite(check.head)
    return DASH if base is None or head is None else _ms(head - base, signed=True)


def _check_verdict(check: OpsCheck | None, markdown: bool) -> str:
    if check is None:
        return ""
    verdict = _verdict_cell(check.verdict, True, markdown)
    if check.note:
        note = (escape_cell if markdown else escape_plain)(check.note, 200)
        verdict += f"<br>({note})" if markdown else f" ({note})"
    return verdict


def _ops_table(c: SuiteComparison, *, markdown: bool) -> str:
    base = c.ops.get("base")
    head = c.ops.get("head")
    checks = {check.name: check for check in c.checks}

    def get(ops: SideOps | None, name: str) -> float | None:
        return None if ops is None else _finite(getattr(ops, name))

    def latency_change(name: str) -> str:
        b, h = get(base, name), get(head, name)
        return "" if b is None or h is None else _ms(h - b, signed=True)

    def errors(side: Side, ops: SideOps | None) -> str:
        if ops is None:
            return DASH
        rate = _finite(c.error_rate.get(side))
        text = f"{_count(ops.errors)} of {_count(ops.cases)}"
        return text + (f" ({format_number(rate, 'fraction')})" if rate else "")

    def limit(name: Literal["latency_p95_ms", "cost_usd"]) -> str:
        check = checks.get(name)
        return "" if check is None else _limit(check.limit)

    p50, p95, cost = "latency_p50_ms", "latency_p95_ms", "cost_per_case_usd"
    rows = [
        ["", "latency p50", _ms(get(base, p50)), _ms(get(head, p50)), latency_change(p50), ""],
        [
            _check_verdict(checks.get("latency_p95_ms"), markdown),
            "latency p95",
            _ms(get(base, p95)),
            _ms(get(head, p95)),
            latency_change(p95),
            limit("latency_p95_ms"),
        ],
        [
            _check_verdict(checks.get("cost_usd"), markdown),
            "cost per case",
            _usd(get(base, cost)),
            _usd(get(head, cost)),
            _pct_change(get(base, cost), get(head, cost)),
            limit("cost_usd"),
        ],
        ["", "case errors", errors("base", base), errors("head", head), "", ""],
    ]
    headers = ["verdict", "ops", "base", "head", "change", "limit"]
    return _table(rows, headers, markdown, numbers=4)


def _class_counts(cases: Sequence[_Case]) -> str:
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.row_class] = counts.get(case.row_class, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: _CLASS_ORDER.get(kv[0], 99))
    return ", ".join(f"{n:,} {cls}" for cls, n in ordered)


def _row_view(row: RowDelta, kind: str) -> _RowView:
    delta = _finite(row.delta)
    return _RowView(
        metric=row.metric,
        row_class=row.row_class,
        base=_score(row.base, kind),
        head=_score(row.head, kind),
        delta=DASH if delta is None else _delta(delta, kind),
    )


def _case_metrics(cases: Sequence[_Case], metrics: Sequence[str]) -> list[str]:
    """The metrics that moved in `cases`, in the suite's order (then any other, sorted)."""
    moved = {row.metric for case in cases for row in case.rows}
    ordered = [m for m in metrics if m in moved]
    return ordered + sorted(moved - set(ordered))


def _cases_table(cases: Sequence[_Case], kinds: dict[str, str], *, markdown: bool) -> str:
    """One row per case (its worst class first), one column per metric that moved:
    `base → head`, blank where that metric did not move for the case."""
    if not cases:
        return ""
    esc = escape_cell if markdown else escape_plain
    metrics = _case_metrics(cases, list(kinds))
    rows = []
    for case in cases:
        by_metric = {row.metric: row for row in case.rows}
        cells = []
        for name in metrics:
            row = by_metric.get(name)
            if row is None:
                cells.append("")
                continue
            view = _row_view(row, kinds.get(name, "continuous"))
            cells.append(f"{view.base} → {view.head}")
        rows.append([case.row_class, esc(case.case_id, 80), *cells])
    headers = ["class", "case", *(esc(name, 80) for name in metrics)]
    return _table(rows, headers, markdown, numbers=len(metrics))


def _variable_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(_jsonable(value), ensure_ascii=False, sort_keys=True)


def _case_view(case: _Case, kinds: dict[str, str]) -> _CaseView:
    first = case.rows[0]
    return _CaseView(
        case_id=case.case_id,
        rows=[_row_view(r, kinds.get(r.metric, "continuous")) for r in case.rows],
        variables=[(str(k), _variable_text(v)) for k, v in first.variables.items()],
        base_output=first.base_output,
        head_output=first.head_output,
        reasons=[
            (r.metric, side, reason)
            for r in case.rows
            if r.row_class in _REGRESSIONS
            for side, reason in (("head", r.head_reason), ("base", r.base_reason))
            if reason
        ],
    )


def _table(rows: list[list[str]], headers: list[str], markdown: bool, *, numbers: int = 0) -> str:
    """A markdown (pipe) or plain table; its last `numbers` columns are right-aligned
    (`---:` in markdown)."""
    from tabulate import tabulate

    align = ["left"] * (len(headers) - numbers) + ["right"] * numbers
    return tabulate(
        rows,
        headers=headers,
        tablefmt="pipe" if markdown else "simple",
        disable_numparse=True,
        colalign=align,
    )


@dataclass(frozen=True, slots=True)
class _SideStats:
    side: str
    calls: str
    cache_hits: str
    failed: int
    tokens: str
    cost: str


def _stats_view(stats: dict[Side, CallStats]) -> list[_SideStats]:
    return [
        _SideStats(
            side=side,
            calls=_plural(s.calls, "call"),
            cache_hits=_count(s.cache_hits),
            failed=s.failed,
            tokens=_plural(s.input_tokens + s.output_tokens, "token"),
            cost=_usd(s.cost_usd) if s.cost_usd is not None else "cost unknown",
        )
        for side, s in sorted(stats.items())
    ]


# --------------------------------------------------------------------------- terminal


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


# --------------------------------------------------------------------------- JSON


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON data: enums by value, non-finite floats as null, the rest as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _text(value: str | None) -> str | None:
    return None if value is None else clip(value, RESULT_TEXT_LIMIT)


def _results(facts: _Facts) -> dict[str, Any]:
    comparison = facts.comparison
    changes = facts.changes
    suites = []
    for suite in facts.suites:
        c = suite.comparison
        suites.append(
            {
                "suite": c.suite,
                "verdict": c.verdict.value,
                "note": c.note,
                "error_rate": _jsonable(c.error_rate),
                "metrics": [_jsonable(asdict(m)) for m in c.metrics],
                "checks": [_jsonable(asdict(check)) for check in c.checks],
                "ops": {side: _jsonable(asdict(ops)) for side, ops in sorted(c.ops.items())},
                "cases": [case.case_id for case in suite.cases],  # in the report's order
                "rows": [
                    {
                        **_jsonable(asdict(row)),
                        "variables": {
                            str(k): _text(v) if isinstance(v, str) else _jsonable(v)
                            for k, v in row.variables.items()
                        },
                        "base_output": _text(row.base_output),
                        "head_output": _text(row.head_output),
                    }
                    for row in suite.rows
                ],
            }
        )
    return {
        "verdict": facts.verdict.value,
        "headline": facts.headline,
        "error": facts.error,
        "not_evaluated": None
        if facts.fork_repo is None
        else {"reason": "fork", "head_repository": facts.fork_repo or None},
        "regressions": comparison.regressions if comparison else 0,
        "regressed_cases": comparison.regressed_cases if comparison else 0,
        "confidence": comparison.confidence if comparison else None,
        "run": _jsonable(asdict(facts.info)),
        "suites": suites,
        "changes": None
        if changes is None
        else {
            "base_sha": changes.base_sha,
            "head_sha": changes.head_sha,
            "relevant": changes.relevant,
            "changed_paths": list(changes.changed_paths),
            "suites_to_run": list(changes.suites_to_run),
            "reasons": _jsonable(dict(sorted(changes.reasons.items()))),
            "files": [{**_jsonable(asdict(f)), "diff": _text(f.diff)} for f in changes.files],
            "values": [_jsonable(asdict(v)) for v in changes.values],
        },
        "stats": {side: _jsonable(asdict(s)) for side, s in sorted(facts.stats.items())},
    }
