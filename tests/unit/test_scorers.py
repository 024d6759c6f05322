"""Deterministic scorers, the judge's request, and reading a score out of a judge's answer."""

from __future__ import annotations

import pytest

from gate.errors import TemplateError
from gate.models import ScorerSpec
from gate.scorers import (
    JudgeUnparsable,
    explain_miss,
    judge_request,
    parse_judge_answer,
    parse_judge_score,
    score_deterministic,
)

ROW = {"question": "Capital of France?", "expected": "Paris"}
JUDGE = ScorerSpec(
    name="helpful", type="judge", rubric="Is the answer correct and brief?", model="judge-1"
)


def spec(type_: str, value: str | None = None, *, ignore_case: bool = False) -> ScorerSpec:
    return ScorerSpec(name=f"my_{type_}", type=type_, value=value, ignore_case=ignore_case)  # type: ignore[arg-type]


def test_exact_compares_stripped_text() -> None:
    """exact passes on equal text after stripping whitespace, and only then."""
    assert score_deterministic(spec("exact", "{{ expected }}"), "  Paris\n", ROW) == 1.0
    assert score_deterministic(spec("exact", "{{ expected }}"), "Paris.", ROW) == 0.0
    assert score_deterministic(spec("exact", "{{ expected }}"), "paris", ROW) == 0.0


def test_contains_finds_the_rendered_value() -> None:
    """contains passes when the rendered value occurs anywhere in the output."""
    assert score_deterministic(spec("contains", "{{ expected }}"), "It is Paris.", ROW) == 1.0
    assert score_deterministic(spec("contains", "{{ expected }}"), "It is Lyon.", ROW) == 0.0


def test_ignore_case_applies_to_exact_contains_and_regex() -> None:
    """ignore_case makes every matching scorer case-insensitive."""
    for type_ in ("exact", "contains", "regex"):
        assert score_deterministic(spec(type_, "PARIS", ignore_case=True), "paris", ROW) == 1.0
        assert score_deterministic(spec(type_, "PARIS"), "paris", ROW) == 0.0


def test_regex_searches_anywhere() -> None:
    """regex uses re.search on the output, with the value rendered first."""
    pattern = spec("regex", r"\b{{ expected }}\b")
    assert score_deterministic(pattern, "The answer: Paris!", ROW) == 1.0
    assert score_deterministic(pattern, "Parisian", ROW) == 0.0
    escaped = spec("regex", "^{{ value | regex_escape }}$")
    assert score_deterministic(escaped, "1+1=2?", {"value": "1+1=2?"}) == 1.0


def test_bad_regex_names_the_scorer() -> None:
    """A value that is not a valid regex is a TemplateError naming the scorer."""
    with pytest.raises(TemplateError, match="scorer 'my_regex': invalid regular expression"):
        score_deterministic(spec("regex", "(unclosed"), "x", ROW)


def test_json_valid() -> None:
    """json_valid passes on any JSON document and fails on anything else."""
    scorer = spec("json_valid")
    assert score_deterministic(scorer, ' {"a": [1, 2]} ', ROW) == 1.0
    assert score_deterministic(scorer, "42", ROW) == 1.0
    assert score_deterministic(scorer, "{'a': 1}", ROW) == 0.0
    assert score_deterministic(scorer, "", ROW) == 0.0


def test_missing_column_names_the_column_and_the_scorer() -> None:
    """A value that uses a column the case lacks is a TemplateError naming both."""
    with pytest.raises(TemplateError) as caught:
        score_deterministic(spec("contains", "{{ answer }}"), "x", ROW)
    message = str(caught.value)
    assert "scorer 'my_contains'" in message
    assert "'answer'" in message
    assert "columns: expected, question" in message


def test_judge_request_is_deterministic_and_carries_rubric_input_and_output() -> None:
    """The judge gets temperature 0, the rubric as system message, input and output as user's."""
    request = judge_request(JUDGE, ROW, "It is Paris.", "openai", "https://api.openai.com/v1")
    assert request.model == "judge-1"
    assert dict(request.params) == {"temperature": 0}
    system, user = request.messages
    assert system.role == "system" and "Is the answer correct and brief?" in system.content
    assert '{"score": <integer from 1 to 5>' in system.content
    assert "question: Capital of France?" in user.content
    assert "It is Paris." in user.content
    again = judge_request(JUDGE, dict(ROW), "It is Paris.", "openai", "https://api.openai.com/v1")
    assert again.key == request.key
    other = judge_request(JUDGE, ROW, "It is Lyon.", "openai", "https://api.openai.com/v1")
    assert other.key != request.key


def test_a_judge_on_an_anthropic_suite_asks_in_anthropics_shape() -> None:
    """The judge takes its suite's provider: on anthropic, max_tokens (the API requires it),
    temperature 0, and its instructions as the top-level `system` field."""
    request = judge_request(JUDGE, ROW, "It is Paris.", "anthropic", "https://api.anthropic.com")
    assert dict(request.params) == {"max_tokens": 1024, "temperature": 0}
    body = request.payload()
    assert "Is the answer correct and brief?" in body["system"]
    assert [m["role"] for m in body["messages"]] == ["user"]


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ('{"score": 4, "reason": "Correct."}', 4.0),
        ('Here you go:\n```json\n{"score": 5, "reason": "ok"}\n```', 5.0),
        ('Sure! {"reason": "fine", "score": "3"} Hope that helps.', 3.0),
        ("Score: 4", 4.0),
        ("Reasoning first. Final score: **2**", 2.0),
        ("4/5", 4.0),
        ("I'd give it 3 out of 5.", 3.0),
        ("Rating: 4 out of 5", 4.0),
        ("5", 5.0),
        (" 1.\n", 1.0),
    ],
)
def test_judge_scores_are_read_from_common_forms(answer: str, score: float) -> None:
    """JSON (also fenced or embedded), "Score: 4", "4/5", "4 out of 5" and a bare number parse."""
    assert parse_judge_score(answer, 5) == score


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("The answer is helpful and correct.", "holds no score"),
        ("", "holds no score"),
        ('{"score": 9, "reason": "great"}', "outside 1..5"),
        ("Score: 0", "outside 1..5"),
        ("8/10", "scale of 10"),
    ],
)
def test_unparsable_or_out_of_range_judge_answers_raise(answer: str, problem: str) -> None:
    """No score, a score out of range or on another scale raises JudgeUnparsable (one line)."""
    with pytest.raises(JudgeUnparsable, match=problem) as caught:
        parse_judge_score(answer, 5)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "score", "reason"),
    [
        ('{"score": 4, "reason": "Correct, but  long."}', 4.0, "Correct, but long."),
        ('```json\n{"score": 2, "reasoning": "Wrong city."}\n```', 2.0, "Wrong city."),
        ('{"pass": true, "score": 0.75, "reason": "Mostly right."}', 4.0, "Mostly right."),
        ('{"pass": false, "reason": "Off topic."}', 1.0, "Off topic."),
        ('{"pass": true, "score": 1, "reason": "Perfect."}', 5.0, "Perfect."),
        ('{"score": 3}', 3.0, None),
        ("Score: 4", 4.0, None),
        ("5", 5.0, None),
    ],
)
def test_judge_answers_keep_their_reason(answer: str, score: float, reason: str | None) -> None:
    """`{score, reason}`, promptfoo's `{pass, score, reason}` (0..1 onto 1..5) and plain forms."""
    assert parse_judge_answer(answer, 5) == (score, reason)


def test_a_long_reason_is_cut_to_one_line() -> None:
    """A reason is kept on one line, at most 500 characters."""
    _, reason = parse_judge_answer('{"score": 3, "reason": "' + "why\\n " * 400 + '"}', 5)
    assert reason is not None and len(reason) <= 500 and "\n" not in reason


@pytest.mark.parametrize(
    ("scorer", "output", "expected", "reason"),
    [
        (spec("contains", "x"), "no match here", "Paris", "missing “Paris”"),
        (
            spec("contains", "x", ignore_case=True),
            "lyon",
            "Paris",
            "missing “Paris” (ignoring case)",
        ),
        (spec("exact", "x"), "Paris!", "Paris", "expected exactly “Paris”"),
        (spec("regex", "x"), "Lyon", "^Par", "no match for the pattern “^Par”"),
        (spec("contains", "x"), "It is Paris.", "Paris", None),
    ],
)
def test_a_failed_check_says_what_was_missing(
    scorer: ScorerSpec, output: str, expected: str, reason: str | None
) -> None:
    """A deterministic check that scored 0 names what the output lacked."""
    assert explain_miss(scorer, output, expected) == reason


def test_invalid_json_says_why() -> None:
    """json_valid explains what the JSON parser found."""
    reason = explain_miss(spec("json_valid"), "{oops", None)
    assert reason is not None and reason.startswith("not valid JSON: ")


def test_scorer_values_render_in_a_sandbox() -> None:
    """A scorer value from the PR's config cannot reach Python internals."""
    spec = ScorerSpec(
        name="contains", type="contains", value="{{ ''.__class__.__mro__[1].__subclasses__() }}"
    )
    with pytest.raises(TemplateError):
        score_deterministic(spec, "output", {})
