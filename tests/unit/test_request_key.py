"""ChatRequest.key: the cache's address of a request, which must never change for the same
request (a cache saved by an earlier run, and the demo's recorded cache, depend on it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gate.models import ChatRequest, Message
from gate.targets.registry import TARGETS


def canonical_key(request: ChatRequest) -> str:
    """The definition: sha256 of json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False) of provider, base URL, body and repeat."""
    data = {
        "provider": request.provider,
        "base_url": request.base_url,
        "body": request.payload(),
        "repeat": request.repeat,
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ['"', "\\", "\n", "\x00", "\x00messages\x00", "é", "😀", "</s>", '{"content":']
)
SCALARS = st.one_of(
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    TEXT,
)
VALUES = SCALARS | st.lists(SCALARS, max_size=2) | st.dictionaries(TEXT, SCALARS, max_size=2)
PARAM_NAMES = st.sampled_from(
    ["temperature", "max_tokens", "top_p", "stop", "seed", "messages", "model", "a"]
)


@st.composite
def requests(draw: st.DrawFn) -> ChatRequest:
    params = draw(st.dictionaries(PARAM_NAMES, VALUES, max_size=3))
    tools = draw(st.none() | st.just('[{"type":"function","function":{"name":"f"}}]'))
    messages = draw(
        st.lists(
            st.builds(Message, st.sampled_from(["system", "user", "assistant"]), TEXT), max_size=3
        )
    )
    return ChatRequest(
        provider=draw(st.sampled_from(sorted(TARGETS))),  # a kind's body: its payload()
        base_url=draw(
            st.sampled_from(["https://api.openai.com/v1", "http://127.0.0.1:9/v1"]) | TEXT
        ),
        model=draw(st.sampled_from(["gpt-4o-mini", "gpt-4o"]) | TEXT),
        messages=tuple(messages),
        params=tuple(sorted(params.items())),
        tools=tools,
        repeat=draw(st.integers(0, 3)),
    )


@settings(max_examples=400, deadline=None)
@given(requests())
def test_the_key_is_the_hash_of_the_canonical_json(request: ChatRequest) -> None:
    assert request.key == canonical_key(request)


def test_equal_values_of_other_types_are_other_requests() -> None:
    """temperature 0, 0.0 and False are equal Python values but different requests."""

    def key(value: Any) -> str:
        request = ChatRequest(
            "openai", "u", "m", (Message("user", "hi"),), (("temperature", value),)
        )
        assert request.key == canonical_key(request)
        return request.key

    assert len({key(0), key(0.0), key(False)}) == 3


def test_a_known_key_never_changes() -> None:
    """A fixed request's key, as every release since the per-repeat seed computed it."""
    request = ChatRequest(
        "openai",
        "https://api.openai.com/v1",
        "gpt-4o-mini",
        (Message("system", "Be brief."), Message("user", "What is the capital of France?")),
        (("temperature", 0),),
    )
    assert request.key == canonical_key(request)
    assert (
        request.key
        == hashlib.sha256(
            b'{"base_url":"https://api.openai.com/v1","body":{"messages":[{"content":"Be brief.",'
            b'"role":"system"},{"content":"What is the capital of France?","role":"user"}],'
            b'"model":"gpt-4o-mini","seed":0,"temperature":0},"provider":"openai","repeat":0}'
        ).hexdigest()
    )


def test_each_repeat_sends_its_own_seed() -> None:
    """Repeats are independent samples: the body's seed is the user's seed plus the repeat."""
    base = ChatRequest("openai", "http://x", "m", (Message("user", "hi"),), (("temperature", 1),))
    seeds = [replace(base, repeat=r).payload()["seed"] for r in range(3)]
    assert seeds == [0, 1, 2]
    own = replace(base, params=(("seed", 40), ("temperature", 1)), repeat=2)
    assert own.payload()["seed"] == 42
    assert len({replace(base, repeat=r).key for r in range(3)}) == 3
