"""JUnit XML: a test case per case and gating metric, failures for regressed cases, inert text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gate.junit import render_junit
from gate.models import CallStats, CaseResult, Results, Usage
from tests.unit.test_render import regression


def result(suite: str, case: str, side: str) -> CaseResult:
    return CaseResult(
        suite=suite, side=side, case_id=case, repeat=0, output="o", error=None,  # type: ignore[arg-type]
        latency_ms=1.0, usage=Usage(), cost_usd=None, cached=False, scores={},
    )  # fmt: skip


def test_one_testcase_per_case_and_gating_metric_failures_for_regressions() -> None:
    """support-bot: judge and contains gate (json_valid is informational) over 4 cases; the
    dropped and pass→fail rows fail, the new case is skipped; faq-bot passes."""
    cases = ("case-007", "case-012", "case-031", "case-040")
    rows = tuple(result("support-bot", c, side) for c in cases for side in ("base", "head"))
    faq = tuple(result("faq-bot", f"q{i}\x1b", "head") for i in range(3))
    results = Results({"support-bot": rows, "faq-bot": faq}, {"base": CallStats()})

    root = ET.fromstring(render_junit(regression(), results))

    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("11", "3", "1")
    support = root.find("testsuite[@name='support-bot']")
    assert support is not None
    failed = {
        (case.get("classname"), case.get("name"))
        for case in support.iter("testcase")
        if case.find("failure") is not None
    }
    assert failed == {
        ("support-bot.judge", "case-007"),
        ("support-bot.judge", "case-012"),
        ("support-bot.contains", "case-007"),
    }
    failure = support.find("testcase[@name='case-012']/failure")
    assert failure is not None and failure.get("message") == "dropped: judge 4.00 → 2.00"
    assert "head output:\nNo." in (failure.text or "")
    names = [case.get("name") for case in root.iter("testcase")]
    assert "q0" in names  # a control character in a case id is dropped, never invalid XML


def test_nothing_evaluated_is_an_empty_document() -> None:
    """A skipped or failed run still writes valid XML with no test case."""
    root = ET.fromstring(render_junit(None, None))
    assert root.tag == "testsuites" and root.get("tests") == "0" and list(root) == []
