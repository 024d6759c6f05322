"""Adaptive concurrency: the Throttle halves on 429s, grows back, hands slots over fairly."""

from __future__ import annotations

import asyncio

import pytest

from gate.throttle import Throttle


def test_a_rate_limit_halves_the_limit_once_per_round() -> None:
    """429s of calls sent before the last halving do not halve it again."""

    async def main() -> Throttle:
        throttle = Throttle(32)
        generations = [await throttle.acquire() for _ in range(32)]
        for generation in generations:  # the whole first round is rate-limited
            throttle.rate_limited(generation)
            throttle.release()
        assert throttle.limit == 16
        again = await throttle.acquire()  # sent after the halving: may halve once more
        throttle.rate_limited(again)
        throttle.release()
        return throttle

    throttle = asyncio.run(main())
    assert (throttle.limit, throttle.lowest, throttle.decreases) == (8, 8, 2)
    assert throttle.rate_limits == 33


def test_successes_give_back_one_slot_per_round_up_to_the_ceiling() -> None:
    """After `limit` successes the limit grows by one, never above the configured concurrency."""
    throttle = Throttle(10)
    throttle.rate_limited(0)
    assert throttle.limit == 5
    for _ in range(5):
        throttle.succeeded()
    assert throttle.limit == 6
    for _ in range(200):
        throttle.succeeded()
    assert throttle.limit == 10


def test_the_limit_never_drops_below_one() -> None:
    """A provider that rate-limits everything still gets one call at a time."""
    throttle = Throttle(4)
    for generation in range(10):
        throttle.rate_limited(generation)
    assert throttle.limit == 1


def test_waiters_get_freed_slots_in_order_and_a_lowered_limit_is_respected() -> None:
    """Slots go first come, first served; after a halving, fewer calls are let through."""

    async def main() -> list[int]:
        throttle = Throttle(2)
        order: list[int] = []
        first, second = await throttle.acquire(), await throttle.acquire()

        async def wait(n: int) -> None:
            await throttle.acquire()
            order.append(n)

        waiting = [asyncio.create_task(wait(n)) for n in range(3)]
        await asyncio.sleep(0)
        throttle.rate_limited(first)  # limit 2 → 1 while both slots are taken
        throttle.release()
        await asyncio.sleep(0)
        assert order == []  # one slot still taken, and the limit is now 1
        throttle.release()
        await asyncio.sleep(0)
        assert order == [0]
        throttle.release()
        await asyncio.sleep(0)
        throttle.release()
        await asyncio.gather(*waiting)
        assert second == 0
        return order

    assert asyncio.run(main()) == [0, 1, 2]


def test_a_cancelled_waiter_passes_its_slot_on() -> None:
    """Cancelling a call that waits for a slot neither loses nor leaks the slot."""

    async def main() -> Throttle:
        throttle = Throttle(1)
        await throttle.acquire()
        cancelled = asyncio.create_task(throttle.acquire())
        later = asyncio.create_task(throttle.acquire())
        await asyncio.sleep(0)
        throttle.release()  # granted to `cancelled`, which is cancelled before it runs
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await asyncio.wait_for(later, timeout=1)
        throttle.release()
        return throttle

    throttle = asyncio.run(main())
    assert throttle.in_flight == 0


def test_a_throttle_needs_a_slot() -> None:
    """A ceiling below one is a programming error, said at once."""
    with pytest.raises(ValueError, match="at least one slot"):
        Throttle(0)
