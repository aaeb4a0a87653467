"""Thread-safe in-memory tables shared by every dialect.

A table is a plain ``dict`` from a key to a JSON-able record. Tables are created once and
cleared on reset (never replaced), so a model may keep a reference to its tables. One re-entrant
lock serialises the whole store: the fake answers one request at a time, which keeps every
model simple and makes concurrent clients safe.
"""

from __future__ import annotations

import base64
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
            return json.loads(json.dumps(data, default=_encode))

    def restore(self, data: dict[str, Any]) -> None:
        """Replace the whole state with a snapshot taken by :meth:`snapshot`."""
        decoded = json.loads(json.dumps(data), object_hook=_decode)
        with self.lock:
            self.reset()
            for name, rows in decoded.items():
                self.table(name).update(rows)


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"fleetsim store: {type(value).__name__} is not JSON-serialisable: {value!r}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "__bytes__" in obj:
        return base64.b64decode(obj["__bytes__"])
    return obj
