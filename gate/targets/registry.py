"""Every target kind llm-gate knows, one line each: `target:` is validated by the kind its
`provider:` names, and an unknown `provider:` is an error listing these.

Adding a kind: one module beside this one (its config model and a `TARGET` that meets
gate.targets.base.TargetKind), one line here, a fake server or tests/fakes/memory_model.py
for its tests.
"""

from __future__ import annotations

from gate.targets import anthropic, openai
from gate.targets.base import TargetKind

TARGETS: dict[str, TargetKind] = {kind.provider: kind for kind in (openai.TARGET, anthropic.TARGET)}


def target_for(provider: str) -> TargetKind:
    """The kind of a `provider:` (the config has already refused unknown ones)."""
    try:
        return TARGETS[provider]
    except KeyError:
        known = ", ".join(TARGETS)
        raise ValueError(f"unknown provider {provider!r}; expected one of: {known}") from None
