"""The evaluation engine through the in-memory model: cache, dedupe, errors, scorers; no HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gate.cache import ResponseCache
from gate.errors import ProviderUnavailable
from gate.evaluate import evaluate_plan
from gate.models import CaseRun, Message, Plan, Results, ScorerSpec, SuitePlan
from gate.targets.base import BadResponse, RequestRejected
from gate.targets.registry import target_for
from tests.fakes.memory_model import MemoryModel

CONTAINS = ScorerSpec(name="contains", type="contains", value="{{ expected }}")
CASES = [{"id": "a", "q": "1+1", "expected": "2"}, {"id": "b", "q": "2+2", "expected": "4"}]


def make_plan(
    base_prompt: str = "Q: {q}",
    head_prompt: str = "Q: {q}",
    scorers: tuple[ScorerSpec, ...] = (CONTAINS,),
) -> Plan:
    kind = target_for("openai")
    runs = []
    for side, prompt in (("base", base_prompt), ("head", head_prompt)):
        for case in CASES:
            request = kind.request(
                base_url="http://model.invalid/v1",
                model="m",
                messages=(Message("user", prompt.format(**case)),),
                params=(("temperature", 0),),
                tools=None,
                repeat=0,
            )
            runs.append(CaseRun("s", side, case["id"], 0, dict(case), request))  # type: ignore[arg-type]
    suite = SuitePlan(
        name="s",
        runs=tuple(runs),
        scorers=scorers,
        thresholds={},
        latency_p95_max_increase_ms=None,
        cost_max_increase_pct=None,
        repeats=1,
        judge_provider="openai",
        judge_base_url="http://model.invalid/v1",
    )
    return Plan(suites=(suite,), confidence=0.95, max_error_rate=0.05)


def run(plan: Plan, model: MemoryModel, cache: ResponseCache | None = None) -> Results:
    return asyncio.run(evaluate_plan(plan, model, cache, concurrency=1))


def test_identical_sides_are_sent_once() -> None:
    """Base and head asking the same thing is one call per case, and both sides are scored."""
    model = MemoryModel("It is 2.", "It is 5.")
    results = run(make_plan(), model)
    assert [r.messages[0].content for r in model.history] == ["Q: 1+1", "Q: 2+2"]
    rows = {(r.side, r.case_id): r.scores["contains"] for r in results.suites["s"]}
    assert rows == {("base", "a"): 1.0, ("base", "b"): 0.0, ("head", "a"): 1.0, ("head", "b"): 0.0}
    assert results.stats["base"].calls == 2 and results.stats["head"].calls == 0


def test_a_changed_prompt_asks_again_only_for_the_changed_side() -> None:
    """A head prompt that differs is its own request: four calls, each answered in plan order."""
    model = MemoryModel("2", "4", "two", "four")
    results = run(make_plan(head_prompt="Question: {q}"), model)
    assert len(model.history) == 4
    head = {r.case_id: r.scores["contains"] for r in results.suites["s"] if r.side == "head"}
    assert head == {"a": 0.0, "b": 0.0}


def test_the_cache_answers_a_second_run(tmp_path: Path) -> None:
    """What one run got is cached: the same plan again asks the model nothing."""
    cache = ResponseCache(tmp_path / "cache")
    first = run(make_plan(), MemoryModel("It is 2.", "It is 4."), cache)
    cache = ResponseCache(tmp_path / "cache")
    quiet = MemoryModel()
    second = run(make_plan(), quiet, cache)
    assert quiet.history == []
    assert all(r.cached for r in second.suites["s"])
    assert [r.output for r in second.suites["s"]] == [r.output for r in first.suites["s"]]


def test_failed_calls_are_that_cases_error() -> None:
    """A provider error fails its case (with the message), not the run; the rest is scored."""
    model = MemoryModel(ProviderUnavailable("model.invalid: 503"), "It is 4.")
    results = run(make_plan(), model)
    errors = {r.case_id: r.error for r in results.suites["s"] if r.side == "base"}
    assert errors == {"a": "model.invalid: 503", "b": None}
    assert results.complete and results.stats["base"].failed == 1

    rejected = MemoryModel(RequestRejected("unknown model 'm'"), BadResponse("no choices"))
    results = run(make_plan(), rejected)
    assert {r.error for r in results.suites["s"]} == {"unknown model 'm'", "no choices"}


def test_a_registered_scorer_scores_through_the_engine() -> None:
    """A scorer added as a module and a registry line (contains_any, negated) needs no engine
    change: the engine renders its values, scores, and keeps its reason."""
    refuses = ScorerSpec(
        name="no_refusal", type="contains_any", values=("sorry", "cannot"), negate=True
    )
    model = MemoryModel("It is 2.", "Sorry, I cannot.")
    results = run(make_plan(scorers=(refuses,)), model)
    head = {r.case_id: r for r in results.suites["s"] if r.side == "head"}
    assert head["a"].scores == {"no_refusal": 1.0}
    assert head["b"].scores == {"no_refusal": 0.0}
    assert head["b"].reasons["no_refusal"].endswith("and `not: true` asks it not to")
