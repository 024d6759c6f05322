"""Property tests of the whole rendering: arbitrary text from a model, a dataset or the config
in a RowDelta never breaks the comment's or the summary's structure, pings anyone, injects
HTML or starts a workflow command."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gate.models import Comparison, RowDelta, Verdict
from gate.report.comment import comment_marker
from gate.report.limits import COMMENT_LIMIT, SUMMARY_LIMIT
from gate.report.render import render_report
from tests.unit.test_escape import hostile_text
from tests.unit.test_render import INFO, assert_balanced, metric, report_for, suite

fuzz = settings(max_examples=100, deadline=None)

# The only HTML the templates write; anything else would come from escaped text.
OUR_TAGS = re.compile(
    r"<(?:/?(?:details|summary|pre|code|sub)|br|!-- llm-gate (?:config|head)=[^<>\n]* --)>"
)


def without_code(markdown: str) -> str:
    """The markdown minus fenced blocks and code spans, where GitHub renders text literally
    (no HTML, no links, no mentions)."""
    text = re.sub(r"^(`{3,})[^\n]*\n.*?^\1[^\S\n]*$", "", markdown, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


@st.composite
def hostile_rows(draw: st.DrawFn) -> tuple[RowDelta, ...]:
    """Regressed rows whose case id, metric name, variables and outputs are hostile text."""
    rows = []
    for index in range(draw(st.integers(1, 4))):
        metric_name = draw(st.sampled_from(["contains", draw(hostile_text)]))
        rows.append(
            RowDelta(
                suite="support-bot",
                case_id=draw(hostile_text) + f"#{index}",
                metric=metric_name,
                row_class=draw(st.sampled_from(["pass→fail", "dropped", "new", "error"])),
                base=1.0,
                head=0.0,
                delta=-1.0,
                variables={
                    draw(hostile_text) or "k": draw(hostile_text),
                    "nested": [draw(hostile_text), {"k": draw(hostile_text)}],
                },
                base_output=draw(st.one_of(st.none(), hostile_text)),
                head_output=draw(st.one_of(st.none(), hostile_text)),
            )
        )
    return tuple(rows)


def assert_structure_holds(markdown: str) -> None:
    """Tags and fences balanced, tables whole, no HTML but ours, no mention, issue reference,
    image or workflow command."""
    assert_balanced(markdown)
    assert markdown.count("<details>") == markdown.count("</details>")
    assert OUR_TAGS.sub("", markdown).count("<") == 0, "a tag that is not the template's"
    assert re.search(r"@\w", markdown) is None, "a raw mention"
    assert re.search(r"(?<!&)#\d", markdown) is None, "a raw issue reference"
    assert "![" not in markdown
    assert re.search(r"^[^\S\n]*::", markdown, re.M) is None, "a line starting a command"
    assert "##[" not in markdown
    in_pre, table_pipes = False, None
    for line in markdown.split("\n"):
        in_pre = (in_pre or line.startswith("<pre>")) and "</pre>" not in line
        if in_pre or line.startswith("<pre>"):
            continue
        if line.startswith("|"):  # every row of a table has as many cell separators
            table_pipes = table_pipes or line.count("|")
            assert line.count("|") == table_pipes, line
        else:
            table_pipes = None


@fuzz
@given(hostile_rows(), hostile_text)
def test_arbitrary_text_never_breaks_the_report(rows: tuple[RowDelta, ...], note: str) -> None:
    """A regression made of hostile rows and a hostile suite note renders a comment under
    GitHub's limit and a summary under 1 MiB, both structurally sound and inert."""
    comparison = Comparison(
        verdict=Verdict.FAIL,
        suites=(
            suite(
                verdict=Verdict.FAIL,
                metrics=(metric("contains", kind="binary", verdict=Verdict.FAIL),),
                rows=rows,
                note=note,
            ),
        ),
    )
    report = report_for(comparison)
    assert report.comment.split("\n")[0] == comment_marker("llm-gate.yml")
    assert len(report.comment) < COMMENT_LIMIT
    assert len(report.summary.encode()) <= SUMMARY_LIMIT
    for markdown in (report.comment, report.summary):
        assert_structure_holds(markdown)
    assert "\n" not in report.headline and len(report.headline) <= 140


@fuzz
@given(hostile_text)
def test_arbitrary_error_text_never_breaks_the_report(error: str) -> None:
    """An error message quoting hostile text (a case id, a provider's answer) stays inert."""
    report = render_report(None, None, {}, INFO, error=error)
    assert_structure_holds(report.comment)
    assert "\n" not in report.headline and len(report.headline) <= 140
