"""JUnit XML for the test-report views teams already use (dorny/test-reporter, GitLab, Jenkins).

Pure: a function of the comparison and the results. One `<testsuite>` per suite, one
`<testcase>` per case and gating metric (`classname` = suite.metric, `name` = the case id): a
case that regressed on that metric (`pass→fail`, `dropped`) is a `<failure>`, one that could not
be scored on either side an `<error>`, a case only one side has is `<skipped>`. Names and
messages come from datasets and models: ElementTree escapes them, and characters XML 1.0
cannot hold are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from gate.escape import clip
from gate.models import Comparison, Results, RowDelta

REGRESSED = ("pass→fail", "dropped")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MESSAGE_LIMIT = 500


def render_junit(comparison: Comparison | None, results: Results | None) -> str:
    """The XML document; without a comparison (nothing evaluated) an empty `<testsuites>`."""
    root = ET.Element("testsuites", name="llm-gate")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if comparison is not None and results is not None:
        for suite in comparison.suites:
            rows = results.suites.get(suite.suite, ())
            cases = sorted({r.case_id for r in rows})
            gating = [m.metric for m in suite.metrics if m.gating]
            by_key = {(r.case_id, r.metric): r for r in suite.rows}
            element = ET.SubElement(root, "testsuite", name=_x(suite.suite))
            counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
            for metric in gating:
                for case_id in cases:
                    counts["tests"] += 1
                    _testcase(
                        element, suite.suite, metric, case_id, by_key.get((case_id, metric)), counts
                    )
            for key, value in counts.items():
                element.set(key, str(value))
                totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(
    parent: ET.Element,
    suite: str,
    metric: str,
    case_id: str,
    row: RowDelta | None,
    counts: dict[str, int],
) -> None:
    case = ET.SubElement(parent, "testcase", classname=_x(f"{suite}.{metric}"), name=_x(case_id))
    if row is None:
        return
    if row.row_class in REGRESSED:
        counts["failures"] += 1
        message = f"{row.row_class}: {metric} {_num(row.base)} → {_num(row.head)}"
        failure = ET.SubElement(case, "failure", type=row.row_class, message=_x(message))
        failure.text = _x(_details(row), None)
    elif row.row_class == "error":
        counts["errors"] += 1
        ET.SubElement(case, "error", message=_x(f"{metric}: not scored on both sides"))
    elif row.row_class in ("new", "removed"):
        counts["skipped"] += 1
        side = "the base" if row.row_class == "new" else "the head"
        ET.SubElement(case, "skipped", message=_x(f"{row.row_class} case: not in {side} dataset"))


def _details(row: RowDelta) -> str:
    parts: Sequence[tuple[str, str | None]] = (
        ("base output", row.base_output),
        ("head output", row.head_output),
    )
    return "\n\n".join(f"{label}:\n{clip(text or '(none)', 2_000)}" for label, text in parts)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _x(text: str, limit: int | None = MESSAGE_LIMIT) -> str:
    return clip(_NOT_XML.sub("", text), limit)
