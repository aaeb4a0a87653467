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
