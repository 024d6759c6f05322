"""What the Docker image relies on: `pip install .` ships the package, templates and script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_templates_and_entry_point(tmp_path: Path) -> None:
    """A non-editable install holds gate/templates/*.j2 and the llm-gate console script."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},  # as the image sets it
    )
    # pip byte-compiles what it installs whatever PYTHONDONTWRITEBYTECODE says: the image's
    # runs import bytecode
    assert list((target / "gate" / "__pycache__").glob("cli.cpython-*.pyc"))
    templates = sorted(p.name for p in (target / "gate" / "templates").glob("*.j2"))
    assert "comment.md.j2" in templates
    assert (target / "gate" / "py.typed").is_file()
    script = (target / "bin" / "llm-gate").read_text(encoding="utf-8")
    assert "from gate.cli import entry" in script
    done = subprocess.run(
        [sys.executable, "-c", "import gate.report.comment as r; print(r.comment_marker('x.yml'))"],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.stdout.strip() == "<!-- llm-gate config=x.yml -->", done.stderr


def test_entrypoint_passes_its_arguments_through() -> None:
    """entrypoint.py is the few lines that call the CLI: `docker run IMAGE --version` prints the
    version, and with no arguments it runs `llm-gate run`."""
    text = (ROOT / "entrypoint.py").read_text(encoding="utf-8")
    assert 'entry(sys.argv[1:] or ["run"])' in text and len(text.splitlines()) <= 8
    done = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py"), "--version"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.startswith("llm-gate ")
