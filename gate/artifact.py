"""The results artifact of the two-workflow pattern, and reading it back as untrusted input.

A `pull_request` run writes `llm-gate-publish.json` into its `results-dir`, next to the report
and the JSON results; the workflow uploads that directory as an artifact. A `workflow_run`
run with `mode: publish` downloads it and posts the comment and the status without checking
out or running the pull request's code. That artifact was made by the pull request's own
workflow run (for a fork, a copy of the workflow the fork controls), so `parse_manifest`
checks every field strictly (types, enums, sizes, no unknown keys) and nothing in it is ever
executed, printed to the log as a command, or used as a path.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gate.errors import GateError
from gate.models import Report, Verdict
from gate.render import COMMENT_LIMIT, HEADLINE_LIMIT

MANIFEST_NAME = "llm-gate-publish.json"
MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 4 * COMMENT_LIMIT  # a comment with every character escaped, and the rest
_SHA_PATTERN = r"^[0-9a-f]{40}([0-9a-f]{24})?$"
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_NOT_OURS = "it is not a results file llm-gate wrote"


class ArtifactError(GateError):
    """The results artifact is missing or is not what llm-gate writes."""


class PublishManifest(BaseModel):
    """What a `pull_request` run leaves for `mode: publish` to post."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: int = Field(ge=MANIFEST_VERSION, le=MANIFEST_VERSION)  # strict: not `true`
    pr_number: int = Field(gt=0, lt=2**31)
    head_sha: str = Field(pattern=_SHA_PATTERN)
    config: str = Field(min_length=1, max_length=500, pattern=_ONE_LINE)
    verdict: Literal["pass", "fail", "inconclusive", "skipped", "error"]
    headline: str = Field(max_length=HEADLINE_LIMIT, pattern=_ONE_LINE)
    regressions: int = Field(ge=0, le=1_000_000)
    regressed_cases: int = Field(ge=0, le=100_000_000)
    comment: str = Field(min_length=1, max_length=COMMENT_LIMIT - 1)

    @property
    def verdict_value(self) -> Verdict:
        return Verdict(self.verdict)


def build_manifest(report: Report, *, pr_number: int, head_sha: str, config: str) -> str:
    """The manifest of one run, as the JSON text to write next to the report."""
    data: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "pr_number": pr_number,
        "head_sha": head_sha,
        "config": config,
        "verdict": report.verdict.value,
        "headline": report.headline,
        "regressions": report.regressions,
        "regressed_cases": report.regressed_cases,
        "comment": report.comment,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def parse_manifest(data: bytes, source: str) -> PublishManifest:
    """The checked manifest; `ArtifactError` naming the field (never quoting the artifact)."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ArtifactError(
            f"{source}: {len(data):,} bytes, more than the {MAX_MANIFEST_BYTES:,} llm-gate "
            "writes; refusing to read it"
        )
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ArtifactError(f"{source}: not JSON; {_NOT_OURS}") from None
    if not isinstance(raw, dict):
        raise ArtifactError(f"{source}: not a JSON object; {_NOT_OURS}")
    try:
        return PublishManifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(root)"
        message = first["msg"]
        if first["type"] == "string_pattern_mismatch":  # the pattern itself helps nobody
            message = "should be a commit SHA" if where == "head_sha" else "should be one line"
        raise ArtifactError(f"{source}: {where}: {message}; {_NOT_OURS}") from None
