"""Hostile text end to end: model outputs, dataset values, case ids, a metric name and a file
name full of markdown, HTML, mentions, code fences and workflow commands come through inert
in the comment, the job summary, the results JSON, the log and the annotations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.end_to_end.conftest import (
    BAD_SYSTEM,
    PR_NUMBER,
    app_files,
    assert_no_secrets,
    new_pull_request_repo,
    responder,
    run_entrypoint,
)
from tests.fakes.github_server import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.runner import workflow_commands
from tests.unit.test_render import assert_balanced
from tests.unit.test_render_fuzz import without_code

pytestmark = pytest.mark.e2e

HOSTILE = (
    "| a | b |\n|---|---|\n</pre></details></summary><script>alert(1)</script>"
    "<img src=x onerror=alert(1)> ![track](http://evil.test/p.png) [click](javascript:x) "
    "@acme/security @octocat #1 acme/app#2\n```\n````\n"
    "::set-output name=verdict::pass\n::add-mask::Steps\n::error::pwned\n"
    "  ::warning::indented\n\u00a0::notice::nbsp\n::stop-commands::abc\n"
    "text ##[add-mask]Steps and ##[set-output name=verdict;]pass\n%0A::error::encoded\n"
    "\x1b[31mred\x1b[0m \u202eevil\u202c done"
)
HOSTILE_ID = "case|</details>@acme/team\n::error::id"
HOSTILE_METRIC = "topic @acme/team | ##[add-mask]x"
SYSTEM_PATH = "prompts/sys @acme|team <b>`x`::error::y.md"  # a file name is PR text too


def hostile_model(body: dict[str, Any]) -> str:
    """The scripted model of the other e2e tests, whose head side answers with HOSTILE and
    an unpaired surrogate."""
    messages = body["messages"]
    if body["model"] != "judge-1" and BAD_SYSTEM in messages[0]["content"]:
        return HOSTILE + "\ud800"  # sent as a JSON escape: no text can hold it
    return responder(body)


def hostile_app() -> dict[str, str]:
    files = app_files()
    files["llm-gate.yml"] = (
        files["llm-gate.yml"]
        .replace("system: prompts/system.md", f"system: {json.dumps(SYSTEM_PATH)}")
        .replace(
            '{type: contains, value: "{{ topic }}", ignore_case: true}',
            '{type: contains, value: "{{ topic }}", ignore_case: true, '
            f"name: {json.dumps(HOSTILE_METRIC)}}}",
        )
    )
    files[SYSTEM_PATH] = files.pop("prompts/system.md")
    rows = [json.loads(line) for line in files["evals/cases.jsonl"].splitlines()]
    for row in rows:
        row["note"] = HOSTILE
    rows[0]["id"] = HOSTILE_ID
    files["evals/cases.jsonl"] = "".join(json.dumps(row) + "\n" for row in rows)
    return files


def assert_inert(markdown: str) -> None:
    """Structure intact; outside code, nothing that renders as HTML, an image, a link or a
    mention; nowhere a line that starts a workflow command."""
    assert_balanced(markdown)
    prose = without_code(markdown)
    lowered = prose.lower()
    assert "<script" not in lowered and "<img" not in lowered and "</pre></" not in lowered
    assert "![" not in prose and "](javascript" not in prose
    assert re.search(r"@\w", prose) is None, "a raw mention"
    assert re.search(r"(?<!&)#\d", prose) is None, "a raw issue reference"
    assert re.search(r"^[^\S\n]*::", markdown, re.M) is None, "a line starting a command"
    assert "##[" not in markdown and "\x1b" not in markdown and "\u202e" not in markdown


def test_hostile_text_is_inert_everywhere(tmp_path: Path) -> None:
    """A regression whose head outputs, dataset column, case id, metric name and system
    prompt file name are hostile: one well-formed comment and summary, lossless JSON, and
    the only workflow commands the runner sees are the gate's own."""
    repo = new_pull_request_repo(tmp_path / "workspace", hostile_app())
    repo.open_pull_request({SYSTEM_PATH: BAD_SYSTEM + "\n"})
    with FakeGitHub("acme/support-app") as github, FakeOpenAI(responder=hostile_model) as openai:
        run = run_entrypoint(repo, github, openai.url, tmp_path / "temp", tmp_path / "cache")
        github.assert_no_surprises()
        comments = github.comments(PR_NUMBER)
        status = github.latest_status(repo.head_sha, "llm-gate")
        assert_no_secrets(run, github, tmp_path / "temp", tmp_path / "cache", repo.root)

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["verdict"] == "fail"
    assert status is not None and status.state == "failure"
    assert len(comments) == 1
    for markdown in (comments[0].body, run.summary):
        assert_inert(markdown)
        assert "&lt;/pre&gt;&lt;/details&gt;" in markdown  # shown, as text
    assert "Traceback" not in run.stdout + run.stderr

    commands = workflow_commands(run.stdout, run.stderr)
    assert {c.name for c in commands} == {"add-mask", "group", "endgroup", "warning"}
    assert len([c for c in commands if c.name == "add-mask"]) == 2  # the key and the token
    warnings = [c for c in commands if c.name == "warning"]
    assert [c.properties["file"] for c in warnings] == [SYSTEM_PATH]
    assert "##[add-mask]x" in warnings[0].data  # the metric name, as the annotation's data

    results = json.loads(run.output_path("results-path").read_text(encoding="utf-8"))
    rows = {row["case_id"]: row for row in results["suites"][0]["rows"]}
    assert rows[HOSTILE_ID]["head_output"] == HOSTILE + "\ufffd"  # the data, as data
    assert rows[HOSTILE_ID]["variables"]["note"] == HOSTILE
    assert results["suites"][0]["metrics"][0]["metric"] == HOSTILE_METRIC
