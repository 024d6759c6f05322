"""A report's effects: the sticky comment, the commit status, outputs, summary, exit code.

`mode: gate` (gate/action.py) and `mode: publish` (gate/publish.py) apply a report through
these; GitHub is reached only through the client `github_client` builds (gate/github.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gate.errors import (
    CannotPublish,
    MissingPermission,
)
from gate.escape import escape_plain
from gate.evidence import (
    JUNIT_NAME,
    REPORT_NAME,
    RESULTS_NAME,
    atomic_write,
    results_json,
)
from gate.models import Report, Verdict
from gate.settings import Settings
from gate.workflow import Console, append_summary, write_outputs

if TYPE_CHECKING:
    from gate.events import GateTarget
    from gate.pipeline import Outcome

# What only the action needs (events, artifacts, ownership) and what only the report needs
# (gate.report, with jinja2 and tabulate) is imported where it is used: `llm-gate eval` starts
# its calls without them, and a cold run imports the report's on a thread meanwhile.


def github_client(
    settings: Settings, factory: Callable[[Settings], Any] | None, console: Console
) -> Any:
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
        comment_url = post_comment(report, settings, console, github, target, refusals) or ""
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


def post_comment(
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
    from gate.report.comment import comment_marker

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
