"""The image on a real Docker engine: the engine (started here when none runs), the stand-in
base, one cold build, and `docker run` exactly as actions/runner runs a `runs.using: docker`
action (src/Runner.Worker/Handlers/ContainerActionHandler.cs). See README.md beside this file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.end_to_end.conftest import (
    API_KEY,
    GITHUB_TOKEN,
    PR_NUMBER,
    REPOSITORY,
    PullRequestRepo,
    git,
    new_pull_request_repo,
)
from tests.fakes.events import pull_request_event
from tests.fakes.github_server import FakeGitHub
from tests.fakes.runner import read_outputs

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASE_SCRIPT = HERE / "stand_in_base.sh"
IMAGE = "llm-gate:image-test"
RUNNER_UID = 1001  # the hosted runner's user, who owns the checkout
FIGURES: list[tuple[str, str, str, bool]] = []  # (figure, measured, goal, met), printed at the end


def record(figure: str, measured: str, goal: str, met: bool) -> None:
    FIGURES.append((figure, measured, goal, met))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("the image, measured on this machine and the stand-in base")
    for figure, measured, goal, met in FIGURES:
        terminalreporter.line(
            f"{figure:<44} {measured:>10}   goal {goal:<8} {'met' if met else 'MISSED'}"
        )


def docker(*args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _git_trusts_the_runners_checkout() -> Iterator[None]:
    """This test runs git as root on checkouts it gives to the runner's user, which git refuses
    as "dubious ownership" unless told the directory is safe."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_COUNT", "1")
        patch.setenv("GIT_CONFIG_KEY_0", "safe.directory")
        patch.setenv("GIT_CONFIG_VALUE_0", "*")
        yield


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A Docker engine: the running one, else dockerd started here and stopped by its PID."""
    if shutil.which("docker") is None:
        pytest.fail("docker is not installed: apt-get install docker.io")
    if docker("info", check=False).returncode == 0:
        yield
        return
    state = tmp_path_factory.mktemp("dockerd")
    pidfile = state / "dockerd.pid"
    with (state / "dockerd.log").open("w") as log:
        daemon = subprocess.Popen(
            ["dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
             f"--pidfile={pidfile}"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while docker("info", check=False).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dockerd did not start: {(state / 'dockerd.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)


@pytest.fixture(scope="session")
def base_image(engine: None) -> str:
    """The stand-in base, tagged by its recipe's hash: built once per machine and recipe; or,
    where a registry is reachable (the release workflow), the image `LLM_GATE_BASE_IMAGE`
    names, pulled beforehand."""
    if given := os.environ.get("LLM_GATE_BASE_IMAGE"):
        return given
    tag = "llm-gate-stand-in-base:" + hashlib.sha256(BASE_SCRIPT.read_bytes()).hexdigest()[:12]
    done = subprocess.run(["bash", str(BASE_SCRIPT), tag], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return tag


def _size(image: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout)


def build(context: Path, base: str, *extra: str, tag: str = IMAGE) -> tuple[float, str]:
    """`docker build` of `context` on `base` (the legacy builder: this engine has no BuildKit);
    returns the seconds it took and its log."""
    started = time.monotonic()
    done = docker(
        "build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", *extra,
        "-t", tag, str(context), check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return elapsed, done.stdout + done.stderr


def _context(tmp: Path) -> Path:
    """The build context a clone has: the tracked files (and the ones this change adds)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return tmp


@dataclass(frozen=True)
class Built:
    image: str
    base: str
    context: Path
    build_log: str


@pytest.fixture(scope="session")
def image(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The real Dockerfile, built cold (no layer cache) on the stand-in base."""
    context = _context(tmp_path_factory.mktemp("context"))
    elapsed, log = build(context, base_image, "--no-cache")
    record("cold build", f"{elapsed:.0f} s", "≤ 90 s", elapsed <= 90)
    added = (_size(IMAGE) - _size(base_image)) / 1e6
    record("size the image adds over its base", f"{added:.0f} MB", "≤ 150 MB", added <= 150)
    return Built(IMAGE, base_image, context, log)


# --------------------------------------------------------------------------- the runner's run


@dataclass
class Runner:
    """One job's directories on the host, laid out as actions/runner lays them out: the
    workspace under `_work/<repo>/<repo>`, the temp directory `_work/_temp` with the home,
    workflow (event) and file-command directories the container gets mounted."""

    work: Path
    repo: PullRequestRepo
    mount_runner_temp: bool = True  # runner 2.331 and later; older ones pass the path only
    env: dict[str, str] = field(default_factory=dict)

    @property
    def temp(self) -> Path:
        return self.work / "_temp"

    @property
    def workspace(self) -> Path:
        return self.repo.root


@dataclass(frozen=True)
class ContainerRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    seconds: float


def checkout(work: Path, files: dict[str, str] | None = None) -> Runner:
    """A runner job whose workspace is a fresh repository, as actions/checkout leaves it."""
    root = work / "support-app" / "support-app"
    root.parent.mkdir(parents=True)
    repo = new_pull_request_repo(root, files)
    return Runner(work, repo)


def chown_tree(path: Path, uid: int) -> None:
    for entry in [path, *path.rglob("*")]:
        os.chown(entry, uid, uid, follow_symlinks=False)


def root_owned(path: Path) -> list[str]:
    return [str(p.relative_to(path)) for p in [path, *path.rglob("*")] if p.lstat().st_uid == 0]


def run_container(
    runner: Runner,
    github: FakeGitHub,
    openai_url: str,
    *,
    event: dict[str, Any] | None = None,
    args: tuple[str, ...] = (),
    **inputs: str,
) -> ContainerRun:
    """`docker run` with the flags, mounts and `-e NAME` variables actions/runner passes; the
    fake servers on 127.0.0.1 are reached through `--network host` (the runner uses a network
    of its own, which cannot reach a server in this test's process)."""
    repo = runner.repo
    temp = runner.temp
    home, workflow, commands = (
        temp / "_github_home",
        temp / "_github_workflow",
        temp / "_runner_file_commands",
    )
    for folder in (home, workflow, commands):
        folder.mkdir(parents=True, exist_ok=True)
    if event is None:
        event = pull_request_event(
            number=PR_NUMBER, base_sha=repo.base_sha, head_sha=repo.head_sha, repository=REPOSITORY
        )
    (workflow / "event.json").write_text(json.dumps(event), encoding="utf-8")
    stamp = f"{time.monotonic_ns()}"
    output, summary = commands / f"set_output_{stamp}", commands / f"step_summary_{stamp}"
    output.touch()
    summary.touch()
    if PR_NUMBER not in github._pulls:
        github.add_pull(PR_NUMBER, head_sha=repo.head_sha, base_sha=repo.base_sha)
    else:
        github.push_to_pull(PR_NUMBER, repo.head_sha)
    chown_tree(runner.work, RUNNER_UID)  # the runner's user owns its work directory

    env = {
        "HOME": "/github/home",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "1234",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_OUTPUT": f"/github/file_commands/{output.name}",
        "GITHUB_STEP_SUMMARY": f"/github/file_commands/{summary.name}",
        "GITHUB_SHA": git(repo.root, "rev-parse", "HEAD"),
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": "/github/runner_temp" if runner.mount_runner_temp else str(temp),
        "RUNNER_WORKSPACE": str(runner.workspace.parent),
        "INPUT_GITHUB-TOKEN": GITHUB_TOKEN,
        "INPUT_CONFIG": "llm-gate.yml",
        "INPUT_FAIL-ON": "regression",
        "INPUT_COMMENT": "update",
        "INPUT_CONCURRENCY": "8",
        "INPUT_CACHE-DIR": ".llm-gate/cache",
        "INPUT_MAX-COST-USD": "",
        "INPUT_RESULTS-DIR": "",
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": openai_url,
        **runner.env,
        **{f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()},
    }
    mounts = [
        ("/var/run/docker.sock", "/var/run/docker.sock"),
        (str(home), "/github/home"),
        (str(workflow), "/github/workflow"),
        (str(commands), "/github/file_commands"),
        (str(runner.workspace), "/github/workspace"),
    ]
    if runner.mount_runner_temp:
        mounts.append((str(temp), "/github/runner_temp"))
    command = ["docker", "run", "--rm", "--network", "host", "--workdir", "/github/workspace"]
    for name in env:
        command += ["-e", name]
    for host, container in mounts:
        command += ["-v", f"{host}:{container}"]
    command += [IMAGE, *args]
    started = time.monotonic()
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    seconds = time.monotonic() - started
    return ContainerRun(
        done.returncode,
        done.stdout,
        done.stderr,
        read_outputs(output.read_text(encoding="utf-8")),
        summary.read_text(encoding="utf-8"),
        seconds,
    )
