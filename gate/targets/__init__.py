"""What answers a case: one module per target kind, listed in `registry`, behind
`base.TargetKind`; only the `*_http` adapters speak HTTP to a model API."""

from __future__ import annotations

from gate.targets.base import BadResponse, Completion, Provider, RequestRejected

__all__ = ["BadResponse", "Completion", "Provider", "RequestRejected"]
