"""`llm-gate calibrate`: an A/A run of the working tree, measured with the real comparison."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.calibrate import aa_plan, calibrate, format_calibration
from gate.models import (
    CallStats,
    CaseResult,
    CaseRun,
    ChatRequest,
    Message,
    Plan,
    Results,
    ScorerSpec,
    SuitePlan,
    Threshold,
    Usage,
)
from tests.end_to_end.conftest import app_files, git, write
from tests.fakes.openai_server import FakeOpenAI


def _plan(n: int, repeats: int = 1) -> Plan:
    runs = tuple(
        CaseRun(
            "s", side, f"c{i}", k, {"q": i},
            ChatRequest("openai", "http://x/v1", "m", (Message("user", f"q{i}"),), repeat=k),
        )
        for side in ("base", "head") for i in range(n) for k in range(repeats)
    )  # fmt: skip
    scorers = (ScorerSpec(name="judge", type="judge", model="j", scale=5),)
    return Plan(
        suites=(
            SuitePlan("s", runs, scorers, {"judge": Threshold(max_drop=0.2)}, None, None,
                      repeats, "openai", "http://x/v1"),
        ),
        confidence=0.95,
        max_error_rate=0.05,
    )  # fmt: skip


def _results(plan: Plan, score: Any) -> Results:
    rows = tuple(
        CaseResult(r.suite, r.side, r.case_id, r.repeat, "out", None, 10.0, Usage(), None, True,
                   {"judge": score(r)})
        for r in plan.suites[0].runs
    )  # fmt: skip
    return Results({"s": rows}, {"base": CallStats(), "head": CallStats()})


def test_aa_plan_gives_the_second_run_its_own_cache_slots() -> None:
    """The head side becomes repeats k…2k−1 of the same requests, so no response is reused."""
    plan = aa_plan(_plan(3, repeats=2))
    runs = plan.suites[0].runs
    base = {r.request.key for r in runs if r.side == "base"}
    head = {r.request.key for r in runs if r.side == "head"}
    assert len(base) == len(head) == 6 and not base & head
    assert sorted({r.repeat for r in runs if r.side == "head"}) == [2, 3]


def test_noise_floor_and_cases_needed() -> None:
    """A noisy judge gives a noise floor from the A/A deltas and the n and k its tolerance
    needs."""
    rng = random.Random(7)
    noise = {(s, f"c{i}"): rng.choice([4.0, 5.0]) for s in ("base", "head") for i in range(100)}
    plan = _plan(100)
    calibration = calibrate(plan, _results(plan, lambda r: noise[(r.side, r.case_id)]))
    (metric,) = calibration.metrics
    assert metric.n == 100 and metric.noise_sd is not None and metric.noise_floor is not None
    assert 0.6 < metric.noise_sd < 0.8  # two independent ±0.5 draws: sd of the delta ≈ 0.71
    assert metric.recommended_tolerance is not None
    half = metric.noise_floor / 2  # twice the recommended tolerance is detectable
    assert half <= metric.recommended_tolerance < half * 1.1
    # n making 2 × 0.2 detectable: ((z_0.99 + z_0.95) · sd / 0.4)² ≈ (3.97 · 0.71 / 0.4)² ≈ 50
    assert metric.cases_needed is not None and 35 < metric.cases_needed < 70
    # with these 100 cases, k repeats scale an A/A delta's variance by 1/k: one is enough
    assert metric.repeats_needed == 1
    text = format_calibration(calibration)
    assert "s/judge" in text and "thresholds:\n  judge: {max_drop:" in text


def test_calibrate_command_against_a_noisy_model(tmp_path: Path) -> None:
    """`llm-gate calibrate --repeats 2` sends both runs, prints the table and a thresholds block."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, app_files())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "app")
    rng = random.Random(3)

    def noisy(body: dict[str, Any]) -> str:
        if body["model"] == "judge-1":
            return json.dumps({"score": rng.choice([3, 4, 4, 5])})
        return "Steps: open Settings." if rng.random() < 0.9 else "Sorry."

    with FakeOpenAI(responder=noisy) as server:
        env = {
            "PATH": os.environ["PATH"], "HOME": str(tmp_path),
            "OPENAI_API_KEY": "sk-calibrate", "OPENAI_BASE_URL": server.url,
        }  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "gate", "calibrate", "--repeats", "2",
             "--cache-dir", str(tmp_path / "cache")],
            cwd=repo, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cases = len(app_files()["evals/cases.jsonl"].splitlines())
    generations = [b for b in server.answered if b["model"] != "judge-1"]
    assert len(generations) == 2 * 2 * cases  # two runs × two repeats, nothing shared
    assert "support/contains" in done.stdout and "support/judge" in done.stdout
    assert "# suites.support: paste under the suite\nthresholds:\n  contains: {max_drop:" in (
        done.stdout
    )


@pytest.mark.parametrize("repeats", ["0", "51"])
def test_calibrate_rejects_bad_repeats(repeats: str, tmp_path: Path) -> None:
    """--repeats outside 1..50 is a one-line error."""
    done = subprocess.run(
        [sys.executable, "-m", "gate", "calibrate", "--repeats", repeats],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == "llm-gate: error: --repeats: expected a whole number from 1 to 50"
