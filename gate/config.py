"""llm-gate.yml: the pydantic models that validate it and the loader that names the line.

Pure: `parse_config(path, text)` takes the file's text; the shell reads the file. Unknown keys
are errors everywhere (a typo must never silently switch a check off), and every error is one
line: `llm-gate.yml:12: suites.bot.scorers[1].rubrc: unknown key (did you mean 'rubric'?)`.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Annotated, Any, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from gate.errors import ConfigError
from gate.escape import clip, normalize_text
from gate.scorers.base import ScorerConfig
from gate.scorers.registry import SCORERS, scorer_for
from gate.targets.base import FileKey
from gate.targets.registry import TARGETS
from gate.values import load_yaml, yaml_error

OPS_THRESHOLDS = ("latency_p95_ms", "cost_usd")
DEFAULT_CONFIDENCE = 0.95
DEFAULT_MAX_ERROR_RATE = 0.05
# How often an unchanged system may be failed, family-wise over a suite's gating metrics.
DEFAULT_FALSE_FAIL_RATE = 0.01
FalseFailRate = Annotated[float, Field(gt=0, lt=0.5)]
# Without a `default` threshold, a metric may drop by 5 % of its range before it fails.
DEFAULT_RELATIVE_TOLERANCE = 0.05
MESSAGE_LIMIT = 500  # characters of one error line
SHOWN_LIMIT = 80  # characters of a key or value quoted in it


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


if TYPE_CHECKING:
    from gate.targets.anthropic import AnthropicTarget
    from gate.targets.openai import OpenAITarget

    Target = OpenAITarget | AnthropicTarget  # the registry's kinds, for mypy
else:  # every registered target kind's config model (`provider:` picks it)

    def _target_kind(value: Any) -> str:
        """The kind whose model validates a `target:`: its `provider:` (openai when absent).
        An unknown one goes to the first kind, whose `provider` check says what is known, so
        the error is that one line and not one per kind."""
        provider = value.get("provider") if isinstance(value, dict) else value.provider
        if provider is None:
            return "openai"
        return (
            provider if isinstance(provider, str) and provider in TARGETS else next(iter(TARGETS))
        )

    Target = Annotated[
        Union[tuple(Annotated[k.config, Tag(name)] for name, k in TARGETS.items())],  # noqa: UP007
        Discriminator(_target_kind),
    ]


if TYPE_CHECKING:
    Scorer = ScorerConfig
else:  # every registered scorer's config model, told apart by `type`
    Scorer = Annotated[
        Union[tuple(scorer.config for scorer in SCORERS.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]


class MetricThreshold(_Strict):
    max_drop: Annotated[float, Field(ge=0)] | None = None
    min: float | None = None
    row_drop: Annotated[float, Field(ge=0)] | None = None


class LatencyThreshold(_Strict):
    max_increase: Annotated[float, Field(ge=0)]


class CostThreshold(_Strict):
    max_increase_pct: Annotated[float, Field(ge=0)]


class Thresholds(_Strict):
    """`default`, `latency_p95_ms`, `cost_usd`, and one entry per metric name."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, MetricThreshold] = Field(init=False)

    default: MetricThreshold | None = None
    latency_p95_ms: LatencyThreshold | None = None
    cost_usd: CostThreshold | None = None

    @property
    def metrics(self) -> dict[str, MetricThreshold]:
        return dict(self.model_extra or {})


class Suite(_Strict):
    dataset: str
    id_column: str = "id"
    target: Target
    scorers: Annotated[list[Scorer], Field(min_length=1)]
    thresholds: Thresholds = Field(default_factory=Thresholds)
    repeats: Annotated[int, Field(ge=1, le=50)] = 1
    watch: list[str] = Field(default_factory=list)
    false_fail_rate: FalseFailRate | None = None  # overrides the top-level one for this suite

    @model_validator(mode="after")
    def _names_and_thresholds(self) -> Suite:
        names = self.metric_names()
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(
                    f"two scorers produce the metric '{name}'; give one of them a distinct `name`"
                )
            seen.add(name)
        for metric in self.thresholds.metrics:
            if metric not in seen:
                raise ValueError(
                    f"thresholds.{metric}: no scorer produces the metric '{metric}' "
                    f"(metrics: {', '.join(sorted(seen))})"
                )
        ranges = {s.name or s.type: _metric_range(s) for s in self.scorers}
        for metric, (low, high, unit) in ranges.items():
            own = self.thresholds.metrics.get(metric)
            key = metric if own is not None else "default"
            threshold = own if own is not None else self.thresholds.default
            if threshold is not None:
                _check_range(f"thresholds.{key}", threshold, low, high, unit, metric)
        return self

    def metric_names(self) -> list[str]:
        return [s.name or s.type for s in self.scorers]


def _metric_range(scorer: ScorerConfig) -> tuple[float, float, str]:
    """The values a metric's mean can take, and how its thresholds are written."""
    return scorer_for(scorer.type).metric_range(scorer)


def _check_range(
    key: str, threshold: MetricThreshold, low: float, high: float, unit: str, metric: str
) -> None:
    """A threshold its metric can never reach is a mistake (`max_drop: 5` meant as 5 %): it
    would switch the check off, so it is an error naming the unit."""
    span = high - low
    for name in ("max_drop", "row_drop"):
        value = getattr(threshold, name)
        if value is not None and value > span:
            raise ValueError(
                f"{key}.{name}: {value:g} is more than the whole range of '{metric}' "
                f"({low:g} to {high:g}); {unit}"
            )
    if threshold.min is not None and not low <= threshold.min <= high:
        raise ValueError(
            f"{key}.min: {threshold.min:g} is outside the range of '{metric}' "
            f"({low:g} to {high:g}); {unit}"
        )


class Price(_Strict):
    input_per_mtok: Annotated[float, Field(ge=0)]
    output_per_mtok: Annotated[float, Field(ge=0)]


class GateConfig(_Strict):
    suites: Annotated[dict[str, Suite], Field(min_length=1)]
    confidence: Annotated[float, Field(gt=0.5, lt=1)] = DEFAULT_CONFIDENCE
    false_fail_rate: FalseFailRate = DEFAULT_FALSE_FAIL_RATE
    max_error_rate: Annotated[float, Field(ge=0, le=1)] = DEFAULT_MAX_ERROR_RATE
    prices: dict[str, Price] = Field(default_factory=dict)

    @field_validator("suites")
    @classmethod
    def _suite_names(cls, suites: dict[str, Suite]) -> dict[str, Suite]:
        for name in suites:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", str(name)):
                raise ValueError(
                    f"suite name '{name}' may hold only letters, digits, '-', '_' and '.'"
                )
        return suites


# --------------------------------------------------------------------------- loading


def parse_config(path: str, text: str) -> GateConfig:
    """Validate the text of a config file; raise ConfigError with one line on any problem."""
    data, lines = load_yaml_with_lines(path, text)
    if data is None:
        raise ConfigError(f"{path}: the file is empty; it needs at least a `suites:` mapping")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping with a `suites:` key at the top level")
    try:
        return GateConfig.model_validate(data)
    except ValidationError as exc:
        message = describe_validation_error(path, exc, lines)
    except RecursionError:  # pydantic walking a structure whose aliases nest too deeply
        message = f"{path}: nested too deeply (or an alias refers to itself)"
    # A key or value may hold a newline or a control character; the message stays one line.
    raise ConfigError(clip(" ".join(normalize_text(message).split()), MESSAGE_LIMIT))


def load_yaml_with_lines(path: str, text: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Parse YAML and map every key path to its 1-based line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except Exception as exc:  # the parser's failure is the file's problem, never a crash
        raise yaml_error(exc, text, path) from None
    data = load_yaml(text, path)
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _walk(node, (), lines, set())
    return data, lines


def _walk(
    node: yaml.Node,
    prefix: tuple[str | int, ...],
    lines: dict[tuple[str | int, ...], int],
    seen: set[int],
) -> None:
    lines.setdefault(prefix, node.start_mark.line + 1)
    if id(node) in seen:  # an alias: its keys were numbered where its anchor is (no cycles)
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            path = (*prefix, key)
            lines[path] = key_node.start_mark.line + 1
            _walk(value_node, path, lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            _walk(item, path, lines, seen)


_MODELS: tuple[type[BaseModel], ...] = (
    GateConfig,
    Suite,
    *(kind.config for kind in TARGETS.values()),
    FileKey,
    MetricThreshold,
    LatencyThreshold,
    CostThreshold,
    Thresholds,
    Price,
    *(scorer.config for scorer in SCORERS.values()),
)
_KNOWN_KEYS = sorted(
    {
        name
        for model in _MODELS
        for key, field in model.model_fields.items()
        for name in (key, field.alias or key)
    }
    | {"type"}
)


def describe_validation_error(
    path: str, exc: ValidationError, lines: dict[tuple[str | int, ...], int]
) -> str:
    """One line for the first error: file, line, key path and what was expected."""
    # An unknown key explains a "missing" one beside it (`rubrc` for `rubric`): report it first.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    raw_loc = tuple(first["loc"])
    sub = re.match(r"(?:Value error, )?([\w.-]+): ", first["msg"])
    if first["type"] == "value_error" and sub:  # a validator named the key inside its model
        raw_loc = (*raw_loc, *sub.group(1).split("."))
    loc = _yaml_path(raw_loc, lines)
    line = lines.get(loc) or _nearest_line(loc, lines)
    key_path = _format_key_path(loc)
    kind = first["type"]
    if kind == "extra_forbidden":
        key = clip(str(loc[-1]), SHOWN_LIMIT) if loc else "?"
        hint = difflib.get_close_matches(key, _KNOWN_KEYS, n=1)
        what = f"unknown key '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
        parent = _format_key_path(loc[:-1]) or "the top level"
        message = f"{parent}: {what}"
    elif kind == "missing":
        missing = str(first["loc"][-1])
        parent = _format_key_path(loc) or "the top level"
        message = f"{parent}: missing required key '{missing}'"
    else:
        text = re.sub(r"^(Value|Assertion) error, ", "", first["msg"])
        if sub and text.startswith(sub.group(1) + ": "):
            text = text[len(sub.group(1)) + 2 :]
        got = first.get("input")
        shown = (
            ""
            if isinstance(got, dict | list) or kind == "value_error"
            else f" (got {clip(repr(got), SHOWN_LIMIT)})"
        )
        message = f"{key_path or 'the top level'}: {text}{shown}"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path}:{line}: {message}{more}" if line else f"{path}: {message}{more}"


def _yaml_path(
    loc: tuple[Any, ...], lines: dict[tuple[str | int, ...], int]
) -> tuple[str | int, ...]:
    """Keep the parts of pydantic's location that exist in the YAML (drops union tags)."""
    path: tuple[str | int, ...] = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    return path


def _nearest_line(
    loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]
) -> int | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def _format_key_path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def resolve_threshold(suite: Suite, metric: str, scale_range: float) -> MetricThreshold:
    """The threshold that applies to a metric: its own entry, else `default`, else 5 % of range."""
    own = suite.thresholds.metrics.get(metric)
    if own is not None:
        return own
    if suite.thresholds.default is not None:
        return suite.thresholds.default
    return MetricThreshold(max_drop=round(DEFAULT_RELATIVE_TOLERANCE * scale_range, 6))
