"""Contract tests: action.yml, the settings, the CLI and the README agree on every name."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gate.cli import build_parser
from gate.settings import ACTION_INPUTS, Settings

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
OUTPUTS = [
    "verdict",
    "report-path",
    "results-path",
    "comment-url",
    "regressions",
    "regressed-cases",
    "junit-path",
]


def _readme_table(heading: str) -> list[str]:
    section = README.split(heading, 1)[1].split("\n#", 1)[0]
    return re.findall(r"^\| `([\w-]+)` \|", section, re.M)


def test_action_inputs_match_settings() -> None:
    """Every action.yml input is a settings field and vice versa."""
    assert list(ACTION["inputs"]) == list(ACTION_INPUTS)
    for field in ACTION_INPUTS.values():
        assert field in Settings.model_fields


def test_action_defaults_match_settings() -> None:
    """action.yml defaults are the settings' defaults (an empty default means unset)."""
    for name, field in ACTION_INPUTS.items():
        default = ACTION["inputs"][name].get("default", "")
        if name == "github-token":
            assert default == "${{ github.token }}"
            continue
        expected = Settings.model_fields[field].default
        if isinstance(expected, bool):  # YAML and the runner spell booleans in lower case
            expected = str(expected).lower()
        assert default == ("" if expected is None else str(expected)), name


def test_every_input_is_a_cli_option_of_the_same_name() -> None:
    """`llm-gate run` takes every input as --name."""
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    options = {s for action in run._actions for s in action.option_strings}
    for name in ACTION_INPUTS:
        assert f"--{name}" in options


def test_readme_documents_every_input_and_output() -> None:
    """The README's tables list the inputs and outputs of action.yml, in order."""
    assert _readme_table("### Inputs") == list(ACTION["inputs"])
    assert _readme_table("### Outputs") == list(ACTION["outputs"]) == OUTPUTS


def test_readme_documents_every_cli_command() -> None:
    """Each CLI command appears in the README."""
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command in commands:
        assert f"llm-gate {command}" in README


def test_action_runs_the_dockerfile() -> None:
    """The action is a Docker action built from the Dockerfile: a base pinned by digest and
    read from `BASE_IMAGE` (tests substitute a stand-in), entrypoint.py as the entrypoint, no
    USER (GitHub asks Docker actions to run as root). tests/image builds and runs it."""
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile"}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.M)
    assert base and re.fullmatch(r"python:3\.12-slim-bookworm@sha256:[0-9a-f]{64}", base[1])
    assert dockerfile.count("FROM ${BASE_IMAGE}") == 2
    entry = re.search(r'ENTRYPOINT \["[^"]+/python", "([^"]+)"\]', dockerfile)
    assert entry and entry.group(1) == "/opt/llm-gate/entrypoint.py"
    assert "--require-hashes -r /tmp/lock/requirements.lock" in dockerfile
    assert "safe.directory" in dockerfile and "\nUSER " not in dockerfile
