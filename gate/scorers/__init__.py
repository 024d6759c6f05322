"""Scoring one output: one module per scorer, listed in `registry`, behind `base.Scorer`.

Pure: no network, files or clock. Deterministic scorers give 1.0 or 0.0 and say why a case
missed; a judge scorer is two halves around a model call that the engine makes (see `judge`).
This module keeps the functions the stages call by name.
"""

from __future__ import annotations

from typing import Any

from gate.models import ScorerSpec
from gate.scorers.base import Expected, Score, Scorer
from gate.scorers.judge import (
    JUDGE_INSTRUCTIONS,
    REASON_LIMIT,
    JudgeUnparsable,
    judge_request,
    parse_judge_answer,
    parse_judge_score,
)
from gate.scorers.registry import SCORERS, scorer_for
from gate.scorers.templating import (
    COLUMN_TAG,
    is_column_name,
    render_text,
    render_value,
    sandboxed,
    substitute,
    substitution,
)

__all__ = [
    "COLUMN_TAG",
    "JUDGE_INSTRUCTIONS",
    "REASON_LIMIT",
    "SCORERS",
    "Expected",
    "JudgeUnparsable",
    "Score",
    "Scorer",
    "explain_miss",
    "is_column_name",
    "judge_request",
    "parse_judge_answer",
    "parse_judge_score",
    "render_text",
    "render_value",
    "sandboxed",
    "score_against",
    "score_deterministic",
    "scorer_for",
    "substitute",
    "substitution",
]


def score_deterministic(spec: ScorerSpec, output: str, variables: dict[str, Any]) -> float:
    """1.0 when the output passes a deterministic scorer, else 0.0."""
    scorer = _deterministic(spec)
    return scorer.score(spec, output, scorer.expected(spec, variables)).value


def score_against(spec: ScorerSpec, output: str, expected: Expected) -> float:
    """score_deterministic with the scorer's value already rendered (None for json_valid)."""
    return _deterministic(spec).score(spec, output, expected).value


def explain_miss(spec: ScorerSpec, output: str, expected: Expected) -> str | None:
    """Why a deterministic check scored 0 (None when it passed): what the output lacked."""
    score = _deterministic(spec).score(spec, output, expected)
    return None if score.value == 1.0 else score.reason


def _deterministic(spec: ScorerSpec) -> Scorer:
    scorer = scorer_for(spec.type)
    if scorer.judged:
        raise ValueError(f"scorer '{spec.name}' is a judge; use judge_request/parse_judge_score")
    return scorer
