"""The content-addressed response cache: one SQLite file, `responses.sqlite3`, under `cache-dir`.

A row per request key holds the completion (text, token usage, latency, finish reason, a
column each) and the request it answers (JSON text of the body, provider, base URL and repeat
index; never headers or keys). One file, not a file per request: opening a small file costs tens
of microseconds on CI disks, so a cache of 20,000 answers read file by file takes a second,
read from SQLite a tenth of that; and `actions/cache` saves and restores one file faster
than thousands.

Writes are SQLite transactions: a killed run leaves whole entries or none. A row that cannot
be read (a value of the wrong type) is a miss and is replaced by the next successful call; a
file that is not a database (truncated, overwritten) is replaced by a fresh one on the first
write. Readers open the file read-only, so `--replay` against a read-only or empty directory
creates nothing. `CacheWriter` writes from a background thread in batches, so the event loop
that waits on the network never waits on the disk.
"""

from __future__ import annotations

import json
import math
import os
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gate.errors import GateError
from gate.models import ChatRequest, Usage
from gate.targets.base import Completion

FILE_NAME = "responses.sqlite3"
# PRAGMA user_version; 1 was a JSON file per key; 2 had no cost_usd; 3 no prompt-cache tokens
FORMAT_VERSION = 4
DIR_MODE = 0o755
GITIGNORE = "# written by llm-gate: its response cache is not part of the repository\n*\n"
BUSY_TIMEOUT_S = 10.0  # another process (or this one's writer) holding the file's lock
_SQL_VARIABLES = 500  # keys per `IN (...)` query, well under SQLite's limit
_WRITE_BATCH = 2_000  # entries per transaction, at most

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY NOT NULL,   -- ChatRequest.key: sha256 of the full request
    request TEXT NOT NULL,           -- JSON: provider, base_url, repeat, body
    text TEXT NOT NULL,              -- the completion
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    finish_reason TEXT,
    cost_usd REAL,                   -- what the provider said the call cost (a proxy's header)
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,   -- input read from the provider's cache
    cache_write_tokens INTEGER NOT NULL DEFAULT 0   -- and written to it (Anthropic's usage)
) WITHOUT ROWID
"""
_COMPLETION = (
    "text, input_tokens, output_tokens, latency_ms, finish_reason, cost_usd, "
    "cache_read_tokens, cache_write_tokens"
)
# An older file (restored by actions/cache, or a recorded one read in replay) lacks columns:
# version 2 the cost (read as unknown), 2 and 3 the prompt-cache tokens (read as 0); they are
# added on the first write.
_COMPLETION_OLD = {
    2: "text, input_tokens, output_tokens, latency_ms, finish_reason, NULL, 0, 0",
    3: "text, input_tokens, output_tokens, latency_ms, finish_reason, cost_usd, 0, 0",
}
_ADDED_COLUMNS = {
    2: ("cost_usd REAL",),
    3: (
        "cache_read_tokens INTEGER NOT NULL DEFAULT 0",
        "cache_write_tokens INTEGER NOT NULL DEFAULT 0",
    ),
}


class CacheUnwritable(GateError):
    """The cache directory cannot be written (not a directory, read-only, disk full)."""


class ResponseCache:
    """Completions by `ChatRequest.key`, kept in one SQLite file under a directory.

    Safe to use from several threads (each gets its own connection) and processes (SQLite's
    file locks).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r})"

    # ----------------------------------------------------------------------- reading

    def get(self, key: str) -> Completion | None:
        """The cached completion, or None when absent or unreadable."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Completion]:
        """The cached completions of those keys that have a readable entry."""
        # In key order: SQLite then finds each next key on a page it has just read (twice as
        # fast as in the order given, for a 20,000-key run).
        wanted = sorted(set(keys))
        found: dict[str, Completion] = {}
        reader = self._reader()
        if reader is None or not wanted:
            return found
        try:
            selected = _columns(reader)
            for start in range(0, len(wanted), _SQL_VARIABLES):
                chunk = wanted[start : start + _SQL_VARIABLES]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, {selected} FROM responses WHERE key IN ({marks})"
                for key, *columns in reader.execute(query, chunk):
                    completion = _completion_from(*columns)
                    if completion is not None:
                        found[key] = completion
        except sqlite3.Error:
            self._drop_reader()  # not a database, or no table yet: nothing is cached
        return found

    def entries(self) -> Iterator[tuple[str, dict[str, Any], Completion | None]]:
        """Every stored (key, request, completion); an unreadable completion is None."""
        reader = self._reader()
        if reader is None:
            return
        try:
            query = f"SELECT key, request, {_columns(reader)} FROM responses ORDER BY key"
            for key, request, *columns in reader.execute(query):
                yield key, json.loads(request), _completion_from(*columns)
        except sqlite3.Error:
            self._drop_reader()

    def _reader(self) -> sqlite3.Connection | None:
        connection: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if connection is None:
            if not self.path.is_file():
                return None  # not created yet; a later call looks again
            try:
                connection = sqlite3.connect(
                    f"{self.path.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S
                )
            except sqlite3.Error:
                return None
            self._local.reader = connection
        return connection

    def _drop_reader(self) -> None:
        connection = getattr(self._local, "reader", None)
        if connection is not None:
            connection.close()
            self._local.reader = None

    # ----------------------------------------------------------------------- writing

    def check_writable(self) -> None:
        """Create the directory and the database, before any paid call; CacheUnwritable if not."""
        self._writer()

    def put(self, key: str, request: ChatRequest, completion: Completion) -> None:
        """Store one completion (a transaction of its own)."""
        self.put_many([(key, request, completion)])

    def put_many(self, entries: Sequence[tuple[str, ChatRequest, Completion]]) -> None:
        """Store completions in one transaction; an existing row for a key is replaced."""
        rows = [
            (
                key,
                _request_json(request),
                c.text,
                c.usage.input_tokens,
                c.usage.output_tokens,
                c.latency_ms,
                c.finish_reason,
                c.cost_usd,
                c.usage.cache_read_tokens,
                c.usage.cache_write_tokens,
            )
            for key, request, c in entries
        ]
        connection = self._writer()
        try:
            connection.execute("BEGIN IMMEDIATE")  # one transaction: all rows or none
            try:
                connection.executemany(
                    f"INSERT OR REPLACE INTO responses (key, request, {_COMPLETION}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        except sqlite3.Error as exc:
            self._drop_writer()
            raise self._unwritable(exc) from None

    def close(self) -> None:
        """Close this thread's connections (others close with their threads' writers)."""
        self._drop_reader()
        self._drop_writer()

    def _writer(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "writer", None)
        if connection is not None:
            return connection
        try:
            if not self.directory.is_dir():
                self.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                # a cache inside a checkout is never part of a change (nor of a commit)
                (self.directory / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
            try:
                connection = self._open_for_writing()
            except sqlite3.DatabaseError:
                # not a database (truncated, overwritten): it is a cache, start a fresh one
                self.path.unlink(missing_ok=True)
                Path(f"{self.path}-journal").unlink(missing_ok=True)
                connection = self._open_for_writing()
        except (OSError, sqlite3.Error) as exc:
            raise self._unwritable(exc) from None
        self._local.writer = connection
        return connection

    def _open_for_writing(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            # A rollback journal (the default) keeps one file at rest, which actions/cache
            # saves whole, and lets readers open it read-only. No fsync: a cache that an OS
            # crash corrupts is replaced; a killed process still leaves whole transactions.
            connection.execute("PRAGMA synchronous = OFF")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version in _ADDED_COLUMNS:
                for older in range(version, FORMAT_VERSION):
                    for column in _ADDED_COLUMNS[older]:
                        connection.execute(f"ALTER TABLE responses ADD COLUMN {column}")
            elif version not in (0, FORMAT_VERSION):
                connection.execute("DROP TABLE IF EXISTS responses")  # another format
            connection.execute(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    def _drop_writer(self) -> None:
        connection = getattr(self._local, "writer", None)
        if connection is not None:
            connection.close()
            self._local.writer = None

    def _unwritable(self, exc: BaseException) -> CacheUnwritable:
        if isinstance(exc, OSError):
            reason = exc.strerror or type(exc).__name__
        else:
            reason = str(exc) or type(exc).__name__
        return CacheUnwritable(
            f"cache-dir {self.directory}: cannot write there ({reason}); "
            "set cache-dir to a writable directory"
        )


class CacheWriter:
    """Writes entries on a background thread; `close()` waits until all are on disk.

    `put` only enqueues (no syscall, no wake-up of the event loop). The thread writes what
    has queued up in one transaction every `flush_s` seconds: a transaction per entry would
    cost a journal file's creation and deletion each, and the thread's GIL hand-overs would
    slow the event loop that waits on the network. A killed run loses at most the last
    `flush_s` seconds of answers. After the first failed write the rest are dropped;
    `close()` returns that error for the caller to raise.
    """

    def __init__(self, cache: ResponseCache, flush_s: float = 0.25) -> None:
        self._cache = cache
        self._flush_s = flush_s
        self._queue: queue.SimpleQueue[tuple[str, ChatRequest, Completion] | None] = (
            queue.SimpleQueue()
        )
        self._closing = threading.Event()
        self._error: CacheUnwritable | None = None
        self._thread = threading.Thread(target=self._drain, name="llm-gate-cache", daemon=True)
        self._thread.start()

    def put(self, key: str, request: ChatRequest, completion: Completion) -> None:
        self._queue.put((key, request, completion))

    def close(self) -> CacheUnwritable | None:
        """Write everything queued so far, stop the thread, and return the first write error."""
        self._queue.put(None)
        self._closing.set()
        self._thread.join()
        return self._error

    def _drain(self) -> None:
        try:
            done = False
            while not done:
                first = self._queue.get()
                self._closing.wait(self._flush_s)  # let a batch gather, unless closing
                batch = [first] if first is not None else []
                done = first is None
                while not done:
                    try:
                        entry = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if entry is None:
                        done = True
                    else:
                        batch.append(entry)
                for start in range(0, len(batch), _WRITE_BATCH):
                    if self._error is not None:
                        break
                    try:
                        self._cache.put_many(batch[start : start + _WRITE_BATCH])
                    except CacheUnwritable as exc:
                        self._error = exc
        finally:
            self._cache.close()


def _request_json(request: ChatRequest) -> str:
    stored = {
        "provider": request.provider,
        "base_url": _without_credentials(request.base_url),
        "repeat": request.repeat,
        "body": request.payload(),
    }
    return json.dumps(stored, ensure_ascii=False, sort_keys=True)


def _columns(reader: sqlite3.Connection) -> str:
    """The completion's columns as this file has them (an older version: fewer)."""
    version = reader.execute("PRAGMA user_version").fetchone()[0]
    return _COMPLETION_OLD.get(version, _COMPLETION)


def _completion_from(
    text: object,
    input_tokens: object,
    output_tokens: object,
    latency: object,
    finish: object,
    cost: object = None,
    cache_read: object = 0,
    cache_write: object = 0,
) -> Completion | None:
    """A stored completion, or None when the row is not one (a miss, rewritten later).

    SQLite keeps whatever type a value was written with, whatever its column says.
    """
    if not (
        isinstance(text, str)
        and type(input_tokens) is int
        and type(output_tokens) is int
        and isinstance(latency, int | float)
        and (finish is None or isinstance(finish, str))
    ):
        return None
    known = float(cost) if isinstance(cost, int | float) and 0 <= cost < math.inf else None
    read = cache_read if type(cache_read) is int and cache_read > 0 else 0
    written = cache_write if type(cache_write) is int and cache_write > 0 else 0
    usage = Usage(input_tokens, output_tokens, read, written)
    return Completion(text, usage, float(latency), finish, known)


def _without_credentials(url: str) -> str:
    """A base URL as stored: no `user:password@`, no query string (some gateways put keys there)."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
