"""Progress: lines every 10 seconds in a log, a bar on a terminal, the estimate before the calls."""

from __future__ import annotations

import dataclasses
import io

from gate.evaluate import Estimate, Progress
from gate.progress import ProgressPrinter, bar_line, estimate_line, progress_line
from gate.workflow import Console


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    """An in-memory stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def progress(done: int, elapsed: float, *, limit: int | None = None) -> Progress:
    return Progress(done, 2000, 30, 1, elapsed, limit)


def test_a_log_gets_a_line_at_most_every_ten_seconds_and_the_last_one() -> None:
    """Reports every second print the first, then one per 10 s, then the final state."""
    out = io.StringIO()
    clock = Clock()
    printer = ProgressPrinter(Console(actions=True, out=out), clock=clock)
    for second in range(1, 26):
        clock.now += 1
        printer(progress(second * 80, float(second)))
    printer.finish()
    lines = out.getvalue().splitlines()
    assert [line.split(" case runs")[0] for line in lines] == [
        "llm-gate: 80/2,000",
        "llm-gate: 880/2,000",
        "llm-gate: 1,680/2,000",
        "llm-gate: 2,000/2,000",
    ]
    assert lines[1] == "llm-gate: 880/2,000 case runs, 30 from cache, 1 errors, 11.0 s, 80.0/s"


def test_finish_does_not_repeat_a_line_just_printed() -> None:
    """When the last report was printed as a line, finish() adds nothing."""
    out = io.StringIO()
    printer = ProgressPrinter(Console(actions=False, out=out, err=io.StringIO()), clock=Clock())
    printer(progress(2000, 4.0))
    printer.finish()
    assert len(out.getvalue().splitlines()) == 1


def test_a_terminal_gets_a_bar_redrawn_in_place_then_cleared() -> None:
    """On a TTY every report redraws one `\\r` line on stderr; the summary goes to stdout."""
    out, err = io.StringIO(), Terminal()
    printer = ProgressPrinter(Console(actions=False, out=out, err=err), clock=Clock())
    assert printer.terminal is err
    printer(progress(500, 1.0))
    printer(progress(2000, 4.0, limit=8))
    printer.finish()
    drawn = err.getvalue()
    assert drawn.startswith("\r[######..................] 500/2,000  30 cached  1 errors")
    assert "\r[########################] 2,000/2,000" in drawn
    assert "limit 8" in drawn
    assert "\n" not in drawn
    assert drawn.endswith(" \r")  # cleared: the next line starts on a clean row
    assert out.getvalue() == progress_line(progress(2000, 4.0, limit=8)) + "\n"


def test_the_actions_log_never_gets_a_bar() -> None:
    """Under Actions progress is always lines, even if stderr looks like a terminal."""
    printer = ProgressPrinter(Console(actions=True, out=io.StringIO(), err=Terminal()))
    assert printer.terminal is None


def test_a_lowered_limit_is_named_in_the_line() -> None:
    """A run slowed by the provider's rate limits says so."""
    line = progress_line(progress(100, 2.0, limit=5))
    assert line.endswith(", rate-limited to 5 calls in flight")


def test_calls_waiting_out_a_rate_limit_are_named_in_the_line() -> None:
    """Calls backing off after 429s say how many and how long the longest still waits."""
    waiting = dataclasses.replace(progress(100, 2.0, limit=5), backing_off=3, backoff_left_s=18.4)
    assert progress_line(waiting).endswith(
        ", rate-limited to 5 calls in flight, 3 calls waiting out a rate limit (up to 18 s more)"
    )
    assert bar_line(waiting).endswith("limit 5  3 waiting out 429s (18 s)")


def test_the_estimate_names_cache_calls_cost_and_budget() -> None:
    """The estimate line says what the cache answers, what is sent, and what it should cost."""
    estimate = Estimate(requests=2000, cached=500, to_send=1500, cost_usd=0.0123)
    assert estimate_line(estimate, 1.0) == (
        "llm-gate: 2,000 requests: 500 from the cache, 1,500 to send, "
        "estimated $0.0123 of max-cost-usd $1.00"
    )
    unpriced = Estimate(10, 0, 10, 0.0, ("my-gateway-model",))
    assert estimate_line(unpriced).endswith(
        "no price for my-gateway-model (counted as $0; add them under `prices:`)"
    )
    assert estimate_line(Estimate(10, 10, 0, 0.0)).endswith("0 to send, nothing to pay")


def test_the_printer_prints_the_estimate_it_is_given() -> None:
    """`estimate` is the callback the engine calls before its first request."""
    out = io.StringIO()
    printer = ProgressPrinter(Console(actions=True, out=out), budget_usd=2.5)
    printer.estimate(Estimate(4, 0, 4, 0.5))
    assert out.getvalue() == "llm-gate: 4 requests: 0 from the cache, 4 to send, " + (
        "estimated $0.5000 of max-cost-usd $2.50\n"
    )
