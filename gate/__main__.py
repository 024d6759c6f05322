"""`python -m gate` is `llm-gate`."""

from gate.cli import entry

entry()
