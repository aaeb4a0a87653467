"""One request's view of the data for the engine: the version's names, the db, the actor and
the permission filters, and how a name of a resource reads a row (field, link or navigation)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import schema
from ..db import BalenaDb, Context
from .errors import ODataError


class Names:
    """Identity name mapping (API v7); ``versions.Version`` overrides it for older versions."""

    def resource_in(self, name: str) -> str:
        return name

    def field_in(self, resource: str, name: str) -> str:
        return name

    def field_out(self, resource: str, name: str) -> Optional[str]:
        """The name ``name`` has in this version, or None when the version does not have it."""
        return name

    def link(self, resource: str, id: Any) -> Any:
        """An unexpanded link to row ``id`` of ``resource``."""
        return {"__id": id}

    def decorate(self, resource: str, out: dict, row: dict) -> None:
        """Add per-row metadata to a served row (v5's ``__metadata``); nothing in v6/v7."""

    def bind(self, reader: Any) -> Names:
        """These names for one request (a version whose names need the data binds to it)."""
        return self


class Reader:
    """One request's view of the data: db, actor, version names, permission filters (cached)."""

    def __init__(self, db: BalenaDb, actor: Any = None, names: Optional[Names] = None) -> None:
        self.db = db
        self.actor = actor
        self.names = (names or Names()).bind(self)
        self.ctx = Context(db, actor)
        self._visible: dict[str, Any] = {}

    def resource(self, name: str) -> schema.Resource:
        res = schema.resource(self.names.resource_in(name))
        if res is None:
            raise ODataError(f"Unknown resource '{name}'", status=404)
        return res

    def visible(self, resource: str) -> Optional[Callable[[dict], bool]]:
        """The actor's read filter for ``resource`` (None: every row)."""
        if resource not in self._visible:
            self._visible[resource] = self.db.hooks.read_filter(resource, self.actor)
        return self._visible[resource]

    def member(self, res: schema.Resource, name: str) -> tuple[str, Any]:
        """What ``name`` is on ``res``: ("field", Field) / ("link", Link) / ("nav", Nav)."""
        real = self.names.field_in(res.name, name)
        real = res.field_synonyms.get(real, real)
        fdef = res.fields.get(real)
        if fdef is not None and not fdef.hidden:
            return "field", fdef
        if real in res.links:
            return "link", res.links[real]
        if real in res.navs:
            return "nav", res.navs[real]
        raise ODataError(f"Unknown field '{name}' of resource '{res.name}'")

    def value_getter(self, res: schema.Resource, column: Any) -> Callable[[dict], Any]:
        """``row -> stored or computed value`` for a field or a link."""
        name = column.name
        if column.computed:
            fn = res.computed.get(name)
            ctx = self.ctx
            if fn is None:
                return lambda row: None
            return lambda row: fn(row, ctx)
        return lambda row: row.get(name)

    def follow(self, link: schema.Link, target_id: Any) -> Optional[dict]:
        """The visible target row of a to-one link, or None."""
        row = self.db.get(link.target, target_id)
        if row is None:
            return None
        pred = self.visible(schema.canonical(link.target))
        return row if pred is None or pred(row) else None

    def related(self, res: schema.Resource, kind: str, member: Any) -> Callable[[dict], list]:
        """``row -> visible related rows`` for a link (0 or 1 row) or a navigation."""
        if kind == "link":
            getter = self.value_getter(res, member)
            return lambda row: [r for r in (self.follow(member, getter(row)),) if r is not None]
        nav: schema.Nav = member
        target = schema.canonical(nav.resource)
        table = self.db.tables[target]
        if nav.fk is None:
            fn = res.computed_navs.get(nav.name)
            if fn is None:
                return lambda row: []
            ctx = self.ctx

            def computed(row: dict) -> list:
                rows = (table.get(i) for i in fn(row, ctx))
                return self._only_visible(target, [r for r in rows if r is not None])
            return computed
        db, fk = self.db, nav.fk

        def children(row: dict) -> list:  # the link index keeps ids ascending
            return self._only_visible(target, [table[i] for i in db.child_ids(target, fk, row["id"])])
        return children

    def _only_visible(self, resource: str, rows: list) -> list:
        pred = self.visible(resource)
        return rows if pred is None else [r for r in rows if pred(r)]
