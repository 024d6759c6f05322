"""`equals`: the whole output is the value, character for character (`exact` strips first)."""

from __future__ import annotations

from typing import Literal

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, ignoring_case, quoted


class EqualsConfig(CheckConfig):
    type: Literal["equals"]
    value: str
    ignore_case: bool = False


def _passes(spec: ScorerSpec, output: str, expected: str) -> bool:
    if spec.ignore_case:
        return output.casefold() == expected.casefold()
    return output == expected


def _says(spec: ScorerSpec, expected: str) -> str:
    return f"equals {quoted(expected)}{ignoring_case(spec)}"


def _miss(spec: ScorerSpec, output: str, expected: str) -> str:
    return f"expected the output to be exactly {quoted(expected)}{ignoring_case(spec)}"


SCORER = Check("equals", EqualsConfig, _passes, _miss, _says)
