"""The evaluation engine: from a Plan to Results, spending as little as the answers allow.

It owns the run's schedule and its bookkeeping: every request (generation or judge) is
sent at most once per run, however many case runs share its key (identical base and head
requests, identical outputs judged by the same rubric); the response cache is read before
the network and written after it; at most `concurrency` calls are in flight; a budget is
checked before the first call and before every call after it; a provider that keeps failing
stops the run early (`complete=False`) rather than burning through every case.

A row's latency and cost are its generation's, also when the cache answered (the recorded
latency, the price of the recorded usage), so both sides stay comparable; `CallStats` say
what this run spent on the network, judge calls included, per side.
Scoring itself lives in `gate.scorers`, prices in `gate.prices`, HTTP in `gate.providers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

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
from gate.providers import BadResponse, Completion, Provider, RequestRejected
from gate.providers.openai import DEFAULT_BASE_URL, OpenAIProvider, RetryPolicy, make_http_client
from gate.scorers import (
    JudgeUnparsable,
    judge_request,
    parse_judge_score,
    render_value,
    score_against,
)

# Budget estimates, before anything is known about the answers.
CHARS_PER_TOKEN = 4
DEFAULT_OUTPUT_TOKENS = 256  # a generation without max_tokens
# This many failed calls in a row (each after its own retries) means the provider is down.
MAX_CONSECUTIVE_FAILURES = 8

Prices = Mapping[str, tuple[float, float]]
ProviderSource = Callable[[str], Provider] | Provider
Source = Literal["cache", "network", "failed", "skipped", "missing"]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the run is: case runs done of `total`, requests (generation or judge) answered
    by the cache, case runs whose generation failed, and seconds since the start."""

    done: int
    total: int
    cache_hits: int
    errors: int
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of one unique request."""

    source: Source
    completion: Completion | None = None
    error: str | None = None
    cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    suite: SuitePlan
    run: CaseRun
    key: str


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
) -> Results:
    """Generate, score and account for every case run of the plan.

    `provider_for` is one Provider for every request, or a function from a request's
    `provider` name to its Provider. Raises TemplateError (a scorer cannot be rendered for a
    case) and CacheUnwritable before any call; BudgetExceeded when the estimate, or the
    spending plus the next call's estimate, would pass `max_cost_usd` (calls to a model
    without a price count as $0); CacheMiss in replay mode when the cache lacks a response.
    A failed call is that case's error; `max_consecutive_failures` failed calls in a row stop
    the run early with `complete=False` and a `stop_reason`.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    engine = _Engine(
        provider_for,
        cache,
        concurrency=concurrency,
        replay=replay,
        max_cost_usd=max_cost_usd,
        prices=prices or {},
        max_consecutive_failures=max_consecutive_failures,
    )
    return await engine.run(plan, progress, progress_interval_s)


def evaluate(
    plan: Plan,
    cache: ResponseCache | None,
    *,
    api_key: str | None,
    base_url: str = DEFAULT_BASE_URL,
    concurrency: int,
    timeout_s: float = 300.0,
    retry: RetryPolicy | None = None,
    replay: bool = False,
    max_cost_usd: float | None = None,
    prices: Prices | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Results:
    """The shell's entry: evaluate_plan with the OpenAI adapter, in a fresh event loop.

    The HTTP client is created and closed inside the loop that uses it.
    """

    async def main() -> Results:
        async with make_http_client(concurrency, timeout_s) as client:
            provider = OpenAIProvider(api_key, base_url, client, retry=retry)
            return await evaluate_plan(
                plan,
                provider,
                cache,
                concurrency=concurrency,
                replay=replay,
                max_cost_usd=max_cost_usd,
                prices=prices,
                progress=progress,
            )

    return asyncio.run(main())


class _Engine:
    def __init__(
        self,
        provider_for: ProviderSource,
        cache: ResponseCache | None,
        *,
        concurrency: int,
        replay: bool,
        max_cost_usd: float | None,
        prices: Prices,
        max_consecutive_failures: int,
    ) -> None:
        self._provider_for = provider_for
        self._providers: dict[str, Provider] = {}
        self._cache = cache
        self._concurrency = concurrency
        self._replay = replay
        self._max_cost = max_cost_usd
        self._prices = prices
        self._max_failures = max_consecutive_failures

        self._preloaded: dict[str, Completion] = {}
        self._rendered: dict[tuple[str, str, str, str], str] = {}
        self._tasks: dict[str, asyncio.Task[_Outcome]] = {}
        self._task_group: asyncio.TaskGroup | None = None
        self._semaphore: asyncio.Semaphore | None = None
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

    # ----------------------------------------------------------------------- the run

    async def run(
        self,
        plan: Plan,
        progress: Callable[[Progress], None] | None,
        progress_interval_s: float,
    ) -> Results:
        started = time.monotonic()
        items = [_Item(suite, run, run.request.key) for suite in plan.suites for run in suite.runs]
        self._rendered = _render_values(items)
        estimate = self._preload_and_estimate(items)
        if self._max_cost is not None and not self._replay and estimate > self._max_cost:
            raise BudgetExceeded(
                f"this run is estimated at ${estimate:.4f} (spent $0.00), more than "
                f"max-cost-usd ${self._max_cost:.2f}; raise max-cost-usd or run fewer suites"
            )

        def report() -> None:
            if progress is not None:
                elapsed = time.monotonic() - started
                progress(Progress(self._done, len(items), self._cache_hits, self._errors, elapsed))

        if self._cache is not None and not self._replay:
            self._cache.check_writable()
            self._writer = CacheWriter(self._cache)
        ticker = asyncio.create_task(_tick(report, progress_interval_s)) if progress else None
        self._semaphore = asyncio.Semaphore(self._concurrency)
        try:
            async with asyncio.TaskGroup() as group:
                self._task_group = group
                pending = [group.create_task(self._case(item)) for item in items]
        except BaseExceptionGroup as errors:
            raise errors.exceptions[0] from None  # a bug or an unexpected error: let it show
        finally:
            self._task_group = None
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            # whatever was paid for reaches the disk, however the run ends
            write_error = await asyncio.to_thread(self._writer.close) if self._writer else None
        report()
        if write_error is not None:
            raise write_error

        if self._replay and self._missing:
            where = f"at {self._cache.directory}" if self._cache is not None else "(no cache-dir)"
            raise CacheMiss(
                f"replay mode: {_plural(self._missing, 'request')} are not in the cache {where}; "
                "record them by running once with the provider's API key (e.g. OPENAI_API_KEY)"
            )
        if self._budget_stopped:
            raise BudgetExceeded(
                f"stopped before exceeding max-cost-usd ${self._max_cost or 0:.2f}: "
                f"spent ${self._spent:.4f}, and {_plural(self._budget_stopped, 'more call')} "
                f"would need about ${self._unspent_estimate:.4f}; raise max-cost-usd "
                "(responses so far are cached)"
            )

        results = [task.result() for task in pending]
        suites: dict[str, list[CaseResult]] = {suite.name: [] for suite in plan.suites}
        for item, (case_result, _keys) in zip(items, results, strict=True):
            suites[item.suite.name].append(case_result)
        stop_reason = None
        if self._stop_reason is not None:
            skipped = sum(1 for task in self._tasks.values() if task.result().source == "skipped")
            stop_reason = (
                f"{self._stop_reason}: {_plural(self._failed_calls, 'call')} failed after "
                f"retries ({self._max_failures} in a row), {skipped} not attempted; "
                f"last error: {self._last_error}"
            )
        return Results(
            suites={name: tuple(rows) for name, rows in suites.items()},
            stats=self._stats(results),
            complete=stop_reason is None,
            stop_reason=stop_reason,
        )

    async def _case(self, item: _Item) -> tuple[CaseResult, list[str]]:
        """Generate and score one case run; return its result and the request keys it used."""
        run, suite = item.run, item.suite
        keys = [item.key]
        outcome = await self._outcome(run.request, item.key)
        completion = outcome.completion
        if completion is None:
            self._done += 1
            self._errors += 1
            return (
                CaseResult(
                    suite=run.suite,
                    side=run.side,
                    case_id=run.case_id,
                    repeat=run.repeat,
                    output=None,
                    error=outcome.error,
                    latency_ms=None,
                    usage=Usage(),
                    cost_usd=None,
                    cached=False,
                    scores={},
                    variables=run.variables,
                ),
                keys,
            )

        scores: dict[str, float | None] = {}
        score_errors: dict[str, str] = {}
        judges: list[tuple[ScorerSpec, Awaitable[_Outcome]]] = []
        for spec in suite.scorers:
            if spec.type == "judge":
                request = judge_request(
                    spec, run.variables, completion.text, suite.judge_provider, suite.judge_base_url
                )
                key = request.key
                keys.append(key)
                judges.append((spec, self._outcome(request, key)))
            else:
                expected = self._rendered.get((suite.name, run.side, run.case_id, spec.name))
                scores[spec.name] = score_against(spec, completion.text, expected)
        for spec, pending in judges:
            verdict = await pending
            if verdict.completion is None:
                scores[spec.name] = None
                score_errors[spec.name] = f"judge call failed: {verdict.error}"
                continue
            try:
                scores[spec.name] = parse_judge_score(verdict.completion.text, spec.scale)
            except JudgeUnparsable as exc:
                scores[spec.name] = None
                score_errors[spec.name] = str(exc)

        self._done += 1
        return (
            CaseResult(
                suite=run.suite,
                side=run.side,
                case_id=run.case_id,
                repeat=run.repeat,
                output=completion.text,
                error=None,
                latency_ms=completion.latency_ms,
                usage=completion.usage,
                cost_usd=outcome.cost_usd,
                cached=outcome.source == "cache",
                scores=scores,
                score_errors=score_errors,
                variables=run.variables,
            ),
            keys,
        )

    # ----------------------------------------------------------------------- requests

    def _outcome(self, request: ChatRequest, key: str) -> Awaitable[_Outcome]:
        """The one task that answers `key` in this run, started by whoever asks first."""
        task = self._tasks.get(key)
        if task is None:
            assert self._task_group is not None
            task = self._task_group.create_task(self._fetch(request, key))
            self._tasks[key] = task
        return task

    async def _fetch(self, request: ChatRequest, key: str) -> _Outcome:
        completion = self._preloaded.pop(key, None)
        if completion is None and self._cache is not None:
            completion = self._cache.get(key)
        if completion is not None:
            self._cache_hits += 1
            return _Outcome("cache", completion, cost_usd=self._cost(request, completion))
        if self._replay:
            self._missing += 1
            return _Outcome("missing", error="not in the cache (replay mode)")
        assert self._semaphore is not None
        async with self._semaphore:
            if self._stop_reason is not None:
                return _Outcome("skipped", error=f"not run: {self._stop_reason}")
            estimate = self._estimate(request) or 0.0
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
            provider = source if isinstance(source, Provider) else source(name)
            self._providers[name] = provider
        return provider

    def _cost(self, request: ChatRequest, completion: Completion) -> float | None:
        return cost_usd(request.model, completion.usage, self._prices)

    def _estimate(self, request: ChatRequest) -> float | None:
        """A rough cost before the call: chars/4 in, max_tokens (or a default) out."""
        price = price_for(request.model, self._prices)
        if price is None:
            return None  # unknown price: counts as $0 against max-cost-usd
        chars = sum(len(m.content) for m in request.messages) + len(request.tools or "")
        output_tokens = _output_limit(request)
        return (chars / CHARS_PER_TOKEN * price[0] + output_tokens * price[1]) / 1_000_000

    def _preload_and_estimate(self, items: list[_Item]) -> float:
        """Read the cache for generations and for judging cached outputs; estimate the rest."""
        total = 0.0
        seen: set[str] = set()
        for item in items:
            if item.key in seen:
                continue
            seen.add(item.key)
            cached = self._cache.get(item.key) if self._cache is not None else None
            if cached is not None:
                self._preloaded[item.key] = cached
            else:
                total += self._estimate(item.run.request) or 0.0
        for item in items:
            judges = [s for s in item.suite.scorers if s.type == "judge"]
            if not judges:
                continue
            output = self._preloaded.get(item.key)
            if output is None:  # a placeholder output as long as the generation may be
                text = "x" * (_output_limit(item.run.request) * CHARS_PER_TOKEN)
            else:
                text = output.text
            for spec in judges:
                suite = item.suite
                request = judge_request(
                    spec, item.run.variables, text, suite.judge_provider, suite.judge_base_url
                )
                key = request.key
                if key in seen:
                    continue
                seen.add(key)
                cached = (
                    self._cache.get(key) if self._cache is not None and output is not None else None
                )
                if cached is not None:
                    self._preloaded[key] = cached
                else:
                    total += self._estimate(request) or 0.0
        return total

    # ----------------------------------------------------------------------- accounting

    def _stats(self, results: list[tuple[CaseResult, list[str]]]) -> dict[Side, CallStats]:
        """Per side: each unique request that side used, counted once.

        A request both sides share is sent once: its call, tokens and cost count for the base
        side, and the head side counts it as served from the cache, so the two sides add up
        to what the run really spent.
        """
        used: dict[Side, set[str]] = {side: set() for side in SIDES}
        for case_result, keys in results:
            used[case_result.side].update(keys)
        stats: dict[Side, CallStats] = {}
        for side in SIDES:
            calls = hits = failed = tokens_in = tokens_out = 0
            cost: float | None = 0.0
            for key in used[side]:
                outcome = self._tasks[key].result()
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


def _render_values(items: list[_Item]) -> dict[tuple[str, str, str, str], str]:
    """Render every scorer value for every case before spending anything on calls.

    Keyed by (suite, side, case id, metric): repeats share their row, and a case's row may
    differ between the sides when the dataset changed.
    """
    rendered: dict[tuple[str, str, str, str], str] = {}
    done: set[tuple[str, str, str]] = set()
    for item in items:
        row = (item.suite.name, item.run.side, item.run.case_id)
        if row in done:
            continue
        done.add(row)
        for spec in item.suite.scorers:
            if spec.type not in ("exact", "contains", "regex"):
                continue
            try:
                value = render_value(spec, item.run.variables)
                score_against(spec, "", value)  # compiles a regex: a bad one fails here
            except TemplateError as exc:
                where = f"suite '{item.suite.name}', {item.run.side} case '{item.run.case_id}'"
                raise TemplateError(f"{where}: {exc}") from None
            rendered[(*row, spec.name)] = value
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
