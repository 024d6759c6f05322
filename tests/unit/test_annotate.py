"""Unit tests of gate.annotate: changed prompt lines as annotations, at most 10 per level."""

from __future__ import annotations

import re
from dataclasses import replace

from gate.annotate import annotations_for, changed_ranges, split_annotations
from gate.detect import unified_diff
from gate.models import Annotation, Category, ChangedFile, Verdict
from gate.report.render import render_report
from tests.unit.test_render import INFO, STATS, assert_balanced, changes, passing, regression
from tests.unit.test_render_fuzz import without_code


def test_added_and_changed_lines_are_head_side_ranges() -> None:
    """A changed line and two added ones give the head-side line numbers GitHub shows."""
    before = "".join(f"line {i}\n" for i in range(1, 21))
    after = before.replace("line 5\n", "line five\n").replace("line 15\n", "line 15\nnew\nnew\n")
    assert changed_ranges(unified_diff("p.md", before, "p.md", after)) == ((5, 5), (16, 17))


def test_a_deletion_marks_the_line_that_follows_it() -> None:
    """Removing lines annotates the line now in their place, or the last line at the end."""
    before = "a\nb\nc\nd\n"
    assert changed_ranges(unified_diff("p.md", before, "p.md", "a\nd\n")) == ((2, 2),)
    assert changed_ranges(unified_diff("p.md", before, "p.md", "a\nb\n")) == ((2, 2),)


def test_a_new_file_is_one_range_and_an_emptied_file_none() -> None:
    """Every line of an added file is changed; a file emptied has no head line to mark."""
    assert changed_ranges(unified_diff("p.md", None, "p.md", "x\ny\nz")) == ((1, 3),)
    assert changed_ranges(unified_diff("p.md", "x\n", "p.md", "")) == ()


def test_regressed_suite_gets_warnings_on_its_prompt_diff() -> None:
    """The DESIGN.md regression: one warning on the changed line of the prompt, none for
    files without a diff, and notices for a suite that passed."""
    change = changes()
    notes = annotations_for(regression(), change)
    warnings = [a for a in notes if a.level == "warning"]
    assert [(a.file, a.line, a.end_line) for a in warnings] == [("prompts/support.md.j2", 2, 2)]
    assert "support-bot regressed (judge, contains)" in warnings[0].message
    assert all(a.level == "notice" for a in annotations_for(passing(), change))


def test_at_most_ten_per_level_the_rest_in_the_summary() -> None:
    """13 changed ranges: ten warnings for the log, three listed in the job summary only."""
    before = "".join(f"line {i}\n" for i in range(1, 200))
    after = "".join(f"line {i}{' changed' if i % 15 == 0 else ''}\n" for i in range(1, 200))
    diff = unified_diff("prompts/support.md.j2", before, "prompts/support.md.j2", after)
    change = changes()
    big = replace(change, files=(replace(change.files[1], diff=diff),))
    report = render_report(regression(), big, STATS, INFO)
    assert len(report.annotations) == 10
    assert all(a.level == "warning" for a in report.annotations)
    assert [a.line for a in report.annotations] == list(range(15, 151, 15))
    assert "3 more changed ranges of suite files" in report.summary
    assert "`prompts/support.md.j2`, line 195: llm-gate: suite support-bot" in report.summary
    assert "more changed ranges" not in report.comment


def test_split_keeps_order_per_level() -> None:
    """split_annotations keeps the first n of each level, in order."""
    notes = [Annotation("warning", "a", i, i, "t", "m") for i in range(1, 13)]
    notes += [Annotation("notice", "b", i, i, "t", "m") for i in range(1, 4)]
    shown, rest = split_annotations(notes)
    assert [a.line for a in shown if a.level == "warning"] == list(range(1, 11))
    assert [a.level for a in shown].count("notice") == 3
    assert [a.line for a in rest] == [11, 12]


def test_deleted_files_and_errors_get_no_annotation() -> None:
    """A deleted prompt has no head line; an error report annotates nothing."""
    change = changes()
    gone = ChangedFile("prompts/old.md", "deleted", (Category.PROMPT,), ("support-bot",), "-x\n")
    assert annotations_for(regression(), replace(change, files=(gone,))) == []
    assert render_report(None, change, {}, INFO, error="boom").annotations == ()
    assert Verdict.FAIL is regression().verdict


def test_annotations_left_for_the_summary_are_inert() -> None:
    """A hostile file name and metric name in the summary's list stay text: no tag, mention
    or command line."""
    path = "prompts/@acme|team </details>\n::error::x.md"
    before = "".join(f"line {i}\n" for i in range(1, 200))
    after = "".join(f"line {i}{' changed' if i % 15 == 0 else ''}\n" for i in range(1, 200))
    change = changes()
    hostile = replace(change.files[1], path=path, diff=unified_diff(path, before, path, after))
    comparison = regression()
    support = comparison.suites[1]
    evil = replace(support.metrics[0], metric="judge @acme/team ##[add-mask]x")
    comparison = replace(
        comparison, suites=(comparison.suites[0], replace(support, metrics=(evil,)))
    )
    summary = render_report(comparison, replace(change, files=(hostile,)), STATS, INFO).summary
    assert "3 more changed ranges" in summary
    prose = without_code(summary)  # GitHub shows code spans and fences literally
    assert_balanced(prose)
    assert "@acme" not in prose
    assert re.search(r"^[^\S\n]*::", summary, re.M) is None and "##[" not in summary
