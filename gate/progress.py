"""Telling people how a long evaluation is going: the estimate first, then progress.

In the Actions log (or any log that is not a terminal) a progress line every `every_s`
seconds, 10 by default, and one at the end: done/total, cache hits, errors, elapsed time,
rate. On a terminal a one-line bar on stderr, redrawn in place with `\\r` at every report and
cleared at the end, when the final line is printed like in a log. Before the first call, the
estimate: how many requests the cache answers, how many are sent, and what they should cost.
The clock is passed in, so tests decide what time it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from gate.evaluate import Estimate, Progress
from gate.workflow import Console

BAR_WIDTH = 24


class ProgressPrinter:
    """The `progress` and `estimate` callbacks of `gate.evaluate.evaluate` for one run."""

    def __init__(
        self,
        console: Console,
        *,
        every_s: float = 10.0,
        budget_usd: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        terminal: TextIO | None = None,
    ) -> None:
        """`terminal`: where to draw the bar; by default stderr when it is a terminal and the
        console is not the Actions log. Without one, progress is printed as lines."""
        self.console = console
        self.every_s = every_s
        self.budget_usd = budget_usd
        self.clock = clock
        if terminal is None and not console.actions and _is_terminal(console.err):
            terminal = console.err
        self.terminal = terminal
        self.last_line_at: float | None = None
        self.latest: Progress | None = None  # reported, not printed as a line yet
        self.drawn = 0  # width of the bar on screen

    def estimate(self, estimate: Estimate) -> None:
        self.console.info(estimate_line(estimate, self.budget_usd))

    def __call__(self, progress: Progress) -> None:
        if self.terminal is not None:
            self.latest = progress
            self._draw(bar_line(progress))
            return
        now = self.clock()
        if self.last_line_at is None or now - self.last_line_at >= self.every_s:
            self.last_line_at = now
            self.latest = None
            self.console.info(progress_line(progress))
        else:
            self.latest = progress

    def finish(self) -> None:
        """Clear the bar; print the last progress as a line unless it was just printed."""
        if self.terminal is not None and self.drawn:
            self._draw("")
            self.drawn = 0
        if self.latest is not None:
            self.console.info(progress_line(self.latest))
            self.latest = None

    def _draw(self, text: str) -> None:
        assert self.terminal is not None
        padding = " " * max(0, self.drawn - len(text))
        self.terminal.write(f"\r{text}{padding}" + ("\r" if not text else ""))
        self.terminal.flush()
        self.drawn = len(text)


def progress_line(p: Progress) -> str:
    """`llm-gate: 1,234/2,000 case runs, 12 from cache, 0 errors, 3.1 s, 398.1/s`."""
    rate = p.done / p.elapsed_s if p.elapsed_s > 0 else 0.0
    limited = f", rate-limited to {p.limit} calls in flight" if p.limit is not None else ""
    if p.backing_off:
        calls = "1 call" if p.backing_off == 1 else f"{p.backing_off:,} calls"
        limited += f", {calls} waiting out a rate limit (up to {p.backoff_left_s:.0f} s more)"
    return (
        f"llm-gate: {p.done:,}/{p.total:,} case runs, {p.cache_hits:,} from cache, "
        f"{p.errors:,} errors, {p.elapsed_s:.1f} s, {rate:.1f}/s{limited}"
    )


def bar_line(p: Progress) -> str:
    """`[#########...............] 1,234/2,000  12 cached  0 errors  3.1 s  398/s`."""
    filled = BAR_WIDTH * p.done // p.total if p.total else BAR_WIDTH
    rate = p.done / p.elapsed_s if p.elapsed_s > 0 else 0.0
    limited = f"  limit {p.limit}" if p.limit is not None else ""
    if p.backing_off:
        limited += f"  {p.backing_off} waiting out 429s ({p.backoff_left_s:.0f} s)"
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {p.done:,}/{p.total:,}  "
        f"{p.cache_hits:,} cached  {p.errors:,} errors  {p.elapsed_s:.1f} s  {rate:.0f}/s{limited}"
    )


def estimate_line(e: Estimate, budget_usd: float | None = None) -> str:
    """`llm-gate: 2,000 requests: 0 from the cache, 2,000 to send, estimated $0.0089`."""
    cost = f"estimated ${e.cost_usd:.4f}" if e.to_send else "nothing to pay"
    if budget_usd is not None:
        cost += f" of max-cost-usd ${budget_usd:.2f}"
    unpriced = ""
    if e.unpriced and e.to_send:
        names = ", ".join(e.unpriced[:3]) + (", …" if len(e.unpriced) > 3 else "")
        unpriced = f"; no price for {names} (counted as $0; add them under `prices:`)"
    return (
        f"llm-gate: {e.requests:,} requests: {e.cached:,} from the cache, "
        f"{e.to_send:,} to send, {cost}{unpriced}"
    )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
