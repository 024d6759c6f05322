"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests and benchmarks.

`FakeOpenAI` runs aiohttp.web in a background thread with its own event loop on an
ephemeral port. Tests script its answers (`responder`), its pace (`latency_s`) and its
faults (rate limits, server errors, hangs, malformed JSON, dropped connections, "down",
a cap on requests in flight), then assert on what it received (`requests`, `auth_headers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

Responder = Callable[[dict[str, Any]], Any]  # a text, a whole answer, or what a subclass reads
FAULTS = ("ok", "401", "429", "500", "503", "timeout", "malformed", "drop")


def echo(body: dict[str, Any]) -> str:
    """The default answer: deterministic, and different for different prompts."""
    messages = body.get("messages") or [{}]
    return f"echo: {messages[-1].get('content', '')}"


def words(text: str) -> int:
    return len(text.split())


def chat_response(body: dict[str, Any], text: str) -> dict[str, Any]:
    """A chat.completion object answering `body` with `text` (usage from word counts)."""
    prompt_tokens = sum(words(str(m.get("content", ""))) for m in body.get("messages", []))
    completion_tokens = words(text)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": body.get("model", "unknown"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeOpenAI:
    """`with FakeOpenAI(latency_s=0.05) as server:` … `OpenAIProvider(key, server.url, client)`.

    Faults by call number n (1-based, over every request received): every `rate_limit_every`
    th call answers 429 with `Retry-After: retry_after`, every `error_every`th 500, every
    `timeout_every`th hangs for `hang_s`, every `malformed_every`th sends broken JSON, every
    `drop_every`th closes the connection unanswered. `script` lists faults (see FAULTS) for the
    next calls, before any of those; `down` answers everything with 503; above
    `max_in_flight` concurrent requests the server answers 429. `error_retry_after` (None: no
    header) is the `Retry-After` of the 500 and 503 answers, as servers that shed load send;
    `error_text` makes their body that plain text. `response_cost` is sent with every answer
    as LiteLLM's `x-litellm-response-cost` header.

    `path` and `auth_header` are where requests arrive and which header carries the key, for a
    fake of another API built on this one (tests/fakes/anthropic_server.py).
    """

    path = "/v1/chat/completions"
    auth_header = "Authorization"

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        responder: Responder = echo,
        rate_limit_every: int = 0,
        retry_after: str | None = "0",
        error_retry_after: str | None = None,
        error_every: int = 0,
        timeout_every: int = 0,
        hang_s: float = 5.0,
        malformed_every: int = 0,
        drop_every: int = 0,
        down: bool = False,
        max_in_flight: int | None = None,
        script: list[str] | None = None,
        error_text: str | None = None,
        response_cost: str | None = None,
    ) -> None:
        self.latency_s = latency_s
        self.responder = responder
        self.rate_limit_every = rate_limit_every
        self.retry_after = retry_after
        self.error_retry_after = error_retry_after
        self.error_every = error_every
        self.timeout_every = timeout_every
        self.hang_s = hang_s
        self.malformed_every = malformed_every
        self.drop_every = drop_every
        self.down = down
        self.max_in_flight = max_in_flight
        self.script = list(script or [])
        self.error_text = error_text  # the plain-text body of 500 and 503 answers (a proxy's)
        self.response_cost = response_cost  # sent as x-litellm-response-cost, as LiteLLM does
        for fault in self.script:
            if fault not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")

        self.requests: list[dict[str, Any]] = []  # every body received, faulted or not
        self.answered: list[dict[str, Any]] = []  # the bodies answered with a completion
        self.auth_headers: list[str | None] = []
        self.raw_headers: list[dict[str, str]] = []  # every header but Authorization
        self.statuses: list[int] = []
        self.calls = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.first_at: float | None = None  # time.time() of the first request received
        self.last_at: float | None = None  # and of the last answer sent

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def response_for(self, body: dict[str, Any], text: Any) -> dict[str, Any]:
        """The JSON answer to `body` saying `text` (what the responder returned)."""
        return chat_response(body, str(text))

    def answered_for(self, model: str) -> list[dict[str, Any]]:
        """The answered bodies that asked `model`."""
        return [body for body in self.answered if body.get("model") == model]

    # ----------------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def _stop(self) -> None:
        assert self._closing is not None and self._runner is not None
        self._closing.set()  # wake hanging handlers so shutdown does not wait for them
        await self._runner.cleanup()
        self._runner = None

    # ----------------------------------------------------------------------- handling

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.first_at is None:
            self.first_at = time.time()
        self.calls += 1
        n = self.calls
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            raw = await request.read()
            body: dict[str, Any] = json.loads(raw)
            self.requests.append(body)
            self.auth_headers.append(request.headers.get(self.auth_header))
            self.raw_headers.append(
                {k: v for k, v in request.headers.items() if k.lower() != self.auth_header.lower()}
            )
            response = await self._answer(request, body, n)
            self.statuses.append(response.status)
            return response
        finally:
            self.in_flight -= 1
            self.last_at = time.time()

    def _fault_for(self, n: int) -> str:
        if self.down:
            return "503"
        if self.script:
            return self.script.pop(0)
        if self.max_in_flight is not None and self.in_flight > self.max_in_flight:
            return "429"
        for every, fault in (
            (self.rate_limit_every, "429"),
            (self.error_every, "500"),
            (self.timeout_every, "timeout"),
            (self.malformed_every, "malformed"),
            (self.drop_every, "drop"),
        ):
            if every and n % every == 0:
                return fault
        return "ok"

    async def _answer(self, request: web.Request, body: dict[str, Any], n: int) -> web.Response:
        fault = self._fault_for(n)
        if fault == "401":  # echoes the key, as some gateways do: the client must not repeat it
            sent = request.headers.get(self.auth_header, "").removeprefix("Bearer ")
            return _error(401, f"Incorrect API key provided: {sent}.")
        retry = {"Retry-After": self.error_retry_after} if self.error_retry_after else None
        if fault in ("500", "503") and self.error_text is not None:
            return web.Response(
                status=int(fault), text=self.error_text, content_type="text/plain", headers=retry
            )
        if fault == "503":
            return _error(503, "The server is overloaded or not ready yet.", retry)
        if fault == "429":
            headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
            return _error(429, "Rate limit reached for requests.", headers)
        if fault == "500":
            return _error(500, "The server had an error while processing your request.", retry)
        if fault == "timeout":
            assert self._closing is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=self.hang_s)
            return _error(504, "hung up")
        if fault == "drop":
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError  # never reaches the client: the socket is closed
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if fault == "malformed":
            return web.Response(
                text='{"id": "chatcmpl-fake", "choices": [', content_type="application/json"
            )
        answer = self.responder(body)
        data = answer if isinstance(answer, dict) else self.response_for(body, answer)
        self.answered.append(body)
        cost = {"x-litellm-response-cost": self.response_cost} if self.response_cost else None
        return web.json_response(data, headers=cost)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    payload = {"error": {"message": message, "type": "fake_error", "code": None}}
    return web.json_response(payload, status=status, headers=headers)
