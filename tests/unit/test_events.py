"""Unit tests of gate/events.py: every event a required check meets, as a `GateTarget`."""

from __future__ import annotations

import pytest

from gate.errors import GateError, UnsupportedEvent
from gate.events import ZERO_SHA, parse_event, parse_workflow_run
from tests.fakes.events import (
    merge_group_event,
    pull_request_event,
    push_event,
    workflow_dispatch_event,
    workflow_run_event,
)

BASE = "1" * 40
HEAD = "2" * 40
REPO = "acme/support-app"


def _pr(**kwargs: object) -> dict[str, object]:
    return pull_request_event(number=7, base_sha=BASE, head_sha=HEAD, repository=REPO, **kwargs)  # type: ignore[arg-type]


def test_pull_request_comments_and_posts_on_the_head() -> None:
    """A pull request: base is the PR's base commit, status and comment on the head SHA."""
    target = parse_event("pull_request", _pr())
    assert (target.base, target.base_is_branch, target.head_sha) == (BASE, False, HEAD)
    assert target.status and target.pr_number == 7 and not target.fork


def test_stacked_pull_request_compares_with_its_own_base_branch() -> None:
    """A PR into another feature branch compares with that branch's commit, not main."""
    target = parse_event("pull_request", _pr(base_ref="feature-a", head_ref="feature-b"))
    assert target.base == BASE and target.pr_number == 7


def test_base_ref_input_overrides_the_base() -> None:
    """The `base-ref` input replaces the event's base and is looked up as a branch."""
    target = parse_event("pull_request", _pr(), base_ref="release")
    assert (target.base, target.base_is_branch, target.base_label) == ("release", True, "release")


def test_fork_pull_request_is_marked() -> None:
    """A head repository other than the base repository is a fork."""
    target = parse_event("pull_request", _pr(head_repository="mallory/support-app"))
    assert target.fork and target.head_repo == "mallory/support-app"


def test_deleted_fork_is_still_a_fork() -> None:
    """GitHub sends `head.repo: null` once the fork is deleted: still a fork."""
    event = _pr(head_repository="mallory/support-app")
    event["pull_request"]["head"]["repo"] = None  # type: ignore[index]
    target = parse_event("pull_request", event)
    assert target.fork and target.head_repo is None


def test_pull_request_target_is_refused_without_opt_in() -> None:
    """pull_request_target reads PR content with secrets: refused unless the input opts in."""
    with pytest.raises(UnsupportedEvent, match="allow-pull-request-target: true"):
        parse_event("pull_request_target", _pr())
    target = parse_event("pull_request_target", _pr(), allow_pull_request_target=True)
    assert target.event == "pull_request_target" and target.pr_number == 7


def test_merge_group_posts_on_the_queue_commit_without_comment() -> None:
    """A merge queue: the group's head against its base, status there, no comment."""
    target = parse_event("merge_group", merge_group_event(base_sha=BASE, head_sha=HEAD))
    assert (target.base, target.head_sha, target.base_label) == (BASE, HEAD, "main")
    assert target.status and target.pr_number is None and not target.comments


def test_merge_group_other_actions_are_not_checked() -> None:
    """Only `checks_requested` asks for a check."""
    event = merge_group_event(base_sha=BASE, head_sha=HEAD, action="destroyed")
    with pytest.raises(UnsupportedEvent, match="destroyed"):
        parse_event("merge_group", event)


def test_push_to_the_default_branch_compares_before_and_after() -> None:
    """A push: before..after, a status on `after`, no comment."""
    target = parse_event("push", push_event(before=BASE, after=HEAD))
    assert (target.base, target.head_sha, target.status, target.pr_number) == (
        BASE,
        HEAD,
        True,
        None,
    )


def test_push_to_another_branch_posts_no_status() -> None:
    """A push to a PR's branch must not overwrite the status the PR's run owns."""
    target = parse_event("push", push_event(before=BASE, after=HEAD, ref="refs/heads/feature"))
    assert not target.status and target.note and "job summary" in target.note


def test_push_creating_a_branch_compares_with_the_default_branch() -> None:
    """A new branch has no `before`: it is compared with the default branch."""
    target = parse_event("push", push_event(before=ZERO_SHA, after=HEAD, ref="refs/heads/x"))
    assert (target.base, target.base_is_branch) == ("main", True)


def test_push_deleting_a_branch_is_not_evaluated() -> None:
    """A deleted branch has nothing to evaluate."""
    event = push_event(before=BASE, after=ZERO_SHA, ref="refs/heads/x", deleted=True)
    with pytest.raises(UnsupportedEvent, match="nothing to evaluate"):
        parse_event("push", event)


def test_workflow_dispatch_compares_head_with_the_default_branch() -> None:
    """A manual run: GITHUB_SHA against `base-ref` or the default branch, summary only."""
    event = workflow_dispatch_event(ref="refs/heads/try-gpt-5")
    target = parse_event("workflow_dispatch", event, github_sha=HEAD)
    assert (target.base, target.base_is_branch, target.head_sha) == ("main", True, HEAD)
    assert not target.status and not target.comments and target.head_label == "try-gpt-5"
    assert parse_event("workflow_dispatch", event, github_sha=HEAD, base_ref="v1").base == "v1"


def test_workflow_dispatch_needs_github_sha() -> None:
    """Without GITHUB_SHA there is no head to name."""
    with pytest.raises(GateError, match="GITHUB_SHA"):
        parse_event("workflow_dispatch", workflow_dispatch_event())


@pytest.mark.parametrize("name", ["issue_comment", "schedule", None])
def test_unhandled_events_get_one_clear_line(name: str | None) -> None:
    """An event llm-gate does not gate: a message naming the events it does, no status."""
    with pytest.raises(UnsupportedEvent) as caught:
        parse_event(name, {})
    message = str(caught.value)
    assert "\n" not in message and "merge_group" in message and "no status" in message


def test_workflow_run_in_gate_mode_points_to_publish() -> None:
    """workflow_run is for `mode: publish`."""
    with pytest.raises(UnsupportedEvent, match="mode: publish"):
        parse_event("workflow_run", workflow_run_event(head_sha=HEAD))


def test_malformed_payload_names_the_field() -> None:
    """A payload without the fields the event must have: one line naming the field."""
    event = _pr()
    event["pull_request"]["head"]["sha"] = "not a sha"  # type: ignore[index]
    with pytest.raises(GateError, match="sha of the pull_request event is not a commit SHA"):
        parse_event("pull_request", event)
    with pytest.raises(GateError, match="'pull_request' is missing"):
        parse_event("pull_request", {"action": "opened"})


def test_workflow_run_source_from_a_fork_has_no_pull_requests() -> None:
    """The run of a fork's PR: head SHA, fork, and no PR numbers (GitHub leaves them out)."""
    event = workflow_run_event(head_sha=HEAD, head_repository="mallory/support-app")
    source = parse_workflow_run(event)
    assert (source.head_sha, source.fork, source.pr_numbers) == (HEAD, True, ())
    assert source.run_url == "https://github.com/acme/support-app/actions/runs/777"
    same = parse_workflow_run(workflow_run_event(head_sha=HEAD, pr_number=9))
    assert (same.fork, same.pr_numbers, same.event) == (False, (9,), "pull_request")
