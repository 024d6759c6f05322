"""`contains_any`: at least one of the values occurs in the output."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, ignoring_case, quoted


class ContainsAnyConfig(CheckConfig):
    type: Literal["contains_any"]
    values: Annotated[list[str], Field(min_length=1)]
    ignore_case: bool = False


def _found(spec: ScorerSpec, output: str, expected: tuple[str, ...]) -> list[bool]:
    got = output.strip()
    wants = [want.strip() for want in expected]
    if spec.ignore_case:
        got, wants = got.casefold(), [want.casefold() for want in wants]
    return [want in got for want in wants]


def _passes(spec: ScorerSpec, output: str, expected: tuple[str, ...]) -> bool:
    return any(_found(spec, output, expected))


def _listed(expected: tuple[str, ...]) -> str:
    return ", ".join(quoted(want.strip()) for want in expected)


def _says(spec: ScorerSpec, expected: tuple[str, ...]) -> str:
    return f"contains one of {_listed(expected)}{ignoring_case(spec)}"


def _miss(spec: ScorerSpec, output: str, expected: tuple[str, ...]) -> str:
    return f"missing all of {_listed(expected)}{ignoring_case(spec)}"


SCORER = Check("contains_any", ContainsAnyConfig, _passes, _miss, _says, takes="values")
