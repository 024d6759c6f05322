"""`contains`: the value occurs in the output (both stripped of whitespace at their ends)."""

from __future__ import annotations

from typing import Literal

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, compared, ignoring_case, quoted


class ContainsConfig(CheckConfig):
    type: Literal["contains"]
    value: str
    ignore_case: bool = False


def _passes(spec: ScorerSpec, output: str, expected: str) -> bool:
    got, want = compared(spec, output, expected)
    return want in got


def _says(spec: ScorerSpec, expected: str) -> str:
    return f"contains {quoted(expected.strip())}{ignoring_case(spec)}"


def _miss(spec: ScorerSpec, output: str, expected: str) -> str:
    return f"missing {quoted(expected.strip())}{ignoring_case(spec)}"


SCORER = Check("contains", ContainsConfig, _passes, _miss, _says)
