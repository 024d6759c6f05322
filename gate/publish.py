"""`mode: publish`: the comment and status of a fork's results artifact, on `workflow_run`.

It never checks out or runs the pull request's code; the artifact is read as untrusted
(gate/artifact.py) and posted through gate/effects.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.action import read_event
from gate.effects import (
    Refusals,
    StatusReporter,
    exit_code,
    github_client,
    post_comment,
    status_for_verdict,
)
from gate.errors import (
    CannotPublish,
    ConfigError,
    GateError,
    UnsupportedEvent,
)
from gate.escape import escape_plain
from gate.models import Report, Verdict
from gate.settings import Settings
from gate.workflow import Console, write_outputs

if TYPE_CHECKING:
    from gate.artifact import PublishManifest
    from gate.events import WorkflowRunSource

# What only the action needs (events, artifacts, ownership) and what only the report needs
# (gate.report, with jinja2 and tabulate) is imported where it is used: `llm-gate eval` starts
# its calls without them, and a cold run imports the report's on a thread meanwhile.


def run_publish(
    settings: Settings,
    console: Console,
    *,
    github_factory: Callable[[Settings], Any] | None = None,
) -> int:
    """`mode: publish`: post the comment and status of a pull_request run's results artifact.

    It runs on `workflow_run` with a write token and never checks out or runs the pull
    request's code. The artifact came from that run, which may have run code the pull request
    controls: it is checked strictly (gate/artifact.py), must be for the commit GitHub says the
    run evaluated, and its comment goes up only while that commit is the PR's head.
    """
    from gate.events import parse_workflow_run

    if settings.github_event_name != "workflow_run":
        raise UnsupportedEvent(
            "input `mode`: 'publish' runs `on: workflow_run` and posts the results artifact of "
            f"a pull_request run, not on '{settings.github_event_name}'; no status was posted"
        )
    source = parse_workflow_run(read_event(settings))
    if source.event != "pull_request":
        raise UnsupportedEvent(
            f"the workflow run was triggered by '{source.event}': `mode: publish` posts the "
            "results of pull_request runs; no status was posted"
        )
    github = github_client(settings, github_factory, console)
    if github is None:
        raise ConfigError(
            "input `github-token`: `mode: publish` needs a token with `pull-requests: write` "
            "and `statuses: write` to post the results"
        )
    refusals = Refusals(console, summary_path=settings.github_step_summary)
    status = StatusReporter(
        github, console, source.head_sha, settings, refusals, target_url=source.run_url
    )
    try:
        return _post_artifact(settings, console, github, source, status, refusals)
    except BaseException:
        status.post("error", "llm-gate crashed before it could post the results; see the log")
        raise


def _post_artifact(
    settings: Settings,
    console: Console,
    github: Any,
    source: WorkflowRunSource,
    status: StatusReporter,
    refusals: Refusals,
) -> int:
    """Check the artifact, then post its comment and status; returns the exit code."""
    from dataclasses import replace

    from gate.artifact import ArtifactError, read_relayed_run
    from gate.events import GateTarget
    from gate.report.comment import render_relayed_comment

    try:
        manifest = _read_manifest(settings, source)
        shown = f"{settings.results_dir or settings.results_path}/llm-gate-publish.json"
        run = read_relayed_run(manifest, shown)
        # The comment is rebuilt from the artifact's data; the config path and the run's URL
        # are this run's own, never the artifact's.
        info = replace(run.info, config_path=manifest.config, run_url=source.run_url)

        def relayed(warning: str | None = None) -> Report:
            return render_relayed_comment(
                run.comparison,
                run.changes,
                run.stats,
                info,
                head_sha=source.head_sha,
                fork=source.fork,
                error=run.error,
                fork_repo=run.fork_repo,
                warning=warning,
            )

        rebuilt = relayed()
        if rebuilt.verdict.value != manifest.verdict:
            raise ArtifactError(
                f"{shown}: its verdict '{manifest.verdict}' is not what its results give "
                f"('{rebuilt.verdict.value}'); refusing to post them"
            )
    except GateError as exc:
        console.error(str(exc))
        status.post("error", f"Not published: {escape_plain(str(exc))}")
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        refusals.report()
        return 1
    verdict = rebuilt.verdict
    headline = rebuilt.headline
    state, description = status_for_verdict(verdict, headline, settings.fail_on)
    warning = None
    if source.fork and state == "success":
        warning = _untrusted_fork_change(github, manifest.pr_number)
        if warning is not None:
            state, description = "error", f"Not trusted: {warning}"
            rebuilt = relayed(warning)
    report = replace(
        rebuilt, regressions=manifest.regressions, regressed_cases=manifest.regressed_cases
    )
    target = GateTarget(
        event="workflow_run",
        head_sha=source.head_sha,
        base="",
        base_is_branch=False,
        base_label="",
        head_label=source.head_sha,
        status=True,
        pr_number=manifest.pr_number,
        fork=source.fork,
        head_repo=source.head_repo,
    )
    comment_url = ""
    if settings.comment == "update":
        posting = settings.model_copy(update={"config": manifest.config})
        comment_url = post_comment(report, posting, console, github, target, refusals) or ""
    status.post(state, description)
    folder = settings.results_path
    write_outputs(
        settings.github_output,
        {
            "verdict": verdict.value,
            "report-path": _existing(settings, folder / "llm-gate-report.md"),
            "results-path": _existing(settings, folder / "llm-gate-results.json"),
            "comment-url": comment_url,
            "regressions": str(manifest.regressions),
            "regressed-cases": str(manifest.regressed_cases),
        },
    )
    refusals.report()
    console.info(
        f"llm-gate: posted the results of PR #{manifest.pr_number} at {source.head_sha[:12]}: "
        f"{state}"
    )
    return exit_code(verdict, settings.fail_on)


def _read_manifest(settings: Settings, source: WorkflowRunSource) -> PublishManifest:
    """The artifact's manifest, checked and tied to the run's commit and pull request."""
    from gate.artifact import MANIFEST_NAME, MAX_MANIFEST_BYTES, ArtifactError, parse_manifest

    path = settings.results_path / MANIFEST_NAME
    shown = f"{settings.results_dir or path.parent}/{MANIFEST_NAME}"
    if path.is_symlink() or not path.is_file():
        where = f" (see {source.run_url})" if source.run_url else ""
        raise ArtifactError(
            f"{shown}: no llm-gate results: the pull_request run did not upload them, or "
            f"`results-dir` is not where the artifact was downloaded{where}; re-run that run"
        )
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"{shown}: larger than llm-gate writes; refusing to read it")
    manifest = parse_manifest(path.read_bytes(), shown)
    if manifest.head_sha != source.head_sha:
        raise ArtifactError(
            f"{shown}: the results are for commit {manifest.head_sha[:12]}, not "
            f"{source.head_sha[:12]}, which the workflow run evaluated; refusing to post them"
        )
    if source.pr_numbers and manifest.pr_number not in source.pr_numbers:
        raise ArtifactError(
            f"{shown}: the results name PR #{manifest.pr_number}, which the workflow run is not "
            "for; refusing to post them"
        )
    return manifest


def _untrusted_fork_change(github: Any, number: int) -> str | None:
    """Why a pass that a fork's own run reports cannot be trusted, if it cannot.

    The fork's run used the fork's copy of the workflow: a pull request that changes anything
    under `.github/` could have written any results. (A pull request of this repository's own
    branches needs write access, with which its author could set the status directly.)
    """
    try:
        files = github.list_pr_files(number)
    except CannotPublish:
        return "could not list the fork PR's files to check its workflow; evaluate it here"
    if len(files) >= 3000:
        return "the fork PR changes 3,000+ files, too many to check its workflow"
    for _status, path, previous in files:
        if any(p and p.startswith(".github/") for p in (path, previous)):
            return "the fork PR changes .github/, so its own run's results prove nothing"
    return None


def _existing(settings: Settings, path: Path) -> str:
    return settings.output_path(path) if path.is_file() and not path.is_symlink() else ""
