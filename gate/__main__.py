"""`python -m gate` is `llm-gate`."""

import sys

from gate.cli import main

sys.exit(main())
