"""`run_action` in-process for every event a required check meets, forks, races and
`mode: publish`: real git repositories, the fake OpenAI server on 127.0.0.1 and the in-memory
GitHub port, asserting on the statuses and comments it holds."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gate.action import run_action
from gate.errors import CannotPublish
from gate.github import StickyComment
from gate.report.comment import comment_marker
from gate.settings import Settings
from gate.workflow import Console
from tests.end_to_end.conftest import (
    API_KEY,
    BAD_SYSTEM,
    REPOSITORY,
    PullRequestRepo,
    _parse_outputs,
    git,
    new_pull_request_repo,
    responder,
    write,
)
from tests.fakes.events import (
    merge_group_event,
    pull_request_event,
    push_event,
    workflow_dispatch_event,
    workflow_run_event,
)
from tests.fakes.github_memory import MemoryGitHub
from tests.fakes.openai_server import FakeOpenAI

PR = 42
MARKER = comment_marker("llm-gate.yml")
GITHUB_TOKEN = "ghs_integrationTokenNeverShown0123"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    results_dir: Path


@dataclass
class Harness:
    """Runs `run_action` with the runner's settings against one repository and the fakes."""

    tmp: Path
    openai: FakeOpenAI
    github: MemoryGitHub
    runs: int = 0

    def run(
        self,
        repo: PullRequestRepo | None,
        event_name: str,
        event: dict[str, Any],
        **fields: Any,
    ) -> Result:
        self.runs += 1
        temp = self.tmp / f"temp-{self.runs}"
        temp.mkdir()
        (temp / "event.json").write_text(json.dumps(event), encoding="utf-8")
        (temp / "output").touch()
        (temp / "summary.md").touch()
        workspace = repo.root if repo else temp / "empty-workspace"
        workspace.mkdir(exist_ok=True)
        values: dict[str, Any] = {
            "github_actions": True,
            "github_token": GITHUB_TOKEN,
            "github_repository": REPOSITORY,
            "github_event_name": event_name,
            "github_event_path": str(temp / "event.json"),
            "github_workspace": str(workspace),
            "github_output": str(temp / "output"),
            "github_step_summary": str(temp / "summary.md"),
            "github_run_id": "99",
            "openai_api_key": API_KEY,
            "openai_base_url": self.openai.url,
            "cache_dir": str(self.tmp / "cache"),
            "concurrency": 8,
        }
        if "github_sha" not in fields:  # what actions/checkout left checked out
            values["github_sha"] = "f" * 40 if repo is None else git(repo.root, "rev-parse", "HEAD")
        values.update(fields)
        out, err = io.StringIO(), io.StringIO()
        code = run_action(
            Settings(**values),
            Console(actions=True, out=out, err=err),
            github_factory=lambda _settings: self.github,
        )
        return Result(
            code,
            out.getvalue(),
            err.getvalue(),
            _parse_outputs((temp / "output").read_text(encoding="utf-8")),
            (temp / "summary.md").read_text(encoding="utf-8"),
            Path(values.get("results_dir") or workspace / ".llm-gate" / "results"),
        )


@pytest.fixture(autouse=True)
def _runner_free_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test alone, even when the tests run inside GitHub Actions."""
    for name in list(os.environ):
        if name.startswith(("INPUT_", "GITHUB_", "OPENAI_", "LLM_GATE_", "RUNNER_")):
            monkeypatch.delenv(name)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with FakeOpenAI(responder=responder) as openai:
        yield Harness(tmp_path, openai, MemoryGitHub())


@pytest.fixture
def repo(tmp_path: Path) -> PullRequestRepo:
    return new_pull_request_repo(tmp_path / "workspace")


def pr_event(repo: PullRequestRepo, **kwargs: Any) -> dict[str, Any]:
    return pull_request_event(
        number=PR, base_sha=repo.base_sha, head_sha=repo.head_sha, repository=REPOSITORY, **kwargs
    )


def commit(repo: PullRequestRepo, changes: dict[str, str], message: str = "change") -> str:
    write(repo.root, changes)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", message)
    return git(repo.root, "rev-parse", "HEAD")


def states(github: MemoryGitHub, sha: str) -> list[str]:
    return [s.state for s in github.statuses_for(sha)]


def warnings(result: Result) -> list[str]:
    """The run's own warnings (annotations on changed prompt lines have a `file=`)."""
    return [line for line in result.stdout.splitlines() if line.startswith("::warning::")]


# --------------------------------------------------------------------------- events


def test_merge_group_posts_on_the_queue_commit_without_a_comment(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """merge_group: the queue's commit against its base, `failure` on that commit, no comment."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    queued = git(repo.root, "rev-parse", "HEAD")
    event = merge_group_event(base_sha=repo.base_sha, head_sha=queued)

    result = harness.run(repo, "merge_group", event)

    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert states(harness.github, queued) == ["pending", "failure"]
    assert harness.github.comments == [] and "| contains" in result.summary
    assert not (result.results_dir / "llm-gate-publish.json").exists()


def test_stacked_pull_request_evaluates_only_its_own_change(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A PR into another feature branch compares with that branch, not with main."""
    git(repo.root, "checkout", "-q", "-b", "feature-a")
    base = commit(repo, {"prompts/system.md": BAD_SYSTEM + "\n"}, "a: shorter answers")
    git(repo.root, "checkout", "-q", "-b", "feature-b")
    head = commit(repo, {"README.md": "# Support app\n\nStacked.\n"}, "b: docs")
    git(repo.root, "checkout", "-q", "--detach", base)
    git(repo.root, "merge", "-q", "--no-ff", "-m", "Merge feature-b", "feature-b")
    harness.github.pull_heads[PR] = head
    event = pull_request_event(
        number=PR, base_sha=base, head_sha=head, base_ref="feature-a", head_ref="feature-b"
    )

    result = harness.run(repo, "pull_request", event)

    assert result.code == 0 and result.outputs["verdict"] == "skipped"
    assert states(harness.github, head)[-1] == "success"
    assert harness.openai.requests == []


def test_push_to_the_default_branch_compares_before_and_after(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """push: before..after in the job summary and a status on `after`; no comment."""
    after = commit(repo, {"prompts/system.md": BAD_SYSTEM + "\n"})

    result = harness.run(repo, "push", push_event(before=repo.base_sha, after=after))

    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert states(harness.github, after) == ["pending", "failure"]
    assert harness.github.comments == [] and "| contains" in result.summary


def test_push_to_a_feature_branch_leaves_the_status_to_the_pull_request(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A push to a PR's branch reports to the job summary only: the PR run owns that status."""
    git(repo.root, "checkout", "-q", "-b", "feature")
    after = commit(repo, {"prompts/system.md": BAD_SYSTEM + "\n"})
    event = push_event(before=repo.base_sha, after=after, ref="refs/heads/feature")

    result = harness.run(repo, "push", event)

    assert result.code == 1 and "| contains" in result.summary
    assert harness.github.statuses == [] and harness.github.comments == []
    assert "job summary only" in result.stdout


def test_workflow_dispatch_reports_to_the_summary_only(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """workflow_dispatch: HEAD against the default branch, no status, no comment."""
    git(repo.root, "checkout", "-q", "-b", "try-shorter")
    commit(repo, {"prompts/system.md": BAD_SYSTEM + "\n"})
    event = workflow_dispatch_event(ref="refs/heads/try-shorter")

    result = harness.run(repo, "workflow_dispatch", event)

    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert "| contains" in result.summary and "try-shorter" in result.summary
    assert harness.github.statuses == [] and harness.github.comments == []


def test_unhandled_event_posts_no_status(harness: Harness, repo: PullRequestRepo) -> None:
    """An event llm-gate does not gate: one error line, verdict error, no status at all."""
    result = harness.run(repo, "issue_comment", {"action": "created"})

    assert result.code == 1 and result.outputs == {"verdict": "error"}
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "issue_comment" in errors[0]
    assert harness.github.statuses == [] and harness.openai.requests == []


def test_pull_request_target_is_refused_unless_opted_in(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """pull_request_target: refused without the input; with it, evaluated under a loud warning."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    harness.github.pull_heads[PR] = repo.head_sha

    refused = harness.run(repo, "pull_request_target", pr_event(repo))
    assert refused.code == 1 and "allow-pull-request-target" in refused.stdout
    assert harness.github.statuses == [] and harness.openai.requests == []

    allowed = harness.run(
        repo, "pull_request_target", pr_event(repo), allow_pull_request_target=True
    )
    assert any("write token" in w for w in warnings(allowed))
    assert allowed.outputs["verdict"] == "fail"
    assert states(harness.github, repo.head_sha)[-1] == "failure"


# --------------------------------------------------------------------------- forks, permissions


def test_fork_pull_request_without_secrets_is_not_evaluated(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A fork PR touching a prompt, no key: no model call, `error` status, the summary says why."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    harness.github.pull_heads[PR] = repo.head_sha
    event = pr_event(repo, head_repository="mallory/support-app")

    result = harness.run(repo, "pull_request", event, openai_api_key=None)

    assert harness.openai.requests == []
    assert result.code == 1 and result.outputs["verdict"] == "error"
    status = harness.github.latest_status(repo.head_sha, "llm-gate")
    assert status is not None and status.state == "error"
    assert status.description.startswith("Not evaluated: fork PR (mallory/support-app)")
    assert "How to evaluate it safely" in result.summary and "merge queue" in result.summary
    assert "mallory/support-app" in harness.github.comments[0].body
    assert "OPENAI_API_KEY" not in result.stdout + result.stderr


def test_fork_pull_request_touching_nothing_relevant_passes_without_secrets(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A fork PR that changes only docs needs no model: `success`, nothing relevant changed."""
    repo.open_pull_request({"README.md": "# Support app\n\nTypo fixed.\n"})
    harness.github.pull_heads[PR] = repo.head_sha
    event = pr_event(repo, head_repository="mallory/support-app")

    result = harness.run(repo, "pull_request", event, openai_api_key=None)

    assert result.code == 0 and result.outputs["verdict"] == "skipped"
    assert states(harness.github, repo.head_sha)[-1] == "success"


def test_read_only_token_is_one_line_and_the_same_verdict(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """403 on every write: one warning naming both permissions, the full summary, exit 1."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    harness.github.pull_heads[PR] = repo.head_sha
    harness.github.read_only = True

    result = harness.run(repo, "pull_request", pr_event(repo))

    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert warnings(result) == [
        "::warning::GitHub refused to post the report (403 Resource not accessible by "
        "integration): add `permissions: {pull-requests: write, statuses: write}` to the "
        "workflow job (fork PRs get a read-only token); the full report is in the job summary"
    ]
    assert "| contains" in result.summary and "Traceback" not in result.stderr
    assert harness.github.statuses == [] and harness.github.comments == []
    # the job summary, where people look when the comment is not there, says it too
    assert result.summary.endswith(
        "\n\n#### ⚠️ llm-gate could not post everything\n\n- GitHub refused to post the report "
        "(403 Resource not accessible by integration): add &#96;permissions: {pull-requests: "
        "write, statuses: write}&#96; to the workflow job (fork PRs get a read-only token); the "
        "full report is in the job summary\n"
    )


class RefusingGitHub(MemoryGitHub):
    """GitHub refusing the comment and the status for reasons other than permissions."""

    def create_comment(self, pr_number: int, body: str) -> StickyComment:
        raise CannotPublish(
            "GitHub refused to create the comment on PR #42 (403: blocked by a rule)"
        )

    def set_status(
        self, sha: str, state: str, description: str, context: str, target_url: str | None
    ) -> None:
        if state != "pending":
            raise CannotPublish("GitHub refused the status (422: No commit found for SHA)")
        super().set_status(sha, state, description, context, target_url)


def test_a_failure_to_post_goes_into_the_job_summary_too(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A 403 on the comment and a 422 on the status: warnings in the log and a section in the
    job summary naming both; the verdict and exit code stay the gate's."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    harness.github = RefusingGitHub(pull_heads={PR: repo.head_sha})

    result = harness.run(repo, "pull_request", pr_event(repo))

    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert result.outputs["comment-url"] == ""
    section = result.summary.split("#### ⚠️ llm-gate could not post everything\n", 1)[1]
    assert section == (
        "\n- could not post the PR comment: GitHub refused to create the comment on PR #\u200d42 "
        "(403: blocked by a rule)"
        "\n- could not post the &#96;failure&#96; commit status: GitHub refused the status (422: "
        "No commit found for SHA)\n"
    )
    assert len(warnings(result)) == 2 and "403: blocked by a rule" in warnings(result)[0]


# --------------------------------------------------------------------------- races


def test_stale_run_leaves_the_newer_comment_and_sets_its_own_status(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A run for an older head: the comment reporting the newer head stays, the status is set."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    newer = "9" * 40
    harness.github.pull_heads[PR] = newer
    newer_body = f"{MARKER}\n<!-- llm-gate head={newer} -->\nnewer report"
    harness.github.add_comment(PR, newer_body, "github-actions[bot]", "Bot")

    result = harness.run(repo, "pull_request", pr_event(repo))

    assert [c.body for c in harness.github.comments] == [newer_body]
    assert states(harness.github, repo.head_sha) == ["pending", "failure"]
    assert result.outputs["comment-url"] == "" and "moved on to 999999999999" in result.stdout


class RacingGitHub(MemoryGitHub):
    """Another run of the same PR creates its comment just before this run creates its own."""

    def create_comment(self, pr_number: int, body: str) -> StickyComment:
        if not self.comments_on(pr_number):
            self.add_comment(pr_number, f"{MARKER}\nthe other run", "github-actions[bot]", "Bot")
        return super().create_comment(pr_number, body)


def test_racing_runs_keep_the_oldest_comment_with_the_current_report(
    tmp_path: Path, repo: PullRequestRepo
) -> None:
    """Two runs both create a comment: the newer one is deleted, the oldest holds this report."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    with FakeOpenAI(responder=responder) as openai:
        github = RacingGitHub(pull_heads={PR: repo.head_sha})
        result = Harness(tmp_path, openai, github).run(repo, "pull_request", pr_event(repo))

    comments = github.comments_on(PR)
    assert len(comments) == 1 and comments[0].body.startswith(MARKER)
    assert f"head={repo.head_sha}" in comments[0].body and "the other run" not in comments[0].body
    assert result.outputs["comment-url"] == comments[0].html_url


# --------------------------------------------------------------------------- mode: publish


def manifest(head: str, **changes: Any) -> dict[str, Any]:
    """The manifest a pull_request run of commit `head` writes (a pass), with `changes`."""
    from gate.artifact import build_manifest
    from tests.unit.test_render import passing, report_for

    report = report_for(passing())
    data: dict[str, Any] = json.loads(
        build_manifest(report, pr_number=PR, head_sha=head, config="llm-gate.yml")
    )
    return {**data, **changes}


def publish(harness: Harness, data: dict[str, Any] | None, head_sha: str, **kwargs: Any) -> Result:
    """`mode: publish` on a workflow_run event, the artifact `data` downloaded to a folder."""
    folder = harness.tmp / f"artifact-{harness.runs}"
    folder.mkdir()
    if data is not None:
        (folder / "llm-gate-publish.json").write_text(json.dumps(data), encoding="utf-8")
    event = workflow_run_event(head_sha=head_sha, **kwargs)
    return harness.run(None, "workflow_run", event, mode="publish", results_dir=str(folder))


def test_two_workflows_post_what_the_pull_request_run_computed(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A read-only run leaves its results; `mode: publish` posts them without the checkout."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    computed = harness.run(repo, "pull_request", pr_event(repo), github_token=None)
    assert computed.code == 1 and harness.github.statuses == []
    harness.github.pull_heads[PR] = repo.head_sha
    event = workflow_run_event(head_sha=repo.head_sha)

    posted = harness.run(
        None,
        "workflow_run",
        event,
        mode="publish",
        results_dir=str(computed.results_dir),
        openai_api_key=None,
    )

    assert posted.code == 1 and posted.outputs["verdict"] == "fail"
    status = harness.github.latest_status(repo.head_sha, "llm-gate")
    assert status is not None and status.state == "failure"
    assert status.target_url == "https://github.com/acme/support-app/actions/runs/777"
    [comment] = harness.github.comments
    assert comment.body.startswith(f"{MARKER}\n<!-- llm-gate head={repo.head_sha} -->\n")
    assert "| contains" in comment.body and "Posted by llm-gate" in comment.body
    assert posted.outputs["comment-url"] == comment.html_url


@pytest.mark.parametrize(
    ("artifact", "reason"),
    [
        (None, "no llm-gate results"),
        ({"verdict": "PASS"}, "verdict: Input should be"),
        ({"head_sha": "8" * 40}, "not 777777777777"),
        ({"pr_number": 41}, "PR #41, which the workflow run is not for"),
        ({"verdict": "fail"}, "its verdict 'fail' is not what its results give ('pass')"),
        ({"version": 1, "comment": "### ✅ llm-gate: pass"}, "written by an older llm-gate"),
    ],
)
def test_publish_refuses_an_artifact_it_cannot_trust(
    harness: Harness, artifact: dict[str, Any] | None, reason: str
) -> None:
    """Missing, malformed, for another commit or PR: `error` on the run's commit, no comment."""
    head = "7" * 40
    harness.github.pull_heads[PR] = head
    data = None if artifact is None else manifest(head, **artifact)

    result = publish(harness, data, head)

    assert result.code == 1 and result.outputs == {"verdict": "error"}
    assert reason in result.stdout
    status = harness.github.latest_status(head, "llm-gate")
    assert status is not None and status.state == "error"
    assert status.description.startswith("Not published:")
    assert harness.github.comments == []


def test_publish_leaves_the_comment_when_the_pull_request_moved_on(harness: Harness) -> None:
    """The PR's head is no longer the run's commit: its status is set, the comment is not."""
    head = "7" * 40
    harness.github.pull_heads[PR] = "6" * 40

    result = publish(harness, manifest(head), head)

    assert result.code == 0 and harness.github.comments == []
    assert states(harness.github, head) == ["success"]


def test_publish_does_not_trust_a_fork_pass_that_changes_its_workflow(harness: Harness) -> None:
    """A fork's own run reporting a pass while the PR edits .github/: `error`, with a warning."""
    head = "7" * 40
    harness.github.pull_heads[PR] = head
    harness.github.pr_files[PR] = [("modified", ".github/workflows/llm-gate.yml", None)]

    result = publish(harness, manifest(head), head, head_repository="mallory/support-app")

    status = harness.github.latest_status(head, "llm-gate")
    assert status is not None and status.state == "error"
    assert status.description.startswith("Not trusted: the fork PR changes .github/")
    assert "Not trusted:" in harness.github.comments[0].body
    assert "which ran on a fork" in harness.github.comments[0].body
    assert result.outputs["verdict"] == "pass"


def test_publish_posts_a_fork_pass_that_leaves_workflows_alone(harness: Harness) -> None:
    """A fork PR that changes no workflow: its run's pass is posted as `success`."""
    head = "7" * 40
    harness.github.pull_heads[PR] = head
    harness.github.pr_files[PR] = [("modified", "prompts/system.md", None)]

    result = publish(harness, manifest(head), head, head_repository="mallory/support-app")

    assert result.code == 0 and states(harness.github, head) == ["success"]
    assert len(harness.github.comments) == 1


def test_publish_runs_only_on_workflow_run(harness: Harness, repo: PullRequestRepo) -> None:
    """`mode: publish` on a pull_request event: one error line, no status."""
    result = harness.run(repo, "pull_request", pr_event(repo), mode="publish")

    assert result.code == 1 and "workflow_run" in result.stdout
    assert harness.github.statuses == []


# --------------------------------------------------------------------------- shallow checkouts


def _shallow_clone(repo: PullRequestRepo, tmp_path: Path) -> PullRequestRepo:
    """The PR's merge commit checked out with `fetch-depth: 1`: the base commit is missing."""
    git(repo.root, "branch", "-f", "checked-out", "HEAD")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "checked-out",
        f"file://{repo.root}", str(shallow))  # fmt: skip
    return PullRequestRepo(shallow, base_sha=repo.base_sha, head_sha=repo.head_sha)


def test_shallow_checkout_of_an_irrelevant_change_is_skipped_from_the_pr_files(
    harness: Harness, repo: PullRequestRepo, tmp_path: Path
) -> None:
    """Without the base commit, the PR files API still tells a README-only PR apart."""
    repo.open_pull_request({"README.md": "# Support app\n\nDocs only.\n"})
    shallow = _shallow_clone(repo, tmp_path)
    harness.github.pull_heads[PR] = repo.head_sha
    harness.github.pr_files[PR] = [("modified", "README.md", None)]

    result = harness.run(shallow, "pull_request", pr_event(repo))

    assert result.code == 0 and result.outputs["verdict"] == "skipped"
    assert states(harness.github, repo.head_sha) == ["pending", "success"]
    assert harness.openai.requests == []
    assert "README.md" in result.summary


def test_shallow_checkout_of_a_relevant_change_asks_for_the_history(
    harness: Harness, repo: PullRequestRepo, tmp_path: Path
) -> None:
    """A relevant change cannot be evaluated without the base side: one line asks for
    `fetch-depth: 0`, and the status is `error`."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    shallow = _shallow_clone(repo, tmp_path)
    harness.github.pull_heads[PR] = repo.head_sha
    harness.github.pr_files[PR] = [("modified", "prompts/system.md", None)]

    result = harness.run(shallow, "pull_request", pr_event(repo))

    assert result.code == 1 and result.outputs["verdict"] == "error"
    assert states(harness.github, repo.head_sha) == ["pending", "error"]
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "fetch-depth: 0" in errors[0]
    assert harness.openai.requests == []


def test_a_relative_workspace_that_is_not_there_is_named(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """A relative GITHUB_WORKSPACE that names no directory is reported as that, not as a
    missing git."""
    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})

    result = harness.run(repo, "pull_request", pr_event(repo), github_workspace="no/such/dir")

    assert result.code == 1 and result.outputs["verdict"] == "error"
    assert "GITHUB_WORKSPACE 'no/such/dir': no such directory, read relative to" in result.stdout
    assert "git is not installed" not in result.stdout + result.stderr
    assert states(harness.github, repo.head_sha)[-1] == "error"
    assert not Path("no").exists(), "publishing made the missing workspace"


def test_the_action_writes_junit_into_the_results_dir(
    harness: Harness, repo: PullRequestRepo
) -> None:
    """`junit-path` names JUnit XML in results-dir: a test case per case and gating metric, a
    failure for each case that regressed; a skipped run leaves an empty, valid document."""
    import xml.etree.ElementTree as ET

    repo.open_pull_request({"prompts/system.md": BAD_SYSTEM + "\n"})
    harness.github.pull_heads[PR] = repo.head_sha

    result = harness.run(repo, "pull_request", pr_event(repo))

    path = repo.root / result.outputs["junit-path"]  # relative to the workspace, as all paths
    assert path == result.results_dir / "llm-gate-junit.xml"
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "60"
    assert root.get("failures") == "60"  # every case regressed on both metrics
    names = {case.get("classname") for case in root.iter("testcase")}
    assert names == {"support.contains", "support.judge"}

    repo.open_pull_request({"README.md": "docs\n"})
    harness.github.pull_heads[PR] = repo.head_sha
    skipped = harness.run(repo, "pull_request", pr_event(repo))
    empty = ET.parse(repo.root / skipped.outputs["junit-path"]).getroot()
    assert skipped.outputs["verdict"] == "skipped" and empty.get("tests") == "0"
