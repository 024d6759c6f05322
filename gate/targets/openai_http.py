"""The OpenAI chat-completions adapter, and the HTTP machinery every model API adapter shares.

The shared part: the run's HTTP client (httpx over the aiohttp transport, sized to the run's
concurrency), and `JSONAPIProvider`: retries with exponential backoff and jitter that honour
`Retry-After`, telling the run's `Throttle` about rate limits (each attempt takes a slot of
it), error messages with the key scrubbed out. gate/targets/anthropic_http.py builds on it.
The OpenAI part: the request URL (`OPENAI_BASE_URL` semantics as in the OpenAI SDK) and
turning an answer into a `Completion`. The API key goes into its header and nowhere else:
not in messages, reprs or the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from httpx_aiohttp import HttpxAiohttpClient

from gate.errors import ProviderUnavailable
from gate.models import ChatRequest, Usage
from gate.targets.base import BadResponse, Completion, RequestRejected
from gate.targets.openai import DEFAULT_BASE_URL
from gate.throttle import Throttle

# 408 (timeout), 409 (lock conflict), 429 (rate limit) and 5xx are worth another attempt, as
# the OpenAI SDK decides: https://github.com/openai/openai-python#retries
RETRY_STATUSES = frozenset({408, 409, 429})
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one request. Backoff n waits min(wait_max, initial·2^(n-1)) + jitter.

    A failure (5xx, a dropped connection) is tried `attempts` times. A rate limit (429) is
    the provider asking for time, not failing: it is retried past `attempts`, for as long as
    the waits of that request add up to at most `rate_limit_wait_s` (providers count rate
    limits per minute, so about a minute outlasts their window).
    """

    attempts: int = 6
    timeout_s: float | None = 180.0  # all attempts of one request together
    wait_initial_s: float = 0.5
    wait_max_s: float = 20.0
    wait_jitter_s: float = 1.0
    retry_after_max_s: float = 60.0  # a longer Retry-After is capped to this
    retry_after_jitter_s: float = 0.25  # spread the workers that were all told "1 s"
    rate_limit_wait_s: float = 60.0  # waits for 429s of one request together, at most
    rate_limit_attempts: int = 20  # and attempts (a server saying `Retry-After: 0` each time)


def next_wait(
    policy: RetryPolicy,
    tries: int,
    waited_s: float,
    *,
    rate_limited: bool,
    retry_after: float | None,
    jitter: float = 0.0,
) -> float | None:
    """The wait before the next attempt, or None to give up (pure: `jitter` in [0, 1) is drawn
    by the caller). `tries` attempts were made so far, with `waited_s` of waiting between them.
    """
    if retry_after is not None:
        wait = min(retry_after, policy.retry_after_max_s) + jitter * policy.retry_after_jitter_s
    else:
        exponential = policy.wait_initial_s * 2 ** (tries - 1)
        wait = min(policy.wait_max_s, exponential) + jitter * policy.wait_jitter_s
    if not rate_limited:
        return wait if tries < policy.attempts else None
    if tries >= policy.rate_limit_attempts:
        return None
    left = policy.rate_limit_wait_s - waited_s
    if left < min(wait, policy.wait_initial_s):
        return None  # the window is spent (a last wait shorter than the first is not worth it)
    return min(wait, left)


def rate_limit_schedule(policy: RetryPolicy) -> list[float]:
    """The waits of a request that is answered 429 without Retry-After every time (no
    jitter): what `next_wait` gives, attempt after attempt, until it gives up."""
    waits: list[float] = []
    while (wait := next_wait(policy, len(waits) + 1, sum(waits), rate_limited=True,
                             retry_after=None)) is not None:  # fmt: skip
        waits.append(wait)
    return waits


def base_url_from_env(environ: Mapping[str, str]) -> str:
    """`OPENAI_BASE_URL` if set and not empty, else the OpenAI API (as the SDK resolves it)."""
    return environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL


def chat_completions_url(base_url: str) -> str:
    """The endpoint under a base URL: `https://api.openai.com/v1` → `…/v1/chat/completions`."""
    return base_url.rstrip("/") + "/chat/completions"


def make_http_client(concurrency: int, timeout_s: float) -> httpx.AsyncClient:
    """One shared client for a run: aiohttp transport, a connection per concurrent call.

    Create and close it inside the event loop that uses it (aiohttp binds its session to
    the loop on the first request). `timeout_s` bounds the wait for each read.
    """
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))
    client: httpx.AsyncClient = HttpxAiohttpClient(limits=limits, timeout=timeout)
    return client


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _RetryableStatus(Exception):
    """An HTTP status worth retrying (carries the server's Retry-After and message, if any)."""

    def __init__(self, status: int, retry_after: float | None, detail: str = "") -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.detail = detail


class _Backoff:
    """The retry state of one request: attempts so far and the time waited between them; a
    wait for a rate limit is told to the throttle, for the progress line."""

    def __init__(self, policy: RetryPolicy, throttle: Throttle | None) -> None:
        self.policy = policy
        self.throttle = throttle
        self.started = time.monotonic()
        self.tries = 0
        self.waited = 0.0

    def wait_for(self, exc: Exception) -> float | None:
        """The wait before retrying after `exc`, or None when it is not worth another try."""
        if isinstance(exc, _RetryableStatus):
            rate_limited, retry_after = exc.status == 429, exc.retry_after
        elif isinstance(exc, httpx.TransportError) and not isinstance(
            exc, httpx.UnsupportedProtocol | httpx.InvalidURL
        ):
            rate_limited, retry_after = False, None
        else:
            return None
        wait = next_wait(
            self.policy,
            self.tries,
            self.waited,
            rate_limited=rate_limited,
            retry_after=retry_after,
            jitter=random.random(),
        )
        timeout = self.policy.timeout_s
        if wait is None or (
            timeout is not None and time.monotonic() - self.started + wait >= timeout
        ):
            return None
        self.waited += wait
        return wait

    def hook(self, exc: Exception) -> bool | float:
        """stamina's `on`: False stops, a number is the wait (stamina counts no attempts)."""
        wait = self.wait_for(exc)
        if wait is None:
            return False
        if self.throttle is not None and isinstance(exc, _RetryableStatus) and exc.status == 429:
            self.throttle.waiting_out(wait)
        return wait


class JSONAPIProvider:
    """What every JSON-over-HTTPS model API adapter shares: the URL cache, retries with
    backoff, the throttle, error messages and scrubbing the key out of them. A subclass says
    where a request goes (`_endpoint`), which headers carry its key (`_auth_headers`) and how
    an answer reads (`_completion`).

    A request's own `base_url` (set by the plan) wins over the provider's default. With a
    `throttle`, each attempt waits for a slot of it and reports 429s and successes to it.
    """

    base_url_env = "OPENAI_BASE_URL"  # named when the base URL is not an http(s) URL

    @staticmethod
    def _json(response: httpx.Response, model: str) -> Any:
        """A 200 answer's body as JSON; a body that is not JSON is a BadResponse."""
        try:
            return json.loads(response.content)
        except ValueError:
            raise BadResponse(
                f"{response.url.host}: the answer for model {model} is not valid JSON "
                f"(HTTP 200, {len(response.content)} bytes)"
            ) from None

    def __init__(
        self,
        api_key: str | None,
        base_url: str,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self._api_key = api_key or None
        self._base_url = base_url
        self._client = client
        self._retry = retry or RetryPolicy()
        self._throttle = throttle
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers.update(self._auth_headers(self._api_key))
        # parsed once, not for every request (httpx re-parses a str URL and a dict each time)
        self._headers = httpx.Headers(headers)
        self._urls: dict[str, httpx.URL] = {}

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return f"{type(self).__name__}(base_url={self._base_url!r}, api_key={key})"

    def _auth_headers(self, api_key: str | None) -> dict[str, str]:
        """The headers that carry the key (and the API's version, if it has one)."""
        raise NotImplementedError

    def _endpoint(self, base_url: str) -> str:
        """The URL a request goes to under a base URL."""
        raise NotImplementedError

    def _completion(self, response: httpx.Response, model: str, latency_ms: float) -> Completion:
        """An HTTP 200 answer read into a Completion (BadResponse when it is not one)."""
        raise NotImplementedError

    async def complete(self, request: ChatRequest) -> Completion:
        """Send one request, retrying transient failures; raise ProviderUnavailable at the end."""
        url = self._endpoint(request.base_url or self._base_url)
        body = json.dumps(request.payload(), ensure_ascii=False).encode()
        backoff = _Backoff(self._retry, self._throttle)
        detail = ""
        try:
            return await self._send(url, body, request.model, backoff)
        except _RetryableStatus as exc:
            what, detail = f"HTTP {exc.status}", exc.detail
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            raise RequestRejected(
                f"cannot send to {_without_secrets(url)!r}: the base URL ({self.base_url_env} "
                "or the target's base_url) must be an http:// or https:// URL"
            ) from None
        except httpx.TransportError as exc:
            what = transport_failure(exc, self._timeout_s())
        except httpx.HTTPError as exc:  # undecodable body, and the like: not worth a retry
            raise BadResponse(
                self._scrub(
                    f"{httpx.URL(url).host}: unreadable answer for model "
                    f"{request.model}: {type(exc).__name__}"
                )
            ) from None
        where = httpx.URL(url).host
        waited = f", {backoff.waited:.0f} s of waiting" if backoff.waited >= 1 else ""
        said = f': the provider said "{detail}"' if detail else ""
        raise ProviderUnavailable(
            self._scrub(
                f"{where}: {what} after {_plural(backoff.tries, 'attempt')}{waited} "
                f"(model {request.model}){said}"
            )
        )

    def _timeout_s(self) -> float | None:
        timeout = self._client.timeout.read
        return None if timeout is None else float(timeout)

    async def _send(self, url: str, body: bytes, model: str, backoff: _Backoff) -> Completion:
        """The attempts of one request; `backoff` counts them and decides the waits.

        The first attempt goes out directly: almost every call succeeds at once, and entering
        stamina's retry context costs more per call than the rest of the client's work (a
        tenth of a cold run's wall time at concurrency 32). A retryable failure hands the
        request to stamina for the remaining attempts, with `next_wait`'s schedule: the
        server's Retry-After, else exponential backoff with jitter; 429s until the rate-limit
        window is waited out, other failures until `attempts`.
        """
        backoff.tries += 1
        try:
            return await self._attempt(url, body, model)
        except Exception as exc:
            wait = backoff.hook(exc)
            if wait is False:
                raise
        import stamina  # imported with the first retry: most runs never need it

        await asyncio.sleep(float(wait))
        async for attempt in stamina.retry_context(
            on=backoff.hook, attempts=None, timeout=None, wait_jitter=0
        ):
            with attempt:
                backoff.tries += 1
                return await self._attempt(url, body, model)
        raise AssertionError("stamina ends with a return or an exception")  # pragma: no cover

    async def _attempt(self, url: str, body: bytes, model: str) -> Completion:
        throttle = self._throttle
        generation = await throttle.acquire() if throttle is not None else 0
        try:
            target = self._urls.get(url)
            if target is None:
                target = self._urls[url] = httpx.URL(url)
            started = time.perf_counter()
            response = await self._client.post(target, content=body, headers=self._headers)
            latency_ms = (time.perf_counter() - started) * 1000
        finally:
            if throttle is not None:
                throttle.release()
        status = response.status_code
        if throttle is not None:
            if status == 429:
                throttle.rate_limited(generation)
            elif status == 200:
                throttle.succeeded()
        if status == 200:
            return self._completion(response, model, latency_ms)
        if status in RETRY_STATUSES or status >= 500:
            raise _RetryableStatus(
                status, parse_retry_after(response.headers), _error_message(response)
            )
        hint = " (check the API key)" if status in (401, 403) else ""
        detail = _error_message(response)
        raise RequestRejected(
            self._scrub(
                f"{response.url.host} rejected the request for model {model}: "
                f"HTTP {status}{hint}" + (f": {detail}" if detail else "")
            )
        )

    def _scrub(self, text: str) -> str:
        """Defence in depth: a server may echo what it was sent."""
        text = _valid_text(" ".join(text.split()))
        return text.replace(self._api_key, "***") if self._api_key else text


class OpenAIProvider(JSONAPIProvider):
    """Chat completions against api.openai.com or any OpenAI-compatible endpoint."""

    def _auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def _endpoint(self, base_url: str) -> str:
        return chat_completions_url(base_url)

    def _completion(self, response: httpx.Response, model: str, latency_ms: float) -> Completion:
        data = self._json(response, model)
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise BadResponse(
                f"{response.url.host}: the answer for model {model} has no choices[0].message"
            ) from None
        usage = data.get("usage") or {}
        return Completion(
            text=_message_text(message),
            usage=Usage(
                input_tokens=int(usage.get("prompt_tokens") or 0),
                output_tokens=int(usage.get("completion_tokens") or 0),
            ),
            latency_ms=latency_ms,
            finish_reason=choice.get("finish_reason"),
            cost_usd=reported_cost(response.headers),
        )


def reported_cost(headers: Mapping[str, str]) -> float | None:
    """The call's cost in USD as a LiteLLM proxy reports it (`x-litellm-response-cost`), when
    it is a finite number ≥ 0; the proxy knows its aliases' prices, the price table may not.
    https://docs.litellm.ai/docs/proxy/cost_tracking"""
    value = headers.get("x-litellm-response-cost")
    if not value:
        return None
    try:
        cost = float(value)
    except ValueError:
        return None
    return cost if 0 <= cost < float("inf") else None


def _message_text(message: Mapping[str, Any]) -> str:
    """The assistant's content; tool calls (and refusals) rendered as text so they can be scored."""
    content = message.get("content")
    if isinstance(content, list):  # content parts
        content = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    parts = [content] if isinstance(content, str) and content else []
    calls = message.get("tool_calls") or []
    legacy = message.get("function_call")
    if legacy:
        calls = [*calls, {"function": legacy}]
    if calls:
        rendered = [_render_call(call) for call in calls if isinstance(call, dict)]
        parts.append(json.dumps(rendered, ensure_ascii=False, sort_keys=True))
    if not parts and message.get("refusal"):
        parts.append(str(message["refusal"]))
    return _valid_text("\n".join(parts))


def _valid_text(text: str) -> str:
    """`text` with unpaired surrogates (a JSON `\\ud800` escape) as U+FFFD: a model's answer
    must be text that UTF-8 files, request bodies and the PR comment can hold."""
    return _SURROGATE.sub("\ufffd", text)


def _render_call(call: Mapping[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    arguments: Any = function.get("arguments")
    if isinstance(arguments, str):
        # a model's broken JSON stays as it is: a scorer may want to see that it was broken
        with contextlib.suppress(ValueError):
            arguments = json.loads(arguments)
    return {"name": function.get("name"), "arguments": arguments}


def _error_message(response: httpx.Response) -> str:
    """The provider's own words: `error.message` of a JSON body (OpenAI's and LiteLLM's
    shape), else the start of a text body (a proxy's "Request timed out"), clipped."""
    try:
        data = response.json()
        message = data["error"]["message"] if isinstance(data.get("error"), dict) else data["error"]
    except (ValueError, KeyError, TypeError, AttributeError):
        message = response.content[:2_000].decode("utf-8", errors="replace")
        if "<" in message[:100]:  # an HTML error page says nothing a line can hold
            return ""
    text = _mask(" ".join(str(message).split()))
    return text if len(text) <= 200 else text[:199] + "…"


# Key-like strings a provider may echo back (its own keys, a proxy's, a bearer token).
_KEY_LIKE = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{6,}|(?i:bearer)\s+\S+")


def _mask(text: str) -> str:
    return _KEY_LIKE.sub("***", text)


def transport_failure(exc: httpx.TransportError, timeout_s: float | None) -> str:
    """What went wrong under a failed request, in a person's words. The aiohttp transport
    reports every failure to connect as httpx.ConnectTimeout: the cause says which it was."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for error in chain:
        if isinstance(error, ConnectionRefusedError):
            return "connection refused (is the server running, on that port?)"
        if isinstance(error, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(error, ssl.SSLError):
            return f"TLS handshake failed ({error.reason or type(error).__name__})"
        if isinstance(error, ConnectionResetError):
            return "connection reset by the server"
    within = f" within {timeout_s:g} s" if timeout_s is not None else ""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect{within}"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer{within} (timed out)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection without an answer"
    return f"connection failed ({type(exc).__name__}: {_mask(' '.join(str(exc).split()))[:200]})"


def _without_secrets(url: str) -> str:
    """A URL fit for a message: no `user:password@`, no query string."""
    scheme, _, rest = url.partition("://")
    rest = rest.rpartition("@")[2].partition("?")[0]
    return f"{scheme}://{rest}" if rest else url.partition("?")[0]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
