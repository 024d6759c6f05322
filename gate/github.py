"""The GitHub adapter: the only module of llm-gate that imports PyGithub.

It owns the port the rest of the gate publishes through (`GitHubPort`: find, create and update
the sticky PR comment, set the commit status, list the PR's files) and its PyGithub
implementation (`PyGithubClient`): retries with backoff, GitHub's limits, and turning
GitHub's refusals into one actionable line (`CannotPublish`). PyGithub objects never leave
this module; callers get `StickyComment` values and plain tuples.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import github
from github import Auth, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.IssueComment import IssueComment

from gate.errors import CannotPublish, MissingPermission

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
# GitHub rejects longer values with 422, although its OpenAPI description states no limit.
MAX_COMMENT_CHARS = 65_536
MAX_STATUS_DESCRIPTION_CHARS = 140
STATUS_STATES = frozenset({"error", "failure", "pending", "success"})

# The workflow `permissions:` entry each write needs (what the 403 message names).
COMMENT_PERMISSION = "pull-requests: write"
STATUS_PERMISSION = "statuses: write"
READ_PERMISSION = "pull-requests: read"
_NOT_ACCESSIBLE = "resource not accessible by integration"
# What a call to GitHub can fail with: GitHub's answers, and the network (requests' errors
# are OSErrors). Anything else is a bug in llm-gate and must surface as such.
_GITHUB_ERRORS = (GithubException, OSError)


@dataclass(frozen=True, slots=True)
class StickyComment:
    """The gate's own PR comment, as GitHub holds it."""

    id: int
    body: str
    html_url: str


class GitHubPort(Protocol):
    """What the gate needs from GitHub; `PyGithubClient` in production, `MemoryGitHub` in tests."""

    @property
    def duplicate_comment_ids(self) -> tuple[int, ...]:
        """Newer comments carrying the marker that the last `find_sticky_comment` skipped."""
        ...

    def find_sticky_comment(self, pr_number: int, marker: str) -> StickyComment | None: ...

    def create_comment(self, pr_number: int, body: str) -> StickyComment: ...

    def update_comment(self, comment_id: int, body: str) -> StickyComment: ...

    def delete_comment(self, comment_id: int) -> None: ...

    def set_status(
        self, sha: str, state: str, description: str, context: str, target_url: str | None
    ) -> None: ...

    def list_pr_files(self, pr_number: int) -> list[tuple[str, str, str | None]]:
        """(status, path, previous_path) for every file of the PR (GitHub stops at 3000)."""
        ...

    def pull_head_sha(self, pr_number: int) -> str:
        """The PR's head commit as GitHub sees it now (a later push moves it)."""
        ...


def is_sticky(body: str, marker: str, author_type: str | None) -> bool:
    """A comment is ours when a bot wrote it and its first line starts with the marker.

    A human quoting the marker (in a reply, or by copying the comment) is not ours. GitHub may
    hand back bodies with CRLF line ends, so the first line is compared stripped.
    """
    if author_type != "Bot":
        return False
    first_line = body.split("\n", 1)[0].strip()
    return first_line.startswith(marker.strip())


def missing_permission_message(
    action: str, permission: str, github_message: str = "Resource not accessible by integration"
) -> str:
    """The line for GitHub's 403 to a token without the permission (read-only, fork PRs)."""
    return (
        f"GitHub refused to {action} (403 {github_message}): add `permissions: {permission}` "
        "to the workflow job (fork PRs get a read-only token)"
    )


def missing_permissions_message(permissions: list[str], *, fork: bool = False) -> str:
    """One line for every write a read-only token was refused, naming the entries to add."""
    entries = ", ".join(sorted(set(permissions)))
    why = (
        "this pull request comes from a fork, whose token is read-only"
        if fork
        else "fork PRs get a read-only token"
    )
    return (
        "GitHub refused to post the report (403 Resource not accessible by integration): add "
        f"`permissions: {{{entries}}}` to the workflow job ({why}); the full report is in the "
        "job summary"
    )


def comment_too_long_message(length: int) -> str:
    """The line for a comment body over GitHub's limit (render should have cut it)."""
    return (
        f"the comment is {length:,} characters; GitHub accepts at most {MAX_COMMENT_CHARS:,} "
        "(the report should have been cut before publishing)"
    )


def truncate_description(description: str) -> str:
    """Fit a commit status description into GitHub's 140 characters, marking the cut with `…`."""
    if len(description) <= MAX_STATUS_DESCRIPTION_CHARS:
        return description
    return description[: MAX_STATUS_DESCRIPTION_CHARS - 1].rstrip() + "…"


class PyGithubClient:
    """`GitHubPort` over PyGithub, for one repository.

    PyGithub's own `GithubRetry` (a urllib3 `Retry`) does the retrying: 5xx and 429 with
    exponential backoff, 403 only when GitHub says it is a rate limit (honouring
    `Retry-After`, else waiting `secondary_rate_wait`). Each wait is capped by
    `retry_after_max` / `max_rate_limit_wait`, so a run never sleeps for an hour on a primary
    rate limit; it fails with `CannotPublish` instead.
    """

    def __init__(
        self,
        token: str,
        repository: str,
        base_url: str = DEFAULT_API_URL,
        *,
        retries: int = 5,
        backoff_factor: float = 1.0,
        backoff_max: float = 30.0,
        retry_after_max: int = 60,
        secondary_rate_wait: float = 60.0,
        max_rate_limit_wait: float = 120.0,
        seconds_between_requests: float = 0.25,
        seconds_between_writes: float = 1.0,
        timeout: int = 15,
    ) -> None:
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository must be 'owner/name', got {repository!r}")
        if not token:
            raise CannotPublish("no GitHub token: set the `github-token` input (or GITHUB_TOKEN)")
        self.repository = repository
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self._secret = token  # only to scrub it from messages; never shown
        retry = GithubRetry(
            total=retries,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
            secondary_rate_wait=secondary_rate_wait,
            max_rate_limit_wait=max_rate_limit_wait,
            # GithubRetry adds 403 (rate limits only); 429 is GitHub's other "slow down".
            status_forcelist=[429, *range(500, 600)],
            # GithubRetry's default leaves PATCH out, so a comment edit would not be retried.
            # Editing to the same body is idempotent. POST is retried too (GithubRetry's
            # default): a 5xx after GitHub did create the comment leaves a duplicate, which
            # `find_sticky_comment` reports in `duplicate_comment_ids`.
            allowed_methods=frozenset({"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"}),
            # Give PyGithub the last response when retries run out, so the failure is a
            # GithubException with GitHub's message rather than urllib3's MaxRetryError.
            raise_on_status=False,
        )
        self._github = github.Github(
            auth=Auth.Token(token),
            base_url=self.base_url,
            retry=retry,
            timeout=timeout,
            per_page=100,
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            # No GET of the repository, issue or commit before each call: one request per call.
            lazy=True,
        )
        self._repo = self._github.get_repo(repository)
        self._duplicates: tuple[int, ...] = ()

    def __repr__(self) -> str:
        return f"PyGithubClient(repository={self.repository!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self._github.close()

    def __enter__(self) -> PyGithubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def duplicate_comment_ids(self) -> tuple[int, ...]:
        return self._duplicates

    # ------------------------------------------------------------------ comments

    def find_sticky_comment(self, pr_number: int, marker: str) -> StickyComment | None:
        """The oldest bot comment on the PR whose first line carries `marker` (every page)."""
        if not marker.strip():
            raise ValueError("marker must not be empty")
        found: list[StickyComment] = []
        try:
            for comment in self._repo.get_issue(pr_number).get_comments():
                user = comment.user
                if is_sticky(comment.body or "", marker, user.type if user else None):
                    found.append(_sticky(comment))
        except _GITHUB_ERRORS as exc:
            raise self._cannot(
                exc, f"read the comments of PR #{pr_number}", READ_PERMISSION
            ) from exc
        self._duplicates = tuple(c.id for c in found[1:])
        if self._duplicates:
            log.warning(
                "PR #%s has %d comments with the llm-gate marker; using the oldest (%s)",
                pr_number,
                len(found),
                found[0].id,
            )
        return found[0] if found else None

    def create_comment(self, pr_number: int, body: str) -> StickyComment:
        _check_comment_length(body)
        try:
            comment = self._repo.get_issue(pr_number).create_comment(body)
        except _GITHUB_ERRORS as exc:
            raise self._cannot(exc, f"comment on PR #{pr_number}", COMMENT_PERMISSION) from exc
        return _sticky(comment)

    def update_comment(self, comment_id: int, body: str) -> StickyComment:
        _check_comment_length(body)
        comment = self._comment(comment_id)
        try:
            comment.edit(body)
        except _GITHUB_ERRORS as exc:
            raise self._cannot(exc, f"update comment {comment_id}", COMMENT_PERMISSION) from exc
        return _sticky(comment)

    def delete_comment(self, comment_id: int) -> None:
        try:
            self._comment(comment_id).delete()
        except _GITHUB_ERRORS as exc:
            raise self._cannot(exc, f"delete comment {comment_id}", COMMENT_PERMISSION) from exc

    def _comment(self, comment_id: int) -> IssueComment:
        # A lazy object: PATCH/DELETE go straight to the comment's URL, no GET first.
        url = f"{self._repo.url}/issues/comments/{comment_id}"
        return IssueComment(self._github.requester, url=url)

    # ------------------------------------------------------------------ statuses and files

    def set_status(
        self, sha: str, state: str, description: str, context: str, target_url: str | None
    ) -> None:
        if state not in STATUS_STATES:
            raise ValueError(f"state must be one of {sorted(STATUS_STATES)}, got {state!r}")
        commit = self._repo.get_commit(sha)
        try:
            if target_url:
                commit.create_status(
                    state,
                    target_url=target_url,
                    description=truncate_description(description),
                    context=context,
                )
            else:
                commit.create_status(
                    state, description=truncate_description(description), context=context
                )
        except _GITHUB_ERRORS as exc:
            raise self._cannot(
                exc, f"set the {context!r} status on {sha[:12]}", STATUS_PERMISSION
            ) from exc

    def list_pr_files(self, pr_number: int) -> list[tuple[str, str, str | None]]:
        try:
            return [
                (f.status, f.filename, f.previous_filename or None)
                for f in self._repo.get_pull(pr_number).get_files()
            ]
        except _GITHUB_ERRORS as exc:
            raise self._cannot(exc, f"list the files of PR #{pr_number}", READ_PERMISSION) from exc

    def pull_head_sha(self, pr_number: int) -> str:
        try:
            return str(self._repo.get_pull(pr_number).head.sha)
        except _GITHUB_ERRORS as exc:
            raise self._cannot(exc, f"read PR #{pr_number}", READ_PERMISSION) from exc

    # ------------------------------------------------------------------ errors

    def _cannot(self, exc: Exception, action: str, permission: str) -> CannotPublish:
        """One line a person can act on; never the token."""
        line = self._describe(exc, action, permission).replace("\n", " ")
        line = line.replace(self._secret, "***")
        if _is_missing_permission(exc):
            return MissingPermission(line, permission)
        return CannotPublish(line)

    def _describe(self, exc: Exception, action: str, permission: str) -> str:
        if isinstance(exc, RateLimitExceededExceedsMaxWait):
            return (
                f"GitHub's rate limit would make llm-gate wait {exc.wait:.0f}s to {action}; "
                "re-run the job later"
            )
        if isinstance(exc, GithubException):
            message = _message(exc)
            status = exc.status
            if _is_missing_permission(exc):
                return missing_permission_message(action, permission, message)
            if status == 401:
                return (
                    f"GitHub rejected the token (401 {message}) when trying to {action}: "
                    "check the `github-token` input"
                )
            if status == 404:
                return (
                    f"GitHub could not find {self.repository} or its PR/comment (404) when "
                    f"trying to {action}: check the repository and that the token can see it"
                )
            if status == 403 or status == 429:
                return (
                    f"GitHub kept rate-limiting llm-gate ({status} {message}) when trying to "
                    f"{action}; re-run the job later"
                )
            if status >= 500:
                return (
                    f"GitHub kept failing ({status} {message}) when trying to {action}, after "
                    f"{self.retries} retries; re-run the job"
                )
            return f"GitHub refused to {action} ({status} {message})"
        return (
            f"could not reach GitHub at {self.base_url} to {action} "
            f"({type(exc).__name__}); check GITHUB_API_URL and the network"
        )


def _is_missing_permission(exc: Exception) -> bool:
    return (
        isinstance(exc, GithubException)
        and exc.status == 403
        and _message(exc).lower().startswith(_NOT_ACCESSIBLE)
    )


def _sticky(comment: IssueComment) -> StickyComment:
    return StickyComment(id=comment.id, body=comment.body or "", html_url=comment.html_url)


def _check_comment_length(body: str) -> None:
    if len(body) > MAX_COMMENT_CHARS:
        raise CannotPublish(comment_too_long_message(len(body)))


def _message(exc: GithubException) -> str:
    """GitHub's own `message`, plus the first validation error's message if there is one."""
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.message or "no message")
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        detail = errors[0].get("message")
        if detail:
            message = f"{message}: {detail}"
    return message.strip()
