"""Annotations: the lines a pull request changed in the files of every suite it evaluated.

Pure: computed from the ChangeSet's unified diffs and the Comparison. A suite that regressed
puts a warning on each changed range of its prompt, system prompt, rubric and tool files;
any other evaluated suite a notice. GitHub shows at most 10 annotations of each level per
step (https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions), so
`split_annotations` keeps that many per level for the log and the rest go to the job summary.
The shell prints them with `Console`, which escapes the file name, title and message.
"""

from __future__ import annotations

import re
from typing import Literal

from gate.models import Annotation, ChangeSet, Comparison, SuiteComparison, Verdict

ANNOTATIONS_PER_LEVEL = 10
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def changed_ranges(diff: str) -> tuple[tuple[int, int], ...]:
    """The head-side line ranges (first, last; 1-based) that a unified diff adds or changes.

    A deletion with nothing added in its place marks the line that now follows it (the last
    line of its hunk at the end of a file), so removing a sentence is annotated too.
    """
    touched: set[int] = set()
    line = last = 0
    for text in diff.split("\n"):
        hunk = _HUNK.match(text)
        if hunk is not None:
            line = int(hunk.group(1))
            count = int(hunk.group(2)) if hunk.group(2) is not None else 1
            last = line + count - 1
            continue
        if line == 0 or text.startswith(("+++", "---", "\\")):
            continue
        if text.startswith("+"):
            touched.add(line)
            line += 1
        elif text.startswith("-"):
            if last >= 1:
                touched.add(min(line, last))
        elif text.startswith(" "):
            line += 1
    ranges: list[tuple[int, int]] = []
    for number in sorted(touched):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], number)
        else:
            ranges.append((number, number))
    return tuple(ranges)


def annotations_for(comparison: Comparison | None, changes: ChangeSet | None) -> list[Annotation]:
    """Every annotation of a run: per evaluated suite, each changed range of its diffed files.

    Suites that regressed come first (warnings), then the others (notices); within a suite,
    by path and line.
    """
    if comparison is None or changes is None:
        return []
    out: list[Annotation] = []
    suites = sorted(
        (s for s in comparison.suites if s.verdict is not Verdict.SKIPPED),
        key=lambda s: (s.verdict is not Verdict.FAIL, s.suite),
    )
    for suite in suites:
        level: Literal["warning", "notice"] = (
            "warning" if suite.verdict is Verdict.FAIL else "notice"
        )
        title, what = _describe(suite)
        for file in sorted(changes.files, key=lambda f: f.path):
            if suite.suite not in file.suites or file.status == "deleted" or not file.diff:
                continue
            kinds = ", ".join(c.value.replace("_", " ") for c in file.categories)
            for first, last in changed_ranges(file.diff):
                lines = f"line {first}" if first == last else f"lines {first}-{last}"
                message = f"{what}; {lines} of this {kinds} file changed in the pull request"
                out.append(Annotation(level, file.path, first, last, title, message))
    return out


def split_annotations(
    annotations: list[Annotation], per_level: int = ANNOTATIONS_PER_LEVEL
) -> tuple[tuple[Annotation, ...], tuple[Annotation, ...]]:
    """(the first `per_level` annotations of each level, the rest), both in the given order."""
    shown: list[Annotation] = []
    rest: list[Annotation] = []
    counts: dict[str, int] = {}
    for annotation in annotations:
        counts[annotation.level] = counts.get(annotation.level, 0) + 1
        (shown if counts[annotation.level] <= per_level else rest).append(annotation)
    return tuple(shown), tuple(rest)


def _describe(suite: SuiteComparison) -> tuple[str, str]:
    """(title, first half of the message) of a suite's annotations."""
    failed = [m.metric for m in suite.metrics if m.gating and m.verdict is Verdict.FAIL]
    failed += [c.name for c in suite.checks if c.verdict is Verdict.FAIL]
    if suite.verdict is Verdict.FAIL:
        what = f"llm-gate: suite {suite.suite} regressed"
        return what, what + (f" ({', '.join(failed)})" if failed else "")
    what = f"llm-gate: suite {suite.suite} is {suite.verdict.value}"
    return what, what
