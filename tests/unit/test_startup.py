"""Cheap start: `llm-gate --version` and `llm-gate check` import none of the heavy libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "scipy", "github", "httpx", "aiohttp", "stamina", "jsonschema")
CONFIG = """\
suites:
  support:
    dataset: evals/cases.jsonl
    target:
      provider: openai
      model: gpt-4o-mini
      prompt: prompts/support.md.j2
    scorers:
      - {type: contains, value: "{{ expected }}"}
"""


def write_app(root: Path) -> None:
    """The config and the files it references: `check` reads and renders them all."""
    (root / "llm-gate.yml").write_text(CONFIG, encoding="utf-8")
    (root / "evals").mkdir()
    (root / "evals/cases.jsonl").write_text('{"id": "a", "expected": "x"}\n', encoding="utf-8")
    (root / "prompts").mkdir()
    (root / "prompts/support.md.j2").write_text("Q: {{ expected }}\n", encoding="utf-8")


def imported(args: list[str], cwd: Path) -> set[str]:
    """The top-level packages `python -X importtime -m gate ARGS` imports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "gate" in names
    return names


@pytest.mark.parametrize("args", [["--version"], ["check"]], ids=["version", "check"])
def test_light_commands_import_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    """--version and check never import pandas, numpy, scipy, PyGithub or the HTTP stack."""
    write_app(tmp_path)
    heavy = imported(args, tmp_path) & set(HEAVY)
    assert heavy == set(), f"`llm-gate {' '.join(args)}` imports {sorted(heavy)}"


def test_version_imports_no_validation_library(tmp_path: Path) -> None:
    """`llm-gate --version` answers without pydantic, YAML or jinja2: a few hundredths of a
    second, where importing pydantic-settings alone takes a quarter of a second."""
    loaded = imported(["--version"], tmp_path) & {"pydantic", "pydantic_settings", "yaml", "jinja2"}
    assert loaded == set(), f"`llm-gate --version` imports {sorted(loaded)}"


def test_a_profiled_run_still_writes_its_profile(tmp_path: Path) -> None:
    """The console script leaves with os._exit, except under a profiler (or a debugger, or
    coverage), which writes what it collected at the normal exit."""
    write_app(tmp_path)
    profile = tmp_path / "check.prof"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "gate", "check"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "valid, 1 suite(s)" in done.stdout
    assert profile.stat().st_size > 0


def test_what_a_cold_run_needs_before_its_first_call_imports_no_report_module() -> None:
    """The shell, the engine and the OpenAI adapter import nothing of the report (gate.report,
    jinja2, tabulate, numpy) nor what only the action needs: a cold `llm-gate eval` imports
    those on a thread while its calls are in flight, not before the first one."""
    code = (
        "import sys\n"
        "import gate.cli, gate.pipeline, gate.action, gate.effects, gate.publish\n"
        "import gate.plan, gate.evaluate, gate.targets.openai_http\n"
        "later = ('gate.report', 'gate.compare', 'gate.artifact', 'gate.events',\n"
        "         'gate.ownership', 'jinja2', 'tabulate', 'numpy', 'stamina')\n"
        "print(','.join(m for m in later if m in sys.modules) or 'none')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "none"
