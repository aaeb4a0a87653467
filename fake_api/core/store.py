"""Thread-safe in-memory tables shared by every dialect.

A table is a plain ``dict`` from a key to a JSON-able record. Tables are created once and
cleared on reset (never replaced), so a model may keep a reference to its tables. One re-entrant
lock serialises the whole store: the fake answers one request at a time, which keeps every
model simple and makes concurrent clients safe.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from typing import Any, Iterator


class Table(dict):
    """One named table: ``key -> record``. Insertion order is the natural listing order."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def where(self, **match: Any) -> Iterator[Any]:
        """Records whose fields equal every ``match`` value (records must be dicts)."""
        for record in self.values():
            if all(record.get(k) == v for k, v in match.items()):
                yield record


class Store:
    """Every table of the fake, by name (``"<dialect>.<table>"`` by convention)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        """The table called ``name``, created empty on first use."""
        table = self._tables.get(name)
        if table is None:
            with self.lock:
                table = self._tables.setdefault(name, Table(name))
        return table

    @property
    def names(self) -> list[str]:
        return sorted(self._tables)

    def reset(self) -> None:
        """Empty every table. Costs one ``dict.clear`` per table."""
        with self.lock:
            for table in self._tables.values():
                table.clear()

    def snapshot(self) -> dict[str, Any]:
        """Every non-empty table as plain JSON data (bytes become ``{"__bytes__": base64}``)."""
        with self.lock:
            data = {name: dict(t) for name, t in self._tables.items() if t}
            # A JSON round trip both deep-copies and proves the state is serialisable.
            return json.loads(dumps(data))

    def restore(self, data: Any, *, legacy: bool = False) -> None:
        """Replace the whole state with a snapshot taken by :meth:`snapshot`.

        All or nothing: the snapshot is checked and decoded before any table is touched, and a
        ``ValueError`` says what is wrong with it. ``legacy`` reads format-1 snapshots, whose
        encoding could not tell user data shaped like ``{"__bytes__": ...}`` from bytes.
        """
        decoded = decode_tables(data, legacy=legacy)
        with self.lock:
            self.replace(decoded)

    def replace(self, tables: dict[str, dict]) -> None:
        """Put decoded ``tables`` in place of every table (the table objects stay the same)."""
        with self.lock:
            self.reset()
            for name, rows in tables.items():
                self.table(name).update(rows)

    def tables(self) -> dict[str, Table]:
        """The live tables by name (callers hold :attr:`lock` while they look)."""
        return self._tables


# -- the state encoding ---------------------------------------------------------------------------
# Bytes become {"__bytes__": base64}. A dict of user data that happens to have exactly that shape
# (or the escape's shape) is wrapped as {"__dict__": {...}}, so user data can never be mistaken
# for bytes: encode/decode round-trip every value exactly.

BYTES = "__bytes__"
ESCAPE = "__dict__"
_BYTES_KEY = f'"{BYTES}"'
_ESCAPE_KEY = f'"{ESCAPE}"'


def dumps(data: Any) -> str:
    """``data`` as JSON text in the state encoding.

    Fast path: the C encoder, with bytes through ``default``; it is exact unless some user dict
    uses a marker name as a key, which the count below detects (then the exact walk runs).
    """
    found = [0]

    def default(value: Any) -> Any:
        if isinstance(value, (bytes, bytearray)):
            found[0] += 1
            return {BYTES: base64.b64encode(bytes(value)).decode("ascii")}
        return _plain(value)

    text = json.dumps(data, default=default)
    if text.count(_BYTES_KEY) == found[0] and _ESCAPE_KEY not in text:
        return text
    return json.dumps(encode(data))


def loads(text: str | bytes) -> Any:
    """The data :func:`dumps` wrote (C speed unless the text holds escaped user dicts)."""
    if (_ESCAPE_KEY.encode() if isinstance(text, bytes) else _ESCAPE_KEY) not in text:
        return json.loads(text, object_hook=_decode_bytes)
    return decode(json.loads(text))


def encode(value: Any) -> Any:
    """``value`` as plain JSON data, exactly (see the module's encoding note)."""
    if isinstance(value, dict):
        out = {k: encode(v) for k, v in value.items()}
        if len(out) == 1 and (BYTES in out or ESCAPE in out):
            return {ESCAPE: out}
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    if value is None or isinstance(value, (str, int, float)):
        return value
    return _plain(value)


def decode(value: Any) -> Any:
    """The inverse of :func:`encode` (top-down, so an escaped dict is never read as bytes)."""
    if type(value) is dict:
        if len(value) == 1:
            if type(value.get(BYTES)) is str:
                return _b64(value[BYTES])
            inner = value.get(ESCAPE)
            if type(inner) is dict:
                return {k: decode(v) for k, v in inner.items()}
        return {k: decode(v) for k, v in value.items()}
    if type(value) is list:
        return [decode(v) for v in value]
    return value


def decode_tables(data: Any, *, legacy: bool = False) -> dict[str, dict]:
    """Snapshot tables, checked (an object of objects) and decoded, or a ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError(f'"tables" must be a JSON object of tables, not {type(data).__name__}')
    for name, rows in data.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"table names must be non-empty strings, not {name!r}")
        if not isinstance(rows, dict):
            raise ValueError(f'table "{name}" must be a JSON object of records, not '
                             f"{type(rows).__name__}")
    try:
        text = json.dumps(data)
        if legacy:
            return json.loads(text, object_hook=_decode_bytes)
        return loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the snapshot's tables cannot be read: {exc}") from None


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{BYTES} holds invalid base64: {text[:40]!r}") from None


def _decode_bytes(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and type(obj.get(BYTES)) is str:
        return _b64(obj[BYTES])
    return obj


def _plain(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"fleetsim store: {type(value).__name__} is not JSON-serialisable: {value!r}")
