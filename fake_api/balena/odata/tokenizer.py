"""Tokens of pinejs expressions: ``$filter``, ``$orderby`` items and resource keys.

The input is already percent-decoded. Strings are single-quoted with ``''`` for a quote; typed
literals are a name glued to a string (``datetime'2024-01-02T03:04:05.5Z'``, ``duration'P1D'``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ODataError

MAX_LENGTH = 100_000


@dataclass(frozen=True)
class Token:
    kind: str  # name, alias, str, num, typed, punct, end
    value: object
    pos: int
    type: str = ""  # for "typed": datetime / duration / ...


_NUM = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_]*")
_PUNCT = "(),/:="
_SPACE = " \t\r\n"


def tokenize(text: str) -> list[Token]:
    """Every token of ``text`` then an ``end`` token; ODataError on a character it cannot read."""
    if len(text) > MAX_LENGTH:
        raise ODataError("The query is too long")
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
        elif ch in _PUNCT:
            out.append(Token("punct", ch, i))
            i += 1
        elif ch == "'":
            value, i = _string(text, i)
            out.append(Token("str", value, i))
        elif ch == "@":
            m = _NAME.match(text, i + 1)
            if not m:
                raise ODataError(f"Malformed parameter alias at position {i}")
            out.append(Token("alias", m.group(), i))
            i = m.end()
        elif ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
            m = _NUM.match(text, i)
            assert m is not None
            raw = m.group()
            if len(raw) > 40:
                raise ODataError(f"Number too long at position {i}")
            value: object = float(raw) if (m.group(1) or m.group(2)) else int(raw)
            out.append(Token("num", value, i))
            i = m.end()
        else:
            m = _NAME.match(text, i)
            if not m:
                raise ODataError(f"Unexpected character {ch!r} at position {i}")
            name = m.group()
            i = m.end()
            if i < n and text[i] == "'" and not name.startswith("$"):
                value, i = _string(text, i)
                out.append(Token("typed", value, m.start(), type=name))
            else:
                out.append(Token("name", name, m.start()))
    out.append(Token("end", None, n))
    return out


def _string(text: str, start: int) -> tuple[str, int]:
    """The quoted string at ``start`` (``''`` is one quote) and the index after it."""
    parts = []
    i = start + 1
    while True:
        j = text.find("'", i)
        if j < 0:
            raise ODataError(f"Unterminated string starting at position {start}")
        parts.append(text[i:j])
        if j + 1 < len(text) and text[j + 1] == "'":
            parts.append("'")
            i = j + 2
            continue
        return "".join(parts), j + 1
