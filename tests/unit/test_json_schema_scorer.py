"""The json_schema scorer: JSON that validates against a schema file, json_path field checks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gate.config import parse_config
from gate.detect import detect_changes
from gate.errors import ConfigError
from gate.models import Category, ScorerSpec
from gate.plan import build_plan
from gate.scorers import explain_miss, score_against
from gate.scorers.json_schema import SCORER, parse_path

SCHEMA = {
    "type": "object",
    "required": ["answer", "items"],
    "properties": {
        "answer": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"price": {"type": "number"}}},
        },
    },
}
GOOD = {"answer": "Paris", "confidence": 0.9, "items": [{"price": 3}, {"price": 4.5}]}

CONFIG = """\
suites:
  bot:
    dataset: evals/cases.jsonl
    target:
      model: gpt-4o
      prompt: prompts/bot.md.j2
    scorers:
      - type: json_schema
        schema: schemas/answer.json
        json_path:
          - {path: "$.items[0].price", op: ge, value: 1}
"""
FILES: dict[str, str | None] = {
    "llm-gate.yml": CONFIG,
    "evals/cases.jsonl": '{"id": "a", "question": "hi"}\n',
    "prompts/bot.md.j2": "Q: {{ question }}",
    "schemas/answer.json": json.dumps(SCHEMA),
}


def _spec(schema: Any = SCHEMA, *, negate: bool = False, **scorer: Any) -> ScorerSpec:
    """The plan's spec of one json_schema scorer, from a config the way llm-gate.yml gives it."""
    entry = {"type": "json_schema", "not": negate, **scorer}
    files = {"schemas/s.json": schema if isinstance(schema, str) else json.dumps(schema)}
    if schema is not None:
        entry.setdefault("schema", "schemas/s.json")
    config = _config([entry])
    return SCORER.spec(config.suites["bot"].scorers[0], "json_schema", files, "bot")


def _config(scorers: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    text = CONFIG.split("    scorers:\n")[0] + "    scorers: " + json.dumps(scorers) + "\n"
    return parse_config("llm-gate.yml", text)


def _score(spec: ScorerSpec, output: Any) -> tuple[float, str | None]:
    text = output if isinstance(output, str) else json.dumps(output)
    return score_against(spec, text, None), explain_miss(spec, text, None)


def test_valid_output_passes_and_a_schema_error_says_where_and_what() -> None:
    """Output matching the schema scores 1; a miss names the first error's path and message."""
    spec = _spec()
    assert _score(spec, GOOD) == (1.0, None)
    bad = {**GOOD, "items": [{"price": 3}, {"price": "4.50"}]}
    assert _score(spec, bad) == (0.0, "schema: $.items[1].price: '4.50' is not of type 'number'")
    value, reason = _score(spec, {"answer": "Paris"})
    assert value == 0.0 and reason == "schema: $: 'items' is a required property"


def test_not_json_fails_and_a_json_fence_is_tolerated() -> None:
    """Text that is not JSON fails with the parse error; one ```json fence around it is dropped."""
    spec = _spec()
    value, reason = _score(spec, "The answer is Paris")
    assert value == 0.0 and reason is not None and reason.startswith("not valid JSON: ")
    fenced = "```json\n" + json.dumps(GOOD, indent=2) + "\n```\n"
    assert _score(spec, fenced) == (1.0, None)
    assert _score(spec, "```\n" + json.dumps(GOOD) + "```") == (1.0, None)
    assert _score(spec, "Here: ```json\n" + json.dumps(GOOD) + "\n```")[0] == 0.0


def test_long_reasons_are_clipped() -> None:
    """The reason stays one short line however large the offending value."""
    value, reason = _score(_spec(), {**GOOD, "answer": ["x" * 500]})
    assert value == 0.0 and reason is not None
    assert reason.startswith("schema: $.answer: ") and len(reason) == 200 and reason[-1] == "…"


def test_not_true_inverts_it() -> None:
    """`not: true` passes exactly when the output fails the schema, and says why it failed."""
    spec = _spec(negate=True)
    assert _score(spec, {"answer": 1})[0] == 1.0
    assert _score(spec, GOOD) == (
        0.0,
        "is JSON that matches the schema 'schemas/s.json', and `not: true` asks it not to",
    )


def test_draft_2020_12_unless_the_schema_names_another() -> None:
    """Without `$schema` the schema is read as 2020-12 (`prefixItems`); `$schema` picks a draft."""
    tuple_2020 = {"type": "array", "prefixItems": [{"type": "string"}]}
    assert _score(_spec(tuple_2020), [1])[0] == 0.0
    draft7 = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": [{"type": "string"}],  # draft-07's tuple form, invalid in 2020-12
    }
    assert _score(_spec(draft7), [1])[0] == 0.0
    assert _score(_spec(draft7), ["a", 2])[0] == 1.0
    with pytest.raises(ConfigError, match=r"^schemas/s.json: not a valid JSON Schema at \$.items"):
        _spec({k: v for k, v in draft7.items() if k != "$schema"})


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("{not json", r"^schemas/s.json: the schema is not valid JSON: "),
        ("[1, 2]", r"^schemas/s.json: a JSON Schema file holds a JSON object; fix the file$"),
        ({"type": "strng"}, r"^schemas/s.json: not a valid JSON Schema at \$.type: 'strng' is not"),
        ({"$schema": "https://example.com/mine"}, r"^schemas/s.json: unknown `\$schema` "),
    ],
    ids=["not-json", "not-object", "bad-keyword", "unknown-draft"],
)
def test_an_invalid_schema_file_is_a_one_line_config_error(schema: Any, message: str) -> None:
    """A schema file that is not a valid JSON Schema fails the plan with one line naming it."""
    with pytest.raises(ConfigError, match=message) as caught:
        _spec(schema)
    assert "\n" not in str(caught.value)


def test_a_missing_schema_file_names_the_path() -> None:
    """A schema path the head side lacks is a config error that says which file."""
    config = _config([{"type": "json_schema", "schema": "schemas/nope.json"}])
    with pytest.raises(ConfigError, match=r"schema 'schemas/nope\.json' not found; fix the path"):
        SCORER.spec(config.suites["bot"].scorers[0], "json_schema", {}, "bot")


@pytest.mark.parametrize(
    ("op", "value", "passes"),
    [
        ("eq", "Paris", True),
        ("eq", "paris", False),
        ("ne", "Lyon", True),
        ("contains", "ari", True),
        ("matches", "^P[a-z]+$", True),
        ("matches", "^p", False),
        ("lt", "Q", True),
        ("ge", "Q", False),
    ],
)
def test_json_path_ops_on_a_string(op: str, value: Any, passes: bool) -> None:
    """eq, ne, contains, matches and the orderings compare the value at the path."""
    spec = _spec(None, json_path=[{"path": "$.answer", "op": op, "value": value}])
    assert _score(spec, GOOD)[0] == float(passes)


def test_json_path_numbers_lists_and_json_equality() -> None:
    """Numbers order, lists contain, 1 equals 1.0 but true is not 1, objects compare whole."""
    doc = {"n": 1, "flag": True, "tags": ["a", "b"], "obj": {"x": [1, 2]}}

    def holds(path: str, op: str, value: Any) -> bool:
        spec = _spec(None, json_path=[{"path": path, "op": op, "value": value}])
        return _score(spec, doc)[0] == 1.0

    assert holds("$.n", "eq", 1.0) and not holds("$.n", "eq", True)
    assert holds("$.flag", "eq", True) and not holds("$.flag", "eq", 1)
    assert holds("$.n", "gt", 0) and holds("$.n", "le", 1) and not holds("$.n", "lt", 1)
    assert not holds("$.flag", "gt", 0)  # a boolean is not a number
    assert not holds("$.n", "lt", "z")  # nor a number a string
    assert holds("$.tags", "contains", "b") and not holds("$.tags", "contains", "c")
    assert holds("$.obj", "contains", "x") and holds("$.obj", "eq", {"x": [1, 2.0]})
    assert holds("$.tags[-1]", "eq", "b") and holds('$["obj"].x[1]', "eq", 2)
    assert holds("$", "ne", None)


def test_json_path_misses_say_which_check_failed() -> None:
    """The reason names the path, what it held and what was expected, or that it is absent."""
    checks = [
        {"path": "$.answer", "op": "eq", "value": "Paris"},
        {"path": "$.items[1].price", "op": "lt", "value": 4},
    ]
    spec = _spec(json_path=checks)
    assert _score(spec, GOOD) == (0.0, "$.items[1].price is 4.5; expected it to be < 4")
    assert _score(spec, {**GOOD, "answer": "Lyon"}) == (
        0.0,
        '$.answer is "Lyon"; expected it to equal "Paris"',
    )
    assert _score(spec, {**GOOD, "items": [{}]}) == (0.0, "$.items[1].price: not found")


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("$", ()),
        ("$.a.b[0]", ("a", "b", 0)),
        ("$.items[-1].first-name", ("items", -1, "first-name")),
        ('$["a key"]["x.y"][2]', ("a key", "x.y", 2)),
    ],
)
def test_the_path_subset(path: str, steps: tuple[str | int, ...]) -> None:
    """`$` then `.key`, `["any key"]` and `[index]` steps."""
    assert parse_path(path) == steps


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"path": "a.b", "op": "eq", "value": 1}, "a path starts with `\\$`"),
        ({"path": "$.a[*]", "op": "eq", "value": 1}, r"cannot read '\[\*\]'"),
        ({"path": "$.a", "op": "approx", "value": 1}, "op"),
        ({"path": "$.a", "op": "matches", "value": "("}, "invalid regex"),
        ({"path": "$.a", "op": "matches", "value": 3}, "`matches` needs a regex string"),
        ({"path": "$.a", "op": "gt", "value": [1]}, "`gt` needs a number or string"),
        ({"path": "$.a", "op": "eq"}, "value"),
    ],
    ids=[
        "no-root",
        "wildcard",
        "unknown-op",
        "bad-regex",
        "regex-not-string",
        "order-list",
        "no-value",
    ],
)
def test_bad_json_path_checks_are_config_errors(check: dict[str, Any], message: str) -> None:
    """A path outside the subset, an unknown op or a value the op cannot use fails the config."""
    with pytest.raises(ConfigError, match=message) as caught:
        _config([{"type": "json_schema", "json_path": [check]}])
    assert str(caught.value).startswith("llm-gate.yml:")


def test_it_needs_a_schema_or_checks() -> None:
    """A json_schema scorer with neither a schema nor json_path checks would check nothing."""
    with pytest.raises(ConfigError, match="needs a `schema` file, `json_path` checks, or both"):
        _config([{"type": "json_schema"}])


def test_the_plan_carries_the_head_schema_and_checks() -> None:
    """The plan's spec holds the head side's schema text, its path and the field checks."""
    config = parse_config("llm-gate.yml", CONFIG)
    plan = build_plan(
        config, config, ["bot"], {"base": FILES, "head": FILES}, default_base_url="http://x/v1"
    )
    spec = plan.suites[0].scorers[0]
    assert (spec.type, spec.schema_path, spec.schema) == (
        "json_schema",
        "schemas/answer.json",
        json.dumps(SCHEMA),
    )
    assert [(c.path, c.op, c.value) for c in spec.json_path] == [("$.items[0].price", "ge", "1")]
    assert spec.binary and plan.suites[0].thresholds["json_schema"].max_drop == 0.05


def test_a_schema_edit_reruns_the_suite_as_schema() -> None:
    """The schema file is watched: editing it runs the suite, as `schema`, with its diff."""
    config = parse_config("llm-gate.yml", CONFIG)
    edited = {**SCHEMA, "required": ["answer"]}
    head = {**FILES, "schemas/answer.json": json.dumps(edited)}
    changed = [("modified", "schemas/answer.json", None)]
    changes = detect_changes(
        config, config, "llm-gate.yml", changed, FILES, head, "b" * 40, "h" * 40
    )
    assert changes.suites_to_run == ("bot",)
    assert changes.reasons == {"bot": (Category.SCHEMA,)}
    assert changes.files[0].diff.startswith("--- a/schemas/answer.json\n")
