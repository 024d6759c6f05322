"""The action's inputs by name, and the settings field each one sets.

A module of its own, light to import: the CLI builds its options from it, and
`llm-gate --version` must not wait for pydantic-settings (`gate.settings`).
"""

from __future__ import annotations

# Action input name → settings field name; the contract test keeps action.yml, this table,
# the CLI options and the README in agreement.
ACTION_INPUTS: dict[str, str] = {
    "github-token": "github_token",
    "config": "config",
    "suites": "suites",
    "base-ref": "base_ref",
    "mode": "mode",
    "fail-on": "fail_on",
    "status-context": "status_context",
    "comment": "comment",
    "shard": "shard",
    "concurrency": "concurrency",
    "cache-dir": "cache_dir",
    "max-cost-usd": "max_cost_usd",
    "results-dir": "results_dir",
    "allow-pull-request-target": "allow_pull_request_target",
}
