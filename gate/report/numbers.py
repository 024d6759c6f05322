"""Numbers as the report writes them: means, deltas, intervals, milliseconds, dollars, counts.

Pure: fixed decimals and a real minus sign, so the same comparison always gives the same bytes.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from gate.models import (
    OpsCheck,
)
from gate.report.limits import DASH, MINUS

# One formatter for every number the report shows, so the same value is always the same
# string: `format_number(value, unit)`. A unit fixes the decimals and the suffix; `signed`
# adds "+" or "−" (nothing for a value that rounds to zero).
Unit = Literal["score", "fraction", "points", "percent", "ms"]
_UNITS: dict[str, tuple[float, int, str]] = {  # unit → (scale, decimals, suffix)
    "score": (1.0, 2, ""),  # a judge's mean or delta on its 1..scale range
    "fraction": (100.0, 1, "%"),  # a pass rate: 0.85 → 85.0%
    "points": (100.0, 1, " pts"),  # a difference of pass rates: −0.125 → −12.5 pts
    "percent": (1.0, 1, "%"),  # a relative change already in percent: 31.7 → +31.7%
    "ms": (1.0, 0, " ms"),
}


def format_number(value: float, unit: Unit, *, signed: bool = False) -> str:
    """`value` in `unit`: fixed decimals, thousands separators, one minus sign (U+2212)."""
    scale, digits, suffix = _UNITS[unit]
    text = f"{abs(value * scale):,.{digits}f}"
    if not any(c in "123456789" for c in text):
        return text + suffix
    if value < 0:
        return MINUS + text + suffix
    return ("+" if signed else "") + text + suffix


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _mean_unit(kind: str) -> Unit:
    return "fraction" if kind == "binary" else "score"


def _delta_unit(kind: str) -> Unit:
    return "points" if kind == "binary" else "score"


def _mean(value: float | None, kind: str) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(value, _mean_unit(kind))


def _delta(value: float | None, kind: str) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(value, _delta_unit(kind), signed=True)


def _interval(low: float | None, high: float | None, kind: str) -> str:
    low, high = _finite(low), _finite(high)
    if low is None or high is None:
        return ""
    # the Δ beside it carries the unit: "−12.5 pts (−22.5 to −2.5)"
    return f"{_delta(low, kind).removesuffix(' pts')} to {_delta(high, kind).removesuffix(' pts')}"


def _drop(value: float | None, kind: str) -> str:
    """A tolerated or detectable drop, shown as the negative change it stands for."""
    value = _finite(value)
    if value is None:
        return DASH
    return _delta(-abs(value), kind)


def _size(value: float | None, kind: str) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(abs(value), _delta_unit(kind))


def _score(value: float | None, kind: str) -> str:
    """One case's score: pass/fail for a check (a share when repeats disagree), else a mean."""
    value = _finite(value)
    if value is None:
        return DASH
    if kind == "binary":
        if value == 1.0:
            return "pass"
        if value == 0.0:
            return "fail"
    return _mean(value, kind)


def _ms(value: float | None, *, signed: bool = False) -> str:
    value = _finite(value)
    return DASH if value is None else format_number(value, "ms", signed=signed)


def _usd(value: float | None) -> str:
    value = _finite(value)
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    digits = max(4, 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{digits}f}"
    return "$" + (text.rstrip("0") if digits > 4 else text)


def _pct_change(base: float | None, head: float | None) -> str:
    base, head = _finite(base), _finite(head)
    if base is None or head is None or base == 0:
        return ""
    return format_number((head - base) / base * 100, "percent", signed=True)


_PERCENT = re.compile(r"([+-]?)(\d+(?:\.\d+)?) ?%")


def _limit(text: str) -> str:
    """An ops limit as compare states it (`+15 %`) in the report's one percent style."""

    def percent(match: re.Match[str]) -> str:
        value = float(match.group(2)) * (-1 if match.group(1) == "-" else 1)
        return format_number(value, "percent", signed=bool(match.group(1)))

    return _PERCENT.sub(percent, text)


def _count(value: int) -> str:
    return f"{value:,}"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{_count(n)} {word if n == 1 else (plural or word + 's')}"


_CHECK_LABEL = {"latency_p95_ms": "latency p95", "cost_usd": "cost per case"}


def _check_change(check: OpsCheck) -> str:
    if check.name == "cost_usd":
        return _pct_change(check.base, check.head) or DASH
    base, head = _finite(check.base), _finite(check.head)
    return DASH if base is None or head is None else _ms(head - base, signed=True)
