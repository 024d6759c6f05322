"""The response cache: layout, round trip, atomic writes, corrupt entries, no secrets."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gate.cache import FORMAT_VERSION, CacheUnwritable, CacheWriter, ResponseCache
from gate.models import ChatRequest, Message, Usage
from gate.targets.base import Completion

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


def test_layout_is_one_sqlite_file_holding_the_request(tmp_path: Path) -> None:
    """Entries live in dir/responses.sqlite3, each with its request body and repeat index."""
    cache = ResponseCache(tmp_path)
    cache.put(REQUEST.key, REQUEST, COMPLETION)
    assert [p.name for p in tmp_path.iterdir()] == ["responses.sqlite3"]
    [(key, request, completion)] = list(cache.entries())
    assert key == REQUEST.key
    assert request["body"] == REQUEST.payload()
    assert request["repeat"] == 1
    assert completion == COMPLETION
    with sqlite3.connect(tmp_path / "responses.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (FORMAT_VERSION,)


def test_many_keys_are_read_in_one_call(tmp_path: Path) -> None:
    """get_many answers more keys than one SQL statement takes, and skips the absent ones."""
    cache = ResponseCache(tmp_path)
    requests = [ChatRequest("openai", "", "m", (Message("user", f"q{i}"),)) for i in range(1_200)]
    cache.put_many([(r.key, r, COMPLETION) for r in requests[::2]])
    found = cache.get_many(r.key for r in requests)
    assert set(found) == {r.key for r in requests[::2]}
    assert all(c == COMPLETION for c in found.values())


def test_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path: Path) -> None:
    """A row with a value of the wrong type is a miss; a put replaces it."""
    cache = ResponseCache(tmp_path)
    key = REQUEST.key
    junk: list[tuple[str, object]] = [
        ("text", b"\x00\xff"),
        ("input_tokens", "many"),
        ("latency_ms", "slow"),
        ("finish_reason", b"stop"),
    ]
    for column, value in junk:
        cache.put(key, REQUEST, COMPLETION)
        with sqlite3.connect(tmp_path / "responses.sqlite3") as db:
            db.execute(f"UPDATE responses SET {column} = ? WHERE key = ?", (value, key))
        assert cache.get(key) is None, column
    cache.put(key, REQUEST, COMPLETION)
    assert cache.get(key) == COMPLETION


def test_a_file_that_is_not_a_database_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    """A truncated or overwritten cache file reads as empty; the next write starts afresh."""
    (tmp_path / "responses.sqlite3").write_bytes(b"SQLite format 3\x00 then garbage" * 10)
    cache = ResponseCache(tmp_path)
    assert cache.get(REQUEST.key) is None
    cache.check_writable()
    cache.put(REQUEST.key, REQUEST, COMPLETION)
    assert ResponseCache(tmp_path).get(REQUEST.key) == COMPLETION


def test_reading_an_empty_directory_creates_nothing(tmp_path: Path) -> None:
    """Lookups (as in --replay) never create the database: a read-only directory is fine."""
    cache = ResponseCache(tmp_path / "cache")
    assert cache.get_many([REQUEST.key]) == {}
    assert list(cache.entries()) == []
    assert not (tmp_path / "cache").exists()


def test_concurrent_writers_and_readers_never_see_half_an_entry(tmp_path: Path) -> None:
    """Writes are atomic: racing readers see a whole entry or none; no journal is left."""
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
    assert [p.name for p in tmp_path.iterdir()] == ["responses.sqlite3"]


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
    assert b"hunter2secret" not in (tmp_path / "responses.sqlite3").read_bytes()
    [(_key, stored, _completion)] = list(cache.entries())
    assert stored["base_url"] == "https://gw.example/v1"


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


def test_a_reported_cost_is_kept(tmp_path: Path) -> None:
    """A cost the provider reported survives the cache, so a replayed row costs the same."""
    cache = ResponseCache(tmp_path)
    priced = Completion("hi", Usage(3, 1), 12.0, "stop", cost_usd=0.00042)
    cache.put(REQUEST.key, REQUEST, priced)
    assert ResponseCache(tmp_path).get(REQUEST.key) == priced


def test_a_version_2_cache_is_read_and_upgraded_in_place(tmp_path: Path) -> None:
    """A cache written before costs were kept (actions/cache restores old ones) still answers,
    with the cost unknown, and gets the column on the first write; nothing is lost."""
    with sqlite3.connect(tmp_path / "responses.sqlite3") as db:
        db.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY NOT NULL, request TEXT NOT NULL, "
            "text TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, "
            "latency_ms REAL NOT NULL, finish_reason TEXT) WITHOUT ROWID"
        )
        db.execute(
            "INSERT INTO responses VALUES (?, '{}', 'hi', 3, 1, 123.5, 'stop')", (REQUEST.key,)
        )
        db.execute("PRAGMA user_version = 2")
    assert ResponseCache(tmp_path).get(REQUEST.key) == COMPLETION
    other = ChatRequest("openai", "", "m", (Message("user", "other"),))
    cache = ResponseCache(tmp_path)
    cache.put(other.key, other, COMPLETION)
    assert cache.get_many([REQUEST.key, other.key]) == {
        REQUEST.key: COMPLETION,
        other.key: COMPLETION,
    }
    with sqlite3.connect(tmp_path / "responses.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (FORMAT_VERSION,)


def test_prompt_cache_tokens_are_kept_and_a_version_3_cache_upgraded(tmp_path: Path) -> None:
    """An answer's prompt-cache reads and writes (Anthropic's usage) come back from the cache,
    so a cached call costs what it did; a version 3 file answers with 0 for them and gets
    the columns on the first write."""
    with sqlite3.connect(tmp_path / "responses.sqlite3") as db:
        db.execute(
            "CREATE TABLE responses (key TEXT PRIMARY KEY NOT NULL, request TEXT NOT NULL, "
            "text TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, "
            "latency_ms REAL NOT NULL, finish_reason TEXT, cost_usd REAL) WITHOUT ROWID"
        )
        db.execute(
            "INSERT INTO responses VALUES (?, '{}', 'hi', 3, 1, 123.5, 'stop', NULL)",
            (REQUEST.key,),
        )
        db.execute("PRAGMA user_version = 3")
    assert ResponseCache(tmp_path).get(REQUEST.key) == COMPLETION
    cached = Completion("hi", Usage(3, 1, cache_read_tokens=900, cache_write_tokens=40), 5.0)
    other = ChatRequest("anthropic", "", "claude-haiku-4-5", (Message("user", "other"),))
    cache = ResponseCache(tmp_path)
    cache.put(other.key, other, cached)
    assert ResponseCache(tmp_path).get_many([REQUEST.key, other.key]) == {
        REQUEST.key: COMPLETION,
        other.key: cached,
    }
    with sqlite3.connect(tmp_path / "responses.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (FORMAT_VERSION,)


def test_a_new_cache_directory_gets_a_gitignore(tmp_path: Path) -> None:
    """The cache directory llm-gate creates ignores itself (`*`); an existing one is left be."""
    ResponseCache(tmp_path / "new" / "cache").put(REQUEST.key, REQUEST, COMPLETION)
    assert (tmp_path / "new/cache/.gitignore").read_text().splitlines()[-1] == "*"
    ResponseCache(tmp_path).put(REQUEST.key, REQUEST, COMPLETION)
    assert not (tmp_path / ".gitignore").exists()
