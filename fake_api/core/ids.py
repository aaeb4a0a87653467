"""Deterministic ids, uuids, tokens and random choices from a seed.

Every value is derived from ``(seed, namespace, n)`` where ``n`` is a per-namespace counter kept
in the store, so the same seed and the same calls give the same values, and a snapshot carries
the counters with the state. A test can also *pin* the next value of a namespace.
"""

from __future__ import annotations

import hashlib
import string
import uuid as _uuid
from typing import Any, Optional

from .store import Store

_ALNUM = string.ascii_lowercase + string.digits


class Ids:
    """Seeded generator. ``ns`` names a sequence (``"fl33t.build"``); sequences are independent."""

    def __init__(self, store: Store, seed: int = 0) -> None:
        self.seed = seed
        self._counters = store.table("_core.counters")
        self._pinned = store.table("_core.pinned")

    def _digest(self, ns: str) -> bytes:
        n = self._counters.get(ns, 0) + 1
        self._counters[ns] = n
        return hashlib.sha256(f"{self.seed}:{ns}:{n}".encode()).digest()

    def counter(self, ns: str) -> int:
        """1, 2, 3, ... per namespace (an auto-increment id)."""
        pinned = self._take_pinned(ns)
        if pinned is not None:
            return int(pinned)
        n = self._counters.get(ns, 0) + 1
        self._counters[ns] = n
        return n

    def hex(self, ns: str, length: int = 32) -> str:
        pinned = self._take_pinned(ns)
        if pinned is not None:
            return str(pinned)
        out = ""
        while len(out) < length:
            out += self._digest(ns).hex()
        return out[:length]

    def alnum(self, ns: str, length: int = 12) -> str:
        """Lower-case letters and digits, like most vendors' short ids."""
        pinned = self._take_pinned(ns)
        if pinned is not None:
            return str(pinned)
        out = []
        while len(out) < length:
            out.extend(_ALNUM[b % len(_ALNUM)] for b in self._digest(ns))
        return "".join(out[:length])

    def uuid(self, ns: str) -> str:
        pinned = self._take_pinned(ns)
        if pinned is not None:
            return str(pinned)
        return str(_uuid.UUID(bytes=self._digest(ns)[:16], version=4))

    def token(self, ns: str, prefix: str = "", length: int = 40) -> str:
        return prefix + self.alnum(ns, length)

    def fraction(self, ns: str) -> float:
        """A float in [0, 1): the seeded source of every random choice."""
        return int.from_bytes(self._digest(ns)[:8], "big") / 2**64

    def pin(self, ns: str, *values: Any) -> None:
        """Make the next calls for ``ns`` return ``values``, in order (then back to seeded)."""
        queue = list(self._pinned.get(ns, []))
        queue.extend(values)
        self._pinned[ns] = queue

    def _take_pinned(self, ns: str) -> Optional[Any]:
        queue = self._pinned.get(ns)
        if not queue:
            return None
        value, rest = queue[0], queue[1:]
        if rest:
            self._pinned[ns] = rest
        else:
            del self._pinned[ns]
        return value
