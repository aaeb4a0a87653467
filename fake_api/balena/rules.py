"""The rules every balena write obeys, as :class:`.db.Hooks`: defaults and computed-at-write
fields, validation with pinejs/open-balena's messages, device history, release revisions.

Computed read-time fields (``overall_status``, ``overall_progress``) and navigations
(``is_directly_accessible_by__user``) are registered on the schema at the bottom.
Permissions (``read_filter``/``may_*``) are delegated to :mod:`.permissions`.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from ..core.clock import parse_when
from . import schema
from .auth import USER
from .db import Hooks, format_date
from .errors import bad_request

APP_NAME_RULE = ("It is necessary that each application has an app name that has a Length (Type) "
                 "that is greater than or equal to 4 and is less than or equal to 100")
TAG_PARENTS = {"device_tag": "device", "application_tag": "application", "release_tag": "release",
               "organization_membership_tag": "organization membership"}
RESERVED_TAG_PREFIXES = ("io.balena.", "io.resin.")
VARIABLES = frozenset({
    "application_environment_variable", "application_config_variable",
    "build_environment_variable", "service_environment_variable", "device_environment_variable",
    "device_config_variable", "device_service_environment_variable",
})
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")
#: Device fields whose change opens a new device_history row.
HISTORY_FIELDS = ("belongs_to__application", "is_running__release", "is_pinned_on__release",
                  "should_be_managed_by__release", "is_of__device_type", "is_active",
                  "os_version", "os_variant", "supervisor_version")

_ADJECTIVES = ("autumn", "hidden", "bitter", "misty", "silent", "empty", "dry", "dark", "summer",
               "icy", "delicate", "quiet", "white", "cool", "spring", "winter", "patient",
               "twilight", "dawn", "crimson", "wispy", "weathered", "blue", "billowing")
_NOUNS = ("waterfall", "river", "breeze", "moon", "rain", "wind", "sea", "morning", "snow",
          "lake", "sunset", "pine", "shadow", "leaf", "dawn", "glitter", "forest", "hill",
          "cloud", "meadow", "sun", "glade", "bird", "brook")


class Rules(Hooks):
    """B2's implementation of B1's hook protocol."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    @property
    def db(self) -> Any:
        return self.backend.db

    # -- permissions ------------------------------------------------------------------------------

    def read_filter(self, resource: str, actor: Any):
        return self.backend.permissions.read_filter(resource, actor)

    def may_create(self, resource: str, values: dict, actor: Any) -> bool:
        return self.backend.permissions.may_create(resource, values, actor)

    def may_update(self, resource: str, row: dict, actor: Any) -> bool:
        return self.backend.permissions.may_update(resource, row, actor)

    def may_delete(self, resource: str, row: dict, actor: Any) -> bool:
        return self.backend.permissions.may_delete(resource, row, actor)

    # -- inserts ----------------------------------------------------------------------------------

    def before_insert(self, resource: str, values: dict, actor: Any) -> dict:
        ids = self.backend.ids
        if resource in ("user", "application", "device") and values.get("actor") is None:
            values["actor"] = self.backend.new_actor(resource)
        if resource == "application":
            self._check_app_name(values.get("app_name"))
            org = self.db.get("organization", values.get("organization"))
            if org is not None and isinstance(values.get("app_name"), str):
                values["slug"] = f"{org['handle']}/{values['app_name']}".lower()
            values.setdefault("uuid", ids.hex("balena.application.uuid", 32))
            if values.get("is_of__class") is None:
                values.pop("is_of__class", None)
        elif resource == "device":
            if values.get("uuid") is None:
                values["uuid"] = ids.hex("balena.device.uuid", 32)
            if not values.get("device_name"):
                values["device_name"] = self._device_name()
            self._check_pin(values, values.get("belongs_to__application"))
            self._heartbeat(values, values, insert=True)
        elif resource == "release":
            self._release_values(values, None, actor)
        elif resource == "organization":
            name = values.get("name")
            if not isinstance(name, str) or not name.strip():
                raise bad_request("It is necessary that each organization has a name")
            if not values.get("handle"):
                values["handle"] = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or \
                    ids.alnum("balena.org.handle", 8)
            logo = values.get("logo_image")
            if isinstance(logo, dict) and logo.get("filename") and not logo.get("href"):
                values["logo_image"] = {
                    **logo, "href": f"https://balena-cloud.com/organization/{values['handle']}/"
                                    f"logo_image/{ids.hex('balena.logo', 16)}/{logo['filename']}"}
        elif resource in TAG_PARENTS:
            self._check_tag_key(resource, values.get("tag_key"), "tag_key" in values)
        elif resource in VARIABLES:
            self._check_var_name(values.get("name"))
        elif resource == "user_application_membership" and "username" in values:
            username = values.pop("username")
            users = self.db.find("user", username=username)
            if not users:
                raise bad_request(f"Couldn't find user with username '{username}'")
            values["user"] = users[0]["id"]
        elif resource in ("invitee__is_invited_to__application",
                          "invitee__is_invited_to__organization"):
            email = values.get("invitee")
            if isinstance(email, str):
                if "@" not in email:
                    raise bad_request("Invalid email")
                found = self.db.find("invitee", email=email)
                values["invitee"] = found[0]["id"] if found else \
                    self.db.insert("invitee", {"email": email})["id"]
            if actor is not None and actor.kind == USER:
                values.setdefault("is_created_by__user", actor.id)
            values["invitation_token"] = ids.hex("balena.invitation", 32)
        elif resource == "user__has__public_key" and actor is not None and actor.kind == USER:
            values.setdefault("user", actor.id)
        elif resource == "image":
            if values.get("status") is None:
                values["status"] = "success"
            if values.get("is_stored_at__image_location") is None:
                values["is_stored_at__image_location"] = \
                    f"registry2.balena-cloud.com/v2/{ids.hex('balena.image.loc', 32)}"
        elif resource == "image_install":
            values.setdefault("status", "Running")
            if "image" in values and "installs__image" not in values:
                values["installs__image"] = values.pop("image")
        return values

    def after_insert(self, resource: str, row: dict, actor: Any) -> None:
        if resource == "device":
            self._open_history(row, actor)
        elif resource == "organization" and actor is not None and actor.kind == USER:
            self.backend.add_org_member(row["id"], actor.id, "administrator")
        elif resource == "release":
            self._follow_latest(row)

    # -- updates ----------------------------------------------------------------------------------

    def before_update(self, resource: str, row: dict, changes: dict, actor: Any) -> dict:
        for fixed in ("actor", "slug", "uuid") if resource == "application" else ():
            changes.pop(fixed, None)
        if resource == "application":
            if "app_name" in changes:
                self._check_app_name(changes["app_name"])
                org = self.db.get("organization", changes.get("organization", row["organization"]))
                if org is not None and isinstance(changes["app_name"], str):
                    changes["slug"] = f"{org['handle']}/{changes['app_name']}".lower()
            target = changes.get("should_be_running__release")
            if target is not None:
                release = self.db.get("release", target)
                if release is not None and release["belongs_to__application"] != row["id"]:
                    raise bad_request(
                        "It is necessary that each application that should be running a release, "
                        "owns the release")
        elif resource == "device":
            if "belongs_to__application" in changes and \
                    changes["belongs_to__application"] != row["belongs_to__application"]:
                changes.setdefault("is_pinned_on__release", None)
            self._check_pin({**row, **changes}, changes.get("belongs_to__application",
                                                            row["belongs_to__application"]))
            if "uuid" in changes and changes["uuid"] != row["uuid"]:
                raise bad_request('"uuid" cannot be changed')
            self._heartbeat(changes, row)
        elif resource == "release":
            self._release_values(changes, row, actor)
        elif resource in TAG_PARENTS and "tag_key" in changes:
            self._check_tag_key(resource, changes["tag_key"], True)
        elif resource in VARIABLES and "name" in changes:
            self._check_var_name(changes["name"])
        return changes

    def after_update(self, resource: str, row: dict, old: dict, actor: Any) -> None:
        if resource == "device" and any(row.get(f) != old.get(f) for f in HISTORY_FIELDS):
            self._close_history(row, actor)
            self._open_history(row, actor)
        elif resource == "release":
            self._follow_latest(row)
        elif resource == "application" and row.get("should_track_latest_release") and \
                not old.get("should_track_latest_release"):
            latest = self._latest_release(row["id"])
            if latest is not None and latest != row.get("should_be_running__release"):
                self.db.update("application", row["id"], {"should_be_running__release": latest})

    # -- deletes ----------------------------------------------------------------------------------

    def after_delete(self, resource: str, row: dict, actor: Any) -> None:
        if resource in ("user", "application", "device"):
            actor_id = row.get("actor")
            if actor_id is not None and self.db.get("actor", actor_id) is not None:
                self.db.delete("actor", actor_id)

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _check_app_name(name: Any) -> None:
        if not isinstance(name, str):
            if name is None:
                raise bad_request('"app_name" cannot be null')
            raise bad_request('"app_name" must be a string')
        if not 4 <= len(name) <= 100:
            raise bad_request(APP_NAME_RULE)

    @staticmethod
    def _check_tag_key(resource: str, key: Any, given: bool) -> None:
        parent = TAG_PARENTS[resource]
        if key is None:
            raise bad_request(f'"tag_key" cannot be null (each {parent} tag has a tag key)')
        if not isinstance(key, str):
            raise bad_request('"tag_key" must be a string')
        if len(key) == 0:
            raise bad_request(f"It is necessary that each {parent} tag has a tag key that has a "
                              "Length (Type) that is greater than 0")
        for prefix in RESERVED_TAG_PREFIXES:
            if key.startswith(prefix):
                raise bad_request(f"Tag keys beginning with {prefix} are reserved.")
        if any(ch.isspace() for ch in key):
            raise bad_request("Tag keys cannot contain whitespace.")

    @staticmethod
    def _check_var_name(name: Any) -> None:
        if isinstance(name, str) and not VAR_NAME.match(name):
            raise bad_request("Variable names can only contain alphanumeric characters and "
                              "underscores, and cannot start with a number")

    def _check_pin(self, values: dict, app_id: Any) -> None:
        pin = values.get("is_pinned_on__release")
        if pin is None:
            return
        release = self.db.get("release", pin)
        if release is not None and release["belongs_to__application"] != app_id:
            raise bad_request("It is necessary that each device that is pinned on a release, "
                              "belongs to an application that owns the release")

    def _heartbeat(self, changes: dict, row: dict, insert: bool = False) -> None:
        """A device that comes online has just been heard from (unless the write says when) and
        is on the VPN, so the heartbeat timeout (``BalenaBackend.expire_heartbeats``) starts now;
        one that goes offline leaves the VPN."""
        if changes.get("is_online") and (insert or not row.get("is_online")):
            if changes.get("last_connectivity_event") is None:
                changes["last_connectivity_event"] = format_date(self.backend.clock.now())
            for key, value in (("api_heartbeat_state", "online"), ("is_connected_to_vpn", True)):
                if changes.get(key) is None:
                    changes[key] = value
        elif changes.get("is_online") is False and row.get("is_online"):
            changes.setdefault("api_heartbeat_state", "offline")
            changes.setdefault("is_connected_to_vpn", False)

    def _device_name(self) -> str:
        ids = self.backend.ids
        n = int(ids.hex("balena.device.name", 8), 16)
        return f"{_ADJECTIVES[n % len(_ADJECTIVES)]}-{_NOUNS[(n // 97) % len(_NOUNS)]}"

    def _release_values(self, values: dict, row: Optional[dict], actor: Any) -> None:
        """Semver split, ``is_final`` turned into a revision, ``raw_version`` recomputed."""
        if row is None:
            values.setdefault("created_at", format_date(self.backend.clock.now()))
            if values.get("commit") is None:
                values["commit"] = self.backend.ids.hex("balena.release.commit", 32)
            if actor is not None and actor.kind == USER:
                values.setdefault("is_created_by__user", actor.id)
        if "semver" in values:
            semver = values["semver"] if values["semver"] is not None else "0.0.0"
            match = SEMVER.match(semver) if isinstance(semver, str) else None
            if match is None:
                raise bad_request(f"Invalid semver: {semver!r}")
            values["semver"] = semver
            values["semver_major"], values["semver_minor"], values["semver_patch"] = (
                int(match.group(1)), int(match.group(2)), int(match.group(3)))
            values["semver_prerelease"] = match.group(4) or ""
            values["semver_build"] = match.group(5) or ""
        merged = {**(row or {}), **values}
        was_final = row is not None and row.get("revision") is not None
        final = values.pop("is_final", None)
        if row is None and final is None:
            final = True  # open-balena: is_final defaults to true on create
        if was_final:
            if "semver" in values and row is not None and merged["semver"] != row.get("semver"):
                values["revision"] = self._next_revision(merged, row)
        elif final:
            if values.get("revision") is None or actor is not None:
                values["revision"] = self._next_revision(merged, row)
            values["is_finalized_at__date"] = format_date(self.backend.clock.now())
        elif row is None:
            values["revision"] = None
        merged = {**(row or {}), **values}
        values["is_final"] = merged.get("revision") is not None
        values["raw_version"] = raw_version(merged)

    def _next_revision(self, release: dict, row: Optional[dict]) -> int:
        """Revisions count finalised releases per (application, semver, variant)."""
        app_id = release.get("belongs_to__application")
        taken = [r["revision"] for r in self.db.children("release", "belongs_to__application", app_id)
                 if r.get("revision") is not None and (row is None or r["id"] != row["id"])
                 and r.get("semver", "0.0.0") == release.get("semver", "0.0.0")
                 and (r.get("variant") or "") == (release.get("variant") or "")]
        return max(taken) + 1 if taken else 0

    def _latest_release(self, app_id: int) -> Optional[int]:
        rows = [r for r in self.db.children("release", "belongs_to__application", app_id)
                if r.get("is_final") and r.get("status") == "success"
                and not r.get("is_invalidated") and r.get("is_passing_tests", True)]
        if not rows:
            return None
        return max(rows, key=lambda r: (r["created_at"], r["id"]))["id"]

    def _follow_latest(self, release: dict) -> None:
        """A fleet that tracks the latest release moves its target to a new final release."""
        app = self.db.get("application", release.get("belongs_to__application"))
        if app is None or not app.get("should_track_latest_release"):
            return
        latest = self._latest_release(app["id"])
        if latest is not None and latest != app.get("should_be_running__release"):
            self.db.update("application", app["id"], {"should_be_running__release": latest})

    def _open_history(self, device: dict, actor: Any) -> None:
        self.db.insert("device_history", {
            "tracks__device": device["id"], "uuid": device["uuid"],
            "belongs_to__application": device.get("belongs_to__application"),
            "is_running__release": device.get("is_running__release"),
            "is_pinned_on__release": device.get("is_pinned_on__release"),
            "should_be_managed_by__release": device.get("should_be_managed_by__release"),
            "is_of__device_type": device.get("is_of__device_type"),
            "is_active": device.get("is_active"), "os_version": device.get("os_version"),
            "os_variant": device.get("os_variant"),
            "supervisor_version": device.get("supervisor_version"), "cpu_id": device.get("cpu_id"),
            "is_created_by__actor": actor.actor_id if actor is not None else None,
            "tracks__actor": device.get("actor"),
        })

    def _close_history(self, device: dict, actor: Any) -> None:
        for row in self.db.children("device_history", "tracks__device", device["id"]):
            if row.get("end_timestamp") is None:
                self.db.update("device_history", row["id"], {
                    "end_timestamp": format_date(self.backend.clock.now()),
                    "is_ended_by__actor": actor.actor_id if actor is not None else None})


def raw_version(release: dict) -> str:
    """open-balena's ``raw_version``: ``M.m.p[-pre[.created_ms]][+build.revN.variant]``; a draft
    gets its creation time (ms) so that drafts never collide."""
    core = f"{release.get('semver_major') or 0}.{release.get('semver_minor') or 0}." \
           f"{release.get('semver_patch') or 0}"
    pre = release.get("semver_prerelease") or ""
    revision = release.get("revision")
    if revision is None:
        created = release.get("created_at") or ""
        try:
            stamp = str(int(parse_when(created).timestamp() * 1000)) if created else "0"
        except (TypeError, ValueError):
            stamp = "0"
        pre = f"{pre}.{stamp}" if pre else stamp
    build = [p for p in (release.get("semver_build") or "",
                         f"rev{revision}" if revision else "",
                         release.get("variant") or "") if p]
    return core + (f"-{pre}" if pre else "") + (f"+{'.'.join(build)}" if build else "")


# -- computed fields and navigations --------------------------------------------------------------

@schema.compute("device", "overall_status")
def _overall_status(row: dict, ctx: Any) -> str:
    """balena's status ladder, simplified: see docs/balena.md (guess)."""
    if not row.get("is_active", True):
        return "inactive"
    if row.get("is_frozen"):
        return "frozen"
    if (row.get("provisioning_state") or "").lower() == "post-provisioning":
        return "post-provisioning"
    if not row.get("is_online"):
        return "inactive" if row.get("last_connectivity_event") is None else "disconnected"
    target = _device_target_release(row, ctx)
    if row.get("download_progress") is not None or (
            target is not None and row.get("is_running__release") != target):
        return "updating"
    if row.get("api_heartbeat_state") == "online" and not row.get("is_connected_to_vpn", True):
        return "reduced-functionality"
    return "operational"


@schema.compute("device", "overall_progress")
def _overall_progress(row: dict, ctx: Any) -> Optional[int]:
    if row.get("provisioning_progress") is not None and row.get("provisioning_state"):
        return row["provisioning_progress"]
    return row.get("download_progress")


def _device_target_release(row: dict, ctx: Any) -> Optional[int]:
    fn = schema.RESOURCES["device"].computed.get("should_be_running__release")
    return fn(row, ctx) if fn else row.get("is_pinned_on__release")


@schema.compute_nav("application", "is_directly_accessible_by__user")
def _accessible_by(row: dict, ctx: Any) -> list[int]:
    """Users with a membership in the fleet's organization or in the fleet itself."""
    db = ctx.db
    users = {m["user"] for m in db.children("organization_membership", "is_member_of__organization",
                                           row.get("organization"))}
    users.update(m["user"] for m in db.children("user_application_membership",
                                                "is_member_of__application", row["id"]))
    return sorted(users)


@schema.compute_nav("application", "can_use__application_as_host")
def _hosts(row: dict, ctx: Any) -> list[int]:
    return []


def link_id(value: Any) -> Any:
    """A to-one link as an int id (rows store ints; tolerate ``{"__id": n}`` too)."""
    if isinstance(value, dict):
        return value.get("__id")
    return value
