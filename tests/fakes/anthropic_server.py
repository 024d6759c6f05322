"""A real Anthropic Messages API server on 127.0.0.1 for tests.

`FakeAnthropic` is tests/fakes/openai_server.FakeOpenAI (the same thread, port, faults and
records) answering POST /v1/messages in Anthropic's shape, and refusing, with the API's
400/401 `invalid_request_error`/`authentication_error`, any request that is not in it: no
`x-api-key` (or a Bearer token instead), a wrong `anthropic-version`, no `max_tokens`, a
`system` message inside `messages`, a field the API does not take (an OpenAI `seed`), or a
tool in OpenAI's `{type: function, function: ...}` shape. `refused` lists why, per request.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.openai_server import FakeOpenAI, words

API_VERSION = "2023-06-01"
# The Messages API's top-level request fields (https://docs.anthropic.com/en/api/messages).
FIELDS = frozenset(
    {
        "model", "messages", "max_tokens", "system", "temperature", "top_p", "top_k",
        "stop_sequences", "stream", "tools", "tool_choice", "metadata", "thinking",
        "service_tier", "container", "mcp_servers",
    }
)  # fmt: skip


def echo(body: dict[str, Any]) -> str:
    """The default answer: deterministic, and different for different prompts."""
    messages = body.get("messages") or [{}]
    return f"echo: {messages[-1].get('content', '')}"


def shape_errors(headers: Any, body: Any) -> list[str]:
    """Why the API would refuse this request; empty when it is in Anthropic's shape."""
    errors: list[str] = []
    if headers.get("anthropic-version") != API_VERSION:
        errors.append(f"anthropic-version: expected {API_VERSION}")
    if "authorization" in {k.lower() for k in headers}:
        errors.append("Authorization: the API takes its key in x-api-key")
    if not isinstance(body, dict):
        return [*errors, "body: expected a JSON object"]
    errors += [f"{name}: Extra inputs are not permitted" for name in sorted(set(body) - FIELDS)]
    if not isinstance(body.get("model"), str) or not body["model"]:
        errors.append("model: Field required")
    tokens = body.get("max_tokens")
    if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
        errors.append("max_tokens: Field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        errors.append("messages: Field required")
    else:
        for index, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ("user", "assistant"):
                errors.append(
                    f"messages.{index}.role: Input should be 'user' or 'assistant' "
                    "(a system prompt goes in the top-level `system` field)"
                )
            elif not isinstance(message.get("content"), str | list):
                errors.append(f"messages.{index}.content: Field required")
    if "system" in body and not isinstance(body["system"], str | list):
        errors.append("system: Input should be a string or a list of text blocks")
    for index, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or "function" in tool or tool.get("type") == "function":
            errors.append(f"tools.{index}: expected {{name, description, input_schema}}")
        elif not isinstance(tool.get("name"), str) or not isinstance(
            tool.get("input_schema"), dict
        ):
            errors.append(f"tools.{index}.input_schema: Field required")
    return errors


def message_response(
    body: dict[str, Any],
    content: str | list[dict[str, Any]],
    *,
    cache_read: int = 0,
    cache_write: int = 0,
    stop_reason: str = "end_turn",
) -> dict[str, Any]:
    """A Messages API `message` answering `body` (usage from word counts)."""
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    prompt = [str(m.get("content", "")) for m in body.get("messages", [])]
    text = " ".join(str(b.get("text", "")) for b in blocks)
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "unknown"),
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": sum(words(p) for p in prompt) + words(str(body.get("system", ""))),
            "output_tokens": words(text),
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_write,
        },
    }


class FakeAnthropic(FakeOpenAI):
    """`with FakeAnthropic() as server:` … `AnthropicProvider(key, server.url, client)`.

    Takes FakeOpenAI's options (its `responder` may return a text, a list of content blocks
    or a whole message), and `cache_usage`: the (read, write) prompt-cache tokens every
    answer reports. `require_key` refuses a request without `x-api-key` with 401.
    """

    path = "/v1/messages"
    auth_header = "x-api-key"

    def __init__(
        self,
        *,
        cache_usage: tuple[int, int] = (0, 0),
        require_key: bool = True,
        **options: Any,
    ) -> None:
        options.setdefault("responder", echo)
        super().__init__(**options)
        self.cache_usage = cache_usage
        self.require_key = require_key
        self.refused: list[list[str]] = []  # why each refused request was refused

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"  # as ANTHROPIC_BASE_URL: the path adds /v1

    def response_for(self, body: dict[str, Any], text: Any) -> dict[str, Any]:
        """A text, or a list of content blocks (a `tool_use`, say), as a `message`."""
        read, write = self.cache_usage
        return message_response(body, text, cache_read=read, cache_write=write)

    async def _answer(self, request: web.Request, body: dict[str, Any], n: int) -> web.Response:
        if self.require_key and not request.headers.get("x-api-key"):
            self.refused.append(["x-api-key: header is required"])
            return _error(401, "authentication_error", "x-api-key header is required")
        errors = shape_errors(request.headers, body)
        if errors:
            self.refused.append(errors)
            return _error(400, "invalid_request_error", "; ".join(errors))
        return await super()._answer(request, body, n)


def _error(status: int, kind: str, message: str) -> web.Response:
    payload = {"type": "error", "error": {"type": kind, "message": message}}
    return web.json_response(payload, status=status)
