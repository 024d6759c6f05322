"""Honest verdicts through the real pipeline: plan → evaluate (fake model on 127.0.0.1) →
compare, on a 30-case suite scored by a substring check and a noisy 1–5 judge."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.cache import ResponseCache
from gate.compare import compare_results
from gate.config import parse_config
from gate.evaluate import evaluate
from gate.models import Comparison, Verdict
from gate.plan import build_plan
from tests.end_to_end.conftest import BAD_SYSTEM, app_files, responder
from tests.fakes.openai_server import FakeOpenAI

FILES = app_files()


def _judge_noise(seed: int) -> Callable[[dict[str, Any]], str]:
    """The e2e model, with a judge that is off by one in about one judgement in five."""
    rng = random.Random(seed)

    def answer(body: dict[str, Any]) -> str:
        text = responder(body)
        if body["model"] != "judge-1":
            return text
        score = json.loads(text)["score"]
        if rng.random() < 0.2:
            score = max(1, min(5, score + rng.choice([-1, 1])))
        return json.dumps({"score": score})

    return answer


def _run(
    head: dict[str, str], seed: int, tmp_path: Path, server: FakeOpenAI | None = None
) -> Comparison:
    if server is None:
        with FakeOpenAI(responder=_judge_noise(seed)) as own:
            return _run(head, seed, tmp_path, own)
    config = parse_config("llm-gate.yml", head["llm-gate.yml"])
    plan = build_plan(
        config, config, ["support"], {"base": dict(FILES), "head": dict(head)},
        default_base_url=server.url,
    )  # fmt: skip
    results = evaluate(
        plan, ResponseCache(tmp_path / f"cache-{seed}"), api_key="sk-x", base_url=server.url,
        concurrency=8,
    )  # fmt: skip
    return compare_results(plan, results)


@pytest.mark.parametrize("seed", range(4))
def test_whitespace_only_prompt_change_under_a_noisy_judge_does_not_fail(
    seed: int, tmp_path: Path
) -> None:
    """Reformatting the prompt's whitespace makes new requests, judged noisily: never `fail`."""
    head = {**FILES, "prompts/support.md.j2": "Customer question:   {{ question }}\n\n"}
    comparison = _run(head, seed, tmp_path)
    assert comparison.verdict is not Verdict.FAIL
    assert comparison.regressions == 0


def test_real_quality_drop_on_30_cases_fails(tmp_path: Path) -> None:
    """A system prompt that ruins the answers fails both metrics on 30 cases."""
    comparison = _run({**FILES, "prompts/system.md": BAD_SYSTEM + "\n"}, 0, tmp_path)
    assert comparison.verdict is Verdict.FAIL
    (suite,) = comparison.suites
    assert {m.metric: m.verdict for m in suite.metrics} == {
        "contains": Verdict.FAIL,
        "judge": Verdict.FAIL,
    }


def test_a_few_badly_hurt_cases_are_listed_but_do_not_fail(tmp_path: Path) -> None:
    """One case broken badly leaves the means within tolerance but is listed as regressed."""
    cases = FILES["evals/cases.jsonl"].splitlines()
    broken = json.loads(cases[4])
    broken["question"] = "How do I ???"  # the answer no longer names the topic
    head = {**FILES, "evals/cases.jsonl": "\n".join([*cases[:4], json.dumps(broken), *cases[5:]])}
    comparison = _run(head, 0, tmp_path)
    (suite,) = comparison.suites
    assert comparison.verdict is not Verdict.FAIL
    regressed = {(r.case_id, r.metric) for r in suite.rows if r.row_class == "pass→fail"}
    assert ("case-04", "contains") in regressed
    assert comparison.regressed_cases >= 1


def test_the_same_results_always_give_the_same_verdict(tmp_path: Path) -> None:
    """A second run is served from the cache and reproduces the comparison exactly."""
    head = {**FILES, "prompts/system.md": BAD_SYSTEM + "\n"}
    with FakeOpenAI(responder=_judge_noise(1)) as server:
        first = _run(head, 1, tmp_path, server)
        sent = len(server.requests)
        again = _run(head, 1, tmp_path, server)
        assert len(server.requests) == sent  # every response came from the cache
    assert first == again
