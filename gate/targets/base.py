"""What a target is: the `TargetKind` protocol, its config base, and the `Provider` seam.

Pure: no network, files or clock. A target kind (one module of gate/targets/, one line of its
registry) owns what `target:` takes for its `provider:`, the secret environment variables it
needs, a case's request and the body its cache key hashes, and how it runs: `connect` gives
the `Provider` that answers its requests. The engine only knows the `Provider` protocol; tests
use the real adapters against local servers, and tests/fakes/memory_model.py in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gate.errors import GateError
from gate.models import ChatRequest, Message, Usage

if TYPE_CHECKING:
    from gate.throttle import Throttle

# Kinds the design plans but nobody has built yet: asking for one is a clear error.
PLANNED_PROVIDERS = ("command", "python")


class FileKey(BaseModel):
    """A value kept in another YAML/JSON file: `{file: config/models.yaml, key: support.model}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    key: str


class TargetConfig(BaseModel):
    """The keys every target takes (`provider` is each kind's own Literal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str

    @field_validator("provider", mode="before")
    @classmethod
    def _known_provider(cls, value: Any) -> Any:
        from gate.targets.registry import TARGETS  # the kinds subclass this model

        if not isinstance(value, str) or value in TARGETS:
            return value
        known = ", ".join(TARGETS)
        if value in PLANNED_PROVIDERS:
            raise ValueError(
                f"provider '{value}' is not supported yet; use one of: {known} "
                "(openai: any OpenAI-compatible endpoint via base_url)"
            )
        raise ValueError(f"unknown provider '{value}'; expected one of: {known}")


class ChatTargetConfig(TargetConfig):
    """The keys of a target that sends a rendered prompt to a chat model's API."""

    model: str | FileKey = Field(union_mode="left_to_right")
    params: FileKey | dict[str, Any] = Field(default_factory=dict, union_mode="left_to_right")
    system: str | None = None
    prompt: str
    tools: str | None = None
    base_url: str | None = None


class ChatKind:
    """What a chat kind's `TargetKind.request` is: the case's request as given, once
    `check_params` (nothing, unless a kind's API requires a key) has accepted its params."""

    provider: str

    def check_params(self, model: str, params: tuple[tuple[str, Any], ...]) -> None:
        """Raise ConfigError (`target.params: ...`) for params this kind's API cannot take."""

    def request(
        self,
        *,
        base_url: str,
        model: str,
        messages: tuple[Message, ...],
        params: tuple[tuple[str, Any], ...],
        tools: str | None,
        repeat: int,
    ) -> ChatRequest:
        """One case's request, repeat `repeat` (its `key` is the cache fingerprint)."""
        self.check_params(model, params)
        return ChatRequest(
            provider=self.provider,
            base_url=base_url,
            model=model,
            messages=messages,
            params=params,
            tools=tools,
            repeat=repeat,
        )


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


class TargetKind(Protocol):
    """One kind of target: what answers a case."""

    @property
    def provider(self) -> str:
        """The `provider:` it answers to."""
        ...

    @property
    def config(self) -> type[TargetConfig]:
        """Its config model: what `target:` takes for this `provider:`."""
        ...

    @property
    def secrets(self) -> tuple[str, ...]:
        """The environment variables holding its secrets (masked, never printed)."""
        ...

    @property
    def default_base_url(self) -> str:
        """Where its requests go unless the config or the environment says otherwise."""
        ...

    @property
    def messages_verbatim(self) -> bool:
        """Whether payload() sends the request's messages as its `messages`, all and as they
        are (ChatRequest.key then hashes them on a fast path)."""
        ...

    @property
    def judge_params(self) -> tuple[tuple[str, Any], ...]:
        """The sampling params of a judge's request on this kind (temperature 0, and what
        else its API requires)."""
        ...

    def request(
        self,
        *,
        base_url: str,
        model: str,
        messages: tuple[Message, ...],
        params: tuple[tuple[str, Any], ...],
        tools: str | None,
        repeat: int,
    ) -> ChatRequest:
        """One case's request, repeat `repeat`; its `key` is the cache fingerprint. A value
        the kind cannot send raises ConfigError naming the key under the suite
        (`target.params: ...`)."""
        ...

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The body sent for a request: what its cache key hashes, besides the base URL."""
        ...

    def connect(
        self,
        api_key: str | None,
        base_url: str,
        client: Any,
        *,
        retry: Any,
        throttle: Throttle | None,
    ) -> Provider:
        """The adapter that answers this kind's requests over the run's shared HTTP client
        (`client`: what its adapter module's make_http_client made; `retry`: its RetryPolicy
        or None), typed loosely so that this pure module never imports the HTTP stack."""
        ...
