"""The report's limits: GitHub's sizes for a comment, a job summary and a status
description, and the levels of detail the comment and the summary step down through.

Pure. GitHub refuses comments of 65,536 characters or more and job summaries over 1 MiB
(https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions#step-isolation-and-limits),
so row details go first, then diffs, and a visible note says where the rest is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

COMMENT_LIMIT = 65_536  # characters; GitHub rejects an issue comment of this size or more
COMMENT_TARGET = 60_000  # what the comment aims to stay below, leaving room to spare
SUMMARY_LIMIT = 1_048_576  # bytes of UTF-8; GitHub drops a larger step summary
HEADLINE_LIMIT = 140  # a commit status description
RESULT_TEXT_LIMIT = 10_000  # characters of one model output or variable in the JSON results
ANNOTATIONS_LISTED = 200  # annotations beyond GitHub's 10 per level listed in the job summary

MINUS = "−"
DASH = "—"
Target = Literal["comment", "summary"]


@dataclass(frozen=True, slots=True)
class _Limits:
    """How much of the report one rendering shows."""

    cases: int  # cases listed per suite
    details: bool  # each listed case's inputs and outputs
    output_chars: int  # per model output
    value_chars: int  # per dataset variable
    diff_chars: int  # per diff; 0 leaves diffs out
    files: int  # changed paths listed when nothing relevant changed
    suites: int | None = None  # suites shown in full (None: all)
    truncated: bool = False  # show the "truncated" note


_COMMENT_LEVELS = (
    _Limits(
        cases=10, details=True, output_chars=2_000, value_chars=300, diff_chars=20_000, files=50
    ),
    _Limits(10, True, 600, 200, 8_000, 50, truncated=True),
    _Limits(5, True, 300, 100, 3_000, 30, truncated=True),
    _Limits(5, False, 300, 100, 3_000, 30, truncated=True),
    _Limits(3, False, 300, 100, 0, 20, truncated=True),
    _Limits(0, False, 300, 100, 0, 10, truncated=True),
)
_SUMMARY_LEVELS = (
    _Limits(
        cases=100,
        details=True,
        output_chars=10_000,
        value_chars=2_000,
        diff_chars=100_000,
        files=1_000,
    ),
    _Limits(100, True, 2_000, 500, 50_000, 1_000, truncated=True),
    _Limits(50, True, 1_000, 300, 20_000, 500, truncated=True),
    _Limits(25, True, 500, 200, 10_000, 200, truncated=True),
    _Limits(25, False, 500, 200, 10_000, 200, truncated=True),
    _Limits(10, False, 500, 200, 0, 100, truncated=True),
    _Limits(0, False, 500, 200, 0, 50, truncated=True),
)
RELAYED_LIMITS = _COMMENT_LEVELS[0]  # what a results artifact keeps for `mode: publish`
_TERMINAL_LEVEL = _Limits(
    cases=10, details=False, output_chars=0, value_chars=0, diff_chars=0, files=20
)
