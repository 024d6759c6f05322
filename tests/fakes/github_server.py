"""A strict fake of GitHub's REST API on 127.0.0.1, for PyGithub to talk to through `base_url`.

It owns the fake's state (one repository, its pull requests, issue comments, commit statuses,
PR files), the routing of requests by GitHub's own OpenAPI description
(`rest-subset.json` next to this file: the operations and webhook payloads llm-gate uses,
taken from github/rest-api-description, REST API version 2022-11-28), the validation of every
request body against that description, and fault injection (5xx, rate limits, read-only
tokens).

Anything the adapter should never do is recorded rather than silently tolerated:
`unexpected_requests` (routes GitHub does not have or the fake does not serve) and
`invalid_requests` (bodies or parameters GitHub would reject). Tests assert on the state
(`comments()`, `statuses()`) and on those two lists, not on call order.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev dependencies

# --------------------------------------------------------------------------- the description

# A copy of the workspace's ../shared/github/rest-subset.json lives next to this file, so a
# clone tests on its own; test_fakes_spec keeps the two identical where both exist.
SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "github" / "rest-subset.json"
_SPEC_CANDIDATES = (Path(__file__).with_name("rest-subset.json"), SHARED_SPEC)

LIST_COMMENTS = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
CREATE_COMMENT = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
UPDATE_COMMENT = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
DELETE_COMMENT = "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}"
CREATE_STATUS = "POST /repos/{owner}/{repo}/statuses/{sha}"
LIST_STATUSES = "GET /repos/{owner}/{repo}/commits/{ref}/statuses"
COMBINED_STATUS = "GET /repos/{owner}/{repo}/commits/{ref}/status"
GET_REPO = "GET /repos/{owner}/{repo}"
GET_PULL = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
LIST_PULL_FILES = "GET /repos/{owner}/{repo}/pulls/{pull_number}/files"
GET_USER = "GET /user"
ANY_ROUTE = "*"
RESET = 0  # not an HTTP status: the fake drops the connection with a TCP reset instead

# GitHub enforces these, but the description does not state them (see the README next to it).
MAX_COMMENT_CHARS = 65_536
MAX_STATUS_DESCRIPTION_CHARS = 140
MAX_STATUSES_PER_CONTEXT = 1000

_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# What GitHub names in `X-Accepted-GitHub-Permissions` when a token lacks the permission.
_ACCEPTED_PERMISSIONS = {
    CREATE_COMMENT: "issues=write; pull_requests=write",
    UPDATE_COMMENT: "issues=write; pull_requests=write",
    DELETE_COMMENT: "issues=write; pull_requests=write",
    CREATE_STATUS: "statuses=write",
    "POST /repos/{owner}/{repo}/check-runs": "checks=write",
    "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": "checks=write",
    "PUT /repos/{owner}/{repo}/contents/{path}": "contents=write",
}
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def spec_path() -> Path:
    """Where GitHub's description lives: `$LLM_GATE_GITHUB_SPEC`, next to this file, or shared."""
    override = os.environ.get("LLM_GATE_GITHUB_SPEC")
    if override:
        return Path(override)
    for candidate in _SPEC_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("rest-subset.json not found; set LLM_GATE_GITHUB_SPEC to its path")


@functools.cache
def load_spec() -> dict[str, Any]:
    """GitHub's OpenAPI subset, parsed once per process."""
    spec: dict[str, Any] = json.loads(spec_path().read_text(encoding="utf-8"))
    return spec


def openapi_to_json_schema(node: Any) -> Any:
    """Turn an OpenAPI 3.0 schema object into JSON Schema (draft 4): `nullable` becomes a type.

    OpenAPI 3.0 says `{"type": "string", "nullable": true}` where JSON Schema says
    `{"type": ["string", "null"]}`; without this, a documented `null` would be rejected.
    """
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: openapi_to_json_schema(sub) for name, sub in value.items()}
        elif key in ("nullable", "example", "examples", "discriminator"):
            continue
        else:
            out[key] = openapi_to_json_schema(value)
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _validator(operation: str, where: str) -> jsonschema.Draft4Validator | None:
    """A validator for the request body (`where="request"`) or a response (`where="200"`...)."""
    op = load_spec()["operations"][operation]
    if where == "request":
        content = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
    else:
        content = op["responses"].get(where, {}).get("content", {}).get("application/json", {})
    schema = content.get("schema")
    if schema is None:
        return None
    return jsonschema.Draft4Validator(openapi_to_json_schema(schema))


def _example(operation: str, status: int) -> Any:
    """The documented example response of an operation (a fresh copy to merge state into)."""
    op = load_spec()["operations"][operation]
    content = op["responses"][str(status)]["content"]["application/json"]
    return copy.deepcopy(content["example"]["value"])


class _Route(NamedTuple):
    operation: str
    method: str
    pattern: re.Pattern[str]
    integer_params: frozenset[str]
    specificity: int


@functools.cache
def _routes() -> tuple[_Route, ...]:
    routes = []
    for key, op in load_spec()["operations"].items():
        method, template = key.split(" ", 1)
        params = {p["name"]: p for p in op["parameters"] if p["in"] == "path"}
        regex = ""
        for piece in re.split(r"(\{[^}]+\})", template):
            if piece.startswith("{"):
                name = piece[1:-1]
                multi = params.get(name, {}).get("x-multi-segment", False)
                regex += f"(?P<{name}>{'.+' if multi else '[^/]+'})"
            else:
                regex += re.escape(piece)
        integers = frozenset(
            name for name, p in params.items() if p.get("schema", {}).get("type") == "integer"
        )
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        routes.append(_Route(key, method, re.compile(regex + "$"), integers, literal))
    # Prefer the most literal template when several match (e.g. `.../status` vs a multi-segment).
    return tuple(sorted(routes, key=lambda r: -r.specificity))


# --------------------------------------------------------------------------- records and state


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received. The Authorization value is never kept here."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    body: Any
    operation: str | None
    status: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """A request GitHub would have refused (or the fake does not know), and why."""

    request: RecordedRequest
    reason: str


class PullFile(NamedTuple):
    """One entry of `GET .../pulls/{n}/files`."""

    status: str
    filename: str
    previous_filename: str | None = None


@dataclass(slots=True)
class FakeUser:
    login: str
    type: str
    id: int


@dataclass(slots=True)
class FakeComment:
    id: int
    issue_number: int
    body: str
    user: FakeUser
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class FakeStatus:
    id: int
    sha: str
    state: str
    description: str | None
    context: str
    target_url: str | None
    creator: FakeUser
    created_at: datetime


@dataclass(slots=True)
class FakePull:
    number: int
    head_sha: str
    base_sha: str
    head_repo: str
    head_ref: str
    base_ref: str
    files: list[PullFile] = field(default_factory=list)


@dataclass(slots=True)
class Fault:
    """The next `remaining` requests to `operation` get this answer instead of the real one."""

    operation: str
    status: int  # RESET: drop the connection instead of answering
    body: Any
    headers: dict[str, str]
    remaining: int
    after_serving: bool = False  # take effect first (a write GitHub did, its answer lost)


@dataclass(frozen=True, slots=True)
class _Call:
    """What a handler needs to know about the request it serves."""

    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    docs: str
    url: str  # absolute, without the query string: the base of `Link` URLs


@dataclass(slots=True)
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Rejected(Exception):
    """Raised inside a handler: answer with `reply` and record the request as invalid."""

    def __init__(self, reply: _Reply, reason: str) -> None:
        super().__init__(reason)
        self.reply = reply
        self.reason = reason


# --------------------------------------------------------------------------- the fake


class FakeGitHub:
    """A strict, stateful GitHub REST server on 127.0.0.1 (use as a context manager)."""

    def __init__(
        self,
        repository: str = "octo-org/llm-app",
        *,
        default_branch: str = "main",
        token: str | None = None,
        actor_login: str = "github-actions[bot]",
        actor_type: str = "Bot",
        read_only: bool = False,
        validate_responses: bool = True,
    ) -> None:
        self.owner, self.repo = repository.split("/", 1)
        self.default_branch = default_branch
        self.expected_token = token
        self.read_only = read_only
        self.validate_responses = validate_responses
        self.requests: list[RecordedRequest] = []
        self.authorizations: list[str] = []
        self.unexpected_requests: list[Rejection] = []
        self.invalid_requests: list[Rejection] = []
        self.invalid_responses: list[Rejection] = []
        self._lock = threading.RLock()
        self._users: dict[str, FakeUser] = {}
        self._pulls: dict[int, FakePull] = {}
        self._issues: set[int] = set()
        self._comments: list[FakeComment] = []
        self._statuses: list[FakeStatus] = []
        self._faults: list[Fault] = []
        self._next_id = 1000
        self._ticks = 0
        self.actor = self._user(actor_login, actor_type)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def url(self) -> str:
        """The `base_url` to give PyGithub (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeGitHub is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ seeding state

    def add_issue(self, number: int) -> None:
        """Make issue `number` exist (pull requests are issues too)."""
        with self._lock:
            self._issues.add(number)

    def add_pull(
        self,
        number: int = 1,
        *,
        head_sha: str = "a" * 40,
        base_sha: str = "b" * 40,
        head_repo: str | None = None,
        head_ref: str = "feature",
        base_ref: str | None = None,
        files: Iterable[PullFile | tuple[str, str] | tuple[str, str, str | None]] = (),
    ) -> FakePull:
        """Open pull request `number`; `head_repo` differs from the repository for a fork."""
        pull = FakePull(
            number=number,
            head_sha=head_sha,
            base_sha=base_sha,
            head_repo=head_repo or self.full_name,
            head_ref=head_ref,
            base_ref=base_ref or self.default_branch,
            files=[PullFile(*f) for f in files],
        )
        with self._lock:
            self._pulls[number] = pull
            self._issues.add(number)
        return pull

    def add_comment(
        self, issue: int, body: str, user_login: str = "octocat", user_type: str = "User"
    ) -> int:
        """Seed a comment as if `user_login` had written it; returns its id."""
        with self._lock:
            if issue not in self._issues:
                raise ValueError(f"issue #{issue} does not exist: call add_pull/add_issue first")
            return self._create_comment(issue, body, self._user(user_login, user_type)).id

    def add_comments(
        self,
        issue: int,
        bodies: Iterable[str],
        user_login: str = "octocat",
        user_type: str = "User",
    ) -> list[int]:
        """Seed many comments at once (e.g. 250 to exercise pagination)."""
        return [self.add_comment(issue, b, user_login, user_type) for b in bodies]

    def push_to_pull(self, number: int, head_sha: str) -> None:
        """A push to pull request `number`'s branch: its head moves to `head_sha`."""
        with self._lock:
            self._pulls[number].head_sha = head_sha

    # ------------------------------------------------------------------ fault injection

    def inject_fault(
        self,
        operation: str,
        status: int,
        *,
        times: int = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer the next `times` requests to `operation` (or `ANY_ROUTE`) with `status`."""
        if operation != ANY_ROUTE and operation not in load_spec()["operations"]:
            raise ValueError(f"unknown operation {operation!r}")
        if body is None:
            body = {"message": _REASONS.get(status, "Error"), "status": str(status)}
        fault = Fault(operation, status, body, dict(headers or {}), times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_next(self, operation: str, status: int = 500, *, times: int = 1) -> Fault:
        """Server errors (500, 502, 503...) on the next `times` requests to `operation`."""
        return self.inject_fault(operation, status, times=times)

    def secondary_rate_limit_next(
        self, operation: str, *, times: int = 1, retry_after: int | None = 1
    ) -> Fault:
        """GitHub's secondary rate limit: 403 with that message (and `Retry-After` if given)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again.",
            "documentation_url": "https://docs.github.com/rest/using-the-rest-api/"
            "rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "403",
        }
        return self.inject_fault(operation, 403, times=times, body=body, headers=headers)

    def too_many_requests_next(
        self, operation: str, *, times: int = 1, retry_after: int = 1
    ) -> Fault:
        """429 Too Many Requests with `Retry-After`."""
        headers = {"Retry-After": str(retry_after)}
        return self.inject_fault(operation, 429, times=times, headers=headers)

    def reset_next(self, operation: str, *, times: int = 1, after_serving: bool = False) -> Fault:
        """Drop the connection with a TCP reset on the next `times` requests to `operation`;
        with `after_serving`, only after the request took effect (as when GitHub did the write
        and its answer was lost on the way)."""
        if operation != ANY_ROUTE and operation not in load_spec()["operations"]:
            raise ValueError(f"unknown operation {operation!r}")
        fault = Fault(operation, RESET, None, {}, times, after_serving)
        with self._lock:
            self._faults.append(fault)
        return fault

    def pending_faults(self) -> int:
        """How many injected fault answers have not been served yet."""
        with self._lock:
            return sum(f.remaining for f in self._faults)

    # ------------------------------------------------------------------ reading state

    def comments(self, issue: int) -> list[FakeComment]:
        """The comments on `issue`, oldest first."""
        with self._lock:
            return [copy.copy(c) for c in self._comments if c.issue_number == issue]

    def statuses(self, sha: str) -> list[FakeStatus]:
        """Every status set on `sha`, oldest first."""
        with self._lock:
            return [copy.copy(s) for s in self._statuses if s.sha == sha]

    def latest_status(self, sha: str, context: str) -> FakeStatus | None:
        """What GitHub shows for `context` on `sha` (contexts are case-insensitive)."""
        matching = [s for s in self.statuses(sha) if s.context.casefold() == context.casefold()]
        return matching[-1] if matching else None

    def requests_to(self, operation: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    def assert_no_surprises(self) -> None:
        """Fail when any request was unknown, invalid, or answered with an invalid shape."""
        problems = [
            *(
                f"unexpected {r.request.method} {r.request.path}: {r.reason}"
                for r in self.unexpected_requests
            ),
            *(
                f"invalid {r.request.method} {r.request.path}: {r.reason}"
                for r in self.invalid_requests
            ),
            *(
                f"bad response to {r.request.method} {r.request.path}: {r.reason}"
                for r in self.invalid_responses
            ),
        ]
        assert not problems, "\n".join(problems)

    # ------------------------------------------------------------------ request handling

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        """Answer one request: (status, JSON body or None, headers). Header names lower-case."""
        split = urlsplit(raw_path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        body: Any = None
        body_error = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body, body_error = raw.decode("utf-8", "replace"), "body is not JSON"
        route, params = self._route(method, path)
        rejection: tuple[list[Rejection], str] | None = None
        with self._lock:  # one request at a time: the state stays consistent without finesse
            if route is None:
                reply = _Reply(404, _error("Not Found", 404))
                rejection = (self.unexpected_requests, "no such route in GitHub's description")
            else:
                try:
                    reply = self._serve(route, params, query, headers, body, body_error, path)
                except _Rejected as rejected:
                    reply = rejected.reply
                    unknown = reply.status == 501
                    rejection = (
                        self.unexpected_requests if unknown else self.invalid_requests,
                        rejected.reason,
                    )
            operation = route.operation if route else None
            record = RecordedRequest(method, path, query, body, operation, reply.status)
            self.requests.append(record)
            if rejection is not None:
                rejection[0].append(Rejection(record, rejection[1]))
            if route is not None and self.validate_responses and 200 <= reply.status < 300:
                problem = _response_problem(route.operation, reply)
                if problem:
                    self.invalid_responses.append(Rejection(record, problem))
        return reply.status, reply.body, reply.headers

    def _route(self, method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
        for route in _routes():
            if route.method != method:
                continue
            match = route.pattern.match(path)
            if match:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None, {}

    def _serve(
        self,
        route: _Route,
        params: dict[str, str],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: Any,
        body_error: str | None,
        path: str,
    ) -> _Reply:
        op = route.operation
        fault = next(
            (f for f in self._faults if f.remaining > 0 and f.operation in (op, ANY_ROUTE)), None
        )
        if fault is not None:
            fault.remaining -= 1
            if not fault.after_serving:
                return _Reply(fault.status, copy.deepcopy(fault.body), dict(fault.headers))
            self._serve_unfaulted(route, params, query, headers, body, body_error, path)
            return _Reply(RESET)
        return self._serve_unfaulted(route, params, query, headers, body, body_error, path)

    def _serve_unfaulted(
        self,
        route: _Route,
        params: dict[str, str],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: Any,
        body_error: str | None,
        path: str,
    ) -> _Reply:
        op = route.operation
        docs = load_spec()["operations"][op].get("docsUrl", "https://docs.github.com/rest")
        self._check_auth(headers)
        not_found = _Reply(404, _error("Not Found", 404, docs))
        for name in route.integer_params & params.keys():
            if not params[name].isdigit():
                raise _Rejected(not_found, f"path parameter {name} is not an integer")
        if "owner" in params and (params["owner"].lower(), params["repo"].lower()) != (
            self.owner.lower(),
            self.repo.lower(),
        ):
            raise _Rejected(not_found, f"unknown repository {params['owner']}/{params['repo']}")
        self._check_query(op, query, docs)
        self._check_body(op, body, body_error, docs)

        if self.actor.type == "Bot" and not load_spec()["operations"][op].get("x-github", {}).get(
            "enabledForGitHubApps", True
        ):
            # e.g. `GET /user`: an Actions/App installation token is not a user.
            message = "Resource not accessible by integration"
            return _Reply(403, _error(message, 403, docs))

        if self.read_only and route.method in _WRITE_METHODS:
            reply_headers = {}
            if op in _ACCEPTED_PERMISSIONS:
                reply_headers["X-Accepted-GitHub-Permissions"] = _ACCEPTED_PERMISSIONS[op]
            message = "Resource not accessible by integration"
            return _Reply(403, _error(message, 403, docs), reply_headers)

        handler = self._handlers().get(op)
        if handler is None:
            reply = _Reply(501, _error("Not implemented by FakeGitHub", 501))
            raise _Rejected(reply, "route exists at GitHub but the fake does not serve it")
        return handler(_Call(params, query, body, docs, self.url + path))

    def _check_auth(self, headers: Mapping[str, str]) -> None:
        value = headers.get("authorization")
        if value is None:
            raise _Rejected(_Reply(401, _error("Requires authentication", 401)), "no Authorization")
        self.authorizations.append(value)
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token:
            raise _Rejected(_Reply(401, _error("Bad credentials", 401)), "malformed Authorization")
        if self.expected_token is not None and token != self.expected_token:
            raise _Rejected(_Reply(401, _error("Bad credentials", 401)), "wrong token")

    def _check_query(self, op: str, query: dict[str, list[str]], docs: str) -> None:
        declared = {
            p["name"]: p for p in load_spec()["operations"][op]["parameters"] if p["in"] == "query"
        }
        for name, values in query.items():
            spec = declared.get(name)
            if spec is None:
                continue  # GitHub ignores query parameters it does not know
            kind = spec.get("schema", {}).get("type")
            if kind == "integer" and not all(v.isdigit() for v in values):
                message = f"Invalid request.\n\n{name} must be an integer."
                raise _Rejected(_Reply(422, _error(message, 422, docs)), message)

    def _check_body(self, op: str, body: Any, body_error: str | None, docs: str) -> None:
        if body_error is not None:
            raise _Rejected(_Reply(400, _error("Problems parsing JSON", 400, docs)), body_error)
        validator = _validator(op, "request")
        if validator is None:
            return
        if body is None and not load_spec()["operations"][op]["requestBody"].get("required"):
            return
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(root)"
            message = f"Invalid request.\n\nFor '{where}', {first.message}."
            raise _Rejected(_Reply(422, _error(message, 422, docs)), message.replace("\n\n", " "))
        limit = _limit_error(op, body)
        if limit is not None:
            resource, fieldname, message = limit
            error = {"resource": resource, "code": "custom", "field": fieldname, "message": message}
            payload = {
                "message": "Validation Failed",
                "errors": [error],
                "documentation_url": docs,
                "status": "422",
            }
            raise _Rejected(_Reply(422, payload), message)

    # ------------------------------------------------------------------ handlers (hold the lock)

    def _handlers(self) -> dict[str, Callable[[_Call], _Reply]]:
        return {
            GET_REPO: self._get_repo,
            GET_PULL: self._get_pull,
            LIST_PULL_FILES: self._list_pull_files,
            LIST_COMMENTS: self._list_comments,
            CREATE_COMMENT: self._post_comment,
            UPDATE_COMMENT: self._patch_comment,
            DELETE_COMMENT: self._delete_comment,
            CREATE_STATUS: self._post_status,
            LIST_STATUSES: self._list_statuses,
            COMBINED_STATUS: self._combined_status,
            GET_USER: self._get_user,
        }

    def _get_repo(self, call: _Call) -> _Reply:
        return _Reply(200, self._repo_json(_example(GET_REPO, 200)))

    def _get_pull(self, call: _Call) -> _Reply:
        pull = self._pull(int(call.params["pull_number"]), call.docs)
        data = self._rewrite(_example(GET_PULL, 200))
        number = pull.number
        api = f"{self.url}/repos/{self.full_name}"
        web = f"https://github.com/{self.full_name}"
        data.update(
            number=number,
            id=number,
            state="open",
            url=f"{api}/pulls/{number}",
            html_url=f"{web}/pull/{number}",
            diff_url=f"{web}/pull/{number}.diff",
            patch_url=f"{web}/pull/{number}.patch",
            issue_url=f"{api}/issues/{number}",
            commits_url=f"{api}/pulls/{number}/commits",
            review_comments_url=f"{api}/pulls/{number}/comments",
            comments_url=f"{api}/issues/{number}/comments",
            statuses_url=f"{api}/statuses/{pull.head_sha}",
            changed_files=len(pull.files),
            merged=False,
            merged_at=None,
            closed_at=None,
            merged_by=None,
            # The example's team lacks fields its own schema requires; a PR without reviewers.
            requested_teams=[],
            requested_reviewers=[],
        )
        head_owner, head_name = pull.head_repo.split("/", 1)
        for side, sha, ref, owner, name in (
            ("head", pull.head_sha, pull.head_ref, head_owner, head_name),
            ("base", pull.base_sha, pull.base_ref, self.owner, self.repo),
        ):
            part = data[side]
            part.update(sha=sha, ref=ref, label=f"{owner}:{ref}")
            part["repo"] = self._repo_json(part["repo"], owner, name)
            part["repo"]["fork"] = side == "head" and pull.head_repo != self.full_name
        return _Reply(200, data)

    def _list_pull_files(self, call: _Call) -> _Reply:
        pull = self._pull(int(call.params["pull_number"]), call.docs)
        template = _example(LIST_PULL_FILES, 200)[0]
        items = []
        for f in pull.files[:3000]:  # GitHub lists at most 3000 files
            item = self._rewrite(copy.deepcopy(template))
            item.update(
                filename=f.filename,
                status=f.status,
                blob_url=f"https://github.com/{self.full_name}/blob/{pull.head_sha}/{f.filename}",
                raw_url=f"https://github.com/{self.full_name}/raw/{pull.head_sha}/{f.filename}",
                contents_url=f"{self.url}/repos/{self.full_name}/contents/"
                f"{quote(f.filename)}?ref={pull.head_sha}",
            )
            if f.previous_filename is not None:
                item["previous_filename"] = f.previous_filename
            items.append(item)
        return self._page(items, call)

    def _list_comments(self, call: _Call) -> _Reply:
        issue = self._issue(int(call.params["issue_number"]), call.docs)
        comments = [c for c in self._comments if c.issue_number == issue]
        if "since" in call.query:
            since = datetime.fromisoformat(call.query["since"][0].replace("Z", "+00:00"))
            comments = [c for c in comments if c.updated_at >= since]
        return self._page([self._comment_json(c) for c in comments], call)

    def _post_comment(self, call: _Call) -> _Reply:
        issue = self._issue(int(call.params["issue_number"]), call.docs)
        comment = self._create_comment(issue, call.body["body"], self.actor)
        data = self._comment_json(comment)
        return _Reply(201, data, {"Location": data["url"]})

    def _patch_comment(self, call: _Call) -> _Reply:
        comment = self._comment(int(call.params["comment_id"]), call.docs)
        comment.body = call.body["body"]
        comment.updated_at = self._tick()
        return _Reply(200, self._comment_json(comment))

    def _delete_comment(self, call: _Call) -> _Reply:
        comment = self._comment(int(call.params["comment_id"]), call.docs)
        self._comments.remove(comment)
        return _Reply(204)

    def _post_status(self, call: _Call) -> _Reply:
        sha = call.params["sha"]
        context = call.body.get("context") or "default"
        same = [
            s for s in self._statuses if s.sha == sha and s.context.casefold() == context.casefold()
        ]
        if len(same) >= MAX_STATUSES_PER_CONTEXT:
            message = "This SHA and context has reached the maximum number of statuses."
            payload = {"message": "Validation Failed", "errors": [{"message": message}]}
            raise _Rejected(_Reply(422, payload), message)
        status = FakeStatus(
            id=self._new_id(),
            sha=sha,
            state=call.body["state"],
            description=call.body.get("description"),
            context=context,
            target_url=call.body.get("target_url"),
            creator=self.actor,
            created_at=self._tick(),
        )
        self._statuses.append(status)
        data = self._status_json(status)
        return _Reply(201, data, {"Location": data["url"]})

    def _list_statuses(self, call: _Call) -> _Reply:
        newest_first = [s for s in reversed(self._statuses) if s.sha == call.params["ref"]]
        return self._page([self._status_json(s) for s in newest_first], call)

    def _combined_status(self, call: _Call) -> _Reply:
        sha = call.params["ref"]
        latest: dict[str, FakeStatus] = {}
        for s in self._statuses:
            if s.sha == sha:
                latest[s.context.casefold()] = s
        states = {s.state for s in latest.values()}
        if states & {"error", "failure"}:
            state = "failure"
        elif not states or "pending" in states:
            state = "pending"
        else:
            state = "success"
        data = self._rewrite(_example(COMBINED_STATUS, 200))
        statuses = []
        for s in latest.values():
            item = self._status_json(s)
            statuses.append({k: v for k, v in item.items() if k != "creator"})
        data.update(
            state=state,
            sha=sha,
            total_count=len(statuses),
            statuses=statuses,
            commit_url=f"{self.url}/repos/{self.full_name}/commits/{sha}",
            url=f"{self.url}/repos/{self.full_name}/commits/{sha}/status",
        )
        return _Reply(200, data)

    def _get_user(self, call: _Call) -> _Reply:
        data = self._rewrite(_example(GET_USER, 200))
        data.update(self._user_json(self.actor))
        return _Reply(200, data)

    # ------------------------------------------------------------------ helpers (hold the lock)

    def _tick(self) -> datetime:
        """A deterministic clock: every write happens one second after the previous one."""
        self._ticks += 1
        return _EPOCH + timedelta(seconds=self._ticks)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _user(self, login: str, user_type: str) -> FakeUser:
        with self._lock:
            user = self._users.get(login)
            if user is None:
                user = self._users[login] = FakeUser(login, user_type, 100 + len(self._users))
            return user

    def _create_comment(self, issue: int, body: str, user: FakeUser) -> FakeComment:
        now = self._tick()
        comment = FakeComment(self._new_id(), issue, body, user, now, now)
        self._comments.append(comment)
        return comment

    def _pull(self, number: int, docs: str) -> FakePull:
        pull = self._pulls.get(number)
        if pull is None:
            raise _Rejected(_Reply(404, _error("Not Found", 404, docs)), f"no pull #{number}")
        return pull

    def _issue(self, number: int, docs: str) -> int:
        if number not in self._issues:
            raise _Rejected(_Reply(404, _error("Not Found", 404, docs)), f"no issue #{number}")
        return number

    def _comment(self, comment_id: int, docs: str) -> FakeComment:
        for comment in self._comments:
            if comment.id == comment_id:
                return comment
        raise _Rejected(_Reply(404, _error("Not Found", 404, docs)), f"no comment {comment_id}")

    def _rewrite(self, value: Any) -> Any:
        """Point the example's octocat/Hello-World URLs at this server and repository."""
        if isinstance(value, dict):
            return {k: self._rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._rewrite(v) for v in value]
        if isinstance(value, str):
            return value.replace("https://api.github.com", self.url).replace(
                "octocat/Hello-World", self.full_name
            )
        return value

    def _repo_json(
        self, template: dict[str, Any], owner: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        owner, name = owner or self.owner, name or self.repo
        data = self._rewrite(template)
        text = json.dumps(data).replace(self.full_name, f"{owner}/{name}")
        data = json.loads(text)
        data.update(name=name, full_name=f"{owner}/{name}", default_branch=self.default_branch)
        # The example is a fork of a template; its nested `source`/`parent`/`template_repository`
        # do not even match GitHub's own schema. This repository is none of those.
        for key in ("source", "parent", "template_repository"):
            data.pop(key, None)
        data.setdefault("language", None)  # required by the schema, missing from the example
        if isinstance(data.get("owner"), dict):
            data["owner"].update(self._user_json(self._user(owner, "Organization")))
        return dict(data)

    def _user_json(self, user: FakeUser) -> dict[str, Any]:
        data = self._rewrite(copy.deepcopy(_example(CREATE_COMMENT, 201)["user"]))
        api_url = f"{self.url}/users/{quote(user.login)}"
        for key, value in data.items():
            if isinstance(value, str) and value.startswith(f"{self.url}/users/octocat"):
                data[key] = api_url + value.removeprefix(f"{self.url}/users/octocat")
        data.update(
            login=user.login,
            id=user.id,
            node_id=f"U_{user.id}",
            type=user.type,
            html_url=f"https://github.com/{quote(user.login)}",
            avatar_url=f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
        )
        return dict(data)

    def _comment_json(self, comment: FakeComment) -> dict[str, Any]:
        data = self._rewrite(_example(CREATE_COMMENT, 201))
        api = f"{self.url}/repos/{self.full_name}"
        data.update(
            id=comment.id,
            node_id=f"IC_{comment.id}",
            url=f"{api}/issues/comments/{comment.id}",
            html_url=f"https://github.com/{self.full_name}/pull/{comment.issue_number}"
            f"#issuecomment-{comment.id}",
            issue_url=f"{api}/issues/{comment.issue_number}",
            body=comment.body,
            user=self._user_json(comment.user),
            created_at=_iso(comment.created_at),
            updated_at=_iso(comment.updated_at),
            author_association="NONE" if comment.user.type == "Bot" else "MEMBER",
        )
        return dict(data)

    def _status_json(self, status: FakeStatus) -> dict[str, Any]:
        data = self._rewrite(_example(CREATE_STATUS, 201))
        data.update(
            id=status.id,
            node_id=f"SC_{status.id}",
            url=f"{self.url}/repos/{self.full_name}/statuses/{status.sha}",
            state=status.state,
            description=status.description,
            target_url=status.target_url,
            context=status.context,
            created_at=_iso(status.created_at),
            updated_at=_iso(status.created_at),
            creator=self._user_json(status.creator),
        )
        return dict(data)

    def _page(self, items: list[Any], call: _Call) -> _Reply:
        """One page of `items` with GitHub's `Link` header (per_page default 30, max 100)."""
        per_page = min(int(call.query.get("per_page", ["30"])[0] or 30), 100) or 30
        page = max(int(call.query.get("page", ["1"])[0] or 1), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        kept = {k: v[0] for k, v in call.query.items() if k != "page"}

        def link(number: int, rel: str) -> str:
            return f'<{call.url}?{urlencode({**kept, "page": number})}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        return _Reply(200, chunk, {"Link": ", ".join(links)} if links else {})


# --------------------------------------------------------------------------- plumbing

_REASONS = {
    400: "Bad Request",
    401: "Requires authentication",
    403: "Forbidden",
    404: "Not Found",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _error(message: str, status: int, docs: str = "https://docs.github.com/rest") -> dict[str, str]:
    return {"message": message, "documentation_url": docs, "status": str(status)}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _limit_error(op: str, body: Any) -> tuple[str, str, str] | None:
    """The limits GitHub enforces that its description leaves out: (resource, field, message)."""
    if op in (CREATE_COMMENT, UPDATE_COMMENT) and len(body["body"]) > MAX_COMMENT_CHARS:
        return (
            "IssueComment",
            "body",
            f"body is too long (maximum is {MAX_COMMENT_CHARS} characters)",
        )
    description = body.get("description") if op == CREATE_STATUS else None
    if description is not None and len(description) > MAX_STATUS_DESCRIPTION_CHARS:
        return (
            "Status",
            "description",
            f"description is too long (maximum is {MAX_STATUS_DESCRIPTION_CHARS} characters)",
        )
    return None


def _response_problem(operation: str, reply: _Reply) -> str | None:
    validator = _validator(operation, str(reply.status))
    if validator is None or reply.body is None:
        return None
    error = next(iter(validator.iter_errors(reply.body)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


class _Server(ThreadingHTTPServer):
    """Tracks open connections so `stop()` can end keep-alive handlers and join their threads."""

    daemon_threads = False  # join handler threads on server_close(): no leaked sockets
    block_on_close = True

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like GitHub
    timeout = 10  # a stuck client cannot hold stop() for longer than this
    server: _Server

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake = self.server.fake
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, body, extra = fake.handle(self.command, self.path, headers, raw)
        if status == RESET:
            # SO_LINGER with a zero timeout makes close() send RST: "connection reset by peer"
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", "4999")
        self.send_header("X-RateLimit-Resource", "core")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake keeps its own log in `FakeGitHub.requests`."""
