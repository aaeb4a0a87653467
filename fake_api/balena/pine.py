"""pinejs request semantics over ``BalenaDb`` (no Flask): GET/POST/PATCH/DELETE on
``/<version>/<resource>[(<key>)][/$count]?<options>``.

Conventions (reference §4): GET answers ``{"d": [...]}`` (``{"d": N}`` for ``$count``); POST
answers 201 with the created row re-read (every field, links as ``{"__id": N}``); PATCH and
DELETE answer 200 with an empty body, by key or by ``$filter`` (no filter: every visible row).
Rows the actor may not read do not exist for any method. Errors come back as ``(status,
message)``; the route serialises the message as a JSON string, pinejs style.
"""

from __future__ import annotations

from typing import Any, Optional

from . import schema
from .db import BalenaDb, Hooks
from .errors import BalenaError
from .odata import ODataError, Options, Reader, compile_query, count, key_rows, render, select
from .odata.parser import parse_query, parse_target
from .versions import VERSIONS, Version

Answer = tuple[int, Any]


class Pine:
    def __init__(self, db: BalenaDb, hooks: Optional[Hooks] = None) -> None:
        self.db = db
        self.hooks = hooks or db.hooks

    def handle(self, version: str, method: str, path: str, query: str, body: Any,
               actor: Any) -> Answer:
        """One pine request; ``query`` is the raw (percent-encoded) query string."""
        names = VERSIONS.get(version)
        if names is None:
            return 404, f"API version {version} is not served"
        try:
            with self.db.transaction():
                return self._handle(names, method.upper(), path, query, body, actor)
        except ODataError as exc:
            return exc.status, exc.message
        except BalenaError as exc:
            return exc.status, exc.message

    def _handle(self, names: Version, method: str, path: str, query: str, body: Any,
                actor: Any) -> Answer:
        target = parse_target(path)
        reader = Reader(self.db, actor, names)
        res = reader.resource(target.resource)
        opts = parse_query(names.query_in(query))
        if method in ("GET", "HEAD"):  # Flask answers HEAD with the GET view, minus the body
            return self._get(reader, res, target, opts)
        if target.count:
            raise ODataError(f"$count cannot be used with {method}")
        if method == "POST":
            return self._post(reader, res, target, opts, body, actor)
        if method == "PATCH":
            return self._patch(reader, res, target, opts, body, actor)
        if method == "DELETE":
            return self._delete(reader, res, target, opts, actor)
        return 405, f"Method {method} is not allowed"

    def _get(self, reader: Reader, res: schema.Resource, target: Any, opts: Options) -> Answer:
        q = compile_query(reader, res, opts)
        candidates = key_rows(reader, res, target.key) if target.key is not None else None
        if target.count:
            return 200, {"d": count(reader, q, candidates)}
        return 200, {"d": render(reader, q, select(reader, q, candidates))}

    def _body(self, reader: Reader, res: schema.Resource, body: Any) -> dict:
        if not isinstance(body, dict):
            raise ODataError("The request body must be a JSON object")
        values = reader.names.body_in(res.name, body)
        for key in values:
            column = res.fields.get(res.field_synonyms.get(key, key))
            if (column is not None and column.hidden) or key in res.navs:
                raise ODataError(f"'{key}' is not a writable field of '{res.name}'")
        return values

    def _targets(self, reader: Reader, res: schema.Resource, target: Any,
                 opts: Options) -> list[dict]:
        """The visible rows a PATCH or DELETE acts on (by key and/or ``$filter``)."""
        q = compile_query(reader, res, Options(filter=opts.filter))
        candidates = key_rows(reader, res, target.key) if target.key is not None else None
        return select(reader, q, candidates)

    def _refuse(self, actor: Any, what: str) -> BalenaError:
        return BalenaError(401, "Unauthorized" if actor is None else f"Unauthorized: {what}")

    def _post(self, reader: Reader, res: schema.Resource, target: Any, opts: Options, body: Any,
              actor: Any) -> Answer:
        if target.key is not None:
            raise ODataError("POST creates a row in a collection: give no key")
        values = self._body(reader, res, body)
        if not self.hooks.may_create(res.name, values, actor):
            raise self._refuse(actor, f"cannot create {res.name}")
        row = self.db.insert(res.name, values, actor)
        q = compile_query(reader, res, Options(select=opts.select))
        return 201, render(reader, q, [row])[0]

    def _patch(self, reader: Reader, res: schema.Resource, target: Any, opts: Options, body: Any,
               actor: Any) -> Answer:
        values = self._body(reader, res, body)
        rows = self._targets(reader, res, target, opts)
        for row in rows:
            if not self.hooks.may_update(res.name, row, actor):
                raise self._refuse(actor, f"cannot update {res.name} {row['id']}")
        for row in rows:
            self.db.update(res.name, row["id"], values, actor)
        return 200, None

    def _delete(self, reader: Reader, res: schema.Resource, target: Any, opts: Options,
                actor: Any) -> Answer:
        rows = self._targets(reader, res, target, opts)
        for row in rows:
            if not self.hooks.may_delete(res.name, row, actor):
                raise self._refuse(actor, f"cannot delete {res.name} {row['id']}")
        table = self.db.tables[res.name]
        for row in rows:
            if row["id"] in table:  # an earlier cascade in this request may have removed it
                self.db.delete(res.name, row["id"], actor)
        return 200, None
