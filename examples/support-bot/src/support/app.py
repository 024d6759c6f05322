"""The support assistant: builds the chat request from the files llm-gate evaluates.

The prompts, model settings and tool schemas live in files (not in code) so that a pull
request that changes them is visible to llm-gate. This module only glues them together;
`answer()` is what the help-chat backend calls. Nothing here touches the network on import.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[2]  # the repository root
TIERS = ("free", "plus", "team", "business")

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "prompts"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


@cache
def settings(app: str = "support") -> dict[str, Any]:
    """This app's entry of config/models.yaml: `model` and sampling `params`."""
    models = yaml.safe_load((ROOT / "config" / "models.yaml").read_text(encoding="utf-8"))
    return dict(models[app])


@cache
def tools() -> list[dict[str, Any]]:
    return list(json.loads((ROOT / "tools" / "support.json").read_text(encoding="utf-8")))


def build_messages(question: str, customer_tier: str) -> list[dict[str, str]]:
    """The system prompt and the rendered user prompt, as the model receives them."""
    if customer_tier not in TIERS:
        raise ValueError(f"unknown customer tier {customer_tier!r}; expected one of {TIERS}")
    system = (ROOT / "prompts" / "system.md").read_text(encoding="utf-8")
    user = _templates.get_template("support.md.j2").render(
        question=question, customer_tier=customer_tier
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def build_request(question: str, customer_tier: str) -> dict[str, Any]:
    """The body of the chat-completions request for one customer message."""
    config = settings()
    return {
        "model": config["model"],
        "messages": build_messages(question, customer_tier),
        "tools": tools(),
        **config.get("params", {}),
    }


def answer(question: str, customer_tier: str) -> str:
    """Ask the model; a tool call comes back as `tool_name {json arguments}` for the backend."""
    from openai import OpenAI  # the SDK reads OPENAI_API_KEY and OPENAI_BASE_URL

    response = OpenAI().chat.completions.create(**build_request(question, customer_tier))
    message = response.choices[0].message
    if message.tool_calls:
        call = message.tool_calls[0]
        return f"{call.function.name} {call.function.arguments}"
    return message.content or ""


if __name__ == "__main__":
    # python -m support.app plus "How do I cancel my subscription?"  (from src/, with a key)
    print(answer(sys.argv[2], sys.argv[1]))
