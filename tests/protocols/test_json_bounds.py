"""The nesting bound every parse of outside JSON goes through (protocols/json_bounds.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import json_bounds
from protocols.contract import codec
from protocols.contract.topics import Channel
from protocols.errors import PayloadError
from tests.hypothesis_support import examples

# the probe's poison message: 200 kB of nested arrays
POISON = b"[" * 100_000 + b"]" * 100_000


def _depth(document) -> int:
    if isinstance(document, list):
        return 1 + max(map(_depth, document), default=0)
    if isinstance(document, dict):
        return 1 + max(map(_depth, document.values()), default=0)
    return 0


def _deepest_the_parser_can_reach(text: str) -> int:
    """How deep a JSON parser recurses before it stops: brackets outside strings, up to the
    first character that cannot be JSON there (a backslash outside a string)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "\\":
            break
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


_text = st.text(alphabet=st.sampled_from('[]{}"\\ab,:é'), max_size=12)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=40,
)


@settings(max_examples=examples(400))
@given(documents, st.integers(min_value=0, max_value=6))
def test_a_document_is_refused_exactly_when_it_nests_past_the_limit(document, limit):
    text = json.dumps(document, ensure_ascii=False)
    if _depth(document) > limit:
        with pytest.raises(json_bounds.TooDeep):
            json_bounds.loads(text, max_depth=limit)
    else:
        assert json_bounds.loads(text, max_depth=limit) == document


@settings(max_examples=examples(600))
@given(st.text(alphabet=st.sampled_from('[]{}"\\a,'), max_size=60), st.integers(0, 5))
def test_garbage_that_passes_never_lets_the_parser_recurse_past_the_limit(text, limit):
    try:
        json_bounds.check_depth(text, limit)
    except json_bounds.TooDeep:
        return
    assert _deepest_the_parser_can_reach(text) <= limit


def test_the_poison_message_is_refused_before_parsing():
    with pytest.raises(json_bounds.TooDeep, match="more than 32 levels"):
        json_bounds.loads(POISON)
    with pytest.raises(json_bounds.TooDeep):
        json_bounds.loads(b"[" * 100_000)  # never closed: the parser would recurse all the same


def test_brackets_in_strings_and_escaped_quotes_are_not_nesting():
    text = json.dumps({"note": "[" * 100 + '\\"' + "{" * 100, "cells": [[1, 2]]})
    assert json_bounds.loads(text, max_depth=3)["cells"] == [[1, 2]]


def test_utf16_bytes_are_measured_after_decoding():
    document = {"name": "电池" * 10, "deep": [[[["x"]]]]}
    data = json.dumps(document, ensure_ascii=False).encode("utf-16")
    assert json_bounds.loads(data, max_depth=5) == document
    with pytest.raises(json_bounds.TooDeep):
        json_bounds.loads(data, max_depth=4)


@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_refuses_deep_nesting_with_a_reason(channel):
    for payload in (POISON, b"[" * 900 + b"]" * 900, b'{"a":' * 40 + b"1" + b"}" * 40):
        with pytest.raises(PayloadError, match="nested more than 32 levels deep"):
            codec.decode(channel, payload)
