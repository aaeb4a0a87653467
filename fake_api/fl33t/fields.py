"""Reading fl33t request bodies: envelopes, strings, flags and paging, with 400s that say why.

The official client posts whole objects, read-only fields included, and sends falsy values as it
holds them (``""``, ``null``, ``0``, ``false``), so readers here are lenient about falsy values and
strict about anything that cannot be what the field means.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ..core.blobs import filename_problem
from .errors import BadRequest

DEFAULT_LIMIT = 25


def envelope(body: Any, key: str) -> dict[str, Any]:
    """``body[key]`` of a ``{"<key>": {...}}`` request body."""
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise BadRequest(f'the request body must be {{"{key}": {{...}}}}')
    return body[key]


def text(obj: Mapping[str, Any], key: str, *, required: bool = False,
         max_length: int = 255) -> Optional[str]:
    """A string field; ``null`` and a missing key give None (or a 400 when ``required``)."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(f"'{key}' is required")
        return None if value is None else ""
    if not isinstance(value, str):
        raise BadRequest(f"'{key}' must be a string, not {type(value).__name__}")
    if len(value) > max_length:
        raise BadRequest(f"'{key}' is longer than {max_length} characters")
    return value


def file_name(value: Optional[str], key: str = "filename") -> Optional[str]:
    """A file name (from a body or an upload's ``Content-Disposition``): 400 for one that
    cannot be echoed in a download's header (control characters, lone surrogates)."""
    if value:
        problem = filename_problem(value)
        if problem:
            raise BadRequest(f"'{key}' {problem}")
    return value


def flag(obj: Mapping[str, Any], key: str, default: Optional[bool] = False) -> Optional[bool]:
    """A boolean field. ``null``, ``""`` and ``0`` read as false (the client sends falsy values
    as it holds them); a missing key gives ``default``."""
    if key not in obj:
        return default
    value = obj[key]
    if value is None or value == "" or value is False or value == 0:
        return False
    if value is True or value == 1:
        return True
    raise BadRequest(f"'{key}' must be a boolean, not {value!r}")


def identifier(value: Any, key: str) -> str:
    """An id chosen by the client: a non-empty string that can live in a URL path segment."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{key}' is required and must be a non-empty string")
    if "/" in value or len(value) > 128 or value != value.strip():
        raise BadRequest(f"'{key}' must be at most 128 characters, without '/' or outer spaces")
    return value


def page(args: Mapping[str, str]) -> tuple[int, int]:
    """``offset`` and ``limit`` query parameters (defaults 0 and 25). No upper bound on ``limit``:
    the client advances ``offset`` by its own limit, so a capped page would skip records."""
    offset = _count(args, "offset", 0, minimum=0)
    limit = _count(args, "limit", DEFAULT_LIMIT, minimum=1)
    return offset, limit


def _count(args: Mapping[str, str], key: str, default: int, minimum: int) -> int:
    raw = args.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"'{key}' must be an integer, not {raw!r}") from None
    if value < minimum:
        raise BadRequest(f"'{key}' must be at least {minimum}")
    return value
