"""The Docker action's entrypoint: run the gate as `llm-gate run` with the runner's environment."""

from gate.cli import entry

entry(["run"])
