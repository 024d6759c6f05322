"""The provider seam: what the evaluation engine asks of a model API, and what it gets back.

The engine only knows the `Provider` protocol; `gate.providers.openai` is the one adapter that
speaks HTTP today. Tests use the real adapter against a local OpenAI-compatible server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gate.errors import GateError
from gate.models import ChatRequest, Usage


@dataclass(frozen=True, slots=True)
class Completion:
    """One model answer: its text (a tool call rendered as JSON), token usage and latency."""

    text: str
    usage: Usage
    latency_ms: float
    finish_reason: str | None = None
    cost_usd: float | None = None  # what the provider reported it cost (LiteLLM's header)


@runtime_checkable
class Provider(Protocol):
    """Anything that turns a ChatRequest into a Completion (retrying on its own)."""

    async def complete(self, request: ChatRequest) -> Completion:
        """Answer the request; raise ProviderUnavailable or BadResponse when it cannot."""
        ...


class BadResponse(GateError):
    """The provider answered, but not with a chat completion (malformed JSON, no choices)."""


class RequestRejected(GateError):
    """The provider refused the request (bad key, unknown model, bad parameter): no retry."""
