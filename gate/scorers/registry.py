"""Every scorer llm-gate knows, one line each: the config's `type:` union is built from this.

Adding a scorer: one module beside this one (its config model and a `SCORER` that meets
gate.scorers.base.Scorer), one line here, its tests. Order is the order config errors list.
"""

from __future__ import annotations

from gate.scorers import (
    contains,
    contains_all,
    contains_any,
    equals,
    exact,
    icontains,
    json_schema,
    json_valid,
    judge,
    regex,
    starts_with,
)
from gate.scorers.base import Scorer

SCORERS: dict[str, Scorer] = {
    scorer.type: scorer
    for scorer in (
        exact.SCORER,
        contains.SCORER,
        regex.SCORER,
        json_valid.SCORER,
        judge.SCORER,
        equals.SCORER,
        icontains.SCORER,
        contains_any.SCORER,
        contains_all.SCORER,
        starts_with.SCORER,
        json_schema.SCORER,
    )
}


def scorer_for(type_: str) -> Scorer:
    """The scorer of a `type:` (the config has already refused unknown ones)."""
    try:
        return SCORERS[type_]
    except KeyError:
        raise ValueError(f"unknown scorer type {type_!r}; known: {', '.join(SCORERS)}") from None
