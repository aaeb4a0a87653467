"""Who may see and change which rows, as balenaCloud enforces it.

- A **user** sees what the organizations it belongs to own, plus the fleets it is a member of
  (``is_directly_accessible_by__user``), plus public fleets (host OS and supervisor fleets) and
  their releases. Org members may change everything under the org's fleets; changing the
  organization itself, its memberships and invites needs the ``administrator`` role. A fleet
  member with the ``observer`` role only reads.
- An **application** actor (a provisioning key) sees its own fleet and may only register devices
  into it (``/device/register``); it changes nothing through OData.
- A **device** actor (a device key) sees its own device, its fleet, that fleet's releases and
  variables, and may change only its own device row.
- Anonymous callers see the public reference data (device types, architectures, roles) and the
  public fleets, and change nothing.

Reference data (device types, roles, architectures) is read-only for everyone.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from .auth import APPLICATION, DEVICE, USER, Actor
from .db import RowsWhere

#: Readable by anyone, writable by no one.
REFERENCE = frozenset({
    "cpu_architecture", "device_family", "device_type", "device_type_alias", "application_type",
    "organization_membership_role", "application_membership_role",
})

#: resource -> (link to follow, resource it points at) until "application" or "organization".
PARENT: dict[str, tuple[str, str]] = {
    "device": ("belongs_to__application", "application"),
    "release": ("belongs_to__application", "application"),
    "service": ("application", "application"),
    "application_tag": ("application", "application"),
    "application_environment_variable": ("application", "application"),
    "application_config_variable": ("application", "application"),
    "build_environment_variable": ("application", "application"),
    "user_application_membership": ("is_member_of__application", "application"),
    "invitee__is_invited_to__application": ("is_invited_to__application", "application"),
    "device_history": ("belongs_to__application", "application"),
    "image": ("is_a_build_of__service", "service"),
    "release_image": ("is_part_of__release", "release"),
    "release_tag": ("release", "release"),
    "service_environment_variable": ("service", "service"),
    "device_tag": ("device", "device"),
    "device_environment_variable": ("device", "device"),
    "device_config_variable": ("device", "device"),
    "image_install": ("device", "device"),
    "service_install": ("device", "device"),
    "device_service_environment_variable": ("service_install", "service_install"),
    "organization_membership": ("is_member_of__organization", "organization"),
    "organization_membership_tag": ("organization_membership", "organization_membership"),
    "invitee__is_invited_to__organization": ("is_invited_to__organization", "organization"),
    "team": ("belongs_to__organization", "organization"),
    "team_membership": ("is_member_of__team", "team"),
    "team_application_access": ("grants_access_to__application", "application"),
}

#: Under an organization, changes that need the administrator role.
ADMIN_ONLY = frozenset({
    "organization", "organization_membership", "organization_membership_tag",
    "invitee__is_invited_to__organization", "team", "team_membership",
})


class Access:
    """What one user may reach, computed once per request (sets of ids, O(1) checks)."""

    def __init__(self, db: Any, user_id: int) -> None:
        self.user_id = user_id
        self.orgs: dict[int, str] = {}
        roles = db.tables["organization_membership_role"]
        for m in db.children("organization_membership", "user", user_id):
            role = roles.get(m["organization_membership_role"])
            self.orgs[m["is_member_of__organization"]] = role["name"] if role else "member"
        self.apps: dict[int, str] = {}
        for org_id in self.orgs:
            for app_id in db.child_ids("application", "organization", org_id):
                self.apps[app_id] = "developer"
        app_roles = db.tables["application_membership_role"]
        for m in db.children("user_application_membership", "user", user_id):
            app_id = m["is_member_of__application"]
            if app_id not in self.apps:
                role = app_roles.get(m["application_membership_role"])
                self.apps[app_id] = role["name"] if role else "observer"


class Permissions:
    """The permission half of the db hooks (:class:`.rules.Rules` delegates here)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    @property
    def db(self) -> Any:
        return self.backend.db

    # -- walking up to the owner ------------------------------------------------------------------

    def owner(self, resource: str, row: dict) -> tuple[Optional[str], Optional[int]]:
        """(``"application"`` or ``"organization"``, id) that owns ``row``, following links."""
        seen = 0
        while resource not in ("application", "organization") and seen < 6:
            step = PARENT.get(resource)
            if step is None:
                return None, None
            link, target = step
            parent_id = row.get(link) if row is not None else None
            if parent_id is None:
                return None, None
            row = self.db.get(target, parent_id)
            resource = target
            seen += 1
            if row is None:
                return None, None
        return resource, row["id"] if row is not None else None

    def _public_app(self, app_id: Optional[int]) -> bool:
        app = self.db.get("application", app_id)
        return bool(app and app.get("is_public"))

    # -- reads ------------------------------------------------------------------------------------

    def read_filter(self, resource: str, actor: Optional[Actor]) -> Optional[Callable[[dict], bool]]:
        if resource in REFERENCE or resource == "actor":
            return None
        if actor is None:
            return self._public_filter(resource)
        if actor.kind == USER:
            return self._user_filter(resource, Access(self.db, actor.id))
        if actor.kind == APPLICATION:
            return self._app_actor_filter(resource, actor)
        return self._device_filter(resource, actor)

    def _public_filter(self, resource: str) -> Callable[[dict], bool]:
        if resource == "application":
            return lambda row: bool(row.get("is_public"))
        if resource in ("release", "release_tag", "application_tag", "service", "image",
                        "release_image"):
            def visible(row: dict) -> bool:
                kind, owner_id = self.owner(resource, row)
                return kind == "application" and self._public_app(owner_id)
            return visible
        return lambda row: False

    def _user_filter(self, resource: str, access: Access) -> Callable[[dict], bool]:
        if resource == "user":
            mates = {access.user_id}
            for org_id in access.orgs:
                for m in self.db.children("organization_membership", "is_member_of__organization",
                                          org_id):
                    mates.add(m["user"])
            return lambda row: row["id"] in mates
        if resource == "organization":
            return lambda row: row["id"] in access.orgs
        if resource == "application":
            return lambda row: row["id"] in access.apps or bool(row.get("is_public"))
        if resource in ("user__has__public_key",):
            return RowsWhere("user", (access.user_id,))
        if resource == "api_key":
            return lambda row: self._key_visible(row, access)
        if resource == "invitee":
            return None  # type: ignore[return-value]
        if resource in ("device", "release") and PARENT[resource][1] == "application":
            # by fleet, so that the planner decides once per fleet, not once per row
            return RowsWhere(PARENT[resource][0], access.apps,
                             self._public_app if resource == "release" else None)

        def visible(row: dict) -> bool:
            kind, owner_id = self.owner(resource, row)
            if kind == "organization":
                return owner_id in access.orgs
            if kind == "application":
                return owner_id in access.apps or self._public_app(owner_id)
            return False
        return visible

    def _key_visible(self, row: dict, access: Access) -> bool:
        owner = self.backend.actor_owner(row.get("is_of__actor"))
        if owner is None:
            return False
        kind, owner_id = owner
        if kind == USER:
            return owner_id == access.user_id
        if kind == APPLICATION:
            return owner_id in access.apps
        device = self.db.get("device", owner_id)
        return bool(device and device.get("belongs_to__application") in access.apps)

    def _app_actor_filter(self, resource: str, actor: Actor) -> Callable[[dict], bool]:
        if resource == "application":
            return lambda row: row["id"] == actor.id
        return lambda row: False

    def _device_filter(self, resource: str, actor: Actor) -> Callable[[dict], bool]:
        if resource == "device":
            return RowsWhere("id", (actor.id,))
        if resource == "application":
            return lambda row: row["id"] == actor.application or bool(row.get("is_public"))
        if resource in PARENT and PARENT[resource][1] == "device":
            return RowsWhere(PARENT[resource][0], (actor.id,))

        def visible(row: dict) -> bool:
            if resource in PARENT and PARENT[resource][1] == "device":
                return row.get(PARENT[resource][0]) == actor.id
            kind, owner_id = self.owner(resource, row)
            if resource in ("device_tag", "device_environment_variable", "device_config_variable",
                            "image_install", "service_install",
                            "device_service_environment_variable", "device_history"):
                return False
            return kind == "application" and (owner_id == actor.application
                                              or self._public_app(owner_id))
        return visible

    # -- writes -----------------------------------------------------------------------------------

    def can_write(self, actor: Optional[Actor], resource: str, row: dict) -> bool:
        """May ``actor`` create/change/delete ``row`` (a stored row or the values of a new one)?"""
        if actor is None or resource in REFERENCE or resource in ("actor", "device_history"):
            return False
        if actor.kind == APPLICATION:
            return False
        if actor.kind == DEVICE:
            return resource == "device" and row.get("id") == actor.id
        if resource == "user":
            return row.get("id") == actor.id
        if resource == "user__has__public_key":
            return row.get("user") == actor.id
        if resource == "api_key":
            return self._key_visible(row, Access(self.db, actor.id))
        if resource in ("invitee", "service_instance"):
            return True
        access = Access(self.db, actor.id)
        if resource == "organization":
            return access.orgs.get(row.get("id")) == "administrator"
        kind, owner_id = self.owner(resource, row)
        if kind == "organization":
            role = access.orgs.get(owner_id)
            if resource in ADMIN_ONLY:
                return role == "administrator"
            return role is not None
        if kind == "application":
            if resource == "user_application_membership" or \
                    resource == "invitee__is_invited_to__application":
                app = self.db.get("application", owner_id)
                org_admin = bool(app) and access.orgs.get(app["organization"]) == "administrator"
                return org_admin or access.apps.get(owner_id) == "developer"
            role = access.apps.get(owner_id)
            return role is not None and role != "observer"
        return False

    def may_create(self, resource: str, values: dict, actor: Optional[Actor]) -> bool:
        if resource == "organization":
            return actor is not None and actor.kind == USER
        if resource == "application":
            if actor is None or actor.kind != USER:
                return False
            access = Access(self.db, actor.id)
            return values.get("organization") in access.orgs
        if resource == "api_key":
            return False  # keys are made through /api-key/...
        return self.can_write(actor, resource, values)

    def may_update(self, resource: str, row: dict, actor: Optional[Actor]) -> bool:
        return self.can_write(actor, resource, row)

    def may_delete(self, resource: str, row: dict, actor: Optional[Actor]) -> bool:
        return self.can_write(actor, resource, row)
