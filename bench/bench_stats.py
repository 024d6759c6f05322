"""How honest is the gate? A seeded simulation of pull requests through `compare_results`.

Each simulated PR evaluates a dataset on a base and a head system with a noisy 1–5 judge
(about one judgement in ten is off by one point) and a binary scorer (each case passes with its
own probability, drawn afresh on every repeat). The PR is built as real Plan/Results values and
judged by the real `gate.compare.compare_results` with default settings: confidence 0.95,
judge max_drop 0.2, binary max_drop 0.05.

- A/A: head is the same system as base (a whitespace-only prompt change). Goal: ≤ 1 % of PRs
  are judged `fail` (n = 200 cases, k = 3 repeats).
- drop: head is worse by twice the tolerance in expectation of the measured score (judge −0.4,
  binary −0.10). Goal: each metric is judged `fail` in ≥ 95 % of PRs (n = 200, k = 3).
- the same two figures for n = 50, k = 1 (no goal: how blind a small dataset is).
- speed: one comparison of 10,000 cases × 3 metrics. Goal: < 1 s.

Run: `.venv/bin/python bench/bench_stats.py [--prs 1000] [--workers 2]`. Exits 1 when a goal
is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

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
BINARY = ScorerSpec(name="exact", type="exact", value="{{ expected }}")
JUDGE_TOLERANCE = 0.2
BINARY_TOLERANCE = 0.05

# Latent quality of a case: its true judge score, and its chance to pass the binary scorer.
TRUE_SCORES = np.array([1, 2, 3, 4, 5])
TRUE_SCORE_P = np.array([0.05, 0.10, 0.20, 0.35, 0.30])
PASS_CHANCES = np.array([0.97, 0.50, 0.03])
PASS_CHANCE_P = np.array([0.60, 0.20, 0.20])
JUDGE_NOISE = 0.1  # share of judgements off by one point


def expected_judged(score: np.ndarray) -> np.ndarray:
    """E[judge | true score]: off by one at random, reflected at the ends of the scale."""
    shift = np.where(score == 1, 1.0, np.where(score == 5, -1.0, 0.0))
    return score + JUDGE_NOISE * shift


def drop_settings() -> tuple[float, float]:
    """The per-case chance to lose a judge point, and the factor on pass chances, that make
    the expected measured drop exactly twice each tolerance."""
    losable = TRUE_SCORES >= 2
    loss = expected_judged(TRUE_SCORES) - expected_judged(np.maximum(TRUE_SCORES - 1, 1))
    point_chance = 2 * JUDGE_TOLERANCE / float(np.sum(TRUE_SCORE_P * loss * losable))
    mean_pass = float(np.sum(PASS_CHANCES * PASS_CHANCE_P))
    pass_factor = 1 - 2 * BINARY_TOLERANCE / mean_pass
    return point_chance, pass_factor


def make_plan(repeats: int) -> Plan:
    suite = SuitePlan(
        name="sim",
        runs=(),
        scorers=(JUDGE, BINARY),
        thresholds={
            "judge": Threshold(max_drop=JUDGE_TOLERANCE),
            "exact": Threshold(max_drop=BINARY_TOLERANCE),
        },
        latency_p95_max_increase_ms=None,
        cost_max_increase_pct=None,
        repeats=repeats,
        judge_provider="openai",
        judge_base_url="http://127.0.0.1:1",
    )
    return Plan(suites=(suite,), confidence=0.95, max_error_rate=0.05)


def judge_noise(true: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    off = rng.random(true.shape) < JUDGE_NOISE
    step = rng.choice(np.array([-1, 1]), size=true.shape)
    step = np.where(true + step < 1, 1, np.where(true + step > 5, -1, step))
    return np.where(off, true + step, true)


def simulate_pr(n: int, k: int, drop: bool, seed: int) -> Results:
    """One PR: n cases × k repeats × two sides, as the evaluate stage would return them."""
    rng = np.random.default_rng(seed)
    true = rng.choice(TRUE_SCORES, size=n, p=TRUE_SCORE_P)
    chance = rng.choice(PASS_CHANCES, size=n, p=PASS_CHANCE_P)
    head_true, head_chance = true, chance
    if drop:
        point_chance, pass_factor = drop_settings()
        head_true = np.maximum(true - (rng.random(n) < point_chance), 1)
        head_chance = chance * pass_factor
    rows: list[CaseResult] = []
    systems: tuple[tuple[Side, np.ndarray, np.ndarray], ...] = (
        ("base", true, chance),
        ("head", head_true, head_chance),
    )
    for side, side_true, side_chance in systems:
        judged = judge_noise(np.repeat(side_true[:, None], k, axis=1), rng)
        passed = rng.random((n, k)) < side_chance[:, None]
        rows.extend(
            _result(side, i, r, float(judged[i, r]), float(passed[i, r]))
            for i in range(n)
            for r in range(k)
        )
    return Results(suites={"sim": tuple(rows)}, stats={})


def _result(side: Side, case: int, repeat: int, judge: float, exact: float) -> CaseResult:
    return CaseResult(
        suite="sim",
        side=side,
        case_id=f"case-{case:05}",
        repeat=repeat,
        output="…",
        error=None,
        latency_ms=100.0,
        usage=Usage(),
        cost_usd=None,
        cached=False,
        scores={"judge": judge, "exact": exact},
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    n: int
    k: int
    drop: bool
    seed: int


def judge_batch(scenario: Scenario, seeds: range) -> list[tuple[str, str, str, bool, bool]]:
    """Suite, judge and binary verdicts of a batch of simulated PRs, and whether each metric's
    interval covers the true mean delta."""
    plan = make_plan(scenario.k)
    truth = {"judge": -2 * JUDGE_TOLERANCE, "exact": -2 * BINARY_TOLERANCE}
    out = []
    for index in seeds:
        results = simulate_pr(
            scenario.n, scenario.k, scenario.drop, scenario.seed * 100_003 + index
        )
        suite = compare_results(plan, results).suites[0]
        verdicts = {m.metric: str(m.verdict) for m in suite.metrics}
        covers = {
            m.metric: m.ci_low is not None
            and m.ci_high is not None
            and m.ci_low <= (truth[m.metric] if scenario.drop else 0.0) <= m.ci_high
            for m in suite.metrics
        }
        out.append(
            (
                str(suite.verdict),
                verdicts["judge"],
                verdicts["exact"],
                covers["judge"],
                covers["exact"],
            )
        )
    return out


def run_scenario(scenario: Scenario, prs: int, pool: ProcessPoolExecutor) -> dict[str, float]:
    chunk = max(1, prs // 20)
    batches = [range(start, min(start + chunk, prs)) for start in range(0, prs, chunk)]
    outcomes = [
        v for batch in pool.map(judge_batch, [scenario] * len(batches), batches) for v in batch
    ]
    suite = Counter(v[0] for v in outcomes)
    return {
        "fail": suite[Verdict.FAIL] / prs,
        "pass": suite[Verdict.PASS] / prs,
        "inconclusive": suite[Verdict.INCONCLUSIVE] / prs,
        "judge fail": sum(v[1] == Verdict.FAIL for v in outcomes) / prs,
        "binary fail": sum(v[2] == Verdict.FAIL for v in outcomes) / prs,
        "judge covered": sum(v[3] for v in outcomes) / prs,
        "binary covered": sum(v[4] for v in outcomes) / prs,
    }


def time_large_comparison(cases: int = 10_000) -> float:
    """Seconds for one comparison of `cases` cases × 3 metrics (best of three)."""
    rng = np.random.default_rng(0)
    other = ScorerSpec(name="contains", type="contains", value="x")
    suite = SuitePlan(
        name="big",
        runs=(),
        scorers=(JUDGE, BINARY, other),
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=1000, help="simulated PRs per scenario")
    parser.add_argument("--workers", type=int, default=2, help="processes")
    args = parser.parse_args()
    started = time.perf_counter()
    scenarios = [
        Scenario("A/A", 200, 3, drop=False, seed=1),
        Scenario("drop 2×t", 200, 3, drop=True, seed=2),
        Scenario("A/A", 50, 1, drop=False, seed=3),
        Scenario("drop 2×t", 50, 1, drop=True, seed=4),
    ]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rates = [run_scenario(s, args.prs, pool) for s in scenarios]
    seconds = time_large_comparison()

    columns = ["fail", "pass", "inconclusive", "judge fail", "binary fail"]
    columns += ["judge covered", "binary covered"]
    header = f"{'scenario':<10}{'n':>5}{'k':>3}{'PRs':>6}" + "".join(f"{c:>15}" for c in columns)
    print("suite verdicts, per-metric `fail`, and 95 % intervals covering the true mean delta")
    print(header)
    print("-" * len(header))
    for s, r in zip(scenarios, rates, strict=True):
        cells = "".join(f"{r[c]:>15.1%}" for c in columns)
        print(f"{s.name:<10}{s.n:>5}{s.k:>3}{args.prs:>6}{cells}")
    print()
    print(f"compare_results on 10,000 cases × 3 metrics: {seconds:.3f} s")

    goals = [
        ("A/A n=200 k=3: share of PRs judged fail ≤ 1 %", rates[0]["fail"] <= 0.01),
        ("drop n=200 k=3: judge metric judged fail ≥ 95 %", rates[1]["judge fail"] >= 0.95),
        ("drop n=200 k=3: binary metric judged fail ≥ 95 %", rates[1]["binary fail"] >= 0.95),
        ("10,000 cases × 3 metrics in < 1 s", seconds < 1.0),
    ]
    print()
    for text, ok in goals:
        print(f"{'ok  ' if ok else 'MISS'} {text}")
    print(f"\nwall time {time.perf_counter() - started:.1f} s")
    return 0 if all(ok for _, ok in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
