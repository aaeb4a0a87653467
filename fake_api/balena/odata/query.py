"""Compiled queries: options resolved against the schema once, then run over rows.

``compile_query`` turns ``Options`` into a ``Query`` (filter closure, sort keys, page, selected
columns and nested expands). ``select`` runs it: the candidate rows come from ``planner`` (an
index when the filter pins a key, an alternate key or a link: ``id in (…)``, ``uuid eq '…'``,
``belongs_to__application eq N``, ``(slug eq …) or (uuid eq …)``; else a lazy scan); without an
``$orderby`` it stops as soon as the page is full, with one it keeps the page's rows in a bounded
heap; ``count`` of a filter an index answers exactly is a length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable, Iterable, Optional

from .. import schema
from .ast import Node, Options, Path
from .errors import ODataError
from .evaluate import Compiler
from .planner import candidates as plan_candidates
from .planner import top_k
from .reader import Reader

MAX_INT = 2**31 - 1


@dataclass
class Expansion:
    out: str
    related: Callable[[dict], list]
    count: bool
    query: Query


@dataclass
class Query:
    res: schema.Resource
    filter_node: Optional[Node] = None
    filter: Optional[Callable[[dict], bool]] = None
    order: list[tuple[Callable[[dict], Any], bool]] = field(default_factory=list)
    heap_order: bool = True  # every sort key reads one stored column, all in one direction
    top: Optional[int] = None
    skip: Optional[int] = None
    plain: list[tuple[str, str]] = field(default_factory=list)  # (out name, stored name)
    extras: list[tuple[str, Callable[[dict], Any]]] = field(default_factory=list)  # links, computed
    expands: list[Expansion] = field(default_factory=list)

    def plain_values(self) -> Callable[[dict], dict]:
        """``row -> {out: value}`` of the stored plain fields, through one C-level itemgetter."""
        pairs, outs = self.plain, tuple(o for o, _ in self.plain)
        if len(pairs) < 2:
            return lambda row: {o: row.get(s) for o, s in pairs}
        getter = itemgetter(*(s for _, s in pairs))

        def values(row: dict) -> dict:
            try:
                return dict(zip(outs, getter(row)))
            except KeyError:  # a row written before a field was added to the schema
                return {o: row.get(s) for o, s in pairs}
        return values


def compile_query(reader: Reader, res: schema.Resource, opts: Options, depth: int = 0) -> Query:
    q = Query(res, opts.filter, top=opts.top, skip=opts.skip)
    compiler = Compiler(reader, res)
    if opts.filter is not None:
        q.filter = compiler.predicate(opts.filter)
    for item in opts.orderby:
        key, plain = _sort_key(reader, compiler, res, item.expr)
        q.order.append((key, item.desc))
        q.heap_order = q.heap_order and plain and item.desc == opts.orderby[0].desc
    expanded = set()
    for exp in opts.expand:
        kind, member = reader.member(res, exp.name)
        if kind == "field":
            raise ODataError(f"'{exp.name}' of '{res.name}' is not a navigation and cannot be "
                             "expanded")
        if exp.name in expanded:
            raise ODataError(f"'{exp.name}' is expanded twice")
        expanded.add(exp.name)
        target = schema.resource(member.target if kind == "link" else member.resource)
        q.expands.append(Expansion(exp.name, reader.related(res, kind, member), exp.count,
                                   compile_query(reader, target, exp.options, depth + 1)))
    q.plain, q.extras = _columns(reader, res, opts.select, expanded)
    return q


def _sort_key(reader: Reader, compiler: Compiler, res: schema.Resource,
              expr: Node) -> tuple[Callable[[dict], tuple], bool]:
    """``(row -> (0, value) or (1, 0) for NULL, plain)``: NULLs last ascending, first descending
    (PostgreSQL's default). A plain stored field is read directly; ``plain`` says its values
    are all of one comparable type (not JSON, not computed), so a heap may order them."""
    fn, _kind = compiler.compile(expr)
    if isinstance(expr, Path) and len(expr.segments) == 1:
        kind, member = reader.member(res, expr.segments[0])
        if kind != "nav" and not member.computed:
            name = member.name
            plain = kind == "link" or member.type in ("int", "real", "text", "bool", "date")
            return (lambda row: (1, 0) if (v := row.get(name)) is None else (0, v)), plain
    env: dict = {}
    return (lambda row: (1, 0) if (v := fn(row, env)) is None else (0, v)), False


def _columns(reader: Reader, res: schema.Resource, select: Optional[list[str]],
             expanded: set[str]) -> tuple[list, list]:
    names = reader.names
    if select is None:
        wanted = []
        for name in res.readable:
            out = names.field_out(res.name, name)
            if out is not None and out not in expanded:
                wanted.append(out)
    else:
        wanted = [n for n in dict.fromkeys(select) if n not in expanded]
    plain, cols = [], []
    link = names.link
    for out in wanted:
        kind, member = reader.member(res, out)
        if kind == "nav":
            raise ODataError(f"'{out}' is a collection of '{res.name}': expand it to select it")
        get = reader.value_getter(res, member)
        if kind == "link":
            target = schema.canonical(member.target)
            cols.append((out, (lambda g, t: lambda row: (
                None if (v := g(row)) is None else link(t, v)))(get, target)))
        elif member.computed:
            cols.append((out, get))
        else:
            plain.append((out, member.name))
    return plain, cols


# --- running ------------------------------------------------------------------------------------

def select(reader: Reader, q: Query, candidates: Optional[Iterable[dict]] = None) -> list[dict]:
    """The page of rows ``q`` answers (before serialisation)."""
    visible, flt = reader.visible(q.res.name), q.filter
    if candidates is not None:
        rows: Iterable[dict] = candidates
    else:
        planned = plan_candidates(reader, q.res, q.filter_node)
        rows = planned.rows
        visible = visible if planned.check_visible else None
        flt = flt if planned.check_filter else None
    skip, top = q.skip or 0, q.top
    if not q.order:
        out: list[dict] = []
        if top == 0:
            return out
        for row in rows:
            if (visible is not None and not visible(row)) or (flt is not None and not flt(row)):
                continue
            if skip:
                skip -= 1
                continue
            out.append(row)
            if top is not None and len(out) >= top:
                break
        return out
    if visible is None and flt is None:
        matched = list(rows)
    else:
        matched = [r for r in rows
                   if (visible is None or visible(r)) and (flt is None or flt(r))]
    if top is not None and q.heap_order and skip + top < len(matched):
        try:
            return top_k(matched, q.order, skip + top)[skip:]
        except TypeError:  # pragma: no cover - plain columns hold one type; sort as below
            pass
    for key, desc in reversed(q.order):
        try:
            matched.sort(key=key, reverse=desc)
        except TypeError:  # values of mixed types (computed or JSON): order them as text
            matched.sort(key=lambda r, key=key: (k := key(r))[:1] + (repr(k[1]),), reverse=desc)
    end = None if top is None else skip + top
    return matched[skip:end]


def count(reader: Reader, q: Query, candidates: Optional[Iterable[dict]] = None) -> int:
    """How many rows match (``$top``/``$skip`` do not apply to a count)."""
    visible, flt = reader.visible(q.res.name), q.filter
    if candidates is not None:
        rows: Iterable[dict] = candidates
    else:
        planned = plan_candidates(reader, q.res, q.filter_node)
        if planned.matches is not None:
            return planned.matches
        rows = planned.rows
        visible = visible if planned.check_visible else None
        flt = flt if planned.check_filter else None
    if visible is None and flt is None:
        return sum(1 for _ in rows)
    return sum(1 for r in rows
               if (visible is None or visible(r)) and (flt is None or flt(r)))


def plan(reader: Reader, q: Query) -> Iterable[dict]:
    """Candidate rows (a superset of the matches, lazily): through an index when the filter
    allows, else the whole table."""
    return plan_candidates(reader, q.res, q.filter_node).rows


def key_rows(reader: Reader, res: schema.Resource, key: Any) -> list[dict]:
    """The row a URL key names (``(1)``, ``(id=1)``, ``(uuid='…')``, ``(device=1,name='x')``)."""
    table = reader.db.tables[res.name]
    if not isinstance(key, dict):
        key = {"id": key}
    real = {}
    for name, value in key.items():
        kind, member = reader.member(res, name)
        if kind == "nav" or getattr(member, "computed", False):
            raise ODataError(f"'{name}' cannot be part of a key of '{res.name}'")
        real[member.name] = value
    if set(real) == {"id"}:
        rid = real["id"]
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise ODataError(f"The key of '{res.name}' must be an integer")
        if not -MAX_INT - 1 <= rid <= MAX_INT:
            raise ODataError(f"Key {rid} is out of range for an integer")
        row = table.get(rid)
        return [row] if row is not None else []
    for cols in res.alternate_keys:
        if set(cols) == set(real):
            rid = reader.db.lookup_unique(res.name, cols, tuple(real[c] for c in cols))
            return [table[rid]] if rid is not None else []
    raise ODataError(f"({', '.join(key)}) is not a key of '{res.name}'")
