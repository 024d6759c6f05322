"""Unit tests of settings: both input spellings, empty means unset, CLI wins, secrets hidden."""

from __future__ import annotations

import pytest

from gate.errors import ConfigError
from gate.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from an environment without inputs."""
    import os

    for name in list(os.environ):
        if name.startswith(("INPUT_", "GITHUB_", "OPENAI_", "LLM_GATE_", "RUNNER_")):
            monkeypatch.delenv(name)


def test_hyphen_and_underscore_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    """`INPUT_FAIL-ON` (the runner's spelling) and `INPUT_FAIL_ON` both work."""
    monkeypatch.setenv("INPUT_FAIL-ON", "inconclusive")
    assert load_settings().fail_on == "inconclusive"
    monkeypatch.delenv("INPUT_FAIL-ON")
    monkeypatch.setenv("INPUT_FAIL_ON", "never")
    assert load_settings().fail_on == "never"


def test_empty_input_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner passes unset inputs as empty strings; defaults apply."""
    monkeypatch.setenv("INPUT_CONFIG", "")
    monkeypatch.setenv("INPUT_MAX-COST-USD", "")
    settings = load_settings()
    assert settings.config == "llm-gate.yml"
    assert settings.max_cost_usd is None


def test_cli_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CLI option wins over the environment."""
    monkeypatch.setenv("INPUT_CONCURRENCY", "4")
    assert load_settings(concurrency="9").concurrency == 9


def test_bad_input_names_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad value is one line naming the input and the value."""
    monkeypatch.setenv("INPUT_FAIL-ON", "sometimes")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("input `fail-on`:")
    assert "'sometimes'" in str(info.value)


def test_secrets_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys never show in a repr, and are listed for masking."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", "ghs_abc")
    settings = load_settings()
    assert "sk-test-123" not in repr(settings)
    assert sorted(settings.secrets()) == ["ghs_abc", "sk-test-123"]


def test_anthropic_key_is_hidden_and_its_base_url_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """ANTHROPIC_API_KEY is masked like OPENAI_API_KEY; ANTHROPIC_BASE_URL defaults to the API."""
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-456")
    settings = load_settings()
    assert "sk-ant-test-456" not in repr(settings)
    assert "sk-ant-test-456" in settings.secrets()
    assert settings.api_keys["anthropic"] == "sk-ant-test-456"
    assert settings.base_urls["anthropic"] == "https://api.anthropic.com"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")
    assert load_settings().base_urls["anthropic"] == "http://127.0.0.1:9"


def test_openai_base_url_as_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """OPENAI_BASE_URL is honoured and its trailing slash dropped."""
    assert load_settings().openai_base_url == "https://api.openai.com/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    assert load_settings().openai_base_url == "http://127.0.0.1:9/v1"


def test_planned_modes_are_errors() -> None:
    """`mode: baseline` and `shard` are refused clearly until they exist."""
    with pytest.raises(ConfigError, match="input `mode`: 'baseline' is not supported yet"):
        load_settings(mode="baseline").check_supported()
    with pytest.raises(ConfigError, match="input `shard`"):
        load_settings(shard="1/2").check_supported()


def test_suite_filter() -> None:
    """The suites input is a comma- or newline-separated list."""
    assert load_settings(suites="b, a\nc").suite_filter == ("a", "b", "c")
