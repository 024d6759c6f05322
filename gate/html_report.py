"""The local evidence: one self-contained HTML page with every case's inputs and both outputs.

Pure: a function of the comparison and the results. Everything shown came from a dataset, a
model or the pull request, so every piece of text is escaped with `html.escape` (quotes
included) and nothing is ever a tag, an attribute or a URL of its own. The filter (all cases,
changed, regressed) is CSS only: radio buttons and `:checked` rules, no script, no request.
"""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gate.escape import clip
from gate.models import CaseResult, Comparison, Results, RunInfo, SuiteComparison

OUTPUT_LIMIT = 10_000  # characters of one output shown (the JSON results hold as many)
REGRESSED = ("pass→fail", "dropped")

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1f2328;background:#fff}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #d0d7de;padding:.25rem .5rem;vertical-align:top;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.filters label{margin-right:1rem;cursor:pointer}
.filters input{margin-right:.25rem}
details.case{border:1px solid #d0d7de;border-radius:6px;margin:.5rem 0;padding:.25rem .75rem}
details.case>summary{cursor:pointer;font-weight:600}
.badge{display:inline-block;font-size:.8rem;font-weight:400;border-radius:1rem;
padding:0 .5rem;margin-left:.4rem;background:#eaeef2}
.badge.bad{background:#ffebe9;color:#82071e}.badge.good{background:#dafbe1;color:#116329}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:.75rem}
.sides>div{min-width:0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:.5rem;
border-radius:4px;margin:.25rem 0}
.error{color:#82071e}
#show-changed:checked~main details.case:not(.changed){display:none}
#show-regressed:checked~main details.case:not(.regressed){display:none}
#show-changed:checked~main section.suite:not(.changed),
#show-regressed:checked~main section.suite:not(.regressed){opacity:.6}
"""


@dataclass
class _Side:
    outputs: list[str | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    variables: dict[str, Any] = field(default_factory=dict)


def render_html(comparison: Comparison, results: Results, info: RunInfo, headline: str) -> str:
    """The whole page: a header, the filter, then per suite its metrics and every case."""
    suites = {s.suite: s for s in comparison.suites}
    body = [
        f"<h1>llm-gate: {_e(headline)}</h1>",
        f"<p>{_e(comparison.verdict.value)} · base {_e(info.base_ref)} · head "
        f"{_e(info.head_ref)} · config {_e(info.config_path)}</p>",
    ]
    sections = []
    totals = {"all": 0, "changed": 0, "regressed": 0}
    for name, rows in results.suites.items():
        suite = suites.get(name)
        section, counts = _suite_section(name, suite, rows)
        sections.append(section)
        for key in totals:
            totals[key] += counts[key]
    filters = (
        '<input type="radio" name="show" id="show-all" checked>'
        f'<label for="show-all">all cases ({totals["all"]})</label>'
        '<input type="radio" name="show" id="show-changed">'
        f'<label for="show-changed">changed ({totals["changed"]})</label>'
        '<input type="radio" name="show" id="show-regressed">'
        f'<label for="show-regressed">regressed ({totals["regressed"]})</label>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # nothing on the page loads anything: no script, image, font or frame from anywhere
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>llm-gate: {_e(headline)}</title><style>{_STYLE}</style></head>\n"
        f"<body>{''.join(body)}\n"
        f'<div class="filters">{filters}\n<main>{"".join(sections)}</main></div>\n'
        "</body></html>\n"
    )


def _suite_section(
    name: str, suite: SuiteComparison | None, rows: Sequence[CaseResult]
) -> tuple[str, dict[str, int]]:
    classes: dict[str, dict[str, str]] = defaultdict(dict)  # case → metric → row class
    metrics: list[str] = []
    if suite is not None:
        metrics = [m.metric for m in suite.metrics]
        for delta in suite.rows:
            classes[delta.case_id][delta.metric] = delta.row_class
    sides: dict[str, dict[str, _Side]] = defaultdict(lambda: defaultdict(_Side))
    for row in rows:
        side = sides[row.case_id][row.side]
        side.outputs.append(row.output)
        side.variables = row.variables
        if row.error:
            side.errors.append(row.error)
        side.errors.extend(f"{m}: {e}" for m, e in sorted(row.score_errors.items()))
        for metric, score in row.scores.items():
            if score is not None and math.isfinite(score):
                side.scores[metric].append(score)
            if metric not in metrics:
                metrics.append(metric)
    shown: list[tuple[bool, bool, str]] = []
    counts = {"all": 0, "changed": 0, "regressed": 0}
    for case_id in sides:
        regressed = any(c in REGRESSED for c in classes[case_id].values())
        changed = regressed or bool(classes[case_id]) or _differs(sides[case_id], metrics)
        counts["all"] += 1
        counts["changed"] += changed
        counts["regressed"] += regressed
        shown.append((not regressed, not changed, case_id))
    cases = [  # regressed cases first, then the other changed ones, then the rest, by id
        _case(case_id, sides[case_id], metrics, classes[case_id], not same, not kept)
        for kept, same, case_id in sorted(shown)
    ]
    verdict = suite.verdict.value if suite is not None else "not compared"
    kinds = " ".join(k for k in ("changed", "regressed") if counts[k])
    head = f'<section class="suite {kinds}"><h2>{_e(name)}: {_e(verdict)}</h2>'
    if suite is not None and suite.note:
        head += f"<p>{_e(suite.note)}</p>"
    if suite is not None and suite.metrics:
        head += _metrics_table(suite)
    return head + "".join(cases) + "</section>", counts


def _differs(by_side: Mapping[str, _Side], metrics: Iterable[str]) -> bool:
    base, head = by_side.get("base"), by_side.get("head")
    if base is None or head is None:
        return True
    if base.outputs != head.outputs or bool(base.errors) != bool(head.errors):
        return True
    return any(_mean(base.scores.get(m)) != _mean(head.scores.get(m)) for m in metrics)


def _case(
    case_id: str,
    by_side: Mapping[str, _Side],
    metrics: Sequence[str],
    classes: Mapping[str, str],
    changed: bool,
    regressed: bool,
) -> str:
    kinds = "case" + (" changed" if changed else "") + (" regressed" if regressed else "")
    badges = "".join(
        f'<span class="badge {_tone(c)}">{_e(m)}: {_e(c)}</span>'
        for m, c in sorted(classes.items())
    )
    either = by_side.get("head") or by_side.get("base") or _Side()
    inputs = "".join(
        f"<tr><th>{_e(str(k))}</th><td><pre>{_e(_text(v))}</pre></td></tr>"
        for k, v in either.variables.items()
    )
    score_rows = "".join(
        f"<tr><td>{_e(m)}</td>"
        f'<td class="n">{_e(_shown(by_side.get("base"), m))}</td>'
        f'<td class="n">{_e(_shown(by_side.get("head"), m))}</td></tr>'
        for m in metrics
    )
    columns = "".join(_side_column(label, by_side.get(label)) for label in ("base", "head"))
    return (
        f'<details class="{kinds}"{" open" if regressed else ""}>'
        f"<summary>{_e(case_id)}{badges}</summary>"
        f"<table>{inputs}</table>"
        f"<table><tr><th>metric</th><th>base</th><th>head</th></tr>{score_rows}</table>"
        f'<div class="sides">{columns}</div></details>'
    )


def _side_column(label: str, side: _Side | None) -> str:
    if side is None:
        return f"<div><h3>{label}</h3><p>(not in this side's dataset)</p></div>"
    parts = [f"<div><h3>{label}</h3>"]
    for repeat, output in enumerate(side.outputs):
        if len(side.outputs) > 1:
            parts.append(f"<p>repeat {repeat + 1}</p>")
        shown = "(no output)" if output is None else clip(output, OUTPUT_LIMIT)
        parts.append(f"<pre>{_e(shown)}</pre>")
    parts.extend(f'<p class="error">{_e(error)}</p>' for error in side.errors)
    return "".join(parts) + "</div>"


def _metrics_table(suite: SuiteComparison) -> str:
    rows = "".join(
        f'<tr><td>{_e(m.metric)}</td><td>{_e(m.verdict.value)}</td><td class="n">{m.n}</td>'
        f'<td class="n">{_num(m.base_mean)}</td><td class="n">{_num(m.head_mean)}</td>'
        f'<td class="n">{_num(m.delta, signed=True)}</td></tr>'
        for m in suite.metrics
    )
    return (
        "<table><tr><th>metric</th><th>verdict</th><th>n</th><th>base</th><th>head</th>"
        f"<th>Δ</th></tr>{rows}</table>"
    )


def _tone(row_class: str) -> str:
    if row_class in REGRESSED or row_class == "error":
        return "bad"
    return "good" if row_class in ("fail→pass", "improved") else ""


def _mean(values: Sequence[float] | None) -> float | None:
    return sum(values) / len(values) if values else None


def _shown(side: _Side | None, metric: str) -> str:
    return "–" if side is None else _num(_mean(side.scores.get(metric)))


def _num(value: float | None, *, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return clip(value, OUTPUT_LIMIT)
    return clip(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str), OUTPUT_LIMIT)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
