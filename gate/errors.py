"""Domain exceptions. Each one's message is a single line a person can act on."""

from __future__ import annotations


class GateError(Exception):
    """The gate could not decide; the message names the file, key or input and what to do."""


class ConfigError(GateError):
    """llm-gate.yml (or a file it references) is not what the gate expects."""


class DatasetError(ConfigError):
    """A dataset file cannot be read as cases."""


class TemplateError(ConfigError):
    """A prompt or scorer template cannot be rendered for a case."""


class GitError(GateError):
    """git could not answer (missing commit, shallow clone, not a repository)."""


class ProviderUnavailable(GateError):
    """A model provider kept failing after retries."""


class BudgetExceeded(GateError):
    """The run would spend more than `max-cost-usd`."""


class CacheMiss(GateError):
    """Replay mode needed a response the cache does not hold."""


class CannotPublish(GateError):
    """GitHub refused to take the comment or the status (permissions, limits)."""


class MissingPermission(CannotPublish):
    """GitHub answered 403 "Resource not accessible by integration": the token lacks a permission.

    `permission` is the workflow `permissions:` entry that grants it (`statuses: write`).
    """

    def __init__(self, message: str, permission: str) -> None:
        super().__init__(message)
        self.permission = permission


class UnsupportedEvent(GateError):
    """The workflow triggered llm-gate on an event (or in a way) it does not gate."""
