"""Paired statistics: turn the base and head Results of a Plan into a Comparison.

Owns the decision of whether a pull request regressed quality, latency or cost. Pure: no
environment, clock, network, file I/O or GitHub; numpy stays inside this module and only the
frozen values of `gate.models` leave it. Deterministic: every random draw is seeded
from a sha256 of the (rounded) data, so the same results always give the same verdict,
whatever their order.

Pairing. Cases are paired by `case_id`. The k repeats of a case are averaged per side (a case
counts once, never k times). A case on one side only is a `new`/`removed` row and stays out of
the paired test. A case whose generation failed, or whose scorer returned None, in any repeat
on either side is excluded from that metric's test, shown as an `error` row and counted in the
error rate.

Tests, per metric, on the per-case deltas d = head − base (n = number of paired cases):

- binary (a pass/fail scorer and every per-case mean 0 or 1): exact McNemar, i.e. the sign
  test `scipy.stats.binomtest(drops, discordant, 0.5, alternative="greater")`, computed exactly
  in integers as the binomial tail P(X ≥ drops), X ~ Binomial(discordant, ½) (`gate.special`);
- continuous (judge scores, or a binary scorer averaged over repeats): the paired sign-flip
  test of the mean delta (base and head swapped at random within each case, which is exactly
  the null "this change did nothing"), exact when the deltas lie on a lattice (means of k
  integer scores), else Monte Carlo (`gate.signflip`);
- both: a two-sided paired bootstrap interval of the mean delta at the configured confidence
  (95 % by default), from 10,000 seeded resamples of the cases (fewer, never under 2,000, when
  a metric has over 64 distinct deltas and many cases) at Hesterberg's expanded percentile
  levels Φ(√(n/(n−1))·t_{n−1}(α/2)) instead of α/2, which keeps the interval honest at small n;
  none for n = 1.

The gating metrics of a suite are one family: their p-values are adjusted with the
Westfall–Young step-down min-p method over joint sign flips (the same case signs for every
metric, since they score the same answers), drawn in doubling batches while a p that decides
a verdict is within a few Monte-Carlo errors of the false-fail rate.

Verdict of a metric, with tolerance t = max_drop (5 % of the score's range when unset), the
suite's false-fail rate r (one-sided, family-wise) and p the adjusted p-value:

    fail          when −mean(d) > t and p < r  (the drop is larger than t and it is real)
    pass          when the interval's lower bound ≥ −t  (no drop worse than t, with confidence)
    inconclusive  otherwise, and when n = 0; all d = 0 is pass with the interval [0, 0]
    fail          also when a floor `min` is set and the head mean (over every scored head
                  case) is below it, whatever the delta says

An unchanged system has symmetric deltas, so it fails with probability at most r, on any
noise. `mde`, the detectable drop, is the drop caught 95 % of the time by a one-sided test at
r/m (m gating metrics): z·sd(d)/√n with z = z_{1−r/m} + z_0.95, widened by 1/√(1 − z²/n) (at
most √2) because the sign-flip statistic counts the drop itself as spread. When sd(d) is 0
(or n = 1) it assumes one case in ten moved by one unit (a binary flip, one judge point),
i.e. sd = √0.1. When mde exceeds twice the tolerance, `cases_needed` is the n that brings
it there.

Rows, per case and metric: binary scorers `pass→fail` / `fail→pass` (per-case mean crossing
0.5); judges `dropped` / `improved` when the delta reaches `row_drop` (default: a quarter of
the scale's range, at least one point: 1.0 on 1–5); either only when the move exceeds the
spread of the case's own repeats, else `flaky` (repeats that disagree, binary, or span ≥
`row_drop`, judge), the same in both directions; `new`, `removed`, `error`. Sorted: moved cases
by |delta| (largest first), then flaky, error, new, removed; ties by case_id.

Suite verdict: `error` (the run did not complete, or a side's error rate, i.e. runs with a
generation or scorer error or missing from the results over all runs, exceeds max_error_rate)
> `fail` (a gating metric or an ops check fails) > `inconclusive` > `pass`. Informational
metrics are computed and shown, never gate. The run's verdict is the worst suite's; `skipped`
when there is no suite, `error` whenever the run did not complete.

Ops: latency p50/p95 over successful calls; cost per case is the mean `cost_usd` of successful
calls (unknown when any is unknown). `latency_p95_ms` compares the p95 of the calls made in
this run (a cached answer carries an earlier run's latency) and fails when head − base exceeds
the configured increase; a side answered entirely from the cache is not compared. `cost_usd`
fails when head cost > base cost × (1 + pct/100), and is skipped when a price is unknown.
Neither is a statistical test: both gate the measured values.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import numpy.typing as npt

from gate.failures import case_errors
from gate.models import (
    IDENTICAL_REPEATS,
    SIDES,
    CaseResult,
    Comparison,
    MetricComparison,
    OpsCheck,
    Plan,
    Results,
    RowClass,
    RowDelta,
    ScorerSpec,
    Side,
    SideOps,
    SuiteComparison,
    SuitePlan,
    Threshold,
    Verdict,
)
from gate.signflip import (
    FlipSampler,
    Marginal,
    adaptive_draws,
    exact_marginal,
    marginal_p_of_draws,
    mc_close,
    mc_marginal,
    monte_carlo_p,
    westfall_young,
    wy_error,
)
from gate.special import binom_sf_half, normal_cdf, normal_ppf, student_t_ppf

N_RESAMPLES = 10_000
# Above this many distinct values a resample draws cases directly (cost ∝ n, not ∝ values);
# then the number of resamples shrinks so one metric stays near 2·10⁷ draws (never below 2,000).
_MAX_GROUPED_VALUES = 64
_MAX_DRAWS = 20_000_000
_MIN_RESAMPLES = 2_000
# Joint sign flips grow (doubling) while a verdict's p is within a few Monte-Carlo errors of
# the false-fail rate, up to this many draws (fewer for many cases: ~10⁸ case signs at most).
_MAX_FLIPS = 320_000
_MAX_FLIP_CELLS = 40_000_000
_MC_SIGMAS = 4.0
POWER = 0.95  # "detectable drop": the drop caught this often at the false-fail rate
# sd of the deltas assumed by `mde` when the observed sd is 0: one case in ten moved one unit.
FALLBACK_SD = math.sqrt(0.1)
# Without `max_drop`, a metric may drop by this share of its range (as config.py's default).
DEFAULT_RELATIVE_TOLERANCE = 0.05
# Without `row_drop`, a judge row is `dropped` when it loses a quarter of the scale, ≥ 1 point.
ROW_DROP_SHARE = 0.25
_EPS = 1e-9  # float slack for comparisons against thresholds (means of thirds, ...)
_DECIMALS = 9  # deltas are rounded to this many decimals before seeding and grouping

_SEVERITY = {
    Verdict.SKIPPED: 0,
    Verdict.PASS: 1,
    Verdict.INCONCLUSIVE: 2,
    Verdict.FAIL: 3,
    Verdict.ERROR: 4,
}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def compare_results(plan: Plan, results: Results) -> Comparison:
    """Compare base and head of every suite of the plan; fail closed on an incomplete run."""
    suites = tuple(
        _compare_suite(suite, results.suites.get(suite.name, ()), plan, results)
        for suite in plan.suites
    )
    if not results.complete:
        verdict = Verdict.ERROR
    elif not suites:
        verdict = Verdict.SKIPPED
    else:
        verdict = _worst(s.verdict for s in suites)
    return Comparison(verdict=verdict, suites=suites, confidence=plan.confidence)


# --------------------------------------------------------------------------- the results as arrays


@dataclass(frozen=True, slots=True)
class _Table:
    """One suite's results as arrays: one entry per run, one score column per metric.

    Runs are sorted (side, case, repeat, ...) first, so sums never depend on input order.
    """

    case_ids: list[str]  # sorted union of both sides' case ids
    side: IntArray  # 0 = base, 1 = head, per run
    case: IntArray  # index into case_ids, per run
    scores: FloatArray  # [run, metric]; NaN = generation or scorer error
    latency: FloatArray  # NaN when unknown
    cost: FloatArray  # NaN when unknown
    generated: npt.NDArray[np.bool_]  # no generation error
    failed: npt.NDArray[np.bool_]  # generation error or any scorer error
    first: dict[tuple[int, int], CaseResult]  # (side, case) → its first repeat
    rows: Sequence[CaseResult]  # sorted, for the runs the plan asked for but did not get
    identical_repeats: bool  # every (side, case) with several repeats gave one output
    cached: npt.NDArray[np.bool_]  # the answer came from the cache (an earlier run's latency)


@dataclass(frozen=True, slots=True)
class _Folded:
    """One metric on one side, the repeats of each case folded (arrays over case_ids)."""

    present: npt.NDArray[np.bool_]  # the case ran on this side
    mean: FloatArray  # over the repeats that scored; NaN when none did
    spread: FloatArray  # max − min over the repeats that scored
    errored: npt.NDArray[np.bool_]  # a repeat failed to generate or to score


def _tabulate(rows: Sequence[CaseResult], metrics: Sequence[str]) -> _Table:
    ordered = sorted(rows, key=_run_order)
    case_ids = sorted({r.case_id for r in ordered})
    index = {case_id: i for i, case_id in enumerate(case_ids)}
    side_of = {side: i for i, side in enumerate(SIDES)}
    nan = math.nan
    no_scores = [nan] * len(metrics)
    first: dict[tuple[int, int], CaseResult] = {}
    outputs: dict[tuple[int, int], set[str | None]] = {}
    sides, cases, score_rows = [], [], []
    for row in ordered:
        where = (side_of[row.side], index[row.case_id])
        sides.append(where[0])
        cases.append(where[1])
        if where not in first:
            first[where] = row
            outputs[where] = {row.output}
        else:
            outputs[where].add(row.output)
        got = row.scores
        score_rows.append(
            [nan if (v := got.get(m)) is None else float(v) for m in metrics]
            if row.error is None
            else no_scores
        )
    scores = np.array(score_rows, dtype=np.float64).reshape(len(ordered), len(metrics))
    generated = np.array([r.error is None for r in ordered], dtype=bool)
    repeated = len(outputs) < len(ordered)
    return _Table(
        case_ids=case_ids,
        side=np.array(sides, dtype=np.int64),
        case=np.array(cases, dtype=np.int64),
        scores=scores,
        latency=np.array([_as_float(r.latency_ms) for r in ordered], dtype=np.float64),
        cost=np.array([_as_float(r.cost_usd) for r in ordered], dtype=np.float64),
        generated=generated,
        failed=~generated | np.isnan(scores).any(axis=1),
        first=first,
        rows=ordered,
        identical_repeats=repeated and all(len(o) == 1 for o in outputs.values()),
        cached=np.array([r.cached for r in ordered], dtype=bool),
    )


def _run_order(row: CaseResult) -> tuple[str, str, int, str, str]:
    return (row.side, row.case_id, row.repeat, row.error or "", row.output or "")


def _as_float(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _fold(table: _Table, side: int, column: int) -> _Folded:
    cases = len(table.case_ids)
    mine = table.side == side
    where, values = table.case[mine], table.scores[mine, column]
    ok = ~np.isnan(values)
    runs = np.bincount(where, minlength=cases)
    scored = np.bincount(where[ok], minlength=cases)
    total = np.bincount(where[ok], weights=values[ok], minlength=cases)
    high = np.full(cases, -np.inf)
    low = np.full(cases, np.inf)
    np.maximum.at(high, where[ok], values[ok])
    np.minimum.at(low, where[ok], values[ok])
    has = scored > 0
    return _Folded(
        present=runs > 0,
        mean=np.divide(total, scored, out=np.full(cases, math.nan), where=has),
        spread=np.where(has, high - low, 0.0),
        errored=(runs > 0) & (scored < runs),
    )


# --------------------------------------------------------------------------- suite


def _compare_suite(
    suite: SuitePlan, rows: Sequence[CaseResult], plan: Plan, results: Results
) -> SuiteComparison:
    table = _tabulate(rows, [s.name for s in suite.scorers])

    raw = [
        _metric_stats(suite, spec, column, table, plan.confidence, detection_level(suite))
        for column, spec in enumerate(suite.scorers)
    ]
    p_final = _suite_p_values(suite, raw)
    metrics = tuple(
        _metric_verdict(
            raw[i],
            p_final[i],
            suite.false_fail_rate,
            gating=not spec.informational,
        )
        for i, spec in enumerate(suite.scorers)
    )
    row_deltas = _sort_rows(r for stat in raw for r in stat.rows)

    ops, error_rate, error_note, succeeded = _ops_and_errors(suite, table, plan)
    checks = _ops_checks(suite, ops, succeeded, _fresh_latency(table))

    notes: list[str] = []
    if not results.complete:
        reason = f": {results.stop_reason}" if results.stop_reason else ""
        notes.append(f"the evaluation did not complete{reason}")
    if error_note:
        notes.append(error_note)
    if notes:
        verdict = Verdict.ERROR
    else:
        gates = [m.verdict for m in metrics if m.gating] + [c.verdict for c in checks]
        verdict = _worst([Verdict.PASS, *(v for v in gates if v is not Verdict.SKIPPED)])
    return SuiteComparison(
        suite=suite.name,
        verdict=verdict,
        metrics=metrics,
        rows=row_deltas,
        ops=ops,
        checks=checks,
        error_rate=error_rate,
        note="; ".join(notes),
        errors=case_errors(rows),
    )


def _worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=_SEVERITY.__getitem__, default=Verdict.SKIPPED)


# --------------------------------------------------------------------------- metric


@dataclass(frozen=True, slots=True)
class _MetricStats:
    """Everything about a metric except its verdict (which waits for the family-wise adjustment)."""

    suite: str
    metric: str
    kind: Literal["binary", "continuous"]
    n: int
    base_mean: float | None
    head_mean: float | None
    head_mean_all: float | None  # over every scored head case, for the floor
    head_scored: int  # how many head cases that is
    delta: float | None
    ci: tuple[float, float] | None
    p_value: float | None  # one-sided, "head is worse", unadjusted; None: Monte Carlo, later
    marginal: Marginal | None  # the sign-flip null of this metric over the suite's cases
    identical_repeats: bool  # k > 1 and every case's repeats gave the same output
    detection_z: float  # z_{1−r/m} + z_0.95, for the detectable drop and the cases it needs
    mde: float | None
    tolerance: float
    tolerance_defaulted: bool
    floor: float | None
    test: str
    excluded: int
    rows: tuple[RowDelta, ...]


def _metric_stats(
    suite: SuitePlan,
    spec: ScorerSpec,
    column: int,
    table: _Table,
    confidence: float,
    level: float,
) -> _MetricStats:
    metric = spec.name
    threshold = suite.thresholds.get(metric) or Threshold()
    unit_range = 1.0 if spec.binary else float(spec.scale - 1)
    tolerance = threshold.max_drop
    if tolerance is None:
        tolerance = round(DEFAULT_RELATIVE_TOLERANCE * unit_range, 6)
    row_drop = threshold.row_drop
    if row_drop is None:
        row_drop = 0.5 if spec.binary else max(1.0, ROW_DROP_SHARE * unit_range)

    base, head = _fold(table, 0, column), _fold(table, 1, column)
    both = base.present & head.present
    errors = both & (base.errored | head.errored | np.isnan(base.mean) | np.isnan(head.mean))
    paired = both & ~errors
    base_means, head_means = base.mean[paired], head.mean[paired]
    deltas = np.round(head_means - base_means, _DECIMALS)
    n = int(deltas.size)
    labels = _row_classes(spec, base, head, paired, errors, row_drop)
    rows = tuple(
        _row(suite.name, metric, table, int(i), cast(RowClass, str(labels[i])), base, head)
        for i in np.flatnonzero(labels != "")
    )
    scored_head = head.present & ~np.isnan(head.mean)

    binary = spec.binary and bool(np.isin(np.concatenate([base_means, head_means]), (0, 1)).all())
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    marginal: Marginal | None = None
    if n and not deltas.any():
        ci, p_value = (0.0, 0.0), 1.0
    elif n:
        rng = _seeded_rng(suite.name, metric, deltas)
        if n >= 2:
            ci = _bootstrap_ci(deltas, confidence, rng, tolerance)
        # over every case of the suite (0 where unpaired), so all metrics flip the same cases
        full = np.where(paired, np.round(head.mean - base.mean, _DECIMALS), 0.0)
        marginal = exact_marginal(full) or mc_marginal(full)
        if binary:
            drops, gains = int((deltas < 0).sum()), int((deltas > 0).sum())
            # binomtest(drops, drops + gains, 0.5, alternative="greater").pvalue, i.e. P(X ≥ drops)
            p_value = binom_sf_half(drops - 1, drops + gains)
        else:
            p_value = marginal.p_value
    if binary:
        test = "McNemar exact (sign test)"
    elif marginal is not None and marginal.p_value is None:
        test = "sign-flip permutation (Monte Carlo)"
    else:
        test = "sign-flip permutation (exact)"
    return _MetricStats(
        suite=suite.name,
        metric=metric,
        kind="binary" if binary else "continuous",
        n=n,
        base_mean=float(base_means.mean()) if n else None,
        head_mean=float(head_means.mean()) if n else None,
        head_mean_all=float(head.mean[scored_head].mean()) if scored_head.any() else None,
        head_scored=int(scored_head.sum()),
        delta=float(deltas.mean()) if n else None,
        ci=ci,
        p_value=p_value,
        marginal=marginal,
        identical_repeats=suite.repeats > 1 and table.identical_repeats,
        detection_z=detection_z(level),
        mde=_mde(deltas, level),
        tolerance=tolerance,
        tolerance_defaulted=threshold.max_drop is None,
        floor=threshold.min,
        test=test if n else "",
        excluded=int(errors.sum()),
        rows=rows,
    )


def _row_classes(
    spec: ScorerSpec,
    base: _Folded,
    head: _Folded,
    paired: npt.NDArray[np.bool_],
    errors: npt.NDArray[np.bool_],
    row_drop: float,
) -> npt.NDArray[np.str_]:
    """How each case moved ("" = unremarkable), the same way in both directions.

    A case moved (`pass→fail`/`dropped`, `fail→pass`/`improved`) when its delta reaches
    `row_drop` and exceeds the disagreement of its own repeats; a case whose repeats disagree
    by `row_drop` or more and that did not move beyond that is `flaky`, whichever way it went.
    """
    spread = np.maximum(base.spread, head.spread)
    delta = head.mean - base.mean  # NaN outside `paired`, where it is never read
    if spec.binary:
        regressed = (base.mean >= 0.5) & (head.mean < 0.5)
        improved = (head.mean >= 0.5) & (base.mean < 0.5)
        flaky = spread > 0
        worse, better = "pass→fail", "fail→pass"
    else:
        regressed = delta <= -row_drop + _EPS
        improved = delta >= row_drop - _EPS
        flaky = spread >= row_drop - _EPS
        worse, better = "dropped", "improved"
    beyond_noise = np.abs(delta) > spread + _EPS
    labels: npt.NDArray[np.str_] = np.select(
        [
            head.present & ~base.present,
            base.present & ~head.present,
            errors,
            paired & regressed & beyond_noise,
            paired & improved & beyond_noise,
            paired & (flaky | regressed | improved),
        ],
        ["new", "removed", "error", worse, better, "flaky"],
        default="",
    )
    return labels


def _metric_verdict(
    stat: _MetricStats,
    p_value: float | None,
    alpha: float,
    *,
    gating: bool,
) -> MetricComparison:
    t = stat.tolerance
    notes: list[str] = []
    if stat.n == 0:
        verdict = Verdict.INCONCLUSIVE
        notes.append("no case was scored on both sides")
    elif (
        stat.delta is not None
        and -stat.delta > t + _EPS
        and p_value is not None
        and p_value < alpha
    ):
        verdict = Verdict.FAIL
    elif stat.ci is not None and stat.ci[0] >= -t - _EPS:
        verdict = Verdict.PASS
    else:
        verdict = Verdict.INCONCLUSIVE
        if stat.ci is None:
            notes.append("one paired case is too few for an interval")
    if (
        stat.floor is not None
        and stat.head_mean_all is not None
        and stat.head_mean_all < stat.floor - _EPS
    ):
        verdict = Verdict.FAIL
        over = "" if stat.head_scored == stat.n else f" over all {stat.head_scored} scored cases"
        mean, floor = _fmt(stat.head_mean_all), _fmt(stat.floor)
        notes.append(f"head mean {mean}{over} is below the floor {floor}")
    if stat.excluded:
        noun = "case" if stat.excluded == 1 else "cases"
        notes.append(f"{stat.excluded} {noun} excluded for errors")
    if stat.tolerance_defaulted:
        notes.append(f"no max_drop set: tolerance {_fmt(t)} (5 % of the range)")
    if stat.identical_repeats:
        notes.append(IDENTICAL_REPEATS)
    return MetricComparison(
        suite=stat.suite,
        metric=stat.metric,
        kind=stat.kind,
        n=stat.n,
        base_mean=stat.base_mean,
        head_mean=stat.head_mean,
        delta=stat.delta,
        ci_low=stat.ci[0] if stat.ci else None,
        ci_high=stat.ci[1] if stat.ci else None,
        tolerance=t,
        floor=stat.floor,
        mde=stat.mde,
        p_value=p_value,
        verdict=verdict,
        gating=gating,
        test=stat.test,
        note="; ".join(notes),
        cases_needed=cases_for(stat.mde, stat.n, t, stat.detection_z),
        identical_repeats=stat.identical_repeats,
    )


def _row(
    suite: str,
    metric: str,
    table: _Table,
    case: int,
    row_class: RowClass,
    base: _Folded,
    head: _Folded,
) -> RowDelta:
    """One row of the table, with the first repeat's outputs and the case's variables."""
    base_first, head_first = table.first.get((0, case)), table.first.get((1, case))
    shown = head_first or base_first
    base_mean, head_mean = _or_none(base.mean[case]), _or_none(head.mean[case])
    paired = row_class not in ("new", "removed", "error")
    return RowDelta(
        suite=suite,
        case_id=table.case_ids[case],
        metric=metric,
        row_class=row_class,
        base=base_mean,
        head=head_mean,
        delta=head_mean - base_mean
        if paired and head_mean is not None and base_mean is not None
        else None,
        variables=dict(shown.variables) if shown else {},
        base_output=base_first.output if base_first else None,
        head_output=head_first.output if head_first else None,
        base_reason=base_first.reasons.get(metric) if base_first else None,
        head_reason=head_first.reasons.get(metric) if head_first else None,
    )


def _or_none(value: np.float64) -> float | None:
    return None if math.isnan(value) else float(value)


def _fmt(value: float) -> str:
    return f"{value:.3g}"


# --------------------------------------------------------------------------- statistics


def _seeded_rng(suite: str, metric: str, deltas: FloatArray) -> np.random.Generator:
    """A generator seeded by the data alone (order-free), never by time."""
    values, counts = np.unique(deltas, return_counts=True)
    digest = hashlib.sha256()
    digest.update(f"{suite}\0{metric}\0".encode())
    digest.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
    digest.update(np.ascontiguousarray(counts, dtype="<i8").tobytes())
    return np.random.default_rng(int.from_bytes(digest.digest()[:16], "little"))


def _resamples(n: int) -> int:
    return max(_MIN_RESAMPLES, min(N_RESAMPLES, _MAX_DRAWS // max(n, 1)))


def _bootstrap_means(deltas: FloatArray, rng: np.random.Generator, draws: int) -> FloatArray:
    """Means of `draws` paired-bootstrap resamples of the cases (with replacement)."""
    n = deltas.size
    values, counts = np.unique(deltas, return_counts=True)
    if values.size <= _MAX_GROUPED_VALUES:
        # Resampling n cases = multinomial counts over cases; cases with equal deltas merge.
        tallies = rng.multinomial(n, counts / n, size=draws)
        means: FloatArray = (tallies @ values) / n
        return means
    index = rng.integers(0, n, size=(min(draws, _resamples(n)), n))
    out: FloatArray = deltas[index].mean(axis=1)
    return out


def _bootstrap_ci(
    deltas: FloatArray, confidence: float, rng: np.random.Generator, tolerance: float
) -> tuple[float, float]:
    """Expanded percentile interval (Hesterberg 2015): percentile levels widened by √(n/(n−1))·t.

    2,000 resamples first; when the lower bound, which decides `pass`, is within four of its
    Monte-Carlo standard errors of −tolerance, 10,000 more settle it (a quantile's error is
    √(q(1−q)/B) / density, from the resamples' own spread).
    """
    n = deltas.size
    alpha = 1.0 - confidence
    level = normal_cdf(math.sqrt(n / (n - 1)) * student_t_ppf(n - 1, alpha / 2))
    means = _bootstrap_means(deltas, rng, _MIN_RESAMPLES)
    low = float(np.quantile(means, level))
    spread = float(np.std(means))
    density = math.exp(-0.5 * normal_ppf(level) ** 2) / math.sqrt(2 * math.pi)
    error = spread * math.sqrt(level * (1 - level) / means.size) / max(density, 1e-12)
    if abs(low + tolerance) <= 4 * error + _EPS:
        means = np.concatenate([means, _bootstrap_means(deltas, rng, N_RESAMPLES)])
    low, high = np.quantile(means, [level, 1.0 - level])
    return float(low), float(high)


def detection_level(suite: SuitePlan) -> float:
    """The per-metric level the detectable drop assumes: the false-fail rate split over the
    gating metrics (Bonferroni; Westfall–Young is never stricter, so it errs on the safe side)."""
    gating = sum(1 for spec in suite.scorers if not spec.informational)
    return suite.false_fail_rate / max(1, gating)


def _suite_p_values(suite: SuitePlan, raw: Sequence[_MetricStats]) -> dict[int, float | None]:
    """Every metric's p: gating metrics adjusted family-wise (Westfall–Young step-down min-p
    over joint sign flips), informational ones unadjusted. Exact where the deltas allow it;
    Monte-Carlo draws double while a verdict's p is within a few of their errors of α."""
    alpha = suite.false_fail_rate
    out: dict[int, float | None] = {i: stat.p_value for i, stat in enumerate(raw)}
    tested = [i for i, stat in enumerate(raw) if stat.marginal is not None]
    gating = [i for i in tested if not suite.scorers[i].informational]
    if not any(raw[i].p_value is None for i in tested) and len(gating) < 2:
        return out  # exact p-values, nothing to adjust: no draws at all
    marginals = [cast(Marginal, raw[i].marginal) for i in tested]
    position = {i: c for c, i in enumerate(tested)}
    digest = hashlib.sha256(f"{suite.name}\0flips\0".encode())
    for marginal in marginals:
        digest.update(np.ascontiguousarray(marginal.column, dtype="<f8").tobytes())
    rng = np.random.default_rng(int.from_bytes(digest.digest()[:16], "little"))
    integral = all(m.weights is not None for m in marginals)
    sampler = FlipSampler([m.column for m in marginals], rng, integral=integral)
    cases = marginals[0].deltas.size
    start = _MIN_RESAMPLES
    limit = max(start, min(_MAX_FLIPS, _MAX_FLIP_CELLS // max(cases, 1)))

    def estimate() -> list[float]:
        sums = sampler.sums
        p = [
            m.p_value if m.p_value is not None else monte_carlo_p(sums[:, c], m.observed, m.scale)
            for c, m in enumerate(marginals)
        ]
        if len(gating) >= 2:
            columns = [position[i] for i in gating]
            draws = marginal_p_of_draws([marginals[c] for c in columns], sums[:, columns])
            exact = [marginals[c].cdf is not None for c in columns]
            adjusted = westfall_young([p[c] for c in columns], draws, sampler.draws, exact)
            for c, value in zip(columns, adjusted, strict=True):
                p[c] = value
        return p

    def decisive(values: list[float]) -> bool:
        for i in gating:
            stat, value = raw[i], values[position[i]]
            if stat.delta is None or -stat.delta <= stat.tolerance + _EPS:
                continue  # no drop beyond tolerance: p cannot make it fail
            exact = stat.p_value
            if exact is not None and (exact >= alpha or len(gating) * exact < alpha):
                continue  # the exact bounds [p, m·p] already settle it
            if len(gating) >= 2:
                raw_p = exact if cast(Marginal, stat.marginal).cdf is not None else None
                error = wy_error(value, raw_p, sampler.draws)
                if abs(value - alpha) < _MC_SIGMAS * error:
                    return False
            elif mc_close(value, alpha, sampler.draws):
                return False
        return True

    values = adaptive_draws(start, limit, estimate, decisive, sampler)
    out.update({i: values[position[i]] for i in tested})
    return out


def detection_z(level: float) -> float:
    """z_{1−level} + z_POWER: the standard errors between no change and a detectable drop."""
    return normal_ppf(1.0 - level) + normal_ppf(POWER)


def _shortfall(n: int, z: float) -> float:
    """How much larger a drop must be for the sign-flip test than for a z-test: its statistic
    Σd/√(Σd²) counts the drop itself as spread, so a drop of u case sd's reaches only
    u√n/√(1 + u²); reaching z takes u = z/√(n − z²). Capped at √2 (n ≤ 2z²), where few cases
    make the normal approximation rough anyway."""
    return 1.0 / math.sqrt(1.0 - min(z * z / max(n, 1), 0.5))


def detectable_drop(sd: float, n: int, z: float) -> float:
    """The drop caught with probability POWER: z·sd/√n, widened by the sign flip's shortfall."""
    return z * sd / math.sqrt(n) * _shortfall(n, z)


def _mde(deltas: FloatArray, level: float) -> float | None:
    """The detectable drop of these deltas at a one-sided `level`."""
    n = deltas.size
    if n == 0:
        return None
    sd = float(np.std(deltas, ddof=1)) if n >= 2 else 0.0
    if sd <= _EPS:
        sd = FALLBACK_SD
    return detectable_drop(sd, n, detection_z(level))


def noise_sd(mde: float, n: int, z: float) -> float:
    """The sd of the per-case deltas behind a detectable drop (its inverse)."""
    return mde * math.sqrt(n) / (z * _shortfall(n, z))


def cases_for(
    mde: float | None, n: int, tolerance: float | None, z: float | None = None
) -> int | None:
    """Cases that make a drop of twice the tolerance detectable, or None when this many
    already do, or nothing is known. z defaults to one gating metric at the default rate."""
    if mde is None or n == 0 or tolerance is None or tolerance <= 0:
        return None
    if mde <= 2 * tolerance + _EPS:
        return None
    z = detection_z(0.01) if z is None else z
    sd = noise_sd(mde, n, z)
    return cases_for_sd(sd, z, tolerance)


def cases_for_sd(sd: float, z: float, tolerance: float) -> int:
    """The smallest n whose detectable drop is at most twice the tolerance."""
    plain = (z * sd / (2 * tolerance)) ** 2  # z·sd/√n ≤ 2t
    wide = z * z + plain  # with the shortfall, n − z² ≥ (z·sd / 2t)²
    if wide >= 2 * z * z:
        return math.ceil(wide - 1e-9)
    return math.ceil(2 * plain - 1e-9)  # the capped region, n ≤ 2z²


# --------------------------------------------------------------------------- rows


_ROW_RANK: dict[str, int] = {
    "pass→fail": 0,
    "dropped": 0,
    "fail→pass": 0,
    "improved": 0,
    "flaky": 1,
    "error": 2,
    "new": 3,
    "removed": 4,
}
_WORSE = ("pass→fail", "dropped")


def _sort_rows(rows: Iterable[RowDelta]) -> tuple[RowDelta, ...]:
    """Moved cases by effect size (|Δ|, largest first; a drop before a gain of the same
    size), then flaky (by |Δ|), error, new and removed."""

    def key(row: RowDelta) -> tuple[int, float, int, str, str]:
        size = abs(row.delta) if row.delta is not None else 0.0
        return (
            _ROW_RANK[row.row_class],
            -round(size, _DECIMALS),
            0 if row.row_class in _WORSE else 1,
            row.case_id,
            row.metric,
        )

    return tuple(sorted(rows, key=key))


# --------------------------------------------------------------------------- ops and errors


def _ops_and_errors(
    suite: SuitePlan, table: _Table, plan: Plan
) -> tuple[dict[Side, SideOps], dict[Side, float], str, dict[Side, int]]:
    """Latency, cost and errors per side; the error-rate note when a side is over the limit.

    A run the plan asked for but the results lack counts as a failed run (fail closed).
    """
    present = {(r.side, r.case_id, r.repeat) for r in table.rows} if suite.runs else set()
    missing = Counter(
        run.side for run in suite.runs if (run.side, run.case_id, run.repeat) not in present
    )
    ops: dict[Side, SideOps] = {}
    rates: dict[Side, float] = {}
    succeeded: dict[Side, int] = {}
    over: list[str] = []
    for index, side in enumerate(SIDES):
        mine = table.side == index
        errors = int(table.failed[mine].sum()) + missing[side]
        total = int(mine.sum()) + missing[side]
        rates[side] = errors / total if total else 0.0
        if rates[side] > plan.max_error_rate + _EPS:
            over.append(f"{side} {errors} of {total} runs ({100 * rates[side]:.1f} %)")
        ok = mine & table.generated
        succeeded[side] = int(ok.sum())
        latencies = table.latency[ok & ~np.isnan(table.latency)]
        costs = table.cost[ok]
        p50, p95 = (
            (float(v) for v in np.percentile(latencies, [50, 95]))
            if latencies.size
            else (None, None)
        )
        ops[side] = SideOps(
            latency_p50_ms=p50,
            latency_p95_ms=p95,
            cost_per_case_usd=float(costs.mean())
            if costs.size and not np.isnan(costs).any()
            else None,
            errors=errors,
            cases=len(np.unique(table.case[mine])),
        )
    note = ""
    if over:
        allowed = f"{100 * plan.max_error_rate:g} %"
        note = f"error rate above {allowed}: " + ", ".join(over)
    return ops, rates, note, succeeded


@dataclass(frozen=True, slots=True)
class _Latency:
    """p95 latency per side over the calls measured in this run, and how many were cached."""

    p95: dict[Side, float | None]
    timed: dict[Side, int]  # successful calls with a latency
    cached: dict[Side, int]  # of those, answered from the cache (an earlier run's latency)


def _fresh_latency(table: _Table) -> _Latency:
    p95: dict[Side, float | None] = {}
    timed: dict[Side, int] = {}
    cached: dict[Side, int] = {}
    for index, side in enumerate(SIDES):
        ok = (table.side == index) & table.generated & ~np.isnan(table.latency)
        fresh = ok & ~table.cached
        timed[side], cached[side] = int(ok.sum()), int((ok & table.cached).sum())
        p95[side] = float(np.percentile(table.latency[fresh], 95)) if fresh.any() else None
    return _Latency(p95, timed, cached)


def _ops_checks(
    suite: SuitePlan,
    ops: dict[Side, SideOps],
    succeeded: dict[Side, int],
    latency: _Latency,
) -> tuple[OpsCheck, ...]:
    """The configured latency and cost limits, applied to the measured values.

    Latency is compared like for like: only over calls this run made (a cached answer carries
    the latency of an earlier run, on another day or runner). A side answered entirely from
    the cache is not compared, and the note says so.
    """
    checks: list[OpsCheck] = []
    base, head = ops["base"], ops["head"]
    if suite.latency_p95_max_increase_ms is not None:
        limit = suite.latency_p95_max_increase_ms
        b, h = latency.p95["base"], latency.p95["head"]
        from_cache = [
            side
            for side in SIDES
            if latency.timed[side] and latency.cached[side] == latency.timed[side]
        ]
        if not (latency.timed["base"] and latency.timed["head"]):
            verdict, note = Verdict.SKIPPED, "no successful call to time on one side"
        elif from_cache:
            verdict = Verdict.SKIPPED
            note = f"not compared: {' and '.join(from_cache)} from cache"
        else:
            assert b is not None and h is not None
            verdict = Verdict.FAIL if h - b > limit + _EPS else Verdict.PASS
            notes = [f"p95 rose by {h - b:.0f} ms"] if verdict is Verdict.FAIL else []
            left_out = sum(latency.cached.values())
            if left_out:
                notes.append(f"compared over calls made in this run ({left_out} cached left out)")
            note = "; ".join(notes)
        checks.append(OpsCheck("latency_p95_ms", b, h, f"+{limit:g} ms", verdict, note))
    if suite.cost_max_increase_pct is not None:
        pct = suite.cost_max_increase_pct
        b, h = base.cost_per_case_usd, head.cost_per_case_usd
        if b is None or h is None:
            verdict = Verdict.SKIPPED
            no_calls = not (succeeded["base"] and succeeded["head"])
            note = "no successful call on one side" if no_calls else "model has no known price"
        else:
            verdict = Verdict.FAIL if h > b * (1 + pct / 100) + 1e-12 else Verdict.PASS
            note = (
                f"cost per case rose by {100 * (h - b) / b:.0f} %"
                if (verdict is Verdict.FAIL and b > 0)
                else ""
            )
        checks.append(OpsCheck("cost_usd", b, h, f"+{pct:g} %", verdict, note))
    return tuple(checks)
