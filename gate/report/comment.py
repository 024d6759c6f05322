"""The PR comment and the job summary: markdown from the templates, cut to fit.

Pure: facts, changes and views (suites, cases, diffs, annotations) rendered with the
templates of gate/templates/, at the most detail that fits GitHub's limits; also the relayed
comment of `mode: publish` and the comment's hidden marker.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from gate.escape import (
    clip,
    code_fence,
    escape_code,
    escape_inline,
    neutralise_commands,
    normalize_text,
)
from gate.failures import describe as describe_errors
from gate.models import (
    CallStats,
    Category,
    ChangedFile,
    ChangeSet,
    Comparison,
    MetricComparison,
    Report,
    RunInfo,
    Side,
    ValueChange,
    Verdict,
)
from gate.report.facts import _MARK, _cases, _Facts, _facts, _not_evaluated, _Suite
from gate.report.limits import (
    _COMMENT_LEVELS,
    ANNOTATIONS_LISTED,
    COMMENT_TARGET,
    MINUS,
    Target,
    _Limits,
)
from gate.report.numbers import _count, _finite, _interval, _plural, _size
from gate.report.tables import (
    _case_view,
    _cases_table,
    _CaseView,
    _class_counts,
    _metrics_table,
    _ops_table,
    _stats_view,
)
from gate.report.templates import _template


def comment_marker(config_path: str) -> str:
    """The hidden first line that finds this config's sticky comment again."""
    return f"<!-- llm-gate config={_marker_value(config_path)} -->"


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
class _SuiteView:
    name: str
    mark: str
    verdict: str
    note: str
    table: str  # markdown, escaped
    metric_notes: list[tuple[str, str]]  # (metric, note)
    underpowered: list[tuple[str, str, str, str]]  # (metric, detectable, tolerance, cases)
    ops: str  # markdown table, escaped
    cases_total: int
    cases_summary: str  # "30 pass→fail, 5 flaky"
    cases_table: str
    cases: list[_CaseView] = field(default_factory=list)  # with inputs and outputs
    explanations: list[str] = field(default_factory=list)  # markdown, escaped: what it means
    errors: list[str] = field(default_factory=list)  # why case runs failed, one per kind


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
    needed = cases_to_decide(m)
    if needed is not None and needed > m.n:
        text += (
            f" About {_count(needed)} cases (now {_count(m.n)}) would decide it, if the "
            "change stays as it is: add cases to the dataset."
        )
    else:
        text += " More cases narrow the interval and decide it."
    return text


def cases_to_decide(m: MetricComparison) -> int | None:
    """About how many cases would turn an inconclusive `m` into a pass or a fail.

    It is decided once its interval no longer holds the tolerance's edge (−tolerance). The
    interval's half-width shrinks as 1/√n, so n cases whose half-width is h, with the change
    d away from the edge, need n × (h / d)². When the tolerance itself is not detectable, the
    comparison's `cases_needed` (the n that makes it so) is the larger of the two.
    """
    low, high, delta = _finite(m.ci_low), _finite(m.ci_high), _finite(m.delta)
    tolerance = _finite(m.tolerance)
    if low is None or high is None or delta is None or tolerance is None or m.n <= 0:
        return m.cases_needed
    distance = abs(delta + tolerance)
    if distance == 0:
        return m.cases_needed
    needed = math.ceil(m.n * ((high - low) / 2 / distance) ** 2 - 1e-9)
    return max(needed, m.cases_needed or 0)


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
            (m.metric, _size(m.mde, m.kind), _size(m.tolerance, m.kind), _count(m.cases_needed))
            for m in c.metrics
            if m.gating
            and m.cases_needed is not None
            and m.verdict is not Verdict.INCONCLUSIVE  # its explanation says how many cases
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
