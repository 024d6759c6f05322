"""The Actions runner's file and stdout protocols: workflow commands, outputs, job summary.

https://docs.github.com/actions/reference/workflow-commands-for-github-actions
Locally (not under Actions) the same calls print plain lines instead of workflow commands.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from gate.escape import escape_plain

SUMMARY_LIMIT_BYTES = 1024 * 1024  # GitHub rejects a step summary above 1 MiB
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


class Console:
    """Where the gate talks to people: the Actions log or a terminal."""

    def __init__(self, *, actions: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.actions = actions
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def mask(self, value: str) -> None:
        """Ask the runner to redact a secret; only meaningful under Actions."""
        if not self.actions:
            return
        for line in value.splitlines() or [value]:
            if line.strip():
                print(f"::add-mask::{line}", file=self.out, flush=True)

    def info(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def _annotate(
        self,
        level: str,
        message: str,
        file: str | None,
        line: int | None,
        end_line: int | None = None,
        title: str | None = None,
    ) -> None:
        # The message and properties are escaped as actions/toolkit's command.ts does, so text
        # in them (a file name, a case id) stays the data of this one command.
        if self.actions:
            props = []
            if file:
                props.append(f"file={_escape_property(file)}")
            if line:
                props.append(f"line={line}")
            if line and end_line and end_line > line:
                props.append(f"endLine={end_line}")
            if title:
                props.append(f"title={_escape_property(title)}")
            head = f"::{level} {','.join(props)}::" if props else f"::{level}::"
            print(head + _escape_data(message), file=self.out, flush=True)
        else:
            where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
            text = escape_plain(f"{level}: {where}{message}")
            print(text, file=self.err, flush=True)

    def warning(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        end_line: int | None = None,
        title: str | None = None,
    ) -> None:
        self._annotate("warning", message, file, line, end_line, title)

    def notice(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        end_line: int | None = None,
        title: str | None = None,
    ) -> None:
        self._annotate("notice", message, file, line, end_line, title)

    def error(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self._annotate("error", message, file, line)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        if self.actions:
            print(f"::group::{title}", file=self.out, flush=True)
        try:
            yield
        finally:
            if self.actions:
                print("::endgroup::", file=self.out, flush=True)

    @contextmanager
    def untrusted(self) -> Iterator[None]:
        """Print text that came from a model or the PR with workflow commands switched off."""
        token = secrets.token_hex(16)
        if self.actions:
            print(f"::stop-commands::{token}", file=self.out, flush=True)
        try:
            yield
        finally:
            if self.actions:
                print(f"::{token}::", file=self.out, flush=True)


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    """Append step outputs to GITHUB_OUTPUT; every value uses the multiline delimiter syntax."""
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            if not _OUTPUT_NAME.fullmatch(name):
                raise ValueError(f"output name {name!r} is not a valid step output name")
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            while delimiter in value:  # never true by chance; the runner would cut the value
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(path: str | None, markdown: str) -> None:
    """Append to GITHUB_STEP_SUMMARY, never beyond GitHub's 1 MiB limit."""
    if not path:
        return
    target = Path(path)
    used = target.stat().st_size if target.exists() else 0
    room = SUMMARY_LIMIT_BYTES - used - 1
    data = markdown.encode()
    if len(data) > room:
        data = data[: max(room, 0)]
        markdown = data.decode(errors="ignore")
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(markdown)
