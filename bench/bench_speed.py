"""How fast is the gate? The full `llm-gate eval` command against a local model server.

A generated git repository holds a suite whose prompt changes between `main` and the checked
out branch, so both sides run. An OpenAI-compatible server (`tests/fakes/openai_server.py`)
answers on 127.0.0.1 after 50 ms, in a separate process started here. Every figure is the
wall time of `llm-gate eval` as a user runs it (a subprocess), next to its goal:

- cold: 1,000 cases (2,000 requests), concurrency 32, empty cache: ≤ 1.3 × the ideal
  2,000 × 0.05 s / 32 = 3.1 s;
- warm: the same run again: ≤ 1.5 s and no request at the server;
- overhead: 10,000 cases × 3 metrics (20,000 case runs) with every response cached: ≤ 1.5 s
  beyond start-up (`llm-gate check` in the same repository, of the same config with a
  one-case dataset: the interpreter, the settings and the config, measured separately);
- memory: peak RSS of that run (and of the cold run that filled its cache): ≤ 300 MB;
- rate limit: a server that answers 429 above 10 requests in flight, 500 cases (1,000
  requests), concurrency 32: finishes, with ≤ 10 % of the requests retried.

If a peer eval tool (promptfoo, from npm) can be installed, it runs the same 1,000 cases
against the same server, cold and warm, and the ratio is printed; when it cannot be installed
or run, the row says why and the bench goes on.

Run: `.venv/bin/python bench/bench_speed.py [--runs 3] [--no-peer]`. Exits 1 when a goal is
missed. Nothing here leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LLM_GATE = BIN / "llm-gate"
LATENCY_S = 0.05
CONCURRENCY = 32
MODEL = "gpt-4o-mini"
IDEAL_S = 2_000 * LATENCY_S / CONCURRENCY


# --------------------------------------------------------------------------- the model server


def serve(latency_s: float, max_in_flight: int | None) -> None:
    """The server process: prints its URL, then answers `stats`/`reset` lines on stdin."""
    sys.path.insert(0, str(ROOT))
    from tests.fakes.openai_server import FakeOpenAI

    server = FakeOpenAI(latency_s=latency_s, max_in_flight=max_in_flight)
    with server:
        print(server.url, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                statuses: dict[str, int] = {}
                for status in list(server.statuses):
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                stats = {
                    "calls": server.calls,
                    "answered": len(server.answered),
                    "statuses": statuses,
                    "peak_in_flight": server.peak_in_flight,
                    "first_at": server.first_at,
                    "last_at": server.last_at,
                }
                print(json.dumps(stats), flush=True)
            elif command == "reset":
                server.requests.clear()
                server.answered.clear()
                server.auth_headers.clear()
                server.raw_headers.clear()
                server.statuses.clear()
                server.calls = 0
                server.peak_in_flight = 0
                server.first_at = server.last_at = None
                print("{}", flush=True)


class Server:
    """The model server in its own process (so it does not share the gate's CPU time)."""

    def __init__(self, *, latency_s: float = LATENCY_S, max_in_flight: int | None = None):
        command = [sys.executable, __file__, "--serve", str(latency_s)]
        if max_in_flight is not None:
            command += ["--max-in-flight", str(max_in_flight)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.close()
            raise RuntimeError(f"the bench server did not start: {self.url!r}")

    def _ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def stats(self) -> dict[str, Any]:
        return self._ask("stats")

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- the repository

CONFIG = """\
suites:
  bench:
    dataset: evals/cases.jsonl
    target:
      provider: openai
      model: {model}
      params: {{temperature: 0, max_tokens: 64}}
      system: prompts/system.md
      prompt: prompts/question.md.j2
    scorers:
{scorers}
"""
STARTUP_CONFIG = "llm-gate-startup.yml"
# contains: every case passes on both sides; regex: likewise; asks: the head's wording
# passes one case in fifty that the base's fails (a few rows of changed cases, as a real PR).
SCORERS = [
    '      - {type: contains, value: "{{ expected }}"}',
    '      - {type: regex, value: "\\\\d+"}',
    '      - {type: contains, name: asks, value: "{{ marker }}"}',
]


def make_repo(dest: Path, cases: int, metrics: int = 1) -> Path:
    """A repository whose `pr` branch rewords the prompt of a suite of `cases` cases."""
    dest.mkdir(parents=True)
    (dest / "evals").mkdir()
    (dest / "prompts").mkdir()
    (dest / "llm-gate.yml").write_text(
        CONFIG.format(model=MODEL, scorers="\n".join(SCORERS[:metrics])), encoding="utf-8"
    )
    with open(dest / "evals" / "cases.jsonl", "w", encoding="utf-8") as out:
        for i in range(cases):
            row = {"id": f"case-{i:05d}", "a": i, "b": i + 7, "expected": str(2 * i + 7)}
            row["hint"] = f"(the answer is {2 * i + 7})"
            row["marker"] = "Question:" if i % 50 == 0 else "what is"
            out.write(json.dumps(row) + "\n")
    # `llm-gate check` reads and renders every case: start-up is measured on a copy of the
    # config whose dataset holds one case, so it stays what every command pays first.
    (dest / STARTUP_CONFIG).write_text(
        CONFIG.format(model=MODEL, scorers="\n".join(SCORERS[:metrics])).replace(
            "evals/cases.jsonl", "evals/one.jsonl"
        ),
        encoding="utf-8",
    )
    first = (dest / "evals" / "cases.jsonl").read_text(encoding="utf-8").partition("\n")[0]
    (dest / "evals" / "one.jsonl").write_text(first + "\n", encoding="utf-8")
    (dest / "prompts" / "system.md").write_text("Answer with the number only.\n", encoding="utf-8")
    prompt = dest / "prompts" / "question.md.j2"
    prompt.write_text("Q: what is {{ a }} + {{ b }}? {{ hint }}", encoding="utf-8")
    git = ["git", "-C", str(dest)]
    env = _git_env()
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True, env=env)
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True, env=env)
    subprocess.run([*git, "switch", "-q", "-c", "pr"], check=True, env=env)
    prompt.write_text("Question: what is {{ a }} + {{ b }}? {{ hint }}", encoding="utf-8")
    subprocess.run([*git, "commit", "-q", "-am", "reword the prompt"], check=True, env=env)
    return dest


def _git_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    }


# --------------------------------------------------------------------------- running the gate


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    exit_code: int
    cpu_s: float
    stdout: str
    stderr: str
    started_at: float  # time.time(), comparable with the server's clock
    ended_at: float


def run_command(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run a command with its output in files; wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started_at = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        ended_at = time.time()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        # ru_maxrss is in KiB on Linux
        return Run(
            seconds,
            usage.ru_maxrss / 1024,
            process.returncode,
            cpu,
            out.read(),
            err.read(),
            started_at,
            ended_at,
        )


def gate_env(server_url: str) -> dict[str, str]:
    env = _git_env()
    env.update(
        {
            "OPENAI_API_KEY": "sk-bench-not-a-real-key",
            "OPENAI_BASE_URL": server_url,
            "PYTHONUTF8": "1",
            "LANG": "C.UTF-8",
        }
    )
    return env


def run_gate(repo: Path, cache: Path, server_url: str, concurrency: int = CONCURRENCY) -> Run:
    command = [
        str(LLM_GATE),
        "eval",
        "--base",
        "main",
        "--concurrency",
        str(concurrency),
        "--cache-dir",
        str(cache),
        "--fail-on",
        "never",
    ]
    result = run_command(command, repo, gate_env(server_url))
    if result.exit_code != 0:
        raise RuntimeError(
            f"llm-gate eval exited {result.exit_code}:\n{result.stdout[-2000:]}\n"
            f"{result.stderr[-2000:]}"
        )
    return result


# --------------------------------------------------------------------------- the table


@dataclass
class Row:
    name: str
    figure: str
    goal: str
    ok: bool | None  # None: no goal
    note: str = ""


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, name: str, figure: str, goal: str, ok: bool | None, note: str = "") -> None:
        self.rows.append(Row(name, figure, goal, ok, note))
        mark = {True: "ok", False: "MISS", None: ""}[ok]
        print(f"  {mark:<4} {name}: {figure} (goal {goal}) {note}", flush=True)

    def print(self) -> None:
        widths = [
            max(len(r.name) for r in self.rows),
            max(len(r.figure) for r in self.rows),
            max(len(r.goal) for r in self.rows),
        ]
        header = f"{'':4} {'measurement':<{widths[0]}}  {'figure':<{widths[1]}}  goal"
        print()
        print(header)
        print("-" * max(len(header), sum(widths) + 12))
        for r in self.rows:
            mark = {True: "ok", False: "MISS", None: ""}[r.ok]
            line = (
                f"{mark:<4} {r.name:<{widths[0]}}  {r.figure:<{widths[1]}}  {r.goal:<{widths[2]}}"
            )
            print((line + ("  " + r.note if r.note else "")).rstrip())

    @property
    def passed(self) -> bool:
        return all(r.ok is not False for r in self.rows)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --------------------------------------------------------------------------- the floor


def bare_aiohttp_seconds(url: str, requests: int = 2_000) -> float:
    """2,000 POSTs at concurrency 32 from a bare aiohttp client doing nothing else: the floor."""
    import asyncio

    import aiohttp

    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "2 + 2?"}]})

    async def main() -> float:
        limit = asyncio.Semaphore(CONCURRENCY)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one() -> None:
                async with limit, session.post(f"{url}/chat/completions", data=body) as answer:
                    await answer.read()

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(requests)))
            return time.perf_counter() - started

    return asyncio.run(main())


def bare_httpx_seconds(url: str, requests: int = 2_000) -> float:
    """The same through the shared httpx client llm-gate uses (aiohttp transport), nothing else."""
    import asyncio

    from gate.targets.openai_http import make_http_client

    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "2 + 2?"}]})

    async def main() -> float:
        limit = asyncio.Semaphore(CONCURRENCY)
        async with make_http_client(CONCURRENCY, 60.0) as client:

            async def one() -> None:
                async with limit:
                    answer = await client.post(f"{url}/chat/completions", content=body)
                    answer.json()

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(requests)))
            return time.perf_counter() - started

    return asyncio.run(main())


def floor_row(table: Table, name: str, runs: Sequence[float]) -> float:
    """A floor's row in the table; its median."""
    seconds = median(runs)
    table.add(
        name,
        f"{seconds:.2f} s = {seconds / IDEAL_S:.2f}× ideal",
        "-",
        None,
        "runs " + ", ".join(f"{f:.2f}" for f in runs),
    )
    return seconds


# --------------------------------------------------------------------------- the peer tool

PEER = "promptfoo"
PEER_VERSION = "0.121.20"  # the last release that runs on Node 20 (0.122 needs Node 22)
PEER_TIMEOUT_S = 300
PEER_CONFIG = """\
description: llm-gate bench, the same cases and server
prompts:
  - id: base
    raw: 'Q: what is {{{{a}}}} + {{{{b}}}}? {{{{hint}}}}'
  - id: head
    raw: 'Question: what is {{{{a}}}} + {{{{b}}}}? {{{{hint}}}}'
providers:
  - id: openai:chat:{model}
    config:
      apiBaseUrl: {url}
      apiKey: sk-bench-not-a-real-key
      temperature: 0
      max_tokens: 64
defaultTest:
  assert:
    - type: contains
      value: '{{{{expected}}}}'
tests: file://{tests}
"""


def peer_home() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "llm-gate-bench" / f"{PEER}-{PEER_VERSION}"


def install_peer() -> tuple[Path | None, str]:
    """promptfoo from the npm registry into ~/.cache (once); (its CLI, or None and why not)."""
    home = peer_home()
    cli = home / "node_modules" / ".bin" / PEER
    if cli.exists():
        return cli, ""
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is not installed"
    home.mkdir(parents=True, exist_ok=True)
    print(f"installing {PEER}@{PEER_VERSION} from npm into {home} (once)…", flush=True)
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", f"{PEER}@{PEER_VERSION}"],
            cwd=home,
            capture_output=True,
            text=True,
            timeout=PEER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"npm install {PEER} took over {PEER_TIMEOUT_S} s"
    if done.returncode != 0 or not cli.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"npm install {PEER} failed: {last[:120]}"
    return cli, ""


def peer_env(home: Path) -> dict[str, str]:
    env = _git_env()
    env.update(
        {
            "HOME": str(home),
            "PROMPTFOO_CONFIG_DIR": str(home / "config"),
            "PROMPTFOO_CACHE_PATH": str(home / "cache"),
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "PROMPTFOO_DISABLE_UPDATE": "1",
            "PROMPTFOO_DISABLE_SHARING": "1",
            "PROMPTFOO_SELF_HOSTED": "1",
            "OPENAI_API_KEY": "sk-bench-not-a-real-key",
            "NO_COLOR": "1",
        }
    )
    return env


def run_peer(cli: Path, work: Path, repo: Path, server: Server, runs: int) -> dict[str, Any]:
    """promptfoo on the same 1,000 cases × 2 prompts: cold (empty cache) and warm medians."""
    home = work / "peer-home"
    home.mkdir()
    tests = work / "peer-tests.jsonl"
    with open(tests, "w", encoding="utf-8") as out:
        for line in (repo / "evals" / "cases.jsonl").read_text(encoding="utf-8").splitlines():
            out.write(json.dumps({"vars": json.loads(line)}) + "\n")
    config = work / "promptfooconfig.yaml"
    config.write_text(PEER_CONFIG.format(model=MODEL, url=server.url, tests=tests))
    command = [
        str(cli), "eval", "-c", str(config), "--max-concurrency", str(CONCURRENCY),
        "--no-progress-bar", "--no-table", "--no-write",
    ]  # fmt: skip
    env = peer_env(home)
    cold: list[float] = []
    warm: list[float] = []
    requests: list[int] = []
    for _ in range(runs):
        shutil.rmtree(home / "cache", ignore_errors=True)
        server.reset()
        done = run_command(command, work, env)
        if done.exit_code not in (0, 100):  # 100: some assertions failed
            raise RuntimeError(
                f"{PEER} exited {done.exit_code}: {(done.stderr or done.stdout)[-300:]}"
            )
        sent = server.stats()["answered"]
        if sent != 2_000:
            raise RuntimeError(f"{PEER} sent {sent} requests, expected 2,000")
        cold.append(done.seconds)
        server.reset()
        again = run_command(command, work, env)
        warm.append(again.seconds)
        requests.append(server.stats()["calls"])
    return {"cold": cold, "warm": warm, "warm_requests": sum(requests)}


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--no-peer", action="store_true", help="skip the peer tool")
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--max-in-flight", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.max_in_flight)
        return 0

    started = time.perf_counter()
    table = Table()
    work = Path(tempfile.mkdtemp(prefix="llm-gate-bench-"))
    try:
        bench(args, table, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table.print()
    print(f"\nwall time {time.perf_counter() - started:.1f} s")
    return 0 if table.passed else 1


def _runs(runs: Sequence[Run]) -> str:
    return "runs " + ", ".join(f"{r.seconds:.2f}" for r in runs)


def bench(args: argparse.Namespace, table: Table, work: Path) -> None:
    print(f"work dir {work}; server latency {LATENCY_S * 1000:.0f} ms; concurrency {CONCURRENCY}")
    # This checkout is an editable install and PYTHONDONTWRITEBYTECODE may be set, so gate/ may
    # have no bytecode and every run would compile it (about 0.1 s); `pip install .` in the
    # image byte-compiles the package, so the bench measures that.
    compileall.compile_dir(ROOT / "gate", quiet=1)
    startup = [run_command([str(LLM_GATE), "--version"], work, gate_env("")) for _ in range(5)]
    startup_s = median([r.seconds for r in startup])
    table.add("start-up: `llm-gate --version`", f"{startup_s:.2f} s", "-", None, _runs(startup))

    # ---- 1,000 cases, both sides: cold and warm
    repo = make_repo(work / "repo-1000", 1_000)
    with Server() as server:
        floor_s = floor_row(
            table,
            "floor: bare aiohttp, 2,000 POSTs, concurrency 32",
            [bare_aiohttp_seconds(server.url) for _ in range(args.runs)],
        )
        floor_row(
            table,
            "floor: bare httpx client (aiohttp transport), the same",
            [bare_httpx_seconds(server.url) for _ in range(args.runs)],
        )
        cold: list[Run] = []
        warm: list[Run] = []
        warm_requests = 0
        phases: list[tuple[float, float, float]] = []  # before the first call, calls, after
        for i in range(args.runs + 2):  # ~5 s each: two more runs steady the median
            cache = work / f"cache-1000-{i}"
            server.reset()
            cold.append(run_gate(repo, cache, server.url))
            stats = server.stats()
            if stats["answered"] != 2_000:
                raise RuntimeError(f"the cold run sent {stats['answered']} requests, not 2,000")
            run = cold[-1]
            phases.append(
                (
                    stats["first_at"] - run.started_at,
                    stats["last_at"] - stats["first_at"],
                    run.ended_at - stats["last_at"],
                )
            )
            server.reset()
            warm.append(run_gate(repo, cache, server.url))
            warm_requests += server.stats()["calls"]
        cold_s = median([r.seconds for r in cold])
        table.add(
            "cold: 1,000 cases, 2,000 requests, concurrency 32",
            f"{cold_s:.2f} s = {cold_s / IDEAL_S:.2f}× ideal",
            f"≤ {1.3 * IDEAL_S:.2f} s (1.3× ideal {IDEAL_S:.2f} s)",
            cold_s <= 1.3 * IDEAL_S,
            _runs(cold),
        )
        before, calls, after = (median([p[i] for p in phases]) for i in range(3))
        table.add(
            "cold, where the time goes (medians)",
            f"{before:.2f} s + {calls:.2f} s + {after:.2f} s",
            "-",
            None,
            f"start to first request + first request to last answer (floor {floor_s:.2f} s) "
            "+ last answer to exit",
        )
        warm_s = median([r.seconds for r in warm])
        table.add(
            "warm: the same run, every response cached",
            f"{warm_s:.2f} s = {warm_s / cold_s:.2f}× cold, {warm_requests} requests",
            "≤ 1.50 s, 0 requests",
            warm_s <= 1.5 and warm_requests == 0,
            _runs(warm),
        )
        peer_row(args, table, work, repo, server, cold_s, warm_s)

    # ---- 10,000 cases × 3 metrics, every response cached: the gate's own work
    big = make_repo(work / "repo-10000", 10_000, metrics=3)
    with Server(latency_s=0.0) as instant:
        cache = work / "cache-10000"
        fill = run_gate(big, cache, instant.url, concurrency=64)
        table.add(
            "fill: 10,000 cases cold, 20,000 requests, 0 ms server",
            f"{fill.seconds:.2f} s, {20_000 / fill.seconds:,.0f} requests/s",
            "-",
            None,
            f"peak RSS {fill.max_rss_mb:.0f} MB",
        )
        instant.reset()
        # Start-up: what every command that reads the config pays (Python, pydantic-settings,
        # the config's YAML and pydantic models), before any of the gate's work on the cases.
        # Measured between the runs, so both medians see the machine at the same speed.
        overhead: list[Run] = []
        check: list[Run] = []
        for _ in range(args.runs + 2):  # ~2 s each
            startup = [str(LLM_GATE), "check", "--config", STARTUP_CONFIG]
            check.append(run_command(startup, big, gate_env("")))
            if check[-1].exit_code:
                raise RuntimeError(f"llm-gate check failed: {check[-1].stderr[-300:]}")
            overhead.append(run_gate(big, cache, instant.url))
        extra = instant.stats()["calls"]
    check_s = median([r.seconds for r in check])
    table.add("start-up: `llm-gate check`, same repo", f"{check_s:.2f} s", "-", None, _runs(check))
    overhead_s = median([r.seconds for r in overhead]) - check_s
    table.add(
        "10,000 cases × 3 metrics, cached: beyond start-up",
        f"{overhead_s:.2f} s (+ {check_s:.2f} s start-up), {extra} requests",
        "≤ 1.50 s",
        overhead_s <= 1.5 and extra == 0,
        _runs(overhead),
    )
    peak = max(r.max_rss_mb for r in [fill, *overhead])
    table.add(
        "peak memory, 10,000 cases (cold or cached)", f"{peak:.0f} MB", "≤ 300 MB", peak <= 300
    )

    # ---- a provider that allows 10 requests in flight
    limited_repo = make_repo(work / "repo-500", 500)
    with Server(max_in_flight=10) as limited:
        done = run_gate(limited_repo, work / "cache-500", limited.url)
        stats = limited.stats()
    sent = stats["answered"]
    retried = (stats["calls"] - sent) / max(sent, 1)
    table.add(
        "rate limit: 429 above 10 in flight, 500 cases, conc. 32",
        f"{done.seconds:.2f} s, {retried:.1%} of {sent:,} requests retried",
        "finishes, ≤ 10 % retried",
        sent == 1_000 and retried <= 0.10,
        f"429s: {stats['statuses'].get('429', 0)}, peak in flight {stats['peak_in_flight']}",
    )


def peer_row(
    args: argparse.Namespace,
    table: Table,
    work: Path,
    repo: Path,
    server: Server,
    cold_s: float,
    warm_s: float,
) -> None:
    name = f"peer: {PEER} {PEER_VERSION}, same cases and server"
    if args.no_peer:
        table.add(name, "skipped (--no-peer)", "-", None)
        return
    cli, why = install_peer()
    if cli is None:
        table.add(name, f"skipped: {why}", "-", None)
        return
    try:
        peer = run_peer(cli, work, repo, server, 1)  # ~20 s a run: one of each
    except (RuntimeError, OSError) as exc:
        table.add(name, f"skipped: could not run it offline ({str(exc)[:100]})", "-", None)
        return
    peer_cold, peer_warm = median(peer["cold"]), median(peer["warm"])
    table.add(
        f"{name}: cold",
        f"{peer_cold:.2f} s = {peer_cold / cold_s:.1f}× llm-gate's cold",
        "-",
        None,
        "runs " + ", ".join(f"{x:.2f}" for x in peer["cold"]),
    )
    table.add(
        f"{name}: warm",
        f"{peer_warm:.2f} s = {peer_warm / warm_s:.1f}× llm-gate's warm, "
        f"{peer['warm_requests']} requests",
        "-",
        None,
        "runs " + ", ".join(f"{x:.2f}" for x in peer["warm"]),
    )


if __name__ == "__main__":
    sys.exit(main())
