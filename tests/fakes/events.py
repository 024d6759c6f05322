"""Real webhook payloads for GITHUB_EVENT_PATH, built from GitHub's own schema.

The payload is generated from `webhooks[...].schema_required_only` in GitHub's description
(`rest-subset.json`, as `github_server.load_spec` finds it: every required field, typed as
documented), the fields the test cares about are filled in, and the result is validated
against the same schema.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema

from tests.fakes.github_server import load_spec


def webhook_schema(key: str) -> dict[str, Any]:
    return load_spec()["webhooks"][key]["schema_required_only"]  # type: ignore[no-any-return]


def _instance(schema: dict[str, Any], name: str = "") -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        for key in ("oneOf", "anyOf", "allOf"):
            if key in schema:
                return _instance(schema[key][0], name)
    if kind == "object" or "properties" in schema:
        return {k: _instance(v, k) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "date-time" or name.endswith("_at"):
            return "2026-01-01T00:00:00Z"
        if schema.get("format") == "uri" or name.endswith("url"):
            return "https://github.com/example"
        return name or "x"
    return None


def _repo(repo: dict[str, Any], full_name: str) -> None:
    owner, name = full_name.split("/")
    repo["full_name"] = full_name
    repo["name"] = name
    if isinstance(repo.get("owner"), dict):
        repo["owner"]["login"] = owner


def pull_request_event(
    *,
    number: int,
    base_sha: str,
    head_sha: str,
    repository: str = "acme/support-app",
    head_repository: str | None = None,
    action: str = "synchronize",
    base_ref: str = "main",
    head_ref: str = "feature",
) -> dict[str, Any]:
    """A `pull_request` payload that validates against GitHub's webhook schema."""
    key = f"pull_request.{action}"
    schema = webhook_schema(key)
    event = copy.deepcopy(_instance(schema))
    pr = event["pull_request"]
    event["number"] = number
    pr["number"] = number
    pr["base"]["sha"] = base_sha
    pr["base"]["ref"] = base_ref
    pr["head"]["sha"] = head_sha
    pr["head"]["ref"] = head_ref
    _repo(pr["base"]["repo"], repository)
    _repo(pr["head"]["repo"], head_repository or repository)
    if "repository" in event:
        _repo(event["repository"], repository)
    if action == "synchronize":
        event["before"] = base_sha
        event["after"] = head_sha
    jsonschema.validate(event, schema)
    return event  # type: ignore[no-any-return]


def push_event(
    *,
    before: str,
    after: str,
    ref: str = "refs/heads/main",
    repository: str = "acme/support-app",
    default_branch: str = "main",
    deleted: bool = False,
) -> dict[str, Any]:
    """A `push` payload that validates against GitHub's webhook schema."""
    schema = webhook_schema("push")
    event = copy.deepcopy(_instance(schema))
    event.update(ref=ref, before=before, after=after, deleted=deleted, created=before == "0" * 40)
    _repo(event["repository"], repository)
    event["repository"]["default_branch"] = default_branch
    event["head_commit"]["id"] = after
    jsonschema.validate(event, schema)
    return event  # type: ignore[no-any-return]


# The payloads below are not in rest-subset.json: they are built by hand from the fields GitHub
# documents (https://docs.github.com/webhooks/webhook-events-and-payloads), with the nested
# `repository` and `sender` shaped like a push payload's.


def _repository(repository: str, default_branch: str) -> dict[str, Any]:
    repo = copy.deepcopy(_instance(webhook_schema("push"))["repository"])
    _repo(repo, repository)
    repo["default_branch"] = default_branch
    return repo  # type: ignore[no-any-return]


def _sender() -> dict[str, Any]:
    return copy.deepcopy(_instance(webhook_schema("push"))["pusher"]) | {
        "login": "octocat",
        "id": 1,
        "type": "User",
    }


def merge_group_event(
    *,
    base_sha: str,
    head_sha: str,
    base_ref: str = "refs/heads/main",
    pr_number: int = 42,
    repository: str = "acme/support-app",
    action: str = "checks_requested",
) -> dict[str, Any]:
    """A `merge_group` payload: the queue's commit (`head_sha`) on top of `base_sha`."""
    branch = base_ref.removeprefix("refs/heads/")
    return {
        "action": action,
        "merge_group": {
            "head_sha": head_sha,
            "head_ref": f"refs/heads/gh-readonly-queue/{branch}/pr-{pr_number}-{base_sha}",
            "base_sha": base_sha,
            "base_ref": base_ref,
            "head_commit": {
                "id": head_sha,
                "tree_id": "f" * 40,
                "message": f"Merge pull request #{pr_number}",
                "timestamp": "2026-01-01T00:00:00Z",
                "author": {"name": "t", "email": "t@example.com"},
                "committer": {"name": "GitHub", "email": "noreply@github.com"},
            },
        },
        "repository": _repository(repository, branch),
        "sender": _sender(),
    }


def workflow_dispatch_event(
    *,
    ref: str = "refs/heads/main",
    repository: str = "acme/support-app",
    default_branch: str = "main",
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `workflow_dispatch` payload (the commit is in GITHUB_SHA, not in the payload)."""
    return {
        "inputs": inputs,
        "ref": ref,
        "repository": _repository(repository, default_branch),
        "sender": _sender(),
        "workflow": ".github/workflows/llm-gate.yml",
    }


def workflow_run_event(
    *,
    head_sha: str,
    pr_number: int | None = 42,
    repository: str = "acme/support-app",
    head_repository: str | None = None,
    event: str = "pull_request",
    conclusion: str = "failure",
    run_id: int = 777,
) -> dict[str, Any]:
    """A `workflow_run` payload for a completed run of a `pull_request` workflow.

    GitHub leaves `pull_requests` empty when the run's head comes from a fork, so for
    `head_repository` other than `repository` it is empty whatever `pr_number` says.
    """
    head_repository = head_repository or repository
    pulls = []
    if pr_number is not None and head_repository == repository:
        pulls = [
            {
                "id": pr_number,
                "number": pr_number,
                "url": f"https://api.github.com/repos/{repository}/pulls/{pr_number}",
                "head": {"ref": "feature", "sha": head_sha, "repo": {"name": "x", "id": 1}},
                "base": {"ref": "main", "sha": "b" * 40, "repo": {"name": "x", "id": 1}},
            }
        ]
    return {
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": "llm-gate",
            "event": event,
            "status": "completed",
            "conclusion": conclusion,
            "head_branch": "feature",
            "head_sha": head_sha,
            "path": ".github/workflows/llm-gate-evaluate.yml",
            "run_number": 12,
            "run_attempt": 1,
            "html_url": f"https://github.com/{repository}/actions/runs/{run_id}",
            "url": f"https://api.github.com/repos/{repository}/actions/runs/{run_id}",
            "artifacts_url": f"https://api.github.com/repos/{repository}/actions/runs/{run_id}"
            "/artifacts",
            "pull_requests": pulls,
            "head_repository": _repository(head_repository, "main"),
            "repository": _repository(repository, "main"),
        },
        "workflow": {"id": 1, "name": "llm-gate", "path": ".github/workflows/llm-gate.yml"},
        "repository": _repository(repository, "main"),
        "sender": _sender(),
    }
