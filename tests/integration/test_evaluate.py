"""The evaluation engine end to end: the OpenAI adapter, a real cache dir, a fake server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from gate.cache import ResponseCache
from gate.errors import BudgetExceeded, CacheMiss, TemplateError
from gate.evaluate import Progress, evaluate, evaluate_plan
from gate.models import (
    SIDES,
    CaseRun,
    ChatRequest,
    Message,
    Plan,
    Results,
    ScorerSpec,
    SuitePlan,
)
from gate.targets.openai_http import OpenAIProvider, RetryPolicy, make_http_client
from tests.fakes.openai_server import FakeOpenAI

KEY = "sk-test-5be1d0c4-keep-out-of-caches"
MODEL = "gpt-4o-mini"
JUDGE_MODEL = "judge-model"
FAST = RetryPolicy(
    attempts=3,
    timeout_s=10,
    wait_initial_s=0.001,
    wait_max_s=0.01,
    wait_jitter_s=0.001,
    retry_after_max_s=1,
    retry_after_jitter_s=0,
)
CASES = [
    {"id": f"c{i}", "question": f"What is {i} + {i}?", "expected": str(2 * i)} for i in range(5)
]
CONTAINS = ScorerSpec(name="contains", type="contains", value="{{ expected }}")


def answer(body: dict[str, Any]) -> str:
    """The model answers sums; the judge gives 4 unless the rubric asks for a riddle."""
    if body["model"] == JUDGE_MODEL:
        if "riddle" in body["messages"][0]["content"]:
            return "I cannot rate this."
        return '{"score": 4, "reason": "correct"}'
    numbers = [int(n) for n in re.findall(r"\d+", body["messages"][-1]["content"])]
    return f"The answer is {sum(numbers)}."


def make_plan(
    url: str,
    *,
    base_prompt: str = "Q: {question}",
    head_prompt: str = "Q: {question}",
    cases: list[dict[str, Any]] = CASES,
    repeats: int = 1,
    scorers: tuple[ScorerSpec, ...] = (CONTAINS,),
    max_tokens: int = 50,
    model: str = MODEL,
) -> Plan:
    runs = []
    for side, prompt in (("base", base_prompt), ("head", head_prompt)):
        for case in cases:
            for repeat in range(repeats):
                request = ChatRequest(
                    provider="openai",
                    base_url=url,
                    model=model,
                    messages=(
                        Message("system", "Answer briefly."),
                        Message("user", prompt.format(**case)),
                    ),
                    params=(("max_tokens", max_tokens), ("temperature", 0)),
                    repeat=repeat,
                )
                runs.append(CaseRun("math", side, case["id"], repeat, dict(case), request))  # type: ignore[arg-type]
    suite = SuitePlan(
        name="math",
        runs=tuple(runs),
        scorers=scorers,
        thresholds={},
        latency_p95_max_increase_ms=None,
        cost_max_increase_pct=None,
        repeats=repeats,
        judge_provider="openai",
        judge_base_url=url,
    )
    return Plan(suites=(suite,), confidence=0.95, max_error_rate=0.05)


def judge(rubric: str) -> ScorerSpec:
    return ScorerSpec(name="helpful", type="judge", rubric=rubric, model=JUDGE_MODEL, scale=5)


def run(
    server: FakeOpenAI,
    plan: Plan,
    cache: ResponseCache | None,
    *,
    concurrency: int = 4,
    retry: RetryPolicy = FAST,
    **options: Any,
) -> Results:
    async def main() -> Results:
        async with make_http_client(concurrency, 2.0) as client:
            provider = OpenAIProvider(KEY, server.url, client, retry=retry)
            return await evaluate_plan(plan, provider, cache, concurrency=concurrency, **options)

    return asyncio.run(main())


def rows(results: Results) -> list[Any]:
    return [row for suite in results.suites.values() for row in suite]


def stored(directory: Path) -> list[str]:
    """The keys of every entry in the cache under `directory`."""
    return [key for key, _request, _completion in ResponseCache(directory).entries()]


def test_identical_base_and_head_requests_are_sent_once(tmp_path: Path) -> None:
    """When the change leaves a case's request as it was, one call serves both sides."""
    with FakeOpenAI(responder=answer) as server:
        results = run(server, make_plan(server.url), ResponseCache(tmp_path))
    assert len(server.answered) == len(CASES)
    assert len(rows(results)) == 2 * len(CASES)
    assert all(row.scores == {"contains": 1.0} for row in rows(results))
    # a shared call is the base side's; the head side is served by it, so the sides add up
    assert (results.stats["base"].calls, results.stats["base"].cache_hits) == (len(CASES), 0)
    assert (results.stats["head"].calls, results.stats["head"].cache_hits) == (0, len(CASES))
    assert results.complete


def test_changed_prompt_sends_both_sides(tmp_path: Path) -> None:
    """A head prompt that differs makes every case one request per side."""
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, head_prompt="Question: {question}")
        run(server, plan, ResponseCache(tmp_path))
    assert len(server.answered) == 2 * len(CASES)


def test_a_second_run_with_the_same_cache_sends_nothing(tmp_path: Path) -> None:
    """A re-run is served from the cache, marks rows cached and keeps the recorded latency."""
    with FakeOpenAI(responder=answer, latency_s=0.01) as server:
        plan = make_plan(server.url, head_prompt="Question: {question}")
        first = run(server, plan, ResponseCache(tmp_path))
        calls = server.calls
        second = run(server, plan, ResponseCache(tmp_path))
    assert server.calls == calls
    assert all(row.cached for row in rows(second))
    assert [r.latency_ms for r in rows(second)] == [r.latency_ms for r in rows(first)]
    assert [r.scores for r in rows(second)] == [r.scores for r in rows(first)]
    assert [r.cost_usd for r in rows(second)] == [r.cost_usd for r in rows(first)]
    for side in SIDES:
        assert second.stats[side].calls == 0
        assert second.stats[side].cache_hits == len(CASES)
        assert second.stats[side].cost_usd == 0.0


def test_repeats_are_distinct_cache_entries(tmp_path: Path) -> None:
    """Each repeat of a case is its own request and its own cache entry."""
    with FakeOpenAI(responder=answer) as server:
        run(server, make_plan(server.url, cases=CASES[:2], repeats=3), ResponseCache(tmp_path))
    assert len(server.answered) == 2 * 3
    assert len(stored(tmp_path)) == 2 * 3


def test_rubric_change_rejudges_without_regenerating(tmp_path: Path) -> None:
    """A new rubric sends judge calls for the cached outputs and no generation calls."""
    with FakeOpenAI(responder=answer) as server:
        before = make_plan(server.url, scorers=(CONTAINS, judge("Is it correct?")))
        first = run(server, before, ResponseCache(tmp_path))
        assert len(server.answered_for(MODEL)) == len(CASES)
        assert len(server.answered_for(JUDGE_MODEL)) == len(CASES)  # same output → judged once

        after = make_plan(server.url, scorers=(CONTAINS, judge("Is it correct and polite?")))
        second = run(server, after, ResponseCache(tmp_path))
    assert len(server.answered_for(MODEL)) == len(CASES)
    assert len(server.answered_for(JUDGE_MODEL)) == 2 * len(CASES)
    assert all(row.scores["helpful"] == 4.0 for row in rows(first) + rows(second))
    assert all(row.cached for row in rows(second))


def test_the_judges_reason_and_what_a_check_missed_are_kept(tmp_path: Path) -> None:
    """Each case keeps the judge's reason and, for a failed `contains`, what was missing;
    a second run reads the same reasons from the cache."""
    missing = ScorerSpec(name="says", type="contains", value="exactly {{ expected }}")
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, scorers=(CONTAINS, missing, judge("Is it correct?")))
        first = run(server, plan, ResponseCache(tmp_path))
        second = run(server, plan, ResponseCache(tmp_path))
    for row in rows(first) + rows(second):
        expected = row.variables["expected"]
        assert row.reasons == {"says": f"missing “exactly {expected}”", "helpful": "correct"}


def test_unparsable_judge_answer_is_a_scorer_error_not_a_crash(tmp_path: Path) -> None:
    """A judge answer without a score gives that metric None and a message, and the run goes on."""
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, scorers=(CONTAINS, judge("Answer with a riddle.")))
        results = run(server, plan, ResponseCache(tmp_path))
    assert results.complete
    for row in rows(results):
        assert row.scores == {"contains": 1.0, "helpful": None}
        assert "holds no score" in row.score_errors["helpful"]


def test_replay_mode_serves_from_cache_and_names_the_missing(tmp_path: Path) -> None:
    """Replay needs no key once recorded; a request the cache lacks raises CacheMiss, counted."""
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url)
        run(server, plan, ResponseCache(tmp_path))
        calls = server.calls
        replayed = evaluate(
            plan,
            ResponseCache(tmp_path),
            api_key=None,
            base_url=server.url,
            concurrency=2,
            replay=True,
        )
        assert len(rows(replayed)) == 2 * len(CASES)

        changed = make_plan(server.url, head_prompt="Question: {question}")
        with pytest.raises(CacheMiss) as caught:
            run(server, changed, ResponseCache(tmp_path), replay=True)
    assert server.calls == calls
    message = str(caught.value)
    assert f"{len(CASES)} requests are not in the cache" in message
    assert "API key" in message


def test_budget_estimate_above_the_limit_stops_before_any_call(tmp_path: Path) -> None:
    """An estimate above max-cost-usd raises BudgetExceeded and sends nothing."""
    prices = {MODEL: (1000.0, 1000.0)}  # $0.001 a token
    expected = r"estimated at \$0\.\d+ \(spent \$0\.00\)"
    with FakeOpenAI(responder=answer) as server, pytest.raises(BudgetExceeded, match=expected):
        run(
            server,
            make_plan(server.url),
            ResponseCache(tmp_path),
            max_cost_usd=0.01,
            prices=prices,
        )
    assert server.calls == 0


def test_budget_stops_the_run_before_spending_past_the_limit(tmp_path: Path) -> None:
    """When real usage outgrows the estimate, no call starts once the next would pass the limit."""
    # max_tokens=1 makes each call look like $0.10; the answers cost $0.40 (4 words).
    prices = {MODEL: (0.0, 100_000.0)}
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, head_prompt="Question: {question}", max_tokens=1)
        with pytest.raises(BudgetExceeded) as caught:
            run(
                server,
                plan,
                ResponseCache(tmp_path),
                concurrency=1,
                max_cost_usd=1.0,
                prices=prices,
            )
    # $0 + 0.1 → call; $0.4 + 0.1 → call; $0.8 + 0.1 → call; $1.2 + 0.1 > $1 → stop
    assert len(server.answered) == 3
    assert "spent $1.2000" in str(caught.value)
    assert len(stored(tmp_path)) == 3  # what was paid for is kept


def test_flaky_server_still_gives_complete_results(tmp_path: Path) -> None:
    """Every 5th call a 429 and every 7th a 500: retries make the results whole."""
    cases = [{"id": f"c{i}", "question": f"{i} + 1", "expected": str(i + 1)} for i in range(40)]
    with FakeOpenAI(responder=answer, rate_limit_every=5, error_every=7) as server:
        plan = make_plan(server.url, cases=cases, head_prompt="Question: {question}")
        patient = RetryPolicy(
            attempts=10, wait_initial_s=0.001, wait_max_s=0.01, wait_jitter_s=0.001
        )
        results = run(server, plan, ResponseCache(tmp_path), concurrency=8, retry=patient)
    assert results.complete
    assert [row for row in rows(results) if row.error or row.scores != {"contains": 1.0}] == []
    assert {429, 500} <= set(server.statuses)
    assert results.stats["base"].failed == results.stats["head"].failed == 0


def test_a_failed_generation_is_counted_and_the_run_continues(tmp_path: Path) -> None:
    """A call that fails for good sets that row's error; the other rows are scored."""
    with FakeOpenAI(responder=answer, script=["malformed"]) as server:
        results = run(server, make_plan(server.url), ResponseCache(tmp_path), concurrency=1)
    errors = [row for row in rows(results) if row.error]
    assert len(errors) == 2  # the shared request of one case fails for both sides
    assert "not valid JSON" in (errors[0].error or "")
    assert errors[0].scores == {} and errors[0].output is None
    assert results.complete
    assert (results.stats["base"].failed, results.stats["head"].failed) == (1, 0)  # sent once


def test_provider_down_stops_early_with_the_count(tmp_path: Path) -> None:
    """A provider that keeps failing ends the run early, incomplete, naming the failed calls."""
    cases = [{"id": f"c{i}", "question": f"{i} + 1", "expected": "x"} for i in range(30)]
    with FakeOpenAI(down=True) as server:
        plan = make_plan(server.url, cases=cases, head_prompt="Question: {question}")
        results = run(server, plan, ResponseCache(tmp_path), max_consecutive_failures=3)
    assert not results.complete
    assert results.stop_reason is not None
    failed = results.stats["base"].failed + results.stats["head"].failed
    assert re.search(rf"\b{failed} calls failed after retries", results.stop_reason)
    assert failed < len(cases)
    assert server.calls <= failed * FAST.attempts
    assert all(row.error for row in rows(results))
    assert any((row.error or "").startswith("not run:") for row in rows(results))
    assert stored(tmp_path) == []


def test_missing_column_fails_before_any_call(tmp_path: Path) -> None:
    """A scorer template that needs an absent column is a TemplateError before spending."""
    scorer = ScorerSpec(name="exact", type="exact", value="{{ answer }}")
    expected = "suite 'math', head case 'c0': scorer 'exact'"  # the PR's side first
    with FakeOpenAI(responder=answer) as server, pytest.raises(TemplateError, match=expected):
        run(server, make_plan(server.url, scorers=(scorer,)), ResponseCache(tmp_path))
    assert server.calls == 0


def test_costs_tokens_and_progress_are_reported(tmp_path: Path) -> None:
    """Rows carry their cost, stats add up tokens and dollars, progress ends at done == total."""
    reports: list[Progress] = []
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, head_prompt="Question: {question}")
        results = run(
            server,
            plan,
            ResponseCache(tmp_path),
            prices={MODEL: (1.0, 2.0)},
            progress=reports.append,
            progress_interval_s=0.001,
        )
    row = rows(results)[0]
    assert row.cost_usd == pytest.approx(
        (row.usage.input_tokens * 1.0 + row.usage.output_tokens * 2.0) / 1e6
    )
    base = results.stats["base"]
    assert base.input_tokens == sum(r.usage.input_tokens for r in results.suites["math"][:5])
    assert base.cost_usd == pytest.approx(sum(r.cost_usd or 0 for r in results.suites["math"][:5]))
    assert reports[-1].done == reports[-1].total == 2 * len(CASES)
    assert reports[-1].errors == 0


def test_unknown_model_price_leaves_cost_unknown(tmp_path: Path) -> None:
    """A model missing from the price table has cost None on rows and in the stats."""
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, model="my-gateway-model")
        results = run(server, plan, ResponseCache(tmp_path))
    assert all(row.cost_usd is None for row in rows(results))
    assert results.stats["base"].cost_usd is None  # the shared calls count for the base side
    assert results.stats["base"].output_tokens > 0


def test_dated_snapshots_use_their_familys_price_and_overrides_win(tmp_path: Path) -> None:
    """gpt-4o-mini-2024-07-18 costs what gpt-4o-mini costs, unless `prices:` says otherwise."""
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, model="gpt-4o-mini-2024-07-18")
        listed = run(server, plan, ResponseCache(tmp_path))
        overridden = run(
            server, plan, ResponseCache(tmp_path), prices={"gpt-4o-mini-2024-07-18": (0.0, 0.0)}
        )
    row = rows(listed)[0]
    assert row.cost_usd == pytest.approx(
        (row.usage.input_tokens * 0.15 + row.usage.output_tokens * 0.60) / 1e6
    )
    assert all(r.cost_usd == 0.0 for r in rows(overridden))


def test_the_key_never_reaches_the_cache(tmp_path: Path) -> None:
    """After a run with judge calls, no cache file contains the API key."""
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, scorers=(CONTAINS, judge("Is it correct?")))
        run(server, plan, ResponseCache(tmp_path))
    assert len(stored(tmp_path)) == 2 * len(CASES)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files
    assert not [f for f in files if KEY.encode() in f.read_bytes()]


def test_calls_waiting_out_a_rate_limit_show_in_the_progress(tmp_path: Path) -> None:
    """While a call backs off after a 429 (no Retry-After), the progress says so."""
    from gate.progress import progress_line
    from gate.throttle import Throttle

    patient = RetryPolicy(attempts=2, wait_initial_s=0.2, wait_max_s=0.2, wait_jitter_s=0)
    seen: list[Progress] = []
    with FakeOpenAI(responder=answer, script=["429"] * 3, retry_after=None) as server:

        async def main() -> Results:
            throttle = Throttle(2)
            async with make_http_client(2, 2.0) as client:
                provider = OpenAIProvider(KEY, server.url, client, retry=patient, throttle=throttle)
                return await evaluate_plan(
                    make_plan(server.url), provider, None, concurrency=2, throttle=throttle,
                    progress=seen.append, progress_interval_s=0.05,
                )  # fmt: skip

        results = asyncio.run(main())
    assert all(row.error is None for row in rows(results))  # 3 429s > attempts: still answered
    backing = [p for p in seen if p.backing_off]
    assert backing, "no progress while a call waited out a 429"
    assert re.search(
        r", 1 calls? waiting out a rate limit \(up to \d+ s more\)$", progress_line(backing[-1])
    )


def test_a_proxys_reported_cost_is_the_calls_cost(tmp_path: Path) -> None:
    """A LiteLLM proxy's `x-litellm-response-cost` is each call's cost: a proxy alias needs no
    `prices:` entry, and a replay from the cache costs the same; a model with a price but no
    header still uses the price table."""
    with FakeOpenAI(responder=answer, response_cost="0.00125") as server:
        first = run(server, make_plan(server.url, model="team-alias"), ResponseCache(tmp_path))
        again = run(server, make_plan(server.url, model="team-alias"), ResponseCache(tmp_path))
        calls = server.calls
    assert all(row.cost_usd == 0.00125 for row in rows(first))
    assert first.stats["base"].cost_usd == pytest.approx(5 * 0.00125)
    assert calls == 5  # base and head send the same requests once; the second run is cached
    assert all(row.cost_usd == 0.00125 and row.cached for row in rows(again))
    with FakeOpenAI(responder=answer) as server:
        priced = run(server, make_plan(server.url), None)
    assert all(row.cost_usd is not None and row.cost_usd != 0.00125 for row in rows(priced))
