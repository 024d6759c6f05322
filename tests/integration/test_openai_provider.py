"""The OpenAI adapter against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from gate.errors import ProviderUnavailable
from gate.models import ChatRequest, Message, Usage
from gate.targets.base import BadResponse, Completion, RequestRejected
from gate.targets.openai_http import (
    DEFAULT_BASE_URL,
    OpenAIProvider,
    RetryPolicy,
    base_url_from_env,
    chat_completions_url,
    make_http_client,
    next_wait,
    parse_retry_after,
    rate_limit_schedule,
)
from tests.fakes.openai_server import FakeOpenAI

KEY = "sk-test-7f3a9c2e-never-leak-me"
FAST = RetryPolicy(
    attempts=3,
    timeout_s=10,
    wait_initial_s=0.001,
    wait_max_s=0.01,
    wait_jitter_s=0.001,
    retry_after_max_s=2,
    retry_after_jitter_s=0,
)
REQUEST = ChatRequest(
    provider="openai",
    base_url="",
    model="gpt-4o-mini",
    messages=(Message("system", "Be brief."), Message("user", "What is the capital of France?")),
    params=(("temperature", 0),),
)


def complete(
    server: FakeOpenAI,
    request: ChatRequest = REQUEST,
    *,
    retry: RetryPolicy = FAST,
    timeout_s: float = 2.0,
    api_key: str | None = KEY,
) -> Completion:
    async def main() -> Completion:
        async with make_http_client(4, timeout_s) as client:
            provider = OpenAIProvider(api_key, server.url, client, retry=retry)
            return await provider.complete(request)

    return asyncio.run(main())


def test_success_returns_text_usage_and_latency() -> None:
    """A 200 answer becomes a Completion with the text, the token usage and a latency."""
    with FakeOpenAI(latency_s=0.02) as server:
        completion = complete(server)
    assert completion.text == "echo: What is the capital of France?"
    assert completion.usage == Usage(input_tokens=8, output_tokens=7)  # words
    assert completion.finish_reason == "stop"
    assert completion.latency_ms >= 20
    assert server.requests == [REQUEST.payload()]


def test_rate_limit_honours_retry_after_then_succeeds() -> None:
    """A 429 with `Retry-After: 1` is retried after about a second, then succeeds."""
    with FakeOpenAI(script=["429"], retry_after="1") as server:
        started = time.monotonic()
        completion = complete(server)
        waited = time.monotonic() - started
    assert completion.text.startswith("echo:")
    assert server.statuses == [429, 200]
    assert waited >= 0.95


def test_server_errors_are_retried() -> None:
    """Two 500s in a row are retried and the third attempt's answer is returned."""
    with FakeOpenAI(script=["500", "500"]) as server:
        completion = complete(server)
    assert completion.text.startswith("echo:")
    assert server.statuses == [500, 500, 200]


def test_backoff_doubles_from_the_first_retry() -> None:
    """Waits between attempts are initial·2^(n−1): the first retry (made before stamina takes
    over) waits the initial wait, and the later ones (through stamina) go on doubling."""
    policy = RetryPolicy(attempts=4, wait_initial_s=0.05, wait_max_s=1.0, wait_jitter_s=0.0)
    with FakeOpenAI(script=["500", "500", "500"]) as server:
        started = time.monotonic()
        completion = complete(server, retry=policy)
        waited = time.monotonic() - started
    assert completion.text.startswith("echo:")
    assert server.statuses == [500, 500, 500, 200]
    assert waited >= 0.05 + 0.1 + 0.2 - 0.01


def test_a_later_retry_honours_retry_after_too() -> None:
    """A 429 with `Retry-After: 1` after a first failure still waits about a second."""
    with FakeOpenAI(script=["500", "429"], retry_after="1") as server:
        started = time.monotonic()
        completion = complete(server)
        waited = time.monotonic() - started
    assert completion.text.startswith("echo:")
    assert server.statuses == [500, 429, 200]
    assert waited >= 0.95


def test_timeouts_are_retried() -> None:
    """A request that outlives the client's timeout is sent again."""
    with FakeOpenAI(script=["timeout"], hang_s=3.0) as server:
        completion = complete(server, timeout_s=0.4)
    assert completion.text.startswith("echo:")
    assert server.calls == 2


def test_dropped_connections_are_retried() -> None:
    """A connection closed without an answer is retried on a fresh one."""
    with FakeOpenAI(script=["drop"]) as server:
        completion = complete(server)
    assert completion.text.startswith("echo:")
    assert server.calls == 2


def test_down_provider_raises_after_bounded_attempts_without_the_key() -> None:
    """A provider answering 503 to everything gives ProviderUnavailable after `attempts` tries."""
    with FakeOpenAI(down=True) as server, pytest.raises(ProviderUnavailable) as caught:
        complete(server)
    message = str(caught.value)
    assert server.calls == FAST.attempts
    assert "HTTP 503 after 3 attempts" in message
    assert "\n" not in message
    assert KEY not in message


def test_rejected_request_is_not_retried_and_never_repeats_the_key() -> None:
    """A 401 fails at once, hints at the key, and scrubs the key the server echoed."""
    with FakeOpenAI(script=["401"]) as server, pytest.raises(RequestRejected) as caught:
        complete(server)
    message = str(caught.value)
    assert server.calls == 1
    assert "HTTP 401 (check the API key)" in message
    assert KEY not in message
    assert "***" in message


def test_malformed_json_is_a_clear_error_for_that_call() -> None:
    """A 200 whose body is not JSON raises BadResponse naming the model."""
    expected = "gpt-4o-mini is not valid JSON"
    with FakeOpenAI(script=["malformed"]) as server, pytest.raises(BadResponse, match=expected):
        complete(server)
    assert server.calls == 1


def test_key_travels_only_in_the_authorization_header() -> None:
    """The key is in the Authorization header and in no other header and not in the body."""
    with FakeOpenAI() as server:
        complete(server)
    assert server.auth_headers == [f"Bearer {KEY}"]
    assert KEY not in json.dumps(server.requests)
    assert KEY not in json.dumps(server.raw_headers)


def test_no_key_sends_no_authorization_header() -> None:
    """Without a key (a local OpenAI-compatible server) no Authorization header is sent."""
    with FakeOpenAI() as server:
        complete(server, api_key=None)
    assert server.auth_headers == [None]


def test_repr_hides_the_key() -> None:
    """The provider's repr says whether a key is set, never what it is."""

    async def main() -> str:
        async with make_http_client(1, 1.0) as client:
            return repr(OpenAIProvider(KEY, DEFAULT_BASE_URL, client))

    assert KEY not in asyncio.run(main())


def test_tool_calls_are_rendered_as_json_text() -> None:
    """An answer that calls a tool becomes JSON text a scorer can match."""

    def call_tool(body: dict[str, Any]) -> dict[str, Any]:
        return {
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {
                                    "name": "get_weather",
                                    "arguments": '{"city": "Paris"}',
                                },
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5},
        }

    with FakeOpenAI(responder=call_tool) as server:
        completion = complete(server)
    assert json.loads(completion.text) == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert completion.finish_reason == "tool_calls"
    assert completion.usage == Usage(12, 5)


def test_rate_limited_concurrency_still_completes() -> None:
    """Above the server's in-flight cap the 429s are retried until every request succeeds."""
    requests = [
        ChatRequest("openai", "", "gpt-4o-mini", (Message("user", f"q{i}"),)) for i in range(12)
    ]
    policy = RetryPolicy(attempts=20, wait_initial_s=0.005, wait_max_s=0.02, wait_jitter_s=0.01)

    async def main(server: FakeOpenAI) -> list[Completion]:
        async with make_http_client(8, 2.0) as client:
            provider = OpenAIProvider(KEY, server.url, client, retry=policy)
            return list(await asyncio.gather(*(provider.complete(r) for r in requests)))

    with FakeOpenAI(latency_s=0.02, max_in_flight=3, retry_after=None) as server:
        completions = asyncio.run(main(server))
    assert [c.text for c in completions] == [f"echo: q{i}" for i in range(12)]
    assert 429 in server.statuses
    assert len(server.answered) == 12


def test_request_base_url_wins_over_the_providers() -> None:
    """A request that names its base URL is sent there, whatever the provider's default."""
    with FakeOpenAI() as server:
        request = ChatRequest("openai", server.url, "gpt-4o", (Message("user", "hi"),))

        async def main() -> Completion:
            async with make_http_client(1, 2.0) as client:
                provider = OpenAIProvider(KEY, "http://127.0.0.1:9/v1", client, retry=FAST)
                return await provider.complete(request)

        assert asyncio.run(main()).text == "echo: hi"


def test_base_url_semantics_follow_the_openai_sdk() -> None:
    """OPENAI_BASE_URL (when not empty) replaces the default; /chat/completions is appended."""
    assert base_url_from_env({}) == "https://api.openai.com/v1"
    assert base_url_from_env({"OPENAI_BASE_URL": ""}) == "https://api.openai.com/v1"
    assert base_url_from_env({"OPENAI_BASE_URL": "http://gw:8080/v1"}) == "http://gw:8080/v1"
    assert chat_completions_url("https://api.openai.com/v1") == (
        "https://api.openai.com/v1/chat/completions"
    )
    assert chat_completions_url("http://gw/openai/v1/") == "http://gw/openai/v1/chat/completions"


def test_retry_after_forms() -> None:
    """Retry-After is read as seconds, as an HTTP date, or from OpenAI's retry-after-ms."""
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "3"}, now) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 01 Jan 2025 12:00:07 GMT"}, now) == 7.0
    assert parse_retry_after({"retry-after": "Wed, 01 Jan 2025 11:00:00 GMT"}, now) == 0.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}, now) == 0.25
    assert parse_retry_after({"retry-after": "soon"}, now) is None
    assert parse_retry_after({}, now) is None


@pytest.mark.parametrize("base_url", ["ftp://gw.example/v1", "localhost:8080/v1", "http://[::1"])
def test_a_base_url_that_is_not_http_is_rejected_at_once(base_url: str) -> None:
    """A base URL without an http(s) scheme is a RequestRejected naming the setting."""

    async def main() -> Completion:
        async with make_http_client(1, 1.0) as client:
            provider = OpenAIProvider(KEY, base_url, client, retry=FAST)
            return await provider.complete(REQUEST)

    with pytest.raises(RequestRejected, match="must be an http:// or https:// URL"):
        asyncio.run(main())


# --------------------------------------------------------------------------- issue 12


def test_a_429_without_retry_after_backs_off_for_about_a_minute() -> None:
    """The default schedule for a request answered 429 without Retry-After every time: waits
    doubling from 0.5 s up to 20 s, adding up to the 60 s window (past `attempts`), then
    giving up; a 5xx still stops after `attempts`."""
    policy = RetryPolicy()
    waits = rate_limit_schedule(policy)
    assert waits == [0.5, 1, 2, 4, 8, 16, 20, 8.5]
    assert sum(waits) == pytest.approx(60) and len(waits) + 1 > policy.attempts
    failures = [
        next_wait(policy, n, 0.0, rate_limited=False, retry_after=None) for n in range(1, 7)
    ]
    assert failures == [0.5, 1, 2, 4, 8, None]
    # Retry-After is honoured within the window, and `Retry-After: 0` forever is bounded too
    assert next_wait(policy, 3, 50.0, rate_limited=True, retry_after=30) == 10
    assert next_wait(policy, 20, 0.0, rate_limited=True, retry_after=0) is None


def test_429s_are_retried_until_the_window_is_waited_out() -> None:
    """Against a server that answers 429 (no Retry-After) to everything, the request keeps
    trying past `attempts` until its waits fill the rate-limit window, and the error says so,
    quoting the provider."""
    policy = RetryPolicy(
        attempts=3, wait_initial_s=0.02, wait_max_s=0.1, wait_jitter_s=0, rate_limit_wait_s=0.5
    )
    expected = rate_limit_schedule(policy)
    with FakeOpenAI(script=["429"] * 50, retry_after=None) as server:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable) as caught:
            complete(server, retry=policy)
        waited = time.monotonic() - started
    assert len(expected) + 1 > policy.attempts
    assert server.calls == len(expected) + 1
    assert waited >= sum(expected) - 0.01
    assert str(caught.value) == (
        f"127.0.0.1: HTTP 429 after {server.calls} attempts (model gpt-4o-mini): the provider "
        'said "Rate limit reached for requests."'
    )


def test_a_429_then_success_within_the_window() -> None:
    """Seven 429s in a row (more than `attempts`) and then an answer: the call succeeds."""
    policy = RetryPolicy(attempts=3, wait_initial_s=0.001, wait_max_s=0.01, wait_jitter_s=0)
    with FakeOpenAI(script=["429"] * 7, retry_after=None) as server:
        completion = complete(server, retry=policy)
    assert completion.text.startswith("echo:") and server.calls == 8


def test_a_refused_connection_is_not_a_timeout() -> None:
    """Nothing listening on the port: `connection refused`, never `timed out`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: nobody listens there

    async def main() -> Completion:
        async with make_http_client(2, 2.0) as client:
            provider = OpenAIProvider(KEY, f"http://127.0.0.1:{port}/v1", client, retry=FAST)
            return await provider.complete(REQUEST)

    with pytest.raises(ProviderUnavailable) as caught:
        asyncio.run(main())
    message = str(caught.value)
    assert message.startswith(
        "127.0.0.1: connection refused (is the server running, on that port?)"
    )
    assert "timed out" not in message and "after 3 attempts" in message


def test_a_hung_server_is_a_timeout_with_its_limit() -> None:
    """A server that never answers: `no answer within 0.3 s (timed out)`."""
    fake = FakeOpenAI(script=["timeout"] * 3, hang_s=3.0)
    with fake as server, pytest.raises(ProviderUnavailable) as caught:
        complete(server, timeout_s=0.3)
    assert "no answer within 0.3 s (timed out) after 3 attempts" in str(caught.value)


def test_a_5xx_keeps_the_providers_words_clipped_and_masked() -> None:
    """The provider's own message survives the retries: a JSON `error.message`, a proxy's plain
    text ("Request timed out"), with whitespace folded, keys masked, at most 200 characters."""
    with FakeOpenAI(down=True) as server, pytest.raises(ProviderUnavailable) as caught:
        complete(server)
    assert str(caught.value) == (
        "127.0.0.1: HTTP 503 after 3 attempts (model gpt-4o-mini): the provider said "
        '"The server is overloaded or not ready yet."'
    )
    text = "Request timed out\n\n" + "x" * 500
    quoted = _quoted(FakeOpenAI(script=["500"] * 3, error_text=text))
    assert quoted.startswith("Request timed out xxx") and len(quoted) == 200
    echoed = '{"error": {"message": "bad key sk-proxy-ABCDEF123456 and Bearer ' + KEY + '"}}'
    assert _quoted(FakeOpenAI(script=["500"] * 3, error_text=echoed)) == "bad key *** and ***"


def _quoted(fake: FakeOpenAI) -> str:
    with fake as server, pytest.raises(ProviderUnavailable) as caught:
        complete(server)
    return str(caught.value).split('the provider said "', 1)[1].removesuffix('"')
