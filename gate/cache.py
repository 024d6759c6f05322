"""The content-addressed response cache: one JSON file per request key under `cache-dir`.

`dir/ab/abcdef….json` holds the completion (text, usage, latency, finish reason) and the
request it answers (the JSON body, provider, base URL and repeat index; never headers or
keys). Writes are atomic (a temporary file in the same directory, then `os.replace`), so a
killed run leaves whole entries or none. An entry that cannot be read or does not match its
key is a miss, and is rewritten by the next successful call. `CacheWriter` writes from
background threads, so slow file creation never holds up the event loop that waits on the
network.
"""

from __future__ import annotations

import json
import os
import queue
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gate.errors import GateError
from gate.models import ChatRequest, Usage
from gate.providers import Completion

FORMAT_VERSION = 1
FILE_MODE = 0o644
DIR_MODE = 0o755


class CacheUnwritable(GateError):
    """The cache directory cannot be written (not a directory, read-only, disk full)."""


class ResponseCache:
    """Completions by `ChatRequest.key`, kept as files under one directory."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r})"

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def check_writable(self) -> None:
        """Create the directory and prove a file can be written there, before any paid call."""
        try:
            self.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.directory, prefix=".tmp-probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise self._unwritable(exc) from None

    def get(self, key: str) -> Completion | None:
        """The cached completion, or None when absent, unreadable or not this key's."""
        try:
            data = json.loads(self.path_for(key).read_bytes())
            if data.get("version") != FORMAT_VERSION or data.get("key") != key:
                return None
            return _completion_from(data["completion"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, key: str, request: ChatRequest, completion: Completion) -> None:
        """Store a completion atomically; concurrent writers of one key both leave a whole file."""
        path = self.path_for(key)
        entry = {
            "version": FORMAT_VERSION,
            "key": key,
            "request": {
                "provider": request.provider,
                "base_url": _without_credentials(request.base_url),
                "repeat": request.repeat,
                "body": request.payload(),
            },
            "completion": {
                "text": completion.text,
                "usage": {
                    "input_tokens": completion.usage.input_tokens,
                    "output_tokens": completion.usage.output_tokens,
                },
                "latency_ms": completion.latency_ms,
                "finish_reason": completion.finish_reason,
            },
        }
        data = json.dumps(entry, ensure_ascii=False, indent=1, sort_keys=True).encode()
        try:
            path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        except OSError as exc:
            raise self._unwritable(exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, FILE_MODE)  # mkstemp makes 0o600; other steps of the job may read it
            os.replace(tmp, path)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._unwritable(exc) from None
            raise

    def _unwritable(self, exc: OSError) -> CacheUnwritable:
        reason = exc.strerror or type(exc).__name__
        return CacheUnwritable(
            f"cache-dir {self.directory}: cannot write there ({reason}); "
            "set cache-dir to a writable directory"
        )


class CacheWriter:
    """Writes entries on background threads; `close()` waits until all are on disk.

    `put` only enqueues (no syscall, no wake-up of the event loop). Several threads, because
    creating a file costs a millisecond on some filesystems and they wait in the kernel, not
    on each other. After the first failed write the rest are dropped; `close()` returns that
    error for the caller to raise.
    """

    def __init__(self, cache: ResponseCache, threads: int = 4) -> None:
        self._cache = cache
        self._queue: queue.SimpleQueue[tuple[str, ChatRequest, Completion] | None] = (
            queue.SimpleQueue()
        )
        self._error: CacheUnwritable | None = None
        self._threads = [
            threading.Thread(target=self._drain, name=f"llm-gate-cache-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def put(self, key: str, request: ChatRequest, completion: Completion) -> None:
        self._queue.put((key, request, completion))

    def close(self) -> CacheUnwritable | None:
        """Write everything queued so far, stop the threads, and return the first write error."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        return self._error

    def _drain(self) -> None:
        while (entry := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                self._cache.put(*entry)
            except CacheUnwritable as exc:
                self._error = self._error or exc


def _completion_from(data: dict[str, Any]) -> Completion:
    usage = data["usage"]
    text = data["text"]
    if not isinstance(text, str):
        raise TypeError("text")
    finish = data.get("finish_reason")
    return Completion(
        text=text,
        usage=Usage(int(usage["input_tokens"]), int(usage["output_tokens"])),
        latency_ms=float(data["latency_ms"]),
        finish_reason=finish if isinstance(finish, str) else None,
    )


def _without_credentials(url: str) -> str:
    """A base URL as stored: no `user:password@`, no query string (some gateways put keys there)."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
