"""`mode: gate`, what the Docker action runs (`llm-gate run`): event → pipeline → effects.

`run_action` reads the event, hands `mode: publish` to gate/publish.py, and otherwise gates
the pull request: the pending status, the evaluation (gate/pipeline.py), then the report's
effects (gate/effects.py).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.detect import possibly_relevant
from gate.effects import Refusals, StatusReporter, exit_code, github_client, publish, status_for
from gate.errors import (
    CannotPublish,
    GateError,
    GitError,
)
from gate.git import Git
from gate.models import ChangeSet, Report, RunInfo, Verdict
from gate.pipeline import Outcome, evaluate_change, load_config
from gate.settings import Settings
from gate.workflow import Console, write_outputs

if TYPE_CHECKING:
    from gate.events import GateTarget

# What only the action needs (events, artifacts, ownership) and what only the report needs
# (gate.report, with jinja2 and tabulate) is imported where it is used: `llm-gate eval` starts
# its calls without them, and a cold run imports the report's on a thread meanwhile.


def read_event(settings: Settings) -> dict[str, Any]:
    """The payload at GITHUB_EVENT_PATH, as the runner wrote it."""
    path = settings.github_event_path
    if not path or not Path(path).is_file():
        raise GateError(
            "GITHUB_EVENT_PATH is not set or missing: llm-gate run needs the event payload"
        )
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise GateError(f"{path}: the event payload is not JSON") from None
    if not isinstance(payload, dict):
        raise GateError(f"{path}: the event payload is not a JSON object")
    return payload


def read_target(settings: Settings) -> GateTarget:
    """What this run evaluates and where it reports (gate/events.py), from the event."""
    from gate.events import HANDLED, parse_event

    name = settings.github_event_name
    known = (*HANDLED, "pull_request_target")
    return parse_event(
        name,
        read_event(settings) if name in known else {},
        github_sha=settings.github_sha,
        base_ref=settings.base_ref,
        allow_pull_request_target=settings.allow_pull_request_target,
    )


def run_action(
    settings: Settings,
    console: Console,
    *,
    github_factory: Callable[[Settings], Any] | None = None,
) -> int:
    """Run the gate as the action does; returns the process exit code."""
    from gate.ownership import run_as_owner_of

    run_as_owner_of(settings.workspace)
    for secret in settings.secrets():
        console.mask(secret)
    try:
        settings.check_supported()
        if settings.mode == "publish":
            from gate.publish import run_publish  # which imports this module

            return run_publish(settings, console, github_factory=github_factory)
        target = read_target(settings)
    except GateError as exc:
        # Nothing was evaluated and no status is posted: an event llm-gate does not gate must
        # not leave a status that reads like a verdict.
        console.error(str(exc))
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        return 1
    return _gate(settings, console, target, github_factory)


def _gate(
    settings: Settings,
    console: Console,
    target: GateTarget,
    github_factory: Callable[[Settings], Any] | None,
) -> int:
    """Evaluate the change `target` names, post what it says to post, return the exit code."""
    from gate.report.render import render_report

    if target.event == "pull_request_target":
        console.warning(
            "pull_request_target with `allow-pull-request-target: true`: llm-gate is reading "
            "this pull request's files with a write token and the repository's secrets; make "
            "sure a maintainer approved this run after reading the change"
        )
    if target.note:
        console.info(f"llm-gate: {target.note}")
    github = github_client(settings, github_factory, console)
    refusals = Refusals(console, fork=target.fork, summary_path=settings.github_step_summary)
    status = StatusReporter(
        github, console, target.head_sha if target.status else None, settings, refusals
    )
    status.post("pending", "Evaluating the change…")
    info = RunInfo(
        repository=settings.github_repository,
        config_path=settings.config,
        run_url=settings.run_url,
        base_ref=target.base_label,
        head_ref=target.head_label,
    )
    evaluated: Outcome | None = None
    try:
        git = Git(_checkout(settings))
        try:
            base_rev = _base_commit(git, target)
        except GitError as exc:
            report = _report_from_pr_files(settings, git, github, target, info, exc)
        else:
            outcome = evaluate_change(
                settings,
                console,
                git,
                base_rev,
                info,
                head_sha=target.head_sha,
                fork_repo=(target.head_repo or "") if target.fork else None,
            )
            report = outcome.report
            evaluated = outcome
    except GateError as exc:
        console.error(str(exc))
        report = render_report(None, None, {}, info, error=str(exc))
    except BaseException:
        status.post("error", "llm-gate crashed before it could decide; see the workflow log")
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        raise
    try:
        publish(report, settings, console, github, target, refusals, outcome=evaluated)
    finally:
        state, description = status_for(report, settings.fail_on)
        status.post(state, description)
        refusals.report()
    return exit_code(report.verdict, settings.fail_on)


def _checkout(settings: Settings) -> Path:
    """The workspace, which must be a directory (a relative GITHUB_WORKSPACE is read from the
    current directory, where it is rarely what was meant)."""
    workspace = settings.workspace
    if workspace.is_dir():
        return workspace
    raw = settings.github_workspace or "."
    relative = "" if Path(raw).is_absolute() else f", read relative to {Path.cwd()}"
    raise GitError(
        f"GITHUB_WORKSPACE '{raw}': no such directory{relative}; it must be the absolute path "
        "of the checkout (the runner sets it; do not override it in `env:`)"
    )


def _report_from_pr_files(
    settings: Settings,
    git: Git,
    github: Any,
    target: GateTarget,
    info: RunInfo,
    error: GitError,
) -> Report:
    """The base commit is not in the checkout (shallow clone): ask GitHub which files the PR
    changes. When none of them is one a suite could depend on, the gate can still say so
    without reading the base side; otherwise the git error stands (it asks for
    `fetch-depth: 0`)."""
    from gate.report.render import render_report

    if github is None or target.pr_number is None:
        raise error
    try:
        changed = [path for _status, path, _old in github.list_pr_files(target.pr_number)]
    except CannotPublish:
        raise error from None
    config = load_config(git, None, settings.config)
    if possibly_relevant(config, settings.config, changed):
        raise error
    changes = ChangeSet(
        base_sha=target.base,
        head_sha=target.head_sha,
        changed_paths=tuple(sorted(changed)),
        files=(),
        values=(),
        suites_to_run=(),
    )
    return render_report(None, changes, {}, info)


def _base_commit(git: Git, target: GateTarget) -> str:
    """The fork point: merge base of the target's base and the checked-out HEAD.

    A branch name is looked up as `origin/<name>` first (actions/checkout fetches the other
    branches as remote-tracking refs only), then as given.
    """
    if target.base_is_branch:
        with contextlib.suppress(GitError):
            return git.merge_base(f"origin/{target.base}", "HEAD")
    return git.merge_base(target.base, "HEAD")
