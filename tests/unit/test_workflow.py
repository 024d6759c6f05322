"""Unit tests of gate.workflow: annotations, stop-commands, step outputs and the job summary,
read back the way the Actions runner reads them."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gate.workflow import SUMMARY_LIMIT_BYTES, Console, append_summary, write_outputs
from tests.fakes.runner import read_outputs, workflow_commands
from tests.unit.test_escape import hostile_text


def _console(*, actions: bool = True) -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(actions=actions, out=out, err=err), out, err


@settings(max_examples=200, deadline=None)
@given(hostile_text, hostile_text, hostile_text)
def test_an_annotation_is_one_command_whatever_its_text(
    message: str, file: str, title: str
) -> None:
    """File name, title and message are escaped: the runner sees exactly one annotation with
    exactly that file, title and message, and nothing else."""
    console, out, _ = _console()
    console.warning(message, file=file, line=3, end_line=5, title=title)
    commands = workflow_commands(out.getvalue())
    assert len(commands) == 1
    note = commands[0]
    assert note.name == "warning" and note.data == message
    assert note.properties.get("line") == "3" and note.properties.get("endLine") == "5"
    if file:
        assert note.properties["file"] == file
    if title:
        assert note.properties["title"] == title


def test_untrusted_text_is_between_stop_commands_markers() -> None:
    """Inside untrusted() the runner ignores commands; the token is random per block."""
    console, out, _ = _console()
    with console.untrusted():
        console.info("::add-mask::x\n::error::boom\n  ::set-output name=a::b\n##[add-mask]y")
    console.notice("after", file="a.md", line=1)
    commands = workflow_commands(out.getvalue())
    assert [(c.name, c.data) for c in commands] == [("notice", "after")]
    tokens = re.findall(r"^::stop-commands::(\w+)$", out.getvalue(), re.M)
    with console.untrusted():
        pass
    assert len(set(re.findall(r"^::stop-commands::(\w+)$", out.getvalue(), re.M))) == 2
    assert len(tokens[0]) == 32


def test_locally_messages_are_plain_inert_lines() -> None:
    """Outside Actions a warning is one plain line on stderr, its file and line in front."""
    console, out, err = _console(actions=False)
    console.warning("bad\n::error::x \x1b[31m", file="p.md", line=2)
    assert out.getvalue() == ""
    assert err.getvalue() == "warning: p.md:2: bad⏎::error::x [31m\n"
    assert workflow_commands(err.getvalue()) == []


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z-]{0,12}", fullmatch=True), hostile_text))
def test_outputs_read_back_exactly(values: dict[str, str]) -> None:
    """Every output, multi-line or hostile, reads back as written through the runner's
    `name<<delimiter` syntax; a value can never end its block early."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "output"
        write_outputs(str(path), values)
        raw = path.read_bytes().decode("utf-8")  # no newline translation, as the runner
    assert read_outputs(raw) == {k: v for k, v in values.items()}
    delimiters = re.findall(r"^[\w-]+<<(ghadelimiter_[0-9a-f]{32})$", raw, re.M)
    assert len(delimiters) == len(values) == len(set(delimiters))


def test_an_output_name_must_be_valid() -> None:
    """A name the runner cannot take is a bug, not a silent bad file."""
    try:
        write_outputs("/dev/null", {"bad name\nx": "v"})
    except ValueError as exc:
        assert "not a valid step output name" in str(exc)
    else:
        raise AssertionError("write_outputs accepted an invalid name")


def test_summary_never_exceeds_one_mebibyte(tmp_path: Path) -> None:
    """Appending keeps the step summary within 1 MiB, cutting whole characters only."""
    path = tmp_path / "summary.md"
    path.write_text("x" * 1000, encoding="utf-8")
    append_summary(str(path), "é" * SUMMARY_LIMIT_BYTES)
    data = path.read_bytes()
    assert len(data) < SUMMARY_LIMIT_BYTES
    data.decode("utf-8")  # no character cut in half
