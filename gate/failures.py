"""Why cases failed: the errors of a suite's case runs, grouped by kind, each with its count
and the first message of that kind ("12 judge answers had no score (first: …)").

Pure: a function of the results' rows. A kind is what went wrong, not where: digits are
ignored when grouping (the attempt count of one call, a case's number in a message), so one
provider fault is one line however many cases it hit; judge answers without a usable score
are one kind whatever the answers said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gate.escape import clip
from gate.models import CaseResult, ErrorKind

FIRST_LIMIT = 200  # characters of the first message shown
_DIGITS = re.compile(r"\d+")


def case_errors(rows: Iterable[CaseResult]) -> tuple[ErrorKind, ...]:
    """The kinds of error in these rows, most frequent first (then by label)."""
    kinds: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if row.error is not None:
            _add(kinds, _generation_label(row.error), row.error)
        for metric, message in sorted(row.score_errors.items()):
            label = _score_label(metric, message)
            # a judge's answer is quoted in its message: the kind is the label alone
            same = "answers had no score" in label or "out of range" in label
            _add(kinds, label, message, key="" if same else None)
    found = [
        ErrorKind(label=label, count=len(messages), first=clip(messages[0], FIRST_LIMIT))
        for (label, _key), messages in kinds.items()
    ]
    return tuple(sorted(found, key=lambda k: (-k.count, k.label, k.first)))


def describe(kind: ErrorKind) -> str:
    """`8 calls failed (first: 127.0.0.1: HTTP 429 after 6 attempts (model m))`."""
    label = kind.label
    if kind.count == 1:
        for plural, singular in _SINGULAR:
            label = label.replace(plural, singular, 1)
        return f"1 {label}: {kind.first}"
    return f"{kind.count:,} {label} (first: {kind.first})"


_SINGULAR = (
    ("calls", "call"),
    ("answers had", "answer had"),
    ("scores were", "score was"),
    ("scores of", "score of"),
)


def _add(
    kinds: dict[tuple[str, str], list[str]], label: str, message: str, key: str | None = None
) -> None:
    grouping = _DIGITS.sub("#", message) if key is None else key
    kinds.setdefault((label, grouping), []).append(message)


def _generation_label(message: str) -> str:
    if message.startswith("not run:"):
        return "calls not attempted"
    if message.startswith("not in the cache"):
        return "calls missing from the cache"
    return "calls failed"


def _score_label(metric: str, message: str) -> str:
    named = "" if metric == "judge" else f" ({metric})"
    if message.startswith("judge call failed"):
        return f"judge calls failed{named}"
    if "holds no score" in message or "scale of" in message:
        return f"judge answers had no score{named}"
    if "outside 1.." in message:
        return f"judge scores were out of range{named}"
    return f"scores of {metric} could not be computed"
