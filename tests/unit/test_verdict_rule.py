"""The verdict rule of issue 11: a family-wise false-fail rate, exact tests, honest power,
symmetric labels, identical repeats and latency measured like for like."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from gate.compare import cases_for, compare_results
from gate.config import parse_config
from gate.models import IDENTICAL_REPEATS, CaseResult, ScorerSpec, Usage, Verdict
from gate.signflip import FlipSampler, exact_marginal, monte_carlo_p
from tests.unit.test_compare import (
    EXACT,
    JUDGE,
    make_plan,
    make_results,
    metric,
    only_suite,
    paired,
    run,
)

CONTAINS = ScorerSpec(name="contains", type="contains", value="x")


def _aa_rows(rng: np.random.Generator, n: int, k: int) -> list[CaseResult]:
    """An unchanged system: per-case chances, fresh answers per repeat, a judge on the answer."""
    chance = rng.beta(2.0, 0.8, n)
    rows = []
    for side in ("base", "head"):
        for i in range(n):
            for r in range(k):
                holds = bool(rng.random() < chance[i])
                score = float(rng.choice([4, 5]) if holds else rng.choice([1, 2]))
                rows.append(
                    CaseResult(
                        "bot",
                        side,
                        f"c{i:03}",
                        r,
                        f"{side} {i} {r} {holds}",
                        None,
                        100.0,
                        Usage(),
                        None,
                        False,
                        {"contains": float(holds), "judge": score},
                    )
                )
    return rows


def test_false_fail_rate_is_a_config_key_with_a_suite_override() -> None:
    """`false_fail_rate` defaults to 0.01, may be set at the top and per suite, within (0, ½)."""
    suite = (
        "dataset: d.jsonl\n    target: {model: m, prompt: p.j2}\n    scorers: [{type: json_valid}]"
    )
    config = parse_config("llm-gate.yml", f"suites:\n  a:\n    {suite}\n")
    assert config.false_fail_rate == 0.01 and config.suites["a"].false_fail_rate is None
    text = f"false_fail_rate: 0.05\nsuites:\n  a:\n    {suite}\n    false_fail_rate: 0.001\n"
    config = parse_config("llm-gate.yml", text)
    assert (config.false_fail_rate, config.suites["a"].false_fail_rate) == (0.05, 0.001)
    with pytest.raises(Exception, match="false_fail_rate"):
        parse_config("llm-gate.yml", f"false_fail_rate: 0.7\nsuites:\n  a:\n    {suite}\n")


def test_significance_is_judged_at_the_false_fail_rate() -> None:
    """Nine drops of ten discordant pairs (p = 0.011) fail at a rate of 0.05, not at 0.01."""
    base = [1.0] * 25 + [0.0] * 5
    head = [1.0] * 16 + [0.0] * 9 + [1.0] * 1 + [0.0] * 4
    rows = make_results(paired("exact", base, head))
    strict = metric(compare_results(make_plan((EXACT,)), rows), "exact")
    loose = metric(compare_results(make_plan((EXACT,), false_fail_rate=0.05), rows), "exact")
    assert strict.p_value == pytest.approx(11 / 1024)
    assert (strict.verdict, loose.verdict) == (Verdict.INCONCLUSIVE, Verdict.FAIL)


def test_sign_flip_p_value_is_exact() -> None:
    """Judge means of three repeats lie on a lattice of thirds: p is the exact enumeration."""
    rng = np.random.default_rng(3)
    deltas = rng.integers(-3, 3, size=14) / 3.0
    marginal = exact_marginal(deltas)
    assert marginal is not None and marginal.p_value is not None
    reference = stats.permutation_test(
        (deltas,), np.sum, permutation_type="samples", alternative="less", n_resamples=2**14
    )
    assert marginal.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_monte_carlo_p_agrees_with_the_exact_one() -> None:
    """Where no lattice fits, flips estimate p within a few of their standard errors."""
    rng = np.random.default_rng(5)
    deltas = rng.integers(-2, 2, size=60).astype(float)
    exact = exact_marginal(deltas)
    assert exact is not None and exact.p_value is not None
    sampler = FlipSampler([deltas], rng)
    sampler.draw(40_000)
    estimate = monte_carlo_p(sampler.sums[:, 0], float(deltas.sum()), float(abs(deltas).sum()))
    se = math.sqrt(exact.p_value * (1 - exact.p_value) / 40_000)
    assert abs(estimate - exact.p_value) < 4 * se + 1e-4


def test_a_metric_off_the_lattice_draws_until_the_verdict_is_clear() -> None:
    """Scores with irrational steps take the Monte-Carlo route; the verdict does not depend on
    the suite name that seeds it, even when p is near the rate."""
    rng = np.random.default_rng(11)
    base = list(3 + rng.random(80) * math.sqrt(2))
    head = [b - 0.3 * math.sqrt(2) * float(rng.random() < 0.6) + 0.2 * rng.normal() for b in base]
    rows = paired("judge", base, head)
    verdicts = set()
    for name in ("a", "b", "c", "d"):
        plan = make_plan(thresholds=None)
        suite = dataclasses.replace(plan.suites[0], name=name)
        renamed = [dataclasses.replace(r, suite=name) for r in rows]
        results = dataclasses.replace(make_results(renamed), suites={name: tuple(renamed)})
        judge = compare_results(dataclasses.replace(plan, suites=(suite,)), results)
        m = judge.suites[0].metrics[0]
        assert m.test == "sign-flip permutation (Monte Carlo)"
        verdicts.add(m.verdict)
    assert len(verdicts) == 1


def test_unchanged_systems_rarely_fail() -> None:
    """200 A/A runs of two correlated metrics, tolerance at about one standard error: the
    family-wise rate of 1 % allows a handful of fails (P(X ≥ 8) < 0.1 % at 1 %)."""
    rng = np.random.default_rng(2024)  # 200 runs × 60 cases × 3 repeats: a few seconds
    plan = make_plan((CONTAINS, JUDGE), {}, repeats=3)
    plan = dataclasses.replace(
        plan,
        suites=(
            dataclasses.replace(
                plan.suites[0],
                thresholds={
                    "contains": dataclasses.replace(
                        plan.suites[0].thresholds["contains"], max_drop=0.03
                    ),
                    "judge": dataclasses.replace(plan.suites[0].thresholds["judge"], max_drop=0.1),
                },
            ),
        ),
    )
    fails = sum(
        compare_results(plan, make_results(_aa_rows(rng, 60, 3))).verdict is Verdict.FAIL
        for _ in range(200)
    )
    assert fails < 8


def test_a_small_suite_says_how_many_cases_would_make_the_tolerance_detectable() -> None:
    """cases_needed is the n whose detectable drop, z·sd/√(n − z²), is twice the tolerance."""
    base = [4.0, 3.0, 4.0, 5.0] * 5
    head = [3.0, 3.0, 5.0, 5.0] * 5
    judge = metric(compare_results(make_plan(), make_results(paired("judge", base, head))), "judge")
    assert judge.mde is not None and judge.mde > 0.4
    z = stats.norm.ppf(0.99) + stats.norm.ppf(0.95)
    sd = float(np.std(np.subtract(head, base), ddof=1))
    assert judge.cases_needed == math.ceil(z * z + (z * sd / 0.4) ** 2)
    n = judge.cases_needed
    assert z * sd / math.sqrt(n - z * z) <= 0.4 < z * sd / math.sqrt(n - 1 - z * z)
    assert cases_for(0.39, 20, 0.2) is None  # a drop of 0.4 is already detectable


def test_identical_repeats_are_called_out() -> None:
    """k repeats that returned one output per case add no information, and the note says so."""
    rows = [
        run(side, f"c{i}", {"judge": 4.0 + (i % 2)}, repeat=r)
        for side in ("base", "head")
        for i in range(10)
        for r in range(3)
    ]
    suite = only_suite(compare_results(make_plan(repeats=3), make_results(rows)))
    assert suite.metrics[0].identical_repeats
    assert IDENTICAL_REPEATS in suite.metrics[0].note
    varied = [dataclasses.replace(r, output=f"{r.output} {r.repeat}") for r in rows]
    suite = only_suite(compare_results(make_plan(repeats=3), make_results(varied)))
    assert not suite.metrics[0].identical_repeats and IDENTICAL_REPEATS not in suite.metrics[0].note


def _timed(side: str, i: int, latency: float, cached: bool) -> CaseResult:
    return dataclasses.replace(run(side, f"c{i}", {"judge": 4.0}, latency=latency), cached=cached)  # type: ignore[arg-type]


def test_latency_of_a_cached_side_is_not_compared() -> None:
    """A base answered from the cache carries an earlier run's latency: not compared."""
    rows = [_timed("base", i, 100.0, True) for i in range(20)]
    rows += [_timed("head", i, 900.0, False) for i in range(20)]
    (check,) = only_suite(compare_results(make_plan(latency=250), make_results(rows))).checks
    assert (check.verdict, check.note) == (Verdict.SKIPPED, "not compared: base from cache")


def test_latency_is_compared_over_the_calls_of_this_run() -> None:
    """Cached calls are left out of both sides' p95, and the note says how many."""
    rows = [_timed("base", i, 100.0, False) for i in range(20)]
    rows += [_timed("base", i + 20, 5000.0, True) for i in range(5)]
    rows += [_timed("head", i, 150.0, False) for i in range(25)]
    (check,) = only_suite(compare_results(make_plan(latency=250), make_results(rows))).checks
    assert (check.base, check.head, check.verdict) == (100.0, 150.0, Verdict.PASS)
    assert check.note == "compared over calls made in this run (5 cached left out)"


def test_labels_of_an_unchanged_system_are_balanced() -> None:
    """A/A at k = 3: as many pass→fail as fail→pass, as many dropped as improved, within
    sampling noise (|a − b| ≤ 3·√(a + b)), and mixed repeats are flaky either way."""
    rng = np.random.default_rng(17)
    rows = _aa_rows(rng, 400, 3)
    suite = only_suite(
        compare_results(make_plan((CONTAINS, JUDGE), {}, repeats=3), make_results(rows))
    )
    counts = Counter(r.row_class for r in suite.rows)
    for worse, better in (("pass→fail", "fail→pass"), ("dropped", "improved")):
        a, b = counts[worse], counts[better]
        assert a + b >= 4, counts
        assert abs(a - b) <= 3 * math.sqrt(a + b), counts
    assert counts["flaky"] > 0
    moved = [r for r in suite.rows if r.row_class != "flaky" and r.delta is not None]
    sizes = [round(abs(r.delta), 9) for r in moved if r.delta is not None]
    assert sizes == sorted(sizes, reverse=True)
