"""Secondary indexes over one store table: keys grouped by a field, in the table's order.

Models keep their state as plain dicts in store tables; an index only holds table keys, so it
never copies state and can always be rebuilt from the table (after a restore, or to check it).
A model tells its index about every record it adds, changes or removes; lists, filters and
counts then cost the size of a group (or of a page), not the size of the table.

Each grouping maps a record to a bucket (``None``: the record is not in that grouping). Keys in a
bucket iterate in table order: a key that joins a bucket out of order (a device moving to
another fleet) marks the bucket for one re-sort, done lazily by the next read.
"""

from __future__ import annotations

from itertools import islice
from operator import itemgetter
from typing import Any, Callable, Hashable, Iterator, Mapping, Optional

Bucket = Callable[[dict], Optional[Hashable]]


class TableIndex:
    """Named groupings of the keys of ``table``.

    ``TableIndex(devices, team=lambda r: r["team_id"], fleet=lambda r: (r["team_id"], r["fleet_id"]))``
    """

    def __init__(self, table: Mapping[str, dict], **groupings: Bucket) -> None:
        self.table = table
        self.groupings = groupings
        self.clear()

    def clear(self) -> None:
        self._rank: dict[str, int] = {}
        self._next = 0
        #: grouping -> bucket -> {key: rank}, in rank order unless the bucket is in ``_unsorted``
        self._groups: dict[str, dict[Any, dict[str, int]]] = {n: {} for n in self.groupings}
        #: grouping -> key -> the bucket it is in now
        self._where: dict[str, dict[str, Any]] = {n: {} for n in self.groupings}
        self._last: dict[str, dict[Any, int]] = {n: {} for n in self.groupings}
        self._unsorted: dict[str, set] = {n: set() for n in self.groupings}

    def rebuild(self) -> None:
        """Derive everything again from the table, in its order."""
        self.clear()
        for key, record in self.table.items():
            self.add(key, record)

    # -- writes ----------------------------------------------------------------------------------

    def add(self, key: str, record: dict) -> None:
        """``record`` was stored under ``key`` (at the end of the table)."""
        if key in self._rank:
            self.remove(key)
        rank = self._rank[key] = self._next
        self._next += 1
        for name, bucket_of in self.groupings.items():
            bucket = bucket_of(record)
            if bucket is not None:
                self._join(name, bucket, key, rank)

    def update(self, key: str, record: dict) -> None:
        """``record`` (stored under ``key``) changed in place: move it between buckets."""
        rank = self._rank.get(key)
        if rank is None:
            self.add(key, record)
            return
        for name, bucket_of in self.groupings.items():
            bucket = bucket_of(record)
            where = self._where[name]
            if where.get(key) == bucket:  # (buckets in ``where`` are never None)
                continue
            if key in where:
                self._leave(name, where[key], key)
            if bucket is not None:
                self._join(name, bucket, key, rank)

    def remove(self, key: str) -> None:
        """The record under ``key`` left the table."""
        if self._rank.pop(key, None) is None:
            return
        for name in self.groupings:
            where = self._where[name]
            if key in where:
                self._leave(name, where[key], key)

    def _join(self, name: str, bucket: Any, key: str, rank: int) -> None:
        group = self._groups[name].get(bucket)
        if group is None:
            group = self._groups[name][bucket] = {}
        last = self._last[name]
        if group and rank < last[bucket]:
            self._unsorted[name].add(bucket)
        else:
            last[bucket] = rank
        group[key] = rank
        self._where[name][key] = bucket

    def _leave(self, name: str, bucket: Any, key: str) -> None:
        del self._where[name][key]
        groups = self._groups[name]
        group = groups[bucket]
        del group[key]
        if not group:
            del groups[bucket]
            self._last[name].pop(bucket, None)
            self._unsorted[name].discard(bucket)

    # -- reads -----------------------------------------------------------------------------------

    def _group(self, name: str, bucket: Any) -> dict[str, int]:
        group = self._groups[name].get(bucket)
        if group is None:
            return {}
        if bucket in self._unsorted[name]:
            group = self._groups[name][bucket] = dict(sorted(group.items(), key=itemgetter(1)))
            self._unsorted[name].discard(bucket)
            self._last[name][bucket] = next(reversed(group.values()))
        return group

    def count(self, name: str, bucket: Any) -> int:
        group = self._groups[name].get(bucket)
        return 0 if group is None else len(group)

    def keys(self, name: str, bucket: Any, start: int = 0, stop: Optional[int] = None,
             reverse: bool = False) -> list[str]:
        """Keys of one bucket in table order (``reverse``: newest first), sliced."""
        group = self._group(name, bucket)
        ordered = reversed(group) if reverse else iter(group)
        return list(islice(ordered, start, stop))

    def records(self, name: str, bucket: Any) -> Iterator[dict]:
        """The records of one bucket, in table order."""
        table = self.table
        return (table[k] for k in list(self._group(name, bucket)))

    def first(self, name: str, bucket: Any) -> Optional[dict]:
        group = self._group(name, bucket)
        return self.table[next(iter(group))] if group else None

    # -- checking --------------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Where this index disagrees with a plain scan of the table (empty when it agrees)."""
        found: list[str] = []
        for name, bucket_of in self.groupings.items():
            expected: dict[Any, list[str]] = {}
            for key, record in self.table.items():
                bucket = bucket_of(record)
                if bucket is not None:
                    expected.setdefault(bucket, []).append(key)
            actual = {b: list(self._group(name, b)) for b in list(self._groups[name])}
            if actual != expected:
                for bucket in set(actual) | set(expected):
                    if actual.get(bucket) != expected.get(bucket):
                        found.append(f"{name}[{bucket!r}]: index has {actual.get(bucket)}, "
                                     f"table scan gives {expected.get(bucket)}")
        if set(self._rank) != set(self.table):
            found.append(f"keys: index has {len(self._rank)}, table has {len(self.table)}")
        return found


class Rows:
    """A lazy, sliceable list of the records of one index bucket (what a list endpoint pages)."""

    __slots__ = ("index", "name", "bucket", "reverse")

    def __init__(self, index: TableIndex, name: str, bucket: Any, reverse: bool = False) -> None:
        self.index, self.name, self.bucket, self.reverse = index, name, bucket, reverse

    def __len__(self) -> int:
        return self.index.count(self.name, self.bucket)

    def __iter__(self) -> Iterator[dict]:
        if self.reverse:
            return reversed(list(self.index.records(self.name, self.bucket)))
        return self.index.records(self.name, self.bucket)

    def __getitem__(self, item: Any) -> Any:
        if not isinstance(item, slice) or item.step not in (None, 1):
            return list(self)[item]
        size = len(self)
        start, stop, _ = item.indices(size)
        table = self.index.table
        keys = self.index.keys(self.name, self.bucket, start, stop, reverse=self.reverse)
        return [table[k] for k in keys]


class Indexes(dict):
    """The indexes of one backend, by table name; writes go through here so they stay in step.

    Tables without an index are written as usual.
    """

    def put(self, table: Any, key: str, record: dict) -> None:
        table[key] = record
        index = self.get(table.name)
        if index is not None:
            index.add(key, record)

    def changed(self, table: Any, key: str, record: dict) -> None:
        index = self.get(table.name)
        if index is not None:
            index.update(key, record)

    def drop(self, table: Any, key: str) -> dict:
        record = table.pop(key)
        index = self.get(table.name)
        if index is not None:
            index.remove(key)
        return record

    def clear_all(self) -> None:
        for index in self.values():
            index.clear()

    def rebuild_all(self) -> None:
        for index in self.values():
            index.rebuild()

    def problems(self) -> list[str]:
        return [f"{name}: {p}" for name, index in self.items() for p in index.problems()]
