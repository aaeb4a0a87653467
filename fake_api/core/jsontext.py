"""The one strict JSON reader and writer every dialect, the control plane and state files share.

Python's ``json`` accepts what strict parsers on the vendors' side (and in their clients) refuse:
``NaN``/``Infinity``, numbers that overflow to infinity, lone UTF-16 surrogates, and nesting deep
enough to raise ``RecursionError``. :func:`loads` refuses all of them with a :class:`JSONError`
(a ``ValueError``) whose message says what is wrong; :func:`dumps` never writes ``NaN``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Deepest nesting of arrays/objects accepted (vendors' payloads nest a handful of levels).
MAX_DEPTH = 64

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_INNERMOST = re.compile(rb"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")


class JSONError(ValueError):
    """A body or file that is not strict JSON; the message is meant for the client."""


def _refuse_constant(name: str) -> Any:
    raise JSONError(f"{name} is not valid JSON (only finite numbers are allowed)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONError(f"the number {text[:40]} is too large (only finite numbers are allowed)")
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Strict JSON from UTF-8 ``raw`` (bytes) or text, or a :class:`JSONError`."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        data = bytes(raw)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(f"not valid UTF-8 (at byte {exc.start})") from None
    else:
        text = raw
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise JSONError("the text contains a lone surrogate, which is not valid Unicode") from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a UTF-8 byte order mark is allowed by RFC 8259 parsers; ignore it
    try:
        value = _DECODER.decode(text)
    except JSONError:
        raise
    except RecursionError:
        raise JSONError(f"JSON nested deeper than {max_depth} levels is not accepted") from None
    except ValueError as exc:  # json.JSONDecodeError, int too long, ...
        raise JSONError(f"not valid JSON: {exc}") from None
    if data.count(b"[") + data.count(b"{") > max_depth and _too_deep(data, max_depth):
        raise JSONError(f"JSON nested deeper than {max_depth} levels is not accepted")
    if _SURROGATE_ESCAPE.search(data):
        _check(value, max_depth)
    return value


def _too_deep(data: bytes, max_depth: int) -> bool:
    """Nesting depth of valid JSON ``data``, at C speed: strip strings, then peel innermost pairs."""
    text = _STRING.sub(b"0", data)
    for _ in range(max_depth):
        text, peeled = _INNERMOST.subn(b"0", text)
        if not peeled:
            return False
    return b"[" in text or b"{" in text


def _check(value: Any, max_depth: int) -> None:
    """Depth and lone surrogates, iteratively (no recursion, whatever the input)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            raise JSONError(f"JSON nested deeper than {max_depth} levels is not accepted")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise JSONError(
                "a string contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not valid "
                "Unicode"
            ) from None


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that refuses ``NaN``/``Infinity`` instead of writing invalid JSON."""
    kwargs.setdefault("allow_nan", False)
    return json.dumps(value, **kwargs)
