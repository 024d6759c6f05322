"""The imperative shell: builds the real clients, runs the pure stages, applies the effects.

`run_action` is what the Docker action runs (`llm-gate run`); `evaluate_change` is the part it
shares with `llm-gate eval`. Everything here that talks to the outside world (git, files, the
model provider, GitHub, the runner's files) is passed in or built here, never in the stages.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.cache import ResponseCache
from gate.config import GateConfig, parse_config
from gate.detect import check_values, detect_changes, possibly_relevant, referenced_paths
from gate.errors import (
    CannotPublish,
    ConfigError,
    GateError,
    GitError,
    MissingPermission,
    UnsupportedEvent,
)
from gate.escape import escape_plain
from gate.evaluate import Estimate, evaluate
from gate.evidence import (
    JUNIT_NAME,
    REPORT_NAME,
    RESULTS_NAME,
    atomic_write,
    results_json,
)
from gate.git import Git
from gate.models import ChangeSet, Comparison, Plan, Report, Results, RunInfo, Side, Verdict
from gate.plan import build_plan, check_suite_names, select_suites
from gate.progress import ProgressPrinter
from gate.settings import Settings
from gate.targets.registry import target_for
from gate.workflow import Console, append_summary, write_outputs

if TYPE_CHECKING:
    from gate.artifact import PublishManifest
    from gate.calibrate import Calibration
    from gate.events import GateTarget, WorkflowRunSource

# What only the action needs (events, artifacts, ownership) and what only the report needs
# (gate.render, with jinja2 and tabulate) is imported where it is used: `llm-gate eval` starts
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
    config = _load_config(git, None, config_path)
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
        from gate.render import render_report

        report = render_report(None, changes, {}, info)
        return Outcome(changes, None, None, None, report, info)
    if fork_repo is not None and settings.openai_api_key is None and not settings.replay:
        from gate.render import render_report

        console.warning(
            "not evaluated: this pull request comes from a fork, whose workflow runs get no "
            "secrets; the job summary says how to evaluate it safely"
        )
        report = render_report(None, changes, {}, info, fork_repo=fork_repo)
        return Outcome(changes, None, None, None, report, info)
    plan = build_plan(config, base_config, suites, files, default_base_url=settings.openai_base_url)
    results = _evaluate(settings, console, config, plan)
    # numpy, jinja2 and tabulate: imported after the calls (on a thread during them, see _evaluate)
    from gate.compare import compare_results
    from gate.render import render_report

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

    config = _load_config(git, None, settings.config)
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
        default_base_url=settings.openai_base_url,
    )
    check_scorer_values(plan)
    return config, plan


def calibrate_working_tree(
    settings: Settings, console: Console, git: Git, repeats: int | None
) -> Calibration:
    """Evaluate the working tree twice (an A/A run) and measure each metric's noise."""
    from gate.calibrate import aa_plan, calibrate

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
        providers = sorted({run.request.provider for suite in plan.suites for run in suite.runs})
        secret = target_for(providers[0] if providers else "openai").secrets[0]
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
                api_key=api_key,
                base_url=settings.openai_base_url,
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
    from gate.render import compile_templates  # and jinja2 with it

    compile_templates()


# --------------------------------------------------------------------------- the action


def read_event(settings: Settings) -> dict[str, Any]:
    """The payload at GITHUB_EVENT_PATH, as the runner wrote it."""
    path = settings.github_event_path
    if not path or not Path(path).is_file():
        raise GateError(
            "GITHUB_EVENT_PATH is not set or missing: llm-gate run needs the event payload"
        )
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise GateError(f"{path}: the event payload is not JSON") from None
    if not isinstance(payload, dict):
        raise GateError(f"{path}: the event payload is not a JSON object")
    return payload


def read_target(settings: Settings) -> GateTarget:
    """What this run evaluates and where it reports (gate/events.py), from the event."""
    from gate.events import HANDLED, parse_event

    name = settings.github_event_name
    known = (*HANDLED, "pull_request_target")
    return parse_event(
        name,
        read_event(settings) if name in known else {},
        github_sha=settings.github_sha,
        base_ref=settings.base_ref,
        allow_pull_request_target=settings.allow_pull_request_target,
    )


def run_action(
    settings: Settings,
    console: Console,
    *,
    github_factory: Callable[[Settings], Any] | None = None,
) -> int:
    """Run the gate as the action does; returns the process exit code."""
    from gate.ownership import run_as_owner_of

    run_as_owner_of(settings.workspace)
    for secret in settings.secrets():
        console.mask(secret)
    try:
        settings.check_supported()
        if settings.mode == "publish":
            return run_publish(settings, console, github_factory=github_factory)
        target = read_target(settings)
    except GateError as exc:
        # Nothing was evaluated and no status is posted: an event llm-gate does not gate must
        # not leave a status that reads like a verdict.
        console.error(str(exc))
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        return 1
    return _gate(settings, console, target, github_factory)


def _gate(
    settings: Settings,
    console: Console,
    target: GateTarget,
    github_factory: Callable[[Settings], Any] | None,
) -> int:
    """Evaluate the change `target` names, post what it says to post, return the exit code."""
    from gate.render import render_report

    if target.event == "pull_request_target":
        console.warning(
            "pull_request_target with `allow-pull-request-target: true`: llm-gate is reading "
            "this pull request's files with a write token and the repository's secrets; make "
            "sure a maintainer approved this run after reading the change"
        )
    if target.note:
        console.info(f"llm-gate: {target.note}")
    github = _github(settings, github_factory, console)
    refusals = Refusals(console, fork=target.fork, summary_path=settings.github_step_summary)
    status = StatusReporter(
        github, console, target.head_sha if target.status else None, settings, refusals
    )
    status.post("pending", "Evaluating the change…")
    info = RunInfo(
        repository=settings.github_repository,
        config_path=settings.config,
        run_url=settings.run_url,
        base_ref=target.base_label,
        head_ref=target.head_label,
    )
    evaluated: Outcome | None = None
    try:
        git = Git(_checkout(settings))
        try:
            base_rev = _base_commit(git, target)
        except GitError as exc:
            report = _report_from_pr_files(settings, git, github, target, info, exc)
        else:
            outcome = evaluate_change(
                settings,
                console,
                git,
                base_rev,
                info,
                head_sha=target.head_sha,
                fork_repo=(target.head_repo or "") if target.fork else None,
            )
            report = outcome.report
            evaluated = outcome
    except GateError as exc:
        console.error(str(exc))
        report = render_report(None, None, {}, info, error=str(exc))
    except BaseException:
        status.post("error", "llm-gate crashed before it could decide; see the workflow log")
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        raise
    try:
        publish(report, settings, console, github, target, refusals, outcome=evaluated)
    finally:
        state, description = status_for(report, settings.fail_on)
        status.post(state, description)
        refusals.report()
    return exit_code(report.verdict, settings.fail_on)


def _checkout(settings: Settings) -> Path:
    """The workspace, which must be a directory (a relative GITHUB_WORKSPACE is read from the
    current directory, where it is rarely what was meant)."""
    workspace = settings.workspace
    if workspace.is_dir():
        return workspace
    raw = settings.github_workspace or "."
    relative = "" if Path(raw).is_absolute() else f", read relative to {Path.cwd()}"
    raise GitError(
        f"GITHUB_WORKSPACE '{raw}': no such directory{relative}; it must be the absolute path "
        "of the checkout (the runner sets it; do not override it in `env:`)"
    )


def _report_from_pr_files(
    settings: Settings,
    git: Git,
    github: Any,
    target: GateTarget,
    info: RunInfo,
    error: GitError,
) -> Report:
    """The base commit is not in the checkout (shallow clone): ask GitHub which files the PR
    changes. When none of them is one a suite could depend on, the gate can still say so
    without reading the base side; otherwise the git error stands (it asks for
    `fetch-depth: 0`)."""
    from gate.render import render_report

    if github is None or target.pr_number is None:
        raise error
    try:
        changed = [path for _status, path, _old in github.list_pr_files(target.pr_number)]
    except CannotPublish:
        raise error from None
    config = _load_config(git, None, settings.config)
    if possibly_relevant(config, settings.config, changed):
        raise error
    changes = ChangeSet(
        base_sha=target.base,
        head_sha=target.head_sha,
        changed_paths=tuple(sorted(changed)),
        files=(),
        values=(),
        suites_to_run=(),
    )
    return render_report(None, changes, {}, info)


def _base_commit(git: Git, target: GateTarget) -> str:
    """The fork point: merge base of the target's base and the checked-out HEAD.

    A branch name is looked up as `origin/<name>` first (actions/checkout fetches the other
    branches as remote-tracking refs only), then as given.
    """
    if target.base_is_branch:
        with contextlib.suppress(GitError):
            return git.merge_base(f"origin/{target.base}", "HEAD")
    return git.merge_base(target.base, "HEAD")


def _github(settings: Settings, factory: Callable[[Settings], Any] | None, console: Console) -> Any:
    if settings.github_token is None or not settings.github_repository:
        console.info(
            "llm-gate: no `github-token` (or GITHUB_REPOSITORY): posting nothing; the report is "
            f"in the job summary and in {settings.results_path}"
        )
        return None
    if factory is not None:
        return factory(settings)
    from gate.github import PyGithubClient

    # PyGithubClient's defaults are the production settings: 5 retries with exponential
    # backoff (capped at 30 s) for 5xx, 429 and dropped connections, secondary rate limits
    # waited out (Retry-After, at most 60 s a time), a primary one only up to 2 minutes, and
    # GitHub's advice of at least a second between writes.
    return PyGithubClient(
        settings.github_token.get_secret_value(),
        settings.github_repository,
        settings.github_api_url,
    )


class Refusals:
    """The writes GitHub refused, reported at the end: a missing permission in one line (a
    read-only token is refused the status and the comment: one line names both entries), and
    every failure to post, in the log and in the job summary too, where people look for the
    report when the comment or the status is not there."""

    def __init__(
        self, console: Console, *, fork: bool = False, summary_path: str | None = None
    ) -> None:
        self.console = console
        self.fork = fork
        self.summary_path = summary_path
        self.permissions: list[str] = []
        self.failures: list[str] = []  # already warned about in the log

    def add(self, exc: MissingPermission) -> None:
        if exc.permission not in self.permissions:
            self.permissions.append(exc.permission)

    def failed(self, what: str, exc: CannotPublish) -> None:
        """A write that failed for another reason (a 403 of a rule, a 422, GitHub down)."""
        message = f"could not post the {what}: {exc}"
        self.console.warning(f"{message}; the full report is in the job summary")
        self.failures.append(message)

    def report(self) -> None:
        lines = list(self.failures)
        if self.permissions:
            from gate.github import missing_permissions_message

            message = missing_permissions_message(self.permissions, fork=self.fork)
            self.console.warning(message)
            lines.insert(0, message)
        if lines:
            from gate.escape import escape_inline

            items = "".join(f"\n- {escape_inline(line, 1_000)}" for line in lines)
            append_summary(
                self.summary_path,
                f"\n\n#### ⚠️ llm-gate could not post everything\n{items}\n",
            )
        self.permissions = []
        self.failures = []


class StatusReporter:
    """Posts the commit status on the run's own head SHA (`sha`; None: no status for this
    event). Failures to post are warnings, not crashes; once GitHub refuses it for a missing
    permission, it stops asking and `refusals` names the permission at the end."""

    def __init__(
        self,
        github: Any,
        console: Console,
        sha: str | None,
        settings: Settings,
        refusals: Refusals | None = None,
        *,
        target_url: str | None = None,
    ):
        self.github = github
        self.console = console
        self.sha = sha
        self.context = settings.status_context
        self.target_url = target_url or settings.run_url
        self.refusals = refusals or Refusals(console)
        self.refused = False

    def post(self, state: str, description: str) -> None:
        if self.github is None or self.sha is None or self.refused:
            return
        try:
            # The adapter cuts the description to GitHub's 140 characters.
            self.github.set_status(self.sha, state, description, self.context, self.target_url)
        except MissingPermission as exc:
            self.refused = True
            self.refusals.add(exc)
        except CannotPublish as exc:
            self.refusals.failed(f"`{state}` commit status", exc)


def status_for(report: Report, fail_on: str) -> tuple[str, str]:
    """The commit state for a verdict (DESIGN.md, "Commit status")."""
    return status_for_verdict(report.verdict, report.headline, fail_on)


def status_for_verdict(verdict: Verdict, headline: str, fail_on: str) -> tuple[str, str]:
    """The commit state and description for a verdict and its headline."""
    if verdict is Verdict.ERROR:
        return "error", headline
    if verdict is Verdict.FAIL:
        return ("success" if fail_on == "never" else "failure"), headline
    if verdict is Verdict.INCONCLUSIVE:
        return ("failure" if fail_on == "inconclusive" else "success"), headline
    return "success", headline


def exit_code(verdict: Verdict, fail_on: str) -> int:
    """1 when the commit status is not `success`: the step fails exactly when the check does."""
    state, _ = status_for_verdict(verdict, "", fail_on)
    return 0 if state == "success" else 1


def publish(
    report: Report,
    settings: Settings,
    console: Console,
    github: Any,
    target: GateTarget,
    refusals: Refusals | None = None,
    *,
    outcome: Outcome | None = None,
) -> None:
    """Write the report files, outputs and job summary, then the sticky comment.

    The report, the JSON results, the JUnit XML (of `outcome`, when the run evaluated) and,
    for a pull request, the manifest that `mode: publish` posts from go to `results-dir` (the
    directory the two-workflow pattern uploads).
    """
    from gate.artifact import MANIFEST_NAME, build_manifest
    from gate.junit import render_junit

    paths = {"report-path": "", "results-path": "", "junit-path": ""}
    # results-dir lies in the workspace: a workspace that is not there (the report's error
    # says so) gets no files, rather than a directory tree made where it should have been.
    if settings.workspace.is_dir():
        report_dir = settings.results_path
        report_dir.mkdir(parents=True, exist_ok=True)
        written = {
            "report-path": (report_dir / REPORT_NAME, report.summary),
            "results-path": (report_dir / RESULTS_NAME, results_json(report)),
            "junit-path": (
                report_dir / JUNIT_NAME,
                render_junit(None, None)
                if outcome is None
                else render_junit(outcome.comparison, outcome.results),
            ),
        }
        for output, (path, text) in written.items():
            atomic_write(path, text)
            paths[output] = settings.output_path(path)
        if target.pr_number is not None:
            manifest = build_manifest(
                report, pr_number=target.pr_number, head_sha=target.head_sha, config=settings.config
            )
            atomic_write(report_dir / MANIFEST_NAME, manifest)
    append_summary(settings.github_step_summary, report.summary)
    comment_url = ""
    if github is not None and settings.comment == "update" and target.comments:
        comment_url = _post_comment(report, settings, console, github, target, refusals) or ""
    write_outputs(
        settings.github_output,
        {
            "verdict": report.verdict.value,
            "report-path": paths["report-path"],
            "results-path": paths["results-path"],
            "comment-url": comment_url,
            "regressions": str(report.regressions),
            "regressed-cases": str(report.regressed_cases),
            "junit-path": paths["junit-path"],
        },
    )
    annotate(report, console)
    with console.untrusted():  # the headline may quote a metric name, a case id, a file name
        console.info(f"llm-gate: {report.headline}")


def annotate(report: Report, console: Console) -> None:
    """Put the report's annotations (≤ 10 per level) on the changed lines of the suites' files."""
    for note in report.annotations:
        show = console.warning if note.level == "warning" else console.notice
        show(note.message, file=note.file, line=note.line, end_line=note.end_line, title=note.title)


def _post_comment(
    report: Report,
    settings: Settings,
    console: Console,
    github: Any,
    target: GateTarget,
    refusals: Refusals | None = None,
) -> str | None:
    """Create or update the one sticky comment, unless a newer commit of the PR owns it.

    Two runs for one PR can overlap (rapid pushes). A run whose head is no longer the PR's
    head leaves the comment to the newer run (its status still goes on its own commit). Two
    runs that both found no comment both create one: each then looks again, and a run whose
    comment is not the oldest deletes its own and, if it is still the PR's head, writes its
    report into the oldest. (A retried POST whose first answer was lost leaves a duplicate
    the same way.) Leftover duplicates are deleted by the next run that finds the comment.
    """
    from gate.render import comment_marker

    number = target.pr_number
    if number is None:
        return None
    marker = comment_marker(settings.config)
    try:
        if _is_stale(github, console, target, number):
            return None
        existing = github.find_sticky_comment(number, marker)
        _delete_duplicates(github)
        if existing is not None:
            return str(github.update_comment(existing.id, report.comment).html_url)
        if report.verdict is Verdict.SKIPPED:
            return None  # nothing relevant changed: never open a new comment just to say so
        created = github.create_comment(number, report.comment)
        kept = github.find_sticky_comment(number, marker)
        if kept is None or kept.id == created.id:
            return str(created.html_url)
        with contextlib.suppress(CannotPublish):  # only our own: the other run owns its copy
            github.delete_comment(created.id)
        if _is_stale(github, console, target, number):
            return str(kept.html_url)
        return str(github.update_comment(kept.id, report.comment).html_url)
    except MissingPermission as exc:
        (refusals or Refusals(console)).add(exc)
        return None
    except CannotPublish as exc:
        (refusals or Refusals(console)).failed("PR comment", exc)
        return None


def _is_stale(github: Any, console: Console, target: GateTarget, number: int) -> bool:
    """True when the PR's head has moved past this run's commit (GET .../pulls/{number})."""
    current = str(github.pull_head_sha(number))
    if current == target.head_sha:
        return False
    console.info(
        f"llm-gate: PR #{number} has moved on to {escape_plain(current[:12])}: its comment is "
        f"left to that commit's run; the status of {target.head_sha[:12]} is set all the same"
    )
    return True


def _delete_duplicates(github: Any) -> None:
    """Delete the newer marker comments the last find skipped (leftovers of an earlier race;
    a run racing with this one may delete one first, hence the 404 is ignored)."""
    for comment_id in github.duplicate_comment_ids:
        with contextlib.suppress(CannotPublish):
            github.delete_comment(comment_id)


# --------------------------------------------------------------------------- mode: publish


def run_publish(
    settings: Settings,
    console: Console,
    *,
    github_factory: Callable[[Settings], Any] | None = None,
) -> int:
    """`mode: publish`: post the comment and status of a pull_request run's results artifact.

    It runs on `workflow_run` with a write token and never checks out or runs the pull
    request's code. The artifact came from that run, which may have run code the pull request
    controls: it is checked strictly (gate/artifact.py), must be for the commit GitHub says the
    run evaluated, and its comment goes up only while that commit is the PR's head.
    """
    from gate.events import parse_workflow_run

    if settings.github_event_name != "workflow_run":
        raise UnsupportedEvent(
            "input `mode`: 'publish' runs `on: workflow_run` and posts the results artifact of "
            f"a pull_request run, not on '{settings.github_event_name}'; no status was posted"
        )
    source = parse_workflow_run(read_event(settings))
    if source.event != "pull_request":
        raise UnsupportedEvent(
            f"the workflow run was triggered by '{source.event}': `mode: publish` posts the "
            "results of pull_request runs; no status was posted"
        )
    github = _github(settings, github_factory, console)
    if github is None:
        raise ConfigError(
            "input `github-token`: `mode: publish` needs a token with `pull-requests: write` "
            "and `statuses: write` to post the results"
        )
    refusals = Refusals(console, summary_path=settings.github_step_summary)
    status = StatusReporter(
        github, console, source.head_sha, settings, refusals, target_url=source.run_url
    )
    try:
        return _post_artifact(settings, console, github, source, status, refusals)
    except BaseException:
        status.post("error", "llm-gate crashed before it could post the results; see the log")
        raise


def _post_artifact(
    settings: Settings,
    console: Console,
    github: Any,
    source: WorkflowRunSource,
    status: StatusReporter,
    refusals: Refusals,
) -> int:
    """Check the artifact, then post its comment and status; returns the exit code."""
    from dataclasses import replace

    from gate.artifact import ArtifactError, read_relayed_run
    from gate.events import GateTarget
    from gate.render import render_relayed_comment

    try:
        manifest = _read_manifest(settings, source)
        shown = f"{settings.results_dir or settings.results_path}/llm-gate-publish.json"
        run = read_relayed_run(manifest, shown)
        # The comment is rebuilt from the artifact's data; the config path and the run's URL
        # are this run's own, never the artifact's.
        info = replace(run.info, config_path=manifest.config, run_url=source.run_url)
        rebuilt = render_relayed_comment(
            run.comparison,
            run.changes,
            run.stats,
            info,
            head_sha=source.head_sha,
            fork=source.fork,
            error=run.error,
            fork_repo=run.fork_repo,
        )
        if rebuilt.verdict.value != manifest.verdict:
            raise ArtifactError(
                f"{shown}: its verdict '{manifest.verdict}' is not what its results give "
                f"('{rebuilt.verdict.value}'); refusing to post them"
            )
    except GateError as exc:
        console.error(str(exc))
        status.post("error", f"Not published: {escape_plain(str(exc))}")
        write_outputs(settings.github_output, {"verdict": Verdict.ERROR.value})
        refusals.report()
        return 1
    verdict = rebuilt.verdict
    headline = rebuilt.headline
    state, description = status_for_verdict(verdict, headline, settings.fail_on)
    warning = None
    if source.fork and state == "success":
        warning = _untrusted_fork_change(github, manifest.pr_number)
        if warning is not None:
            state, description = "error", f"Not trusted: {warning}"
            rebuilt = render_relayed_comment(
                run.comparison,
                run.changes,
                run.stats,
                info,
                head_sha=source.head_sha,
                fork=source.fork,
                error=run.error,
                fork_repo=run.fork_repo,
                warning=warning,
            )
    report = replace(
        rebuilt, regressions=manifest.regressions, regressed_cases=manifest.regressed_cases
    )
    target = GateTarget(
        event="workflow_run",
        head_sha=source.head_sha,
        base="",
        base_is_branch=False,
        base_label="",
        head_label=source.head_sha,
        status=True,
        pr_number=manifest.pr_number,
        fork=source.fork,
        head_repo=source.head_repo,
    )
    comment_url = ""
    if settings.comment == "update":
        posting = settings.model_copy(update={"config": manifest.config})
        comment_url = _post_comment(report, posting, console, github, target, refusals) or ""
    status.post(state, description)
    folder = settings.results_path
    write_outputs(
        settings.github_output,
        {
            "verdict": verdict.value,
            "report-path": _existing(settings, folder / "llm-gate-report.md"),
            "results-path": _existing(settings, folder / "llm-gate-results.json"),
            "comment-url": comment_url,
            "regressions": str(manifest.regressions),
            "regressed-cases": str(manifest.regressed_cases),
        },
    )
    refusals.report()
    console.info(
        f"llm-gate: posted the results of PR #{manifest.pr_number} at {source.head_sha[:12]}: "
        f"{state}"
    )
    return exit_code(verdict, settings.fail_on)


def _read_manifest(settings: Settings, source: WorkflowRunSource) -> PublishManifest:
    """The artifact's manifest, checked and tied to the run's commit and pull request."""
    from gate.artifact import MANIFEST_NAME, MAX_MANIFEST_BYTES, ArtifactError, parse_manifest

    path = settings.results_path / MANIFEST_NAME
    shown = f"{settings.results_dir or path.parent}/{MANIFEST_NAME}"
    if path.is_symlink() or not path.is_file():
        where = f" (see {source.run_url})" if source.run_url else ""
        raise ArtifactError(
            f"{shown}: no llm-gate results: the pull_request run did not upload them, or "
            f"`results-dir` is not where the artifact was downloaded{where}; re-run that run"
        )
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"{shown}: larger than llm-gate writes; refusing to read it")
    manifest = parse_manifest(path.read_bytes(), shown)
    if manifest.head_sha != source.head_sha:
        raise ArtifactError(
            f"{shown}: the results are for commit {manifest.head_sha[:12]}, not "
            f"{source.head_sha[:12]}, which the workflow run evaluated; refusing to post them"
        )
    if source.pr_numbers and manifest.pr_number not in source.pr_numbers:
        raise ArtifactError(
            f"{shown}: the results name PR #{manifest.pr_number}, which the workflow run is not "
            "for; refusing to post them"
        )
    return manifest


def _untrusted_fork_change(github: Any, number: int) -> str | None:
    """Why a pass that a fork's own run reports cannot be trusted, if it cannot.

    The fork's run used the fork's copy of the workflow: a pull request that changes anything
    under `.github/` could have written any results. (A pull request of this repository's own
    branches needs write access, with which its author could set the status directly.)
    """
    try:
        files = github.list_pr_files(number)
    except CannotPublish:
        return "could not list the fork PR's files to check its workflow; evaluate it here"
    if len(files) >= 3000:
        return "the fork PR changes 3,000+ files, too many to check its workflow"
    for _status, path, previous in files:
        if any(p and p.startswith(".github/") for p in (path, previous)):
            return "the fork PR changes .github/, so its own run's results prove nothing"
    return None


def _existing(settings: Settings, path: Path) -> str:
    return settings.output_path(path) if path.is_file() and not path.is_symlink() else ""
