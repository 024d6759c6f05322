"""The response cache: layout, round trip, atomic writes, corrupt entries, no secrets."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from gate.cache import CacheUnwritable, CacheWriter, ResponseCache
from gate.models import ChatRequest, Message, Usage
from gate.providers import Completion

REQUEST = ChatRequest(
    provider="openai",
    base_url="https://api.openai.com/v1",
    model="gpt-4o-mini",
    messages=(Message("user", "Say hi"),),
    params=(("temperature", 0),),
    repeat=1,
)
COMPLETION = Completion(
    text="hi", usage=Usage(input_tokens=3, output_tokens=1), latency_ms=123.5, finish_reason="stop"
)


def test_round_trip_keeps_the_completion(tmp_path: Path) -> None:
    """What is put under a key comes back equal, latency included."""
    cache = ResponseCache(tmp_path)
    assert cache.get(REQUEST.key) is None
    cache.put(REQUEST.key, REQUEST, COMPLETION)
    assert cache.get(REQUEST.key) == COMPLETION


def test_layout_is_one_readable_file_per_key(tmp_path: Path) -> None:
    """An entry lives at dir/ab/abcdef….json with mode 0644, holding the request body."""
    cache = ResponseCache(tmp_path)
    key = REQUEST.key
    cache.put(key, REQUEST, COMPLETION)
    path = tmp_path / key[:2] / f"{key}.json"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    entry = json.loads(path.read_text())
    assert entry["request"]["body"] == REQUEST.payload()
    assert entry["request"]["repeat"] == 1
    assert entry["completion"]["text"] == "hi"


def test_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path: Path) -> None:
    """A truncated or foreign file reads as a miss; the next put replaces it."""
    cache = ResponseCache(tmp_path)
    key = REQUEST.key
    path = cache.path_for(key)
    path.parent.mkdir(parents=True)
    for junk in ('{"version": 1, "key": "', "[]", '{"version": 1, "key": "other"}', "\x00\xff"):
        path.write_text(junk)
        assert cache.get(key) is None
    cache.put(key, REQUEST, COMPLETION)
    assert cache.get(key) == COMPLETION


def test_an_entry_moved_to_another_key_is_a_miss(tmp_path: Path) -> None:
    """A file whose stored key differs from its name is not served for that name."""
    cache = ResponseCache(tmp_path)
    cache.put(REQUEST.key, REQUEST, COMPLETION)
    other = "ab" + REQUEST.key[2:]
    target = cache.path_for(other)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(cache.path_for(REQUEST.key).read_bytes())
    assert cache.get(other) is None


def test_concurrent_writers_and_readers_never_see_half_an_entry(tmp_path: Path) -> None:
    """Writes are atomic: racing readers see a whole entry or none; no temp file is left."""
    cache = ResponseCache(tmp_path)
    key = REQUEST.key
    long = Completion("x" * 200_000, Usage(1, 2), 5.0, "stop")
    seen: list[list[Completion | None]] = [[], []]  # what each reader saw, in its order
    stop = threading.Event()

    def write() -> None:
        for i in range(30):
            cache.put(key, REQUEST, long if i % 2 else COMPLETION)

    def read(mine: list[Completion | None]) -> None:
        while not stop.is_set():
            mine.append(cache.get(key))

    readers = [threading.Thread(target=read, args=(mine,)) for mine in seen]
    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()

    for mine in seen:
        hits = [entry for entry in mine if entry is not None]
        assert hits
        assert all(entry in (COMPLETION, long) for entry in hits)
        # None only before the first write landed, never between two whole entries
        first_hit = mine.index(hits[0])
        assert None not in mine[first_hit:]
    assert [p.name for p in tmp_path.rglob(".tmp-*")] == []


def test_no_credentials_in_the_stored_request(tmp_path: Path) -> None:
    """A base URL's user:password and query string (where gateways put keys) are not stored."""
    request = ChatRequest(
        provider="openai",
        base_url="https://user:hunter2secret@gw.example/v1?api-key=hunter2secret",
        model="gpt-4o",
        messages=(Message("user", "hello"),),
    )
    cache = ResponseCache(tmp_path)
    cache.put(request.key, request, COMPLETION)
    text = cache.path_for(request.key).read_text()
    assert "hunter2secret" not in text
    assert json.loads(text)["request"]["base_url"] == "https://gw.example/v1"


def test_unwritable_directory_is_one_clear_error(tmp_path: Path) -> None:
    """A cache-dir that cannot hold files gives CacheUnwritable naming it, early and on put."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    cache = ResponseCache(blocker / "cache")
    with pytest.raises(CacheUnwritable, match=r"cache-dir .*not-a-dir/cache: cannot write there"):
        cache.check_writable()
    with pytest.raises(CacheUnwritable):
        cache.put(REQUEST.key, REQUEST, COMPLETION)


def test_background_writer_lands_every_entry_by_close(tmp_path: Path) -> None:
    """Entries queued on the writer are all on disk when close() returns, without an error."""
    cache = ResponseCache(tmp_path)
    writer = CacheWriter(cache)
    requests = [ChatRequest("openai", "", "gpt-4o", (Message("user", f"q{i}"),)) for i in range(50)]
    for request in requests:
        writer.put(request.key, request, COMPLETION)
    assert writer.close() is None
    assert all(cache.get(request.key) == COMPLETION for request in requests)


def test_background_writer_reports_the_first_failure(tmp_path: Path) -> None:
    """A writer whose directory cannot be written returns CacheUnwritable from close()."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    writer = CacheWriter(ResponseCache(blocker))
    writer.put(REQUEST.key, REQUEST, COMPLETION)
    assert isinstance(writer.close(), CacheUnwritable)
