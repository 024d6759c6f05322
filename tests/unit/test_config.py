"""Unit tests of llm-gate.yml validation: every error is one line naming file, line and key."""

from __future__ import annotations

import pytest

from gate.config import parse_config, resolve_threshold
from gate.errors import ConfigError

VALID = """\
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
      - {type: judge, rubric: evals/rubric.md, model: judge-model, scale: 5}
    thresholds:
      default: {max_drop: 0.02}
      judge: {max_drop: 0.2, min: 3.5}
      latency_p95_ms: {max_increase: 250}
      cost_usd: {max_increase_pct: 15}
    repeats: 2
    watch: ["src/bot/**"]
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config("llm-gate.yml", text)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_valid_config_parses() -> None:
    """The DESIGN.md example config is valid and keeps every value."""
    config = parse_config("llm-gate.yml", VALID)
    suite = config.suites["bot"]
    assert suite.repeats == 2
    assert suite.metric_names() == ["contains", "judge"]
    assert suite.thresholds.metrics["judge"].min == 3.5
    assert suite.thresholds.latency_p95_ms is not None
    assert suite.thresholds.latency_p95_ms.max_increase == 250
    assert config.confidence == 0.95


def test_misspelled_key_is_named_with_its_line() -> None:
    """A typo in a scorer key names the file, line, key path and the likely spelling."""
    message = _error(VALID.replace("rubric: evals", "rubrc: evals"))
    assert message.startswith("llm-gate.yml:12: suites.bot.scorers[1]: unknown key 'rubrc'")
    assert "did you mean 'rubric'" in message


def test_misspelled_threshold_field_is_an_error() -> None:
    """A typo inside a threshold never silently switches the check off."""
    message = _error(VALID.replace("max_drop: 0.2,", "max_dorp: 0.2,"))
    assert "llm-gate.yml:15" in message and "max_dorp" in message


def test_misspelled_top_level_key() -> None:
    """An unknown top-level key is an error too."""
    message = _error(VALID + "confidance: 0.9\n")
    assert "unknown key 'confidance'" in message and "did you mean 'confidence'" in message


def test_threshold_for_unknown_metric() -> None:
    """A threshold for a metric no scorer produces is a config error naming its line."""
    message = _error(VALID.replace("      judge: {max_drop", "      jduge: {max_drop"))
    assert message.startswith("llm-gate.yml:15: suites.bot.thresholds.jduge:")
    assert "no scorer produces" in message


def test_missing_required_key() -> None:
    """A missing prompt names the target and the key."""
    message = _error(VALID.replace("      prompt: prompts/bot.md.j2\n", ""))
    assert "suites.bot.target: missing required key 'prompt'" in message


def test_malformed_yaml_names_the_line() -> None:
    """Broken YAML gives the line of the problem."""
    message = _error("suites:\n  bot: [unclosed\n")
    assert message.startswith("llm-gate.yml:") and "invalid YAML" in message


def test_planned_provider_is_a_clear_error() -> None:
    """A provider of a later release is refused, not silently ignored."""
    message = _error(
        VALID.replace("      model: {file", "      provider: command\n      model: {file")
    )
    assert "provider 'command' is not supported yet" in message


def test_unknown_provider_lists_the_registered_kinds() -> None:
    """An unknown `provider:` is one line naming the key and every registered target kind."""
    message = _error(
        VALID.replace("      model: {file", "      provider: openia\n      model: {file")
    )
    assert message == (
        "llm-gate.yml:5: suites.bot.target.provider: unknown provider 'openia'; "
        "expected one of: openai, anthropic"
    )


ANTHROPIC = VALID.replace(
    "      model: {file", "      provider: anthropic\n      model: claude-haiku-4-5\n      x: {file"
).replace("      x: {file: config/models.yaml, key: bot.model}\n", "")


def test_an_anthropic_target_parses_with_max_tokens() -> None:
    """`provider: anthropic` takes the openai target's keys; its errors are its own alone."""
    text = ANTHROPIC.replace(
        "      params: {file: config/models.yaml, key: bot.params}",
        "      params: {max_tokens: 512}",
    )
    target = parse_config("llm-gate.yml", text).suites["bot"].target
    assert (target.provider, target.model, target.params) == (
        "anthropic",
        "claude-haiku-4-5",
        {"max_tokens": 512},
    )
    message = _error(text.replace("      prompt: prompts/bot.md.j2\n", ""))
    assert message == "llm-gate.yml:4: suites.bot.target: missing required key 'prompt'"


def test_an_anthropic_target_without_max_tokens_is_a_line_naming_the_key() -> None:
    text = ANTHROPIC.replace(
        "      params: {file: config/models.yaml, key: bot.params}", "      params: {top_k: 5}"
    )
    message = _error(text)
    assert message.startswith(
        "llm-gate.yml:7: suites.bot.target.params: `max_tokens` is required for provider anthropic"
    )


def test_duplicate_metric_names() -> None:
    """Two scorers of one type need distinct names."""
    text = VALID.replace(
        '      - {type: contains, value: "{{ expected }}"}\n',
        '      - {type: contains, value: "a"}\n      - {type: contains, value: "b"}\n',
    )
    assert "give one of them a distinct `name`" in _error(text)


def test_empty_and_non_mapping_documents() -> None:
    """An empty file and a list at the top level are explained."""
    assert "empty" in _error("")
    assert "expected a mapping" in _error("- a\n- b\n")


def test_default_threshold_is_five_percent_of_range() -> None:
    """Without `default`, a metric tolerates 5 % of its range."""
    config = parse_config("llm-gate.yml", VALID.replace("      default: {max_drop: 0.02}\n", ""))
    suite = config.suites["bot"]
    assert resolve_threshold(suite, "contains", 1.0).max_drop == 0.05
    assert resolve_threshold(suite, "judge", 4.0).max_drop == 0.2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "default: {max_drop: 0.02}",
            "default: {max_drop: 5}",
            "llm-gate.yml:14: suites.bot.thresholds.default.max_drop: 5 is more than the whole "
            "range of 'contains' (0 to 1); pass rates are fractions: 0.05 = 5 points",
        ),
        (
            "judge: {max_drop: 0.2, min: 3.5}",
            "judge: {max_drop: 0.2, min: 7}",
            "llm-gate.yml:15: suites.bot.thresholds.judge.min: 7 is outside the range of 'judge' "
            "(1 to 5); judge scores are on its 1–5 scale",
        ),
        (
            "judge: {max_drop: 0.2, min: 3.5}",
            "judge: {max_drop: 6, min: 3.5}",
            "llm-gate.yml:15: suites.bot.thresholds.judge.max_drop: 6 is more than the whole "
            "range of 'judge' (1 to 5); judge scores are on its 1–5 scale",
        ),
        (
            "default: {max_drop: 0.02}",
            "default: {max_drop: 0.02, row_drop: 2}",
            "llm-gate.yml:14: suites.bot.thresholds.default.row_drop: 2 is more than the whole "
            "range of 'contains' (0 to 1); pass rates are fractions: 0.05 = 5 points",
        ),
        (
            "default: {max_drop: 0.02}",
            "default: {max_drop: 0.02, min: 80}",
            "llm-gate.yml:14: suites.bot.thresholds.default.min: 80 is outside the range of "
            "'contains' (0 to 1); pass rates are fractions: 0.05 = 5 points",
        ),
    ],
)
def test_a_threshold_outside_its_metrics_range_names_the_unit(
    old: str, new: str, expected: str
) -> None:
    """`max_drop: 5` meant as 5 %, `min: 7` on a 1–5 judge: an error that says how to write it."""
    assert _error(VALID.replace(old, new)) == expected


def test_a_default_wider_than_a_pass_rate_is_fine_where_a_judge_takes_it() -> None:
    """`default` is checked only against the metrics it applies to (those without an entry)."""
    text = VALID.replace("default: {max_drop: 0.02}", "default: {max_drop: 0.5}").replace(
        "- {type: contains", "- {informational: true, type: contains"
    )
    text = text.replace("judge: {max_drop: 0.2, min: 3.5}", "contains: {max_drop: 0.1}")
    assert parse_config("llm-gate.yml", text).suites["bot"].thresholds.default is not None
