"""`llm-gate eval` on an anthropic target whose model id changes between base and head, in a
real git repository, against the fake Messages API on 127.0.0.1 (which refuses any request
not in Anthropic's shape); the judge runs on the suite's provider, Anthropic too."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gate.cli import main
from tests.end_to_end.conftest import app_files, git, new_pull_request_repo, write
from tests.fakes.anthropic_server import FakeAnthropic

KEY = "sk-ant-cli-test-0123456789abcdefSECRET"
CONFIG = """\
suites:
  support:
    dataset: evals/cases.jsonl
    target:
      provider: anthropic
      model: {file: config/models.yaml, key: support.model}
      params: {file: config/models.yaml, key: support.params}
      system: prompts/system.md
      prompt: prompts/support.md.j2
    scorers:
      - {type: contains, value: "{{ topic }}", ignore_case: true}
      - {type: judge, rubric: evals/rubric.md, model: claude-haiku-4-5, scale: 5}
    thresholds:
      default: {max_drop: 0.05}
      judge: {max_drop: 0.3}
"""
MODELS = "support:\n  model: {model}\n  params: {{temperature: 0.2, max_tokens: 300}}\n"


def responder(body: dict[str, Any]) -> str:
    """claude-sonnet-4-5 answers with concrete steps, claude-3-haiku in one word; the judge
    (asked with its instructions as the top-level system prompt) scores steps 5, others 2."""
    question = body["messages"][-1]["content"]
    if "grading the output" in body.get("system", ""):
        return json.dumps({"score": 5 if "Steps:" in question else 2, "reason": "scripted"})
    if body["model"] == "claude-3-haiku-20240307":
        return "Sure."
    task = question.removeprefix("Customer question: ").strip().removeprefix("How do I ")
    return f"Steps: to {task.rstrip('?')}, open Settings and follow the guide."


@pytest.fixture(autouse=True)
def _terminal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("INPUT_", "GITHUB_", "OPENAI_", "ANTHROPIC_", "LLM_GATE_", "RUNNER_")):
            monkeypatch.delenv(name)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    files = {
        **app_files(),
        "llm-gate.yml": CONFIG,
        "config/models.yaml": MODELS.format(model="claude-sonnet-4-5"),
    }
    root = new_pull_request_repo(tmp_path / "app", files).root
    monkeypatch.chdir(root)
    return root


def test_a_model_change_on_an_anthropic_target_is_gated(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Head swaps the model for one that answers in a word: the change is detected as a model
    change, both sides and the judge go to /v1/messages in Anthropic's shape, the run fails on
    the regression, every call is priced, and the key shows nowhere."""
    write(repo, {"config/models.yaml": MODELS.format(model="claude-3-haiku-20240307")})
    git(repo, "commit", "-qam", "cheaper model")
    with FakeAnthropic(responder=responder) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        capsys.readouterr()
        code = main(["eval", "--base", "HEAD~1", "--results-dir", "out"])
        out, err = capsys.readouterr()

    assert code == 1, err
    assert server.refused == []
    models = {body["model"] for body in server.requests}
    assert models == {"claude-sonnet-4-5", "claude-3-haiku-20240307", "claude-haiku-4-5"}
    assert all(body["max_tokens"] for body in server.requests)
    assert set(server.auth_headers) == {KEY}
    assert "claude-sonnet-4-5 → claude-3-haiku-20240307" in out
    results_text = (repo / "out/llm-gate-results.json").read_text()
    results = json.loads(results_text)
    assert results["verdict"] == "fail"
    for side in ("base", "head"):
        assert results["stats"][side]["cost_usd"] > 0
    assert KEY not in out + err + results_text


def test_without_anthropic_api_key_eval_says_which_variable_in_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {"config/models.yaml": MODELS.format(model="claude-3-haiku-20240307")})
    git(repo, "commit", "-qam", "cheaper model")
    capsys.readouterr()
    code = main(["eval", "--base", "HEAD~1"])
    out, err = capsys.readouterr()
    assert code != 0
    lines = [line for line in (out + err).splitlines() if "ANTHROPIC_API_KEY" in line]
    assert lines and lines[0].endswith(
        "ANTHROPIC_API_KEY is not set: pass it to the step with "
        "`env: {ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}}` "
        "(or use --replay with a recorded cache)"
    ), out + err
