"""The report's tables: metrics, latency and cost, regressed cases and the calls made.

Pure: view values and tabulate tables, in markdown for the comment and as text for a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gate.escape import (
    escape_cell,
    escape_plain,
)
from gate.models import (
    CallStats,
    MetricComparison,
    OpsCheck,
    RowDelta,
    Side,
    SideOps,
    SuiteComparison,
    Verdict,
)
from gate.report.facts import _CLASS_ORDER, _REGRESSIONS, _Case
from gate.report.limits import DASH
from gate.report.numbers import (
    _count,
    _delta,
    _drop,
    _finite,
    _interval,
    _limit,
    _mean,
    _ms,
    _pct_change,
    _plural,
    _score,
    _size,
    _usd,
    format_number,
)
from gate.report.results import _jsonable


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
