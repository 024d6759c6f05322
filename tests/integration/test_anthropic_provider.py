"""The Anthropic adapter against a real Messages API fake on 127.0.0.1 that refuses any
request not in Anthropic's shape."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from gate.errors import ConfigError, ProviderUnavailable
from gate.models import ChatRequest, Message, Usage
from gate.prices import cost_usd
from gate.targets.anthropic import TARGET, anthropic_tool
from gate.targets.anthropic_http import AnthropicProvider, messages_url
from gate.targets.base import Completion, RequestRejected
from gate.targets.openai_http import RetryPolicy, make_http_client
from tests.fakes.anthropic_server import FakeAnthropic, shape_errors

KEY = "sk-ant-test-4b1d-never-leak-me"
FAST = RetryPolicy(
    attempts=3,
    timeout_s=10,
    wait_initial_s=0.001,
    wait_max_s=0.01,
    wait_jitter_s=0.001,
    retry_after_max_s=2,
    retry_after_jitter_s=0,
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def anthropic_request(**changes: Any) -> ChatRequest:
    options: dict[str, Any] = {
        "base_url": "",
        "model": "claude-sonnet-4-5",
        "messages": (Message("system", "Be brief."), Message("user", "Capital of France?")),
        "params": (("max_tokens", 256), ("temperature", 0)),
        "tools": None,
        "repeat": 0,
    }
    options.update(changes)
    return TARGET.request(**options)


def complete(
    server: FakeAnthropic,
    request: ChatRequest | None = None,
    *,
    api_key: str | None = KEY,
    retry: RetryPolicy = FAST,
) -> Completion:
    async def main() -> Completion:
        async with make_http_client(4, 2.0) as client:
            provider = TARGET.connect(api_key, server.url, client, retry=retry, throttle=None)
            return await provider.complete(request or anthropic_request())

    return asyncio.run(main())


def test_a_message_in_anthropics_shape_is_answered() -> None:
    """POST {base}/v1/messages: the system prompt top-level, max_tokens, the two headers."""
    with FakeAnthropic(latency_s=0.01) as server:
        completion = complete(server)
    assert server.refused == []
    assert completion.text == "echo: Capital of France?"
    assert completion.usage == Usage(input_tokens=5, output_tokens=4)  # words, system's too
    assert completion.finish_reason == "end_turn"
    assert completion.latency_ms >= 10
    (body,) = server.requests
    assert body == {
        "model": "claude-sonnet-4-5",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Capital of France?"}],
        "max_tokens": 256,
        "temperature": 0,
    }
    assert server.raw_headers[0]["anthropic-version"] == "2023-06-01"
    assert messages_url("https://api.anthropic.com/") == "https://api.anthropic.com/v1/messages"


def test_the_key_travels_only_in_x_api_key() -> None:
    """The key is the x-api-key header: no Authorization header, not in the body."""
    with FakeAnthropic() as server:
        complete(server)
    assert server.auth_headers == [KEY]
    assert "authorization" not in {k.lower() for k in server.raw_headers[0]}
    assert KEY not in json.dumps(server.requests) + json.dumps(server.raw_headers)


def test_the_fake_refuses_what_the_api_refuses() -> None:
    """The fake is a real check: OpenAI's shape, a missing max_tokens, a system message in
    `messages`, a Bearer token or a wrong version are each refused."""
    good = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "k"}
    assert shape_errors(headers, good) == []
    assert shape_errors(headers, {**good, "max_tokens": None}) == ["max_tokens: Field required"]
    system_inside = {**good, "messages": [{"role": "system", "content": "x"}, *good["messages"]]}
    assert "messages.0.role" in shape_errors(headers, system_inside)[0]
    assert shape_errors(headers, {**good, "seed": 1}) == ["seed: Extra inputs are not permitted"]
    assert shape_errors(headers, {**good, "tools": TOOLS})[0].startswith("tools.0")
    assert shape_errors({**headers, "anthropic-version": "2024-01-01"}, good)
    assert shape_errors({**headers, "Authorization": "Bearer k"}, good)


def test_a_request_the_api_would_refuse_is_rejected_once_with_its_words() -> None:
    """A 400 is not retried; its message is the API's own, and never the key."""
    openai_shaped = ChatRequest(
        provider="openai",
        base_url="",
        model="claude-sonnet-4-5",
        messages=(Message("system", "Be brief."), Message("user", "hi")),
    )

    async def main() -> Completion:
        async with make_http_client(2, 2.0) as client:
            provider = AnthropicProvider(KEY, server.url, client, retry=FAST)
            return await provider.complete(openai_shaped)  # an OpenAI body, to /v1/messages

    with FakeAnthropic() as server, pytest.raises(RequestRejected) as caught:
        asyncio.run(main())
    message = str(caught.value)
    assert server.calls == 1
    assert "HTTP 400" in message and "max_tokens: Field required" in message
    assert "messages.0.role" in message
    assert KEY not in message


def test_no_key_is_refused_with_a_hint() -> None:
    """Without x-api-key the API answers 401: one try, a hint to check the key."""
    with FakeAnthropic() as server, pytest.raises(RequestRejected, match="check the API key"):
        complete(server, api_key=None)
    assert server.calls == 1


def test_retries_and_backoff_are_the_shared_ones() -> None:
    """A 429 with Retry-After and a 5xx are retried as for OpenAI."""
    with FakeAnthropic(script=["429", "503"]) as server:
        completion = complete(server)
    assert completion.text.startswith("echo:")
    assert server.statuses == [429, 503, 200]


def test_a_down_api_is_unavailable_after_bounded_attempts() -> None:
    with FakeAnthropic(down=True) as server, pytest.raises(ProviderUnavailable) as caught:
        complete(server)
    assert server.calls == FAST.attempts
    assert "HTTP 503 after 3 attempts" in str(caught.value)
    assert "127.0.0.1" in str(caught.value) and KEY not in str(caught.value)


def test_a_base_url_that_is_not_http_names_anthropic_base_url() -> None:
    async def main() -> Completion:
        async with make_http_client(1, 1.0) as client:
            provider = AnthropicProvider(KEY, "ftp://example.invalid", client, retry=FAST)
            return await provider.complete(anthropic_request())

    with pytest.raises(RequestRejected, match="ANTHROPIC_BASE_URL"):
        asyncio.run(main())


def test_tools_are_sent_as_anthropic_schemas_and_tool_use_renders_as_openai_does() -> None:
    """The tools file's OpenAI schemas go as {name, description, input_schema}; a tool_use
    block comes back as the JSON text the OpenAI adapter renders for a tool call."""

    def call_tool(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"type": "text", "text": "Let me check."},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ]

    tools = json.dumps(TOOLS, sort_keys=True, separators=(",", ":"))
    with FakeAnthropic(responder=call_tool) as server:
        completion = complete(server, anthropic_request(tools=tools))
    assert server.refused == []
    assert server.requests[0]["tools"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city.",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    text, calls = completion.text.split("\n")
    assert text == "Let me check."
    assert json.loads(calls) == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    # the same rendering as the OpenAI adapter's: sorted keys, a list of {name, arguments}
    assert calls == json.dumps(json.loads(calls), ensure_ascii=False, sort_keys=True)


def test_tool_schemas_in_anthropics_shape_or_without_parameters() -> None:
    native = {"name": "n", "input_schema": {"type": "object"}}
    assert anthropic_tool(native) == native
    bare = anthropic_tool({"name": "ping"})
    assert bare == {"name": "ping", "input_schema": {"type": "object", "properties": {}}}


def test_cache_reads_and_writes_are_counted_and_priced() -> None:
    """cache_read_input_tokens and cache_creation_input_tokens reach Usage and the cost."""
    with FakeAnthropic(cache_usage=(1000, 200)) as server:
        completion = complete(server)
    usage = completion.usage
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (1000, 200)
    cost = cost_usd("claude-sonnet-4-5-20250929", usage)
    # $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens
    expected = (5 * 3.00 + 4 * 15.00 + 1000 * 0.30 + 200 * 3.75) / 1_000_000
    assert cost == pytest.approx(expected)


def test_max_tokens_is_required_and_repeats_send_no_seed() -> None:
    """No max_tokens is a ConfigError naming the key; repeats differ by key, not by a seed
    the API would refuse."""
    with pytest.raises(ConfigError, match=r"target\.params: `max_tokens` is required"):
        anthropic_request(params=(("temperature", 0),))
    first, second = anthropic_request(repeat=0), anthropic_request(repeat=1)
    assert first.payload() == second.payload() and "seed" not in first.payload()
    assert first.key != second.key
