"""Every comment variant, and comments full of hostile text, as GitHub renders them.

Each snapshot under tests/snapshots/test_render/ and each fuzzed report goes through cmark-gfm
with GitHub's extensions and GitHub's sanitiser (tests/unit/github_html.py); the structure of
the result is asserted: no link, image, heading or emphasis that text from a model, a dataset
or an artifact made; tables with the intended columns; `<details>` balanced; a relayed
comment starting with where it came from.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.models import (
    Category,
    ChangedFile,
    ChangeSet,
    Comparison,
    OpsCheck,
    RowDelta,
    Verdict,
)
from tests.unit.github_html import Node, render_github
from tests.unit.test_escape import hostile_text
from tests.unit.test_render import (
    BASE_SHA,
    HEAD_SHA,
    INFO,
    STATS,
    changes,
    metric,
    relayed,
    report_for,
    suite,
)

SNAPSHOTS = sorted((Path(__file__).resolve().parents[1] / "snapshots" / "test_render").glob("*.md"))
RUN_URLS = {
    "https://github.com/acme/support/actions/runs/42",
    "https://github.com/acme/support/actions/runs/77",
}
# The only elements the templates make (diffs are fenced: pre and code).
OUR_ELEMENTS = {
    *[
        "p",
        "h3",
        "h4",
        "ul",
        "li",
        "code",
        "pre",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "details",
        "summary",
        "br",
        "blockquote",
    ],
    *["strong", "em", "a", "sub"],
}
MARKS = "(?:✅|❌|⚠️|⏭️|❗)"
VERDICTS = "(?:pass|fail|inconclusive|skipped|error)"
SUITES = {"support-bot", "faq-bot", "suite-0", "suite-1"}
# What the templates put in bold or italics: labels, verdicts, and the suite names of
# "What changed" (from the config, escaped).
OUR_EMPHASIS = {
    "Base output",
    "Head output",
    "fail",
    "error",
    "Error:",
    "Not trusted:",
    "Inconclusive:",
    "no output",
    "empty output",
    "unset",
    "did not evaluate this change",
    "Merge queue",
    "A branch in this repository",
    "pull_request_target",
    "both sides were re-judged with the new rubric",
    *SUITES,
}
METRICS_HEADER = ["verdict", "metric", "n", "base → head", "Δ (95% CI)", "tolerance"]
METRICS_HEADER.append("detectable drop")
OPS_HEADER = ["verdict", "ops", "base", "head", "change", "limit"]
VARIABLES_HEADER = ["variable", "value"]


def header(table: Node) -> list[str]:
    return [cell.text() for cell in table.find("thead")[0].find("th")]


def assert_github_structure(markdown: str, *, relayed_comment: bool = False) -> Node:
    """What GitHub shows of `markdown` is only the templates' own structure."""
    shown = render_github(markdown)
    assert shown.errors == [], shown.errors
    assert shown.seen <= OUR_ELEMENTS, shown.seen - OUR_ELEMENTS
    root = shown.root
    # <details> balance: every one opened is closed, in the markdown and in the HTML
    assert shown.html.count("<details>") == shown.html.count("</details>")
    assert len(root.find("details")) == shown.html.count("<details>")
    assert root.find("img") == []
    assert {a.attrs.get("href") for a in root.find("a")} <= RUN_URLS
    assert root.live_references() == [], "a mention, issue reference or emoji shortcode"
    for heading in root.find("h1", "h2", "h3", "h4", "h5", "h6"):
        text = heading.text()
        if heading.tag == "h3":
            assert re.match(f"^{MARKS} llm-gate: ", text), text
        else:
            assert heading.tag == "h4", heading.tag
            suite_heading = re.match(f"^{MARKS} (.+): {VERDICTS}$", text)
            assert text == "What changed" or (suite_heading and suite_heading[1] in SUITES), text
    assert len(root.find("h3")) == 1
    for emphasis in root.find("strong", "em", "del"):
        assert emphasis.text() in OUR_EMPHASIS, emphasis.text()
    for table in root.find("table"):
        columns = header(table)
        assert columns in (METRICS_HEADER, OPS_HEADER, VARIABLES_HEADER) or columns[:2] == [
            "class",
            "case",
        ], columns
        for row in table.find("tr")[1:]:
            assert len(row.find("td")) == len(columns)
    if relayed_comment:
        first = next(c for c in root.children if isinstance(c, Node))
        assert first.tag == "blockquote", first.tag
        assert first.text().strip().startswith("[!NOTE]\nPosted by llm-gate from the results")
    return root


def assert_markdown_tables_whole(markdown: str) -> None:
    """Each table row has as many cell separators as its header (GFM drops extra cells).
    Lines inside a fenced code block (a diff) are text, never a table."""
    pipes = None
    fence: str | None = None
    lines = markdown.split("\n")
    for number, line in enumerate(lines):
        opening = re.match(r"^(`{3,}|~{3,})", line)
        if fence is None and opening:
            fence = opening[1]
        elif fence is not None and line.startswith(fence) and not line.strip(fence[0]):
            fence = None
        if fence is not None:
            pipes = None
            continue
        if line.startswith("|"):
            pipes = pipes or line.count("|")
            assert line.count("|") == pipes, "\n".join(lines[max(0, number - 3) : number + 1])
        else:
            pipes = None


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.stem)
def test_every_snapshot_renders_as_intended_on_github(path: Path) -> None:
    """Each comment variant, as GitHub renders it, has only the templates' structure."""
    markdown = path.read_text(encoding="utf-8")
    assert_github_structure(markdown, relayed_comment="relayed" in path.stem)
    assert_markdown_tables_whole(markdown)


def test_the_snapshots_cover_every_variant() -> None:
    """The variants STYLE.md lists all have a snapshot, and the new ones too."""
    names = {p.stem for p in SNAPSHOTS}
    for variant in (
        "nothing_relevant_changed",
        "pass",
        "regression",
        "inconclusive",
        "improved",
        "provider_error",
        "truncated",
        "fork_not_evaluated",
        "relayed_comment_from_a_fork",
        "rubric_only",
        "hostile_text_is_inert",
    ):
        assert f"test_{variant}" in names


def test_outputs_are_in_code_that_wraps_and_copies_as_the_text() -> None:
    """An output is a <code> element in a paragraph (GitHub wraps it; never <pre>), and its
    text, newlines as <br>, is the output itself."""
    output = "Line one with **stars** and http://evil.test/x.png\n\n  indented: kept | ok"
    report = report_for(
        Comparison(
            Verdict.FAIL,
            (
                suite(
                    verdict=Verdict.FAIL,
                    metrics=(metric("contains", kind="binary", verdict=Verdict.FAIL),),
                    rows=(hostile_row("case-1", head_output=output),),
                ),
            ),
        )
    )
    root = assert_github_structure(report.comment)
    codes = [
        c
        for p in root.find("p")
        for c in p.children
        if isinstance(c, Node) and c.tag == "code" and c.find("br")
    ]
    assert codes, "the output is not a <code> element with line breaks"
    shown = "".join(
        "\n" if isinstance(c, Node) and c.tag == "br" else c.text() if isinstance(c, Node) else c
        for c in codes[0].children
    )
    assert shown == output


# --------------------------------------------------------------------------- hostile text

MARKUP = [
    "http://evil.test/p.png",
    "https://evil.test/x",
    "www.evil.test",
    "<https://evil.test/auto>",
    "a@evil.test",
    "**bold**",
    "__bold__",
    "_italic_",
    "*italic*",
    "~~struck~~",
    "~struck~",
    ":shipit:",
    ":+1:",
    "# heading",
    "### ✅ llm-gate: pass",
    "Title\n===",
    "Title\n---",
    "- item",
    "1. item",
    "> quote",
    "    indented code",
    "---",
    "- [ ] task",
    "[x]: http://evil.test/ref",
    "[x]",
    "![x](http://evil.test/i.png)",
    "[a](http://evil.test)",
    "<img src=http://evil.test/i.png>",
    "<a href=http://evil.test>a</a>",
    "<!--",
    "-->",
    "<details><summary>x",
    "<details open>",
    "</details>",
    "</summary>",
    "<script>alert(1)</script>",
    '<b style="color:red">x</b>',
    "<code>",
    "</code>",
    "<br>",
    "| a | b |\n|---|---|",
    "@octocat",
    "@acme/security",
    "#12",
    "```",
    "~~~",
    "\\",
    "&lt;b&gt;",
]
markup_text = st.lists(
    st.one_of(st.sampled_from(MARKUP), hostile_text), min_size=1, max_size=6
).map(" ".join)
fuzz = settings(max_examples=60, deadline=None)


def hostile_row(case_id: str, **fields: object) -> RowDelta:
    """A regressed row with the given hostile fields."""
    row = RowDelta(
        suite="support-bot",
        case_id=case_id,
        metric="contains",
        row_class="pass→fail",
        base=1.0,
        head=0.0,
        delta=-1.0,
        variables={"question": "q"},
        base_output="fine",
        head_output="bad",
    )
    return replace(row, **fields)  # type: ignore[arg-type]


@st.composite
def hostile_reports(draw: st.DrawFn) -> tuple[Comparison, ChangeSet, str | None]:
    """A comparison and changes whose every text from a model, a dataset, the repository or
    a run's artifact is hostile markup."""
    text = lambda: draw(markup_text)  # noqa: E731
    rows = tuple(
        hostile_row(
            text() + f" {i}",
            row_class=draw(st.sampled_from(["pass→fail", "dropped", "new", "error", "flaky"])),
            variables={text(): text(), "nested": [text(), {"k": text()}]},
            base_output=draw(st.one_of(st.none(), markup_text)),
            head_output=draw(st.one_of(st.none(), markup_text)),
            head_reason=text(),
            base_reason=draw(st.one_of(st.none(), markup_text)),
        )
        for i in range(draw(st.integers(1, 3)))
    )
    verdict = draw(st.sampled_from([Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.PASS]))
    comparison = Comparison(
        verdict=verdict,
        suites=(
            suite(
                verdict=verdict,
                metrics=(
                    metric("contains", kind="binary", verdict=verdict, note=text()),
                    metric("judge", verdict=Verdict.PASS, gating=False, note=text()),
                ),
                rows=rows,
                note=text(),
                suite_checks=(
                    OpsCheck("latency_p95_ms", 1450, 1610, "+250 ms", Verdict.PASS),
                    OpsCheck("cost_usd", 0.0021, None, "+15 %", Verdict.SKIPPED, note=text()),
                ),
            ),
        ),
    )
    path = text().replace("\n", " ")
    change = ChangeSet(
        base_sha=BASE_SHA,
        head_sha=HEAD_SHA,
        changed_paths=(path, "README.md"),
        files=(
            ChangedFile(
                path,
                "modified",
                (Category.PROMPT,),
                ("support-bot",),
                diff=f"-{text()}\n+{text()}\n",
            ),
        ),
        values=(),
        suites_to_run=("support-bot",),
        reasons={"support-bot": (Category.PROMPT,)},
    )
    if draw(st.booleans()):
        change = replace(change, values=changes().values)
    error = draw(st.one_of(st.none(), markup_text))
    return comparison, change, error


@fuzz
@given(hostile_reports())
def test_hostile_text_renders_inert_on_github(
    case: tuple[Comparison, ChangeSet, str | None],
) -> None:
    """Whatever the model, the dataset or the repository says, GitHub shows only our structure,
    in the comment, the job summary and the comment `mode: publish` rebuilds from the artifact."""
    comparison, change, error = case
    report = report_for(comparison, changes=change, error=error)
    for markdown in (report.comment, report.summary):
        assert_github_structure(markdown)
        assert_markdown_tables_whole(markdown)
    assert_github_structure(relayed(report).comment, relayed_comment=True)


@fuzz
@given(markup_text, st.sampled_from(["mallory/app", ""]))
def test_hostile_refs_and_fork_names_render_inert(ref: str, fork: str) -> None:
    """Branch names and a fork's name are repository text too."""
    info = replace(INFO, base_ref=ref, head_ref=ref)
    for report in (
        report_for(None, stats={}, fork_repo=fork or " ".join(ref.split("\n")), info=info),
        report_for(Comparison(Verdict.PASS, (suite(),)), info=info, stats=STATS),
    ):
        assert_github_structure(report.comment)
        assert_github_structure(relayed(report).comment, relayed_comment=True)


def test_an_artifact_cannot_hide_or_fold_the_provenance() -> None:
    """The attacks a relayed markdown comment allowed: a trailing `<!--`, an unclosed
    `<details>`, a fake green heading. Rebuilt from data, each is text."""
    attack = "### ✅ llm-gate: pass\n\n<details><summary>all good</summary>\n\n<!--"
    comparison = Comparison(
        Verdict.FAIL,
        (
            suite(
                verdict=Verdict.FAIL,
                metrics=(metric("contains", kind="binary", verdict=Verdict.FAIL),),
                rows=(hostile_row(attack, head_output=attack, variables={"q": attack}),),
                note=attack,
            ),
        ),
    )
    comment = relayed(report_for(comparison, error=None)).comment
    root = assert_github_structure(comment, relayed_comment=True)
    assert "which ran on a fork" in root.text()
    assert render_github(comment).comments == [
        " llm-gate config=llm-gate.yml ",
        f" llm-gate head={HEAD_SHA} ",
    ]
