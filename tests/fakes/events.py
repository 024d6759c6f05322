"""Real webhook payloads for GITHUB_EVENT_PATH, built from GitHub's own schema.

The payload is generated from `webhooks[...].schema_required_only` in
`../shared/github/rest-subset.json` (every required field, typed as documented), the fields the
test cares about are filled in, and the result is validated against the same schema.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SPEC = Path(__file__).resolve().parents[3] / "shared" / "github" / "rest-subset.json"


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def webhook_schema(key: str) -> dict[str, Any]:
    return _spec()["webhooks"][key]["schema_required_only"]  # type: ignore[no-any-return]


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
