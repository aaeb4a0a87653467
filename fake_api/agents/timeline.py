"""The fleet's progress over virtual time: per release, how many devices are in each phase.

Each agent counts in ``(release, phase)`` cells: ``installed`` for the release it runs, and
``downloading``/``installing``/``failed``/``offline`` for the one it is updating to.
:class:`Timeline` keeps the counts (O(1) per move) and takes a sample every ``sample_every``
virtual seconds (a row per release, written only when its counts changed). ``pending`` for a
release is every spawned device in no other phase for it: not offered it yet, or not
registered yet.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Optional

from .agent import PHASES

NO_RELEASE = "(none)"
Cells = tuple[tuple[Optional[str], str], ...]
_COUNTED = PHASES[1:]


def _label(release: Optional[str]) -> str:
    return NO_RELEASE if release is None else release


class Timeline:
    def __init__(self, start: float, sample_every: float = 60.0) -> None:
        if sample_every <= 0:
            raise ValueError("sample_every must be positive")
        self.start = start
        self.sample_every = float(sample_every)
        self.total = 0
        self.counts: dict[str, dict[str, int]] = {}
        self.rows: list[dict[str, Any]] = []
        self._next_sample = start
        self._last: dict[str, tuple[int, ...]] = {}

    def moved(self, before: Cells, after: Cells) -> None:
        """A device left the cells ``before`` for the cells ``after``."""
        for release, phase in before:
            self.counts[_label(release)][phase] -= 1
        for release, phase in after:
            cell = self.counts.get(_label(release))
            if cell is None:
                cell = self.counts[_label(release)] = defaultdict(int)
            cell[phase] += 1

    def count(self, release: Optional[str], phase: str) -> int:
        """Devices in ``phase`` for ``release`` now (``pending`` included)."""
        cell = self.counts.get(_label(release), {})
        if phase == "pending":
            return self.total - sum(cell.get(p, 0) for p in _COUNTED)
        if phase not in _COUNTED:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}")
        return cell.get(phase, 0)

    def snapshot(self, release: Optional[str]) -> dict[str, int]:
        return {p: self.count(release, p) for p in PHASES}

    @property
    def releases(self) -> list[str]:
        return list(self.counts)

    def sample_until(self, now: float) -> None:
        """Take the samples due at or before ``now`` (the state then was the current state)."""
        while self._next_sample <= now:
            self.sample(self._next_sample)
            self._next_sample += self.sample_every

    def sample(self, at: float) -> None:
        """A row per release whose counts changed since its last row."""
        for release in self.counts:
            values = tuple(self.count(release, p) for p in PHASES)
            if self._last.get(release) == values:
                continue
            self._last[release] = values
            row = {"t": round(at - self.start, 3),
                   "time": datetime.fromtimestamp(at, tz=timezone.utc).isoformat(),
                   "release": release}
            row.update(zip(PHASES, values))
            self.rows.append(row)

    def series(self, release: Optional[str]) -> list[dict[str, Any]]:
        """The samples of one release, in time order."""
        label = _label(release)
        return [r for r in self.rows if r["release"] == label]

    def to_json(self) -> dict[str, Any]:
        return {"start": datetime.fromtimestamp(self.start, tz=timezone.utc).isoformat(),
                "sample_every": self.sample_every, "devices": self.total,
                "phases": list(PHASES), "releases": self.releases, "rows": list(self.rows)}

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, ["t", "time", "release", *PHASES], lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()
