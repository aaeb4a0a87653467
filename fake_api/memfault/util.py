"""Validation, paging and sorting shared by the Memfault models (no Flask here).

Query parameters reach the models as ``dict[str, list[str]]`` (every value of a repeated key,
``name`` and ``name[]`` merged), so array filters work the way Memfault documents them.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Optional

from ..core.clock import parse_when
from .errors import InvalidUsageError, field_error

Query = Mapping[str, list]

#: Full-string patterns: ``\Z``, not ``$`` (which also matches before a trailing newline).
SERIAL_RE = re.compile(r"^[-a-zA-Z0-9_]{1,128}\Z")
HARDWARE_VERSION_RE = re.compile(r"^[a-zA-Z0-9 \-_.+:\\()\[\]/]{1,128}\Z")
VERSION_RE = re.compile(r"^[-a-zA-Z0-9_.+]{1,128}\Z")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,127}\Z")

DEFAULT_PER_PAGE = 100


def check_serial(value: Any, field: str = "device_serial") -> str:
    """A device serial as Memfault documents it: ``^[-a-zA-Z0-9_]+$``, at most 128 characters."""
    text = require_str(value, field)
    if not SERIAL_RE.match(text):
        raise field_error(field, "Must match ^[-a-zA-Z0-9_]+$ and be at most 128 characters.")
    return text


def check_hardware_version(value: Any, field: str = "hardware_version") -> str:
    """1-128 characters from ``a-zA-Z0-9 -_.+:\\()[]/`` and space."""
    text = require_str(value, field)
    if not HARDWARE_VERSION_RE.match(text):
        raise field_error(
            field, "Must be 1-128 characters from a-z A-Z 0-9 space and - _ . + : \\ ( ) [ ] /."
        )
    return text


def check_version(value: Any, field: str = "version") -> str:
    """A release or software version: ``[-a-zA-Z0-9_.+]``, at most 128 characters."""
    text = require_str(value, field)
    if not VERSION_RE.match(text):
        raise field_error(field, "Must match [-a-zA-Z0-9_.+]+ and be at most 128 characters.")
    return text


def require_str(value: Any, field: str) -> str:
    if value is None:
        raise field_error(field, "Missing data for required field.")
    if not isinstance(value, str):
        raise field_error(field, "Not a valid string.")
    if not value:
        raise field_error(field, "Field may not be empty.")
    return value


def optional_str(value: Any, field: str, default: Any = None) -> Any:
    if value is None:
        return default
    if not isinstance(value, str):
        raise field_error(field, "Not a valid string.")
    return value


def optional_bool(value: Any, field: str, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise field_error(field, "Not a valid boolean.")
    return value


def optional_mapping(value: Any, field: str) -> Optional[dict]:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise field_error(field, "Not a valid mapping type.")
    return dict(value)


def reject_unknown(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Marshmallow's answer to fields a schema does not know."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidUsageError({name: ["Unknown field."] for name in unknown})


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:128] or "cohort"


# -- query parameters ------------------------------------------------------------------------


def values(query: Query, name: str) -> list[str]:
    """Every value of ``name`` and ``name[]`` (Memfault's array filters repeat the key)."""
    return [v for key in (name, f"{name}[]") for v in query.get(key, [])]


def first(query: Query, name: str) -> Optional[str]:
    found = values(query, name)
    return found[0] if found else None


def query_time(query: Query, name: str) -> Optional[datetime]:
    text = first(query, name)
    if text is None or text == "":
        return None
    try:
        return parse_when(text)
    except (ValueError, TypeError):
        raise field_error(name, "Not a valid datetime.") from None


def _positive_int(text: Optional[str], name: str, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        number = int(text)
    except ValueError:
        raise field_error(name, "Not a valid integer.") from None
    if number < 1:
        raise field_error(name, "Must be greater than or equal to 1.")
    return number


def sort_records(
    records: list[dict], query: Query, keys: Mapping[str, Callable[[dict], Any]], default: str
) -> list[dict]:
    """Apply every ``sort`` value (``field`` ascending, ``-field`` descending), first one wins.

    Missing values (``None``) sort last in both directions.
    """
    specs = values(query, "sort") or [default]
    for spec in reversed(specs):
        descending = spec.startswith("-")
        name = spec[1:] if descending else spec
        if name not in keys:
            raise field_error("sort", f"Unknown sort key {name!r}; use one of: {', '.join(keys)}.")
        getter = keys[name]
        present = [r for r in records if getter(r) is not None]
        missing = [r for r in records if getter(r) is None]
        present.sort(key=getter, reverse=descending)
        records = present + missing
    return records


def paginate(records: list[Any], query: Query) -> tuple[list[Any], dict[str, int]]:
    """One page and Memfault's ``paging`` object.

    ``per_page`` (default 100) is honoured as asked, however large: the 2021 docs call 100 the
    maximum, but a client's mock shows ``per_page=5000`` echoed back and what Memfault does
    beyond 100 is unknown; capping silently would end a "stop at a short page" loop early.
    """
    page = _positive_int(first(query, "page"), "page", 1)
    per_page = _positive_int(first(query, "per_page"), "per_page", DEFAULT_PER_PAGE)
    total = len(records)
    start = (page - 1) * per_page
    items = records[start:start + per_page]
    paging = {
        "item_count": len(items),
        "page": page,
        "page_count": max(1, math.ceil(total / per_page)),
        "per_page": per_page,
        "total_count": total,
    }
    return items, paging
