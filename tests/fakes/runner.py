"""What the GitHub Actions runner does with a step's output, for tests to read it the same way.

`workflow_commands` mirrors actions/runner's parsing of stdout and stderr
(src/Runner.Worker/ActionCommandManager.cs, src/Runner.Common/ActionCommand.cs): lines split
at CR or LF; `::name props::data` once leading whitespace is trimmed, else the legacy
`##[name props]data` anywhere in a line; after `::stop-commands::TOKEN` nothing but
`::TOKEN::` is honoured. `read_outputs` reads GITHUB_OUTPUT's `name<<delimiter` blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Commands the runner acts on (ActionCommandManager's extensions plus `stop-commands`).
RUNNER_COMMANDS = frozenset(
    {
        "set-env",
        "set-output",
        "save-state",
        "add-mask",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "debug",
        "warning",
        "error",
        "notice",
        "group",
        "endgroup",
        "echo",
        "stop-commands",
    }
)


@dataclass(frozen=True)
class Command:
    """One workflow command as the runner parses it: name, properties (unescaped), data."""

    name: str
    properties: dict[str, str]
    data: str


def _unescape(value: str, *, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for code, char in [*pairs, ("%25", "%")]:
        value = value.replace(code, char)
    return value


def workflow_commands(*logs: str) -> list[Command]:
    """The commands the Actions runner would act on in a step's stdout and stderr.

    Mirrors actions/runner: lines split at CR or LF; `::name props::data` after leading
    whitespace is trimmed, else a legacy `##[name props]data` anywhere in the line; and after
    `::stop-commands::TOKEN` nothing but `::TOKEN::` is honoured.
    """
    commands: list[Command] = []
    for log in logs:
        stop: str | None = None
        for line in re.split(r"\r\n|\r|\n", log):
            known = RUNNER_COMMANDS | ({stop.casefold()} if stop else set())
            parsed = _parse_v2(line, known) or _parse_v1(line, known)
            if parsed is None:
                continue
            if stop is not None:
                if parsed.name.casefold() == stop.casefold():
                    stop = None
                continue
            if parsed.name.casefold() == "stop-commands":
                stop = parsed.data
                continue
            commands.append(parsed)
    return commands


def _parse_v2(line: str, known: frozenset[str] | set[str]) -> Command | None:
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    name, _, props = text[2:end].partition(" ")
    if name.casefold() not in known:
        return None
    properties = {}
    for pair in filter(None, props.split(",")):
        key, _, value = pair.partition("=")
        properties[key] = _unescape(value, prop=True)
    return Command(name.casefold(), properties, _unescape(text[end + 2 :], prop=False))


def _parse_v1(line: str, known: frozenset[str] | set[str]) -> Command | None:
    start = line.find("##[")
    end = line.find("]", start) if start >= 0 else -1
    if end < 0:
        return None
    name, _, props = line[start + 3 : end].partition(" ")
    if name.casefold() not in known:
        return None
    properties = dict(p.partition("=")[::2] for p in props.split(";") if "=" in p)
    return Command(name.casefold(), properties, line[end + 1 :])


def read_outputs(text: str) -> dict[str, str]:
    """The step outputs of a GITHUB_OUTPUT file (`name=value` lines and `name<<EOF` blocks)."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index)
            outputs[name] = "\n".join(lines[index:end])
            index = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs
