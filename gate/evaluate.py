"""The evaluation engine: from a Plan to Results, spending as little as the answers allow.

It owns the run's schedule and its bookkeeping: every request (generation or judge) is
sent at most once per run, however many case runs share its key (identical base and head
requests, identical outputs judged by the same rubric); the response cache is read before
the network and written after it; a budget is checked before the first call and before
every call after it; a provider that keeps failing stops the run early (`complete=False`)
rather than burning through every case.

The run has two halves. First, without the network: render every scorer value, read the
cache for every generation (and the judge calls of cached outputs) in one batch, estimate
the cost of the rest, and score every case run the cache answers completely. A run that the
cache answers entirely ends there: no event loop, no HTTP client, not even its imports.
Then `concurrency` workers take the remaining case runs in plan order, each generating and
judging one case run at a time, so at most `concurrency` calls are in flight (fewer while the
provider's `Throttle` says so) and only the results, never per-call objects, are kept.

A row's latency and cost are its generation's, also when the cache answered (the recorded
latency, the price of the recorded usage), so both sides stay comparable; `CallStats` say
what this run spent on the network, judge calls included, per side.
Scoring itself lives in `gate.scorers`, prices in `gate.prices`, targets (and the one module
speaking HTTP, `gate.targets.openai_http`) in `gate.targets`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gate.cache import CacheWriter, ResponseCache
from gate.errors import BudgetExceeded, CacheMiss, ProviderUnavailable, TemplateError
from gate.models import (
    SIDES,
    CallStats,
    CaseResult,
    CaseRun,
    ChatRequest,
    Plan,
    Results,
    ScorerSpec,
    Side,
    SuitePlan,
    Usage,
)
from gate.prices import cost_usd, price_for
from gate.scorers import Expected, JudgeUnparsable, judge_request, scorer_for
from gate.targets.base import BadResponse, Completion, Provider, RequestRejected
from gate.targets.openai import DEFAULT_BASE_URL
from gate.targets.registry import TARGETS
from gate.throttle import Throttle

if TYPE_CHECKING:
    from gate.targets.openai_http import RetryPolicy

# Budget estimates, before anything is known about the answers.
CHARS_PER_TOKEN = 4
DEFAULT_OUTPUT_TOKENS = 256  # a generation without max_tokens
# This many failed calls in a row (each after its own retries) means the provider is down.
MAX_CONSECUTIVE_FAILURES = 8

Prices = Mapping[str, tuple[float, float]]
ProviderSource = Callable[[str], Provider] | Provider
Source = Literal["cache", "network", "failed", "skipped", "missing"]
_NOTHING_RENDERED: dict[str, Expected] = {}  # a row whose scorers render nothing (json_valid)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the run is: case runs done of `total`, requests (generation or judge) answered
    by the cache, case runs whose generation failed, and seconds since the start. `limit` is
    the number of calls the provider's rate limits allow in flight now, when below the
    configured concurrency (else None); `backing_off` calls are waiting out a 429 (the longest
    for `backoff_left_s` more)."""

    done: int
    total: int
    cache_hits: int
    errors: int
    elapsed_s: float
    limit: int | None = None
    backing_off: int = 0  # calls waiting out a rate limit (429) before their next attempt
    backoff_left_s: float = 0.0  # the longest of those waits still to go


@dataclass(frozen=True, slots=True)
class Estimate:
    """What the run is about to do, before its first call.

    `requests` are the unique requests known now: every generation, and the judge calls of
    outputs the cache holds (a new output's judge call is known once it is generated, and is
    estimated as one per judge scorer). `cost_usd` estimates the calls to send from the price
    table (input: characters / 4; output: max_tokens or 256); models without a price count
    as $0 and are named in `unpriced`.
    """

    requests: int
    cached: int
    to_send: int
    cost_usd: float
    unpriced: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one unique request."""

    source: Source
    completion: Completion | None = None
    error: str | None = None
    cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    index: int
    suite: SuitePlan
    run: CaseRun
    key: str
    judges: tuple[ScorerSpec, ...]


async def evaluate_plan(
    plan: Plan,
    provider_for: ProviderSource,
    cache: ResponseCache | None,
    *,
    concurrency: int,
    replay: bool = False,
    max_cost_usd: float | None = None,
    prices: Prices | None = None,
    progress: Callable[[Progress], None] | None = None,
    progress_interval_s: float = 1.0,
    max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
    estimate: Callable[[Estimate], None] | None = None,
    throttle: Throttle | None = None,
) -> Results:
    """Generate, score and account for every case run of the plan.

    `provider_for` is one Provider for every request, or a function from a request's
    `provider` name to its Provider. Raises TemplateError (a scorer cannot be rendered for a
    case) and CacheUnwritable before any call; BudgetExceeded when the estimate, or the
    spending plus the next call's estimate, would pass `max_cost_usd` (calls to a model
    without a price count as $0); CacheMiss in replay mode when the cache lacks a response.
    A failed call is that case's error; `max_consecutive_failures` failed calls in a row stop
    the run early with `complete=False` and a `stop_reason`. `estimate` is told what the run
    is about to do before the first call; `throttle` (the provider's) is only read, to show
    a lowered limit in the progress.
    """
    engine = _Engine(
        cache,
        concurrency=concurrency,
        replay=replay,
        max_cost_usd=max_cost_usd,
        prices=prices or {},
        max_consecutive_failures=max_consecutive_failures,
    )
    try:
        engine.prepare(plan, estimate)
        if engine.needs_network:
            await engine.fetch(provider_for, progress, progress_interval_s, throttle)
        return engine.finish(progress)
    finally:
        engine.close()


def evaluate(
    plan: Plan,
    cache: ResponseCache | None,
    *,
    api_key: str | Mapping[str, str | None] | None,
    base_url: str | Mapping[str, str] = DEFAULT_BASE_URL,
    concurrency: int,
    timeout_s: float = 300.0,
    retry: RetryPolicy | None = None,
    replay: bool = False,
    max_cost_usd: float | None = None,
    prices: Prices | None = None,
    progress: Callable[[Progress], None] | None = None,
    estimate: Callable[[Estimate], None] | None = None,
) -> Results:
    """The shell's entry: evaluate_plan with the OpenAI adapter, in a fresh event loop.

    A run the cache answers entirely makes no event loop and does not import the HTTP stack.
    The HTTP client is created and closed inside the loop that uses it; one `Throttle` of
    `concurrency` slots paces every call. `estimate` is told what the run is about to do once
    the HTTP stack it needs is imported, before the first call. `api_key` and `base_url` are
    one for every target kind, or one per `provider:` (settings.api_keys and .base_urls).
    """
    engine = _Engine(  # raises ValueError for a concurrency under 1
        cache,
        concurrency=concurrency,
        replay=replay,
        max_cost_usd=max_cost_usd,
        prices=prices or {},
        max_consecutive_failures=MAX_CONSECUTIVE_FAILURES,
    )

    def estimated(about: Estimate) -> None:
        if about.to_send and not replay:
            # Import the HTTP stack before the shell hears that calls are coming, so that
            # whatever it starts meanwhile (an import on a thread) does not slow this one.
            import gate.targets.openai_http  # noqa: F401
        if estimate is not None:
            estimate(about)

    try:
        engine.prepare(plan, estimated)
        if engine.needs_network:
            from gate.targets.openai_http import make_http_client

            async def main() -> None:
                throttle = Throttle(concurrency)
                async with make_http_client(concurrency, timeout_s) as client:

                    def provider_for(name: str) -> Provider:
                        kind = TARGETS[name]
                        key = api_key.get(name) if isinstance(api_key, Mapping) else api_key
                        url = (
                            base_url.get(name, kind.default_base_url)
                            if isinstance(base_url, Mapping)
                            else base_url
                        )
                        return kind.connect(key, url, client, retry=retry, throttle=throttle)

                    await engine.fetch(provider_for, progress, 1.0, throttle)

            asyncio.run(main())
        return engine.finish(progress)
    finally:
        engine.close()


class _Engine:
    def __init__(
        self,
        cache: ResponseCache | None,
        *,
        concurrency: int,
        replay: bool,
        max_cost_usd: float | None,
        prices: Prices,
        max_consecutive_failures: int,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._cache = cache
        self._concurrency = concurrency
        self._replay = replay
        self._max_cost = max_cost_usd
        self._prices = prices
        self._max_failures = max_consecutive_failures

        self._started = time.monotonic()
        self._items: list[_Item] = []
        self._suites: list[str] = []
        self._results: list[CaseResult | None] = []
        self._pending: list[_Item] = []  # case runs that need the network
        self._rendered: dict[tuple[str, str, str], dict[str, Expected]] = {}
        self._outcomes: dict[str, _Outcome] = {}  # every unique request's, once known
        self._inflight: dict[str, asyncio.Future[_Outcome]] = {}
        self._missed: set[str] = set()  # looked up in the cache before, not there
        self._used: dict[Side, set[str]] = {side: set() for side in SIDES}
        self._provider_for: ProviderSource | None = None
        self._providers: dict[str, Provider] = {}
        self._writer: CacheWriter | None = None

        self._spent = 0.0
        self._reserved = 0.0  # estimates of the calls in flight
        self._unspent_estimate = 0.0  # estimates of the calls the budget stopped
        self._budget_stopped = 0
        self._stop_reason: str | None = None
        self._consecutive_failures = 0
        self._failed_calls = 0
        self._last_error = ""
        self._missing = 0

        self._done = 0
        self._errors = 0
        self._cache_hits = 0

    @property
    def needs_network(self) -> bool:
        return bool(self._pending)

    # ----------------------------------------------------------------------- before any call

    def prepare(self, plan: Plan, on_estimate: Callable[[Estimate], None] | None) -> None:
        """Render, read the cache, estimate, check the budget; score what the cache answers."""
        items: list[_Item] = []
        for suite in plan.suites:
            judges = tuple(spec for spec in suite.scorers if scorer_for(spec.type).judged)
            for run in suite.runs:
                items.append(_Item(len(items), suite, run, run.request.key, judges))
        self._items = items
        self._suites = [suite.name for suite in plan.suites]
        self._results = [None] * len(items)
        self._rendered = _render_values(items)

        generations = self._cache.get_many(i.key for i in items) if self._cache else {}
        judge_requests: dict[str, ChatRequest] = {}
        estimate = 0.0
        unpriced: set[str] = set()
        to_send: set[str] = set()
        placeholders: set[tuple[str, str]] = set()  # judge calls of outputs not generated yet
        for item in items:
            if item.key not in generations and item.key not in to_send:
                to_send.add(item.key)
                estimate += self._estimate(item.run.request, unpriced)
            if not item.judges:
                continue
            output = generations.get(item.key)
            for spec in item.judges:
                if output is None:  # a placeholder output as long as the generation may be
                    if (item.key, spec.name) in placeholders:
                        continue
                    placeholders.add((item.key, spec.name))
                    text = "x" * (_output_limit(item.run.request) * CHARS_PER_TOKEN)
                    estimate += self._estimate(_judge_request(item, spec, text), unpriced)
                else:
                    request = _judge_request(item, spec, output.text)
                    judge_requests.setdefault(request.key, request)
        judged = self._cache.get_many(judge_requests) if self._cache else {}
        for key, request in judge_requests.items():
            if key not in judged:
                to_send.add(key)
                estimate += self._estimate(request, unpriced)
        self._missed = set(to_send)
        known = len(set(generations) | set(judged) | to_send)
        if on_estimate is not None:
            on_estimate(
                Estimate(
                    requests=known + len(placeholders),
                    cached=len(generations) + len(judged),
                    to_send=len(to_send) + len(placeholders),
                    cost_usd=estimate,
                    unpriced=tuple(sorted(unpriced)),
                )
            )
        if self._replay and to_send:
            self._missing = len(to_send)
            raise self._cache_miss()
        if self._max_cost is not None and not self._replay and estimate > self._max_cost:
            raise BudgetExceeded(
                f"this run is estimated at ${estimate:.4f} (spent $0.00), more than "
                f"max-cost-usd ${self._max_cost:.2f}; raise max-cost-usd or run fewer suites"
            )

        for item in items:
            completion = generations.get(item.key)
            if completion is not None and item.key not in self._outcomes:
                cost = self._cost(item.run.request, completion)
                self._outcomes[item.key] = _Outcome("cache", completion, cost_usd=cost)
        for key, completion in judged.items():
            cost = self._cost(judge_requests[key], completion)
            self._outcomes[key] = _Outcome("cache", completion, cost_usd=cost)
        self._cache_hits = len(generations) + len(judged)
        for item in items:
            if not self._score_from_cache(item):
                self._pending.append(item)
        if self._pending and self._cache is not None and not self._replay:
            self._cache.check_writable()

    def _score_from_cache(self, item: _Item) -> bool:
        """Score a case run the cache answers completely; False when it needs a call."""
        generated = self._outcomes.get(item.key)
        if generated is None or generated.completion is None:
            return False
        keys = [item.key]
        judged: list[tuple[ScorerSpec, _Outcome]] = []
        for spec in item.judges:
            request = _judge_request(item, spec, generated.completion.text)
            outcome = self._outcomes.get(request.key)
            if outcome is None:
                return False
            keys.append(request.key)
            judged.append((spec, outcome))
        self._record(item, generated, judged, keys)
        return True

    # ----------------------------------------------------------------------- the calls

    async def fetch(
        self,
        provider_for: ProviderSource,
        progress: Callable[[Progress], None] | None,
        progress_interval_s: float,
        throttle: Throttle | None,
    ) -> None:
        """Run the case runs that need the network on `concurrency` workers."""
        self._provider_for = provider_for
        if self._cache is not None and not self._replay:
            self._writer = CacheWriter(self._cache)

        def report() -> None:
            if progress is not None:
                lowered = throttle is not None and throttle.limit < self._concurrency
                waiting = throttle.backing_off() if throttle is not None else (0, 0.0)
                progress(self._progress(throttle.limit if throttle and lowered else None, waiting))

        ticker = asyncio.create_task(_tick(report, progress_interval_s)) if progress else None
        pending = iter(self._pending)
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._concurrency, len(self._pending))):
                    group.create_task(self._work(pending))
        except BaseExceptionGroup as errors:
            raise errors.exceptions[0] from None  # a bug or an unexpected error: let it show
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            # whatever was paid for reaches the disk, however the run ends
            write_error = await asyncio.to_thread(self._writer.close) if self._writer else None
            self._writer = None
        if write_error is not None:
            raise write_error

    async def _work(self, pending: Iterator[_Item]) -> None:
        for item in pending:  # shared by every worker: each case run is taken once
            await self._case(item)

    async def _case(self, item: _Item) -> None:
        """Generate and judge one case run, then record its result."""
        generated = await self._outcome(item.run.request, item.key)
        keys = [item.key]
        judged: list[tuple[ScorerSpec, _Outcome]] = []
        if generated.completion is not None:
            for spec in item.judges:
                request = _judge_request(item, spec, generated.completion.text)
                keys.append(request.key)
                judged.append((spec, await self._outcome(request, request.key)))
        self._record(item, generated, judged, keys)

    async def _outcome(self, request: ChatRequest, key: str) -> _Outcome:
        """The one answer to `key` in this run, fetched by whoever asks first."""
        known = self._outcomes.get(key)
        if known is not None:
            return known
        waiting = self._inflight.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)
        future: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            outcome = await self._fetch(request, key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else needs to
            raise
        finally:
            del self._inflight[key]
        self._outcomes[key] = outcome
        future.set_result(outcome)
        return outcome

    async def _fetch(self, request: ChatRequest, key: str) -> _Outcome:
        if key not in self._missed and self._cache is not None:
            completion = self._cache.get(key)  # a judge call of an output generated just now
            if completion is not None:
                self._cache_hits += 1
                return _Outcome("cache", completion, cost_usd=self._cost(request, completion))
        if self._replay:
            self._missing += 1
            return _Outcome("missing", error="not in the cache (replay mode)")
        if self._stop_reason is not None:
            return _Outcome("skipped", error=f"not run: {self._stop_reason}")
        estimate = self._estimate(request, set())
        if self._max_cost is not None and (
            self._budget_stopped or self._spent + self._reserved + estimate > self._max_cost
        ):
            # once one call would overshoot, none starts: the run is going to fail anyway
            self._budget_stopped += 1
            self._unspent_estimate += estimate
            return _Outcome("skipped", error="not run: max-cost-usd reached")
        self._reserved += estimate
        try:
            completion = await self._provider(request.provider).complete(request)
        except (ProviderUnavailable, RequestRejected, BadResponse) as exc:
            return self._failed(str(exc))
        finally:
            self._reserved -= estimate
        self._consecutive_failures = 0
        cost = self._cost(request, completion)
        self._spent += cost or 0.0
        if self._writer is not None:
            self._writer.put(key, request, completion)
        return _Outcome("network", completion, cost_usd=cost)

    def _failed(self, message: str) -> _Outcome:
        self._failed_calls += 1
        self._consecutive_failures += 1
        self._last_error = message
        if self._consecutive_failures >= self._max_failures and self._stop_reason is None:
            self._stop_reason = "the provider is unavailable"
        return _Outcome("failed", error=message)

    def _provider(self, name: str) -> Provider:
        provider = self._providers.get(name)
        if provider is None:
            source = self._provider_for
            assert source is not None, "fetch() sets the provider"
            provider = source if isinstance(source, Provider) else source(name)
            self._providers[name] = provider
        return provider

    # ----------------------------------------------------------------------- results

    def _record(
        self,
        item: _Item,
        generated: _Outcome,
        judged: list[tuple[ScorerSpec, _Outcome]],
        keys: list[str],
    ) -> None:
        """Score one case run and keep its row (and which requests its side used)."""
        run, suite = item.run, item.suite
        self._used[run.side].update(keys)
        self._done += 1
        completion = generated.completion
        if completion is None:
            self._errors += 1
            self._results[item.index] = CaseResult(
                suite=run.suite,
                side=run.side,
                case_id=run.case_id,
                repeat=run.repeat,
                output=None,
                error=generated.error,
                latency_ms=None,
                usage=Usage(),
                cost_usd=None,
                cached=False,
                scores={},
                variables=run.variables,
            )
            return
        scores: dict[str, float | None] = {}
        score_errors: dict[str, str] = {}
        reasons: dict[str, str] = {}
        verdicts = {spec.name: outcome for spec, outcome in judged} if judged else {}
        text = completion.text
        rendered = self._rendered.get((suite.name, run.side, run.case_id), _NOTHING_RENDERED)
        for spec in suite.scorers:
            scorer = scorer_for(spec.type)
            if not scorer.judged:
                score = scorer.score(spec, text, rendered.get(spec.name))
                scores[spec.name] = score.value
                if score.reason:
                    reasons[spec.name] = score.reason
                continue
            verdict = verdicts[spec.name]
            if verdict.completion is None:
                scores[spec.name] = None
                score_errors[spec.name] = f"judge call failed: {verdict.error}"
                continue
            try:
                score = scorer.score(spec, verdict.completion.text, None)
                scores[spec.name] = score.value
                if score.reason is not None:
                    reasons[spec.name] = score.reason
            except JudgeUnparsable as exc:
                scores[spec.name] = None
                score_errors[spec.name] = str(exc)
        self._results[item.index] = CaseResult(
            suite=run.suite,
            side=run.side,
            case_id=run.case_id,
            repeat=run.repeat,
            output=completion.text,
            error=None,
            latency_ms=completion.latency_ms,
            usage=completion.usage,
            cost_usd=generated.cost_usd,
            cached=generated.source == "cache",
            scores=scores,
            score_errors=score_errors,
            variables=run.variables,
            reasons=reasons,
        )

    def finish(self, progress: Callable[[Progress], None] | None) -> Results:
        if progress is not None:
            progress(self._progress(None))
        if self._replay and self._missing:
            raise self._cache_miss()
        if self._budget_stopped:
            raise BudgetExceeded(
                f"stopped before exceeding max-cost-usd ${self._max_cost or 0:.2f}: "
                f"spent ${self._spent:.4f}, and {_plural(self._budget_stopped, 'more call')} "
                f"would need about ${self._unspent_estimate:.4f}; raise max-cost-usd "
                "(responses so far are cached)"
            )
        suites: dict[str, list[CaseResult]] = {name: [] for name in self._suites}
        for item, result in zip(self._items, self._results, strict=True):
            assert result is not None
            suites[item.suite.name].append(result)
        stop_reason = None
        if self._stop_reason is not None:
            skipped = sum(1 for o in self._outcomes.values() if o.source == "skipped")
            stop_reason = (
                f"{self._stop_reason}: {_plural(self._failed_calls, 'call')} failed after "
                f"retries ({self._max_failures} in a row), {skipped} not attempted; "
                f"last error: {self._last_error}"
            )
        return Results(
            suites={name: tuple(rows) for name, rows in suites.items()},
            stats=self._stats(),
            complete=stop_reason is None,
            stop_reason=stop_reason,
        )

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def _progress(self, limit: int | None, waiting: tuple[int, float] = (0, 0.0)) -> Progress:
        elapsed = time.monotonic() - self._started
        return Progress(
            self._done, len(self._items), self._cache_hits, self._errors, elapsed, limit, *waiting
        )

    def _cache_miss(self) -> CacheMiss:
        where = f"at {self._cache.directory}" if self._cache is not None else "(no cache-dir)"
        return CacheMiss(
            f"replay mode: {_plural(self._missing, 'request')} are not in the cache {where}; "
            "record them by running once with the provider's API key (e.g. OPENAI_API_KEY)"
        )

    # ----------------------------------------------------------------------- accounting

    def _cost(self, request: ChatRequest, completion: Completion) -> float | None:
        """What the provider said the call cost (a LiteLLM proxy does), else the price table's
        price of its usage; None when neither knows."""
        if completion.cost_usd is not None:
            return completion.cost_usd
        return cost_usd(request.model, completion.usage, self._prices)

    def _estimate(self, request: ChatRequest, unpriced: set[str]) -> float:
        """A rough cost before the call: chars/4 in, max_tokens (or a default) out."""
        price = price_for(request.model, self._prices)
        if price is None:
            unpriced.add(request.model)
            return 0.0  # unknown price: counts as $0 against max-cost-usd
        chars = sum(len(m.content) for m in request.messages) + len(request.tools or "")
        output_tokens = _output_limit(request)
        return (chars / CHARS_PER_TOKEN * price[0] + output_tokens * price[1]) / 1_000_000

    def _stats(self) -> dict[Side, CallStats]:
        """Per side: each unique request that side used, counted once.

        A request both sides share is sent once: its call, tokens and cost count for the base
        side, and the head side counts it as served from the cache, so the two sides add up
        to what the run really spent.
        """
        used = self._used
        stats: dict[Side, CallStats] = {}
        for side in SIDES:
            calls = hits = failed = tokens_in = tokens_out = 0
            cost: float | None = 0.0
            for key in used[side]:
                outcome = self._outcomes[key]
                if side == "head" and key in used["base"]:
                    hits += outcome.source != "failed"  # the base side's call served it
                elif outcome.source == "cache":
                    hits += 1
                elif outcome.source == "failed":
                    calls += 1
                    failed += 1
                elif outcome.source == "network" and outcome.completion is not None:
                    calls += 1
                    tokens_in += outcome.completion.usage.input_tokens
                    tokens_out += outcome.completion.usage.output_tokens
                    cost = (
                        None
                        if cost is None or outcome.cost_usd is None
                        else cost + outcome.cost_usd
                    )
            stats[side] = CallStats(
                calls=calls,
                cache_hits=hits,
                failed=failed,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost_usd=cost,
            )
        return stats


def _judge_request(item: _Item, spec: ScorerSpec, output: str) -> ChatRequest:
    suite = item.suite
    return judge_request(
        spec, item.run.variables, output, suite.judge_provider, suite.judge_base_url
    )


def check_scorer_values(plan: Plan) -> None:
    """Render every scorer value of the plan as a run does before its first call: raises the
    run's TemplateError (a column the dataset lacks, a bad regex), for `llm-gate check`."""
    items = [
        _Item(0, suite, run, "", ())
        for suite in plan.suites
        for run in suite.runs
        if not run.repeat
    ]
    _render_values(items)


def _render_values(items: list[_Item]) -> dict[tuple[str, str, str], dict[str, Expected]]:
    """Render every scorer value for every case before spending anything on calls.

    Keyed by (suite, side, case id), then metric: repeats share their row, and a case's row may
    differ between the sides when the dataset changed (when it did not, the base side reuses
    the head side's rendering). The head side goes first, so an error names the case as the
    pull request has it, as `llm-gate check` (which reads the working tree) does.
    """
    rendered: dict[tuple[str, str, str], dict[str, Expected]] = {}
    head_variables: dict[tuple[str, str], dict[str, Any]] = {}
    for item in sorted(items, key=lambda i: i.run.side != "head"):
        suite, run = item.suite, item.run
        row = (suite.name, run.side, run.case_id)
        if row in rendered:
            continue
        if run.side == "head":
            head_variables[(suite.name, run.case_id)] = run.variables
        elif head_variables.get((suite.name, run.case_id)) == run.variables:
            rendered[row] = rendered[(suite.name, "head", run.case_id)]
            continue
        values: dict[str, Expected] = {}
        for spec in suite.scorers:
            try:
                # a regex compiles here: a bad one fails before any call
                value = scorer_for(spec.type).expected(spec, run.variables)
            except TemplateError as exc:
                where = f"suite '{suite.name}', {run.side} case '{run.case_id}'"
                raise TemplateError(f"{where}: {exc}") from None
            if value is not None:
                values[spec.name] = value
        rendered[row] = values
    return rendered


def _output_limit(request: ChatRequest) -> int:
    params = dict(request.params)
    limit = params.get("max_completion_tokens") or params.get("max_tokens")
    return int(limit) if isinstance(limit, int | float) else DEFAULT_OUTPUT_TOKENS


async def _tick(report: Callable[[], None], interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        report()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
