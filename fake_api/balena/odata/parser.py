"""Recursive-descent parser of pinejs URLs into the ``ast`` nodes.

``parse_target`` reads the resource part of the path, ``parse_query`` the query string (options
and ``@alias`` parameters), ``parse_filter`` one expression. Nesting is bounded (``MAX_DEPTH``) so
hostile input gets an ``ODataError``, never a ``RecursionError``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional
from urllib.parse import parse_qsl

from .ast import (
    Bin,
    Call,
    Count,
    Expand,
    In,
    Lambda,
    Lit,
    Node,
    Not,
    Options,
    OrderItem,
    Path,
    Target,
    depth,
)
from .errors import ODataError
from .tokenizer import Token, tokenize

MAX_DEPTH = 40
MAX_TREE_DEPTH = 60  # levels of the parsed tree (an and/or chain is one level; add/sub chains
#                      are not), so evaluating it never nears Python's recursion limit
MAX_DIGITS = 40
COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
ADDITIVE = ("add", "sub")
MULTIPLICATIVE = ("mul", "div", "mod")
FUNCTIONS = {  # name -> allowed argument counts
    "contains": (2,), "startswith": (2,), "endswith": (2,), "substringof": (2,),
    "tolower": (1,), "toupper": (1,), "trim": (1,), "length": (1,), "concat": (2,),
    "indexof": (2,), "substring": (2, 3), "year": (1,), "month": (1,), "day": (1,),
    "hour": (1,), "minute": (1,), "second": (1,), "fractionalseconds": (1,), "date": (1,),
    "time": (1,), "now": (0,), "round": (1,), "floor": (1,), "ceiling": (1,),
    "totalseconds": (1,),
}
KEYWORDS = set(COMPARISONS + ADDITIVE + MULTIPLICATIVE) | {"and", "or", "not", "in"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$")
_DURATION = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
    r"(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_datetime(text: str) -> str:
    """A ``datetime'…'`` literal in the stored form. Up to three fraction digits are an integer
    number of milliseconds, as the SDK prints them unpadded (``.5Z`` is 5 ms)."""
    m = _DATETIME.match(text.strip())
    if not m:
        raise ODataError(f"Malformed datetime literal '{text}'")
    y, mo, d, h, mi, s, frac, tz = m.groups()
    ms = 0
    if frac:
        ms = int(frac) if len(frac) <= 3 else round(float("0." + frac) * 1000)
    try:
        moment = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                          tzinfo=timezone.utc) + timedelta(milliseconds=ms)
        if tz and tz != "Z":
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    except (ValueError, OverflowError):
        raise ODataError(f"Invalid datetime literal '{text}'") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text.strip())
    if not m or text.strip() in ("P", "-P") or text.strip().endswith("T"):
        raise ODataError(f"Malformed duration literal '{text}'")
    neg, d, h, mi, s = m.groups()
    try:
        delta = timedelta(days=float(d or 0), hours=float(h or 0), minutes=float(mi or 0),
                          seconds=float(s or 0))
    except OverflowError:
        raise ODataError(f"Duration out of range '{text}'") from None
    return -delta if neg else delta


class _Parser:
    def __init__(self, text: str, aliases: Optional[dict[str, str]] = None) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.aliases = aliases or {}

    # --- token helpers ---------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def at(self, kind: str, value: Any = None) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == kind and (value is None or tok.value == value)

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, kind: str, value: Any = None) -> Token:
        if not self.at(kind, value):
            tok = self.tok
            want = repr(value) if value is not None else kind
            got = "the end" if tok.kind == "end" else repr(tok.value)
            raise ODataError(f"Malformed expression: expected {want} at position {tok.pos}, "
                             f"found {got}")
        return self.take()

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ODataError(f"The expression is nested deeper than {MAX_DEPTH} levels")

    # --- grammar ---------------------------------------------------------------------------------

    def whole(self) -> Node:
        node = self.expr()
        self.expect("end")
        return checked(node)

    def expr(self) -> Node:
        self.enter()
        node = self.and_()
        while self.at("name", "or"):
            self.take()
            node = Bin("or", node, self.and_())
        self.depth -= 1
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at("name", "and"):
            self.take()
            node = Bin("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.at("name", "not"):
            self.take()
            self.enter()
            node = Not(self.not_())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if self.tok.kind == "name" and self.tok.value in COMPARISONS:
            op = self.take().value
            return Bin(op, node, self.additive())
        if self.at("name", "in"):
            self.take()
            self.expect("punct", "(")
            items = [self.additive()]
            while self.at("punct", ","):
                self.take()
                items.append(self.additive())
            self.expect("punct", ")")
            return In(node, tuple(items))
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.tok.kind == "name" and self.tok.value in ADDITIVE:
            op = self.take().value
            node = Bin(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.tok.kind == "name" and self.tok.value in MULTIPLICATIVE:
            op = self.take().value
            node = Bin(op, node, self.unary())
        return node

    def unary(self) -> Node:
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "punct" and tok.value == "(":
            self.take()
            node = self.expr()
            self.expect("punct", ")")
            return node
        if tok.kind in ("str", "num", "typed", "alias"):
            return self.literal()
        if tok.kind == "name":
            if tok.value in ("true", "false"):
                self.take()
                return Lit(tok.value == "true", "bool")
            if tok.value == "null":
                self.take()
                return Lit(None, "null")
            if tok.value in KEYWORDS:
                raise ODataError(f"Malformed expression: unexpected '{tok.value}' at position "
                                 f"{tok.pos}")
            if self.tokens[self.i + 1].kind == "punct" and self.tokens[self.i + 1].value == "(":
                return self.call()
            return self.path()
        got = "the end" if tok.kind == "end" else repr(tok.value)
        raise ODataError(f"Malformed expression: unexpected {got} at position {tok.pos}")

    def literal(self) -> Lit:
        tok = self.take()
        if tok.kind == "str":
            return Lit(tok.value, "str")
        if tok.kind == "num":
            return Lit(tok.value, "real" if isinstance(tok.value, float) else "int")
        if tok.kind == "typed":
            if tok.type == "datetime":
                return Lit(parse_datetime(str(tok.value)), "date")
            if tok.type == "duration":
                return Lit(parse_duration(str(tok.value)), "duration")
            raise ODataError(f"Unsupported literal type '{tok.type}'")
        # parameter alias: its value is one literal, given as another query parameter
        raw = self.aliases.get("@" + str(tok.value))
        if raw is None:
            raise ODataError(f"Parameter alias @{tok.value} has no value")
        sub = _Parser(raw)
        node = sub.primary()
        sub.expect("end")
        if not isinstance(node, Lit):
            raise ODataError(f"Parameter alias @{tok.value} must be a literal")
        return node

    def call(self) -> Node:
        name = self.take().value
        if name not in FUNCTIONS:
            raise ODataError(f"Unknown function '{name}'")
        self.expect("punct", "(")
        self.enter()
        args: list[Node] = []
        if not self.at("punct", ")"):
            args.append(self.expr())
            while self.at("punct", ","):
                self.take()
                args.append(self.expr())
        self.expect("punct", ")")
        self.depth -= 1
        if len(args) not in FUNCTIONS[str(name)]:
            raise ODataError(f"Function '{name}' takes {FUNCTIONS[str(name)]} arguments, "
                             f"not {len(args)}")
        return Call(str(name), tuple(args))

    def path(self) -> Node:
        segments = [str(self.expect("name").value)]
        while self.at("punct", "/"):
            self.take()
            tok = self.expect("name")
            seg = str(tok.value)
            if seg in ("any", "all") and self.at("punct", "("):
                return self.lambda_(Path(tuple(segments)), seg)
            if seg == "$count":
                return Count(Path(tuple(segments)), self.count_filter())
            if seg.startswith("$") or seg in KEYWORDS:
                raise ODataError(f"Malformed path segment '{seg}' at position {tok.pos}")
            segments.append(seg)
        return Path(tuple(segments))

    def count_filter(self) -> Optional[Node]:
        """The ``($filter=…)`` pine-client writes after ``a/$count`` inside a filter."""
        if not self.at("punct", "("):
            return None
        self.take()
        self.expect("name", "$filter")
        self.expect("punct", "=")
        self.enter()
        node = self.expr()
        self.depth -= 1
        self.expect("punct", ")")
        return node

    def lambda_(self, path: Path, op: str) -> Node:
        self.expect("punct", "(")
        if self.at("punct", ")"):
            self.take()
            if op == "all":
                raise ODataError("all() needs a lambda expression")
            return Lambda(path, op, None, None)
        var = str(self.expect("name").value)
        if var in KEYWORDS or var in ("true", "false", "null"):
            raise ODataError(f"'{var}' cannot be a lambda variable")
        self.expect("punct", ":")
        self.enter()
        body = self.expr()
        self.depth -= 1
        self.expect("punct", ")")
        return Lambda(path, op, var, body)


def checked(node: Node) -> Node:
    if depth(node) > MAX_TREE_DEPTH:
        raise ODataError(f"The expression is nested deeper than {MAX_TREE_DEPTH} levels")
    return node


def parse_filter(text: str, aliases: Optional[dict[str, str]] = None) -> Node:
    if not text.strip():
        raise ODataError("$filter is empty")
    return _Parser(text, aliases).whole()


def parse_orderby(text: str, aliases: Optional[dict[str, str]] = None) -> list[OrderItem]:
    items = []
    for part in split_top(text, ","):
        p = _Parser(part, aliases)
        if p.at("end"):
            raise ODataError("Malformed $orderby: empty item")
        node = checked(p.expr())
        desc = False
        if p.at("name", "asc") or p.at("name", "desc"):
            desc = p.take().value == "desc"
        p.expect("end")
        items.append(OrderItem(node, desc))
    return items


def parse_select(text: str) -> Optional[list[str]]:
    names = [n.strip() for n in text.split(",")]
    if names == ["*"]:
        return None
    for name in names:
        if not _NAME.match(name):
            raise ODataError(f"Malformed $select item '{name}'")
    return names


def parse_count(text: str, option: str) -> int:
    text = text.strip()
    if not text.isdigit() or not text.isascii() or len(text) > MAX_DIGITS:
        raise ODataError(f"{option} must be a non-negative integer, not '{text}'")
    return int(text)


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` outside parentheses and quoted strings."""
    parts, depth, start, i, n = [], 0, 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            j = i + 1
            while True:
                j = text.find("'", j)
                if j < 0:
                    raise ODataError("Unterminated string")
                if j + 1 < n and text[j + 1] == "'":
                    j += 2
                    continue
                break
            i = j + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ODataError("Unbalanced parentheses")
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if depth != 0:
        raise ODataError("Unbalanced parentheses")
    parts.append(text[start:])
    return parts


def parse_expand(text: str, aliases: Optional[dict[str, str]] = None, depth: int = 0) -> list[Expand]:
    if depth > MAX_DEPTH // 4:
        raise ODataError("$expand is nested too deeply")
    out = []
    for item in split_top(text, ","):
        item = item.strip()
        options = Options()
        head = item
        if "(" in item:
            idx = item.index("(")
            if not item.endswith(")"):
                raise ODataError(f"Malformed $expand item '{item}'")
            head, inner = item[:idx].strip(), item[idx + 1:-1]
            if inner.strip():
                options = parse_options(
                    [tuple(kv.split("=", 1)) if "=" in kv else (kv, None)
                     for kv in split_top(inner, ";")], aliases, depth + 1)
        count = False
        if head.endswith("/$count"):
            head, count = head[: -len("/$count")], True
        if not _NAME.match(head):
            raise ODataError(f"Malformed $expand item '{item}'")
        out.append(Expand(head, count, options))
    return out


def parse_options(pairs: list, aliases: Optional[dict[str, str]] = None, depth: int = 0) -> Options:
    """``[(name, value), ...]`` of ``$`` options into ``Options`` (unknown options are a 400)."""
    opts = Options()
    seen = set()
    for name, value in pairs:
        name = name.strip()
        if value is None:
            raise ODataError(f"Malformed query option '{name}'")
        if name in seen:
            raise ODataError(f"Query option {name} is given twice")
        seen.add(name)
        if name == "$select":
            opts.select = parse_select(value)
        elif name == "$filter":
            opts.filter = parse_filter(value, aliases)
        elif name == "$orderby":
            opts.orderby = parse_orderby(value, aliases)
        elif name == "$top":
            opts.top = parse_count(value, "$top")
        elif name == "$skip":
            opts.skip = parse_count(value, "$skip")
        elif name == "$expand":
            opts.expand = parse_expand(value, aliases, depth)
        elif name == "$format" and value.strip() == "json":
            continue
        else:
            raise ODataError(f"Unsupported query option '{name}'")
    return opts


def parse_query(query: str) -> Options:
    """The query string (raw, percent-encoded) into ``Options``; ``@name`` parameters are aliases,
    other non-``$`` parameters are ignored (pinejs ignores them too)."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise ODataError("Malformed query string") from None
    aliases = {k: v for k, v in pairs if k.startswith("@")}
    return parse_options([(k, v) for k, v in pairs if k.startswith("$")], aliases)


def parse_target(path: str) -> Target:
    """``resource``, ``resource(1)``, ``resource(uuid='…')``, ``resource(a=1,b='x')``, then an
    optional ``/$count``."""
    path = path.strip("/")
    if not path:
        raise ODataError("No resource given")
    p = _Parser(path)
    name = str(p.expect("name").value)
    if name.startswith("$") or not _NAME.match(name):
        raise ODataError(f"Malformed resource name '{name}'")
    target = Target(name)
    if p.at("punct", "("):
        p.take()
        if p.at("name") and p.tokens[p.i + 1].kind == "punct" and p.tokens[p.i + 1].value == "=":
            key: dict[str, Any] = {}
            while True:
                field = str(p.expect("name").value)
                p.expect("punct", "=")
                if field in key:
                    raise ODataError(f"Key field '{field}' is given twice")
                key[field] = _key_value(p)
                if not p.at("punct", ","):
                    break
                p.take()
            target.key = key
        else:
            target.key = _key_value(p)
        p.expect("punct", ")")
    if p.at("punct", "/"):
        p.take()
        tok = p.expect("name")
        if tok.value != "$count":
            raise ODataError(f"Navigating to '{tok.value}' from a resource is not supported")
        target.count = True
    p.expect("end")
    return target


def _key_value(p: _Parser) -> Any:
    node = p.primary()
    if not isinstance(node, Lit) or node.kind in ("duration",):
        raise ODataError("A key must be a literal")
    return node.value
