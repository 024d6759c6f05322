"""An in-memory model: a `Provider` that answers what a test enqueued and records every request.

As simonw/llm's tests do with their mock model: `enqueue()` answers (text, a Completion, or an
exception to raise), then assert on `history`, the requests it was asked, in order. No HTTP:
the engine (gate/evaluate.py) is tested through it.
"""

from __future__ import annotations

from collections import deque

from gate.models import ChatRequest, Usage
from gate.targets.base import Completion

Answer = str | Completion | Exception


class MemoryModel:
    """Answers requests from a queue; an empty queue is the test's mistake, said loudly."""

    def __init__(self, *answers: Answer) -> None:
        self.history: list[ChatRequest] = []
        self._queue: deque[Answer] = deque(answers)

    def enqueue(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order."""
        self._queue.extend(answers)

    @property
    def pending(self) -> int:
        """Answers enqueued but not asked for yet."""
        return len(self._queue)

    async def complete(self, request: ChatRequest) -> Completion:
        self.history.append(request)
        if not self._queue:
            raise AssertionError(f"MemoryModel: nothing enqueued for request {len(self.history)}")
        answer = self._queue.popleft()
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, Completion):
            return answer
        words = len(answer.split())
        return Completion(answer, Usage(input_tokens=10, output_tokens=words), latency_ms=5.0)
