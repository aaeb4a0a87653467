"""Durable state for ``fleetsim serve --state FILE``: SQLite (WAL), committed after every request.

The app calls :meth:`Durable.commit` under the store's lock after each request and before its
answer is sent, so a SIGKILL at any moment loses nothing a client saw succeed.

What did a request change? Models mutate records in place and may hold references to them in
their own indexes, so watching table access would miss writes. Instead the durable keeps a
*shadow*: a deep copy of every record as last committed. A commit compares each table with its
shadow in C (``dict ==``, which stops at the first difference and skips unchanged tables), then
writes only the records that differ, and the removed keys, in one transaction. The cost is a
comparison of the state per request (measured in ``bench/bench_persist.py``, figures in
``docs/serve.md``), and twice the state in memory.

The file: ``meta(key, value)`` (format, seed, clock) and ``records(tbl, key, value)``, each value
one record in the store's JSON state encoding, in the tables' insertion order (``rowid``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from . import jsontext
from .cloud import Cloud, read_snapshot
from .store import dumps as dump_record
from .store import loads as load_record

STATE_FORMAT = "1"
SQLITE_MAGIC = b"SQLite format 3\x00"
_MISSING = object()
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    tbl TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (tbl, key)
);
"""
_UPSERT = ("INSERT INTO records (tbl, key, value) VALUES (?, ?, ?) "
           "ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value")


class StateFileError(Exception):
    """A state file fleetsim cannot use; the message names the file and says why."""


class Durable:
    """One open state file, kept equal to ``cloud``'s state by :meth:`commit`."""

    def __init__(self, cloud: Cloud, path: Path, *, sync: str = "normal") -> None:
        self.cloud = cloud
        self.path = Path(path)
        self.writes = 0  #: commits that wrote something (for benchmarks and tests)
        self._shadow: dict[str, dict[Any, Any]] = {}
        self._meta: dict[str, str] = {}
        self._db = _connect(self.path, sync)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, cloud: Cloud, path: Path, *, sync: str = "normal") -> tuple[Durable, str]:
        """Open (or create) the state file ``path`` and load it into ``cloud``.

        Returns the durable and what happened: ``"new"`` (no state yet: the caller seeds the
        cloud, then calls :meth:`commit`), ``"loaded"``, or ``"converted"`` (an old JSON state
        file, now a SQLite one; the JSON is kept beside it as ``FILE.json-backup``).
        """
        path = Path(path)
        head = _head(path)
        if head and not head.startswith(SQLITE_MAGIC):
            return cls._convert(cloud, path, sync), "converted"
        try:
            durable = cls(cloud, path, sync=sync)
        except sqlite3.Error as exc:
            raise StateFileError(_why(path, exc)) from None
        try:
            found = durable._load()
        except (sqlite3.Error, ValueError) as exc:
            durable.close()
            raise StateFileError(_why(path, exc)) from None
        return durable, "loaded" if found else "new"

    @classmethod
    def _convert(cls, cloud: Cloud, path: Path, sync: str) -> Durable:
        try:
            data = jsontext.loads(path.read_bytes(), max_depth=256)
        except jsontext.JSONError as exc:
            raise StateFileError(_why(path, ValueError(
                f"it is neither a fleetsim SQLite state file nor an old JSON one ({exc})"))) from None
        except OSError as exc:
            raise StateFileError(_why(path, exc)) from None
        try:
            seed, clock, tables = read_snapshot(data)
            cloud.load_state(seed, clock, tables)
        except ValueError as exc:
            raise StateFileError(_why(path, exc)) from None
        fresh = path.with_name(path.name + ".converting")
        try:
            for leftover in _files(fresh):
                leftover.unlink(missing_ok=True)
            durable = cls(cloud, fresh, sync=sync)
            durable._create()
            durable.commit()
            durable.close()
            shutil.copy2(path, path.with_name(path.name + ".json-backup"))
            os.replace(fresh, path)  # atomic: FILE is the old JSON or the new database
            durable = cls(cloud, path, sync=sync)
            durable._load(into_cloud=False)
        except (OSError, sqlite3.Error, ValueError) as exc:
            raise StateFileError(_why(path, exc)) from None
        return durable

    def _create(self) -> None:
        """The schema and the format mark, in one transaction (a file is fleetsim's or empty)."""
        self._db.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA} INSERT OR REPLACE INTO meta VALUES "
            f"('fleetsim_state', '{STATE_FORMAT}'); COMMIT;")

    def _load(self, into_cloud: bool = True) -> bool:
        """Read the file into the cloud (and the shadow); ``False`` when it holds no state yet."""
        names = {row[0] for row in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not names:
            self._create()
            return False
        if not {"meta", "records"} <= names:
            raise ValueError(f"it is a SQLite database, but not a fleetsim state file "
                             f"(tables: {', '.join(sorted(names))})")
        meta = dict(self._db.execute("SELECT key, value FROM meta"))
        if meta.get("fleetsim_state") != STATE_FORMAT:
            raise ValueError(f"unknown state format {meta.get('fleetsim_state')!r} "
                             f"(this fleetsim reads format {STATE_FORMAT})")
        if "seed" not in meta:
            return False  # created, never committed
        tables: dict[str, dict] = {}
        for tbl, key, value in self._db.execute(
                "SELECT tbl, key, value FROM records ORDER BY id"):
            tables.setdefault(tbl, {})[_key(key)] = load_record(value)
        snapshot = {"fleetsim_snapshot": 2, "seed": json.loads(meta["seed"]),
                    "clock": json.loads(meta.get("clock", "null")), "tables": {}}
        seed, clock, _ = read_snapshot(snapshot)
        if into_cloud:
            self.cloud.load_state(seed, clock, tables)
            if not self.cloud.clock.virtual:
                self.cloud.clock.offset = float(json.loads(meta.get("clock_offset", "0")))
        self._shadow = {name: {k: _copy(v) for k, v in rows.items()} for name, rows in tables.items()}
        self._meta = meta
        return True

    # -- committing ----------------------------------------------------------------------------

    def commit(self, skip: tuple[str, ...] = ()) -> None:
        """Write whatever changed since the last commit, in one transaction (under the lock).

        ``skip``: prefixes of tables the caller knows did not change (another dialect's, for a
        request to this one), which spares comparing them.
        """
        with self.cloud.store.lock:
            upserts: list[tuple[str, str, str]] = []
            deletes: list[tuple[str, str]] = []
            shadows: list[tuple[str, Any, Any]] = []
            for name, table in self.cloud.store.tables().items():
                shadow = self._shadow.get(name)
                if shadow is None:
                    if not table:
                        continue
                    shadow = self._shadow[name] = {}
                if (skip and name.startswith(skip)) or table == shadow:
                    continue
                old = shadow.get
                changed = [k for k, record in table.items() if old(k, _MISSING) != record]
                for key in changed:
                    record = table[key]
                    upserts.append((name, _key_text(key), dump_record(record)))
                    shadows.append((name, key, _copy(record)))
                if len(shadow) + sum(1 for k in changed if k not in shadow) > len(table):
                    gone = [k for k in shadow if k not in table]
                    deletes.extend((name, _key_text(k)) for k in gone)
                    shadows.extend((name, k, _MISSING) for k in gone)
            meta = self._current_meta()
            meta_changes = [(k, v) for k, v in meta.items() if self._meta.get(k) != v]
            if not (upserts or deletes or meta_changes):
                return
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_UPSERT, upserts)
                db.executemany("DELETE FROM records WHERE tbl = ? AND key = ?", deletes)
                db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                               meta_changes)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            # Only now that the file has it does the shadow move on (a failed write is retried).
            for name, key, copy in shadows:
                if copy is _MISSING:
                    del self._shadow[name][key]
                else:
                    self._shadow[name][key] = copy
            self._meta.update(meta_changes)
            self.writes += 1

    def _current_meta(self) -> dict[str, str]:
        clock = self.cloud.clock
        meta = {"fleetsim_state": STATE_FORMAT, "seed": json.dumps(self.cloud.seed)}
        if clock.virtual:
            meta["clock"] = json.dumps(clock.isoformat())
        else:
            meta["clock_offset"] = json.dumps(clock.offset)
        return meta

    def close(self) -> None:
        self._db.close()


def _connect(path: Path, sync: str) -> sqlite3.Connection:
    if sync not in ("normal", "full"):
        raise ValueError(f"sync must be 'normal' or 'full', not {sync!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        # One server per file: a second one gets "database is locked" instead of a silent fork.
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"cannot use write-ahead logging (mode {mode})")
        # NORMAL: a commit is in the OS before the answer leaves, so a killed process loses
        # nothing; FULL also fsyncs every commit, for power loss.
        db.execute(f"PRAGMA synchronous = {sync.upper()}")
        db.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now, not at the first write
        db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    return db


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise StateFileError(_why(path, exc)) from None


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _why(path: Path, exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        text = "it is in use by another process (another fleetsim serve?)"
    elif isinstance(exc, sqlite3.DatabaseError) and "not a database" in text:
        text = "it is neither a fleetsim SQLite state file nor an old JSON one"
    return f"cannot use the state file {path}: {text}"


def _key_text(key: Any) -> str:
    """A table key as text: strings as they are (``#`` doubled in front), integers as ``#N``."""
    if isinstance(key, str):
        return "#" + key if key.startswith("#") else key
    if isinstance(key, int) and not isinstance(key, bool):
        return f"#{key}"
    raise TypeError(f"fleetsim persist: table keys must be str or int, not {key!r}")


def _key(text: str) -> Any:
    if text.startswith("##"):
        return text[1:]
    return int(text[1:]) if text.startswith("#") else text


def _copy(value: Any) -> Any:
    """A deep copy of a record (containers copied, immutable leaves shared)."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is tuple:
        return tuple(_copy(v) for v in value)
    if kind is set:
        return {_copy(v) for v in value}
    if kind is bytearray:
        return bytearray(value)
    if isinstance(value, dict):
        return kind({k: _copy(v) for k, v in value.items()})
    return value
