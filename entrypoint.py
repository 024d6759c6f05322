"""The Docker action's entrypoint: `llm-gate run` with the runner's environment, or the CLI
with the arguments given (`docker run IMAGE --version`)."""

import sys

from gate.cli import entry

entry(sys.argv[1:] or ["run"])
