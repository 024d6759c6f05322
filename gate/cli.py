"""The `llm-gate` command: `run` (what the action runs), `eval` (local), `check` (config).

Every action input is also an option of the same name, so a local run behaves like the action.
Heavy modules (numpy, PyGithub, httpx) are imported inside the commands that use them,
so `llm-gate --version` and `llm-gate check` start fast.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from gate import __version__
from gate.errors import GateError
from gate.escape import escape_plain
from gate.inputs import ACTION_INPUTS

INPUT_HELP: dict[str, str] = {
    "github-token": "token for the comment and status (default: GITHUB_TOKEN)",
    "config": "path of the config file (default: llm-gate.yml)",
    "suites": "comma-separated subset of suites to run",
    "base-ref": "compare against this ref instead of the PR's base commit",
    "mode": "gate (default) | publish (post a results artifact on workflow_run)",
    "fail-on": "regression (default) | inconclusive | never",
    "status-context": "commit status context (default: llm-gate)",
    "comment": "update (default) | off",
    "shard": "i/n (arrives in a later release)",
    "concurrency": "model requests in flight (default: 16)",
    "cache-dir": "response cache directory (default: .llm-gate/cache)",
    "max-cost-usd": "hard budget for one run, in USD",
    "results-dir": "directory of the report and results (mode publish: the artifact to post)",
    "allow-pull-request-target": "true: evaluate on pull_request_target (write token, secrets)",
}


# Inputs that only mean something to the action (posting, events, sharding): `eval` posts
# nothing and reads no event, so it does not offer them.
NOT_LOCAL = (
    "github-token",
    "mode",
    "status-context",
    "comment",
    "shard",
    "allow-pull-request-target",
)
TERMINAL_CASES = 10  # changed cases per suite in the terminal's table (gate.report.tables)
INPUT_HELP_LOCAL = {
    "results-dir": "write the full report, the JSON results and an HTML report side by side here",
}


def _add_inputs(parser: argparse.ArgumentParser, skip: Sequence[str] = ()) -> None:
    for name in ACTION_INPUTS:
        if name in skip:
            continue
        shown = INPUT_HELP_LOCAL.get(name, INPUT_HELP[name]) if skip else INPUT_HELP[name]
        parser.add_argument(f"--{name}", dest=ACTION_INPUTS[name], help=shown)
    parser.add_argument(
        "--replay",
        action="store_true",
        default=None,
        help="answer every model request from the cache; a miss is an error (offline runs)",
    )
    parser.add_argument("--debug", action="store_true", default=None, help="show tracebacks")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-gate",
        description=(
            "Evaluate the base and head side of a change to an LLM app and gate regressions."
        ),
    )
    parser.add_argument("--version", action="version", version=f"llm-gate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="what the GitHub Action runs (reads the runner's environment)"
    )
    _add_inputs(run)

    ev = commands.add_parser(
        "eval", help="evaluate the working tree against a base ref locally and print the table"
    )
    ev.add_argument(
        "--base",
        dest="base_ref",
        help="the ref to compare against (default: the merge base with the branch's upstream "
        "or the default branch)",
    )
    _add_inputs(ev, skip=("base-ref", *NOT_LOCAL))
    ev.add_argument("--report", help="also write the full report (markdown) to this file")
    ev.add_argument("--junit", help="also write JUnit XML (a test case per case and metric)")

    cal = commands.add_parser(
        "calibrate",
        help="evaluate the working tree twice and recommend tolerances from each metric's noise",
    )
    for name in ("config", "suites", "concurrency", "cache-dir", "max-cost-usd"):
        cal.add_argument(f"--{name}", dest=ACTION_INPUTS[name], help=INPUT_HELP[name])
    cal.add_argument(
        "--repeats", type=int, help="samples per case and side (default: each suite's `repeats`)"
    )
    cal.add_argument("--replay", action="store_true", default=None, help="answer from the cache")
    cal.add_argument("--debug", action="store_true", default=None, help="show tracebacks")

    check = commands.add_parser(
        "check", help="validate the config and show what each suite watches"
    )
    check.add_argument("--config", dest="config", help=INPUT_HELP["config"])
    check.add_argument("--debug", action="store_true", default=None, help="show tracebacks")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The comparison does no linear algebra: OpenBLAS's thread pool would only spin on the
    # CPUs the event loop and the runner need. Set before numpy is imported; a user's wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # A run keeps hundreds of thousands of objects alive (requests, rows) and makes few
    # reference cycles; with the default thresholds the collector walks them all again and
    # again (a sixth of a 20,000-row run). Collect rarely, as mypy does, while main runs.
    args = build_parser().parse_args(argv)
    local = ("command", "report", "repeats", "junit")
    overrides = {k: v for k, v in vars(args).items() if k not in local}
    debug = bool(overrides.get("debug"))
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        from gate.settings import load_settings

        settings = load_settings(**overrides)
        debug = settings.debug
        _quiet_library_logs(debug)
        if args.command == "run":
            return _run(settings)
        if args.command == "eval":
            return _eval(settings, args.report, args.junit)
        if args.command == "calibrate":
            return _calibrate(settings, args.repeats)
        return _check(settings)
    except GateError as exc:
        # one line, no control sequence or workflow command, whatever text the error quotes
        print(escape_plain(f"llm-gate: error: {exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("llm-gate: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            escape_plain(
                f"llm-gate: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback)"
            ),
            file=sys.stderr,
        )
        return 1
    finally:
        gc.set_threshold(*thresholds)


def entry(argv: Sequence[str] | None = None) -> NoReturn:
    """The `llm-gate` console script, `python -m gate` and the action's entrypoint: `main`,
    then leave without the interpreter's teardown.

    By the time `main` returns, every file the run wrote is closed and every thread it
    started has finished or is a daemon; what the teardown would add is freeing the modules
    one by one (numpy's and the HTTP stack's included), 0.1–0.2 s of a run, for nothing.
    Under coverage, a profiler or a debugger the normal exit stays, so they can write out
    what they collected.
    """
    code = main(argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`llm-gate eval | head`)
        code = code or 1
    if "coverage" in sys.modules or sys.getprofile() or sys.gettrace():
        sys.exit(code)
    os._exit(code)


def _quiet_library_logs(debug: bool) -> None:
    """PyGithub and stamina log each retry to stderr; the gate reports outcomes itself."""
    import logging

    level = logging.DEBUG if debug else logging.ERROR
    # `import github` (done later, by the commands that post) sets the "github" logger back to
    # INFO with a stderr handler; the levels of its modules' own loggers survive that import.
    for name in ("github", "github.GithubRetry", "github.Requester", "stamina", "urllib3"):
        logging.getLogger(name).setLevel(level)


def _run(settings: Any) -> int:
    from gate.action import run_action
    from gate.workflow import Console

    return run_action(settings, Console(actions=settings.github_actions))


def _eval(settings: Any, report_file: str | None, junit_file: str | None) -> int:
    from pathlib import Path

    from gate.effects import exit_code
    from gate.evidence import write_local_results
    from gate.git import Git
    from gate.models import RunInfo
    from gate.pipeline import evaluate_change
    from gate.workflow import Console

    settings.check_supported()
    # In a workflow step, model text goes between ::stop-commands:: markers like `run`'s does.
    console = Console(actions=settings.github_actions)
    git = Git.containing(Path.cwd())  # a local run evaluates the checkout it is started in
    base = settings.base_ref
    if base is None:
        ref, why = git.local_base()
        base = git.merge_base(ref, "HEAD")
        console.info(
            escape_plain(
                f"llm-gate: comparing with the merge base of HEAD and {ref} ({why}), "
                f"{base[:12]}; pass --base to choose another"
            )
        )
    info = RunInfo(None, settings.config, None, base, "working tree")
    outcome = evaluate_change(settings, console, git, base, info)
    if (
        outcome.comparison is not None
        and outcome.changes is not None
        and outcome.results is not None
    ):
        from gate.report.terminal import render_terminal  # after the calls: see gate.pipeline

        with console.untrusted():
            console.info(
                render_terminal(outcome.comparison, outcome.changes, outcome.results.stats)
            )
    console.info(f"llm-gate: {outcome.report.headline}")
    written = write_local_results(
        outcome,
        results_dir=Path(settings.results_dir) if settings.results_dir else None,
        report=Path(report_file) if report_file else None,
        junit=Path(junit_file) if junit_file else None,
    )
    for what, path in written:
        console.info(escape_plain(f"llm-gate: {what}: {path}"))
    if settings.results_dir is None and outcome.comparison is not None:
        moved = max(
            (len({r.case_id for r in s.rows}) for s in outcome.comparison.suites), default=0
        )
        if moved > TERMINAL_CASES:
            console.info(
                f"llm-gate: the terminal shows {TERMINAL_CASES} changed cases of a suite; "
                "--results-dir DIR writes every case side by side (HTML), the report and the JSON"
            )
    return exit_code(outcome.report.verdict, settings.fail_on)


def _calibrate(settings: Any, repeats: int | None) -> int:
    from pathlib import Path

    from gate.calibrate import format_calibration
    from gate.git import Git
    from gate.pipeline import calibrate_working_tree
    from gate.workflow import Console

    if repeats is not None and not 1 <= repeats <= 50:
        raise GateError("--repeats: expected a whole number from 1 to 50")
    console = Console(actions=settings.github_actions)
    git = Git.containing(Path.cwd())
    calibration = calibrate_working_tree(settings, console, git, repeats)
    with console.untrusted():  # suite and metric names come from the config
        console.info(format_calibration(calibration))
    return 0


def _check(settings: Any) -> int:
    from gate.detect import watched_files
    from gate.git import Git
    from gate.pipeline import check_working_tree

    # Only the working tree is read (no git command runs): a config can be checked anywhere.
    config, plan = check_working_tree(settings, Git(settings.workspace))
    cases = {s.name: len({run.case_id for run in s.runs}) for s in plan.suites}
    print(f"{settings.config}: valid, {len(config.suites)} suite(s)")
    for name, watched in watched_files(config).items():
        print()
        print(escape_plain(f"{name}: {cases.get(name, 0)} case(s), every template renders"))
        for category, pattern in watched:  # paths and globs come from the config: one line each
            print(escape_plain(f"  {category:<14} {pattern}"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
