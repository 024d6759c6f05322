"""The string checks: equals, icontains, contains_any, contains_all, starts_with; and `not`."""

from __future__ import annotations

import pytest

from gate.config import parse_config
from gate.errors import ConfigError, TemplateError
from gate.models import ScorerSpec
from gate.scorers import explain_miss, score_deterministic
from gate.scorers.registry import SCORERS

ROW = {"expected": "Paris", "other": "Lyon"}


def spec(type_: str, value: str | None = None, **keys: object) -> ScorerSpec:
    return ScorerSpec(name=f"my_{type_}", type=type_, value=value, **keys)  # type: ignore[arg-type]


def test_equals_is_character_for_character() -> None:
    """equals passes only on the very same text: unlike exact, whitespace counts."""
    assert score_deterministic(spec("equals", "{{ expected }}"), "Paris", ROW) == 1.0
    assert score_deterministic(spec("equals", "{{ expected }}"), "Paris\n", ROW) == 0.0
    assert score_deterministic(spec("exact", "{{ expected }}"), "Paris\n", ROW) == 1.0
    assert score_deterministic(spec("equals", "paris", ignore_case=True), "PARIS", ROW) == 1.0
    reason = explain_miss(spec("equals", "Paris"), "Paris.", "Paris")
    assert reason == "expected the output to be exactly “Paris”"


def test_icontains_ignores_case() -> None:
    """icontains is contains with case ignored, and says so when it misses."""
    assert score_deterministic(spec("icontains", "{{ expected }}"), "it is PARIS.", ROW) == 1.0
    assert score_deterministic(spec("icontains", "{{ expected }}"), "it is Lyon.", ROW) == 0.0
    assert explain_miss(spec("icontains", "x"), "y", "Paris") == "missing “Paris” (ignoring case)"


def test_contains_any_needs_one_value() -> None:
    """contains_any passes when any one of its rendered values occurs."""
    any_of = spec("contains_any", values=("{{ expected }}", "France"))
    assert score_deterministic(any_of, "Lovely France", ROW) == 1.0
    assert score_deterministic(any_of, "Paris!", ROW) == 1.0
    assert score_deterministic(any_of, "Berlin", ROW) == 0.0
    assert explain_miss(any_of, "Berlin", ("Paris", "France")) == "missing all of “Paris”, “France”"


def test_contains_all_needs_every_value_and_names_the_missing() -> None:
    """contains_all passes only when every value occurs, and its reason lists the missing ones."""
    all_of = spec("contains_all", values=("{{ expected }}", "{{ other }}", "train"))
    assert score_deterministic(all_of, "Paris to Lyon by train", ROW) == 1.0
    assert score_deterministic(all_of, "Paris to Lyon by car", ROW) == 0.0
    reason = explain_miss(all_of, "paris by car", ("Paris", "Lyon", "car"))
    assert reason == "missing “Paris”, “Lyon”"
    folded = spec("contains_all", values=("PARIS", "CAR"), ignore_case=True)
    assert score_deterministic(folded, "paris by car", ROW) == 1.0


def test_starts_with_checks_the_beginning() -> None:
    """starts_with passes when the stripped output begins with the value."""
    begins = spec("starts_with", "{{ expected }}")
    assert score_deterministic(begins, "  Paris is the capital", ROW) == 1.0
    assert score_deterministic(begins, "The capital is Paris", ROW) == 0.0
    assert explain_miss(begins, "The capital", "Paris") == "does not start with “Paris”"


@pytest.mark.parametrize(
    ("type_", "value", "keys"),
    [
        ("exact", "Paris", {}),
        ("contains", "Paris", {}),
        ("regex", "^Par", {}),
        ("json_valid", None, {}),
        ("equals", "Paris", {}),
        ("icontains", "paris", {}),
        ("contains_any", None, {"values": ("Paris", "Rome")}),
        ("contains_all", None, {"values": ("Par", "is")}),
        ("starts_with", "Pa", {}),
    ],
)
def test_not_inverts_every_deterministic_scorer(
    type_: str, value: str | None, keys: dict[str, object]
) -> None:
    """`not: true` turns each deterministic scorer's pass into a fail (with a reason) and back."""
    output = '"Paris"' if type_ == "json_valid" else "Paris"
    plain, negated = spec(type_, value, **keys), spec(type_, value, negate=True, **keys)
    assert score_deterministic(plain, output, ROW) == 1.0
    assert score_deterministic(negated, output, ROW) == 0.0
    reason = explain_miss(negated, output, SCORERS[type_].expected(negated, ROW))
    assert reason is not None and reason.endswith("and `not: true` asks it not to")
    assert score_deterministic(negated, "{nope", ROW) == 1.0
    assert explain_miss(negated, "{nope", SCORERS[type_].expected(negated, ROW)) is None


def test_contains_any_values_render_with_the_case() -> None:
    """Each of contains_any's values is a template; a missing column is the run's error."""
    with pytest.raises(TemplateError, match="column 'nope'"):
        score_deterministic(spec("contains_any", values=("{{ nope }}",)), "x", ROW)


CONFIG = """\
suites:
  bot:
    dataset: cases.jsonl
    target: {{model: m, prompt: p.j2}}
    scorers:
      - {scorer}
"""


def _suite(scorer: str):  # type: ignore[no-untyped-def]
    return parse_config("llm-gate.yml", CONFIG.format(scorer=scorer)).suites["bot"]


def test_config_takes_the_new_scorers_and_not() -> None:
    """The config's scorer union is the registry's: each new type parses, `not` included."""
    suite = _suite("{type: contains_all, values: [a, b], not: true, name: no_ab}")
    scorer = suite.scorers[0]
    assert scorer.type == "contains_all" and scorer.negate is True  # type: ignore[attr-defined]
    assert suite.metric_names() == ["no_ab"]
    for line in (
        "{type: equals, value: x}",
        "{type: icontains, value: x}",
        "{type: contains_any, values: [x]}",
        "{type: starts_with, value: x, ignore_case: true}",
    ):
        assert _suite(line).scorers[0].type == line.split(",")[0].split()[-1]


def test_config_errors_name_the_key() -> None:
    """An empty `values`, `not` on a judge or an unknown type is one line naming the key."""
    with pytest.raises(ConfigError, match=r"suites\.bot\.scorers\[0\]\.values"):
        _suite("{type: contains_any, values: []}")
    with pytest.raises(ConfigError, match=r"unknown key 'not'"):
        _suite("{type: judge, rubric: r.md, model: j, not: true}")
    with pytest.raises(ConfigError, match="starts_with") as info:
        _suite("{type: startswith, value: x}")
    assert "'exact', 'contains', 'regex', 'json_valid', 'judge', 'equals'" in str(info.value)
