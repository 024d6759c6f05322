"""`icontains`: `contains`, ignoring case."""

from __future__ import annotations

from typing import Literal

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, quoted


class IContainsConfig(CheckConfig):
    type: Literal["icontains"]
    value: str


def _passes(spec: ScorerSpec, output: str, expected: str) -> bool:
    return expected.strip().casefold() in output.strip().casefold()


def _says(spec: ScorerSpec, expected: str) -> str:
    return f"contains {quoted(expected.strip())} (ignoring case)"


def _miss(spec: ScorerSpec, output: str, expected: str) -> str:
    return f"missing {quoted(expected.strip())} (ignoring case)"


SCORER = Check("icontains", IContainsConfig, _passes, _miss, _says)
