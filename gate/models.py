"""The plain values that flow between llm-gate's stages.

settings → config → changes (detect) → plan → results (evaluate) → comparison (compare)
→ report (render) → effects (publish). Every stage takes and returns the frozen values below;
no stage passes DataFrames, PyGithub objects or HTTP responses to another.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

Side = Literal["base", "head"]
# What json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) writes, without
# building an encoder for every request key.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
SIDES: tuple[Side, Side] = ("base", "head")


class Category(StrEnum):
    """The role a changed file (or value) plays in a suite."""

    PROMPT = "prompt"
    SYSTEM_PROMPT = "system_prompt"
    MODEL = "model"
    SAMPLING = "sampling"
    TOOLS = "tools"
    RUBRIC = "rubric"
    SCHEMA = "schema"  # a json_schema scorer's schema file
    DATASET = "dataset"
    CODE = "code"
    CONFIG = "config"  # the suite's own section of llm-gate.yml (scorers, thresholds, ...)


class Verdict(StrEnum):
    """The outcome of a metric, a suite or the whole run (the `verdict` action output)."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"
    ERROR = "error"


# --------------------------------------------------------------------------- changes (detect)


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One file of the diff that matters to at least one suite."""

    path: str
    status: Literal["added", "modified", "deleted", "renamed"]
    categories: tuple[Category, ...]
    suites: tuple[str, ...]
    diff: str = ""  # unified diff (text files referenced as prompt/system/rubric/tools only)


@dataclass(frozen=True, slots=True)
class ValueChange:
    """A semantic change of a referenced value: `model: gpt-4o → gpt-4o-mini`."""

    suite: str
    category: Category
    name: str  # "model", "temperature", "max_tokens", ...
    before: str | None  # rendered value; None when absent on that side
    after: str | None


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What the pull request changed, as far as the configured suites are concerned."""

    base_sha: str
    head_sha: str
    changed_paths: tuple[str, ...]  # every path of the diff, relevant or not
    files: tuple[ChangedFile, ...]  # the relevant ones, sorted by path
    values: tuple[ValueChange, ...]
    suites_to_run: tuple[str, ...]  # sorted
    reasons: dict[str, tuple[Category, ...]] = field(default_factory=dict)  # suite → categories

    @property
    def relevant(self) -> bool:
        return bool(self.suites_to_run)


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, slots=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat-completions request, fully specified, and the key it is cached under.

    The key is a hash of everything that can change the answer (provider, base URL, model,
    messages, tools, params, repeat index) and of nothing else: never headers or keys. A
    target kind whose API takes a sampling seed puts a per-repeat one in the body.
    """

    provider: str
    base_url: str
    model: str
    messages: tuple[Message, ...]
    params: tuple[tuple[str, Any], ...] = ()  # sorted (name, value) pairs
    tools: str | None = None  # canonical JSON of the tool schemas
    repeat: int = 0

    def payload(self) -> dict[str, Any]:
        """The body its target kind sends (gate/targets/openai.py: /chat/completions)."""
        from gate.targets.registry import target_for  # the targets build these values

        return target_for(self.provider).payload(self)

    @property
    def key(self) -> str:
        """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of provider, base URL,
        body and repeat index. Requests of one shape (all but the messages' text) share their
        JSON around the messages, so only the texts are encoded per request: a plan of 20,000
        requests keys them in a third of the time, to the same bytes."""
        # 0, 0.0 and False are equal keys to a cache but not the same JSON: their types count
        types = tuple(type(value) for _, value in self.params)
        try:
            around = _json_around_messages(
                self.provider,
                self.base_url,
                self.model,
                self.params,
                types,
                self.tools,
                self.repeat,
            )
        except TypeError:  # a parameter value that cannot be hashed (a list)
            around = None
        if around is None:
            return hashlib.sha256(self._canonical().encode()).hexdigest()
        parts = [around[0]]
        for i, message in enumerate(self.messages):
            parts.append(_MESSAGE_OPEN if i == 0 else "}," + _MESSAGE_OPEN)
            parts.append(_encode_text(message.content))
            parts.append(_ROLE_FIELD[message.role])
        parts.append(("}" if self.messages else "") + around[1])
        return hashlib.sha256("".join(parts).encode()).hexdigest()

    def _canonical(self, body: dict[str, Any] | None = None) -> str:
        """The JSON the key hashes; `body` stands in for the payload (see below)."""
        return _CANONICAL_JSON.encode(
            {
                "provider": self.provider,
                "base_url": self.base_url,
                "body": self.payload() if body is None else body,
                "repeat": self.repeat,
            }
        )


_MESSAGE_OPEN = '{"content":'
_ROLE_FIELD = {
    role: ',"role":' + _CANONICAL_JSON.encode(role) for role in ("system", "user", "assistant")
}
_MESSAGES_MARK = "\x00messages\x00"  # no request text holds it where a list of messages is
_encode_text = json.encoder.encode_basestring  # a JSON string, as ensure_ascii=False writes it


@lru_cache(maxsize=64)
def _json_around_messages(
    provider: str,
    base_url: str,
    model: str,
    params: tuple[tuple[str, Any], ...],
    types: tuple[type, ...],
    tools: str | None,
    repeat: int,
) -> tuple[str, str] | None:
    """The canonical JSON of a request of this shape before and after its messages' objects
    (`…"messages":[` and `],…`); None when a parameter named `messages` replaces them."""
    if any(name == "messages" for name, _ in params):
        return None
    from gate.targets.registry import target_for  # the targets build these values

    if not target_for(provider).messages_verbatim:
        return None  # its body moves some messages elsewhere (Anthropic's `system`)
    shape = ChatRequest(provider, base_url, model, (), params, tools, repeat)
    body = shape.payload()
    body["messages"] = _MESSAGES_MARK
    pieces = shape._canonical(body).split(_CANONICAL_JSON.encode(_MESSAGES_MARK))
    if len(pieces) != 2:
        return None  # the mark appears elsewhere too: no telling where the messages go
    return pieces[0] + "[", "]" + pieces[1]


@dataclass(frozen=True, slots=True)
class CaseRun:
    """One case of one suite on one side, repeat `repeat`: what to send and how to score it."""

    suite: str
    side: Side
    case_id: str
    repeat: int
    variables: dict[str, Any]  # the dataset row (template variables)
    request: ChatRequest


@dataclass(frozen=True, slots=True)
class FieldCheck:
    """One `json_path` check of a json_schema scorer: the value at `path` compared by `op`."""

    path: str  # `$`, then `.key` and `[index]` steps
    op: str  # eq, ne, lt, le, gt, ge, contains, matches
    value: str  # the value compared with, as JSON text (keeps the spec hashable)


@dataclass(frozen=True, slots=True)
class ScorerSpec:
    """A scorer as the head's config declares it (the same ruler measures both sides)."""

    name: str  # metric name, unique within a suite
    type: str  # a scorer of gate/scorers/registry.py
    value: str | None = None  # jinja2 template (exact/contains/regex/...)
    ignore_case: bool = False
    rubric: str | None = None  # rubric text (judge), read from the head side
    rubric_path: str | None = None
    model: str | None = None  # judge model
    scale: int = 5
    informational: bool = False
    values: tuple[str, ...] = ()  # jinja2 templates (contains_any/contains_all)
    negate: bool = False  # `not: true`: a deterministic scorer's pass becomes a fail
    schema: str | None = None  # JSON Schema text (json_schema), read from the head side
    schema_path: str | None = None
    json_path: tuple[FieldCheck, ...] = ()  # json_schema's field checks

    @property
    def binary(self) -> bool:
        """Pass/fail (every deterministic scorer), not a judge's scale."""
        from gate.scorers.registry import scorer_for  # the scorers import these values

        return not scorer_for(self.type).judged


@dataclass(frozen=True, slots=True)
class Threshold:
    max_drop: float | None = None
    min: float | None = None
    row_drop: float | None = None


@dataclass(frozen=True, slots=True)
class SuitePlan:
    name: str
    runs: tuple[CaseRun, ...]  # base and head, every case × repeat
    scorers: tuple[ScorerSpec, ...]
    thresholds: dict[str, Threshold]  # metric name → threshold (defaults resolved)
    latency_p95_max_increase_ms: float | None
    cost_max_increase_pct: float | None
    repeats: int
    judge_provider: str
    judge_base_url: str
    false_fail_rate: float = 0.01  # family-wise, one-sided, across the gating metrics


@dataclass(frozen=True, slots=True)
class Plan:
    suites: tuple[SuitePlan, ...]
    confidence: float
    max_error_rate: float

    @property
    def requests(self) -> int:
        return sum(len(s.runs) for s in self.suites)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0  # uncached input (Anthropic counts cache reads and writes apart)
    output_tokens: int = 0
    cache_read_tokens: int = 0  # input read from the provider's prompt cache
    cache_write_tokens: int = 0  # input written to it


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one CaseRun: the output, what it cost, and one score per metric."""

    suite: str
    side: Side
    case_id: str
    repeat: int
    output: str | None
    error: str | None  # generation failed (after retries); scores are then empty
    latency_ms: float | None
    usage: Usage
    cost_usd: float | None  # None when the model has no known price
    cached: bool
    scores: dict[
        str, float | None
    ]  # metric → value in [0, 1] (binary) or [1, scale]; None = scorer error
    score_errors: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    # metric → why it scored as it did: the judge's reason, what a `contains` missed, ...
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallStats:
    """What the evaluation spent, per side."""

    calls: int = 0
    cache_hits: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0


@dataclass(frozen=True, slots=True)
class Results:
    suites: dict[str, tuple[CaseResult, ...]]
    stats: dict[Side, CallStats]
    complete: bool = True  # False when the run stopped early (budget, provider down)
    stop_reason: str | None = None


# --------------------------------------------------------------------------- comparison


IDENTICAL_REPEATS = "repeats returned identical outputs; at temperature 0 they add no information"

RowClass = Literal[
    "pass→fail", "fail→pass", "dropped", "improved", "flaky", "new", "removed", "error"
]


@dataclass(frozen=True, slots=True)
class MetricComparison:
    suite: str
    metric: str
    kind: Literal["binary", "continuous"]
    n: int  # paired cases
    base_mean: float | None
    head_mean: float | None
    delta: float | None  # head − base
    ci_low: float | None
    ci_high: float | None
    tolerance: float | None  # max_drop
    floor: float | None  # min
    mde: float | None  # the drop caught 95 % of the time at the suite's false-fail rate
    p_value: float | None  # one-sided; family-wise adjusted (Westfall–Young) when gating
    verdict: Verdict
    gating: bool
    test: str  # "sign test", "paired bootstrap", ...
    note: str = ""
    # cases that would make a drop of twice the tolerance detectable; None when n already does
    cases_needed: int | None = None
    identical_repeats: bool = False  # k > 1 and every case's repeats returned the same output


@dataclass(frozen=True, slots=True)
class RowDelta:
    suite: str
    case_id: str
    metric: str
    row_class: RowClass
    base: float | None
    head: float | None
    delta: float | None
    variables: dict[str, Any]
    base_output: str | None
    head_output: str | None
    base_reason: str | None = None  # why the first repeat scored as it did (CaseResult.reasons)
    head_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SideOps:
    """Latency and cost of one side of one suite."""

    latency_p50_ms: float | None
    latency_p95_ms: float | None
    cost_per_case_usd: float | None
    errors: int
    cases: int


@dataclass(frozen=True, slots=True)
class OpsCheck:
    name: Literal["latency_p95_ms", "cost_usd"]
    base: float | None
    head: float | None
    limit: str  # "+250 ms", "+15 %"
    verdict: Verdict
    note: str = ""


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """One kind of case error in a suite: how many runs had it, and the first one's message."""

    label: str  # "calls failed", "judge answers had no score", ...
    count: int
    first: str


@dataclass(frozen=True, slots=True)
class SuiteComparison:
    suite: str
    verdict: Verdict
    metrics: tuple[MetricComparison, ...]
    rows: tuple[RowDelta, ...]  # regressed/flaky/new/removed rows, most regressed first
    ops: dict[Side, SideOps]
    checks: tuple[OpsCheck, ...]
    error_rate: dict[Side, float]
    note: str = ""
    errors: tuple[ErrorKind, ...] = ()  # why case runs failed, by kind (gate/failures.py)


@dataclass(frozen=True, slots=True)
class Comparison:
    verdict: Verdict
    suites: tuple[SuiteComparison, ...]
    confidence: float = 0.95  # of the intervals (Plan.confidence); the report's "Δ (95% CI)"

    @property
    def regressions(self) -> int:
        return sum(
            1 for s in self.suites for m in s.metrics if m.gating and m.verdict is Verdict.FAIL
        )

    @property
    def regressed_cases(self) -> int:
        return len(
            {
                (r.suite, r.case_id)
                for s in self.suites
                for r in s.rows
                if r.row_class in ("pass→fail", "dropped")
            }
        )


# --------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Facts about the run that the report shows (no clock: passed in by the shell)."""

    repository: str | None
    config_path: str
    run_url: str | None
    base_ref: str
    head_ref: str


@dataclass(frozen=True, slots=True)
class Annotation:
    """A workflow annotation on changed lines of a file: `::warning file=…,line=…::message`."""

    level: Literal["warning", "notice"]
    file: str  # relative to the repository root
    line: int  # 1-based, on the head side
    end_line: int
    title: str
    message: str


@dataclass(frozen=True, slots=True)
class Report:
    verdict: Verdict
    headline: str  # one line, also the commit status description (≤ 140 chars)
    comment: str  # capped below GitHub's 65,536-character limit, marker on the first line
    summary: str  # the full report for GITHUB_STEP_SUMMARY and report-path
    results: dict[str, Any]  # the JSON written to results-path
    regressions: int
    regressed_cases: int
    # for the log, at most 10 per level (GitHub's limit); the rest are listed in `summary`
    annotations: tuple[Annotation, ...] = ()
