"""The syntax tree of a pinejs request: nodes of ``$filter``/``$orderby`` expressions, query
options (recursively, for ``$expand``) and the resource part of the URL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union


@dataclass(frozen=True)
class Lit:
    """A literal. ``kind``: str, int, real, bool, null, date (stored form), duration (seconds)."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Path:
    """``a/b/c``; the first segment may be a lambda variable."""

    segments: tuple[str, ...]


@dataclass(frozen=True)
class Lambda:
    """``path/any(var: body)`` or ``path/all(var: body)``; ``any()`` has no var and no body."""

    path: Path
    op: str
    var: Optional[str]
    body: Optional[Node]


@dataclass(frozen=True)
class Count:
    """``path/$count`` or ``path/$count($filter=…)``: the number of (matching) related rows;
    the filter's paths start at the related resource."""

    path: Path
    filter: Optional[Node] = None


@dataclass(frozen=True)
class Bin:
    """Binary operator: eq ne gt ge lt le and or add sub mul div mod."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    expr: Node


@dataclass(frozen=True)
class Neg:
    expr: Node


@dataclass(frozen=True)
class In:
    expr: Node
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Union[Lit, Path, Lambda, Count, Bin, Not, Neg, In, Call]


def operands(node: Node, op: str) -> list[Node]:
    """The operands of a chain of one operator (``a and b and c``), without recursion, so that a
    filter of thousands of ``or`` terms costs no stack."""
    out: list[Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Bin) and n.op == op:
            stack.append(n.right)
            stack.append(n.left)
        else:
            out.append(n)
    return out


def children(node: Node) -> list[Node]:
    """Direct sub-expressions; an ``and``/``or`` chain counts as one node with many children."""
    if isinstance(node, Bin):
        return operands(node, node.op) if node.op in ("and", "or") else [node.left, node.right]
    if isinstance(node, (Not, Neg)):
        return [node.expr]
    if isinstance(node, In):
        return [node.expr, *node.items]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, Lambda):
        return [node.path] + ([node.body] if node.body is not None else [])
    if isinstance(node, Count):
        return [node.path] + ([node.filter] if node.filter is not None else [])
    return []


def depth(node: Node) -> int:
    """How deep the tree is, counting a chain of ``and``/``or`` as one level (iterative)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in children(n))
    return deepest


@dataclass
class OrderItem:
    expr: Node
    desc: bool = False


@dataclass
class Expand:
    """One ``$expand`` item: a navigation, optionally ``/$count``, with its own options."""

    name: str
    count: bool
    options: Options


@dataclass
class Options:
    """Query options of a request or of one ``$expand`` item."""

    select: Optional[list[str]] = None  # None = every field; ["*"] is turned into None
    filter: Optional[Node] = None
    orderby: list[OrderItem] = field(default_factory=list)
    top: Optional[int] = None
    skip: Optional[int] = None
    expand: list[Expand] = field(default_factory=list)


@dataclass
class Target:
    """The resource part of the URL: ``resource``, ``resource(key)``, ``.../$count``."""

    resource: str
    key: Union[None, Any, dict[str, Any]] = None  # a bare key value, or {field: value}
    count: bool = False
