"""`json_schema`: the output is JSON that validates against a schema file, plus field checks.

The output may be wrapped in one ```json fenced block; the fence is dropped before parsing. The
schema (read from the head side, watched as `schema`) is validated with the jsonschema library,
Draft 2020-12 unless its `$schema` names another draft; jsonschema is imported here only, when a
suite uses this scorer, so light commands stay light. `json_path` checks compare the value at a
path with `op`; the path syntax is a small subset implemented here: `$`, then `.key`,
`["any key"]` and `[index]` steps (a negative index counts from the end).
"""

from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gate.errors import ConfigError
from gate.models import Category, FieldCheck, ScorerSpec
from gate.scorers.base import (
    SHOWN,
    Check,
    CheckConfig,
    Expected,
    Files,
    Score,
)

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "contains", "matches"]
Step = str | int

_FENCE = re.compile(r"\A```(?:json)?[ \t]*\n(.*?)\n?```\Z", re.DOTALL | re.IGNORECASE)
_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\[(-?\d+)\]|\["((?:[^"\\]|\\.)*)"\]')
_ORDER = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


class JsonPathCheck(BaseModel):
    """One `json_path` entry: `{path: "$.a.b[0]", op: eq, value: 3}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    op: Op
    value: Any

    @field_validator("path")
    @classmethod
    def _readable_path(cls, path: str) -> str:
        parse_path(path)
        return path

    @model_validator(mode="after")
    def _comparable_value(self) -> JsonPathCheck:
        try:
            json.dumps(self.value)
        except (TypeError, ValueError):
            raise ValueError(
                f"json_path {self.path}: `value` must be a JSON value (quote dates and times)"
            ) from None
        if self.op == "matches":
            if not isinstance(self.value, str):
                raise ValueError(f"json_path {self.path}: `matches` needs a regex string value")
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"json_path {self.path}: invalid regex: {exc}") from None
        if self.op in _ORDER and not (_number(self.value) or isinstance(self.value, str)):
            raise ValueError(f"json_path {self.path}: `{self.op}` needs a number or string value")
        return self


class JsonSchemaConfig(CheckConfig):
    type: Literal["json_schema"]
    schema_path: str | None = Field(default=None, alias="schema")
    json_path: tuple[JsonPathCheck, ...] = ()

    @model_validator(mode="after")
    def _checks_something(self) -> JsonSchemaConfig:
        if self.schema_path is None and not self.json_path:
            raise ValueError("json_schema needs a `schema` file, `json_path` checks, or both")
        return self


class JsonSchemaScorer:
    """The json_schema scorer as the registry lists it: a Check with a watched schema file."""

    type = "json_schema"
    config = JsonSchemaConfig
    judged = False

    def __init__(self) -> None:
        self._check = Check(self.type, JsonSchemaConfig, _passes, _failure, _says, takes=None)

    def metric_range(self, config: Any) -> tuple[float, float, str]:
        return self._check.metric_range(config)

    def watched(self, config: Any, metric: str) -> tuple[tuple[Category, str, str], ...]:
        if config.schema_path is None:
            return ()
        return ((Category.SCHEMA, f"json_schema:{metric}", config.schema_path),)

    def spec(self, config: Any, metric: str, files: Files, suite: str) -> ScorerSpec:
        schema = None
        if config.schema_path is not None:
            schema = files.get(config.schema_path)
            if schema is None:
                raise ConfigError(
                    f"suites.{suite}.scorers: schema '{config.schema_path}' not found; fix the path"
                )
            _validator(schema, config.schema_path)  # a bad schema fails before any call
        checks = tuple(
            FieldCheck(check.path, check.op, json.dumps(check.value, sort_keys=True))
            for check in config.json_path
        )
        return ScorerSpec(
            name=metric,
            type=self.type,
            schema=schema,
            schema_path=config.schema_path,
            json_path=checks,
            informational=config.informational,
            negate=config.negate,
        )

    def expected(self, spec: ScorerSpec, variables: dict[str, Any]) -> Expected:
        return None

    def score(self, spec: ScorerSpec, output: str, expected: Expected) -> Score:
        return self._check.score(spec, output, expected)


def parse_path(path: str) -> tuple[Step, ...]:
    """A `json_path` path as its steps: keys (str) and indexes (int); ValueError if unreadable."""
    if not path.startswith("$"):
        raise ValueError(f"json_path {path!r}: a path starts with `$`, e.g. $.items[0].name")
    steps: list[Step] = []
    at = 1
    while at < len(path):
        match = _STEP.match(path, at)
        if match is None:
            raise ValueError(
                f"json_path {path!r}: cannot read {path[at:]!r}; use `.key`, "
                '`["any key"]` and `[index]` steps, e.g. $.items[0].name'
            )
        key, index, quoted_key = match.groups()
        if index is not None:
            steps.append(int(index))
        elif key is not None:
            steps.append(key)
        else:
            steps.append(json.loads(f'"{quoted_key}"'))
        at = match.end()
    return tuple(steps)


def failure(spec: ScorerSpec, output: str) -> str | None:
    """Why the output fails the scorer (not JSON, the first schema error, a field), or None."""
    text = output.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        document = json.loads(text)
    except ValueError as exc:
        return f"not valid JSON: {exc}"
    if spec.schema is not None:
        from jsonschema.exceptions import best_match

        error = best_match(
            _validator(spec.schema, spec.schema_path or spec.name).iter_errors(document)
        )
        if error is not None:
            where = _spelled(tuple(error.absolute_path))
            return _clip(f"schema: {where}: {_one_line(error.message)}")
    for check in spec.json_path:
        missed = _field_miss(check, document)
        if missed is not None:
            return _clip(missed)
    return None


def _passes(spec: ScorerSpec, output: str, expected: None) -> bool:
    return failure(spec, output) is None


def _failure(spec: ScorerSpec, output: str, expected: None) -> str | None:
    return failure(spec, output)


def _says(spec: ScorerSpec, expected: None) -> str:
    parts = [f"matches the schema '{spec.schema_path}'"] if spec.schema_path else []
    if spec.json_path:
        parts.append("passes its json_path checks")
    return "is JSON that " + " and ".join(parts)


@lru_cache(maxsize=32)
def _validator(schema_text: str, path: str) -> Validator:
    """The schema's validator (its draft from `$schema`, else 2020-12); ConfigError if invalid."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import SchemaError

    try:
        schema = json.loads(schema_text)
    except ValueError as exc:
        raise ConfigError(f"{path}: the schema is not valid JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise ConfigError(f"{path}: a JSON Schema file holds a JSON object; fix the file")
    kind: type[Validator] = Draft202012Validator
    if "$schema" in schema:
        with warnings.catch_warnings():
            # without a default, jsonschema warns on a `$schema` it does not know, then guesses
            warnings.simplefilter("error", DeprecationWarning)
            try:
                kind = validators.validator_for(schema)
            except DeprecationWarning:
                raise ConfigError(
                    f"{path}: unknown `$schema` {schema['$schema']!r}; "
                    "name a JSON Schema draft's URI or leave it out"
                ) from None
    try:
        kind.check_schema(schema)
    except SchemaError as exc:
        where = _spelled(tuple(exc.absolute_path))
        raise ConfigError(
            _clip(f"{path}: not a valid JSON Schema at {where}: {_one_line(exc.message)}")
        ) from None
    return kind(schema)


def _field_miss(check: FieldCheck, document: Any) -> str | None:
    wanted = json.loads(check.value)
    found, actual = _resolve(document, parse_path(check.path))
    if not found:
        return f"{check.path}: not found"
    if _holds(check.op, actual, wanted):
        return None
    return f"{check.path} is {_shown(actual)}; expected it to {_phrase(check.op)} {_shown(wanted)}"


def _resolve(document: Any, steps: tuple[Step, ...]) -> tuple[bool, Any]:
    node = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return False, None
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return False, None
            node = node[step]
    return True, node


def _holds(op: str, actual: Any, wanted: Any) -> bool:
    if op == "eq":
        return _same(actual, wanted)
    if op == "ne":
        return not _same(actual, wanted)
    if op == "contains":
        if isinstance(actual, str):
            return isinstance(wanted, str) and wanted in actual
        if isinstance(actual, list):
            return any(_same(item, wanted) for item in actual)
        if isinstance(actual, dict):
            return isinstance(wanted, str) and wanted in actual
        return False
    if op == "matches":
        return isinstance(actual, str) and re.search(wanted, actual) is not None
    comparable = (_number(actual) and _number(wanted)) or (
        isinstance(actual, str) and isinstance(wanted, str)
    )
    if not comparable:
        return False
    if op == "lt":
        return bool(actual < wanted)
    if op == "le":
        return bool(actual <= wanted)
    if op == "gt":
        return bool(actual > wanted)
    return bool(actual >= wanted)  # ge


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 equals 1.0, but true is not 1 (Python's == says it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _number(a) and _number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    return bool(a == b)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _phrase(op: str) -> str:
    words = {"eq": "equal", "ne": "differ from", "contains": "contain", "matches": "match"}
    return words.get(op, f"be {_ORDER.get(op, op)}")


def _spelled(steps: tuple[Step, ...]) -> str:
    """A location as this scorer's path syntax writes it: $.items[0].name."""
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", step):
            out += f".{step}"
        else:
            out += f"[{json.dumps(step)}]"
    return out


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


SCORER = JsonSchemaScorer()
