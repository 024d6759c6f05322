"""Can the gate be trusted? Seeded simulated pull requests through the real `compare_results`.

The noise model is built to be hard, not to flatter the statistics:

- cases differ: each has a difficulty, the chance that an answer holds the expected fact,
  drawn from Beta(2, 0.8) (mean 0.71; many easy cases, a long tail of hard ones), and a style,
  the chance that a right answer is excellent rather than good, from Beta(2, 2);
- generation noise (temperature > 0): every repeat draws a fresh answer that holds the fact
  with the case's chance;
- two metrics score the same answer, so they are correlated: `contains` (the fact is there,
  0/1) and a 1–5 judge (5 or 4 for a right answer, by style; 2 or 1 for a wrong one);
- judge noise that depends on the answer: the judge is off by one point in 6 % of the
  judgements of right answers and 14 % of wrong ones (one in ten overall), reflected at the
  ends of the scale.

For every dataset size n ∈ {50, 200, 1000} and repeats k ∈ {1, 3}, each metric's tolerance is
set to 1, 2 and 3 standard errors of its A/A mean delta (computed exactly from the model:
SE² = 2·E[Var(score | case)] / (k·n)), with the default false-fail rate 0.01 and
confidence 0.95. Two kinds of PR:

- A/A: head is the same system (a whitespace-only prompt change). Goal: the suite is `fail`
  in at most 1 % of PRs, everywhere.
- drop: head holds the fact less often (every case's chance × (1 − a)) and writes less
  excellent answers (style × (1 − b)), with a and b chosen so that the expected drop of each
  metric is twice its tolerance (the judge loses at least that through lost facts alone when
  b = 0 suffices). Goals: the suite is `fail` in ≥ 95 % of PRs wherever the tolerance is at
  least 2 SE; a drop is never `pass`.

Every rate is printed with its 95 % Wilson interval. A goal is missed when the interval lies
wholly on the wrong side of it (a rate exactly at a bound of 1 % is met half the time by
sampling alone); `ok*` marks a point estimate on the wrong side within sampling error.
Also timed: one comparison of 10,000 cases × 3 metrics (goal < 1 s).

Run: `.venv/bin/python bench/bench_stats.py [--prs 2000] [--workers 2]`. Exits 1 when a goal
is missed.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gate.compare import compare_results
from gate.models import (
    CaseResult,
    Plan,
    Results,
    ScorerSpec,
    Side,
    SuitePlan,
    Threshold,
    Usage,
    Verdict,
)

JUDGE = ScorerSpec(name="judge", type="judge", rubric="helpful?", model="judge", scale=5)
CONTAINS = ScorerSpec(name="contains", type="contains", value="{{ expected }}")
METRICS = ("contains", "judge")
DIFFICULTY = (2.0, 0.8)  # Beta parameters of a case's chance to hold the fact
STYLE = (2.0, 2.0)  # Beta parameters of a right answer's chance to be excellent (5, not 4)
WRONG_TWO = 0.6  # a wrong answer is judged 2 (else 1) before noise
JUDGE_OFF = {True: 0.06, False: 0.14}  # off by one, for right and wrong answers
SIZES = (50, 200, 1000)
REPEATS = (1, 3)
RATIOS = (1.0, 2.0, 3.0)
FALSE_FAIL_GOAL = 0.01
DETECTION_GOAL = 0.95
Z95 = 1.959963984540054
FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- the noise model


def _noisy(true: int, off: float) -> FloatArray:
    """The distribution over 1…5 of a judgement of an answer whose true score is `true`."""
    out = np.zeros(5)
    out[true - 1] += 1 - off
    for step in (-1, 1):
        score = true + step
        score = true - step if not 1 <= score <= 5 else score
        out[score - 1] += off / 2
    return out


RIGHT = {s: _noisy(s, JUDGE_OFF[True]) for s in (4, 5)}
WRONG = WRONG_TWO * _noisy(2, JUDGE_OFF[False]) + (1 - WRONG_TWO) * _noisy(1, JUDGE_OFF[False])
SCALE = np.arange(1, 6, dtype=np.float64)


def judge_distribution(fact: FloatArray, style: FloatArray) -> FloatArray:
    """[case, score] probabilities of one judgement over a fresh answer."""
    right = style[:, None] * RIGHT[5] + (1 - style[:, None]) * RIGHT[4]
    dist: FloatArray = fact[:, None] * right + (1 - fact[:, None]) * WRONG
    return dist


def case_variances(fact: FloatArray, style: FloatArray) -> dict[str, FloatArray]:
    dist = judge_distribution(fact, style)
    mean = dist @ SCALE
    return {"contains": fact * (1 - fact), "judge": dist @ SCALE**2 - mean**2}


@functools.cache
def population(seed: int = 12345, size: int = 400_000) -> tuple[FloatArray, FloatArray]:
    """A large sample of cases, for the model's expectations."""
    rng = np.random.default_rng(seed)
    return rng.beta(*DIFFICULTY, size), rng.beta(*STYLE, size)


@functools.cache
def standard_errors(n: int, k: int) -> dict[str, float]:
    """SE of each metric's A/A mean delta: √(2·E[Var(score | case)] / (k·n))."""
    fact, style = population()
    return {
        m: math.sqrt(2 * float(v.mean()) / (k * n)) for m, v in case_variances(fact, style).items()
    }


def drop_factors(tolerance: dict[str, float]) -> tuple[float, float]:
    """a (fact chance × (1 − a)) and b (style × (1 − b)) giving expected drops of 2·t each.

    Lost facts lower both metrics; fewer excellent answers lower the judge alone. When even
    b = 1 leaves the judge short, a grows instead (the contains drop is then above 2·t).
    """
    fact, style = population()
    want = 2 * tolerance["judge"]

    def judge_drop(a: float, b: float) -> float:
        before = judge_distribution(fact, style) @ SCALE
        after = judge_distribution(fact * (1 - a), style * (1 - b)) @ SCALE
        return float((before - after).mean())

    a = 2 * tolerance["contains"] / float(fact.mean())
    if a >= 1:
        raise ValueError(f"a drop of {2 * tolerance['contains']:.3f} is beyond the model")
    lost = judge_drop(a, 0.0)
    if lost >= want:
        return a, 0.0
    full = judge_drop(a, 1.0)
    if full >= want:  # the judge drop is linear in b
        return a, (want - lost) / (full - lost)
    low, high = a, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if judge_drop(middle, 0.0) < want else (low, middle)
    return high, 0.0


# --------------------------------------------------------------------------- one simulated PR


def make_plan(k: int, tolerance: dict[str, float]) -> Plan:
    suite = SuitePlan(
        name="sim",
        runs=(),
        scorers=(CONTAINS, JUDGE),
        thresholds={m: Threshold(max_drop=tolerance[m]) for m in METRICS},
        latency_p95_max_increase_ms=None,
        cost_max_increase_pct=None,
        repeats=k,
        judge_provider="openai",
        judge_base_url="http://127.0.0.1:1",
    )
    return Plan(suites=(suite,), confidence=0.95, max_error_rate=0.05)


def answers(
    fact: FloatArray, style: FloatArray, k: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """contains and judge scores, [case, repeat], of k fresh answers per case."""
    n = fact.size
    holds = rng.random((n, k)) < fact[:, None]
    excellent = rng.random((n, k)) < style[:, None]
    two = rng.random((n, k)) < WRONG_TWO
    true = np.where(holds, np.where(excellent, 5, 4), np.where(two, 2, 1))
    off = rng.random((n, k)) < np.where(holds, JUDGE_OFF[True], JUDGE_OFF[False])
    step = np.where(rng.random((n, k)) < 0.5, -1, 1)
    moved = true + step
    moved = np.where((moved < 1) | (moved > 5), true - step, moved)
    judged = np.where(off, moved, true)
    return holds.astype(np.float64), judged.astype(np.float64)


def simulate_pr(n: int, k: int, factors: tuple[float, float] | None, seed: int) -> Results:
    """One PR: n cases × k repeats × two sides, as the evaluate stage would return them."""
    rng = np.random.default_rng(seed)
    fact, style = rng.beta(*DIFFICULTY, n), rng.beta(*STYLE, n)
    head_fact, head_style = fact, style
    if factors is not None:
        head_fact, head_style = fact * (1 - factors[0]), style * (1 - factors[1])
    usage = Usage()
    rows: list[CaseResult] = []
    sides: tuple[tuple[Side, FloatArray, FloatArray], ...] = (
        ("base", fact, style),
        ("head", head_fact, head_style),
    )
    case_ids = [f"case-{i:05}" for i in range(n)]
    outputs = [f"answer {r}" for r in range(k)]
    for side, f, s in sides:
        contains, judge = (a.tolist() for a in answers(f, s, k, rng))
        rows.extend(
            CaseResult(
                "sim", side, case_id, r, outputs[r], None, 100.0, usage, None, False,
                {"contains": c, "judge": j},
            )
            for case_id, c_row, j_row in zip(case_ids, contains, judge, strict=True)
            for r, (c, j) in enumerate(zip(c_row, j_row, strict=True))
        )  # fmt: skip
    return Results(suites={"sim": tuple(rows)}, stats={})


@dataclass(frozen=True)
class Batch:
    n: int
    k: int
    drop_ratio: float | None  # None: A/A, judged at every ratio's tolerance
    seeds: range


Outcome = tuple[float, str, str, str]  # (ratio, suite verdict, contains verdict, judge verdict)


def judge_batch(batch: Batch) -> list[Outcome]:
    se = standard_errors(batch.n, batch.k)
    ratios = RATIOS if batch.drop_ratio is None else (batch.drop_ratio,)
    plans = {r: make_plan(batch.k, {m: r * se[m] for m in METRICS}) for r in ratios}
    factors = None
    if batch.drop_ratio is not None:
        factors = drop_factors({m: batch.drop_ratio * se[m] for m in METRICS})
    out: list[Outcome] = []
    for seed in batch.seeds:
        results = simulate_pr(batch.n, batch.k, factors, seed)
        for ratio, plan in plans.items():
            suite = compare_results(plan, results).suites[0]
            verdict = {m.metric: str(m.verdict) for m in suite.metrics}
            out.append((ratio, str(suite.verdict), verdict["contains"], verdict["judge"]))
    return out


# --------------------------------------------------------------------------- reporting


def wilson(hits: int, total: int) -> tuple[float, float]:
    if total == 0:
        return 0.0, 1.0
    p = hits / total
    centre = (p + Z95**2 / (2 * total)) / (1 + Z95**2 / total)
    half = Z95 * math.sqrt(p * (1 - p) / total + Z95**2 / (4 * total**2)) / (1 + Z95**2 / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(hits: int, total: int) -> str:
    low, high = wilson(hits, total)
    return f"{100 * hits / total:5.1f} % [{100 * low:4.1f}, {100 * high:5.1f}]"


def judge_goal(hits: int, total: int, goal: float, at_most: bool) -> str:
    """ok, ok* (the estimate misses but the interval reaches the goal) or MISS."""
    low, high = wilson(hits, total)
    estimate = hits / total
    if (estimate <= goal) if at_most else (estimate >= goal):
        return "ok"
    reaches = low <= goal if at_most else high >= goal
    return "ok*" if reaches else "MISS"


def time_large_comparison(cases: int = 10_000) -> float:
    """Seconds for one comparison of `cases` cases × 3 metrics (best of three)."""
    rng = np.random.default_rng(0)
    exact = ScorerSpec(name="exact", type="exact", value="x")
    suite = SuitePlan(
        name="big",
        runs=(),
        scorers=(JUDGE, exact, CONTAINS),
        thresholds={name: Threshold(max_drop=0.05) for name in ("judge", "exact", "contains")},
        latency_p95_max_increase_ms=250.0,
        cost_max_increase_pct=15.0,
        repeats=1,
        judge_provider="openai",
        judge_base_url="http://127.0.0.1:1",
    )
    plan = Plan(suites=(suite,), confidence=0.95, max_error_rate=0.05)
    sides: tuple[Side, Side] = ("base", "head")
    rows = tuple(
        CaseResult(
            suite="big",
            side=side,
            case_id=f"case-{i:05}",
            repeat=0,
            output="…",
            error=None,
            latency_ms=float(rng.integers(50, 900)),
            usage=Usage(100, 200),
            cost_usd=0.0002,
            cached=False,
            scores={
                "judge": float(rng.integers(1, 6)),
                "exact": float(rng.random() < 0.7),
                "contains": float(rng.random() < 0.9),
            },
        )
        for side in sides
        for i in range(cases)
    )
    results = Results(suites={"big": rows}, stats={})
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        compare_results(plan, results)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--prs", type=int, default=2000, help="simulated PRs per scenario")
    parser.add_argument("--workers", type=int, default=2, help="processes")
    args = parser.parse_args()
    started = time.perf_counter()
    prs: int = args.prs
    chunk = max(1, min(100, prs // 4))
    batches: list[Batch] = []
    for n in SIZES:
        for k in REPEATS:
            for ratio in (None, *RATIOS):
                # every scenario has its own seeds; an A/A PR is judged at all three tolerances
                offset = (SIZES.index(n) * 10 + REPEATS.index(k)) * 10 + (
                    0 if ratio is None else 1 + RATIOS.index(ratio)
                )
                for start in range(0, prs, chunk):
                    seeds = range(
                        offset * 1_000_000 + start, offset * 1_000_000 + min(start + chunk, prs)
                    )
                    batches.append(Batch(n, k, ratio, seeds))
    # the largest first, so the two processes finish together
    batches.sort(key=lambda b: -b.n * b.k * (3 if b.drop_ratio is None else 1))
    keyed: dict[tuple[int, int, str, float], list[Outcome]] = {}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for batch, outcomes in zip(batches, pool.map(judge_batch, batches), strict=True):
            kind = "aa" if batch.drop_ratio is None else "drop"
            for outcome in outcomes:
                keyed.setdefault((batch.n, batch.k, kind, outcome[0]), []).append(outcome)
    simulated = time.perf_counter() - started
    seconds = time_large_comparison()

    print(
        f"{prs} simulated PRs per row; rates with 95 % Wilson intervals; false-fail rate 0.01, "
        "confidence 0.95"
    )
    header = (
        f"{'n':>5}{'k':>3}{'t/SE':>6}  {'A/A: suite fail':<24}{'drop 2t: suite fail':<24}"
        f"{'contains fail':<24}{'judge fail':<24}{'pass':>6}"
    )
    print(header)
    print("-" * len(header))
    goals: list[tuple[str, str]] = []
    for n in SIZES:
        for k in REPEATS:
            for ratio in RATIOS:
                aa = Counter(o[1] for o in keyed[(n, k, "aa", ratio)])
                drop = keyed[(n, k, "drop", ratio)]
                suite = Counter(o[1] for o in drop)
                contains = sum(o[2] == Verdict.FAIL for o in drop)
                judge = sum(o[3] == Verdict.FAIL for o in drop)
                total = len(drop)
                print(
                    f"{n:>5}{k:>3}{ratio:>6.0f}  {rate(aa[Verdict.FAIL], total):<24}"
                    f"{rate(suite[Verdict.FAIL], total):<24}{rate(contains, total):<24}"
                    f"{rate(judge, total):<24}{suite[Verdict.PASS]:>6}"
                )
                where = f"n={n} k={k} t={ratio:.0f}SE"
                goals.append(
                    (
                        judge_goal(aa[Verdict.FAIL], total, FALSE_FAIL_GOAL, at_most=True),
                        f"{where}: unchanged system failed ≤ 1 %",
                    )
                )
                if ratio >= 2:
                    goals.append(
                        (
                            judge_goal(suite[Verdict.FAIL], total, DETECTION_GOAL, at_most=False),
                            f"{where}: drop of 2× tolerance failed ≥ 95 %",
                        )
                    )
                goals.append(
                    (
                        "ok" if suite[Verdict.PASS] == 0 else "MISS",
                        f"{where}: a real drop is never pass",
                    )
                )
    print()
    print(f"compare_results on 10,000 cases × 3 metrics: {seconds:.3f} s")
    goals.append(("ok" if seconds < 1.0 else "MISS", "10,000 cases × 3 metrics in < 1 s"))
    print()
    shown = [g for g in goals if g[0] != "ok"] or goals[:0]
    met = sum(1 for g in goals if g[0] == "ok")
    print(f"goals: {met} of {len(goals)} met outright")
    for mark, text in shown:
        print(f"{mark:<5}{text}")
    print(f"\nsimulation {simulated:.0f} s, wall time {time.perf_counter() - started:.0f} s")
    return 1 if any(mark == "MISS" for mark, _ in goals) else 0


if __name__ == "__main__":
    sys.exit(main())
