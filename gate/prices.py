"""What a model's tokens cost: the built-in price table and the cost of one call.

Pure. Prices are USD per million tokens, (input, output). The table holds OpenAI's list prices
for standard (non-batch, uncached-input) processing as of PRICES_AS_OF; they change, so
`prices:` in llm-gate.yml overrides any entry or adds models (other providers, fine-tunes,
gateways with their own pricing). A model with no price has an unknown cost (None), never 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gate.models import Usage

PRICES_AS_OF = "2025-08-07"

# model id → (USD per 1M input tokens, USD per 1M output tokens); list prices as of PRICES_AS_OF.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-2024-05-13": (5.00, 15.00),
    "gpt-4o-mini": (0.15, 0.60),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}

_DATED_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def price_for(
    model: str, overrides: Mapping[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens: an override, the table, or a dated snapshot's family."""
    for table in (overrides or {}, BUILTIN_PRICES):
        if model in table:
            return table[model]
    family = _DATED_SNAPSHOT.sub("", model)  # gpt-4o-mini-2024-07-18 → gpt-4o-mini
    if family != model:
        return price_for(family, overrides)
    return None


def cost_usd(
    model: str, usage: Usage, overrides: Mapping[str, tuple[float, float]] | None = None
) -> float | None:
    """The cost of one call in USD, or None when the model has no known price."""
    price = price_for(model, overrides)
    if price is None:
        return None
    return (usage.input_tokens * price[0] + usage.output_tokens * price[1]) / 1_000_000
