"""The state root of one fake cloud: store, clock, ids, blobs, journal, faults and backends."""

from __future__ import annotations

from typing import Any, Optional

from .blobs import BlobStore
from .clock import Clock
from .faults import Faults
from .ids import Ids
from .journal import Journal
from .store import Store

SNAPSHOT_FORMAT = 1


class Cloud:
    """Everything one fake cloud knows. Dialect backends attach themselves by name.

    A backend may define ``after_reset()`` (to re-create reference data) and
    ``after_restore()`` (to rebuild anything derived from its tables).
    """

    def __init__(self, seed: int = 0, clock: Optional[Clock] = None, journal_size: int = 10_000):
        self.store = Store()
        self.clock = clock if clock is not None else Clock(virtual=True)
        self.ids = Ids(self.store, seed)
        self.blobs = BlobStore(self.store, self.clock, self.ids)
        self.journal = Journal(journal_size)
        self.faults = Faults(seed=lambda: self.ids.seed, dialects=lambda: self.backends)
        self.backends: dict[str, Any] = {}

    @property
    def seed(self) -> int:
        return self.ids.seed

    def attach(self, name: str, backend: Any) -> None:
        self.backends[name] = backend

    def reset(self, seed: Optional[int] = None) -> None:
        """Fresh state: empty tables, start time, no faults, empty journal; same tables."""
        with self.store.lock:
            if seed is not None:
                self.ids.seed = int(seed)
            self.store.reset()
            self.journal.clear()
            self.faults.clear()
            self.clock.reset()
            for backend in self.backends.values():
                hook = getattr(backend, "after_reset", None)
                if hook is not None:
                    hook()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON data (faults and the journal are not state)."""
        with self.store.lock:
            return {
                "fleetsim_snapshot": SNAPSHOT_FORMAT,
                "seed": self.seed,
                "clock": self.clock.isoformat(),
                "tables": self.store.snapshot(),
            }

    def restore(self, snapshot: dict[str, Any]) -> None:
        if not isinstance(snapshot, dict) or snapshot.get("fleetsim_snapshot") != SNAPSHOT_FORMAT:
            raise ValueError(
                "not a fleetsim snapshot (expected a JSON object with "
                f'"fleetsim_snapshot": {SNAPSHOT_FORMAT}, as snapshot() returns)'
            )
        with self.store.lock:
            self.ids.seed = int(snapshot.get("seed", self.seed))
            self.store.restore(snapshot.get("tables", {}))
            if self.clock.virtual and snapshot.get("clock"):
                self.clock.set(snapshot["clock"])
            for backend in self.backends.values():
                hook = getattr(backend, "after_restore", None)
                if hook is not None:
                    hook()
