"""The `judge` scorer: a model grades the output against a rubric, on a 1..scale scale.

Pure: no network, files or clock. Two halves around a model call that the engine makes:
`judge_request` builds the (cacheable) request, `parse_judge_answer` reads the score and the
judge's reason out of whatever the judge answered, or raises JudgeUnparsable.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field

from gate.errors import ConfigError, GateError
from gate.models import Category, ChatRequest, Message, ScorerSpec
from gate.scorers.base import Expected, Files, Score, ScorerConfig
from gate.targets.registry import target_for


class JudgeConfig(ScorerConfig):
    type: Literal["judge"]
    rubric: str
    model: str
    scale: Annotated[int, Field(ge=2, le=100)] = 5


class JudgeScorer:
    """The judge as the registry lists it."""

    type = "judge"
    config = JudgeConfig
    judged = True

    def metric_range(self, config: Any) -> tuple[float, float, str]:
        return 1.0, float(config.scale), f"judge scores are on its 1–{config.scale} scale"

    def watched(self, config: Any, metric: str) -> tuple[tuple[Category, str, str], ...]:
        return ((Category.RUBRIC, f"judge:{metric}", config.rubric),)

    def spec(self, config: Any, metric: str, files: Files, suite: str) -> ScorerSpec:
        rubric = files.get(config.rubric)
        if rubric is None:
            raise ConfigError(
                f"suites.{suite}.scorers: rubric '{config.rubric}' not found; fix the path"
            )
        return ScorerSpec(
            name=metric,
            type="judge",
            rubric=rubric,
            rubric_path=config.rubric,
            model=config.model,
            scale=config.scale,
            informational=config.informational,
        )

    def expected(self, spec: ScorerSpec, variables: dict[str, Any]) -> Expected:
        return None

    def score(self, spec: ScorerSpec, output: str, expected: Expected) -> Score:
        """The judge's answer (`output`) read into its score and reason."""
        value, reason = parse_judge_answer(output, spec.scale)
        return Score(value, reason)


SCORER = JudgeScorer()


class JudgeUnparsable(GateError):
    """The judge's answer holds no score in range; recorded as that case's scorer error."""


JUDGE_INSTRUCTIONS = """\
You are grading the output of an AI assistant against a rubric.

Rubric:
{rubric}

Score the output on an integer scale from 1 (worst) to {scale} (best), following the rubric.
Answer with a single JSON object and nothing else:
{{"score": <integer from 1 to {scale}>, "reason": "<one sentence>"}}"""


def judge_request(
    spec: ScorerSpec, variables: dict[str, Any], output: str, provider: str, base_url: str
) -> ChatRequest:
    """The request that asks the judge model to grade `output` (temperature 0, JSON answer)."""
    if spec.type != "judge" or spec.model is None or spec.rubric is None:
        raise ValueError(f"scorer '{spec.name}' is not a judge with a model and a rubric")
    system = JUDGE_INSTRUCTIONS.format(rubric=spec.rubric.strip(), scale=spec.scale)
    inputs = "\n".join(f"{name}: {_as_text(value)}" for name, value in variables.items())
    user = f"<input>\n{inputs}\n</input>\n\n<output>\n{output}\n</output>"
    return ChatRequest(
        provider=provider,
        base_url=base_url,
        model=spec.model,
        messages=(Message("system", system), Message("user", user)),
        params=target_for(provider).judge_params,  # temperature 0, and what the API requires
    )


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


_NUMBER = r"(\d+(?:\.\d+)?)"
_FENCED = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_PLAIN_FORMS = (
    # "Score: 4", "score = 4/5", "Final score: 4 out of 5", "Rating: 4", "Rating 4 out of 5"
    re.compile(
        rf"\b(?:score|rating|grade)\b\s*(?:is\s*)?[:=]?\s*\**\s*{_NUMBER}"
        rf"(?:\s*(?:/|out of)\s*(\d+))?",
        re.IGNORECASE,
    ),
    # "4/5", "4 out of 5"
    re.compile(rf"{_NUMBER}\s*(?:/|out of)\s*(\d+)", re.IGNORECASE),
    # a bare number: "4", "4."
    re.compile(rf"^\s*{_NUMBER}\s*\.?\s*$"),
)


REASON_LIMIT = 500  # characters of a judge's reason kept per case


def parse_judge_score(text: str, scale: int) -> float:
    """The score in a judge's answer (see parse_judge_answer)."""
    return parse_judge_answer(text, scale)[0]


def parse_judge_answer(text: str, scale: int) -> tuple[float, str | None]:
    """The score in a judge's answer and its reason, when it gave one.

    Read: `{"score": 4, "reason": "..."}` (also fenced, or inside prose), promptfoo's
    `{"pass": true, "score": 0.8, "reason": "..."}` (a 0..1 score, mapped onto 1..scale),
    "Score: 4", "4/5", "4 out of 5" and a bare "4".
    """
    found = _score_from_json(text, scale)
    score, reason = found if found is not None else (None, None)
    if score is None:
        score = _score_from_plain_text(text, scale)
    if score is None:
        raise JudgeUnparsable(f"the judge's answer holds no score: {_excerpt(text)}")
    if not 1 <= score <= scale:
        raise JudgeUnparsable(f"the judge's score {score:g} is outside 1..{scale}")
    return score, reason


def _score_from_json(text: str, scale: int) -> tuple[float | None, str | None] | None:
    candidates = [m.group(1) for m in _FENCED.finditer(text)] + [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            score = _json_score(data, scale)
            if score is not None:
                return score, _json_reason(data)
    return None


def _json_number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and re.fullmatch(_NUMBER, value.strip()):
        return float(value)
    return None


def _json_score(data: dict[str, Any], scale: int) -> float | None:
    passed = data.get("pass")
    if isinstance(passed, bool):  # promptfoo's grading result: a score in 0..1, or none
        number = _json_number(data.get("score"))
        if number is None:
            return float(scale) if passed else 1.0
        if 0 <= number <= 1:
            return 1 + number * (scale - 1)
        return number
    for key in ("score", "rating", "grade"):
        number = _json_number(data.get(key))
        if number is not None:
            return number
    return None


def _json_reason(data: dict[str, Any]) -> str | None:
    for key in ("reason", "reasoning", "explanation"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"
    return None


def _score_from_plain_text(text: str, scale: int) -> float | None:
    for form in _PLAIN_FORMS:
        match = form.search(text)
        if match is None:
            continue
        out_of = match.group(2) if form.groups >= 2 else None
        if out_of is not None and int(out_of) != scale:
            raise JudgeUnparsable(
                f"the judge scored on a scale of {out_of}, not 1..{scale}: {_excerpt(text)}"
            )
        return float(match.group(1))
    return None


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    if not flat:
        return "(empty answer)"
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")
