"""JSON from outside, parsed with a bound on nesting.

Python's parser recurses once per ``[`` or ``{``: a few kilobytes of ``[[[[...`` raise
RecursionError (not ValueError), which escapes every handler written for bad JSON and stops
the process; a little less nesting passes the parser and then exhausts the stack of whatever
walks the document next (a schema check, ``json.dumps`` on the way into the store). Every
parse of JSON that came from a device, a broker or an HTTP client goes through ``loads``
here, which refuses a document nested deeper than ``MAX_DEPTH`` before parsing it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# The contract's deepest payload (a telemetry batch's BMS sample's cell list) nests 4
# levels, API bodies about as much; 32 leaves room for any honest document.
MAX_DEPTH = 32

_KEEP = b'"[]{}'
_DELETE = bytes(byte for byte in range(256) if byte not in _KEEP)
_CURLY_TO_SQUARE = bytes.maketrans(b"{}", b"[]")
_STRING = re.compile(rb'"[^"]*"')


class TooDeep(ValueError):
    """A JSON document nested deeper than allowed."""


def _depth_past(data: bytes, limit: int) -> int:
    """0 when ``data`` nests at most ``limit`` deep, else a depth greater than ``limit``.

    Only C-speed passes over the bytes (about 70 us for a 40 kB telemetry batch, a twentieth
    of parsing it; 30 ms for 200 kB of brackets), no Python loop per character: escapes go
    first, then everything but quotes and brackets, then strings, then one round per level
    removes the innermost pairs. Bytes that are not JSON get some number; the parser says
    what is wrong with them afterwards, having recursed no deeper than counted here.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return 0  # too few brackets to nest past the limit
    if b"\\" in data:
        # an escaped backslash first, so that in "a\\" the quote still ends the string
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Two adjacent quotes are an empty string or a string's end and the next one's start:
    # dropping them leaves every bracket inside or outside a string as it was.
    marks = data.translate(_CURLY_TO_SQUARE, _DELETE).replace(b'""', b"")
    if b'"' in marks:
        marks = _STRING.sub(b"", marks)  # strings with brackets in them: rare
    brackets = marks.replace(b'"', b"")  # an unclosed string: the parser stops there
    depth = 0
    while b"[]" in brackets and depth <= limit:
        brackets = brackets.replace(b"[]", b"")
        depth += 1
    depth += brackets.count(b"[")  # unclosed ones: the parser recurses into them too
    return depth if depth > limit else 0


def check_depth(text: str | bytes, max_depth: int = MAX_DEPTH) -> None:
    """Raise TooDeep when the JSON ``text`` nests deeper than ``max_depth``."""
    if isinstance(text, str):
        data = text.encode("utf-8", "surrogatepass")
    elif (encoding := json.detect_encoding(text)) not in ("utf-8", "utf-8-sig"):
        # UTF-16/32 (json.loads takes them): a code unit's bytes could look like a quote
        data = text.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")
    else:
        data = text
    if _depth_past(data, max_depth):
        raise TooDeep(f"nested more than {max_depth} levels deep")


def loads(
    text: str | bytes,
    *,
    max_depth: int = MAX_DEPTH,
    parse_constant: Callable[[str], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``json.loads`` that refuses a document nested deeper than ``max_depth`` (TooDeep,
    a ValueError like every other refusal of the parser)."""
    check_depth(text, max_depth)
    try:
        return json.loads(text, parse_constant=parse_constant, **kwargs)
    except RecursionError as err:  # only if the caller's own stack was nearly full
        raise TooDeep(f"nested too deeply to parse ({err})") from err
