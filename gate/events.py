"""The triggering event: which commits a run compares and where its results go.

Pure: the shell reads `GITHUB_EVENT_NAME` and the `GITHUB_EVENT_PATH` payload and passes them
in; `parse_event` turns them into a `GateTarget`, or raises `UnsupportedEvent` with one line
saying what to do (and the shell then posts no status, so nothing can pass by mistake).
`parse_workflow_run` reads the `workflow_run` event that `mode: publish` posts results from.

What each event carries: https://docs.github.com/webhooks/webhook-events-and-payloads, and
what triggers a workflow: https://docs.github.com/actions/reference/events-that-trigger-workflows
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.errors import GateError, UnsupportedEvent

ZERO_SHA = "0" * 40  # `push.before` of a new branch, `push.after` of a deleted one
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 repositories
HANDLED = ("pull_request", "merge_group", "push", "workflow_dispatch")


@dataclass(frozen=True, slots=True)
class GateTarget:
    """What one run evaluates and where it reports.

    The head side is always the checked-out working tree; `head_sha` names that commit for the
    report and is where the commit status goes. The base side is the merge base of `base` and
    the checkout (`base` is a commit SHA, or a branch name when `base_is_branch`).
    """

    event: str
    head_sha: str
    base: str
    base_is_branch: bool
    base_label: str  # how the report names the base ("main", or a SHA)
    head_label: str  # how the report names the head
    status: bool  # post the commit status on `head_sha`
    pr_number: int | None = None  # the pull request whose sticky comment this run keeps
    fork: bool = False  # a pull request from another repository: no secrets, read-only token
    head_repo: str | None = None  # the fork's `owner/name` (None when the fork was deleted)
    note: str | None = None  # why the status or the comment is left out, for the log

    @property
    def comments(self) -> bool:
        return self.pr_number is not None


@dataclass(frozen=True, slots=True)
class WorkflowRunSource:
    """The run of the `pull_request` workflow a `workflow_run` event reports on."""

    head_sha: str  # the commit that run evaluated: the only SHA `mode: publish` posts on
    head_repo: str | None  # where that commit comes from (a fork's `owner/name`)
    repository: str  # this repository
    event: str  # what triggered that run (`pull_request`)
    conclusion: str | None
    run_url: str | None  # the run's page, where its job summary is
    pr_numbers: tuple[int, ...]  # GitHub leaves this empty for runs from forks

    @property
    def fork(self) -> bool:
        return self.head_repo != self.repository


def parse_event(
    name: str | None,
    payload: Mapping[str, Any],
    *,
    github_sha: str | None = None,
    base_ref: str | None = None,
    allow_pull_request_target: bool = False,
) -> GateTarget:
    """The run's `GateTarget` for event `name`; `UnsupportedEvent` for anything else.

    `github_sha` is `GITHUB_SHA` (the checked-out commit of a `workflow_dispatch`), `base_ref`
    the `base-ref` input, which overrides the base every event would choose.
    """
    if name == "pull_request":
        return _pull_request(name, payload, base_ref)
    if name == "pull_request_target":
        if not allow_pull_request_target:
            raise UnsupportedEvent(
                "event 'pull_request_target' runs with a write token and the repository's "
                "secrets, so evaluating the pull request's files there hands them to its "
                "author: llm-gate refuses unless you set `allow-pull-request-target: true` "
                "(see 'Fork pull requests' in the llm-gate README); no status was posted"
            )
        return _pull_request(name, payload, base_ref)
    if name == "merge_group":
        return _merge_group(payload, base_ref)
    if name == "push":
        return _push(payload, base_ref)
    if name == "workflow_dispatch":
        return _workflow_dispatch(payload, github_sha, base_ref)
    if name == "workflow_run":
        raise UnsupportedEvent(
            "event 'workflow_run' posts the results of another run: set `mode: publish` and "
            "`results-dir` to its downloaded artifact (see 'Fork pull requests' in the llm-gate "
            "README); no status was posted"
        )
    raise UnsupportedEvent(
        f"event '{name or 'unknown'}' is not handled: run llm-gate on "
        f"{', '.join(HANDLED)} (or `mode: publish` on workflow_run); no status was posted"
    )


def parse_workflow_run(payload: Mapping[str, Any]) -> WorkflowRunSource:
    """The `workflow_run` event `mode: publish` runs on (its fields, checked)."""
    run = _field(payload, "workflow_run", dict, "workflow_run")
    pulls = _field(run, "pull_requests", list, "workflow_run")
    numbers = []
    for pull in pulls:
        number = pull.get("number") if isinstance(pull, dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            numbers.append(number)
    head_repo = run.get("head_repository")
    url = run.get("html_url")
    conclusion = run.get("conclusion")
    return WorkflowRunSource(
        head_sha=_sha(run, "head_sha", "workflow_run"),
        head_repo=_full_name(head_repo),
        repository=_full_name(_field(payload, "repository", dict, "workflow_run")) or "",
        event=_field(run, "event", str, "workflow_run"),
        conclusion=conclusion if isinstance(conclusion, str) else None,
        run_url=url if isinstance(url, str) and url.startswith("https://") else None,
        pr_numbers=tuple(numbers),
    )


# --------------------------------------------------------------------------- events


def _pull_request(name: str, payload: Mapping[str, Any], base_ref: str | None) -> GateTarget:
    pr = _field(payload, "pull_request", dict, name)
    head = _field(pr, "head", dict, name)
    base = _field(pr, "base", dict, name)
    number = _field(pr, "number", int, name)
    base_sha = _sha(base, "sha", name)
    head_sha = _sha(head, "sha", name)
    base_repo = _full_name(base.get("repo")) or _full_name(payload.get("repository"))
    head_repo = _full_name(head.get("repo"))  # null when the fork has been deleted
    return GateTarget(
        event=name,
        head_sha=head_sha,
        base=base_ref or base_sha,
        base_is_branch=bool(base_ref),
        base_label=base_ref or base_sha,
        head_label=head_sha,
        status=True,
        pr_number=number,
        fork=head_repo is None or head_repo != base_repo,
        head_repo=head_repo,
    )


def _merge_group(payload: Mapping[str, Any], base_ref: str | None) -> GateTarget:
    action = payload.get("action")
    if action != "checks_requested":
        raise UnsupportedEvent(
            f"event 'merge_group' with action '{action}' needs no check: nothing to evaluate; "
            "no status was posted"
        )
    group = _field(payload, "merge_group", dict, "merge_group")
    head_sha = _sha(group, "head_sha", "merge_group")
    base_sha = _sha(group, "base_sha", "merge_group")
    return GateTarget(
        event="merge_group",
        head_sha=head_sha,
        base=base_ref or base_sha,
        base_is_branch=bool(base_ref),
        base_label=base_ref or _branch(group.get("base_ref")) or base_sha,
        head_label=head_sha,
        status=True,
        note="a merge queue run: the status goes on the queue's commit, no comment",
    )


def _push(payload: Mapping[str, Any], base_ref: str | None) -> GateTarget:
    ref = _field(payload, "ref", str, "push")
    after = _sha(payload, "after", "push")
    if payload.get("deleted") is True or after == ZERO_SHA:
        raise UnsupportedEvent(f"push deleted {ref}: nothing to evaluate; no status was posted")
    before = _sha(payload, "before", "push")
    default = _default_branch(payload)
    if base_ref:
        base, is_branch = base_ref, True
    elif before != ZERO_SHA:
        base, is_branch = before, False
    elif default:
        base, is_branch = default, True  # a new branch: compare it with the default branch
    else:
        raise GateError(
            "GITHUB_EVENT_PATH: the push created a branch and names no default branch to "
            "compare it with: set the `base-ref` input"
        )
    # A pull request run owns the status of its head commit; a push to that branch compares
    # only the pushed commits and must not overwrite it, so only the default branch gets one.
    on_default = bool(default) and ref == f"refs/heads/{default}"
    return GateTarget(
        event="push",
        head_sha=after,
        base=base,
        base_is_branch=is_branch,
        base_label=base,
        head_label=_branch(ref) or after,
        status=on_default,
        note=None
        if on_default
        else f"a push to {ref}: the report goes to the job summary only (no status, no comment)",
    )


def _workflow_dispatch(
    payload: Mapping[str, Any], github_sha: str | None, base_ref: str | None
) -> GateTarget:
    if not github_sha or not _SHA.fullmatch(github_sha):
        raise GateError("GITHUB_SHA is not set: llm-gate needs the checked-out commit")
    base = base_ref or _default_branch(payload)
    if not base:
        raise GateError(
            "workflow_dispatch: the event names no default branch to compare with: "
            "set the `base-ref` input"
        )
    ref = payload.get("ref")
    return GateTarget(
        event="workflow_dispatch",
        head_sha=github_sha,
        base=base,
        base_is_branch=True,
        base_label=base,
        head_label=_branch(ref) or github_sha,
        status=False,
        note="a manual run: the report goes to the job summary only (no status, no comment)",
    )


# --------------------------------------------------------------------------- fields


def _field(data: Mapping[str, Any], key: str, kind: type, event: str) -> Any:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise GateError(
            f"GITHUB_EVENT_PATH: not a {event} event payload ({key!r} is missing or not a "
            f"{kind.__name__})"
        )
    return value


def _sha(data: Mapping[str, Any], key: str, event: str) -> str:
    value = _field(data, key, str, event)
    if not _SHA.fullmatch(value):
        raise GateError(f"GITHUB_EVENT_PATH: {key} of the {event} event is not a commit SHA")
    return str(value)


def _full_name(repo: Any) -> str | None:
    name = repo.get("full_name") if isinstance(repo, Mapping) else None
    return name if isinstance(name, str) and name else None


def _default_branch(payload: Mapping[str, Any]) -> str | None:
    repo = payload.get("repository")
    branch = repo.get("default_branch") if isinstance(repo, Mapping) else None
    return branch if isinstance(branch, str) and branch else None


def _branch(ref: Any) -> str | None:
    if not isinstance(ref, str) or not ref:
        return None
    return ref.removeprefix("refs/heads/")
