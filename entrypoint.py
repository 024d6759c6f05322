"""The Docker action's entrypoint: run the gate as `llm-gate run` with the runner's environment."""

import sys

from gate.cli import main

sys.exit(main(["run"]))
