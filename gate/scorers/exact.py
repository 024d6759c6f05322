"""`exact`: the output equals the value, after stripping whitespace at both ends."""

from __future__ import annotations

from typing import Literal

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, compared, ignoring_case, quoted


class ExactConfig(CheckConfig):
    type: Literal["exact"]
    value: str
    ignore_case: bool = False


def _passes(spec: ScorerSpec, output: str, expected: str) -> bool:
    got, want = compared(spec, output, expected)
    return got == want


def _says(spec: ScorerSpec, expected: str) -> str:
    return f"equals {quoted(expected.strip())}{ignoring_case(spec)}"


def _miss(spec: ScorerSpec, output: str, expected: str) -> str:
    return f"expected exactly {quoted(expected.strip())}{ignoring_case(spec)}"


SCORER = Check("exact", ExactConfig, _passes, _miss, _says)
