"""`json_valid`: the output parses as JSON."""

from __future__ import annotations

import json
from typing import Literal

from gate.models import ScorerSpec
from gate.scorers.base import Check, CheckConfig


class JsonValidConfig(CheckConfig):
    type: Literal["json_valid"]


def _passes(spec: ScorerSpec, output: str, expected: None) -> bool:
    try:
        json.loads(output)
    except ValueError:
        return False
    return True


def _says(spec: ScorerSpec, expected: None) -> str:
    return "is valid JSON"


def _miss(spec: ScorerSpec, output: str, expected: None) -> str | None:
    try:
        json.loads(output)
    except ValueError as exc:
        return f"not valid JSON: {exc}"
    return None


SCORER = Check("json_valid", JsonValidConfig, _passes, _miss, _says, takes=None)
