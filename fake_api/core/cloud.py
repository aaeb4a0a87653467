"""The state root of one fake cloud: store, clock, ids, blobs, journal, faults and backends."""

from __future__ import annotations

from typing import Any, Optional

from .blobs import BlobStore
from .clock import Clock, bounded, isoformat
from .faults import Faults
from .ids import Ids
from .journal import Journal
from .store import Store, decode_tables

#: 2: user dicts shaped like the bytes marker are escaped (format 1 could not tell them apart).
SNAPSHOT_FORMAT = 2
READABLE_FORMATS = (1, 2)


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
        #: Durable storage (``core.persist.Durable``) when the state lives in a file, else None.
        self.durable: Optional[Any] = None

    @property
    def seed(self) -> int:
        return self.ids.seed

    def attach(self, name: str, backend: Any) -> None:
        self.backends[name] = backend

    def commit(self, skip: tuple[str, ...] = ()) -> None:
        """Make every change so far durable (called under the store lock after each request);
        ``skip`` names prefixes of tables that cannot have changed."""
        if self.durable is not None:
            self.durable.commit(skip)

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

    def restore(self, snapshot: Any) -> None:
        """Put back a snapshot, all or nothing: a ``ValueError`` leaves the state as it was."""
        seed, clock, tables = read_snapshot(snapshot)
        self.load_state(seed, clock, tables)

    def load_state(self, seed: int, clock: Optional[str], tables: dict[str, dict]) -> None:
        """Replace the state with decoded ``tables``; if a backend cannot take them (its
        ``after_restore`` fails), the previous state comes back and a ``ValueError`` says why."""
        with self.store.lock:
            before = (self.seed, self.clock.isoformat(),
                      {name: dict(t) for name, t in self.store.tables().items() if t})
            try:
                self._put(seed, clock, tables)
            except Exception as exc:
                self._put(*before)
                raise ValueError(f"the snapshot does not fit the fake's models: "
                                 f"{type(exc).__name__}: {exc}") from None

    def _put(self, seed: int, clock: Optional[str], tables: dict[str, dict]) -> None:
        self.ids.seed = seed
        self.store.replace(tables)
        if self.clock.virtual and clock:
            self.clock.set(clock)
        for backend in self.backends.values():
            hook = getattr(backend, "after_restore", None)
            if hook is not None:
                hook()


def read_snapshot(snapshot: Any) -> tuple[int, Optional[str], dict[str, dict]]:
    """``(seed, clock, decoded tables)`` from a snapshot, fully checked, or a ``ValueError``."""
    if not isinstance(snapshot, dict) or snapshot.get("fleetsim_snapshot") not in READABLE_FORMATS:
        raise ValueError(
            "not a fleetsim snapshot (expected a JSON object with "
            f'"fleetsim_snapshot": {SNAPSHOT_FORMAT}, as snapshot() returns)'
        )
    seed = snapshot.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f'"seed" must be an integer, not {seed!r}')
    clock = snapshot.get("clock")
    if clock is not None:
        if not isinstance(clock, str):
            raise ValueError(f'"clock" must be an ISO-8601 time, not {clock!r}')
        clock = isoformat(bounded(clock))
    legacy = snapshot["fleetsim_snapshot"] == 1
    tables = decode_tables(snapshot.get("tables", {}), legacy=legacy)
    return seed, clock, tables
