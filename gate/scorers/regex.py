"""`regex`: the pattern (a template; `regex_escape` quotes a column) matches in the output."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from gate.errors import TemplateError
from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig, ignoring_case, quoted


class RegexConfig(CheckConfig):
    type: Literal["regex"]
    value: str
    ignore_case: bool = False


def _pattern(spec: ScorerSpec, expected: str) -> re.Pattern[str]:
    flags = re.IGNORECASE if spec.ignore_case else 0
    try:
        return _compile_regex(expected, flags)
    except re.error as exc:
        raise TemplateError(
            f"scorer '{spec.name}': invalid regular expression {expected!r}: {exc}"
        ) from None


@lru_cache(maxsize=256)
def _compile_regex(source: str, flags: int) -> re.Pattern[str]:
    return re.compile(source, flags)


def _passes(spec: ScorerSpec, output: str, expected: str) -> bool:
    return _pattern(spec, expected).search(output) is not None


def _validate(spec: ScorerSpec, expected: str) -> None:
    _pattern(spec, expected)  # compiles it: a bad one fails before any call


def _says(spec: ScorerSpec, expected: str) -> str:
    return f"matches the pattern {quoted(expected.strip())}{ignoring_case(spec)}"


def _miss(spec: ScorerSpec, output: str, expected: str) -> str:
    return f"no match for the pattern {quoted(expected.strip())}{ignoring_case(spec)}"


SCORER = Check("regex", RegexConfig, _passes, _miss, _says, validate=_validate)
