"""Property tests of everything that parses pull-request text: llm-gate.yml, datasets and value
files either give their value or raise one ConfigError line that starts with the file name,
never another exception (a traceback in a required check)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gate.config import GateConfig, parse_config
from gate.datasets import parse_dataset
from gate.errors import ConfigError
from gate.values import read_value
from tests.unit.test_config import VALID

fuzz = settings(max_examples=200, deadline=None)

# Pieces that mean something to YAML, JSON, CSV, jinja2 or a terminal.
SYNTAX = [
    "{", "}", "[", "]", ": ", ":", "- ", "-", ",", "\n", "  ", "    ", "\t", "#", "'", '"', "?",
    "|", ">", "&a ", "*a", "<<: ", "!!", "!!python/object:os.system ", "!!binary ", "!!float ",
    "!!timestamp ", "%YAML 1.1\n", "---\n", "...\n", "~", "null", "true", ".nan", "0x", "1e999",
    "2020-13-45", "\\ud800", '"\\ud800"', "\x00", "\x07", "\x1b[31m", "\ufeff",
    "\u2028", "\r", "\r\n", "suites", "dataset", "target", "scorers", "type", "judge", "model",
    "{{ x }}", "@org/team", "::error::x", "##[add-mask]x", "é",
]  # fmt: skip
pieces = st.lists(st.one_of(st.sampled_from(SYNTAX), st.text(max_size=8)), max_size=30)
yaml_ish_text = pieces.map("".join)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), inner, max_size=4),
    ),
    max_leaves=25,
)


def assert_one_line_about(path: str, exc: ConfigError) -> None:
    """The message is one line, not too long, and starts with the file's name."""
    message = str(exc)
    assert message.startswith(path), message
    assert len(message.splitlines()) == 1, message
    assert len(message) <= 600


def check_config(text: str) -> None:
    try:
        config = parse_config("llm-gate.yml", text)
    except ConfigError as exc:
        assert_one_line_about("llm-gate.yml", exc)
    else:
        assert isinstance(config, GateConfig)


@fuzz
@given(yaml_ish_text)
@example("suites: &a\n  x: *a\n")  # an alias that contains itself
@example("a: &x [*x]\n")
@example("suites: " + "[" * 1000 + "]" * 1000 + "\n")  # deeper than the parser can recurse
@example("suites:\n  a\x07: 1\n")  # a character YAML refuses, with a multi-line message
@example('suites:\n  "a\\nb": {}\n')  # a key with a newline
@example("confidence: " + "9" * 5000 + "\n")  # more digits than int() converts
@example("confidence: 2020-13-45\n")
@example("suites: !!timestamp x\n")
@example('suites:\n  bot:\n    dataset: "\\ud800"\n')
def test_config_text_never_crashes(text: str) -> None:
    """Arbitrary YAML-ish text: a GateConfig or a one-line ConfigError naming the file."""
    check_config(text)


@fuzz
@given(documents)
def test_config_documents_never_crash(document: Any) -> None:
    """Any YAML document (nested mappings, lists, scalars): GateConfig or one clear line."""
    check_config(yaml.safe_dump(document, allow_unicode=True))
    check_config(yaml.safe_dump({"suites": document}, allow_unicode=True))


@st.composite
def mutated_valid_config(draw: st.DrawFn) -> str:
    """The valid example config with a few lines deleted, duplicated, re-indented or spliced."""
    lines = VALID.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "splice"]))
        if action == "delete" and len(lines) > 1:
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "indent":
            lines[index] = "  " + lines[index]
        elif action == "dedent":
            lines[index] = lines[index].removeprefix("  ")
        else:
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(yaml_ish_text) + line[at:]
    return "".join(lines)


@fuzz
@given(mutated_valid_config())
def test_mutated_valid_configs_never_crash(text: str) -> None:
    """A valid config with lines broken: GateConfig or one line naming the file."""
    check_config(text)


@fuzz
@given(yaml_ish_text, st.sampled_from(["d.jsonl", "d.csv", "d.yaml", "d.json"]))
@example('{"a": ' + "9" * 5000 + "}\n", "d.jsonl")
@example("[" * 10_000 + "\n", "d.jsonl")
@example('id,q\n"' + "x" * 200_000 + '",1\n', "d.csv")
@example("- a: \x07\n", "d.yaml")
@example("- {id: 1, q: &a [*a]}\n", "d.yaml")
@example('{"id": "a\\nb"}\n{"id": "a\\nb"}\n', "d.jsonl")
@example('{"q": "\\ud800"}\n', "d.jsonl")
def test_datasets_never_crash(text: str, path: str) -> None:
    """Any dataset text: cases, or one ConfigError line naming the file (and line)."""
    try:
        cases = parse_dataset(path, text)
    except ConfigError as exc:
        assert_one_line_about(path, exc)
    else:
        assert cases
        for case in cases:  # every case can become a request body and a JSON result
            json.dumps(case.variables, ensure_ascii=False, default=str).encode()


@fuzz
@given(yaml_ish_text, st.sampled_from(["m.yaml", "m.json"]))
@example("a: " + "9" * 5000, "m.yaml")
@example("a: &x [*x]", "m.yaml")
@example("a: \x07", "m.yaml")
@example('{"a": "\\ud800"}', "m.json")
def test_value_files_never_crash(text: str, path: str) -> None:
    """Any model/params file: the value, or one ConfigError line naming the file."""
    try:
        read_value(text, path, "a.b")
    except ConfigError as exc:
        assert_one_line_about(path, exc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("suites: " + "[" * 1000 + "]" * 1000, "llm-gate.yml: invalid YAML: nested too deeply"),
        ("suites:\n  a\x07: 1\n", "llm-gate.yml:2: invalid YAML: unacceptable character #x0007"),
        ("confidence: " + "9" * 5000, "llm-gate.yml: invalid YAML: a number has too many digits"),
        ('suites:\n  "a\\nb": {}\n', "llm-gate.yml:2: suites.a b: missing required key"),
        ('x: "\\ud800"\n', "llm-gate.yml: holds an unpaired surrogate escape"),
    ],
)
def test_config_errors_say_what_is_wrong(text: str, expected: str) -> None:
    """The inputs that used to escape as RecursionError, ValueError or a multi-line message."""
    with pytest.raises(ConfigError) as info:
        parse_config("llm-gate.yml", text)
    assert str(info.value).startswith(expected), str(info.value)
