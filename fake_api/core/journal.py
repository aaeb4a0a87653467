"""A bounded log of the requests the fake answered, with helpers a test can assert on."""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import asdict, dataclass
from fnmatch import translate
from typing import Any, Iterable, Optional, Pattern, Union

PathMatch = Union[str, Pattern[str], None]

#: The most of a request's method, path or query string an entry keeps (the rest is cut, and the entry
#: says ``truncated``), so 10,000 entries of 30 KB URLs cannot grow the journal to gigabytes.
MAX_TEXT = 1024


@dataclass(frozen=True)
class Entry:
    dialect: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    time: str
    fault: Optional[str] = None
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def path_matches(pattern: PathMatch, path: str) -> bool:
    """``None`` matches all; a compiled regex is searched; a string is a glob (``*`` spans ``/``)."""
    if pattern is None:
        return True
    if isinstance(pattern, re.Pattern):
        return pattern.search(path) is not None
    return glob(pattern).match(path) is not None


def glob(pattern: str) -> Pattern[str]:
    """A glob as a compiled regex. ``fnmatch`` caches up to 32,768 compiled patterns forever,
    which user-supplied patterns (a journal filter, a query) could fill with megabytes; ``re``
    keeps at most a few hundred."""
    return re.compile(translate(pattern))


class Journal:
    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def record_request(self, **fields: Any) -> None:
        """Record one request, cutting its method, path and query to :data:`MAX_TEXT` characters."""
        for name in ("method", "path", "query"):
            text = fields.get(name)
            if isinstance(text, str) and len(text) > MAX_TEXT:
                fields[name] = text[:MAX_TEXT]
                fields["truncated"] = True
        self.record(Entry(**fields))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        with self._lock:
            return iter(list(self._entries))

    def entries(
        self,
        dialect: Optional[str] = None,
        method: Optional[str] = None,
        path: PathMatch = None,
        status: Optional[int] = None,
    ) -> list[Entry]:
        """The entries that match every given criterion, oldest first."""
        with self._lock:
            snapshot: Iterable[Entry] = list(self._entries)
        if isinstance(path, str):
            path = glob(path)
        return [
            e
            for e in snapshot
            if (dialect is None or e.dialect == dialect)
            and (method is None or e.method == method.upper())
            and (status is None or e.status == status)
            and path_matches(path, e.path)
        ]

    def count(self, **criteria: Any) -> int:
        return len(self.entries(**criteria))

    def last(self, **criteria: Any) -> Optional[Entry]:
        found = self.entries(**criteria)
        return found[-1] if found else None

    def assert_called(
        self, method: str, path: PathMatch, times: Optional[int] = None, **kw: Any
    ) -> list[Entry]:
        """Fail with the requests that *were* made when no (or the wrong number of) call matches."""
        found = self.entries(method=method, path=path, **kw)
        if (times is None and not found) or (times is not None and len(found) != times):
            wanted = "at least once" if times is None else f"{times} time(s)"
            seen = "\n".join(f"  {e.status} {e.method} {e.path}" for e in self.entries()[-20:])
            raise AssertionError(
                f"expected {method.upper()} {path} {wanted}, found {len(found)}.\n"
                f"Last requests:\n{seen or '  (none)'}"
            )
        return found

    def assert_not_called(self, method: str, path: PathMatch, **kw: Any) -> None:
        found = self.entries(method=method, path=path, **kw)
        if found:
            raise AssertionError(f"expected no {method.upper()} {path}, found {len(found)}")

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self]
