"""The files a run leaves as evidence, and their names: the full report, the comment, the JSON
results, JUnit XML and (for `llm-gate eval`) the side-by-side HTML page.

The action writes its files into `results-dir` (gate.effects.publish); `llm-gate eval` writes
them where its options say (`write_local_results`). Writes replace a file whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from gate.models import Report

if TYPE_CHECKING:
    from gate.pipeline import Outcome

REPORT_NAME = "llm-gate-report.md"
RESULTS_NAME = "llm-gate-results.json"
JUNIT_NAME = "llm-gate-junit.xml"
HTML_NAME = "llm-gate-report.html"
COMMENT_NAME = "llm-gate-comment.md"


def write_local_results(
    outcome: Outcome,
    *,
    results_dir: Path | None,
    report: Path | None,
    junit: Path | None,
) -> list[tuple[str, Path]]:
    """`llm-gate eval`'s files: into `results_dir` the full report, the comment as it would be
    posted, the JSON results and the HTML report (inputs and both outputs side by side); the
    full report to `report` and JUnit XML to `junit`. Returns what went where."""
    written: list[tuple[str, Path]] = []

    def put(what: str, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
        written.append((what, path))

    full = outcome.report.summary
    if report is not None:
        put("the full report", report, full)
    if junit is not None:
        from gate.junit import render_junit

        put("JUnit XML", junit, render_junit(outcome.comparison, outcome.results))
    if results_dir is not None:
        put("the full report", results_dir / REPORT_NAME, full)
        put("the PR comment it would post", results_dir / COMMENT_NAME, outcome.report.comment)
        put("the JSON results", results_dir / RESULTS_NAME, results_json(outcome.report))
        if outcome.comparison is not None and outcome.results is not None:
            from gate.html_report import render_html

            page = render_html(
                outcome.comparison, outcome.results, outcome.info, outcome.report.headline
            )
            put("every case side by side (open it in a browser)", results_dir / HTML_NAME, page)
    return written


def results_json(report: Report) -> str:
    return json.dumps(report.results, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
