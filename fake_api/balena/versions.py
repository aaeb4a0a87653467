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
