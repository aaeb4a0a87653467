"""API versions served from the one v7 model.

A version is a table of renames (resources and fields, per resource) plus the v7 names it does not
have, applied to every name of the URL (the engine asks ``resource_in``/``field_in`` while it
resolves ``$filter``/``$select``/``$expand``/``$orderby``), to request bodies (``body_in``) and to
served rows (``field_out``, ``link``, ``decorate``). Adding v5 (part 2) is one more ``Version``: its
renames, and a subclass whose ``link``/``decorate`` write ``__deferred``/``__metadata``.
"""

from __future__ import annotations

from typing import Any, Optional

from .odata.errors import ODataError
from .odata.reader import Names

_MISSING = "\x00"  # prefix that makes a v7-only name unknown in an older version


class Version(Names):
    """One API version. ``fields``: {v7 resource: {name in this version: v7 name}};
    ``absent``: {v7 resource: v7 names this version does not have}; ``resources``: {name in this
    version: v7 name}."""

    def __init__(self, name: str, resources: Optional[dict[str, str]] = None,
                 fields: Optional[dict[str, dict[str, str]]] = None,
                 absent: Optional[dict[str, set[str]]] = None,
                 prefix: Optional[str] = None) -> None:
        self.name = name
        self.prefix = prefix or name  # the URL prefix it is mounted at (v5 also has /resin)
        self.resources = resources or {}
        self.resources_out = {v: k for k, v in self.resources.items()}
        self.fields = fields or {}
        self.fields_out = {res: {v: k for k, v in m.items()} for res, m in self.fields.items()}
        self.absent = absent or {}

    def resource_in(self, name: str) -> str:
        if name in self.resources_out and name not in self.resources:
            return _MISSING + name  # a v7 name that this version calls something else
        return self.resources.get(name, name)

    def field_in(self, resource: str, name: str) -> str:
        mapped = self.fields.get(resource, {}).get(name)
        if mapped is not None:
            return mapped
        if name in self.absent.get(resource, ()) or name in self.fields_out.get(resource, {}):
            return _MISSING + name
        return name

    def field_out(self, resource: str, name: str) -> Optional[str]:
        if name in self.absent.get(resource, ()):
            return None
        return self.fields_out.get(resource, {}).get(name, name)

    def query_in(self, query: str) -> str:
        """The raw query string as the engine reads it (older versions rewrite their syntax)."""
        return query

    def body_in(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """A request body with v7 field names (names unknown to the model pass through for the db
        to refuse; v7 names this version does not have are refused here)."""
        out = {}
        for key, value in body.items():
            real = self.field_in(resource, key)
            if real.startswith(_MISSING):
                raise ODataError(f"'{key}' is not a field of '{resource}' in API {self.name}")
            out[real] = value
        return out


V7 = Version("v7")

# balena-sdk 14.5 (reference §11): the device pin and the supervisor pin have other names, and the
# v7 computed target release does not exist. v6's supervisor pin pointed at a `supervisor_release`
# resource; here it points at the supervisor's release row (documented in docs/balena.md).
V6 = Version(
    "v6",
    fields={
        "device": {
            "should_be_running__release": "is_pinned_on__release",
            "should_be_managed_by__supervisor_release": "should_be_managed_by__release",
        },
        "release": {"should_be_running_on__device": "is_pinned_to__device"},
        "device_history": {"should_be_running__release": "is_pinned_on__release"},
    },
    absent={"device": {"should_be_running__release"}},
)

VERSIONS: dict[str, Version] = {"v6": V6, "v7": V7}


class V5Version(Version):
    """API v5 (balena-sdk 9.x, the seed document's older SDK): v6's names plus v5's resource
    names, and pinejs's verbose row format of the time: every row carries
    ``__metadata: {"uri": "/resin/<resource>(<id>)", "type": ""}`` and every unexpanded link is
    ``{"__deferred": {"uri": "/resin/<target>(<id>)"}, "__id": id}``; the link to a row's actor is
    the bare actor id (as the seed document's rows show)."""

    URI_ROOT = "/resin"

    def link(self, resource: str, id: Any) -> Any:
        if resource == "actor":
            return id
        name = self.resources_out.get(resource, resource)
        return {"__deferred": {"uri": f"{self.URI_ROOT}/{name}({id})"}, "__id": id}

    def decorate(self, resource: str, out: dict, row: dict) -> None:
        name = self.resources_out.get(resource, resource)
        out["__metadata"] = {"uri": f"{self.URI_ROOT}/{name}({row.get('id')})", "type": ""}
        if resource == "device" and "image_install" in out:
            out.setdefault("gateway_download", [])  # dependent devices' downloads: none here

    def query_in(self, query: str) -> str:
        """9.x writes options inside ``$expand(...)`` separated by ``&`` (pinejs then read both);
        they become ``;``. Its ``gateway_download`` expansion (dependent devices, gone from the
        model) is dropped and served as an empty list by :meth:`decorate`."""
        out, depth = [], 0
        for ch in query:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(0, depth - 1)
            out.append(";" if ch == "&" and depth else ch)
        return _drop_expand("".join(out), "gateway_download")

    def bind(self, reader: Any) -> Version:
        return _BoundV5(self, reader)

    #: Fields 9.x sends that v5 accepted and ignored (a device variable's fleet).
    IGNORED = {"device_config_variable": {"application"},
               "device_environment_variable": {"application"}}

    def body_in(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        ignored = self.IGNORED.get(resource, ())
        return super().body_in(resource, {k: v for k, v in body.items() if k not in ignored})


class _BoundV5(V5Version):
    """V5 for one request: the v5 fields that are values of related rows (a device type's slug,
    a release's commit) are read and written through the request's data."""

    def __init__(self, v5: V5Version, reader: Any) -> None:
        self.__dict__.update(v5.__dict__)
        self.reader = reader

    def bind(self, reader: Any) -> Version:
        return self

    def _slug(self, device_type_id: Any) -> Optional[str]:
        row = self.reader.db.get("device_type", device_type_id)
        return row["slug"] if row else None

    def _commit(self, release_id: Any) -> Optional[str]:
        row = self.reader.db.get("release", release_id)
        return row["commit"] if row else None

    def decorate(self, resource: str, out: dict, row: dict) -> None:
        super().decorate(resource, out, row)
        if resource == "application" and "is_for__device_type" in out:
            out["device_type"] = self._slug(row.get("is_for__device_type"))
            out["commit"] = self._commit(row.get("should_be_running__release"))
        elif resource == "device" and "is_of__device_type" in out:
            out["device_type"] = self._slug(row.get("is_of__device_type"))
            out["is_on__commit"] = self._commit(row.get("is_running__release"))

    def body_in(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        body = dict(body)
        db = self.reader.db
        if resource in ("application", "device") and isinstance(body.get("device_type"), str):
            found = db.find("device_type_alias", is_referenced_by__alias=body.pop("device_type"))
            field = "is_for__device_type" if resource == "application" else "is_of__device_type"
            body[field] = found[0]["device_type"] if found else -1  # -1: refused by the FK
        if resource == "application" and "commit" in body:
            commit = body.pop("commit")
            found = db.find("release", commit=commit) if isinstance(commit, str) else []
            body["should_be_running__release"] = found[0]["id"] if found else None
        actor = self.reader.actor
        if resource == "application" and "organization" not in body and actor is not None \
                and getattr(actor, "kind", None) == "user":
            found = db.find("organization", handle=actor.username)  # v5 fleets were a user's
            if found:
                body["organization"] = found[0]["id"]
        return super().body_in(resource, body)


def _drop_expand(query: str, nav: str) -> str:
    """``query`` without the ``$expand`` item ``nav(...)`` (wherever it is nested)."""
    while True:
        at = query.find(nav + "(")
        if at < 0:
            return query
        depth, end = 0, at + len(nav)
        for end in range(at + len(nav), len(query)):
            depth += {"(": 1, ")": -1}.get(query[end], 0)
            if depth == 0:
                break
        start, stop = at, end + 1
        if start > 0 and query[start - 1] == ",":
            start -= 1
        elif stop < len(query) and query[stop] == ",":
            stop += 1
        query = query[:start] + query[stop:]


V5 = V5Version(
    "v5",
    resources={  # the last name of a resource is the one its rows and links are served under
        "my_application": "application", "application": "application",
        "application_environment_variable": "application_environment_variable",
        "environment_variable": "application_environment_variable",
    },
    fields=V6.fields,
    absent=V6.absent,
)
VERSIONS["v5"] = V5
