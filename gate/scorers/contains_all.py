"""`contains_all`: every one of the values occurs in the output."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, ignoring_case, quoted
from gate.scorers.contains_any import _found, _listed


class ContainsAllConfig(CheckConfig):
    type: Literal["contains_all"]
    values: Annotated[list[str], Field(min_length=1)]
    ignore_case: bool = False


def _passes(spec: ScorerSpec, output: str, expected: tuple[str, ...]) -> bool:
    return all(_found(spec, output, expected))


def _says(spec: ScorerSpec, expected: tuple[str, ...]) -> str:
    return f"contains all of {_listed(expected)}{ignoring_case(spec)}"


def _miss(spec: ScorerSpec, output: str, expected: tuple[str, ...]) -> str:
    found = _found(spec, output, expected)
    missing = [quoted(want.strip()) for want, hit in zip(expected, found, strict=True) if not hit]
    return f"missing {', '.join(missing)}{ignoring_case(spec)}"


SCORER = Check("contains_all", ContainsAllConfig, _passes, _miss, _says, takes="values")
