"""Unit tests of gate/compare.py: paired statistics, verdicts, rows, ops and error handling."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

import numpy as np
import pytest
from scipy import stats

from gate.compare import compare_results
from gate.models import (
    CaseResult,
    Comparison,
    MetricComparison,
    Plan,
    Results,
    ScorerSpec,
    Side,
    SuiteComparison,
    SuitePlan,
    Threshold,
    Usage,
    Verdict,
)

JUDGE = ScorerSpec(name="judge", type="judge", rubric="Is it helpful?", model="judge-model")
EXACT = ScorerSpec(name="exact", type="exact", value="{{ expected }}")


# --------------------------------------------------------------------------- helpers


def make_plan(
    scorers: Sequence[ScorerSpec] = (JUDGE,),
    thresholds: dict[str, Threshold] | None = None,
    *,
    latency: float | None = None,
    cost: float | None = None,
    repeats: int = 1,
    confidence: float = 0.95,
    max_error_rate: float = 0.05,
    false_fail_rate: float = 0.01,
) -> Plan:
    default = {s.name: Threshold(max_drop=0.2 if s.type == "judge" else 0.05) for s in scorers}
    suite = SuitePlan(
        name="bot",
        runs=(),
        scorers=tuple(scorers),
        thresholds={**default, **(thresholds or {})},
        latency_p95_max_increase_ms=latency,
        cost_max_increase_pct=cost,
        repeats=repeats,
        judge_provider="openai",
        judge_base_url="http://127.0.0.1:1",
        false_fail_rate=false_fail_rate,
    )
    return Plan(suites=(suite,), confidence=confidence, max_error_rate=max_error_rate)


def run(
    side: Side,
    case_id: str,
    scores: dict[str, float | None],
    *,
    repeat: int = 0,
    error: str | None = None,
    latency: float | None = 100.0,
    cost: float | None = 0.001,
) -> CaseResult:
    return CaseResult(
        suite="bot",
        side=side,
        case_id=case_id,
        repeat=repeat,
        output=None if error else f"{side} answer to {case_id}",
        error=error,
        latency_ms=latency,
        usage=Usage(10, 20),
        cost_usd=cost,
        cached=False,
        scores={} if error else scores,
        variables={"question": f"question {case_id}"},
    )


def paired(
    metric: str, base: Iterable[float], head: Iterable[float], *, prefix: str = "c"
) -> list[CaseResult]:
    """One repeat per case, the i-th base and head score belong to case i."""
    rows = [run("base", f"{prefix}{i:03}", {metric: v}) for i, v in enumerate(base)]
    rows += [run("head", f"{prefix}{i:03}", {metric: v}) for i, v in enumerate(head)]
    return rows


def make_results(rows: Sequence[CaseResult], *, complete: bool = True) -> Results:
    return Results(suites={"bot": tuple(rows)}, stats={}, complete=complete)


def only_suite(comparison: Comparison) -> SuiteComparison:
    assert len(comparison.suites) == 1
    return comparison.suites[0]


def metric(comparison: Comparison, name: str) -> MetricComparison:
    return next(m for m in only_suite(comparison).metrics if m.metric == name)


def noisy_judge(true: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1–5 judge that is off by one point in about one judgement in ten."""
    off = rng.random(true.shape) < 0.1
    step = rng.choice([-1, 1], size=true.shape)
    step = np.where(true + step < 1, 1, np.where(true + step > 5, -1, step))
    return np.where(off, true + step, true).astype(float)


# --------------------------------------------------------------------------- headline behaviour


def test_whitespace_change_under_a_noisy_judge_does_not_fail() -> None:
    """Same system on both sides, only judge noise: never `fail`, over many seeds."""
    verdicts = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        true = rng.choice([2, 3, 4, 5], size=30, p=[0.1, 0.2, 0.4, 0.3])
        rows = paired("judge", noisy_judge(true, rng), noisy_judge(true, rng))
        verdicts.append(compare_results(make_plan(), make_results(rows)).verdict)
    assert Verdict.FAIL not in verdicts
    assert verdicts.count(Verdict.PASS) > len(verdicts) / 2  # the rest: inconclusive


def test_real_quality_drop_on_30_cases_fails() -> None:
    """A 0.4-point drop of a judge (twice the tolerance) on 30 cases is a `fail`."""
    rng = np.random.default_rng(7)
    true = rng.choice([3, 4, 5], size=30)
    worse = true - (np.arange(30) % 5 < 2)  # 12 of 30 cases lose a point
    rows = paired("judge", noisy_judge(true, rng), noisy_judge(worse, rng))
    comparison = compare_results(make_plan(), make_results(rows))
    judge = metric(comparison, "judge")
    assert comparison.verdict is Verdict.FAIL
    assert judge.verdict is Verdict.FAIL
    assert judge.n == 30
    assert judge.delta is not None and judge.delta < -0.2
    assert judge.p_value is not None and judge.p_value < 0.05
    assert judge.ci_high is not None and judge.ci_high < 0
    assert judge.test == "sign-flip permutation (exact)"
    assert comparison.regressions == 1


def test_a_few_badly_hurt_cases_are_listed_but_do_not_fail() -> None:
    """Two cases lose three points, the mean stays within tolerance: rows listed, no `fail`."""
    base = [4.0] * 30
    head = [4.0] * 30
    head[3] = head[17] = 1.0  # mean drop 0.2 == tolerance: not larger than it
    comparison = compare_results(make_plan(), make_results(paired("judge", base, head)))
    suite = only_suite(comparison)
    assert metric(comparison, "judge").verdict is not Verdict.FAIL
    assert suite.verdict is not Verdict.FAIL
    assert [(r.case_id, r.row_class, r.delta) for r in suite.rows] == [
        ("c003", "dropped", -3.0),
        ("c017", "dropped", -3.0),
    ]
    assert comparison.regressed_cases == 2
    first = suite.rows[0]
    assert first.variables == {"question": "question c003"}
    assert first.base_output == "base answer to c003"
    assert first.head_output == "head answer to c003"


def test_the_same_results_always_give_the_same_comparison() -> None:
    """Twice, and with the results shuffled: byte-for-byte the same comparison."""
    rng = np.random.default_rng(3)
    true = rng.choice([2, 3, 4, 5], size=40)
    judged = {"base": noisy_judge(true, rng), "head": noisy_judge(np.maximum(true - 1, 1), rng)}
    rows = [
        run(
            side,
            f"c{i:03}",
            {"judge": float(judged[side][i]), "exact": float(rng.random() < 0.7)},
            repeat=repeat,
            latency=float(rng.integers(50, 500)),
        )
        for side in ("base", "head")
        for i in range(40)
        for repeat in range(2)
    ]
    plan = make_plan((JUDGE, EXACT), latency=100, cost=10)
    first = compare_results(plan, make_results(rows))
    assert compare_results(plan, make_results(rows)) == first
    for seed in range(5):
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)
        assert compare_results(plan, make_results(shuffled)) == first


def test_repeats_are_averaged_not_counted() -> None:
    """Ten cases × three repeats are n = 10 with per-case means, and a split case is flaky."""
    rows = []
    for i in range(10):
        for repeat in range(3):
            base = 1.0
            head = 0.0 if (i == 0 and repeat == 2) else 1.0
            rows.append(run("base", f"c{i}", {"exact": base}, repeat=repeat))
            rows.append(run("head", f"c{i}", {"exact": head}, repeat=repeat))
    comparison = compare_results(make_plan((EXACT,), repeats=3), make_results(rows))
    exact = metric(comparison, "exact")
    assert exact.n == 10
    assert exact.kind == "continuous"  # a mean of 2/3 is not a 0/1 outcome
    assert exact.head_mean == pytest.approx(1 - 1 / 30)
    assert exact.delta == pytest.approx(-1 / 30)
    rows_out = only_suite(comparison).rows
    assert [(r.case_id, r.row_class) for r in rows_out] == [("c0", "flaky")]
    assert rows_out[0].head == pytest.approx(2 / 3)
    assert only_suite(comparison).ops["head"].cases == 10


def test_repeats_of_a_judge_spanning_row_drop_are_flaky() -> None:
    """A judge whose repeats of one case span a full point is flagged `flaky`."""
    rows = []
    for i in range(5):
        for repeat, head in enumerate((4.0, 4.0, 3.0) if i == 2 else (4.0, 4.0, 4.0)):
            rows.append(run("base", f"c{i}", {"judge": 4.0}, repeat=repeat))
            rows.append(run("head", f"c{i}", {"judge": head}, repeat=repeat))
    suite = only_suite(compare_results(make_plan(repeats=3), make_results(rows)))
    assert [(r.case_id, r.row_class) for r in suite.rows] == [("c2", "flaky")]


# --------------------------------------------------------------------------- tests and verdicts


def test_binary_metric_uses_exact_mcnemar() -> None:
    """0/1 outcomes are tested with the one-sided exact sign test on discordant pairs."""
    base = [1.0] * 25 + [0.0] * 5
    head = [1.0] * 15 + [0.0] * 10 + [1.0] * 1 + [0.0] * 4  # 10 pass→fail, 1 fail→pass
    comparison = compare_results(make_plan((EXACT,)), make_results(paired("exact", base, head)))
    exact = metric(comparison, "exact")
    expected = stats.binomtest(10, 11, 0.5, alternative="greater").pvalue
    assert exact.kind == "binary"
    assert exact.test == "McNemar exact (sign test)"
    assert exact.p_value == pytest.approx(expected)
    assert exact.delta == pytest.approx(-9 / 30)
    assert exact.ci_low is not None and exact.ci_high is not None and exact.delta is not None
    assert exact.ci_low < exact.delta < exact.ci_high
    assert exact.verdict is Verdict.FAIL
    classes = [r.row_class for r in only_suite(comparison).rows]
    assert classes == ["pass→fail"] * 10 + ["fail→pass"]


def test_sign_flip_p_value_agrees_with_scipy_permutation_test() -> None:
    """The continuous p-value matches scipy.stats.permutation_test (sign flips, exact)."""
    base = [4.0, 4.0, 3.0, 5.0, 4.0, 3.0, 4.0, 5.0, 2.0, 4.0, 4.0, 3.0]
    head = [3.0, 4.0, 3.0, 4.0, 2.0, 3.0, 5.0, 4.0, 2.0, 3.0, 4.0, 3.0]
    comparison = compare_results(make_plan(), make_results(paired("judge", base, head)))
    deltas = np.subtract(head, base)
    exact = stats.permutation_test(
        (deltas,), np.mean, permutation_type="samples", alternative="less", n_resamples=10**6
    )
    assert metric(comparison, "judge").p_value == pytest.approx(exact.pvalue, abs=0.01)


def test_many_distinct_deltas_take_the_per_case_path() -> None:
    """With over 64 distinct deltas (a 1–100 judge) p-value and interval stay right."""
    wide = ScorerSpec(name="judge", type="judge", rubric="r", model="m", scale=100)
    rng = np.random.default_rng(5)
    base = rng.integers(1, 101, size=150).astype(float)
    head = np.clip(rng.integers(1, 101, size=150) - 8.0, 1, 100)
    plan = make_plan((wide,), {"judge": Threshold(max_drop=2.0)})
    judge = metric(compare_results(plan, make_results(paired("judge", base, head))), "judge")
    deltas = head - base
    assert len(np.unique(np.abs(deltas))) > 64
    reference = stats.permutation_test(
        (deltas,),
        np.mean,
        permutation_type="samples",
        alternative="less",
        n_resamples=20_000,
        rng=np.random.default_rng(0),
    )
    assert judge.p_value == pytest.approx(reference.pvalue, abs=0.01)
    se = float(np.std(deltas, ddof=1)) / math.sqrt(150)
    assert judge.delta is not None
    assert judge.ci_low == pytest.approx(judge.delta - 1.96 * se, abs=0.1 * se)
    assert judge.ci_high == pytest.approx(judge.delta + 1.96 * se, abs=0.1 * se)


def test_two_identical_drops_do_not_warn_or_fail() -> None:
    """Two cases that both lose a point: a degenerate sd, no warning, not significant."""
    judge = metric(
        compare_results(make_plan(), make_results(paired("judge", [4, 4], [3, 3]))), "judge"
    )
    assert (judge.n, judge.ci_low, judge.ci_high) == (2, -1.0, -1.0)
    assert judge.p_value == pytest.approx(0.25, abs=0.02)
    assert judge.verdict is Verdict.INCONCLUSIVE


def test_interval_covers_a_known_mean_delta() -> None:
    """The bootstrap interval of a large sample sits around the true mean delta."""
    rng = np.random.default_rng(11)
    base = rng.integers(1, 6, size=400).astype(float)
    head = np.clip(base + rng.choice([-1.0, 0.0, 0.0, 1.0], size=400), 1, 5)
    judge = metric(compare_results(make_plan(), make_results(paired("judge", base, head))), "judge")
    assert judge.delta == pytest.approx(float(np.mean(head - base)))
    assert judge.delta is not None
    se = float(np.std(head - base, ddof=1)) / math.sqrt(400)
    assert judge.ci_low == pytest.approx(judge.delta - 1.96 * se, abs=0.02)
    assert judge.ci_high == pytest.approx(judge.delta + 1.96 * se, abs=0.02)


def test_westfall_young_uses_the_correlation_of_the_metrics() -> None:
    """Seven drops (p = 0.0078) fail alone; Holm would double p beside a second gating metric,
    Westfall–Young does not when that metric moves with the first, and does when it is
    independent of it."""
    base = [1.0] * 30
    head = [0.0] * 7 + [1.0] * 23  # seven pass→fail: one-sided p = 0.5**7
    alone = compare_results(make_plan((EXACT,)), make_results(paired("exact", base, head)))
    assert metric(alone, "exact").p_value == pytest.approx(0.5**7)
    assert metric(alone, "exact").verdict is Verdict.FAIL

    other = ScorerSpec(name="has_answer", type="contains", value="x")
    same = [
        run(r.side, r.case_id, {**r.scores, "has_answer": r.scores["exact"]})
        for r in paired("exact", base, head)
    ]
    both = compare_results(make_plan((EXACT, other)), make_results(same))
    assert metric(both, "exact").p_value == pytest.approx(0.5**7, rel=0.05)
    assert metric(both, "exact").verdict is Verdict.FAIL

    elsewhere = [1.0] * 23 + [0.0] * 7  # the other metric drops on seven other cases
    rows = [
        run(r.side, r.case_id, {**r.scores, "has_answer": elsewhere[i % 30] if i >= 30 else 1.0})
        for i, r in enumerate(paired("exact", base, head))
    ]
    apart = compare_results(make_plan((EXACT, other)), make_results(rows))
    p = metric(apart, "exact").p_value
    assert p is not None and 0.5**7 * 1.5 < p <= 2 * 0.5**7
    assert apart.verdict is Verdict.INCONCLUSIVE


def test_westfall_young_on_known_joint_distributions() -> None:
    """Identical columns need no adjustment; independent ones get Šidák's 1 − (1 − p)²."""
    from gate.signflip import westfall_young

    rng = np.random.default_rng(0)
    u = rng.random(200_000)
    together = westfall_young([0.01, 0.01], np.column_stack([u, u]), u.size)
    assert together == pytest.approx([0.01, 0.01], rel=0.05)
    v = rng.random(200_000)
    apart = westfall_young([0.01, 0.5], np.column_stack([u, v]), u.size)
    assert apart[0] == pytest.approx(1 - 0.99**2, rel=0.05)
    assert apart[1] == pytest.approx(0.5, rel=0.02)
    assert westfall_young([], np.zeros((0, 0)), 0) == []
    # with exact marginals only the part beyond p_j is estimated: none when the columns agree
    assert westfall_young([0.01, 0.01], np.column_stack([u, u]), u.size, [True, True]) == [
        0.01,
        0.01,
    ]
    known = westfall_young([0.01, 0.5], np.column_stack([u, v]), u.size, [True, True])
    assert known[0] == pytest.approx(1 - 0.99**2, rel=0.05)


def test_informational_metrics_never_gate() -> None:
    """A collapsed informational metric is shown as `fail` but the suite passes."""
    info = ScorerSpec(name="style", type="judge", rubric="r", model="m", informational=True)
    rows = []
    for i in range(30):
        rows.append(run("base", f"c{i}", {"judge": 4.0, "style": 5.0}))
        rows.append(run("head", f"c{i}", {"judge": 4.0, "style": 1.0}))
    comparison = compare_results(make_plan((JUDGE, info)), make_results(rows))
    style = metric(comparison, "style")
    assert style.gating is False
    assert style.verdict is Verdict.FAIL
    assert comparison.verdict is Verdict.PASS
    assert comparison.regressions == 0


def test_floor_fails_a_head_mean_below_min() -> None:
    """An unchanged metric still fails when the head mean is under its configured floor."""
    base = head = [3.0, 4.0] * 15  # mean 3.5, delta 0
    plan = make_plan(thresholds={"judge": Threshold(max_drop=0.2, min=3.6)})
    judge = metric(compare_results(plan, make_results(paired("judge", base, head))), "judge")
    assert judge.verdict is Verdict.FAIL
    assert judge.floor == 3.6
    assert "below the floor 3.6" in judge.note
    ok_plan = make_plan(thresholds={"judge": Threshold(max_drop=0.2, min=3.5)})
    ok = metric(compare_results(ok_plan, make_results(paired("judge", base, head))), "judge")
    assert ok.verdict is Verdict.PASS


def test_all_zero_deltas_pass_with_a_zero_interval() -> None:
    """Identical scores on every case pass with the interval [0, 0]."""
    base = [4.0, 5.0, 3.0]
    judge = metric(compare_results(make_plan(), make_results(paired("judge", base, base))), "judge")
    assert judge.verdict is Verdict.PASS
    assert (judge.ci_low, judge.ci_high, judge.delta, judge.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert judge.mde is not None and judge.mde > 0.2  # three cases see little


def test_no_paired_case_is_inconclusive() -> None:
    """With n = 0 (every case new or removed) the metric is inconclusive and says why."""
    rows = [run("base", "old", {"judge": 4.0}), run("head", "fresh", {"judge": 4.0})]
    comparison = compare_results(make_plan(), make_results(rows))
    judge = metric(comparison, "judge")
    assert judge.n == 0
    assert judge.verdict is Verdict.INCONCLUSIVE
    assert "no case was scored on both sides" in judge.note
    assert (judge.delta, judge.ci_low, judge.p_value, judge.mde) == (None, None, None, None)
    assert comparison.verdict is Verdict.INCONCLUSIVE


def test_one_paired_case_is_inconclusive_without_warnings() -> None:
    """A single paired case with a drop gives no interval and no verdict, and no warning."""
    judge = metric(compare_results(make_plan(), make_results(paired("judge", [5], [3]))), "judge")
    assert judge.n == 1
    assert judge.verdict is Verdict.INCONCLUSIVE
    assert judge.ci_low is None
    assert judge.p_value == pytest.approx(0.5, abs=0.02)


def test_mde_follows_the_normal_approximation() -> None:
    """mde = z·sd/√n with z = z_(1−rate) + z_0.95, widened by 1/√(1 − z²/n) (the sign-flip
    statistic counts the drop itself as spread), and sd = √0.1 when the sd is 0."""
    base = [4.0, 3.0, 4.0, 5.0] * 10
    head = [3.0, 3.0, 5.0, 5.0] * 10
    judge = metric(compare_results(make_plan(), make_results(paired("judge", base, head))), "judge")
    z = stats.norm.ppf(1 - 0.01) + stats.norm.ppf(0.95)
    widen = 1 / math.sqrt(1 - z * z / 40)
    sd = float(np.std(np.subtract(head, base), ddof=1))
    assert judge.mde == pytest.approx(z * sd / math.sqrt(40) * widen)
    same = metric(compare_results(make_plan(), make_results(paired("judge", base, base))), "judge")
    assert same.mde == pytest.approx(z * math.sqrt(0.1) / math.sqrt(40) * widen)


def test_missing_max_drop_defaults_to_five_percent_of_the_range() -> None:
    """A metric with only a floor gets a tolerance of 5 % of its range, and a note."""
    plan = make_plan(thresholds={"judge": Threshold(min=1.0)})
    judge = metric(compare_results(plan, make_results(paired("judge", [4] * 5, [4] * 5))), "judge")
    assert judge.tolerance == pytest.approx(0.2)
    assert "5 % of the range" in judge.note


# --------------------------------------------------------------------------- rows and pairing


def test_new_and_removed_cases_are_excluded_from_the_test() -> None:
    """Cases on one side only are `new`/`removed` rows and do not count in n."""
    rows = paired("judge", [4.0] * 10, [4.0] * 10)
    rows += [run("base", "zz-old", {"judge": 5.0}), run("head", "aa-new", {"judge": 1.0})]
    comparison = compare_results(make_plan(), make_results(rows))
    judge = metric(comparison, "judge")
    assert judge.n == 10
    assert judge.delta == 0.0
    assert judge.verdict is Verdict.PASS
    suite = only_suite(comparison)
    assert [(r.case_id, r.row_class, r.base, r.head) for r in suite.rows] == [
        ("aa-new", "new", None, 1.0),
        ("zz-old", "removed", 5.0, None),
    ]
    assert suite.ops["base"].cases == suite.ops["head"].cases == 11


def test_rows_are_sorted_by_effect_size() -> None:
    """Moved cases by effect size whichever way they moved, then flaky, error, new, removed."""
    rows = paired("judge", [5, 5, 4, 2, 4, 4], [4, 1, 2, 4, 4, 4])
    rows += [
        run("base", "c006", {"judge": 4.0}),
        run("head", "c006", {"judge": None}),
        run("head", "c007", {"judge": 3.0}),
        run("base", "c008", {"judge": 3.0}),
    ]
    rows += [run("base", "c004", {"judge": 4.0}, repeat=1)]
    rows += [run("head", "c004", {"judge": 3.0}, repeat=1)]
    suite = only_suite(compare_results(make_plan(), make_results(rows)))
    assert [(r.case_id, r.row_class) for r in suite.rows] == [
        ("c001", "dropped"),
        ("c002", "dropped"),
        ("c003", "improved"),
        ("c000", "dropped"),
        ("c004", "flaky"),
        ("c006", "error"),
        ("c007", "new"),
        ("c008", "removed"),
    ]


def test_errored_cases_are_excluded_and_counted() -> None:
    """A case that failed to generate or to score is an `error` row outside the test."""
    rows = paired("judge", [4.0] * 40, [4.0] * 40)
    rows[40] = run("head", "c000", {}, error="timeout")
    rows[41] = run("head", "c001", {"judge": None})
    comparison = compare_results(make_plan(), make_results(rows))
    judge = metric(comparison, "judge")
    assert judge.n == 38
    assert "2 cases excluded for errors" in judge.note
    suite = only_suite(comparison)
    assert [(r.case_id, r.row_class) for r in suite.rows] == [
        ("c000", "error"),
        ("c001", "error"),
    ]
    assert suite.error_rate == {"base": 0.0, "head": 2 / 40}
    assert suite.ops["head"].errors == 2
    assert suite.verdict is Verdict.PASS  # 5 % is allowed


def test_error_rate_above_the_limit_is_an_error() -> None:
    """More failed runs than max_error_rate allows makes the suite `error`, with counts."""
    rows = paired("judge", [4.0] * 30, [4.0] * 30)
    for i in range(30, 33):
        rows[i] = run("head", rows[i].case_id, {}, error="HTTP 500")
    comparison = compare_results(make_plan(), make_results(rows))
    suite = only_suite(comparison)
    assert suite.verdict is Verdict.ERROR
    assert comparison.verdict is Verdict.ERROR
    assert suite.note == "error rate above 5 %: head 3 of 30 runs (10.0 %)"


def test_planned_runs_missing_from_the_results_count_as_errors() -> None:
    """A run the plan asked for but the results lack is a failed run (fail closed)."""
    from dataclasses import replace

    from gate.models import CaseRun, ChatRequest, Message

    request = ChatRequest("openai", "http://127.0.0.1:1", "m", (Message("user", "hi"),))
    plan = make_plan()
    runs = tuple(
        CaseRun("bot", side, f"c{i:03}", 0, {}, request)
        for side in ("base", "head")
        for i in range(20)
    )
    plan = replace(plan, suites=(replace(plan.suites[0], runs=runs),))
    rows = paired("judge", [4.0] * 20, [4.0] * 18)
    suite = only_suite(compare_results(plan, make_results(rows)))
    assert suite.error_rate["head"] == pytest.approx(0.1)
    assert suite.verdict is Verdict.ERROR


def test_an_incomplete_run_is_an_error() -> None:
    """Results of a run that stopped early are `error`, however good they look."""
    rows = paired("judge", [4.0] * 30, [5.0] * 30)
    results = Results(
        suites={"bot": tuple(rows)}, stats={}, complete=False, stop_reason="budget exceeded"
    )
    comparison = compare_results(make_plan(), results)
    assert comparison.verdict is Verdict.ERROR
    assert only_suite(comparison).verdict is Verdict.ERROR
    assert only_suite(comparison).note == "the evaluation did not complete: budget exceeded"
    assert metric(comparison, "judge").verdict is Verdict.PASS  # still shown


def test_no_suites_is_skipped() -> None:
    """A plan without suites compares to `skipped` (and to `error` if the run was cut short)."""
    empty = Plan(suites=(), confidence=0.95, max_error_rate=0.05)
    assert compare_results(empty, Results(suites={}, stats={})).verdict is Verdict.SKIPPED
    cut = Results(suites={}, stats={}, complete=False)
    assert compare_results(empty, cut).verdict is Verdict.ERROR


# --------------------------------------------------------------------------- ops


def _ops_rows(
    base_latency: float, head_latency: float, base_cost: float | None, head_cost: float | None
) -> list[CaseResult]:
    rows = []
    for i in range(20):
        rows.append(run("base", f"c{i}", {"judge": 4.0}, latency=base_latency, cost=base_cost))
        rows.append(run("head", f"c{i}", {"judge": 4.0}, latency=head_latency, cost=head_cost))
    return rows


def test_latency_and_cost_checks_fail_above_their_limits() -> None:
    """p95 up by 300 ms (> 250) and cost up 20 % (> 15 %) both fail the suite."""
    plan = make_plan(latency=250, cost=15)
    comparison = compare_results(plan, make_results(_ops_rows(100, 400, 0.010, 0.012)))
    suite = only_suite(comparison)
    latency, cost = suite.checks
    assert (latency.name, latency.limit, latency.verdict) == ("latency_p95_ms", "+250 ms", "fail")
    assert (latency.base, latency.head) == (100.0, 400.0)
    assert (cost.name, cost.limit, cost.verdict) == ("cost_usd", "+15 %", "fail")
    assert cost.head == pytest.approx(0.012)
    assert suite.ops["head"].latency_p50_ms == 400.0
    assert suite.ops["head"].cost_per_case_usd == pytest.approx(0.012)
    assert suite.verdict is Verdict.FAIL
    assert comparison.regressions == 0  # ops checks are not metric regressions


def test_ops_checks_pass_within_limits_and_are_absent_when_unset() -> None:
    """Within limits both checks pass; without a configured limit there is no check."""
    within = compare_results(
        make_plan(latency=250, cost=15), make_results(_ops_rows(100, 300, 0.010, 0.0114))
    )
    assert [c.verdict for c in only_suite(within).checks] == [Verdict.PASS, Verdict.PASS]
    unset = compare_results(make_plan(), make_results(_ops_rows(100, 5000, 0.01, 1.0)))
    assert only_suite(unset).checks == ()
    assert unset.verdict is Verdict.PASS


def test_unknown_cost_skips_the_cost_check() -> None:
    """A model without a known price shows unknown cost and skips its cost check."""
    comparison = compare_results(make_plan(cost=15), make_results(_ops_rows(100, 100, 0.01, None)))
    suite = only_suite(comparison)
    (cost,) = suite.checks
    assert cost.verdict is Verdict.SKIPPED
    assert cost.note == "model has no known price"
    assert suite.ops["head"].cost_per_case_usd is None
    assert suite.verdict is Verdict.PASS


def test_latency_percentiles_ignore_failed_calls() -> None:
    """Latency p50/p95 use successful calls only."""
    rows = [run("base", f"c{i}", {"judge": 4.0}, latency=float(10 * i)) for i in range(1, 21)]
    rows.append(run("base", "c99", {}, error="timeout", latency=99_999.0))
    suite = only_suite(compare_results(make_plan(max_error_rate=1.0), make_results(rows)))
    ops = suite.ops["base"]
    assert ops.latency_p50_ms == pytest.approx(np.percentile(np.arange(10, 201, 10), 50))
    assert ops.latency_p95_ms == pytest.approx(np.percentile(np.arange(10, 201, 10), 95))
    assert ops.errors == 1
    assert suite.ops["head"].latency_p95_ms is None


def test_a_p_value_that_underflows_to_zero_still_fails() -> None:
    """3,000 pass→fail cases and no gain: p underflows to 0.0, which is significant, not
    untested (it once fell through `p or 1.0` and read as inconclusive)."""
    base, head = [1.0] * 3_000, [0.0] * 3_000
    comparison = compare_results(make_plan((EXACT,)), make_results(paired("exact", base, head)))
    exact = metric(comparison, "exact")
    assert exact.p_value == 0.0
    assert exact.verdict is Verdict.FAIL
    assert comparison.verdict is Verdict.FAIL


@pytest.mark.parametrize(("drops", "gains"), [(1, 0), (3, 1), (8, 1), (5, 5), (0, 4), (20, 3)])
def test_binary_p_value_is_scipys_exact_binomial_test(drops: int, gains: int) -> None:
    """The McNemar p-value is exactly scipy.stats.binomtest on the discordant pairs."""
    ties = 10
    base = [1.0] * drops + [0.0] * gains + [1.0] * ties
    head = [0.0] * drops + [1.0] * gains + [1.0] * ties
    got = metric(compare_results(make_plan((EXACT,)), make_results(paired("exact", base, head))),
                 "exact").p_value  # fmt: skip
    want = stats.binomtest(drops, drops + gains, 0.5, alternative="greater").pvalue
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
