"""Unit tests of the report renderer: every comment variant is a checked-in snapshot.

The snapshots are the `.md` files under tests/snapshots/test_render/, compared byte for byte.
After an intended change of the output, regenerate them and review the diff:

    .venv/bin/pytest tests/unit/test_render.py --snapshot-update
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.data import SnapshotCollection
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from syrupy.location import PyTestLocation
from syrupy.types import SerializableData

from gate.compare import cases_for
from gate.models import (
    CallStats,
    Category,
    ChangedFile,
    ChangeSet,
    Comparison,
    MetricComparison,
    OpsCheck,
    RowClass,
    RowDelta,
    RunInfo,
    Side,
    SideOps,
    SuiteComparison,
    ValueChange,
    Verdict,
)
from gate.report import comment as comment_module
from gate.report import facts as facts_module
from gate.report.comment import comment_marker, render_relayed_comment
from gate.report.render import render_report
from gate.report.terminal import render_terminal

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


class MarkdownSnapshot(SingleFileSnapshotExtension):
    """A snapshot stored as a raw `.md` file under tests/snapshots/, newlines untranslated."""

    file_extension = "md"
    _write_mode = WriteMode.TEXT

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(SNAPSHOTS / test_location.basename)

    def read_snapshot_data_from_location(
        self, *, snapshot_location: str, snapshot_name: str, session_id: str
    ) -> SerializableData | None:
        try:
            with open(snapshot_location, encoding="utf-8", newline="") as f:
                return f.read()
        except FileNotFoundError:
            return None

    @classmethod
    def write_snapshot_collection(
        cls, *, snapshot_collection: SnapshotCollection, name_order: dict[str, int] | None = None
    ) -> None:
        data = next(iter(snapshot_collection)).data
        assert isinstance(data, str)
        with open(snapshot_collection.location, "w", encoding="utf-8", newline="") as f:
            f.write(data)


class TextSnapshot(MarkdownSnapshot):
    """The same as MarkdownSnapshot for plain-text (terminal) output."""

    file_extension = "txt"


@pytest.fixture
def md(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """A snapshot assertion writing raw markdown files."""
    return snapshot.use_extension(MarkdownSnapshot)


@pytest.fixture
def txt(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """A snapshot assertion writing raw text files."""
    return snapshot.use_extension(TextSnapshot)


# --------------------------------------------------------------------------- builders

BASE_SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
HEAD_SHA = "9f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5"
INFO = RunInfo(
    repository="acme/support",
    config_path="llm-gate.yml",
    run_url="https://github.com/acme/support/actions/runs/42",
    base_ref="main",
    head_ref="cheaper-model",
)
STATS: dict[Side, CallStats] = {
    "base": CallStats(calls=0, cache_hits=80, input_tokens=0, output_tokens=0, cost_usd=0.0),
    "head": CallStats(
        calls=80, cache_hits=0, input_tokens=41_230, output_tokens=9_874, cost_usd=0.0213
    ),
}
PROMPT_DIFF = """\
--- a/prompts/support.md.j2
+++ b/prompts/support.md.j2
@@ -1,4 +1,4 @@
 You are the support assistant of Acme.
-Answer in full sentences and cite the help-center article.
+Answer briefly.
 Question: {{ question }}
"""


def metric(
    name: str = "judge",
    *,
    kind: str = "continuous",
    base: float | None = 4.10,
    head: float | None = 4.05,
    ci: tuple[float, float] | None = (-0.12, 0.03),
    tolerance: float | None = 0.2,
    floor: float | None = None,
    mde: float | None = 0.15,
    verdict: Verdict = Verdict.PASS,
    gating: bool = True,
    n: int = 40,
    suite: str = "support-bot",
    note: str = "",
) -> MetricComparison:
    """A metric comparison; delta is head − base."""
    delta = None if base is None or head is None else head - base
    return MetricComparison(
        suite=suite,
        metric=name,
        kind="binary" if kind == "binary" else "continuous",
        n=n,
        base_mean=base,
        head_mean=head,
        delta=delta,
        ci_low=ci[0] if ci else None,
        ci_high=ci[1] if ci else None,
        tolerance=tolerance,
        floor=floor,
        mde=mde,
        p_value=0.5,
        verdict=verdict,
        gating=gating,
        test="sign test" if kind == "binary" else "paired bootstrap",
        note=note,
        cases_needed=cases_for(mde, n, tolerance),
    )


def row(
    case_id: str,
    metric_name: str,
    row_class: RowClass,
    base: float | None,
    head: float | None,
    *,
    suite: str = "support-bot",
    question: str = "How do I reset my password?",
    base_output: str | None = "Open Settings → Security and choose “Reset password” (see KB-12).",
    head_output: str | None = "Use the reset link.",
    head_reason: str | None = None,
) -> RowDelta:
    """One regressed (or otherwise moved) row of a case."""
    return RowDelta(
        suite=suite,
        case_id=case_id,
        metric=metric_name,
        row_class=row_class,
        base=base,
        head=head,
        delta=None if base is None or head is None else head - base,
        variables={"question": question, "expected": "Settings"},
        base_output=base_output,
        head_output=head_output,
        head_reason=head_reason,
    )


def ops(
    p50: float = 820, p95: float = 1450, cost: float | None = 0.0021, errors: int = 0
) -> SideOps:
    """Latency and cost of one side."""
    return SideOps(
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        cost_per_case_usd=cost,
        errors=errors,
        cases=40,
    )


def checks(latency: Verdict = Verdict.PASS, cost: Verdict = Verdict.PASS) -> tuple[OpsCheck, ...]:
    """The latency and cost checks of a suite with the DESIGN.md thresholds."""
    return (
        OpsCheck("latency_p95_ms", 1450, 1610, "+250 ms", latency),
        OpsCheck("cost_usd", 0.0021, 0.0007, "+15 %", cost),
    )


def suite(
    name: str = "support-bot",
    verdict: Verdict = Verdict.PASS,
    metrics: tuple[MetricComparison, ...] = (),
    rows: tuple[RowDelta, ...] = (),
    *,
    head_ops: SideOps | None = None,
    suite_checks: tuple[OpsCheck, ...] | None = None,
    note: str = "",
) -> SuiteComparison:
    """A suite comparison with default ops (head cheaper, a little slower)."""
    head = head_ops or ops(p50=910, p95=1610, cost=0.0007)
    return SuiteComparison(
        suite=name,
        verdict=verdict,
        metrics=metrics or (metric(suite=name),),
        rows=rows,
        ops={"base": ops(), "head": head},
        checks=checks() if suite_checks is None else suite_checks,
        error_rate={"base": 0.0, "head": head.errors / head.cases},
        note=note,
    )


def changes(*, relevant: bool = True, extra_paths: tuple[str, ...] = ()) -> ChangeSet:
    """The DESIGN.md example PR: a cheaper model, a hotter temperature and a shorter prompt."""
    if not relevant:
        return ChangeSet(
            base_sha=BASE_SHA,
            head_sha=HEAD_SHA,
            changed_paths=("README.md", "docs/setup.md", *extra_paths),
            files=(),
            values=(),
            suites_to_run=(),
        )
    return ChangeSet(
        base_sha=BASE_SHA,
        head_sha=HEAD_SHA,
        changed_paths=("README.md", "config/models.yaml", "prompts/support.md.j2", *extra_paths),
        files=(
            ChangedFile(
                "config/models.yaml",
                "modified",
                (Category.MODEL, Category.SAMPLING),
                ("support-bot",),
            ),
            ChangedFile(
                "prompts/support.md.j2",
                "modified",
                (Category.PROMPT,),
                ("support-bot",),
                diff=PROMPT_DIFF,
            ),
        ),
        values=(
            ValueChange("support-bot", Category.MODEL, "model", "gpt-4o", "gpt-4o-mini"),
            ValueChange("support-bot", Category.SAMPLING, "temperature", "0.2", "1.5"),
            ValueChange("support-bot", Category.SAMPLING, "top_p", None, "0.9"),
        ),
        suites_to_run=("support-bot",),
        reasons={"support-bot": (Category.PROMPT, Category.MODEL, Category.SAMPLING)},
    )


def regression() -> Comparison:
    """support-bot regressed on judge and contains; faq-bot passed."""
    support = suite(
        verdict=Verdict.FAIL,
        metrics=(
            metric(
                "judge",
                base=4.10,
                head=3.68,
                ci=(-0.61, -0.22),
                floor=3.5,
                verdict=Verdict.FAIL,
            ),
            metric(
                "contains",
                kind="binary",
                base=0.85,
                head=0.725,
                ci=(-0.225, -0.025),
                tolerance=0.02,
                mde=0.081,
                verdict=Verdict.FAIL,
            ),
            metric(
                "json_valid",
                kind="binary",
                base=1.0,
                head=0.975,
                ci=(-0.075, 0.0),
                tolerance=None,
                mde=0.05,
                gating=False,
            ),
        ),
        rows=(
            row("case-031", "contains", "flaky", 2 / 3, 1 / 3),
            row(
                "case-007",
                "judge",
                "dropped",
                5.0,
                2.0,
                head_reason="The answer names no menu and no steps.",
            ),
            row("case-007", "contains", "pass→fail", 1.0, 0.0, head_reason="missing “Settings”"),
            row(
                "case-012",
                "judge",
                "dropped",
                4.0,
                2.0,
                question="Can I pay by invoice?",
                base_output=(
                    "Yes: choose *Invoice* at checkout, then enter the billing address of your "
                    "company exactly as it appears on your tax registration, because invoices "
                    "are issued in that name and cannot be reissued later without a credit note."
                    "\n\nInvoices are due in 30 days.\n    Indented: kept."
                ),
                head_output="No.",
            ),
            row("case-040", "judge", "new", None, 3.0, base_output=None, head_output="Hi!"),
        ),
    )
    faq = suite(
        "faq-bot",
        metrics=(
            metric(
                "exact",
                kind="binary",
                base=0.9,
                head=0.9,
                ci=(-0.05, 0.05),
                tolerance=0.02,
                mde=0.03,
                suite="faq-bot",
            ),
        ),
        suite_checks=(),
    )
    return Comparison(verdict=Verdict.FAIL, suites=(faq, support))


def passing() -> Comparison:
    """support-bot passed; one case is flaky."""
    return Comparison(
        verdict=Verdict.PASS,
        suites=(
            suite(
                metrics=(
                    metric(),
                    metric(
                        "contains",
                        kind="binary",
                        base=0.85,
                        head=0.85,
                        ci=(-0.05, 0.05),
                        tolerance=0.02,
                        mde=0.04,
                    ),
                ),
                rows=(row("case-031", "contains", "flaky", 2 / 3, 1 / 3),),
            ),
        ),
    )


def inconclusive() -> Comparison:
    """judge dropped by 0.12: the interval reaches past the 0.20 tolerance."""
    return Comparison(
        verdict=Verdict.INCONCLUSIVE,
        suites=(
            suite(
                verdict=Verdict.INCONCLUSIVE,
                metrics=(
                    metric(head=3.98, ci=(-0.30, 0.05), mde=0.28, verdict=Verdict.INCONCLUSIVE),
                ),
                rows=(row("case-012", "judge", "dropped", 4.0, 3.0),),
            ),
        ),
    )


def improved() -> Comparison:
    """contains improved by 10 points; two cases went from fail to pass."""
    return Comparison(
        verdict=Verdict.PASS,
        suites=(
            suite(
                metrics=(
                    metric(
                        "contains",
                        kind="binary",
                        base=0.75,
                        head=0.85,
                        ci=(0.025, 0.175),
                        tolerance=0.02,
                        mde=0.06,
                    ),
                ),
                rows=(
                    row("case-019", "contains", "fail→pass", 0.0, 1.0, base_output="I don't know."),
                    row("case-003", "contains", "fail→pass", 0.0, 1.0, base_output="Sorry."),
                ),
            ),
        ),
    )


def report_for(comparison: Comparison | None, **kwargs: Any) -> Any:
    """render_report with the example changes, stats and run."""
    return render_report(
        comparison,
        kwargs.pop("changes", changes()),
        kwargs.pop("stats", STATS),
        kwargs.pop("info", INFO),
        **kwargs,
    )


# --------------------------------------------------------------------------- variants


def test_nothing_relevant_changed(md: SnapshotAssertion) -> None:
    """No suite uses a changed file: no table, the changed files listed, verdict skipped."""
    report = render_report(None, changes(relevant=False), {}, INFO)
    assert report.verdict is Verdict.SKIPPED
    assert report.headline == "Nothing relevant changed (README.md, docs/setup.md)"
    assert "| metric" not in report.comment
    assert report.comment == md


def test_pass(md: SnapshotAssertion) -> None:
    """A passing suite: the delta table, ops and the flaky case."""
    report = report_for(passing())
    assert report.verdict is Verdict.PASS
    assert report.headline == "Pass: no regression in support-bot (n=40)"
    assert report.comment == md


def test_regression(md: SnapshotAssertion) -> None:
    """A regression: failing metrics in the title, regressed cases with inputs and outputs."""
    report = report_for(regression())
    assert report.verdict is Verdict.FAIL
    assert report.headline == ("Regression: support-bot judge −0.42 (tolerance 0.20) and 1 more")
    assert (report.regressions, report.regressed_cases) == (2, 2)
    assert report.comment == md


def test_regression_summary_matches_comment() -> None:
    """A small report is the same in the comment and the job summary."""
    report = report_for(regression())
    assert report.summary == report.comment


def test_inconclusive(md: SnapshotAssertion) -> None:
    """An interval that straddles the tolerance is inconclusive, and the headline shows it."""
    report = report_for(inconclusive())
    assert report.verdict is Verdict.INCONCLUSIVE
    assert report.headline == (
        "Inconclusive: support-bot judge −0.12 (CI −0.30 to +0.05, tolerance 0.20)"
    )
    assert report.comment == md


def rubric_only() -> tuple[Comparison, ChangeSet]:
    """A PR that only reworded the judge's rubric (and re-indented a line of it)."""
    rubric_diff = (
        "--- a/evals/rubrics/helpful.md\n+++ b/evals/rubrics/helpful.md\n@@ -1,3 +1,3 @@\n"
        " Score 5 when the answer solves the problem.\n-Score 1 when it does not.\n"
        "+Score 1 when it does not, or when it invents a menu.\n"
    )
    indent_diff = (
        "--- a/evals/rubrics/tone.md\n+++ b/evals/rubrics/tone.md\n@@ -1,2 +1,2 @@\n"
        " Be kind.\n-Be brief.\n+Be brief. \n"
    )
    change = ChangeSet(
        base_sha=BASE_SHA,
        head_sha=HEAD_SHA,
        changed_paths=("evals/rubrics/helpful.md", "evals/rubrics/tone.md"),
        files=(
            ChangedFile(
                "evals/rubrics/helpful.md",
                "modified",
                (Category.RUBRIC,),
                ("support-bot",),
                diff=rubric_diff,
            ),
            ChangedFile(
                "evals/rubrics/tone.md",
                "modified",
                (Category.RUBRIC,),
                ("support-bot",),
                diff=indent_diff,
            ),
        ),
        values=(),
        suites_to_run=("support-bot",),
        reasons={"support-bot": (Category.RUBRIC,)},
    )
    comparison = Comparison(
        verdict=Verdict.PASS,
        suites=(suite(metrics=(metric(base=3.90, head=3.90, ci=(0.0, 0.0), mde=0.1),)),),
    )
    return comparison, change


def test_rubric_only(md: SnapshotAssertion) -> None:
    """Only the rubric changed: the comment says both sides were re-judged with the new one,
    and a diff that only moved whitespace says so."""
    comparison, change = rubric_only()
    stats: dict[Side, CallStats] = {
        "base": CallStats(calls=0, cache_hits=60),
        "head": CallStats(calls=0, cache_hits=60),
    }
    report = report_for(comparison, changes=change, stats=stats)
    assert "both sides were re-judged with the new rubric" in report.comment
    assert "(rubric, modified, +1 −1, whitespace only)" in report.comment
    assert report.comment == md


def test_improved(md: SnapshotAssertion) -> None:
    """A significant improvement passes and says what improved."""
    report = report_for(improved())
    assert report.verdict is Verdict.PASS
    assert report.headline == "Pass: quality improved in support-bot contains +10.0 pts (n=40)"
    assert report.comment == md


def test_provider_error(md: SnapshotAssertion) -> None:
    """An error: headline `Error: ...`, the error line, what changed, no table."""
    stats: dict[Side, CallStats] = {
        "base": CallStats(calls=12, failed=12),
        "head": CallStats(calls=12, failed=12),
    }
    report = report_for(
        None, stats=stats, error="provider unavailable: openai answered 503 after 3 retries"
    )
    assert report.verdict is Verdict.ERROR
    assert report.headline == "Error: provider unavailable: openai answered 503 after 3 retries"
    assert "| metric" not in report.comment
    assert report.comment == md


def test_error_without_changes_keeps_the_head_marker() -> None:
    """An error before detection still marks the comment with the PR's head SHA."""
    info = replace(INFO, head_ref=HEAD_SHA)
    report = render_report(None, None, {}, info, error="llm-gate.yml: suites: required")
    assert report.comment.split("\n")[1] == f"<!-- llm-gate head={HEAD_SHA} -->"
    assert report.results["changes"] is None


def long_output(i: int, side: str, repeat: int = 120) -> str:
    """A long model output with hostile bits, different per case and side."""
    return f"{side} answer {i}: " + ("lorem ipsum | </details> @team " * repeat)


def many_rows(
    cases: int, suite_name: str = "support-bot", repeat: int = 120
) -> tuple[RowDelta, ...]:
    """`cases` pass→fail rows with long outputs."""
    return tuple(
        row(
            f"case-{i:04d}",
            "contains",
            "pass→fail",
            1.0,
            0.0,
            suite=suite_name,
            question=f"question {i} " + "why? " * 100,
            base_output=long_output(i, "base", repeat),
            head_output=long_output(i, "head", repeat),
        )
        for i in range(cases)
    )


def huge(cases: int, suites: int = 1, repeat: int = 120) -> Comparison:
    """Regressed suites with `cases` regressed rows each, outputs `repeat` phrases long."""
    return Comparison(
        verdict=Verdict.FAIL,
        suites=tuple(
            suite(
                f"suite-{s}",
                Verdict.FAIL,
                (
                    metric(
                        "contains",
                        kind="binary",
                        base=1.0,
                        head=0.0,
                        ci=(-1.0, -1.0),
                        tolerance=0.02,
                        verdict=Verdict.FAIL,
                        suite=f"suite-{s}",
                    ),
                ),
                many_rows(cases, f"suite-{s}", repeat),
            )
            for s in range(suites)
        ),
    )


def test_truncated(md: SnapshotAssertion) -> None:
    """Too much detail: outputs shortened, fewer cases, a visible note linking the summary."""
    report = report_for(huge(20, suites=2))
    assert "… truncated: the full report is in the [job summary" in report.comment
    assert len(report.comment) < 60_000
    assert report.comment == md


def test_comment_stays_below_github_limit_with_3000_rows() -> None:
    """3,000 regressed rows with long outputs fit in a comment and in a job summary."""
    report = report_for(huge(3_000, repeat=400))
    assert len(report.comment) < 65_536
    assert len(report.summary.encode()) <= 1_048_576
    assert "3,000 changed cases: 3,000 pass→fail (showing 10)" in report.comment
    assert "2,990 more cases are in the [job summary](https://github.com/acme/" in report.comment
    assert len(report.results["suites"][0]["rows"]) == 3_000


def test_many_suites_are_cut_at_suite_boundaries() -> None:
    """When even the tables do not fit, whole suites are left out, with a note naming them."""
    report = report_for(huge(3, suites=300))
    assert len(report.comment) < 65_536
    assert "more suites are left out here" in report.comment
    assert_balanced(report.comment)


def test_summary_is_capped_at_one_mebibyte() -> None:
    """The job summary drops details to stay within 1 MiB, with its own note."""
    report = report_for(huge(600, repeat=400))
    assert len(report.summary.encode()) <= 1_048_576
    assert "truncated to fit the 1 MiB job summary" in report.summary


def test_big_diff_is_shortened_in_its_fence() -> None:
    """A long diff is cut at a line inside its code fence, never through the fence."""
    diff = "".join(f"+line {i} ```` fence\n" for i in range(5_000))
    change = changes()
    big = replace(change, files=(replace(change.files[1], diff=diff),))
    report = report_for(passing(), changes=big)
    assert len(report.comment) < 60_000
    assert "`````diff" in report.comment
    assert "more lines" in report.comment
    assert_balanced(report.comment)


# --------------------------------------------------------------------------- properties


def assert_balanced(markdown: str) -> None:
    """Every <details>, <summary> and <pre> is closed, and every code fence too."""
    for tag in ("details", "summary", "pre"):
        assert markdown.count(f"<{tag}>") == markdown.count(f"</{tag}>"), tag
    fence: str | None = None
    for line in markdown.split("\n"):
        match = re.match(r"^(`{3,})", line)
        if match is None:
            continue
        if fence is None:
            fence = match.group(1)
        elif match.group(1) == fence and line.strip() == fence:
            fence = None
    assert fence is None


HOSTILE = (
    "| col | </details></pre><script>alert(1)</script> ![x](http://evil.test/p.png) "
    "@acme/security @octocat #1 ```\n::add-mask::secret\n::set-output name=x::y &lt;b&gt;"
)


def hostile() -> Comparison:
    """A regression whose case id, variables and outputs are hostile text."""
    bad = RowDelta(
        suite="support-bot",
        case_id="case|<b>@octocat",
        metric="contains",
        row_class="pass→fail",
        base=1.0,
        head=0.0,
        delta=-1.0,
        variables={"question": HOSTILE, "nested": {"k": ["@octocat", "|"]}},
        base_output=HOSTILE,
        head_output=HOSTILE + "\n\n</pre>\n```",
    )
    return Comparison(
        verdict=Verdict.FAIL,
        suites=(
            suite(
                verdict=Verdict.FAIL,
                metrics=(
                    metric(
                        "contains",
                        kind="binary",
                        base=1.0,
                        head=0.0,
                        ci=(-1.0, -1.0),
                        verdict=Verdict.FAIL,
                    ),
                ),
                rows=(bad,),
                note=HOSTILE,
            ),
        ),
    )


def test_hostile_text_is_inert(md: SnapshotAssertion) -> None:
    """Model and dataset text cannot close tags, embed images, mention people or run commands."""
    report = report_for(hostile(), error=None)
    comment = report.comment
    assert_balanced(comment)
    assert "<script" not in comment and "</details></pre>" not in comment
    assert "![x](" not in comment
    assert re.search(r"@(?=\w)", comment) is None
    assert re.search(r"^::", comment, re.MULTILINE) is None
    assert comment == md


def test_hostile_text_is_inert_in_the_terminal() -> None:
    """Terminal output has no control characters and no line starting with `::`."""
    comparison = hostile()
    evil = replace(comparison.suites[0], suite="bot\x1b[31m\n::error::boom")
    text = render_terminal(replace(comparison, suites=(evil,)), changes(), STATS)
    assert "\x1b" not in text
    assert re.search(r"^::", text, re.MULTILINE) is None


def test_marker_is_the_first_line() -> None:
    """Every variant starts with the config marker, then the head marker."""
    for report in (
        report_for(regression()),
        render_report(None, changes(relevant=False), {}, INFO),
        report_for(None, error="boom"),
    ):
        first, second = report.comment.split("\n")[:2]
        assert first == comment_marker("llm-gate.yml") == "<!-- llm-gate config=llm-gate.yml -->"
        assert second == f"<!-- llm-gate head={HEAD_SHA} -->"


def test_marker_cannot_be_closed_by_the_config_path() -> None:
    """A config path with `-->` or a newline stays inside the HTML comment."""
    marker = comment_marker("odd -->\n<b>.yml")
    assert marker.count("-->") == 1 and "\n" not in marker and "<b>" not in marker


def test_headline_is_at_most_140_characters() -> None:
    """Long suite names, errors and path lists are cut to one line of 140 characters."""
    long_name = "suite-" + "x" * 300
    comparison = huge(1, suites=1)
    renamed = replace(
        comparison,
        suites=(replace(comparison.suites[0], suite=long_name),),
    )
    many_paths = tuple(f"docs/page-{i}.md" for i in range(100))
    headlines = [
        report_for(renamed).headline,
        report_for(None, error="x\n" * 500).headline,
        render_report(None, changes(relevant=False, extra_paths=many_paths), {}, INFO).headline,
    ]
    for headline in headlines:
        assert len(headline) <= 140 and "\n" not in headline


def test_output_is_deterministic_whatever_the_row_order() -> None:
    """Rows are sorted by the renderer: a shuffled input renders the same bytes."""
    comparison = regression()
    support = comparison.suites[1]
    shuffled = replace(support, rows=tuple(reversed(support.rows)))
    other = replace(comparison, suites=(shuffled, comparison.suites[0]))
    assert report_for(other).comment == report_for(comparison).comment


def test_results_are_json() -> None:
    """The results carry verdict, counts, suites, rows, changes and stats as plain JSON."""
    results = report_for(regression()).results
    parsed = json.loads(json.dumps(results, allow_nan=False))
    assert parsed["verdict"] == "fail"
    assert (parsed["regressions"], parsed["regressed_cases"]) == (2, 2)
    support = next(s for s in parsed["suites"] if s["suite"] == "support-bot")
    assert [m["metric"] for m in support["metrics"]] == ["judge", "contains", "json_valid"]
    assert support["rows"][0]["case_id"] == "case-007"
    assert parsed["changes"]["values"][0]["before"] == "gpt-4o"
    assert parsed["stats"]["head"]["calls"] == 80


def test_results_cap_model_text() -> None:
    """A huge output is kept in the results up to 10,000 characters."""
    results = report_for(huge(1)).results
    assert len(results["suites"][0]["rows"][0]["base_output"]) <= 10_000


def test_terminal(txt: SnapshotAssertion) -> None:
    """`llm-gate eval` prints plain tables of the regression."""
    assert render_terminal(regression(), changes(), STATS) == txt


def test_latency_regression_is_named_in_the_headline() -> None:
    """A failing latency check alone makes the verdict's headline name latency and its limit."""
    slow = suite(
        verdict=Verdict.FAIL,
        head_ops=ops(p50=1200, p95=1780, cost=0.0007),
        suite_checks=(
            OpsCheck("latency_p95_ms", 1450, 1780, "+250 ms", Verdict.FAIL),
            OpsCheck("cost_usd", 0.0021, None, "+15 %", Verdict.SKIPPED, note="no price for x"),
        ),
    )
    report = report_for(Comparison(Verdict.FAIL, (slow,)))
    assert report.headline == "Regression: support-bot latency p95 +330 ms (limit +250 ms)"
    assert "latency or cost regressed in support-bot (latency p95 +330 ms)" in report.comment
    assert "| **fail**" in report.comment and "+330 ms | +250 ms |" in report.comment
    assert "skipped<br>(no price for x)" in report.comment


def test_floor_failure_names_the_minimum() -> None:
    """A mean below its floor is reported against the floor, not the tolerance."""
    low = metric(base=3.60, head=3.40, ci=(-0.3, -0.1), floor=3.5, verdict=Verdict.FAIL)
    report = report_for(Comparison(Verdict.FAIL, (suite(verdict=Verdict.FAIL, metrics=(low,)),)))
    assert report.headline == "Regression: support-bot judge −0.20 (head 3.40 below min 3.50)"


def test_too_many_case_errors_is_an_error() -> None:
    """A comparison judged `error` (case errors over the limit) says so and keeps its tables."""
    broken = suite(
        verdict=Verdict.ERROR,
        head_ops=ops(errors=12),
        note="12 of 40 head cases failed (limit 10%)",
    )
    report = report_for(Comparison(Verdict.ERROR, (broken,)))
    assert report.verdict is Verdict.ERROR
    assert report.headline == (
        "Error: too many case errors in support-bot (12 of 40 head cases failed (limit 10%))"
    )
    assert "| case errors   |  0 of 40 | 12 of 40 (30.0%) |" in report.comment


def test_unselected_suites_are_skipped() -> None:
    """Relevant changes whose suites the `suites` input left out are skipped, not passed."""
    report = report_for(None)
    assert report.verdict is Verdict.SKIPPED
    assert report.headline == "Skipped: no selected suite is affected by this change"
    assert "#### What changed" in report.comment


def test_results_hold_only_plain_json() -> None:
    """Dates, sets and non-finite numbers in a comparison become JSON values."""
    odd = replace(
        regression().suites[1].rows[0],
        variables={"when": date(2024, 1, 2), "tags": {"b", "a"}, "score": float("nan")},
        delta=float("inf"),
    )
    comparison = regression()
    support = replace(comparison.suites[1], rows=(odd,))
    results = report_for(replace(comparison, suites=(comparison.suites[0], support))).results
    text = json.dumps(results, allow_nan=False)
    row0 = next(s for s in json.loads(text)["suites"] if s["suite"] == "support-bot")["rows"][0]
    assert row0["variables"] == {"when": "2024-01-02", "tags": ["a", "b"], "score": None}
    assert row0["delta"] is None


def test_last_resort_keeps_markers_title_and_note() -> None:
    """The bare rendering, used if nothing else could fit, still finds and explains itself."""
    facts = facts_module._facts(regression(), changes(), STATS, INFO, None)
    text = comment_module._bare(facts, "comment")
    assert text.split("\n")[:3] == [
        "<!-- llm-gate config=llm-gate.yml -->",
        f"<!-- llm-gate head={HEAD_SHA} -->",
        "### ❌ llm-gate: quality regressed in support-bot (judge −0.42, contains −12.5 pts)",
    ]
    assert "… truncated: the full report is in the [job summary" in text


# --------------------------------------------------------------------------- forks, mode: publish


def test_fork_not_evaluated(md: SnapshotAssertion) -> None:
    """A fork PR whose change needs the model: `error`, never a pass; why, and what to do."""
    report = report_for(None, stats={}, fork_repo="mallory/support-app")
    assert report.verdict is Verdict.ERROR
    assert report.headline.startswith("Not evaluated: fork PR (mallory/support-app)")
    assert len(report.headline) <= 140
    assert report.results["not_evaluated"] == {
        "reason": "fork",
        "head_repository": "mallory/support-app",
    }
    assert "merge queue" in report.summary.lower() and "| metric" not in report.comment
    assert report.comment == md


def relayed(report: Any, *, fork: bool = True, warning: str | None = None) -> Any:
    """A report as `mode: publish` posts it: written to an artifact, read back, rebuilt."""
    from gate.artifact import build_manifest, parse_manifest, read_relayed_run

    text = build_manifest(report, pr_number=7, head_sha=HEAD_SHA, config="llm-gate.yml")
    run = read_relayed_run(parse_manifest(text.encode(), "m.json"), "m.json")
    info = replace(run.info, run_url="https://github.com/acme/support/actions/runs/77")
    return render_relayed_comment(
        run.comparison,
        run.changes,
        run.stats,
        info,
        head_sha=HEAD_SHA,
        fork=fork,
        error=run.error,
        fork_repo=run.fork_repo,
        warning=warning,
    )


def test_relayed_comment_from_a_fork(md: SnapshotAssertion) -> None:
    """`mode: publish` rebuilds the comment from the artifact's data, provenance first."""
    comment = relayed(
        report_for(regression()),
        warning="the fork PR changes .github/, so its own run's results prove nothing",
    ).comment
    lines = comment.split("\n")
    assert lines[:2] == [comment_marker("llm-gate.yml"), f"<!-- llm-gate head={HEAD_SHA} -->"]
    assert lines[2] == "> [!NOTE]" and lines[3].startswith("> Posted by llm-gate from")
    assert "actions/runs/77" in lines[3] and "actions/runs/42" not in comment
    assert comment == md


def test_relayed_comment_is_the_report_it_was_built_from() -> None:
    """Below its provenance, a relayed comment is the run's own comment, byte for byte."""
    report = report_for(regression())
    comment = relayed(report, fork=False).comment
    own = report.comment.replace("actions/runs/42", "actions/runs/77")
    assert comment.endswith("\n".join(own.split("\n")[2:]))


def test_relayed_comment_of_every_variant_keeps_its_verdict() -> None:
    """Every variant survives the artifact: same verdict and headline after the round trip."""
    for report in (
        report_for(regression()),
        report_for(passing()),
        report_for(inconclusive()),
        report_for(None, error="provider unavailable"),
        report_for(None, stats={}, fork_repo="mallory/support-app"),
        render_report(None, changes(relevant=False), {}, INFO),
        report_for(huge(300, suites=2)),
    ):
        rebuilt = relayed(report)
        assert (rebuilt.verdict, rebuilt.headline) == (report.verdict, report.headline)
        assert len(rebuilt.comment) < 65_536


def test_every_shipped_template_compiles() -> None:
    """compile_templates (run on a thread during a cold run's calls) loads every template,
    so a syntax error in one that a rare report uses shows here, not in a user's run."""
    from gate.report import templates as render

    render.compile_templates()
    environment = render._environment()
    names = environment.list_templates()
    assert "comment.md.j2" in names and "terminal.txt.j2" in names
    assert all(environment.cache is not None and environment.get_template(n) for n in names)


# --------------------------------------------------------------------------- the checks


def test_one_row_per_case_so_the_count_matches_the_rows() -> None:
    """ "4 changed cases" sits above 4 rows, one per case, with a column per metric."""
    report = report_for(regression())
    table = report.comment.split("4 changed cases")[1].split("<details>")[0]
    body = [line for line in table.split("\n") if line.startswith("| ")][1:]
    assert len(body) == 4
    assert body[0].split("|")[1:5] == [
        " pass→fail ",
        " case-007 ",
        " 5.00 → 2.00 ",
        "   pass → fail ",
    ]


def test_one_number_format_everywhere() -> None:
    """The same value always reads the same: two decimals for scores, one for percentages,
    no space before `%`."""
    from gate.report.numbers import format_number

    assert format_number(2, "score") == "2.00" and format_number(1.9, "score") == "1.90"
    assert format_number(0.15, "points", signed=True) == "+15.0 pts"
    assert format_number(-0.0001, "points", signed=True) == "0.0 pts"
    assert format_number(31.66, "percent", signed=True) == "+31.7%"
    for report in (report_for(regression()), report_for(passing()), report_for(huge(3))):
        assert re.search(r"\d %", report.comment) is None
        assert re.search(r"(?<![\d.])\d+%", report.comment.replace("95%", "")) is None


def test_inconclusive_says_what_it_means_and_what_to_do() -> None:
    """The status stays success (unless fail-on: inconclusive), and how many cases decide it."""
    comment = report_for(inconclusive()).comment
    assert "status stays `success` unless the workflow sets `fail-on: inconclusive`" in comment
    # Δ −0.12 (−0.30 to +0.05), tolerance 0.20: the edge −0.20 is 0.08 from Δ, the half-width
    # 0.175: 40 × (0.175 / 0.08)² = 191.4, so 192 cases would decide it.
    assert "About 192 cases (now 40) would decide it, if the change stays as it is" in comment


def test_dropped_cases_show_why() -> None:
    """The judge's reason and what a check missed appear under the case, escaped."""
    comment = report_for(regression()).comment
    assert "- contains (head): missing “Settings”" in comment
    assert "- judge (head): The answer names no menu and no steps." in comment
