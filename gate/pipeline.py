"""The pipeline shell: from the working tree and git to Results and a Report, for every mode.

`evaluate_change` is what `llm-gate run` (gate/action.py) shares with `llm-gate eval`;
`check_working_tree` and `calibrate_working_tree` are `llm-gate check` and `calibrate`.
Everything here that talks to the outside world (git, files, the model provider) is passed in
or built here, never in the stages.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gate.cache import ResponseCache
from gate.config import GateConfig, parse_config
from gate.detect import check_values, detect_changes, referenced_paths
from gate.errors import (
    ConfigError,
    GateError,
)
from gate.evaluate import Estimate, evaluate
from gate.git import Git
from gate.models import ChangeSet, Comparison, Plan, Report, Results, RunInfo, Side
from gate.plan import build_plan, check_suite_names, select_suites
from gate.progress import ProgressPrinter
from gate.settings import Settings
from gate.targets.registry import target_for
from gate.workflow import Console

if TYPE_CHECKING:
    from gate.calibrate import Calibration

# What only the action needs (events, artifacts, ownership) and what only the report needs
# (gate.report, with jinja2 and tabulate) is imported where it is used: `llm-gate eval` starts
# its calls without them, and a cold run imports the report's on a thread meanwhile.


@dataclass(frozen=True)
class Outcome:
    changes: ChangeSet | None
    plan: Plan | None
    results: Results | None
    comparison: Comparison | None
    report: Report
    info: RunInfo


# --------------------------------------------------------------------------- the shared pipeline


def evaluate_change(
    settings: Settings,
    console: Console,
    git: Git,
    base_rev: str,
    info: RunInfo,
    *,
    head_sha: str | None = None,
    fork_repo: str | None = None,
) -> Outcome:
    """Detect, plan, evaluate, compare and render the working tree against `base_rev`.

    `fork_repo` marks a pull request from a fork ("" when the fork was deleted): its run gets
    no secrets, so when the change needs the model and no key (or replay) is there, the report
    says it was not evaluated instead of calling the model.
    """
    config_path = settings.config
    config = load_config(git, None, config_path)
    base_sha = git.resolve(base_rev)
    head = head_sha or git.resolve("HEAD")
    base_config = _load_base_config(git, base_sha, config_path, console)
    ours = _own_directories(settings, git)
    changed = [c for c in git.changed_files(base_sha, None) if not c[1].startswith(ours)]
    paths = referenced_paths(config) | (referenced_paths(base_config) if base_config else set())
    paths |= {config_path}
    files: dict[Side, dict[str, str | None]] = {
        "base": _read_files(git, base_sha, paths, strict=False),
        "head": _read_files(git, None, paths, strict=True),
    }
    changes = detect_changes(
        config, base_config, config_path, changed, files["base"], files["head"], base_sha, head
    )
    suites = select_suites(config, changes, settings.suite_filter)
    if not suites:
        from gate.report.render import render_report

        report = render_report(None, changes, {}, info)
        return Outcome(changes, None, None, None, report, info)
    no_keys = not any(settings.api_keys.values())
    if fork_repo is not None and no_keys and not settings.replay:
        from gate.report.render import render_report

        console.warning(
            "not evaluated: this pull request comes from a fork, whose workflow runs get no "
            "secrets; the job summary says how to evaluate it safely"
        )
        report = render_report(None, changes, {}, info, fork_repo=fork_repo)
        return Outcome(changes, None, None, None, report, info)
    plan = build_plan(config, base_config, suites, files, default_base_url=settings.base_urls)
    results = _evaluate(settings, console, config, plan)
    # numpy, jinja2 and tabulate: imported after the calls (on a thread during them, see _evaluate)
    from gate.compare import compare_results
    from gate.report.render import render_report

    comparison = compare_results(plan, results)
    report = render_report(comparison, changes, results.stats, info)
    return Outcome(changes, plan, results, comparison, report, info)


OWN_DIRECTORY = ".llm-gate/"  # the cache's and a local run's results' default home


def _own_directories(settings: Settings, git: Git) -> tuple[str, ...]:
    """What llm-gate writes inside the checkout (`.llm-gate/`, `cache-dir`, `results-dir`), as
    repository-relative prefixes: its own files never count as part of a change."""
    root = git.workdir.resolve()
    prefixes = [OWN_DIRECTORY]
    for directory in (settings.cache_dir, settings.results_dir):
        if not directory:
            continue
        path = Path(directory).resolve()  # as the cache and the report files open it
        if path != root and path.is_relative_to(root):
            prefixes.append(path.relative_to(root).as_posix() + "/")
    return tuple(prefixes)


def check_working_tree(settings: Settings, git: Git) -> tuple[GateConfig, Plan]:
    """Everything a run would find wrong before its first call, for `llm-gate check`: the
    config, every file it references (datasets, prompts, rubrics, `{file, key}` values, tools),
    every prompt and scorer template rendered for every case. The same functions as a run, so
    the same one-line errors; nothing is sent and no key is needed."""
    from gate.evaluate import check_scorer_values

    config = load_config(git, None, settings.config)
    check_suite_names(config, settings.suite_filter)
    names = settings.suite_filter or tuple(sorted(config.suites))
    files = _read_files(git, None, referenced_paths(config) | {settings.config}, strict=True)
    check_values(config, settings.config, files)
    # the head side alone: a base side without the files is simply new, never an error
    plan = build_plan(
        config,
        None,
        names,
        {"base": {}, "head": files},
        default_base_url=settings.base_urls,
    )
    check_scorer_values(plan)
    return config, plan


def calibrate_working_tree(
    settings: Settings, console: Console, git: Git, repeats: int | None
) -> Calibration:
    """Evaluate the working tree twice (an A/A run) and measure each metric's noise."""
    from gate.calibrate import aa_plan, calibrate

    config = load_config(git, None, settings.config)
    if repeats is not None:
        suites = {n: s.model_copy(update={"repeats": repeats}) for n, s in config.suites.items()}
        config = config.model_copy(update={"suites": suites})
    check_suite_names(config, settings.suite_filter)
    names = settings.suite_filter or tuple(sorted(config.suites))
    files = _read_files(git, None, referenced_paths(config) | {settings.config}, strict=True)
    plan = aa_plan(
        build_plan(
            config,
            config,
            names,
            {"base": files, "head": files},
            default_base_url=settings.base_urls,
        )
    )
    return calibrate(plan, _evaluate(settings, console, config, plan))


def load_config(git: Git, rev: str | None, path: str) -> GateConfig:
    data = git.read(rev, path)
    if data is None:
        raise ConfigError(
            f"{path}: config file not found; create it or set the `config` input to its path"
        )
    return parse_config(path, _decode(path, data))


def _load_base_config(git: Git, base_sha: str, path: str, console: Console) -> GateConfig | None:
    """The base side's config, when it exists and is valid there (else the head's references)."""
    data = git.read(base_sha, path)
    if data is None:
        return None
    try:
        return parse_config(path, _decode(path, data))
    except ConfigError as exc:
        console.warning(f"the base side's config is not valid; using the head's: {exc}")
        return None


def _read_files(
    git: Git, rev: str | None, paths: Iterable[str], *, strict: bool
) -> dict[str, str | None]:
    """The text of every path at `rev` (None: the working tree), in one batch."""
    wanted = sorted(paths)
    for path in wanted:
        _check_inside_repo(path)
    out: dict[str, str | None] = {}
    for path, data in git.read_many(rev, wanted).items():
        try:
            out[path] = None if data is None else _decode(path, data)
        except ConfigError:
            if strict:
                raise
            out[path] = None
    return out


def _check_inside_repo(path: str) -> None:
    parts = Path(path).parts
    if Path(path).is_absolute() or ".." in parts:
        raise ConfigError(f"{path}: paths in the config must be relative to the repository root")


def _decode(path: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ConfigError(f"{path}: is a binary file; expected UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text; save it as UTF-8") from None


def _evaluate(settings: Settings, console: Console, config: GateConfig, plan: Plan) -> Results:
    api_keys = settings.api_keys
    providers = sorted({run.request.provider for suite in plan.suites for run in suite.runs})
    for provider in providers or ["openai"]:
        if api_keys.get(provider) is None and not settings.replay:
            secret = target_for(provider).secrets[0]
            raise ConfigError(
                f"{secret} is not set: pass it to the step with "
                f"`env: {{{secret}: ${{{{ secrets.{secret} }}}}}}` "
                "(or use --replay with a recorded cache)"
            )
    cache = ResponseCache(Path(settings.cache_dir))
    prices = {model: (p.input_per_mtok, p.output_per_mtok) for model, p in config.prices.items()}
    reporter = ProgressPrinter(console, budget_usd=settings.max_cost_usd)

    def estimated(estimate: Estimate) -> None:
        reporter.estimate(estimate)
        if estimate.to_send:
            # What the comparison and the report import (numpy, jinja2, tabulate) and the
            # report's templates (0.3 s together) are made ready on a thread while the calls
            # are in flight (a cached run has nothing to wait for: it does this as it goes).
            threading.Thread(target=_import_for_the_report, daemon=True).start()

    with console.group(f"Evaluating {plan.requests} case runs"):
        try:
            results = evaluate(
                plan,
                cache,
                api_key=api_keys,
                base_url=settings.base_urls,
                concurrency=settings.concurrency,
                replay=settings.replay,
                max_cost_usd=settings.max_cost_usd,
                prices=prices,
                progress=reporter,
                estimate=estimated,
            )
        finally:
            reporter.finish()
    if not results.complete:
        raise GateError(f"evaluation did not complete: {results.stop_reason}")
    return results


def _import_for_the_report() -> None:
    for module in ("gate.compare", "tabulate"):
        importlib.import_module(module)
    from gate.report.templates import compile_templates  # and jinja2 with it

    compile_templates()


# --------------------------------------------------------------------------- the action
