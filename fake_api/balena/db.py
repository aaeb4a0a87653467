"""``BalenaDb``: the only writer of balena rows.

Each resource of ``schema.py`` is one store table ``balena.<resource>`` of plain dicts keyed by the
integer id; links hold the target id or None. The db checks types, not-null, foreign keys and
unique constraints, keeps an index per link (children by parent id) and per unique constraint
(row id by value), applies ``on_delete`` (cascade / set_null / restrict) and calls the ``Hooks``
(B2's rules and permissions subclass them). It never imports Flask.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Optional

from . import schema
from .errors import BalenaError

UTC = timezone.utc


class Hooks:
    """No-op defaults for the rules and permissions hooks (subclass and override).

    ``before_*`` may change the values or raise ``BalenaError``; ``read_filter`` returns None (the
    actor sees every row) or ``predicate(row) -> bool``; ``may_*`` return False to refuse.
    """

    def before_insert(self, resource: str, values: dict, actor: Any) -> dict:
        return values

    def after_insert(self, resource: str, row: dict, actor: Any) -> None:
        pass

    def before_update(self, resource: str, row: dict, changes: dict, actor: Any) -> dict:
        return changes

    def after_update(self, resource: str, row: dict, old: dict, actor: Any) -> None:
        pass

    def before_delete(self, resource: str, row: dict, actor: Any) -> None:
        pass

    def after_delete(self, resource: str, row: dict, actor: Any) -> None:
        pass

    def read_filter(self, resource: str, actor: Any):
        return None

    def may_create(self, resource: str, values: dict, actor: Any) -> bool:
        return True

    def may_update(self, resource: str, row: dict, actor: Any) -> bool:
        return True

    def may_delete(self, resource: str, row: dict, actor: Any) -> bool:
        return True


class RowsWhere:
    """A read filter that passes the rows whose ``field`` (``"id"`` or a link) holds one of ``ids``
    or a value ``also(value)`` accepts. It is a plain ``predicate(row)``, and the query planner
    reads it too: it can then take the candidates from the link's index and decide visibility
    once per parent instead of once per row (``ids`` must support ``in`` and iteration)."""

    __slots__ = ("field", "ids", "also")

    def __init__(self, field: str, ids: Any, also: Optional[Callable[[Any], bool]] = None) -> None:
        self.field, self.ids, self.also = field, ids, also

    def passes(self, value: Any) -> bool:
        """Whether rows whose ``field`` is ``value`` are visible."""
        return value in self.ids or (self.also is not None and bool(self.also(value)))

    def __call__(self, row: dict) -> bool:
        value = row.get(self.field)
        return value in self.ids or (self.also is not None and bool(self.also(value)))


@dataclass
class Context:
    """What computed fields and navigations get: ``fn(row, ctx)``."""

    db: BalenaDb
    actor: Any = None


def format_date(moment: datetime) -> str:
    """pinejs's date form: milliseconds and ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_date(value: Any) -> str:
    """A stored date from an ISO-8601 string or epoch milliseconds (the SDK sends both)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, (int, float)):
        return format_date(datetime.fromtimestamp(value / 1000, tz=UTC))
    if isinstance(value, datetime):
        return format_date(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        return format_date(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    raise ValueError(f"not a date: {value!r}")


_TYPE_WORDS = {"int": "an integer", "text": "a string", "bool": "a boolean", "date": "a date",
               "real": "a number", "json": "JSON"}


def coerce(column: Any, value: Any) -> Any:
    """``value`` checked (and dates normalised) for a field or link; ValueError when wrong."""
    if value is None:
        return None
    if isinstance(column, schema.Link):
        if isinstance(value, dict) and set(value) == {"__id"}:
            value = value["__id"]
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f'"{column.name}" must be an integer id')
    kind = column.type
    ok = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "text": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "real": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "json": lambda v: True,
    }
    if kind == "date":
        try:
            return to_date(value)
        except (ValueError, OverflowError, OSError):
            raise ValueError(f'"{column.name}" must be a date') from None
    if not ok[kind](value):
        raise ValueError(f'"{column.name}" must be {_TYPE_WORDS[kind]}')
    return value


class BalenaDb:
    """Rows of every balena resource, with their indexes. ``hooks`` is B2's ``Hooks`` subclass."""

    def __init__(self, cloud: Any, hooks: Optional[Hooks] = None) -> None:
        self.cloud = cloud
        self.hooks = hooks or Hooks()
        self.tables = {name: cloud.store.table(f"balena.{name}") for name in schema.RESOURCES}
        # links pointing at each resource: target -> [(resource, link)]
        self.referrers: dict[str, list[tuple[str, schema.Link]]] = {n: [] for n in schema.RESOURCES}
        for res in schema.RESOURCES.values():
            for link in res.links.values():
                if not link.computed:
                    self.referrers[schema.canonical(link.target)].append((res.name, link))
        self._undo: Optional[list[Callable[[], None]]] = None  # set inside ``transaction()``
        # link index: (resource, link) -> parent id -> ids of the children, ascending
        self._fk: dict[tuple[str, str], dict[Any, list[int]]] = {}
        self._uq: dict[tuple[str, tuple[str, ...]], dict[tuple, int]] = {}
        self._ordered: dict[str, bool] = {}  # resource -> its table's keys ascend
        self.rebuild()

    # --- transactions ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside (hooks' writes included) are undone if the block raises, as pinejs
        runs each request in one database transaction. Ids taken are not given back."""
        if self._undo is not None:  # nested: the outer transaction decides
            yield
            return
        with self.cloud.store.lock:
            self._undo = []
            try:
                yield
            except BaseException:
                for undo in reversed(self._undo):
                    undo()
                for name, table in self.tables.items():  # rows put back keep their id order
                    if not self._ordered[name] and any(
                            a > b for a, b in zip(table, list(table)[1:])):
                        rows = sorted(table.items())
                        table.clear()
                        table.update(rows)
                    self._ordered[name] = True
                raise
            finally:
                self._undo = None

    def _log(self, undo: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    def _put(self, name: str, row: dict) -> None:
        table = self.tables[name]
        if table and row["id"] < next(reversed(table)):
            self._ordered[name] = False
        table[row["id"]] = row
        self._index(name, row)

    def _drop(self, name: str, rid: int) -> Optional[dict]:
        row = self.tables[name].pop(rid, None)
        if row is not None:
            self._unindex(name, row)
        return row

    def _replace(self, name: str, row: dict, values: dict) -> None:
        """Change ``row`` in place to ``values``; only the index entries whose value changed move."""
        old = dict(row)
        row.clear()
        row.update(values)
        rid = row["id"]
        for (_res, ln), index in self._fk_of(name):
            before, after = old.get(ln), row.get(ln)
            if before != after:
                self._fk_remove(index, before, rid)
                if after is not None:
                    self._fk_add(index, after, rid)
        for cols, index in self._uq_of(name):
            before, after = tuple(old.get(c) for c in cols), tuple(row.get(c) for c in cols)
            if before != after:
                if index.get(before) == rid:
                    del index[before]
                if None not in after:
                    index[after] = rid

    # --- indexes ---------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Recreate every index from the tables (after reset and restore)."""
        self._fk = {(r.name, ln): {} for r in schema.RESOURCES.values()
                    for ln, link in r.links.items() if not link.computed}
        self._uq = {(r.name, cols): {} for r in schema.RESOURCES.values() for cols in r.unique}
        for name, table in self.tables.items():
            for row in table.values():
                self._index(name, row)
            keys = list(table)
            self._ordered[name] = all(a < b for a, b in zip(keys, keys[1:]))

    def in_id_order(self, resource: str) -> bool:
        """Whether iterating the table gives ascending ids (true unless a row was inserted with
        an explicit id below the highest), so that an index's id order is the table's order."""
        return self._ordered[schema.canonical(resource)]

    def after_reset(self) -> None:
        self.rebuild()

    def after_restore(self) -> None:
        """A restored store has string keys (JSON): make them ints again, then reindex."""
        for table in self.tables.values():
            if any(not isinstance(k, int) for k in table):
                rows = sorted(((int(k), v) for k, v in table.items()), key=lambda kv: kv[0])
                table.clear()
                table.update(rows)
        self.rebuild()

    def _index(self, name: str, row: dict) -> None:
        rid = row["id"]
        for (_res, ln), index in self._fk_of(name):
            value = row.get(ln)
            if value is not None:
                self._fk_add(index, value, rid)
        for cols, index in self._uq_of(name):
            key = tuple(row.get(c) for c in cols)
            if None not in key:
                index[key] = rid

    def _unindex(self, name: str, row: dict) -> None:
        rid = row["id"]
        for (_res, ln), index in self._fk_of(name):
            self._fk_remove(index, row.get(ln), rid)
        for cols, index in self._uq_of(name):
            key = tuple(row.get(c) for c in cols)
            if index.get(key) == rid:
                del index[key]

    @staticmethod
    def _fk_add(index: dict, value: Any, rid: int) -> None:
        bucket = index.get(value)
        if bucket is None:
            index[value] = [rid]
        elif rid > bucket[-1]:  # the usual case: a new row has the highest id
            bucket.append(rid)
        else:
            at = bisect_left(bucket, rid)
            if at == len(bucket) or bucket[at] != rid:
                insort(bucket, rid)

    @staticmethod
    def _fk_remove(index: dict, value: Any, rid: int) -> None:
        bucket = index.get(value)
        if bucket is None:
            return
        at = bisect_left(bucket, rid)
        if at < len(bucket) and bucket[at] == rid:
            del bucket[at]
            if not bucket:
                del index[value]

    def _fk_of(self, name: str) -> Iterator:
        res = schema.RESOURCES[name]
        for ln, link in res.links.items():
            if not link.computed:
                yield (name, ln), self._fk[(name, ln)]

    def _uq_of(self, name: str) -> Iterator:
        for cols in schema.RESOURCES[name].unique:
            yield cols, self._uq[(name, cols)]

    # --- reads -----------------------------------------------------------------------------------

    def table(self, resource: str) -> dict:
        return self.tables[schema.canonical(resource)]

    def get(self, resource: str, id: Any) -> Optional[dict]:
        """The row (do not mutate it; use ``update``), or None."""
        if id is None:
            return None
        return self.tables[schema.canonical(resource)].get(id)

    def children(self, resource: str, fk_field: str, id: Any) -> list[dict]:
        """Rows of ``resource`` whose link ``fk_field`` is ``id`` (indexed)."""
        name = schema.canonical(resource)
        table = self.tables[name]
        return [table[i] for i in self._fk[(name, fk_field)].get(id, ())]

    def child_ids(self, resource: str, fk_field: str, id: Any) -> Iterable[int]:
        """Ids of the rows of ``resource`` whose link ``fk_field`` is ``id``, ascending (the
        index's own list: do not change it)."""
        return self._fk[(schema.canonical(resource), fk_field)].get(id, ())

    def lookup_unique(self, resource: str, cols: tuple[str, ...], values: tuple) -> Optional[int]:
        """The id of the row whose unique ``cols`` equal ``values``, or None (None if not indexed)."""
        index = self._uq.get((schema.canonical(resource), tuple(cols)))
        return None if index is None else index.get(tuple(values))

    def has_unique_index(self, resource: str, cols: tuple[str, ...]) -> bool:
        return (schema.canonical(resource), tuple(cols)) in self._uq

    def has_fk_index(self, resource: str, fk_field: str) -> bool:
        return (schema.canonical(resource), fk_field) in self._fk

    def find(self, resource: str, **eq: Any) -> list[dict]:
        """Rows whose fields equal ``eq``, through a unique or link index when one applies."""
        name = schema.canonical(resource)
        res = schema.RESOURCES[name]
        eq = {res.field_synonyms.get(k, k): v for k, v in eq.items()}
        candidates: Iterable[dict]
        for cols in res.unique:
            if all(c in eq for c in cols):
                rid = self._uq[(name, cols)].get(tuple(eq[c] for c in cols))
                candidates = [self.tables[name][rid]] if rid is not None else []
                break
        else:
            fk = next((k for k in eq if (name, k) in self._fk), None)
            if fk is not None:
                candidates = self.children(name, fk, eq[fk])
            elif "id" in eq:
                row = self.tables[name].get(eq["id"])
                candidates = [row] if row else []
            else:
                candidates = self.tables[name].values()
        return [r for r in candidates if all(r.get(k) == v for k, v in eq.items())]

    # --- writes ----------------------------------------------------------------------------------

    def _check(self, name: str, values: dict) -> dict:
        """Names, types, not-null and foreign keys of ``values`` (a new row's or changes)."""
        res = schema.RESOURCES[name]
        clean: dict[str, Any] = {}
        for key, value in values.items():
            column = res.column(key)
            if column is None or column.computed:
                raise BalenaError(400, f"'{key}' is not a writable field of '{name}'")
            try:
                value = coerce(column, value)
            except ValueError as exc:
                raise BalenaError(400, str(exc)) from None
            if value is None and not column.nullable:
                raise BalenaError(400, f'"{column.name}" cannot be null')
            if (isinstance(column, schema.Link) and value is not None
                    and self.get(column.target, value) is None):
                raise BalenaError(
                    400, f'Foreign key constraint violated: "{column.name}" refers to no '
                    f"{schema.canonical(column.target)} with id {value}")
            clean[column.name] = value
        return clean

    def _check_unique(self, name: str, row: dict) -> None:
        for cols, index in self._uq_of(name):
            key = tuple(row.get(c) for c in cols)
            if None in key:
                continue
            other = index.get(key)
            if other is not None and other != row["id"]:
                names = " and ".join(f'"{c}"' for c in cols)
                raise BalenaError(409, f"{names} must be unique.")

    def insert(self, resource: str, values: dict, actor: Any = None) -> dict:
        """A new row from ``values`` (hooks, defaults, checks); returns the stored row."""
        name = schema.canonical(resource)
        res = schema.RESOURCES[name]
        with self.cloud.store.lock:
            values = self.hooks.before_insert(name, dict(values), actor)
            given_id = values.pop("id", None)
            clean = self._check(name, values)
            row: dict[str, Any] = {}
            table = self.tables[name]
            if given_id is not None:
                if not isinstance(given_id, int) or isinstance(given_id, bool) or given_id < 1:
                    raise BalenaError(400, '"id" must be a positive integer')
                if given_id in table:
                    raise BalenaError(409, '"id" must be unique.')
                rid = given_id
            else:
                rid = self.cloud.ids.counter(f"balena.{name}")
                while rid in table:
                    rid = self.cloud.ids.counter(f"balena.{name}")
            for fname, fdef in res.fields.items():
                if fdef.computed:
                    continue
                if fname in clean:
                    row[fname] = clean[fname]
                elif fname == "id":
                    row["id"] = rid
                elif fdef.type == "date" and fname in ("created_at", "modified_at"):
                    row[fname] = format_date(self.cloud.clock.now())
                else:
                    row[fname] = fdef.default
                if row[fname] is None and not fdef.nullable:
                    raise BalenaError(400, f'"{fname}" cannot be null')
            for lname, link in res.links.items():
                if link.computed:
                    continue
                row[lname] = clean.get(lname)
                if row[lname] is None and not link.nullable:
                    raise BalenaError(400, f'"{lname}" cannot be null')
            self._check_unique(name, row)
            self._put(name, row)
            self._log(lambda: self._drop(name, rid))
            self.hooks.after_insert(name, row, actor)
            return row

    def update(self, resource: str, id: int, changes: dict, actor: Any = None) -> dict:
        """Apply ``changes`` to one row (hooks, checks, reindex); returns the row."""
        name = schema.canonical(resource)
        with self.cloud.store.lock:
            row = self.tables[name].get(id)
            if row is None:
                raise BalenaError(404, f"No {name} with id {id}")
            changes = self.hooks.before_update(name, row, dict(changes), actor)
            if "id" in changes and changes["id"] != id:
                raise BalenaError(400, '"id" cannot be changed')
            changes.pop("id", None)
            clean = self._check(name, changes)
            res = schema.RESOURCES[name]
            if "modified_at" in res.fields and "modified_at" not in clean:
                clean["modified_at"] = format_date(self.cloud.clock.now())
            self._check_unique(name, {**row, **clean})
            old = dict(row)
            self._replace(name, row, {**row, **clean})
            self._log(lambda: self._replace(name, row, old))
            self.hooks.after_update(name, row, old, actor)
            return row

    def delete(self, resource: str, id: int, actor: Any = None) -> None:
        """Delete one row and apply every ``on_delete`` rule of the links that point at it.

        The whole cascade is planned (and restrict rules checked, hooks' ``before_delete``
        called) before anything changes, so a refusal leaves the state untouched.
        """
        name = schema.canonical(resource)
        with self.cloud.store.lock:
            if id not in self.tables[name]:
                raise BalenaError(404, f"No {name} with id {id}")
            plan: list[tuple[str, int]] = []
            seen: set[tuple[str, int]] = set()
            nulls: list[tuple[str, int, str]] = []
            stack = [(name, id)]
            while stack:
                item = stack.pop()
                if item in seen:
                    continue
                seen.add(item)
                plan.append(item)
                for ref_name, link in self.referrers[item[0]]:
                    for child in list(self.child_ids(ref_name, link.name, item[1])):
                        if link.on_delete == "cascade":
                            stack.append((ref_name, child))
                        elif link.on_delete == "set_null":
                            nulls.append((ref_name, child, link.name))
                        else:
                            nulls.append((ref_name, child, ""))
            for ref_name, child, link_name in nulls:
                if (ref_name, child) not in seen and not link_name:
                    raise BalenaError(
                        409, f"Foreign key constraint violated: {ref_name} {child} refers to "
                        f"this {schema.canonical(plan[0][0])}")
            for res_name, rid in plan:
                self.hooks.before_delete(res_name, self.tables[res_name][rid], actor)
            for ref_name, child, link_name in nulls:
                if link_name and (ref_name, child) not in seen:
                    row = self.tables[ref_name][child]
                    old = dict(row)
                    self._replace(ref_name, row, {**row, link_name: None})
                    self._log((lambda n, r, o: lambda: self._replace(n, r, o))(ref_name, row, old))
            for res_name, rid in reversed(plan):
                row = self._drop(res_name, rid)
                if row is not None:
                    self._log((lambda n, r: lambda: self._put(n, r))(res_name, row))
                    self.hooks.after_delete(res_name, row, actor)
