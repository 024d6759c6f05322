"""Plan: which suites run, and the exact request of every case × side × repeat.

Pure: takes the parsed configs, the ChangeSet and the text of every referenced file on each
side (read by the shell from the working tree and with `git show BASE:path`). The head's config
is the ruler: its scorers, rubrics and thresholds measure both sides. Each side's target (model,
params, system prompt, prompt template, tools) and dataset come from that side.

Templates come from the pull request, so they render in jinja2's sandbox. A template whose
only tags are `{{ column }}` (most prompts) is rendered by substitution, to the same text, and
jinja2 is imported only for the others: a cold run starts its calls 0.1 s sooner.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gate.config import GateConfig, Suite, Target, resolve_threshold
from gate.datasets import Case, parse_dataset
from gate.errors import ConfigError, TemplateError
from gate.models import (
    SIDES,
    CaseRun,
    ChangeSet,
    Message,
    Plan,
    Side,
    SuitePlan,
    Threshold,
)
from gate.scorers import sandboxed, scorer_for, substitute, substitution
from gate.targets.registry import target_for
from gate.values import read_value

if TYPE_CHECKING:
    import jinja2

Files = Mapping[str, str | None]

# An unchanged dataset is the same text on both sides: parse it once (nothing changes a case).
_parse_dataset = lru_cache(maxsize=2)(parse_dataset)


def select_suites(config: GateConfig, changes: ChangeSet, wanted: Sequence[str]) -> tuple[str, ...]:
    """The suites to run: those the change touches, narrowed by the `suites` input."""
    check_suite_names(config, wanted)
    return tuple(name for name in changes.suites_to_run if not wanted or name in wanted)


def check_suite_names(config: GateConfig, wanted: Sequence[str]) -> None:
    """The `suites` input may only name configured suites."""
    unknown = [name for name in wanted if name not in config.suites]
    if unknown:
        raise ConfigError(
            f"input `suites`: unknown suite '{unknown[0]}' "
            f"(suites: {', '.join(sorted(config.suites))})"
        )


def build_plan(
    config: GateConfig,
    base_config: GateConfig | None,
    suites: Sequence[str],
    files: Mapping[Side, Files],
    *,
    default_base_url: str | Mapping[str, str],
) -> Plan:
    """Every request of the run, fully specified; raises ConfigError/TemplateError on bad input.

    `default_base_url` is where a target without `base_url` sends: one URL for every kind, or
    one per `provider:` (settings.base_urls), a kind missing there going to its own default.
    """
    plans = []
    for name in suites:
        head_suite = config.suites[name]
        base_suite = base_config.suites.get(name) if base_config else None
        runs: list[CaseRun] = []
        for side in SIDES:
            suite = head_suite if side == "head" else (base_suite or head_suite)
            runs.extend(
                _side_runs(name, side, suite, head_suite.repeats, files[side], default_base_url)
            )
        plan = _suite_plan(name, head_suite, tuple(runs), files["head"], default_base_url)
        rate = head_suite.false_fail_rate
        plans.append(
            replace(plan, false_fail_rate=config.false_fail_rate if rate is None else rate)
        )
    return Plan(
        suites=tuple(plans), confidence=config.confidence, max_error_rate=config.max_error_rate
    )


def _side_runs(
    suite_name: str,
    side: Side,
    suite: Suite,
    repeats: int,
    files: Files,
    default_base_url: str | Mapping[str, str],
) -> list[CaseRun]:
    target = suite.target
    required = [suite.dataset, target.prompt] + [p for p in (target.system, target.tools) if p]
    missing = [path for path in required if files.get(path) is None]
    if missing:
        if side == "base":
            return []  # the suite (or its files) is new in this change: every head case is `new`
        raise ConfigError(
            f"suites.{suite_name}: file '{missing[0]}' not found; fix the path in the config"
        )
    cases = _parse_dataset(suite.dataset, _text(files, suite.dataset), suite.id_column)
    model = _model(target, files, suite_name)
    params = _params(target, files, suite_name)
    tools = _tools(target, files)
    base_url = _base_url(target, default_base_url)
    prompt = _compile(target.prompt, _text(files, target.prompt))
    system_text = _text(files, target.system) if target.system else None
    system = (
        _compile(target.system, system_text)
        if target.system and system_text is not None and target.system.endswith(".j2")
        else None
    )
    kind = target_for(target.provider)
    runs = []
    for case in cases:
        messages: list[Message] = []
        if target.system:
            content = _render(system, target.system, case, suite) if system else system_text or ""
            messages.append(Message("system", content))
        messages.append(Message("user", _render(prompt, target.prompt, case, suite)))
        for repeat in range(repeats):
            try:
                request = kind.request(
                    base_url=base_url,
                    model=model,
                    messages=tuple(messages),
                    params=params,
                    tools=tools,
                    repeat=repeat,
                )
            except ConfigError as exc:  # the kind names the key under the suite
                raise ConfigError(f"suites.{suite_name}.{exc}") from None
            runs.append(CaseRun(suite_name, side, case.id, repeat, case.variables, request))
    return runs


def _suite_plan(
    name: str,
    suite: Suite,
    runs: tuple[CaseRun, ...],
    head_files: Files,
    default_base_url: str | Mapping[str, str],
) -> SuitePlan:
    scorers = []
    thresholds: dict[str, Threshold] = {}
    for scorer in suite.scorers:
        metric = scorer.name or scorer.type
        kind = scorer_for(scorer.type)
        spec = kind.spec(scorer, metric, head_files, name)
        low, high, _ = kind.metric_range(scorer)
        span = high - low
        scorers.append(spec)
        resolved = resolve_threshold(suite, metric, span)
        thresholds[metric] = Threshold(resolved.max_drop, resolved.min, resolved.row_drop)
    ops = suite.thresholds
    return SuitePlan(
        name=name,
        runs=runs,
        scorers=tuple(scorers),
        thresholds=thresholds,
        latency_p95_max_increase_ms=ops.latency_p95_ms.max_increase if ops.latency_p95_ms else None,
        cost_max_increase_pct=ops.cost_usd.max_increase_pct if ops.cost_usd else None,
        repeats=suite.repeats,
        judge_provider=suite.target.provider,
        judge_base_url=_base_url(suite.target, default_base_url),
    )


def _base_url(target: Target, default: str | Mapping[str, str]) -> str:
    """The target's own base URL, else the run's default for its kind."""
    if target.base_url:
        return target.base_url.rstrip("/")
    if isinstance(default, str):
        return default.rstrip("/")
    fallback = target_for(target.provider).default_base_url
    return default.get(target.provider, fallback).rstrip("/")


def _text(files: Files, path: str) -> str:
    text = files.get(path)
    if text is None:
        raise ConfigError(f"{path}: file not found")
    return text


def _model(target: Target, files: Files, suite: str) -> str:
    if isinstance(target.model, str):
        return target.model
    ref = target.model
    value = read_value(files.get(ref.file), ref.file, ref.key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{ref.file}: key '{ref.key}' must be a model id string (suite {suite})")
    return value


def _params(target: Target, files: Files, suite: str) -> tuple[tuple[str, Any], ...]:
    if isinstance(target.params, dict):
        params = target.params
    else:
        ref = target.params
        value = read_value(files.get(ref.file), ref.file, ref.key)
        if not isinstance(value, dict):
            raise ConfigError(
                f"{ref.file}: key '{ref.key}' must be a mapping of sampling parameters "
                f"(suite {suite})"
            )
        params = value
    for reserved in ("model", "messages", "tools", "stream"):
        if reserved in params:
            raise ConfigError(f"suites.{suite}.target.params: '{reserved}' cannot be a parameter")
    return tuple(sorted(params.items()))


def _tools(target: Target, files: Files) -> str | None:
    if not target.tools:
        return None
    text = _text(files, target.tools)
    try:
        tools = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{target.tools}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(tools, list):
        raise ConfigError(f"{target.tools}: expected a JSON list of tool schemas")
    return json.dumps(tools, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _compile(path: str, text: str) -> _Template:
    """The template of a prompt file; a syntax error is a TemplateError naming its line."""
    parts = substitution(text)
    return _Template(path, text, parts, None if parts is not None else _jinja(path, text))


def _jinja(path: str, text: str) -> jinja2.Template:
    import jinja2

    try:
        return sandboxed(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{path}:{exc.lineno}: template syntax error: {exc.message}") from None


class _RenderError(Exception):
    """jinja2 could not render a template for a case (`undefined`: a column it lacks)."""

    def __init__(self, message: str, *, undefined: bool) -> None:
        super().__init__(message)
        self.undefined = undefined


class _Template:
    """A prompt template, rendered as jinja2 renders it in its sandbox, only faster.

    A template whose only tags are `{{ column }}` is rendered by `substitute`: jinja2 writes
    `str(value)` for each and `\n` for each line break of the template's text, and so does
    this; a column the case lacks goes to jinja2, for its error. Any other template is
    compiled in the sandbox (`gate.scorers.sandboxed`) when the plan is built, so a syntax
    error shows before any call.
    """

    def __init__(
        self, path: str, text: str, parts: tuple[str, ...] | None, template: jinja2.Template | None
    ) -> None:
        self.path = path
        self.text = text
        self.parts = parts  # literal, name, literal, name, …, literal
        self.template = template

    def render(self, variables: Mapping[str, Any]) -> str:
        rendered = substitute(self.parts, variables) if self.parts is not None else None
        if rendered is not None:
            return rendered
        import jinja2

        if self.template is None:
            self.template = _jinja(self.path, self.text)
        try:
            return self.template.render(variables)
        except jinja2.UndefinedError as exc:
            raise _RenderError(str(exc.message), undefined=True) from None
        except jinja2.TemplateError as exc:
            raise _RenderError(str(exc), undefined=False) from None


def _render(template: _Template | None, path: str, case: Case, suite: Suite) -> str:
    assert template is not None
    try:
        return template.render(case.variables)
    except _RenderError as exc:
        if exc.undefined:
            raise TemplateError(
                f"{path}: {exc} — the dataset {suite.dataset} has no such column "
                f"(case '{case.id}'); columns: {', '.join(sorted(case.variables))}"
            ) from None
        raise TemplateError(f"{path}: cannot render for case '{case.id}': {exc}") from None
