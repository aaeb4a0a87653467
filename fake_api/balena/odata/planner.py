"""Where a query's candidate rows come from, so that a page costs the page and not the table.

``candidates`` reads the ``$filter`` for conjuncts an index answers (``id eq/in``, a unique field
``eq/in``, a link ``eq/in``) and gives the rows in ascending id order, lazily: the narrowest
indexed conjunct of an ``and``, a merge of the indexed disjuncts of an ``or``, else the whole
table in its own order. It also says what the caller may skip per row: the filter, when the
index answers it exactly, and the actor's read filter, when that filter is a ``RowsWhere`` on the
same link (visibility is then decided once per parent). ``top_k`` takes the first rows of an
``$orderby`` with a bounded heap instead of sorting every match.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional

from .. import schema
from ..db import RowsWhere
from .ast import Bin, In, Lit, Node, Path, operands
from .errors import ODataError


@dataclass
class Source:
    """Ids of candidate rows, ascending. ``size`` bounds how many; ``exact``: every row it gives
    matches the filter; ``visible``: every row it gives passes the read filter."""

    ids: Callable[[], Iterable[Any]]
    size: int
    exact: bool = False
    visible: bool = False
    counted: bool = False  # ``size`` is exactly how many rows it gives


@dataclass
class Candidates:
    """Rows to consider, and what still has to be checked on each of them."""

    rows: Iterable[dict]
    check_filter: bool
    check_visible: bool
    matches: Optional[int] = None  # how many rows pass both checks, when known without a scan


def candidates(reader: Any, res: schema.Resource, filter_node: Optional[Node]) -> Candidates:
    """The candidate rows of ``res`` for ``filter_node`` (see the module's docstring)."""
    table = reader.db.tables[res.name]
    visible = reader.visible(res.name)
    source = _source(reader, res, filter_node, visible) if filter_node is not None else None
    if source is None:
        if visible is None:
            if filter_node is not None:
                return Candidates(table.values(), True, False)
            return Candidates(table.values(), False, False, len(table))
        seen = _visible_rows(reader, res, visible)
        if seen is not None:  # few visible rows: walk them instead of the table
            rows, total = seen
            return Candidates(rows, filter_node is not None, False,
                              None if filter_node is not None else total)
        if filter_node is not None:
            return Candidates(table.values(), True, True)
        return Candidates(table.values(), False, True, _visible_count(reader, res, visible))
    get = table.get
    rows = (r for r in map(get, source.ids()) if r is not None)
    check_visible = visible is not None and not source.visible
    matches = source.size if source.exact and source.counted and not check_visible else None
    return Candidates(rows, not source.exact, check_visible, matches)


def _visible_rows(reader: Any, res: schema.Resource,
                  visible: Any) -> Optional[tuple[Iterable[dict], int]]:
    """``(rows, how many)`` of a ``RowsWhere`` filter without ``also`` (on ``id`` or a link), in
    ascending id order from the ids or the link's index, when they are under half the table and
    the table is in id order (so the walk gives the scan's order); else None."""
    db, table = reader.db, reader.db.tables[res.name]
    if (not isinstance(visible, RowsWhere) or visible.also is not None
            or not db.in_id_order(res.name)):
        return None
    if visible.field == "id":
        ids = sorted(i for i in dict.fromkeys(visible.ids) if i in table)
        return (None if len(ids) * 2 >= len(table) and ids
                else (map(table.__getitem__, ids), len(ids)))
    if not db.has_fk_index(res.name, visible.field):
        return None
    buckets = [b for b in (db.child_ids(res.name, visible.field, p)
                           for p in dict.fromkeys(visible.ids)) if b]
    total = sum(len(b) for b in buckets)
    if total * 2 >= len(table):
        return None
    ids = buckets[0] if len(buckets) == 1 else heapq.merge(*buckets)
    return map(table.__getitem__, ids), total


def _visible_count(reader: Any, res: schema.Resource, visible: Any) -> Optional[int]:
    """How many rows a ``RowsWhere`` read filter passes, from the link index (else None)."""
    if not isinstance(visible, RowsWhere) or visible.also is not None:
        return None
    db, table = reader.db, reader.db.tables[res.name]
    if visible.field == "id":
        return sum(1 for i in visible.ids if i in table)
    if not db.has_fk_index(res.name, visible.field):
        return None
    return sum(len(db.child_ids(res.name, visible.field, p)) for p in dict.fromkeys(visible.ids))


def _source(reader: Any, res: schema.Resource, node: Node, visible: Any) -> Optional[Source]:
    if isinstance(node, Bin) and node.op == "and":  # the narrowest indexed conjunct
        best: Optional[Source] = None
        for part in operands(node, "and"):
            found = _source(reader, res, part, visible)
            if found is not None and (best is None or found.size < best.size):
                best = found
        if best is None:
            return None
        return Source(best.ids, best.size, False, best.visible)  # the filter checks the rest
    if isinstance(node, Bin) and node.op == "or":  # every disjunct must be indexed
        parts = []
        for part in operands(node, "or"):
            found = _source(reader, res, part, visible)
            if found is None:
                return None
            parts.append(found)
        return Source(lambda: _unique(heapq.merge(*(p.ids() for p in parts))),
                      sum(p.size for p in parts), all(p.exact for p in parts),
                      all(p.visible for p in parts))
    if isinstance(node, Bin) and node.op == "eq":
        path, lit = node.left, node.right
        if isinstance(path, Lit):
            path, lit = lit, path
        if isinstance(path, Path) and isinstance(lit, Lit):
            return _lookup(reader, res, path, [lit.value], visible)
    if isinstance(node, In) and isinstance(node.expr, Path) and all(
            isinstance(i, Lit) for i in node.items):
        return _lookup(reader, res, node.expr, [i.value for i in node.items],  # type: ignore
                       visible)
    return None


def _unique(ids: Iterable[Any]) -> Iterator[Any]:
    """A sorted stream without repeats (``heapq.merge`` of overlapping sources)."""
    last: Any = _unique
    for i in ids:
        if i != last:
            yield i
            last = i


_QUOTED_INT = re.compile(r"-?[0-9]{1,18}")


def _lookup(reader: Any, res: schema.Resource, path: Path, values: list,
            visible: Any) -> Optional[Source]:
    if len(path.segments) != 1 or any(v is None or isinstance(v, bool) for v in values):
        return None
    try:
        kind, member = reader.member(res, path.segments[0])
    except ODataError:
        return None
    if getattr(member, "computed", False) or kind == "nav":
        return None
    db, name = reader.db, member.name
    if name == "id" or kind == "link":  # ids are ints; a quoted one ('21') means the number
        values = [int(v) if isinstance(v, str) and _QUOTED_INT.fullmatch(v) else v
                  for v in values]
    ints = all(type(v) is int for v in values)
    if name == "id":
        ids = sorted(set(values))
        seen = isinstance(visible, RowsWhere) and visible.field == "id"
        if seen:
            ids = [i for i in ids if visible.passes(i)]
        return Source(lambda: ids, len(ids), ints, seen)
    if kind == "link":
        parents = list(set(values))
        seen = isinstance(visible, RowsWhere) and visible.field == name
        if seen:
            parents = [p for p in parents if visible.passes(p)]
        buckets = [b for b in (db.child_ids(res.name, name, p) for p in parents) if b]
        size = sum(len(b) for b in buckets)  # a row is in one bucket: the count is exact
        if len(buckets) == 1:
            return Source(lambda: buckets[0], size, ints, seen, True)
        return Source(lambda: heapq.merge(*buckets), size, ints, seen, True)
    if db.has_unique_index(res.name, (name,)):
        found = (db.lookup_unique(res.name, (name,), (v,)) for v in values)
        ids = sorted({i for i in found if i is not None})
        exact = member.type in ("text", "int") and all(
            type(v) is (str if member.type == "text" else int) for v in values)
        return Source(lambda: ids, len(ids), exact, False, True)
    return None


# --- ordering ------------------------------------------------------------------------------------

def top_k(rows: list[dict], order: list[tuple[Callable[[dict], Any], bool]], k: int) -> list:
    """The first ``k`` rows of ``rows`` sorted by ``order`` (every key the same direction), as
    ``sorted`` would give them (ties keep the rows' order); raises TypeError like ``sort``."""
    if len(order) == 1:
        key, desc = order[0]
    else:
        keys = [key for key, _ in order]
        desc = order[0][1]

        def key(row: dict) -> tuple:
            return tuple(k(row) for k in keys)
    return (heapq.nlargest if desc else heapq.nsmallest)(k, rows, key=key)
