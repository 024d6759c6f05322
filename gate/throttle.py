"""Adaptive concurrency: how many model calls may be on the wire right now.

A provider that answers 429 is telling us it gets more requests at once than it allows. The
`Throttle` is additive-increase/multiplicative-decrease, as TCP's congestion control: a 429
halves the limit, once per round (the 429s of calls that were already on the wire when it was
halved do not halve it again), and each `limit` successes in a row (about one round of calls)
give one slot back, up to the configured `concurrency`. A provider that allows 10 requests
at once then sees the limit settle between 5 and 11 instead of a storm of retries at 32.

The provider acquires a slot for each attempt (not for the whole request), so a request
waiting out a `Retry-After` holds no slot. Single event loop, no threads: no locks needed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class Throttle:
    """At most `limit` slots taken at once; `limit` moves between 1 and `ceiling`."""

    def __init__(self, ceiling: int, *, increase_after: int | None = None) -> None:
        if ceiling < 1:
            raise ValueError("a throttle needs at least one slot")
        self.ceiling = ceiling
        self.limit = ceiling
        self.lowest = ceiling
        self.in_flight = 0
        self.rate_limits = 0  # 429s seen
        self.decreases = 0
        self._increase_after = increase_after  # None: the current limit (one round)
        self._successes = 0
        self._generation = 0  # bumped by every decrease
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._backing_off: list[float] = []  # when each call waiting out a 429 tries again

    def waiting_out(self, seconds: float) -> None:
        """A call waits `seconds` for a rate limit before its next attempt (for the progress)."""
        self._backing_off.append(time.monotonic() + seconds)

    def backing_off(self) -> tuple[int, float]:
        """How many calls are waiting out a rate limit now, and the longest wait left."""
        now = time.monotonic()
        self._backing_off = [t for t in self._backing_off if t > now]
        return len(self._backing_off), max((t - now for t in self._backing_off), default=0.0)

    def __repr__(self) -> str:
        return f"Throttle(limit={self.limit}/{self.ceiling}, in_flight={self.in_flight})"

    async def acquire(self) -> int:
        """Wait for a slot (first come, first served); returns the generation to report with."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return self._generation
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted, then cancelled before use: pass the slot on
            raise
        return self._generation

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def rate_limited(self, generation: int) -> None:
        """A call sent in `generation` was answered 429: halve the limit, once per round."""
        self.rate_limits += 1
        if generation != self._generation:
            return  # sent before the last decrease, which already answered for it
        self._generation += 1
        self._successes = 0
        self.limit = max(1, self.limit // 2)
        self.lowest = min(self.lowest, self.limit)
        self.decreases += 1

    def succeeded(self) -> None:
        """A call went through: after a round of successes, one more slot."""
        if self.limit >= self.ceiling:
            return
        self._successes += 1
        if self._successes >= (self._increase_after or self.limit):
            self._successes = 0
            self.limit += 1
            self._wake()

    def _wake(self) -> None:
        # Slots are handed over here (counted before the waiter runs), so a newcomer cannot
        # take a slot that was freed for someone already waiting.
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if waiter.done():  # cancelled while waiting
                continue
            self.in_flight += 1
            waiter.set_result(None)
