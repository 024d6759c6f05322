"""What a scorer is: the `Scorer` protocol, its config models, and the deterministic `Check`.

Pure: no network, files or clock. A scorer owns its config model (what `scorers:` takes for its
`type`), the metric's range, the files it watches, the plan's `ScorerSpec` it builds, what it
renders per case before any call (`expected`) and how it scores an output into a `Score`.
A judge (`judged = True`) scores the judge model's answer, not the output: the engine makes the
call (gate/scorers/judge.py builds its request).

Every deterministic scorer is a `Check`: a pass/fail test and the reason it failed. `not: true`
is handled here, once, for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from gate.errors import TemplateError
from gate.models import Category, ScorerSpec
from gate.scorers.templating import render_text

# What a scorer renders per case before any call: its value, its values, or nothing.
Expected = str | tuple[str, ...] | None
Files = Mapping[str, str | None]  # path → text on one side (None: not there)
PASS_RATE_UNIT = "pass rates are fractions: 0.05 = 5 points"
SHOWN = 200  # characters of an expected value or pattern quoted in a reason


@dataclass(frozen=True, slots=True)
class Score:
    """What a scorer made of one output: its value, and why, when it can say."""

    value: float
    reason: str | None = None


class ScorerConfig(BaseModel):
    """The keys every scorer takes (`type` is each scorer's own Literal)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    name: str | None = None
    informational: bool = False


class CheckConfig(ScorerConfig):
    """A deterministic scorer's keys: `not: true` turns its pass into a fail and back."""

    negate: bool = Field(default=False, alias="not")


ScorerConfigModel = type[ScorerConfig]
CheckConfigModel = type[CheckConfig]


class Scorer(Protocol):
    """One kind of scorer: one module of gate/scorers/, one line of its registry."""

    @property
    def type(self) -> str:
        """The `type:` it answers to."""
        ...

    @property
    def config(self) -> ScorerConfigModel:
        """Its config model: what `scorers:` takes for this `type`."""
        ...

    @property
    def judged(self) -> bool:
        """Whether it scores a judge model's answer (the engine calls the judge first)."""
        ...

    def metric_range(self, config: Any) -> tuple[float, float, str]:
        """The values the metric's mean can take, and how its thresholds are written."""
        ...

    def watched(self, config: Any, metric: str) -> tuple[tuple[Category, str, str], ...]:
        """The files it reads, as (category, role, path), for change detection."""
        ...

    def spec(self, config: Any, metric: str, files: Files, suite: str) -> ScorerSpec:
        """The plan's spec of this scorer; `files` are the head side's (rubrics are read there)."""
        ...

    def expected(self, spec: ScorerSpec, variables: dict[str, Any]) -> Expected:
        """What it renders for a case before any call (a bad value fails the run early)."""
        ...

    def score(self, spec: ScorerSpec, output: str, expected: Expected) -> Score:
        """The score of an output (a judge's: of the judge's answer)."""
        ...


def quoted(text: str) -> str:
    """A value as a reason quotes it, cut to SHOWN characters."""
    return "“" + (text if len(text) <= SHOWN else text[: SHOWN - 1] + "…") + "”"


def ignoring_case(spec: ScorerSpec) -> str:
    return " (ignoring case)" if spec.ignore_case else ""


def compared(spec: ScorerSpec, output: str, expected: str) -> tuple[str, str]:
    """The output and the value as a string check compares them: stripped of whitespace at
    their ends, and case-folded when the scorer ignores case."""
    got, want = output.strip(), expected.strip()
    if spec.ignore_case:
        return got.casefold(), want.casefold()
    return got, want


@dataclass(frozen=True, slots=True)
class Check:
    """A deterministic scorer: 1.0 when `passes`, else 0.0 with `miss` saying why.

    `takes` is the key its template(s) come from: `value` (one string), `values` (a list) or
    nothing. `says` describes what a pass means, for the reason of a negated check that passed.
    """

    type: str
    config: CheckConfigModel
    passes: Callable[[ScorerSpec, str, Any], bool]
    miss: Callable[[ScorerSpec, str, Any], str | None]
    says: Callable[[ScorerSpec, Any], str]
    takes: str | None = "value"
    validate: Callable[[ScorerSpec, Any], None] | None = None  # a bad pattern fails early
    judged: bool = False

    def metric_range(self, config: Any) -> tuple[float, float, str]:
        return 0.0, 1.0, PASS_RATE_UNIT

    def watched(self, config: Any, metric: str) -> tuple[tuple[Category, str, str], ...]:
        return ()

    def spec(self, config: Any, metric: str, files: Files, suite: str) -> ScorerSpec:
        return ScorerSpec(
            name=metric,
            type=self.type,
            value=getattr(config, "value", None),
            values=tuple(getattr(config, "values", ())),
            ignore_case=getattr(config, "ignore_case", False),
            informational=config.informational,
            negate=config.negate,
        )

    def expected(self, spec: ScorerSpec, variables: dict[str, Any]) -> Expected:
        if self.takes is None:
            return None
        rendered: Expected
        if self.takes == "values":
            rendered = tuple(render_text(spec, source, variables) for source in spec.values)
        else:
            if spec.value is None:
                raise TemplateError(f"scorer '{spec.name}' ({spec.type}) needs a `value`")
            rendered = render_text(spec, spec.value, variables)
        if self.validate is not None:
            self.validate(spec, rendered)
        return rendered

    def score(self, spec: ScorerSpec, output: str, expected: Expected) -> Score:
        if self.takes is not None and expected is None:
            raise TemplateError(f"scorer '{spec.name}' ({spec.type}) needs a `{self.takes}`")
        passed = self.passes(spec, output, expected)
        if passed != spec.negate:
            return Score(1.0)
        if spec.negate:
            return Score(0.0, f"{self.says(spec, expected)}, and `not: true` asks it not to")
        return Score(0.0, self.miss(spec, output, expected))
