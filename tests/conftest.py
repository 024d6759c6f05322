"""The fake GitHub and OpenAI servers the end-to-end and image tests run the action against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.end_to_end.conftest import GITHUB_TOKEN, REPOSITORY, responder
from tests.fakes.github_server import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """GitHub for the app's repository, failing the test on any request it did not expect."""
    with FakeGitHub(REPOSITORY, token=GITHUB_TOKEN) as server:
        yield server
        server.assert_no_surprises()


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    """A model that answers as the scripted app's model and judge (`responder`)."""
    with FakeOpenAI(responder=responder) as server:
        yield server
