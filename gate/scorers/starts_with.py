"""`starts_with`: the output begins with the value (both stripped of whitespace at their ends)."""

from __future__ import annotations

from typing import Literal

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, compared, ignoring_case, quoted


class StartsWithConfig(CheckConfig):
    type: Literal["starts_with"]
    value: str
    ignore_case: bool = False


def _passes(spec: ScorerSpec, output: str, expected: str) -> bool:
    got, want = compared(spec, output, expected)
    return got.startswith(want)


def _says(spec: ScorerSpec, expected: str) -> str:
    return f"starts with {quoted(expected.strip())}{ignoring_case(spec)}"


def _miss(spec: ScorerSpec, output: str, expected: str) -> str:
    return f"does not start with {quoted(expected.strip())}{ignoring_case(spec)}"


SCORER = Check("starts_with", StartsWithConfig, _passes, _miss, _says)
