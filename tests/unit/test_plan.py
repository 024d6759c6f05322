"""Unit tests of the plan: each side's requests, the head's ruler, template errors."""

from __future__ import annotations

import json

import pytest

from gate.config import parse_config
from gate.errors import ConfigError, TemplateError
from gate.models import ChangeSet
from gate.plan import build_plan, select_suites

CONFIG = """\
suites:
  bot:
    dataset: evals/cases.jsonl
    target:
      model: {file: config/models.yaml, key: bot.model}
      params: {file: config/models.yaml, key: bot.params}
      system: prompts/system.md
      prompt: prompts/bot.md.j2
      tools: tools/bot.json
    scorers:
      - {type: contains, value: "{{ expected }}"}
      - {type: judge, rubric: evals/rubric.md, model: judge-model}
    repeats: 2
"""

FILES = {
    "llm-gate.yml": CONFIG,
    "evals/cases.jsonl": '{"id": "a", "question": "hi", "expected": "hello"}\n'
    '{"id": "b", "question": "bye", "expected": "goodbye"}\n',
    "config/models.yaml": "bot:\n  model: gpt-4o\n  params: {temperature: 0.2}\n",
    "prompts/system.md": "You are helpful.",
    "prompts/bot.md.j2": "Q: {{ question }}",
    "tools/bot.json": json.dumps([{"type": "function", "function": {"name": "f"}}]),
    "evals/rubric.md": "Score helpfulness.",
}


def _changes() -> ChangeSet:
    return ChangeSet("b" * 40, "h" * 40, (), (), (), ("bot",), {})


def _plan(base: dict[str, str | None], head: dict[str, str | None]):  # type: ignore[no-untyped-def]
    config = parse_config("llm-gate.yml", head["llm-gate.yml"] or "")
    return build_plan(
        config, config, ["bot"], {"base": base, "head": head}, default_base_url="http://x/v1"
    )


def test_both_sides_every_case_and_repeat() -> None:
    """2 cases × 2 repeats × 2 sides = 8 runs, each with its own repeat index."""
    plan = _plan(FILES, FILES)
    runs = plan.suites[0].runs
    assert len(runs) == 8
    assert {(r.side, r.case_id, r.repeat) for r in runs} == {
        (s, c, k) for s in ("base", "head") for c in ("a", "b") for k in (0, 1)
    }
    first = runs[0].request
    assert first.model == "gpt-4o"
    assert first.params == (("temperature", 0.2),)
    assert first.messages[0].content == "You are helpful."
    assert first.messages[1].content == "Q: hi"
    assert first.tools is not None and json.loads(first.tools)[0]["function"]["name"] == "f"


def test_identical_sides_share_request_keys_repeats_do_not() -> None:
    """Unchanged sides produce identical keys (sent once); repeats differ."""
    runs = _plan(FILES, FILES).suites[0].runs
    base = {(r.case_id, r.repeat): r.request.key for r in runs if r.side == "base"}
    head = {(r.case_id, r.repeat): r.request.key for r in runs if r.side == "head"}
    assert base == head
    assert base[("a", 0)] != base[("a", 1)]


def test_each_side_reads_its_own_files() -> None:
    """The base side uses the base system prompt and model."""
    head = {
        **FILES,
        "prompts/system.md": "Be terse.",
        "config/models.yaml": FILES["config/models.yaml"].replace("gpt-4o", "gpt-4o-mini"),
    }
    runs = _plan(FILES, head).suites[0].runs
    base_req = next(r.request for r in runs if r.side == "base")
    head_req = next(r.request for r in runs if r.side == "head")
    assert (base_req.model, base_req.messages[0].content) == ("gpt-4o", "You are helpful.")
    assert (head_req.model, head_req.messages[0].content) == ("gpt-4o-mini", "Be terse.")


def test_head_rubric_measures_both_sides() -> None:
    """The judge scorer carries the head's rubric text."""
    head = {**FILES, "evals/rubric.md": "New rubric."}
    judge = _plan(FILES, head).suites[0].scorers[1]
    assert judge.rubric == "New rubric." and judge.type == "judge"


def test_new_suite_has_no_base_runs() -> None:
    """Files missing on the base side make every head case new, not an error."""
    base = dict.fromkeys(FILES)
    runs = _plan(base, FILES).suites[0].runs
    assert {r.side for r in runs} == {"head"}


def test_missing_head_file_is_a_config_error() -> None:
    """A prompt missing on the head side names the file."""
    head = {**FILES, "prompts/bot.md.j2": None}
    with pytest.raises(ConfigError, match=r"prompts/bot\.md\.j2"):
        _plan(FILES, head)


def test_template_with_unknown_column() -> None:
    """A template using a column the dataset lacks names the template, column and dataset."""
    head = {**FILES, "prompts/bot.md.j2": "Q: {{ questoin }}"}
    with pytest.raises(TemplateError) as info:
        _plan(FILES, head)
    message = str(info.value)
    assert (
        "prompts/bot.md.j2" in message and "questoin" in message and "evals/cases.jsonl" in message
    )


def test_templates_render_in_a_sandbox() -> None:
    """A prompt template cannot reach Python internals."""
    head = {**FILES, "prompts/bot.md.j2": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    with pytest.raises(TemplateError):
        _plan(FILES, head)


def test_unknown_suite_in_filter() -> None:
    """The suites input must name configured suites."""
    config = parse_config("llm-gate.yml", CONFIG)
    with pytest.raises(ConfigError, match="input `suites`: unknown suite 'nope'"):
        select_suites(config, _changes(), ["nope"])
    assert select_suites(config, _changes(), []) == ("bot",)


def test_a_registered_scorer_reaches_the_plan_with_its_options() -> None:
    """A scorer of the registry (contains_any with `not: true`) becomes a spec carrying its
    values, its case folding and its negation, with a pass rate's default tolerance."""
    config = CONFIG.replace(
        '      - {type: contains, value: "{{ expected }}"}\n',
        "      - {type: contains_any, values: ['{{ expected }}', sorry], not: true,"
        " ignore_case: true, name: no_echo}\n",
    )
    files = {**FILES, "llm-gate.yml": config}
    suite = _plan(files, files).suites[0]
    spec = suite.scorers[0]
    assert (spec.name, spec.type, spec.values) == (
        "no_echo",
        "contains_any",
        ("{{ expected }}", "sorry"),
    )
    assert spec.negate and spec.ignore_case and spec.binary
    assert suite.thresholds["no_echo"].max_drop == 0.05
    assert not suite.scorers[1].binary  # the judge
