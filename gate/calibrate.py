"""Calibration: how noisy each metric is, and the tolerance and dataset size that fit it.

`llm-gate calibrate` evaluates the same system twice (an A/A run: the working tree as both
sides, each side with its own k repeat slots so the samples are independent), and compares
the two with the real comparison code. What a change that does nothing looks like is the
noise floor: the drop the gate catches 95 % of the time at the suite's false-fail rate, with
this many cases. A tolerance is detectable when twice it is at least that floor: the
recommendation is half the floor, and the cases and repeats that would make the configured
tolerance detectable. In an A/A run a case's delta is pure repeat noise, whose variance falls
as 1/k, so k repeats scale the floor by 1/√k; a real change also varies from case to case,
which only more cases average out. Pure: takes the Plan and its Results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from gate.compare import (
    cases_for_sd,
    compare_results,
    detection_level,
    detection_z,
    noise_sd,
)
from gate.models import Comparison, Plan, Results, SuitePlan, Verdict

MAX_REPEATS = 50  # the config's limit on `repeats`


@dataclass(frozen=True, slots=True)
class MetricCalibration:
    suite: str
    metric: str
    kind: str
    n: int
    mean: float | None  # the base mean (first run)
    aa_delta: float | None  # second run − first run: pure noise
    aa_verdict: Verdict
    noise_sd: float | None  # sd of the per-case A/A deltas
    noise_floor: float | None  # the drop caught 95 % of the time at the false-fail rate
    tolerance: float | None  # the configured max_drop
    recommended_tolerance: float | None  # half the noise floor: twice it is detectable
    cases_needed: int | None  # cases that make twice the configured tolerance detectable
    repeats_needed: int | None = None  # repeats that do, with these cases (None: over 50)


@dataclass(frozen=True, slots=True)
class Calibration:
    repeats: int
    confidence: float
    metrics: tuple[MetricCalibration, ...]
    false_fail_rate: float = 0.01

    def thresholds_yaml(self, suite: str) -> str:
        """A ready-to-paste `thresholds:` block for one suite."""
        lines = ["thresholds:"]
        for m in self.metrics:
            if m.suite == suite and m.recommended_tolerance is not None:
                lines.append(f"  {m.metric}: {{max_drop: {_nice(m.recommended_tolerance)}}}")
        return "\n".join(lines) + "\n"


def aa_plan(plan: Plan) -> Plan:
    """Make the head side a second, independent sample of the base side.

    The plan must have been built with the same files on both sides; the head's repeat slots
    are moved past the base's (k … 2k−1), so their cache keys differ and a cached first run
    is never reused as the second.
    """
    suites = []
    for suite in plan.suites:
        runs = tuple(
            run
            if run.side == "base"
            else replace(
                run,
                repeat=run.repeat + suite.repeats,
                request=replace(run.request, repeat=run.request.repeat + suite.repeats),
            )
            for run in suite.runs
        )
        suites.append(replace(suite, runs=runs))
    return replace(plan, suites=tuple(suites))


def calibrate(plan: Plan, results: Results) -> Calibration:
    """Per metric: the A/A delta, the noise floor, and the tolerance, n and k it recommends."""
    comparison: Comparison = compare_results(plan, results)
    by_name: dict[str, SuitePlan] = {s.name: s for s in plan.suites}
    out = []
    for suite in comparison.suites:
        suite_plan = by_name[suite.suite]
        thresholds = suite_plan.thresholds
        z = detection_z(detection_level(suite_plan))
        for m in suite.metrics:
            sd = noise_sd(m.mde, m.n, z) if m.mde is not None and m.n > 0 else None
            tolerance = thresholds[m.metric].max_drop if m.metric in thresholds else None
            needed = repeats = None
            if m.mde is not None and sd is not None and tolerance is not None and tolerance > 0:
                needed = cases_for_sd(sd, z, tolerance)
                # k repeats scale an A/A delta's variance by 1/k (the shortfall depends on n)
                k = max(1, math.ceil(suite_plan.repeats * (m.mde / (2 * tolerance)) ** 2 - 1e-9))
                repeats = k if k <= MAX_REPEATS and not m.identical_repeats else None
            out.append(
                MetricCalibration(
                    suite=m.suite,
                    metric=m.metric,
                    kind=m.kind,
                    n=m.n,
                    mean=m.base_mean,
                    aa_delta=m.delta,
                    aa_verdict=m.verdict,
                    noise_sd=sd,
                    noise_floor=m.mde,
                    tolerance=tolerance,
                    recommended_tolerance=_round_up(m.mde / 2) if m.mde is not None else None,
                    cases_needed=needed,
                    repeats_needed=repeats,
                )
            )
    return Calibration(
        repeats=plan.suites[0].repeats if plan.suites else 1,
        confidence=plan.confidence,
        metrics=tuple(out),
        false_fail_rate=plan.suites[0].false_fail_rate if plan.suites else 0.01,
    )


def _round_up(value: float) -> float:
    """Round up to two significant digits: a tolerance below half the noise floor leaves a
    drop of twice it undetectable, so the recommendation never goes under it."""
    if value <= 0:
        return 0.0
    exponent = math.floor(math.log10(value)) - 1
    step = 10.0**exponent
    return round(math.ceil(value / step - 1e-9) * step, 10)


def _nice(value: float) -> str:
    return f"{value:.10g}"


def format_calibration(calibration: Calibration) -> str:
    """The terminal report of `llm-gate calibrate`: a table and a `thresholds:` block per suite."""
    from tabulate import tabulate

    def num(value: float | None, binary: bool) -> str:
        if value is None:
            return "—"
        return f"{value * 100:.1f} pts" if binary else f"{value:.3f}"

    rows = []
    for m in calibration.metrics:
        binary = m.kind == "binary"
        rows.append(
            [
                f"{m.suite}/{m.metric}",
                m.n,
                num(m.mean, False) if not binary else f"{(m.mean or 0) * 100:.1f}%",
                num(m.aa_delta, binary),
                m.aa_verdict.value,
                num(m.noise_floor, binary),
                num(m.tolerance, binary),
                num(m.recommended_tolerance, binary),
                m.cases_needed if m.cases_needed is not None else "—",
                m.repeats_needed if m.repeats_needed is not None else "—",
            ]
        )
    header = [
        "metric", "n", "mean", "A/A Δ", "A/A verdict", "noise floor",
        "tolerance", "recommended", "cases for tolerance", "repeats for tolerance",
    ]  # fmt: skip
    lines = [
        f"Calibration: the working tree evaluated twice ({calibration.repeats} repeat(s) per "
        f"side), false-fail rate {calibration.false_fail_rate:g}, power 95 %.",
        "",
        tabulate(rows, header, tablefmt="simple", disable_numparse=True),
        "",
        "noise floor: the drop this dataset catches 95 % of the time; a tolerance is detectable",
        "when twice it reaches the floor (recommended: half the floor). cases / repeats for",
        "tolerance: the dataset size, or the repeats with these cases, that make twice the",
        "configured tolerance detectable (repeats average out repeat noise only; '—' over 50).",
    ]
    for suite in sorted({m.suite for m in calibration.metrics}):
        block = calibration.thresholds_yaml(suite)
        lines += ["", f"# suites.{suite}: paste under the suite", block]
    return "\n".join(lines).rstrip() + "\n"
