"""The imperative shell: builds the real clients, runs the pure stages, applies the effects.

`run_action` is what the Docker action runs (`llm-gate run`); `evaluate_change` is the part it
shares with `llm-gate eval`. Everything here that talks to the outside world (git, files, the
model provider, GitHub, the runner's files) is passed in or built here, never in the stages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.cache import ResponseCache
from gate.calibrate import Calibration, aa_plan, calibrate
from gate.compare import compare_results
from gate.config import GateConfig, parse_config
from gate.detect import detect_changes, referenced_paths
from gate.errors import ConfigError, GateError, GitError
from gate.evaluate import Progress, evaluate
from gate.git import Git
from gate.models import ChangeSet, Comparison, Plan, Report, Results, RunInfo, Side, Verdict
from gate.plan import build_plan, check_suite_names, select_suites
from gate.render import comment_marker, render_report
from gate.settings import Settings
from gate.workflow import Console, append_summary, write_outputs

STATUS_DESCRIPTION_LIMIT = 140


@dataclass(frozen=True)
class PullRequest:
    """The facts of the triggering pull request that the gate needs."""

    number: int
    base_sha: str
    head_sha: str
    head_repo: str | None
    base_repo: str | None


@dataclass(frozen=True)
class Outcome:
    changes: ChangeSet | None
    plan: Plan | None
    results: Results | None
    comparison: Comparison | None
    report: Report


# --------------------------------------------------------------------------- the shared pipeline


def evaluate_change(
    settings: Settings,
    console: Console,
    git: Git,
    base_rev: str,
    info: RunInfo,
    *,
    head_sha: str | None = None,
) -> Outcome:
    """Detect, plan, evaluate, compare and render the working tree against `base_rev`."""
    config_path = settings.config
    config = _load_config(git, None, config_path)
    base_sha = git.resolve(base_rev)
    head = head_sha or git.resolve("HEAD")
    base_config = _load_base_config(git, base_sha, config_path, console)
    changed = git.changed_files(base_sha, None)
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
        report = render_report(None, changes, {}, info)
        return Outcome(changes, None, None, None, report)
    plan = build_plan(config, base_config, suites, files, default_base_url=settings.openai_base_url)
    results = _evaluate(settings, console, config, plan)
    comparison = compare_results(plan, results)
    report = render_report(comparison, changes, results.stats, info)
    return Outcome(changes, plan, results, comparison, report)


def calibrate_working_tree(
    settings: Settings, console: Console, git: Git, repeats: int | None
) -> Calibration:
    """Evaluate the working tree twice (an A/A run) and measure each metric's noise."""
    config = _load_config(git, None, settings.config)
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
            default_base_url=settings.openai_base_url,
        )
    )
    return calibrate(plan, _evaluate(settings, console, config, plan))


def _load_config(git: Git, rev: str | None, path: str) -> GateConfig:
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
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if api_key is None and not settings.replay:
        raise ConfigError(
            "OPENAI_API_KEY is not set: pass it to the step with "
            "`env: {OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}}` "
            "(or use --replay with a recorded cache)"
        )
    cache = ResponseCache(Path(settings.cache_dir))
    prices = {model: (p.input_per_mtok, p.output_per_mtok) for model, p in config.prices.items()}
    reporter = ProgressPrinter(console)
    with console.group(f"Evaluating {plan.requests} case runs"):
        results = evaluate(
            plan,
            cache,
            api_key=api_key,
            base_url=settings.openai_base_url,
            concurrency=settings.concurrency,
            replay=settings.replay,
            max_cost_usd=settings.max_cost_usd,
            prices=prices,
            progress=reporter,
        )
        reporter.finish()
    if not results.complete:
        raise GateError(f"evaluation did not complete: {results.stop_reason}")
    return results


class ProgressPrinter:
    """Prints a progress line at most every 10 seconds (and once at the end)."""

    def __init__(self, console: Console, every_s: float = 10.0):
        self.console = console
        self.every_s = every_s
        self.last = 0.0
        self.latest: Progress | None = None

    def __call__(self, progress: Progress) -> None:
        self.latest = progress
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            self.console.info(self.line(progress))
            self.latest = None

    def finish(self) -> None:
        if self.latest is not None:
            self.console.info(self.line(self.latest))

    @staticmethod
    def line(p: Progress) -> str:
        rate = p.done / p.elapsed_s if p.elapsed_s > 0 else 0.0
        return (
            f"llm-gate: {p.done}/{p.total} case runs, {p.cache_hits} from cache, "
            f"{p.errors} errors, {p.elapsed_s:.1f} s, {rate:.1f}/s"
        )


# --------------------------------------------------------------------------- the action


def read_pull_request(settings: Settings) -> PullRequest:
    """The pull request from GITHUB_EVENT_PATH; a clear error for events it does not handle."""
    event = settings.github_event_name
    if event not in ("pull_request",):
        raise UnsupportedEvent(
            f"event '{event}' is not handled: run llm-gate `on: pull_request` "
            "(push, merge_group and workflow_dispatch arrive in a later release)"
        )
    if not settings.github_event_path or not Path(settings.github_event_path).is_file():
        raise GateError(
            "GITHUB_EVENT_PATH is not set or missing: llm-gate run needs the event payload"
        )
    payload: dict[str, Any] = json.loads(
        Path(settings.github_event_path).read_text(encoding="utf-8")
    )
    pr = payload.get("pull_request") or {}
    try:
        return PullRequest(
            number=int(pr["number"]),
            base_sha=str(pr["base"]["sha"]),
            head_sha=str(pr["head"]["sha"]),
            head_repo=(pr["head"].get("repo") or {}).get("full_name"),
            base_repo=(pr["base"].get("repo") or {}).get("full_name"),
        )
    except (KeyError, TypeError, ValueError):
        raise GateError(f"{settings.github_event_path}: not a pull_request event payload") from None


class UnsupportedEvent(GateError):
    """The workflow triggered llm-gate on an event it cannot gate."""


def run_action(
    settings: Settings,
    console: Console,
    *,
    github_factory: Callable[[Settings], Any] | None = None,
) -> int:
    """Run the gate as the action does; returns the process exit code."""
    for secret in settings.secrets():
        console.mask(secret)
    try:
        settings.check_supported()
        pr = read_pull_request(settings)
    except UnsupportedEvent as exc:
        console.error(str(exc))
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        return 1
    except GateError as exc:
        console.error(str(exc))
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        return 1
    github = _github(settings, github_factory, console)
    status = StatusReporter(github, console, pr.head_sha, settings)
    status.post("pending", "Evaluating the change…")
    info = RunInfo(
        repository=settings.github_repository,
        config_path=settings.config,
        run_url=settings.run_url,
        base_ref=pr.base_sha,
        head_ref=pr.head_sha,
    )
    try:
        git = Git(settings.workspace)
        base_rev = _base_commit(git, settings.base_ref or pr.base_sha)
        outcome = evaluate_change(settings, console, git, base_rev, info, head_sha=pr.head_sha)
        report = outcome.report
    except GateError as exc:
        console.error(str(exc))
        report = render_report(None, None, {}, info, error=str(exc))
    except BaseException:
        status.post("error", "llm-gate crashed before it could decide; see the workflow log")
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        raise
    try:
        publish(report, settings, console, github, pr)
    finally:
        state, description = status_for(report, settings.fail_on)
        status.post(state, description)
    return exit_code(report.verdict, settings.fail_on)


def _base_commit(git: Git, base: str) -> str:
    """The fork point of the PR: merge base of the base commit and the checked-out HEAD."""
    try:
        return git.merge_base(base, "HEAD")
    except GitError:
        raise


def _github(settings: Settings, factory: Callable[[Settings], Any] | None, console: Console) -> Any:
    if settings.github_token is None or not settings.github_repository:
        console.warning("no GitHub token or repository: the report goes to the job summary only")
        return None
    if factory is not None:
        return factory(settings)
    from gate.github import PyGithubClient

    return PyGithubClient(
        settings.github_token.get_secret_value(),
        settings.github_repository,
        settings.github_api_url,
    )


class StatusReporter:
    """Posts the commit status on the PR's head SHA; failures to post are warnings, not crashes."""

    def __init__(self, github: Any, console: Console, sha: str, settings: Settings):
        self.github = github
        self.console = console
        self.sha = sha
        self.context = settings.status_context
        self.target_url = settings.run_url

    def post(self, state: str, description: str) -> None:
        if self.github is None:
            return
        from gate.errors import CannotPublish

        try:
            self.github.set_status(
                self.sha,
                state,
                _cap(description, STATUS_DESCRIPTION_LIMIT),
                self.context,
                self.target_url,
            )
        except CannotPublish as exc:
            self.console.warning(str(exc))


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_for(report: Report, fail_on: str) -> tuple[str, str]:
    """The commit state for a verdict (DESIGN.md, "Commit status")."""
    verdict = report.verdict
    if verdict is Verdict.ERROR:
        return "error", report.headline
    if verdict is Verdict.FAIL:
        return ("success" if fail_on == "never" else "failure"), report.headline
    if verdict is Verdict.INCONCLUSIVE:
        return ("failure" if fail_on == "inconclusive" else "success"), report.headline
    return "success", report.headline


def exit_code(verdict: Verdict, fail_on: str) -> int:
    if verdict is Verdict.ERROR:
        return 1
    if verdict is Verdict.FAIL and fail_on in ("regression", "inconclusive"):
        return 1
    if verdict is Verdict.INCONCLUSIVE and fail_on == "inconclusive":
        return 1
    return 0


def publish(
    report: Report, settings: Settings, console: Console, github: Any, pr: PullRequest
) -> None:
    """Write the report files, outputs and job summary, then the sticky comment."""
    report_dir = Path(settings.runner_temp or ".llm-gate")
    report_dir.mkdir(parents=True, exist_ok=True)
    report_path = report_dir / "llm-gate-report.md"
    results_path = report_dir / "llm-gate-results.json"
    _atomic_write(report_path, report.summary)
    _atomic_write(
        results_path,
        json.dumps(report.results, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    )
    append_summary(settings.github_step_summary, report.summary)
    comment_url = ""
    if github is not None and settings.comment == "update":
        comment_url = _post_comment(report, settings, console, github, pr) or ""
    write_outputs(
        settings.github_output,
        {
            "verdict": report.verdict.value,
            "report-path": str(report_path),
            "results-path": str(results_path),
            "comment-url": comment_url,
            "regressions": str(report.regressions),
            "regressed-cases": str(report.regressed_cases),
        },
    )
    console.info(f"llm-gate: {report.headline}")


def _post_comment(
    report: Report, settings: Settings, console: Console, github: Any, pr: PullRequest
) -> str | None:
    from gate.errors import CannotPublish

    marker = comment_marker(settings.config)
    try:
        existing = github.find_sticky_comment(pr.number, marker)
        if existing is not None:
            return str(github.update_comment(existing.id, report.comment).html_url)
        if report.verdict is Verdict.SKIPPED:
            return None  # nothing relevant changed: never open a new comment just to say so
        return str(github.create_comment(pr.number, report.comment).html_url)
    except CannotPublish as exc:
        console.warning(f"{exc}; the full report is in the job summary")
        return None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
