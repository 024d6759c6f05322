"""An in-memory `GitHubPort` for fast unit tests of publishing: comments and statuses in lists.

It keeps the adapter's contract (bot-authored marker comments, oldest wins, 140-character
descriptions, the 65,536-character comment cap, `CannotPublish` naming the missing
permission when `read_only`), so tests can assert on the state it holds, not on call order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gate.errors import CannotPublish, MissingPermission
from gate.github import (
    COMMENT_PERMISSION,
    MAX_COMMENT_CHARS,
    STATUS_PERMISSION,
    STATUS_STATES,
    StickyComment,
    comment_too_long_message,
    is_sticky,
    missing_permission_message,
    truncate_description,
)


@dataclass(slots=True)
class MemoryComment:
    id: int
    pr_number: int
    body: str
    user_login: str
    user_type: str

    @property
    def html_url(self) -> str:
        return f"https://github.com/octo-org/llm-app/pull/{self.pr_number}#issuecomment-{self.id}"


@dataclass(frozen=True, slots=True)
class MemoryStatus:
    sha: str
    state: str
    description: str
    context: str
    target_url: str | None


@dataclass
class MemoryGitHub:
    """`GitHubPort` without HTTP. `calls` logs (method, args) for debugging, not for asserting."""

    bot_login: str = "github-actions[bot]"
    read_only: bool = False
    comments: list[MemoryComment] = field(default_factory=list)
    statuses: list[MemoryStatus] = field(default_factory=list)
    pr_files: dict[int, list[tuple[str, str, str | None]]] = field(default_factory=dict)
    pull_heads: dict[int, str] = field(default_factory=dict)  # PR number → current head SHA
    calls: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    duplicate_comment_ids: tuple[int, ...] = ()
    _next_id: int = 1

    # ------------------------------------------------------------------ seeding and reading

    def add_comment(
        self, pr_number: int, body: str, user_login: str = "octocat", user_type: str = "User"
    ) -> int:
        """Seed a comment someone else (or an earlier run, with `user_type="Bot"`) wrote."""
        comment = MemoryComment(self._new_id(), pr_number, body, user_login, user_type)
        self.comments.append(comment)
        return comment.id

    def comments_on(self, pr_number: int) -> list[MemoryComment]:
        return [c for c in self.comments if c.pr_number == pr_number]

    def statuses_for(self, sha: str) -> list[MemoryStatus]:
        return [s for s in self.statuses if s.sha == sha]

    def latest_status(self, sha: str, context: str) -> MemoryStatus | None:
        matching = [s for s in self.statuses_for(sha) if s.context.casefold() == context.casefold()]
        return matching[-1] if matching else None

    # ------------------------------------------------------------------ GitHubPort

    def find_sticky_comment(self, pr_number: int, marker: str) -> StickyComment | None:
        self.calls.append(("find_sticky_comment", (pr_number, marker)))
        found = [c for c in self.comments_on(pr_number) if is_sticky(c.body, marker, c.user_type)]
        self.duplicate_comment_ids = tuple(c.id for c in found[1:])
        return _sticky(found[0]) if found else None

    def create_comment(self, pr_number: int, body: str) -> StickyComment:
        self.calls.append(("create_comment", (pr_number, body)))
        self._check_write(body, f"comment on PR #{pr_number}")
        comment = MemoryComment(self._new_id(), pr_number, body, self.bot_login, "Bot")
        self.comments.append(comment)
        return _sticky(comment)

    def update_comment(self, comment_id: int, body: str) -> StickyComment:
        self.calls.append(("update_comment", (comment_id, body)))
        self._check_write(body, f"update comment {comment_id}")
        comment = self._comment(comment_id)
        comment.body = body
        return _sticky(comment)

    def delete_comment(self, comment_id: int) -> None:
        self.calls.append(("delete_comment", (comment_id,)))
        self._check_write("", f"delete comment {comment_id}")
        self.comments.remove(self._comment(comment_id))

    def set_status(
        self, sha: str, state: str, description: str, context: str, target_url: str | None
    ) -> None:
        self.calls.append(("set_status", (sha, state, description, context, target_url)))
        if state not in STATUS_STATES:
            raise ValueError(f"state must be one of {sorted(STATUS_STATES)}, got {state!r}")
        if self.read_only:
            action = f"set the {context!r} status on {sha[:12]}"
            message = missing_permission_message(action, STATUS_PERMISSION)
            raise MissingPermission(message, STATUS_PERMISSION)
        self.statuses.append(
            MemoryStatus(sha, state, truncate_description(description), context, target_url)
        )

    def list_pr_files(self, pr_number: int) -> list[tuple[str, str, str | None]]:
        self.calls.append(("list_pr_files", (pr_number,)))
        return list(self.pr_files.get(pr_number, []))

    def pull_head_sha(self, pr_number: int) -> str:
        self.calls.append(("pull_head_sha", (pr_number,)))
        if pr_number not in self.pull_heads:
            raise CannotPublish(f"GitHub could not find PR #{pr_number} (404)")
        return self.pull_heads[pr_number]

    # ------------------------------------------------------------------ helpers

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _comment(self, comment_id: int) -> MemoryComment:
        for comment in self.comments:
            if comment.id == comment_id:
                return comment
        raise CannotPublish(f"GitHub could not find comment {comment_id} (404)")

    def _check_write(self, body: str, action: str) -> None:
        if self.read_only:
            message = missing_permission_message(action, COMMENT_PERMISSION)
            raise MissingPermission(message, COMMENT_PERMISSION)
        if len(body) > MAX_COMMENT_CHARS:
            raise CannotPublish(comment_too_long_message(len(body)))


def _sticky(comment: MemoryComment) -> StickyComment:
    return StickyComment(id=comment.id, body=comment.body, html_url=comment.html_url)
