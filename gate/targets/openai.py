"""The `openai` target: a jinja2 prompt sent to an OpenAI-compatible chat-completions endpoint.

Pure: no network, files or clock. It owns what `target:` takes for `provider: openai`, the
secret it needs (`OPENAI_API_KEY`), a case's request and the JSON body sent for it (which the
cache key hashes), and how it runs: through gate/targets/openai_http.py, the only module that
speaks HTTP to a model API, imported only when a call is about to be made.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from gate.models import ChatRequest
from gate.targets.base import ChatKind, ChatTargetConfig, Provider

if TYPE_CHECKING:
    from gate.throttle import Throttle

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAITarget(ChatTargetConfig):
    """`target:` for `provider: openai` (any OpenAI-compatible endpoint via `base_url`)."""

    provider: Literal["openai"] = "openai"


class OpenAIKind(ChatKind):
    """The openai target as the registry lists it."""

    provider = "openai"
    config = OpenAITarget
    secrets = ("OPENAI_API_KEY",)
    default_base_url = DEFAULT_BASE_URL
    messages_verbatim = True
    judge_params: tuple[tuple[str, Any], ...] = (("temperature", 0),)

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body sent to an OpenAI-compatible /chat/completions endpoint."""
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        body.update(dict(request.params))
        # Each repeat is its own sample: a per-repeat seed (offset from the user's own, 0 by
        # default), so a deterministic endpoint or a caching proxy does not hand back k copies.
        own = body.get("seed", 0)
        if isinstance(own, int) and not isinstance(own, bool):
            body["seed"] = own + request.repeat
        if request.tools is not None:
            body["tools"] = json.loads(request.tools)
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
        from gate.targets.openai_http import OpenAIProvider

        return OpenAIProvider(api_key, base_url, client, retry=retry, throttle=throttle)


TARGET = OpenAIKind()
