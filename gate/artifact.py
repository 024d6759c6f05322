"""The results artifact of the two-workflow pattern, and reading it back as untrusted input.

A `pull_request` run writes `llm-gate-publish.json` into its `results-dir`, next to the report
and the JSON results; the workflow uploads that directory as an artifact. A `workflow_run`
run with `mode: publish` downloads it and posts the comment and the status without checking
out or running the pull request's code. That artifact was made by the pull request's own
workflow run (for a fork, a copy of the workflow the fork controls), so `parse_manifest`
checks every field strictly (types, enums, sizes, no unknown keys) and nothing in it is ever
executed, printed to the log as a command, or used as a path.

The artifact carries the run's results as data (the comparison, the changes, the stats), cut
to what a comment shows; never markdown. `mode: publish` validates that data into the same
values a run renders (`read_relayed_run`) and renders the comment itself, with its own
escaping: nothing the artifact says can become a link, an image, a heading or a tag, hide
the provenance note or fold it away.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from gate.errors import GateError
from gate.escape import clip
from gate.models import (
    CallStats,
    ChangeSet,
    Comparison,
    Report,
    RunInfo,
    Side,
    SuiteComparison,
    Verdict,
)
from gate.report.limits import HEADLINE_LIMIT, RELAYED_LIMITS

MANIFEST_NAME = "llm-gate-publish.json"
MANIFEST_VERSION = 2  # 1 carried the comment's markdown, which `mode: publish` no longer posts
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # ~50,000 changed rows beyond the ones a comment shows
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
    report: dict[str, Any]  # the run's JSON results, cut by `relay_data`

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
        "report": relay_data(report.results),
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- writing


def relay_data(results: dict[str, Any]) -> dict[str, Any]:
    """The JSON results cut to what the relayed comment can show: every row stays (the counts
    are of all of them), but only the cases a comment details keep their inputs, outputs and
    reasons, clipped to the comment's lengths."""
    limits = RELAYED_LIMITS
    suites = []
    for suite in results.get("suites", []):
        detailed = set(suite.get("cases", [])[: limits.cases])
        rows = [_relay_row(row, row["case_id"] in detailed) for row in suite.get("rows", [])]
        suites.append(
            {
                **suite,
                "note": clip(suite.get("note", ""), 500),
                "metrics": [{**m, "note": clip(m.get("note", ""), 500)} for m in suite["metrics"]],
                "rows": rows,
                "cases": suite.get("cases", [])[: limits.cases],
            }
        )
    changes = results.get("changes")
    if changes is not None:
        changes = {
            **changes,
            "files": [
                {**f, "diff": clip(f.get("diff") or "", limits.diff_chars)}
                for f in changes["files"]
            ],
        }
    error = results.get("error")
    not_evaluated = results.get("not_evaluated")
    if not_evaluated is not None and isinstance(not_evaluated.get("head_repository"), str):
        not_evaluated = {
            **not_evaluated,
            "head_repository": clip(not_evaluated["head_repository"], 200),
        }
    return {
        "verdict": results.get("verdict"),
        "error": None if error is None else clip(error, 2_000),
        "not_evaluated": not_evaluated,
        "confidence": results.get("confidence"),
        "run": results.get("run"),
        "suites": suites,
        "changes": changes,
        "stats": results.get("stats", {}),
    }


def _relay_row(row: dict[str, Any], detailed: bool) -> dict[str, Any]:
    limits = RELAYED_LIMITS
    if not detailed:
        return {
            **row,
            "variables": {},
            "base_output": None,
            "head_output": None,
            "base_reason": None,
            "head_reason": None,
        }

    def text(value: Any, limit: int) -> Any:
        return clip(value, limit) if isinstance(value, str) else value

    variables = {
        clip(str(name), 80): clip(
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False),
            limits.value_chars,
        )
        for name, value in row.get("variables", {}).items()
    }
    return {
        **row,
        "variables": variables,
        "base_output": text(row.get("base_output"), limits.output_chars + 1),
        "head_output": text(row.get("head_output"), limits.output_chars + 1),
        "base_reason": text(row.get("base_reason"), limits.value_chars),
        "head_reason": text(row.get("head_reason"), limits.value_chars),
    }


# --------------------------------------------------------------------------- reading


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
    if type(raw.get("version")) is int and raw["version"] == 1:
        raise ArtifactError(
            f"{source}: written by an older llm-gate, whose comment `mode: publish` no longer "
            "posts; use the same llm-gate version in both workflows and re-run the pull "
            "request's workflow"
        )
    try:
        return PublishManifest.model_validate(raw)
    except ValidationError as exc:
        raise ArtifactError(f"{source}: {_first_error(exc)}; {_NOT_OURS}") from None


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "") or "(root)"
    message = first["msg"]
    if first["type"] == "string_pattern_mismatch":  # the pattern itself helps nobody
        message = "should be a commit SHA" if where == "head_sha" else "should be one line"
    return f"{where}: {message}"


@dataclass(frozen=True, slots=True)
class RelayedRun:
    """The values a pull_request run rendered its report from, read back from its artifact."""

    comparison: Comparison | None
    changes: ChangeSet | None
    stats: dict[Side, CallStats]
    info: RunInfo
    error: str | None
    fork_repo: str | None  # a fork PR that was not evaluated (its head repository, or "")


_SUITES = TypeAdapter(tuple[SuiteComparison, ...])
_CHANGES = TypeAdapter(ChangeSet | None)
_STATS = TypeAdapter(dict[Side, CallStats])
_RUN = TypeAdapter(RunInfo)
_OPTIONAL_TEXT = TypeAdapter(str | None)
_VERDICT = TypeAdapter(Verdict)
_CONFIDENCE = TypeAdapter(float | None)


class _NotEvaluated(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    reason: Literal["fork"]
    head_repository: str | None = Field(default=None, max_length=200)  # shown escaped


def read_relayed_run(manifest: PublishManifest, source: str) -> RelayedRun:
    """The run's comparison, changes and stats, each checked against the type it has in a run
    (`ArtifactError` naming the first field that is not); texts stay untrusted and are
    escaped where the comment shows them."""
    report = manifest.report

    def read(adapter: TypeAdapter[Any], key: str) -> Any:
        try:
            return adapter.validate_python(report.get(key))
        except ValidationError as exc:
            raise ArtifactError(
                f"{source}: {_first_error(exc, f'report.{key}')}; {_NOT_OURS}"
            ) from None

    suites = read(_SUITES, "suites")
    verdict = read(_VERDICT, "verdict")
    confidence = read(_CONFIDENCE, "confidence")
    not_evaluated = report.get("not_evaluated")
    fork_repo = None
    if not_evaluated is not None:
        try:
            fork_repo = _NotEvaluated.model_validate(not_evaluated).head_repository or ""
        except ValidationError as exc:
            raise ArtifactError(
                f"{source}: {_first_error(exc, 'report.not_evaluated')}; {_NOT_OURS}"
            ) from None
    comparison = (
        Comparison(verdict=verdict, suites=suites, confidence=confidence or 0.95)
        if suites
        else None
    )
    return RelayedRun(
        comparison=comparison,
        changes=read(_CHANGES, "changes"),
        stats=read(_STATS, "stats"),
        info=read(_RUN, "run"),
        error=read(_OPTIONAL_TEXT, "error"),
        fork_repo=fork_repo,
    )
