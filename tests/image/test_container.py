"""The image as users get it: built from the Dockerfile on a real engine and run as
actions/runner runs a Docker action, against fake GitHub and OpenAI servers on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.end_to_end.conftest import BAD_SYSTEM, PR_NUMBER, REPOSITORY
from tests.fakes.events import pull_request_event
from tests.fakes.github_server import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.image.conftest import (
    RUNNER_UID,
    Built,
    ContainerRun,
    Runner,
    build,
    checkout,
    chown_tree,
    docker,
    git,
    record,
    root_owned,
    run_container,
)

pytestmark = pytest.mark.image

VERDICTS = {"pass", "fail", "inconclusive", "skipped", "error"}


def assert_well_formed(run: ContainerRun, runner: Runner) -> None:
    """Every output a later step reads is there and means what it says; every path it names
    opens on the host, from the workspace, where later steps (and upload-artifact) run."""
    outputs = run.outputs
    assert outputs["verdict"] in VERDICTS
    assert outputs["regressions"].isdigit() and outputs["regressed-cases"].isdigit()
    for name in ("report-path", "results-path"):
        path = Path(outputs[name])
        assert not path.is_absolute(), f"{name} {path} names a path inside the container"
        assert (runner.workspace / path).is_file(), f"{name} {path} is not on the host"
    report = (runner.workspace / outputs["report-path"]).read_text(encoding="utf-8")
    assert run.summary.startswith(report)  # then what GitHub refused to take, if anything
    json.loads((runner.workspace / outputs["results-path"]).read_text(encoding="utf-8"))


def assert_nothing_root_owned(runner: Runner) -> None:
    assert root_owned(runner.work) == [], "the container left root-owned files"
    assert (runner.workspace / ".git" / "index").stat().st_uid == RUNNER_UID


def test_arguments_pass_through(image: Built) -> None:
    """`docker run IMAGE --version` prints the version: the entrypoint passes arguments on."""
    done = docker("run", "--rm", image.image, "--version")
    assert done.stdout.strip() == "llm-gate 0.1.0"


def test_prompt_regression_fails_with_one_comment(
    image: Built, github: FakeGitHub, openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A system prompt that drops quality: `failure` on the head SHA, one comment, exit 1,
    outputs later steps can open, nothing root-owned in the workspace."""
    runner = checkout(tmp_path / "work")
    runner.repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})

    run = run_container(runner, github, openai.url)

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["verdict"] == "fail"
    status = github.latest_status(runner.repo.head_sha, "llm-gate")
    assert status is not None and status.state == "failure"
    comments = github.comments(PR_NUMBER)
    assert len(comments) == 1 and "| contains" in comments[0].body
    assert run.outputs["comment-url"].startswith("http")
    assert int(run.outputs["regressions"]) >= 1
    assert_well_formed(run, runner)
    assert_nothing_root_owned(runner)
    assert "Traceback" not in run.stderr


def test_readme_only_change_succeeds_without_a_model_call(
    image: Built, github: FakeGitHub, openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A README-only PR: `success`, no model call, within 3 s of `docker run`."""
    runner = checkout(tmp_path / "work")
    runner.repo.open_pull_request({"README.md": "# Support app\n\nNow with docs.\n"})

    run = run_container(runner, github, openai.url)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["verdict"] == "skipped"
    assert openai.requests == []
    status = github.latest_status(runner.repo.head_sha, "llm-gate")
    assert status is not None and status.state == "success"
    assert_well_formed(run, runner)
    assert_nothing_root_owned(runner)
    record("README-only PR, docker run to exit", f"{run.seconds:.1f} s", "≤ 3 s", run.seconds <= 3)


def test_rerun_with_the_cache_restored_calls_no_model(
    image: Built, github: FakeGitHub, openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A re-run in a fresh checkout with `.llm-gate/cache` restored (as actions/cache does):
    the same verdict, still one comment, no model call."""
    runner = checkout(tmp_path / "work")
    runner.repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    first = run_container(runner, github, openai.url)
    assert first.outputs["verdict"] == "fail", first.stdout + first.stderr
    assert_nothing_root_owned(runner)
    sent = len(openai.requests)

    saved = tmp_path / "saved-cache"
    shutil.copytree(runner.workspace / ".llm-gate" / "cache", saved)
    git(runner.workspace, "clean", "-fdxq")  # the next job's checkout starts clean
    assert not (runner.workspace / ".llm-gate").exists()
    shutil.copytree(saved, runner.workspace / ".llm-gate" / "cache")
    chown_tree(runner.workspace / ".llm-gate", RUNNER_UID)

    again = run_container(runner, github, openai.url)

    assert again.returncode == 1 and again.outputs["verdict"] == "fail"
    assert len(openai.requests) == sent, "the restored cache did not answer the re-run"
    assert len(github.comments(PR_NUMBER)) == 1
    assert_well_formed(again, runner)
    assert_nothing_root_owned(runner)


def test_fork_pull_request_is_reported_not_evaluated(
    image: Built, github: FakeGitHub, openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A fork's PR (no secrets, a read-only token): no model call, `error`, the summary says
    why and how to evaluate it safely, and nothing root-owned is left."""
    github.read_only = True
    runner = checkout(tmp_path / "work")
    runner.repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    runner.env["OPENAI_API_KEY"] = ""  # GitHub passes no secrets to a fork's run
    event = pull_request_event(
        number=PR_NUMBER,
        base_sha=runner.repo.base_sha,
        head_sha=runner.repo.head_sha,
        repository=REPOSITORY,
        head_repository="mallory/support-app",
    )

    run = run_container(runner, github, openai.url, event=event)

    assert run.returncode == 1 and run.outputs["verdict"] == "error"
    assert openai.requests == []
    assert "How to evaluate it safely" in run.summary
    assert "llm-gate could not post everything" in run.summary  # the read-only token's 403s
    assert github.comments(PR_NUMBER) == [] and github.statuses(runner.repo.head_sha) == []
    assert_well_formed(run, runner)
    assert_nothing_root_owned(runner)


def test_older_runner_without_runner_temp_mounted(
    image: Built, github: FakeGitHub, openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Runners before 2.331 pass RUNNER_TEMP as a host path without mounting it: the outputs
    still name files a later step can open, because they live in the workspace."""
    runner = checkout(tmp_path / "work")
    runner.mount_runner_temp = False
    runner.repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})

    run = run_container(runner, github, openai.url)

    assert run.outputs["verdict"] == "fail", run.stdout + run.stderr
    assert_well_formed(run, runner)
    assert_nothing_root_owned(runner)


def test_results_dir_outside_the_workspace_is_an_error(
    image: Built, github: FakeGitHub, openai: FakeOpenAI, tmp_path: Path
) -> None:
    """A `results-dir` no later step could open is one line naming the input, and `error`."""
    runner = checkout(tmp_path / "work")
    runner.repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})

    run = run_container(runner, github, openai.url, results_dir="/github/runner_temp/out")

    assert run.returncode == 1 and run.outputs["verdict"] == "error"
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "input `results-dir`" in errors[0], run.stdout
    assert openai.requests == []
    assert_nothing_root_owned(runner)


def test_dependency_layer_survives_a_readme_change(image: Built) -> None:
    """Editing the README (or the source) rebuilds neither the dependency layer nor the apt
    layer: they depend on the lock files alone."""
    readme = image.context / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    seconds, log = build(image.context, image.base, tag="llm-gate:image-test-readme")
    steps = log.split("\nStep ")
    lock_step = next(
        s for s in steps if "--require-hashes" in s and s.lstrip().startswith(tuple("0123456789"))
    )
    assert "Using cache" in lock_step, lock_step
    record("rebuild after a README change", f"{seconds:.0f} s", "–", True)
    docker("rmi", "llm-gate:image-test-readme")
