"""Speed and cost: rate limits absorbed, the estimate before the calls, cached runs stay local."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from gate.cache import ResponseCache
from gate.evaluate import Estimate, Progress, evaluate
from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_evaluate import (
    CONTAINS,
    JUDGE_MODEL,
    MODEL,
    answer,
    judge,
    make_plan,
    rows,
    run,
)

ROOT = Path(__file__).resolve().parents[2]


def test_a_provider_allowing_fewer_calls_than_concurrency_finishes_without_a_retry_storm(
    tmp_path: Path,
) -> None:
    """Against a server that answers 429 above 10 in flight, at most 10 % of calls are retried."""
    # 600 requests: without the throttle about half of them are retried, and some fail
    cases = [{"id": f"c{i}", "question": f"{i} + 1", "expected": str(i + 1)} for i in range(300)]
    reports: list[Progress] = []
    with FakeOpenAI(responder=answer, latency_s=0.01, max_in_flight=10) as server:
        plan = make_plan(server.url, cases=cases, head_prompt="Question: {question}")
        results = evaluate(
            plan,
            ResponseCache(tmp_path),
            api_key="sk-test",
            base_url=server.url,
            concurrency=32,
            progress=reports.append,
        )
    assert results.complete
    assert all(row.error is None and row.scores == {"contains": 1.0} for row in rows(results))
    sent = len(server.answered)
    assert sent == 2 * len(cases)
    retried = server.calls - sent
    assert 0 < retried <= 0.10 * sent, f"{retried} of {sent} calls retried"
    assert reports[-1].done == reports[-1].total == 2 * len(cases)


def test_the_estimate_comes_before_the_first_call(tmp_path: Path) -> None:
    """The engine says how many requests the cache answers, how many it sends, and the cost."""
    seen: list[tuple[Estimate, int]] = []
    prices = {MODEL: (1.0, 2.0), JUDGE_MODEL: (3.0, 4.0)}
    with FakeOpenAI(responder=answer) as server:
        plan = make_plan(server.url, scorers=(CONTAINS, judge("Is it correct?")))
        run(
            server,
            plan,
            ResponseCache(tmp_path),
            prices=prices,
            estimate=lambda e: seen.append((e, server.calls)),
        )
        changed = make_plan(
            server.url, head_prompt="Question: {question}", scorers=(CONTAINS, judge("Correct?"))
        )
        run(
            server,
            changed,
            ResponseCache(tmp_path),
            prices=prices,
            estimate=lambda e: seen.append((e, server.calls)),
        )
    (cold, calls_before_cold), (warm, calls_before_warm) = seen
    assert calls_before_cold == 0
    # 5 shared generations, and a judge call for each output not generated yet
    assert (cold.requests, cold.cached, cold.to_send) == (10, 0, 10)
    assert cold.cost_usd > 0 and cold.unpriced == ()
    assert calls_before_warm == 10
    # the base side is cached (5), its outputs need the new rubric's judge (5), the head side's
    # new prompt needs 5 generations and 5 judge calls of outputs it has not seen yet
    assert (warm.requests, warm.cached, warm.to_send) == (20, 5, 15)


def test_a_judge_answer_for_a_new_output_can_come_from_the_cache(tmp_path: Path) -> None:
    """A new generation whose text was judged before reuses that judgement, sending no call."""
    cases = [{"id": "a", "question": "1", "expected": "ok"}]
    scorers = (CONTAINS, judge("Is it ok?"))
    cache = ResponseCache(tmp_path)

    def respond(body: dict[str, Any]) -> str:
        return '{"score": 4}' if body["model"] == JUDGE_MODEL else "ok"

    with FakeOpenAI(responder=respond) as server:
        run(server, make_plan(server.url, cases=cases, scorers=scorers), cache)
        assert len(server.answered_for(JUDGE_MODEL)) == 1
        # another wording: a new generation call, the same answer, so the same judge request
        reworded = make_plan(
            server.url,
            cases=cases,
            scorers=scorers,
            base_prompt="Q {question}",
            head_prompt="Q {question}",
        )
        results = run(server, reworded, cache)
    assert len(server.answered_for(JUDGE_MODEL)) == 1
    assert len(server.answered_for(MODEL)) == 2
    assert [row.scores for row in rows(results)] == [{"contains": 1.0, "helpful": 4.0}] * 2
    assert (results.stats["base"].calls, results.stats["base"].cache_hits) == (1, 1)


def test_a_run_the_cache_answers_entirely_never_loads_the_http_stack(tmp_path: Path) -> None:
    """A warm run needs no event loop, no HTTP client and none of their imports; its
    comparison needs no scipy."""
    script = textwrap.dedent(
        f"""
        import sys
        from gate.cache import ResponseCache
        from gate.evaluate import evaluate
        from gate.models import CaseRun, ChatRequest, Message, Plan, ScorerSpec, SuitePlan, Usage
        from gate.targets.base import Completion

        url = "http://127.0.0.1:9/v1"  # nothing listens there
        def request(text):
            return ChatRequest("openai", url, "gpt-4o-mini", (Message("user", text),))

        runs = tuple(
            CaseRun("s", side, f"c{{i}}", 0, {{"expected": str(i)}}, request(f"{{side}} {{i}}"))
            for side in ("base", "head") for i in range(20)
        )
        cache = ResponseCache({str(tmp_path)!r})
        cache.put_many([(r.request.key, r.request, Completion(r.case_id[1:], Usage(1, 1), 5.0))
                        for r in runs])
        scorer = ScorerSpec(name="exact", type="exact", value="{{{{ expected }}}}")
        suite = SuitePlan("s", runs, (scorer,), {{}}, None, None, 1, "openai", url)
        plan = Plan((suite,), 0.95, 0.05)
        results = evaluate(plan, cache, api_key="sk-x", base_url=url, concurrency=4)
        assert all(row.cached and row.scores == {{"exact": 1.0}} for row in results.suites["s"])
        from gate.compare import compare_results
        assert compare_results(plan, results).verdict.value == "pass"
        loaded = sorted(m for m in ("httpx", "aiohttp", "stamina", "scipy") if m in sys.modules)
        print(",".join(loaded) or "none")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"


def test_the_engine_and_the_adapter_agree_on_the_default_base_url() -> None:
    """evaluate.py names OpenAI's URL without importing the HTTP stack; both say the same."""
    from gate import evaluate as engine
    from gate.targets import openai_http as openai

    assert engine.DEFAULT_BASE_URL == openai.DEFAULT_BASE_URL
