"""The commit status and the exit code of each verdict under each `fail-on` (DESIGN.md,
"Commit status"): the step fails exactly when the required check does."""

from __future__ import annotations

import pytest

from gate.effects import exit_code, status_for_verdict
from gate.models import Verdict

# verdict, fail-on → commit state, exit code
TABLE = {
    (Verdict.ERROR, "regression"): ("error", 1),
    (Verdict.ERROR, "inconclusive"): ("error", 1),
    (Verdict.ERROR, "never"): ("error", 1),
    (Verdict.FAIL, "regression"): ("failure", 1),
    (Verdict.FAIL, "inconclusive"): ("failure", 1),
    (Verdict.FAIL, "never"): ("success", 0),
    (Verdict.INCONCLUSIVE, "regression"): ("success", 0),
    (Verdict.INCONCLUSIVE, "inconclusive"): ("failure", 1),
    (Verdict.INCONCLUSIVE, "never"): ("success", 0),
    (Verdict.PASS, "regression"): ("success", 0),
    (Verdict.PASS, "inconclusive"): ("success", 0),
    (Verdict.PASS, "never"): ("success", 0),
    (Verdict.SKIPPED, "regression"): ("success", 0),
    (Verdict.SKIPPED, "inconclusive"): ("success", 0),
    (Verdict.SKIPPED, "never"): ("success", 0),
}


def test_the_table_covers_every_verdict() -> None:
    assert {verdict for verdict, _ in TABLE} == set(Verdict)


@pytest.mark.parametrize(("verdict", "fail_on"), sorted(TABLE, key=str))
def test_status_and_exit_code(verdict: Verdict, fail_on: str) -> None:
    state, code = TABLE[verdict, fail_on]
    assert status_for_verdict(verdict, "the headline", fail_on) == (state, "the headline")
    assert exit_code(verdict, fail_on) == code
