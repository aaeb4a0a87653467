"""Real or virtual time. Everything in the fake that depends on time reads a ``Clock``.

A virtual clock stands still until a test moves it, so expiring URLs, last-seen times and
rate-limit windows are reproducible. A real clock follows the wall clock, shifted by whatever
``advance`` added, which is what the standalone server uses.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time as _time
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional, Union

UTC = timezone.utc
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
#: The clock stays within these bounds, so that ``now + a lifetime`` never overflows a datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

When = Union[datetime, str, float, int]


def parse_when(value: When) -> datetime:
    """A UTC datetime from a datetime, an ISO-8601 string (``Z`` allowed) or a Unix timestamp;
    a ``ValueError`` that says why when there is none (``0001-01-01T00:00:00+23:59`` is not)."""
    if isinstance(value, datetime):
        parsed = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"not a time: {value!r}")
        try:
            parsed = datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"the timestamp {value!r} is out of range") from None
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value[:80]!r}") from None
        if not parsed.tzinfo:
            parsed = parsed.replace(tzinfo=UTC)
    else:
        raise TypeError(f"cannot read a time from {type(value).__name__}: {value!r}")
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"the time {str(value)[:80]!r} is out of range") from None


def bounded(moment: When) -> datetime:
    """:func:`parse_when`, refusing times outside the clock's range (``ValueError``)."""
    utc = parse_when(moment)
    if not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"the time {str(moment)[:80]!r} is out of range: the clock stays between "
            f"{EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return utc


def isoformat(moment: datetime) -> str:
    """ISO-8601 with microseconds and ``+00:00``, the form the vendors' APIs use."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class Clock:
    """``now()`` is the one source of time. ``advance`` and ``set`` move virtual time."""

    def __init__(self, virtual: bool = True, start: Optional[When] = None) -> None:
        self._lock = threading.Lock()
        self.virtual = virtual
        self._start = bounded(start) if start is not None else DEFAULT_START
        self._listeners: list[Callable[[datetime], None]] = []
        self.reset()

    def reset(self, start: Optional[When] = None) -> None:
        """Back to the start time (virtual) or to the wall clock (real)."""
        with self._lock:
            if start is not None:
                self._start = bounded(start)
            self._virtual_now = self._start
            self._offset = 0.0

    def now(self) -> datetime:
        if self.virtual:
            return self._virtual_now
        return datetime.fromtimestamp(_time.time() + self._offset, tz=UTC)

    def time(self) -> float:
        """Now as a Unix timestamp."""
        return self.now().timestamp()

    def isoformat(self) -> str:
        return isoformat(self.now())

    def advance(
        self,
        seconds: float = 0,
        *,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
    ) -> datetime:
        """Move time forward; returns the new now. Negative steps are refused."""
        try:
            step = float(seconds + 60 * minutes + 3600 * hours + 86400 * days)
        except OverflowError:
            step = math.inf
        if not math.isfinite(step):
            raise ValueError(f"the clock cannot advance by {step!r} s")
        if step < 0:
            raise ValueError(f"the clock only moves forward; use set() to go back ({step} s)")
        with self._lock:
            now = self.now()
            if step >= (LATEST - now).total_seconds():
                raise ValueError(f"advancing by {step:g} s would take the clock past "
                                 f"{LATEST.isoformat()}")
            if self.virtual:
                self._virtual_now = now + timedelta(seconds=step)
            else:
                self._offset += step
        return self._notify()

    def set(self, moment: When) -> datetime:
        """Jump to ``moment`` (either direction)."""
        target = bounded(moment)
        with self._lock:
            if self.virtual:
                self._virtual_now = target
            else:
                self._offset = target.timestamp() - _time.time()
        return self._notify()

    @property
    def offset(self) -> float:
        """Seconds a real clock runs ahead of the wall clock (what ``advance``/``set`` added)."""
        return self._offset

    @offset.setter
    def offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = float(seconds)

    def on_change(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(now)`` after every ``advance`` or ``set`` (used by simulations)."""
        self._listeners.append(listener)

    def off_change(self, listener: Callable[[datetime], None]) -> None:
        """Stop calling ``listener`` (a closed simulation must not cost every later clock move)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _notify(self) -> datetime:
        now = self.now()
        for listener in list(self._listeners):
            listener(now)
        return now

    def to_json(self) -> dict:
        return {"virtual": self.virtual, "now": isoformat(self.now())}

    def __repr__(self) -> str:
        kind = "virtual" if self.virtual else "real"
        return f"<Clock {kind} now={isoformat(self.now())}>"
