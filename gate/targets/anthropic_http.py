"""The Anthropic Messages API adapter: POST {base}/v1/messages with `x-api-key` and
`anthropic-version`, over the run's shared HTTP client, with the retries, backoff, throttle
and scrubbing of gate/targets/openai_http.JSONAPIProvider (429, 529 "overloaded" and other
5xx are retried; `Retry-After` is honoured). An answer's `text` blocks are its text; a
`tool_use` block is rendered as the OpenAI adapter renders a tool call (a JSON list of
`{name, arguments}`), so scorers read both providers' tool calls alike. Usage keeps the
prompt cache's reads and writes apart from uncached input, as the API reports them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from gate.models import Usage
from gate.targets.anthropic import API_VERSION
from gate.targets.base import BadResponse, Completion
from gate.targets.openai_http import JSONAPIProvider, _valid_text, reported_cost


def messages_url(base_url: str) -> str:
    """The endpoint under a base URL: `https://api.anthropic.com` → `…/v1/messages`."""
    return base_url.rstrip("/") + "/v1/messages"


class AnthropicProvider(JSONAPIProvider):
    """Messages against api.anthropic.com or an endpoint that speaks the same API."""

    base_url_env = "ANTHROPIC_BASE_URL"

    def _auth_headers(self, api_key: str | None) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        return headers

    def _endpoint(self, base_url: str) -> str:
        return messages_url(base_url)

    def _completion(self, response: httpx.Response, model: str, latency_ms: float) -> Completion:
        data = self._json(response, model)
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, list):
            raise BadResponse(
                f"{response.url.host}: the answer for model {model} has no content blocks"
            )
        usage = data.get("usage") or {}
        return Completion(
            text=message_text(content),
            usage=Usage(
                input_tokens=_count(usage, "input_tokens"),
                output_tokens=_count(usage, "output_tokens"),
                cache_read_tokens=_count(usage, "cache_read_input_tokens"),
                cache_write_tokens=_count(usage, "cache_creation_input_tokens"),
            ),
            latency_ms=latency_ms,
            finish_reason=data.get("stop_reason"),
            cost_usd=reported_cost(response.headers),
        )


def message_text(content: list[Any]) -> str:
    """The text blocks joined, then the `tool_use` blocks as `[{name, arguments}]` JSON."""
    blocks = [block for block in content if isinstance(block, dict)]
    text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
    parts = [text] if text else []
    calls = [
        {"name": b.get("name"), "arguments": b.get("input")}
        for b in blocks
        if b.get("type") == "tool_use"
    ]
    if calls:
        parts.append(json.dumps(calls, ensure_ascii=False, sort_keys=True))
    return _valid_text("\n".join(parts))


def _count(usage: Mapping[str, Any], name: str) -> int:
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
