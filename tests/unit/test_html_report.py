"""The side-by-side HTML page of `llm-gate eval --results-dir`: every case, filterable, inert."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

from gate.html_report import render_html
from gate.models import CallStats, CaseResult, Results, RunInfo, Usage
from tests.unit.test_render import regression

INFO = RunInfo(None, "llm-gate.yml", None, "main", "working tree")
HOSTILE = "</pre><script>alert(1)</script><a href='javascript:x'>x</a>\"'&"


def result(case: str, side: str, output: str, score: float) -> CaseResult:
    return CaseResult(
        suite="support", side=side, case_id=case, repeat=0, output=output, error=None,  # type: ignore[arg-type]
        latency_ms=1.0, usage=Usage(), cost_usd=None, cached=False, scores={"contains": score},
        variables={"question": f"q {case} {HOSTILE}"},
    )  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def page() -> str:
    comparison = regression()
    suite = replace(comparison.suites[0], suite="support", rows=())
    rows = (
        result("same", "base", "Steps: same", 1.0),
        result("same", "head", "Steps: same", 1.0),
        result("moved", "base", "Steps: a", 1.0),
        result("moved", "head", HOSTILE, 0.0),
        result("new-only", "head", "Steps: new", 1.0),
    )
    results = Results({"support": rows}, {"base": CallStats(), "head": CallStats()})
    return render_html(replace(comparison, suites=(suite,)), results, INFO, f"Regression {HOSTILE}")


def test_every_case_is_there_changed_first_with_filter_classes() -> None:
    """Unchanged cases are listed too (class `case` only); changed ones first; counts shown."""
    html = page()
    cases = re.findall(r'<details class="([^"]+)"[^>]*><summary>([^<]+)<', html)
    assert cases == [("case changed", "moved"), ("case changed", "new-only"), ("case", "same")]
    assert "all cases (3)" in html and "changed (2)" in html and "regressed (0)" in html
    assert "#show-changed:checked~main details.case:not(.changed){display:none}" in html


def test_untrusted_text_never_becomes_markup() -> None:
    """Model outputs, dataset values and the headline are escaped: the only tags are the page's
    own, no script, no link, and nothing on the page loads anything."""
    html = page()
    parser = _Tags()
    parser.feed(html)
    assert set(parser.tags) <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "div", "input",
        "label", "main", "section", "table", "tr", "th", "td", "details", "summary", "pre",
        "span",
    }  # fmt: skip
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "default-src 'none'" in html
