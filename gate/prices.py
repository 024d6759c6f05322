"""What a model's tokens cost: the built-in price table and the cost of one call.

Pure. Prices are USD per million tokens, (input, output). The table holds OpenAI's and
Anthropic's list prices for standard (non-batch, uncached-input) processing as of PRICES_AS_OF
(Anthropic's: https://platform.claude.com/docs/en/about-claude/pricing), and for Anthropic's
models the prompt cache's rates, (cache read, 5-minute cache write); they change, so
`prices:` in llm-gate.yml overrides any entry or adds models (other providers, fine-tunes,
gateways with their own pricing). A model with no price has an unknown cost (None), never 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gate.models import Usage

PRICES_AS_OF = "2026-12-04"

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
    # Anthropic (model ids as the Messages API takes them; dated snapshots share a family's)
    "claude-opus-4-6": (5.00, 25.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-opus-4-0": (15.00, 75.00),
    "claude-sonnet-4-6": (3.00, 15.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4-0": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-haiku": (0.25, 1.25),
}

# model id → (USD per 1M cache-read input tokens, per 1M cache-write input tokens at the
# default 5-minute TTL). A model without an entry pays its input price for both.
CACHE_PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4-6": (0.50, 6.25),
    "claude-opus-4-5": (0.50, 6.25),
    "claude-opus-4-1": (1.50, 18.75),
    "claude-opus-4-0": (1.50, 18.75),
    "claude-sonnet-4-6": (0.30, 3.75),
    "claude-sonnet-4-5": (0.30, 3.75),
    "claude-sonnet-4-0": (0.30, 3.75),
    "claude-3-7-sonnet": (0.30, 3.75),
    "claude-haiku-4-5": (0.10, 1.25),
    "claude-3-5-haiku": (0.08, 1.00),
    "claude-3-haiku": (0.03, 0.30),
}
# Ids the API also takes for a model in the table: `claude-sonnet-4` is `claude-sonnet-4-0`.
_ALIASES = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}

# gpt-4o-2024-05-13, claude-sonnet-4-5-20250929, claude-3-5-haiku-latest
_DATED_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


def price_for(
    model: str, overrides: Mapping[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens: an override, the table, or a dated snapshot's family."""
    for table in (overrides or {}, BUILTIN_PRICES):
        if model in table:
            return table[model]
    family = _family(model)
    if family != model:
        return price_for(family, overrides)
    return None


def cache_price_for(model: str) -> tuple[float, float] | None:
    """(cache read, cache write) USD per 1M tokens from the table, or None."""
    while True:
        if model in CACHE_PRICES:
            return CACHE_PRICES[model]
        family = _family(model)
        if family == model:
            return None
        model = family


def _family(model: str) -> str:
    """gpt-4o-mini-2024-07-18 → gpt-4o-mini; claude-sonnet-4-20250514 → claude-sonnet-4-0."""
    family = _DATED_SNAPSHOT.sub("", model)
    return _ALIASES.get(family, family)


def cost_usd(
    model: str, usage: Usage, overrides: Mapping[str, tuple[float, float]] | None = None
) -> float | None:
    """The cost of one call in USD, or None when the model has no known price. Prompt-cache
    reads and writes are priced at the table's cache rates (a model without them, or one
    whose price `prices:` overrides without them: at its input price)."""
    price = price_for(model, overrides)
    if price is None:
        return None
    cached = cache_price_for(model)
    if cached is None or (overrides and price != price_for(model)):
        cached = (price[0], price[0])
    return (
        usage.input_tokens * price[0]
        + usage.output_tokens * price[1]
        + usage.cache_read_tokens * cached[0]
        + usage.cache_write_tokens * cached[1]
    ) / 1_000_000
