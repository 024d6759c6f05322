"""The JSON results (`results-path`): every suite, metric and regressed case, as plain data.

Pure: the same facts always give the same JSON; long texts are clipped.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from enum import Enum
from typing import Any

from gate.escape import (
    clip,
)
from gate.report.facts import _Facts
from gate.report.limits import RESULT_TEXT_LIMIT


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON data: enums by value, non-finite floats as null, the rest as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _text(value: str | None) -> str | None:
    return None if value is None else clip(value, RESULT_TEXT_LIMIT)


def _results(facts: _Facts) -> dict[str, Any]:
    comparison = facts.comparison
    changes = facts.changes
    suites = []
    for suite in facts.suites:
        c = suite.comparison
        suites.append(
            {
                "suite": c.suite,
                "verdict": c.verdict.value,
                "note": c.note,
                "error_rate": _jsonable(c.error_rate),
                "metrics": [_jsonable(asdict(m)) for m in c.metrics],
                "checks": [_jsonable(asdict(check)) for check in c.checks],
                "ops": {side: _jsonable(asdict(ops)) for side, ops in sorted(c.ops.items())},
                "cases": [case.case_id for case in suite.cases],  # in the report's order
                "rows": [
                    {
                        **_jsonable(asdict(row)),
                        "variables": {
                            str(k): _text(v) if isinstance(v, str) else _jsonable(v)
                            for k, v in row.variables.items()
                        },
                        "base_output": _text(row.base_output),
                        "head_output": _text(row.head_output),
                    }
                    for row in suite.rows
                ],
            }
        )
    return {
        "verdict": facts.verdict.value,
        "headline": facts.headline,
        "error": facts.error,
        "not_evaluated": None
        if facts.fork_repo is None
        else {"reason": "fork", "head_repository": facts.fork_repo or None},
        "regressions": comparison.regressions if comparison else 0,
        "regressed_cases": comparison.regressed_cases if comparison else 0,
        "confidence": comparison.confidence if comparison else None,
        "run": _jsonable(asdict(facts.info)),
        "suites": suites,
        "changes": None
        if changes is None
        else {
            "base_sha": changes.base_sha,
            "head_sha": changes.head_sha,
            "relevant": changes.relevant,
            "changed_paths": list(changes.changed_paths),
            "suites_to_run": list(changes.suites_to_run),
            "reasons": _jsonable(dict(sorted(changes.reasons.items()))),
            "files": [{**_jsonable(asdict(f)), "diff": _text(f.diff)} for f in changes.files],
            "values": [_jsonable(asdict(v)) for v in changes.values],
        },
        "stats": {side: _jsonable(asdict(s)) for side, s in sorted(facts.stats.items())},
    }
