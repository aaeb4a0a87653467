"""Compile ``$filter``/``$orderby`` expressions into Python closures over stored rows.

Names are resolved against the schema once, at compile time (an unknown field is a 400 before any
row is read); a closure is ``fn(row, env) -> value`` where ``env`` maps lambda variables to rows.
Logic is SQL's three-valued logic, as pinejs runs filters in SQL: a comparison with NULL is NULL
(None) except ``eq``/``ne``, which are null-safe (``IS NOT DISTINCT FROM``), and a row passes only
when the filter is True.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from .. import schema
from .ast import Bin, Call, Count, In, Lambda, Lit, Neg, Node, Not, Path, children, operands
from .errors import ODataError
from .parser import parse_datetime
from .reader import Reader
from .semantics import arith, call, compare

Fn = Callable[[dict, dict], Any]
_BOOLEAN_CALLS = ("contains", "startswith", "endswith", "substringof")


SEMI_JOIN_AFTER = 32  # rows evaluated one by one before a lambda switches to a semi-join


def _uncorrelated(node: Any, bound: set) -> bool:
    """Whether every path in ``node`` starts at a variable of ``bound`` (or an inner lambda's);
    a ``$count($filter=…)`` filter starts at its own resource and does not count."""
    stack = [(node, frozenset(bound))]
    while stack:
        n, names = stack.pop()
        if isinstance(n, Path):
            if n.segments[0] not in names:
                return False
        elif isinstance(n, Lambda):
            stack.append((n.path, names))
            if n.body is not None:
                stack.append((n.body, names | {n.var}))
        elif isinstance(n, Count):
            stack.append((n.path, names))
        elif not isinstance(n, Lit):
            stack.extend((c, names) for c in children(n))
    return True


def _strip(node: Any, var: str) -> Any:
    """``node`` with the lambda variable ``var`` removed from the front of its paths, so that an
    uncorrelated lambda body becomes a plain filter of the related resource."""
    if isinstance(node, Path):
        return Path(node.segments[1:]) if node.segments[0] == var else node
    if isinstance(node, Count):
        return Count(_strip(node.path, var), node.filter)
    if isinstance(node, Lambda):
        return Lambda(_strip(node.path, var), node.op, node.var,
                      None if node.body is None else _strip(node.body, var))
    if isinstance(node, Bin) and node.op in ("and", "or"):
        parts = [_strip(n, var) for n in operands(node, node.op)]
        out = parts[0]
        for part in parts[1:]:
            out = Bin(node.op, out, part)
        return out
    if isinstance(node, Bin):
        return Bin(node.op, _strip(node.left, var), _strip(node.right, var))
    if isinstance(node, Not):
        return Not(_strip(node.expr, var))
    if isinstance(node, Neg):
        return Neg(_strip(node.expr, var))
    if isinstance(node, In):
        return In(_strip(node.expr, var), tuple(_strip(i, var) for i in node.items))
    if isinstance(node, Call):
        return Call(node.name, tuple(_strip(a, var) for a in node.args))
    return node


# --- compiler -------------------------------------------------------------------------------------

class Compiler:
    """Compiles expressions rooted at one resource (lambda variables add roots)."""

    def __init__(self, reader: Reader, res: schema.Resource,
                 scope: Optional[dict[str, schema.Resource]] = None, depth: int = 0) -> None:
        self.reader = reader
        self.res = res
        self.scope = scope or {}
        self.depth = depth

    def predicate(self, node: Node) -> Callable[[dict], bool]:
        """``row -> bool`` for a top-level ``$filter``."""
        env: dict = {}
        if isinstance(node, Bin) and node.op == "and":  # a row passes when every conjunct is True
            parts = [self.predicate(n) for n in operands(node, "and")]
            if len(parts) == 2:
                a, b = parts
                return lambda row: a(row) and b(row)
            return lambda row: all(p(row) for p in parts)
        fn, kind = self.compile(node)
        if kind not in ("bool", "any", "null"):
            raise ODataError("$filter must be a boolean expression")
        return lambda row: fn(row, env) is True

    def compile(self, node: Node) -> tuple[Fn, str]:
        """``(fn(row, env) -> value, kind)``; kind: bool int real str date duration json null any."""
        if isinstance(node, Lit):
            value = node.value
            return (lambda row, env: value), node.kind
        if isinstance(node, Path):
            return self._path(node)
        if isinstance(node, Bin):
            return self._bin(node)
        if isinstance(node, Not):
            fn, kind = self.compile(node.expr)
            self._want_bool(kind, "not")
            return (lambda row, env: None if (v := fn(row, env)) is None else not v), "bool"
        if isinstance(node, Neg):  # pragma: no cover - the parser folds signs into numbers
            fn, kind = self.compile(node.expr)
            return (lambda row, env: None if (v := fn(row, env)) is None else -v), kind
        if isinstance(node, In):
            return self._in(node)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, (Lambda, Count)):
            return self._collection(node)
        raise ODataError("Unsupported expression")  # pragma: no cover

    @staticmethod
    def _want_bool(kind: str, where: str) -> None:
        if kind not in ("bool", "any", "null"):
            raise ODataError(f"The operand of '{where}' must be a boolean expression")

    def _root(self, segments: tuple[str, ...]) -> tuple[schema.Resource, Callable, tuple[str, ...]]:
        first = segments[0]
        if first in self.scope:
            return self.scope[first], (lambda row, env: env[first]), segments[1:]
        return self.res, (lambda row, env: row), segments

    def _walk(self, segments: tuple[str, ...]):
        """Follow to-one links; ``(resource, row getter, last kind, last member)``."""
        res, get, rest = self._root(segments)
        if not rest:
            raise ODataError(f"'{segments[0]}' alone is not a value")
        follow = self.reader.follow
        for i, seg in enumerate(rest):
            kind, member = self.reader.member(res, seg)
            if i == len(rest) - 1:
                return res, get, kind, member
            if kind != "link":
                raise ODataError(f"'{seg}' is a collection: use any()/all() or $count, or it is "
                                 f"not a navigation of '{res.name}'")
            value = self.reader.value_getter(res, member)
            get = (lambda g, v, m: lambda row, env: (
                None if (r := g(row, env)) is None else follow(m, v(r))))(get, value, member)
            res = schema.resource(member.target)
        raise AssertionError("unreachable")  # pragma: no cover

    def _path(self, node: Path) -> tuple[Fn, str]:
        res, get, kind, member = self._walk(node.segments)
        if kind == "nav":
            raise ODataError(f"'{member.name}' is a collection: use any()/all() or $count")
        value = self.reader.value_getter(res, member)
        out_kind = "int" if kind == "link" else member.type
        if out_kind == "text":
            out_kind = "str"
        if out_kind == "json" or member.computed:
            out_kind = "any"
        if len(node.segments) == 1 and node.segments[0] not in self.scope:
            return (lambda row, env: value(row)), out_kind
        return (lambda row, env: None if (r := get(row, env)) is None else value(r)), out_kind

    def _collection(self, node: Lambda | Count) -> tuple[Fn, str]:
        res, get, kind, member = self._walk(node.path.segments)
        if kind == "field":
            raise ODataError(f"'{member.name}' is not a navigation")
        related = self.reader.related(res, kind, member)

        def rows(row: dict, env: dict) -> list:
            r = get(row, env)
            return [] if r is None else related(r)
        target = schema.resource(member.target if kind == "link" else member.resource)
        if isinstance(node, Count):
            if node.filter is None:
                return (lambda row, env: len(rows(row, env))), "int"
            where = Compiler(self.reader, target, depth=self.depth + 1).predicate(node.filter)
            return (lambda row, env: sum(1 for c in rows(row, env) if where(c))), "int"
        if node.body is None:
            return (lambda row, env: bool(rows(row, env))), "bool"
        if self.depth > 20:
            raise ODataError("Lambdas are nested too deeply")
        var = node.var
        inner = Compiler(self.reader, self.res, {**self.scope, var: target}, self.depth + 1)
        body, bkind = inner.compile(node.body)
        self._want_bool(bkind, node.op)
        if node.op == "any":
            def any_(row: dict, env: dict) -> bool:
                return any(body(row, {**env, var: c}) is True for c in rows(row, env))
            if (len(node.path.segments) == 1 and node.path.segments[0] not in self.scope
                    and not getattr(member, "computed", False)
                    and (kind == "link" or member.fk is not None)
                    and _uncorrelated(node.body, {var})):
                return self._semi_join(any_, kind, member, target, var, node.body), "bool"
            return any_, "bool"

        def all_(row: dict, env: dict) -> bool:
            return all(body(row, {**env, var: c}) is not False for c in rows(row, env))
        return all_, "bool"

    def _logic(self, op: str, nodes: list[Node]) -> Fn:
        """A chain of ``and`` or ``or`` with SQL's three-valued logic, short-circuiting."""
        fns = []
        for n in nodes:
            fn, kind = self.compile(n)
            self._want_bool(kind, op)
            fns.append(fn)
        stop = op == "or"  # the value that decides the chain: True for or, False for and

        def chain(row: dict, env: dict) -> Optional[bool]:
            unknown = False
            for fn in fns:
                v = fn(row, env)
                if v is stop:
                    return stop
                if v is None:
                    unknown = True
            return None if unknown else not stop
        return chain

    def _semi_join(self, per_row: Fn, kind: str, member: Any, target: schema.Resource, var: str,
                   node_body: Node) -> Fn:
        """``nav/any(v: …)`` whose body reads only ``v``: after a few rows, one pass over the
        related table gives the set of matching parents, and each row is a set lookup."""
        reader = self.reader
        state: dict[str, Any] = {"calls": 0, "ids": None}
        name = member.name
        flat = _strip(node_body, var)
        pred = Compiler(reader, target).predicate(flat)

        def matching() -> set:
            from .query import Query, plan  # (query builds on this module)
            visible = reader.visible(target.name)
            rows = plan(reader, Query(target, flat, pred))
            hits = [c for c in rows if (visible is None or visible(c)) and pred(c)]
            if kind == "link":
                return {c["id"] for c in hits}
            return {c.get(member.fk) for c in hits}

        def any_(row: dict, env: dict) -> bool:
            ids = state["ids"]
            if ids is None:
                state["calls"] += 1
                if state["calls"] <= SEMI_JOIN_AFTER:
                    return per_row(row, env)
                ids = state["ids"] = matching()
            return (row.get(name) if kind == "link" else row["id"]) in ids
        return any_

    def _bin(self, node: Bin) -> tuple[Fn, str]:
        op = node.op
        if op in ("and", "or"):
            return self._logic(op, operands(node, op)), "bool"
        (left, lk), (right, rk) = self.compile(node.left), self.compile(node.right)
        if op in ("add", "sub", "mul", "div", "mod"):
            for k in (lk, rk):
                if k in ("bool", "str", "json"):
                    raise ODataError(f"'{op}' needs numbers, not {k}")
            kind = "date" if lk == "date" else ("real" if "real" in (lk, rk) else lk)
            return (lambda row, env: arith(op, left(row, env), right(row, env))), kind
        # comparison: a date compared with a plain string literal reads the string as a date
        (left, lk), (right, rk) = (self._date_side(node.left, left, lk, rk),
                                   self._date_side(node.right, right, rk, lk))
        numbered = (self._number_side(node.left, lk, rk), self._number_side(node.right, rk, lk))
        if numbered[0] is not None:
            (left, lk) = numbered[0]
        if numbered[1] is not None:
            (right, rk) = numbered[1]
        self._check_types(op, lk, rk)
        fast = self._fast_eq(node, lk) if numbered == (None, None) else None
        if fast is not None:
            return fast, "bool"
        return (lambda row, env: compare(op, left(row, env), right(row, env))), "bool"

    def _fast_eq(self, node: Bin, lk: str) -> Optional[Fn]:
        """``field eq literal`` without the general comparison (the hot case on big tables)."""
        if node.op != "eq" or not isinstance(node.right, Lit) or node.right.value is None:
            return None
        if not isinstance(node.left, Path) or len(node.left.segments) != 1 or (
                node.left.segments[0] in self.scope) or lk not in ("int", "real", "str", "bool"):
            return None
        if node.right.kind not in ("int", "real", "str", "bool"):
            return None
        kind, member = self.reader.member(self.res, node.left.segments[0])
        if member.computed or getattr(member, "type", "") == "date":
            return None
        name, lit = member.name, node.right.value
        return lambda row, env: row.get(name) == lit

    @staticmethod
    def _number_side(node: Node, kind: str, other: str) -> Optional[tuple[Fn, str]]:
        """A quoted integer compared with a number reads as the number (``id eq '21'``, as
        balena-sdk 9.x writes every filter; the database casts it for pinejs)."""
        if other in ("int", "real") and kind == "str" and isinstance(node, Lit) and \
                isinstance(node.value, str) and re.fullmatch(r"-?[0-9]{1,18}", node.value):
            value = int(node.value)
            return (lambda row, env: value), "int"
        return None

    def _date_side(self, node: Node, fn: Fn, kind: str, other: str) -> tuple[Fn, str]:
        if other == "date" and isinstance(node, Lit) and node.kind == "str":
            value = parse_datetime(node.value)
            return (lambda row, env: value), "date"
        if kind == "date":
            return fn, "str"
        return fn, kind

    @staticmethod
    def _check_types(op: str, lk: str, rk: str) -> None:
        group = {"int": "num", "real": "num", "str": "str", "date": "str", "bool": "bool",
                 "duration": "duration"}
        a, b = group.get(lk), group.get(rk)
        if a and b and a != b:
            raise ODataError(f"Cannot compare {lk} with {rk} using '{op}'")

    def _in(self, node: In) -> tuple[Fn, str]:
        fn, kind = self.compile(node.expr)
        values = []
        for item in node.items:
            if not isinstance(item, Lit):
                raise ODataError("'in' takes a list of literals")
            self._check_types("in", kind, item.kind)
            values.append(item.value)
        if kind in ("int", "str") and all(
                isinstance(v, (int, str)) and not isinstance(v, bool) for v in values):
            fast = frozenset(values)
            return (lambda row, env: None if (v := fn(row, env)) is None else v in fast), "bool"

        def slow(row: dict, env: dict) -> Optional[bool]:
            v = fn(row, env)
            if v is None:
                return None
            return any(compare("eq", v, x) is True for x in values)
        return slow, "bool"

    def _call(self, node: Call) -> tuple[Fn, str]:
        compiled = [self.compile(a) for a in node.args]
        fns = [f for f, _ in compiled]
        ctx = self.reader.ctx
        name = node.name
        kind = ("bool" if name in _BOOLEAN_CALLS else
                "str" if name in ("tolower", "toupper", "trim", "concat", "substring", "date",
                                  "time") else
                "date" if name == "now" else
                "real" if name in ("fractionalseconds", "totalseconds") else "int")
        if len(fns) == 1:
            f0 = fns[0]
            return (lambda row, env: call(name, [f0(row, env)], ctx)), kind
        return (lambda row, env: call(name, [f(row, env) for f in fns], ctx)), kind

