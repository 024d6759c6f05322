"""What answers a case: one module per target kind, listed in `registry`, behind
`base.TargetKind`; `openai_http` is the only module that speaks HTTP to a model API."""

from __future__ import annotations

from gate.targets.base import BadResponse, Completion, Provider, RequestRejected

__all__ = ["BadResponse", "Completion", "Provider", "RequestRejected"]
