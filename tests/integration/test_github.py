"""The GitHub adapter (`gate.github.PyGithubClient`) against the strict fake GitHub on 127.0.0.1.

No mocks: PyGithub speaks real HTTP to `tests.fakes.github_server.FakeGitHub`, which rejects
any request GitHub's OpenAPI description would reject. The contract tests at the end run the
same scenarios against `MemoryGitHub`, so unit tests elsewhere can trust that fake.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from gate.errors import CannotPublish
from gate.github import GitHubPort, PyGithubClient
from tests.fakes.github_memory import MemoryGitHub
from tests.fakes.github_server import (
    CREATE_COMMENT,
    CREATE_STATUS,
    LIST_COMMENTS,
    LIST_PULL_FILES,
    UPDATE_COMMENT,
    FakeGitHub,
    PullFile,
)

TOKEN = "ghs_fakeTOKENfor_llm_gate_0123456789"
REPOSITORY = "octo-org/llm-app"
PR = 7
HEAD_SHA = "1" * 40
BASE_SHA = "2" * 40
MARKER = "<!-- llm-gate config=llm-gate.yml -->"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(REPOSITORY, token=TOKEN) as server:
        server.add_pull(PR, head_sha=HEAD_SHA, base_sha=BASE_SHA)
        yield server


def make_client(fake: FakeGitHub, token: str = TOKEN) -> PyGithubClient:
    """The production adapter, with waits short enough for tests."""
    return PyGithubClient(
        token,
        REPOSITORY,
        fake.url,
        retries=3,
        backoff_factor=0.01,
        secondary_rate_wait=0.2,
        max_rate_limit_wait=5,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


@pytest.fixture
def client(fake: FakeGitHub) -> Iterator[PyGithubClient]:
    with make_client(fake) as github_client:
        yield github_client


def statuses_of(fake: FakeGitHub, operation: str) -> list[int]:
    return [r.status for r in fake.requests_to(operation)]


# --------------------------------------------------------------------------- sticky comment


def test_creates_then_updates_one_sticky_comment(fake: FakeGitHub, client: PyGithubClient) -> None:
    """A second run finds the first run's comment and edits it: one comment on the PR."""
    assert client.find_sticky_comment(PR, MARKER) is None
    created = client.create_comment(PR, f"{MARKER}\nfirst run")

    found = client.find_sticky_comment(PR, MARKER)
    assert found == created
    updated = client.update_comment(found.id, f"{MARKER}\nsecond run")

    comments = fake.comments(PR)
    assert len(comments) == 1
    assert comments[0].id == created.id == updated.id
    assert comments[0].body == updated.body == f"{MARKER}\nsecond run"
    assert (comments[0].user.login, comments[0].user.type) == ("github-actions[bot]", "Bot")
    assert updated.html_url.endswith(f"/pull/{PR}#issuecomment-{created.id}")
    assert set(fake.authorizations) == {f"token {TOKEN}"}
    assert all(TOKEN not in str(r) for r in fake.requests)
    fake.assert_no_surprises()


def test_finds_sticky_comment_on_page_three(fake: FakeGitHub, client: PyGithubClient) -> None:
    """The marker comment is the 230th of 250: every page is walked (100 per page)."""
    fake.add_comments(PR, (f"human comment {i}" for i in range(229)))
    ours = fake.add_comment(PR, f"{MARKER}\nreport", "github-actions[bot]", "Bot")
    fake.add_comments(PR, (f"later comment {i}" for i in range(20)))
    assert len(fake.comments(PR)) == 250

    found = client.find_sticky_comment(PR, MARKER)

    assert found is not None and found.id == ours
    pages = [r.query.get("page", ["1"])[0] for r in fake.requests_to(LIST_COMMENTS)]
    assert pages == ["1", "2", "3"]
    fake.assert_no_surprises()


def test_ignores_a_human_quoting_the_marker(fake: FakeGitHub, client: PyGithubClient) -> None:
    """A person's comment that starts with the marker is never taken for the gate's comment."""
    fake.add_comment(PR, f"{MARKER}\nI copied the bot's comment", "octocat", "User")
    fake.add_comment(PR, f"> {MARKER}\n> quoted in a reply", "octocat", "User")
    assert client.find_sticky_comment(PR, MARKER) is None

    ours = fake.add_comment(PR, f"{MARKER}\r\nreport", "github-actions[bot]", "Bot")
    found = client.find_sticky_comment(PR, MARKER)
    assert found is not None and found.id == ours


def test_ignores_another_config_marker(fake: FakeGitHub, client: PyGithubClient) -> None:
    """One sticky comment per config file: another config's marker is not ours."""
    fake.add_comment(PR, "<!-- llm-gate config=other.yml -->\nx", "github-actions[bot]", "Bot")
    assert client.find_sticky_comment(PR, MARKER) is None


def test_oldest_of_duplicate_comments_wins(fake: FakeGitHub, client: PyGithubClient) -> None:
    """After a race left two marker comments, the oldest is used and the other is reported."""
    first = fake.add_comment(PR, f"{MARKER}\nA", "github-actions[bot]", "Bot")
    second = fake.add_comment(PR, f"{MARKER}\nB", "github-actions[bot]", "Bot")

    found = client.find_sticky_comment(PR, MARKER)
    assert found is not None and found.id == first
    assert client.duplicate_comment_ids == (second,)

    client.delete_comment(second)
    assert [c.id for c in fake.comments(PR)] == [first]
    fake.assert_no_surprises()


def test_refuses_a_comment_github_would_reject(fake: FakeGitHub, client: PyGithubClient) -> None:
    """A body over 65,536 characters fails with one line before any request is sent."""
    with pytest.raises(CannotPublish, match="65,536"):
        client.create_comment(PR, "x" * 65_537)
    assert fake.requests_to(CREATE_COMMENT) == []


# --------------------------------------------------------------------------- statuses and files


def test_status_lands_on_the_given_sha(fake: FakeGitHub, client: PyGithubClient) -> None:
    """The status is set on the PR head SHA with our context, target URL and the bot as creator."""
    run_url = "https://github.com/octo-org/llm-app/actions/runs/42"
    client.set_status(HEAD_SHA, "pending", "llm-gate is evaluating 2 suites", "llm-gate", run_url)
    client.set_status(HEAD_SHA, "success", "no regression", "llm-gate", None)

    assert fake.statuses(BASE_SHA) == []
    pending, success = fake.statuses(HEAD_SHA)
    assert (pending.state, pending.context, pending.target_url) == ("pending", "llm-gate", run_url)
    assert pending.description == "llm-gate is evaluating 2 suites"
    assert (success.state, success.target_url) == ("success", None)
    assert success.creator.login == "github-actions[bot]"
    assert fake.latest_status(HEAD_SHA, "LLM-GATE") == success
    fake.assert_no_surprises()


def test_truncates_status_description(fake: FakeGitHub, client: PyGithubClient) -> None:
    """A long description is cut to GitHub's 140 characters with an ellipsis."""
    client.set_status(HEAD_SHA, "failure", "regression " * 30, "llm-gate", None)

    (status,) = fake.statuses(HEAD_SHA)
    assert status.description is not None
    assert len(status.description) == 140
    assert status.description.endswith("…")
    assert status.description.startswith("regression regression")
    fake.assert_no_surprises()


def test_lists_pr_files_across_pages(fake: FakeGitHub, client: PyGithubClient) -> None:
    """Every changed file comes back, renames with their previous path."""
    files = [PullFile("modified", f"evals/case_{i}.jsonl") for i in range(149)]
    files.append(PullFile("renamed", "prompts/new.md", "prompts/old.md"))
    fake.add_pull(8, files=files)

    listed = client.list_pr_files(8)

    assert len(listed) == 150
    assert listed[0] == ("modified", "evals/case_0.jsonl", None)
    assert listed[-1] == ("renamed", "prompts/new.md", "prompts/old.md")
    assert len(fake.requests_to(LIST_PULL_FILES)) == 2
    fake.assert_no_surprises()


# --------------------------------------------------------------------------- reliability


def test_retries_a_server_error(fake: FakeGitHub, client: PyGithubClient) -> None:
    """A 500 followed by success sets the status once."""
    fake.fail_next(CREATE_STATUS, 500)

    client.set_status(HEAD_SHA, "success", "ok", "llm-gate", None)

    assert len(fake.statuses(HEAD_SHA)) == 1
    assert statuses_of(fake, CREATE_STATUS) == [500, 201]
    fake.assert_no_surprises()


def test_gives_up_after_repeated_bad_gateways(fake: FakeGitHub, client: PyGithubClient) -> None:
    """When GitHub keeps answering 502, the error is one line naming the status and the action."""
    fake.fail_next(CREATE_COMMENT, 502, times=10)

    with pytest.raises(CannotPublish) as caught:
        client.create_comment(PR, f"{MARKER}\nreport")

    message = str(caught.value)
    assert "502" in message and f"comment on PR #{PR}" in message and "\n" not in message
    assert statuses_of(fake, CREATE_COMMENT) == [502] * 4  # the first try and 3 retries
    assert fake.comments(PR) == []


def test_waits_out_a_secondary_rate_limit(fake: FakeGitHub, client: PyGithubClient) -> None:
    """A 403 secondary rate limit with Retry-After: 1 is retried after about a second."""
    fake.secondary_rate_limit_next(LIST_COMMENTS, retry_after=1)
    ours = fake.add_comment(PR, f"{MARKER}\nreport", "github-actions[bot]", "Bot")

    started = time.monotonic()
    found = client.find_sticky_comment(PR, MARKER)
    elapsed = time.monotonic() - started

    assert found is not None and found.id == ours
    assert statuses_of(fake, LIST_COMMENTS) == [403, 200]
    assert 0.9 <= elapsed < 5
    fake.assert_no_surprises()


def test_secondary_rate_limit_without_retry_after(fake: FakeGitHub, client: PyGithubClient) -> None:
    """Without Retry-After, the client waits `secondary_rate_wait` and retries."""
    fake.secondary_rate_limit_next(UPDATE_COMMENT, retry_after=None)
    comment_id = fake.add_comment(PR, f"{MARKER}\nold", "github-actions[bot]", "Bot")

    client.update_comment(comment_id, f"{MARKER}\nnew")

    assert fake.comments(PR)[0].body == f"{MARKER}\nnew"
    assert statuses_of(fake, UPDATE_COMMENT) == [403, 200]


def test_retries_too_many_requests(fake: FakeGitHub, client: PyGithubClient) -> None:
    """429 is retried too (GithubRetry alone retries only 403 and 5xx)."""
    fake.too_many_requests_next(CREATE_STATUS, retry_after=0)

    client.set_status(HEAD_SHA, "pending", "evaluating", "llm-gate", None)

    assert statuses_of(fake, CREATE_STATUS) == [429, 201]


def test_primary_rate_limit_beyond_max_wait(fake: FakeGitHub, client: PyGithubClient) -> None:
    """A primary rate limit resetting in an hour fails fast instead of sleeping for it."""
    reset = str(int(time.time()) + 3600)
    fake.inject_fault(
        CREATE_STATUS,
        403,
        body={"message": "API rate limit exceeded for installation ID 1."},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
    )

    started = time.monotonic()
    with pytest.raises(CannotPublish, match="rate limit"):
        client.set_status(HEAD_SHA, "error", "provider down", "llm-gate", None)
    assert time.monotonic() - started < 2


def test_read_only_token_names_the_permission(fake: FakeGitHub, client: PyGithubClient) -> None:
    """On a read-only token each write names the workflow permission to add, never the token."""
    fake.read_only = True

    with pytest.raises(CannotPublish) as comment_error:
        client.create_comment(PR, f"{MARKER}\nreport")
    with pytest.raises(CannotPublish) as status_error:
        client.set_status(HEAD_SHA, "success", "ok", "llm-gate", None)

    assert "permissions: pull-requests: write" in str(comment_error.value)
    assert "permissions: statuses: write" in str(status_error.value)
    for error in (comment_error.value, status_error.value):
        assert TOKEN not in str(error) and TOKEN not in repr(error)
        assert "Resource not accessible by integration" in str(error)
    assert TOKEN not in repr(client)
    assert statuses_of(fake, CREATE_COMMENT) == [403]  # a permission error is not retried
    assert fake.comments(PR) == [] and fake.statuses(HEAD_SHA) == []


def test_bad_token_is_one_line_without_the_token(fake: FakeGitHub) -> None:
    """A token GitHub does not accept gives a line pointing at the `github-token` input."""
    wrong = "ghs_WRONGtoken_9876543210"
    with make_client(fake, token=wrong) as bad_client, pytest.raises(CannotPublish) as caught:
        bad_client.find_sticky_comment(PR, MARKER)
    assert "github-token" in str(caught.value)
    assert wrong not in str(caught.value) and TOKEN not in str(caught.value)


def test_unreachable_github_is_one_line(fake: FakeGitHub) -> None:
    """A connection failure says which API URL could not be reached."""
    url = fake.url
    fake.stop()
    with (
        PyGithubClient(TOKEN, REPOSITORY, url, retries=1, backoff_factor=0) as offline,
        pytest.raises(CannotPublish, match=r"could not reach GitHub at http://127\.0\.0\.1"),
    ):
        offline.set_status(HEAD_SHA, "pending", "evaluating", "llm-gate", None)


# --------------------------------------------------------------------------- the fake itself


def test_fake_rejects_bodies_that_break_the_schema(fake: FakeGitHub) -> None:
    """The fake answers 422 (and records it) for a body GitHub's description does not allow."""
    headers = {"Authorization": f"token {TOKEN}"}
    with httpx.Client(base_url=fake.url, headers=headers) as http:
        bad_state = http.post(f"/repos/{REPOSITORY}/statuses/{HEAD_SHA}", json={"state": "done"})
        no_body = http.post(f"/repos/{REPOSITORY}/issues/{PR}/comments", json={"text": "hi"})
        too_long = http.post(
            f"/repos/{REPOSITORY}/issues/{PR}/comments", json={"body": "x" * 65_537}
        )
        description = http.post(
            f"/repos/{REPOSITORY}/statuses/{HEAD_SHA}",
            json={"state": "success", "description": "d" * 141},
        )
        nulls = http.post(
            f"/repos/{REPOSITORY}/statuses/{HEAD_SHA}",
            json={"state": "success", "description": None, "target_url": None},
        )

    assert [r.status_code for r in (bad_state, no_body, too_long, description)] == [422] * 4
    assert "'done' is not one of" in bad_state.json()["message"]
    assert "'body' is a required property" in no_body.json()["message"]
    assert too_long.json()["errors"][0]["field"] == "body"
    assert description.json()["errors"][0]["field"] == "description"
    assert nulls.status_code == 201  # nullable in the description, so null is fine
    assert len(fake.invalid_requests) == 4
    assert fake.comments(PR) == [] and len(fake.statuses(HEAD_SHA)) == 1


def test_fake_records_unknown_routes_and_missing_auth(fake: FakeGitHub) -> None:
    """Routes outside the description are 404 and recorded; no token is 401."""
    with httpx.Client(base_url=fake.url) as http:
        unknown = http.get(f"/repos/{REPOSITORY}/issues/{PR}", headers={"Authorization": "token x"})
        anonymous = http.get(f"/repos/{REPOSITORY}/issues/{PR}/comments")

    assert (unknown.status_code, anonymous.status_code) == (404, 401)
    assert [r.request.path for r in fake.unexpected_requests] == [
        f"/repos/{REPOSITORY}/issues/{PR}"
    ]
    assert [r.reason for r in fake.invalid_requests] == ["no Authorization"]


# --------------------------------------------------------------------------- contract


@pytest.fixture(params=["pygithub", "memory"])
def port(request: pytest.FixtureRequest, fake: FakeGitHub) -> Iterator[GitHubPort]:
    if request.param == "memory":
        yield MemoryGitHub()
        return
    with make_client(fake) as github_client:
        yield github_client


Seed = Callable[[str, str, str], int]


@pytest.fixture
def seed(port: GitHubPort, fake: FakeGitHub) -> Seed:
    """Seed a comment on the PR in whichever backend `port` is."""

    def add(body: str, login: str, user_type: str) -> int:
        if isinstance(port, MemoryGitHub):
            return port.add_comment(PR, body, login, user_type)
        return fake.add_comment(PR, body, login, user_type)

    return add


def test_contract_sticky_comment(port: GitHubPort, seed: Seed) -> None:
    """Both ports: humans quoting the marker are skipped, the oldest bot comment is updated."""
    seed(f"{MARKER}\nquoted", "octocat", "User")
    oldest = seed(f"{MARKER}\nA", "github-actions[bot]", "Bot")
    newer = seed(f"{MARKER}\nB", "github-actions[bot]", "Bot")

    found = port.find_sticky_comment(PR, MARKER)
    assert found is not None and found.id == oldest
    assert port.duplicate_comment_ids == (newer,)
    assert port.update_comment(oldest, f"{MARKER}\nC").body == f"{MARKER}\nC"
    assert port.find_sticky_comment(PR, "<!-- llm-gate config=other.yml -->") is None


def test_contract_status(port: GitHubPort, fake: FakeGitHub) -> None:
    """Both ports: the status lands on the SHA with its context, the description cut to 140."""
    port.set_status(HEAD_SHA, "failure", "regression " * 30, "llm-gate", None)

    stored: list[tuple[str, str, str | None]]
    if isinstance(port, MemoryGitHub):
        stored = [(s.state, s.context, s.description) for s in port.statuses_for(HEAD_SHA)]
    else:
        stored = [(s.state, s.context, s.description) for s in fake.statuses(HEAD_SHA)]
    assert stored == [("failure", "llm-gate", "regression " * 12 + "regress…")]


def test_contract_read_only(port: GitHubPort, fake: FakeGitHub) -> None:
    """Both ports: a read-only token fails with the same permission-naming line."""
    fake.read_only = True
    if isinstance(port, MemoryGitHub):
        port.read_only = True

    with pytest.raises(CannotPublish) as caught:
        port.set_status(HEAD_SHA, "success", "ok", "llm-gate", None)

    assert str(caught.value) == (
        f"GitHub refused to set the 'llm-gate' status on {HEAD_SHA[:12]} (403 Resource not "
        "accessible by integration): add `permissions: statuses: write` to the workflow job "
        "(fork PRs get a read-only token)"
    )
