"""The fake GitHub server's copy of GitHub's REST description stays the workspace's copy."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.github_server import SHARED_SPEC, spec_path

COPY = Path(__file__).resolve().parents[1] / "fakes" / "rest-subset.json"


def test_the_tests_use_the_copy_in_the_repository() -> None:
    """A clone tests on its own: the description is found next to the fake server."""
    assert spec_path().samefile(COPY)
    spec = json.loads(COPY.read_text(encoding="utf-8"))
    assert len(spec["operations"]) == 20
    assert any(name.startswith("pull_request") for name in spec["webhooks"])


def test_the_copy_is_the_shared_description_where_that_is_beside_the_project() -> None:
    """Where ../shared/github/rest-subset.json exists (this workspace), the copy is identical."""
    if SHARED_SPEC.is_file():
        assert COPY.read_bytes() == SHARED_SPEC.read_bytes()
