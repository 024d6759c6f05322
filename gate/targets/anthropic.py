"""The `anthropic` target: a jinja2 prompt sent to Anthropic's Messages API, natively.

Pure: no network, files or clock. It owns what `target:` takes for `provider: anthropic`, the
secret it needs (`ANTHROPIC_API_KEY`), a case's request and the JSON body sent for it (which
the cache key hashes): the system prompt as the top-level `system` field, `max_tokens`
(required: the API has no default), the tools file's OpenAI-style schemas as Anthropic's
`{name, description, input_schema}`. It runs through gate/targets/anthropic_http.py, imported
only when a call is about to be made.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_validator

from gate.errors import ConfigError
from gate.models import ChatRequest
from gate.targets.base import ChatKind, ChatTargetConfig, Provider

if TYPE_CHECKING:
    from gate.throttle import Throttle

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"  # the `anthropic-version` header every request carries
JUDGE_MAX_TOKENS = 1024  # a judge's `{score, reason}` fits many times over
_MAX_TOKENS_HINT = "add it (for example `max_tokens: 1024`): the Messages API requires it"


class AnthropicTarget(ChatTargetConfig):
    """`target:` for `provider: anthropic` (the Messages API, or a compatible endpoint)."""

    provider: Literal["anthropic"] = "anthropic"

    @model_validator(mode="after")
    def _max_tokens(self) -> AnthropicTarget:
        if isinstance(self.params, dict) and "max_tokens" not in self.params:
            raise ValueError(f"params: `max_tokens` is required for provider anthropic; "
                             f"{_MAX_TOKENS_HINT}")  # fmt: skip
        return self


class AnthropicKind(ChatKind):
    """The anthropic target as the registry lists it."""

    provider = "anthropic"
    config = AnthropicTarget
    secrets = ("ANTHROPIC_API_KEY",)
    default_base_url = DEFAULT_BASE_URL
    messages_verbatim = False  # system messages go in the top-level `system`
    judge_params: tuple[tuple[str, Any], ...] = (
        ("max_tokens", JUDGE_MAX_TOKENS),
        ("temperature", 0),
    )

    def check_params(self, model: str, params: tuple[tuple[str, Any], ...]) -> None:
        """The Messages API requires `max_tokens` (here for params read from a `{file, key}`
        value; the config validator catches literal ones)."""
        if "max_tokens" not in dict(params):
            raise ConfigError(
                f"target.params: `max_tokens` is required for provider anthropic (model "
                f"{model}); {_MAX_TOKENS_HINT}"
            )

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body sent to POST {base}/v1/messages.

        The Messages API takes no seed: repeats differ by their cache key alone (which hashes
        the repeat index), never by a body field the API would refuse.
        """
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [
                {"role": m.role, "content": m.content}
                for m in request.messages
                if m.role != "system"
            ],
        }
        if system:
            body["system"] = system
        body.update(dict(request.params))
        if request.tools is not None:
            body["tools"] = [anthropic_tool(tool) for tool in json.loads(request.tools)]
        return body

    def connect(
        self,
        api_key: str | None,
        base_url: str,
        client: Any,
        *,
        retry: Any,
        throttle: Throttle | None,
    ) -> Provider:
        """The adapter that answers this kind's requests over `client`."""
        from gate.targets.anthropic_http import AnthropicProvider

        return AnthropicProvider(api_key, base_url, client, retry=retry, throttle=throttle)


def anthropic_tool(tool: Any) -> Any:
    """An OpenAI-style tool schema (`{type: function, function: {name, description,
    parameters}}`, or the bare function) as Anthropic's `{name, description, input_schema}`;
    a schema already in Anthropic's shape (it has `input_schema`) is kept as it is."""
    if not isinstance(tool, dict) or "input_schema" in tool:
        return tool
    function = tool.get("function") if tool.get("type") == "function" else tool
    if not isinstance(function, dict):
        return tool
    converted: dict[str, Any] = {"name": function.get("name")}
    if function.get("description"):
        converted["description"] = function["description"]
    converted["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    return converted


TARGET = AnthropicKind()
