"""Reference data loaded at every reset, seeding helpers for tests (``fleetsim.balena``) and the
loader of scenario files' ``"balena"`` section.

Seeding writes through :class:`.db.BalenaDb` with the same rules as the API (as the system, so
no permission checks), so seeded rows have exactly the shape the SDK gets from OData.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Optional, Union

from . import reference
from .reference import HOST_ORG

Ref = Union[int, str, dict, Any]


# -- reference data ------------------------------------------------------------------------------

def load_reference(backend: Any) -> None:
    """cpu architectures, device types (each with an alias equal to its slug, plus legacy ones),
    membership roles, the ``balena_os`` organization with a public host OS fleet per device
    type (with OS releases) and a supervisor fleet per architecture (with supervisor releases)."""
    db = backend.db
    archs = {slug: db.insert("cpu_architecture", {"slug": slug})["id"]
             for slug in reference.CPU_ARCHITECTURES}
    families: dict[str, int] = {}
    for role in reference.ORGANIZATION_ROLES:
        db.insert("organization_membership_role", {"name": role})
    for role in reference.APPLICATION_ROLES:
        db.insert("application_membership_role", {"name": role})
    org = db.insert("organization", {"name": "balenaOS", "handle": HOST_ORG})
    device_types: dict[str, dict] = {}
    for slug, (name, arch, aliases, family) in reference.DEVICE_TYPES.items():
        if family not in families:
            families[family] = db.insert("device_family", {"slug": family, "name": family})["id"]
        dt = db.insert("device_type", {
            "slug": slug, "name": name, "is_of__cpu_architecture": archs[arch],
            "belongs_to__device_family": families[family], "contract": reference.contract(slug),
            "logo": None})
        device_types[slug] = dt
        for alias in (slug, *aliases):
            db.insert("device_type_alias", {"is_referenced_by__alias": alias,
                                            "device_type": dt["id"]})
    for slug, dt in device_types.items():
        app = db.insert("application", {
            "app_name": slug, "organization": org["id"], "is_for__device_type": dt["id"],
            "is_host": True, "is_public": True, "is_of__class": "app",
            "should_track_latest_release": False})
        db.insert("application_tag", {"application": app["id"], "tag_key": "release-policy",
                                      "value": "default"})
        for semver, revision, variant, phase in reference.OS_RELEASES:
            db.insert("release", {
                "belongs_to__application": app["id"], "semver": semver, "revision": revision,
                "variant": variant, "phase": phase or None, "status": "success",
                "commit": backend.ids.hex("balena.release.commit", 32), "source": "cloud"})
    by_arch = {}
    for slug, dt in device_types.items():
        by_arch.setdefault(reference.DEVICE_TYPES[slug][1], dt)
    for arch, dt in by_arch.items():
        app = db.insert("application", {
            "app_name": f"{arch}-supervisor", "organization": org["id"],
            "is_for__device_type": dt["id"], "is_host": False, "is_public": True,
            "is_of__class": "app", "should_track_latest_release": False})
        service = db.insert("service", {"application": app["id"], "service_name": "main"})
        for semver, location in reference.SUPERVISOR_RELEASES:
            release = db.insert("release", {
                "belongs_to__application": app["id"], "semver": semver, "status": "success",
                "commit": backend.ids.hex("balena.release.commit", 32), "source": "cloud"})
            image = db.insert("image", {"is_a_build_of__service": service["id"],
                                        "is_stored_at__image_location": location or None,
                                        "status": "success"})
            db.insert("release_image", {"image": image["id"], "is_part_of__release": release["id"]})


# -- seeding helpers --------------------------------------------------------------------------------

@dataclass(eq=False)
class User:
    """A seeded balena user: credentials and its personal organization (``org``: id, handle)."""

    id: int
    username: str
    email: str
    password: str
    token: str
    api_key: str
    org: dict = field(default_factory=dict)
    actor: int = 0
    base_url: str = ""

    def sdk(self, api_version: Optional[str] = None) -> Any:
        """A ``balena.Balena`` in memory, pointed at the fake and logged in as this user."""
        return sdk_client(self.base_url, token=self.token, api_version=api_version)


def sdk_client(base_url: str, *, token: Optional[str] = None,
               api_version: Optional[str] = None) -> Any:
    """A ``balena.Balena({"data_directory": False})`` whose every URL points at ``base_url``
    (reference §1: ``api_endpoint`` is read on each REST call; the pine prefix is frozen at
    construction, so it is set too). ``api_version`` defaults to the installed SDK's own
    (``v7`` for balena-sdk 15+, ``v6`` for 14.x)."""
    from balena import Balena

    base = base_url.rstrip("/") + "/"
    settings: dict[str, Any] = {"data_directory": False}
    if api_version is not None:
        settings["api_version"] = api_version
    client = Balena(settings)
    api_version = str(client.settings.get("api_version"))
    client.settings.set("api_endpoint", base)
    client.settings.set("builder_url", base)
    client.pine.api_prefix = f"{base}{api_version}/"
    if token is not None:
        client.auth.login_with_token(token)
    return client


def _id(ref: Ref) -> Any:
    if isinstance(ref, dict):
        return ref["id"]
    if isinstance(ref, (int, str)):
        return ref
    return ref.id


class BalenaSeeder:
    """Writes balena state straight into the fake. Methods return plain row dicts (links as
    integer ids), the same values the SDK reads through OData."""

    def __init__(self, backend: Any, base_url: str) -> None:
        self.backend = backend
        self.db = backend.db
        self.base_url = base_url.rstrip("/")

    def user(self, username: Optional[str] = None, email: Optional[str] = None,
             password: Optional[str] = None, *, api_key: Optional[str] = None) -> User:
        """A user with its personal organization (handle = username, role administrator), a JWT
        and a named API key (``api_key`` fixes its text)."""
        b = self.backend
        with b.lock:
            if username is None:
                username = f"user_{b.ids.alnum('balena.seed.user', 6)}"
            email = email or f"{username}+testsdk@example.com"
            password = password or f"{username}-password"
            row = b.create_user(username, email, password)
            org = self.db.find("organization", handle=username)[0]
            if api_key is None:
                key = b._new_key(row["actor"], "fleetsim", "seeded by fleetsim", None)
            else:
                self.db.insert("api_key", {"key": api_key, "name": "fleetsim",
                                           "is_of__actor": row["actor"]})
                key = api_key
            token = b.issue_jwt(row["id"])
        return User(row["id"], username, email, password, token, key,
                    {"id": org["id"], "handle": org["handle"], "name": org["name"]},
                    row["actor"], self.base_url)

    def organization(self, name: str, handle: Optional[str] = None, *,
                     members: Optional[dict] = None) -> dict:
        """An organization; ``members`` maps users (or usernames) to a role name."""
        with self.backend.lock:
            org = self.db.insert("organization", {"name": name, "handle": handle})
            for who, role in (members or {}).items():
                self.backend.add_org_member(org["id"], self._user_id(who), role)
            return dict(org)

    def application(self, owner: Ref, name: str = "myfleet",
                    device_type: str = "raspberrypi4-64", *, app_class: str = "fleet",
                    track_latest: bool = True) -> dict:
        """A fleet owned by an organization (a :class:`User` means its personal org, a string
        an org handle)."""
        with self.backend.lock:
            dt = self.backend.device_type_by_alias(device_type)
            if dt is None:
                raise ValueError(f"unknown device type {device_type!r}")
            row = self.db.insert("application", {
                "app_name": name, "organization": self._org_id(owner),
                "is_for__device_type": dt["id"], "is_of__class": app_class,
                "should_track_latest_release": track_latest})
            return dict(row)

    def release(self, app: Ref, *, commit: Optional[str] = None, semver: Optional[str] = None,
                status: str = "success", final: bool = True, services: tuple = ("main",),
                note: Optional[str] = None, created_at: Any = None) -> dict:
        """A release with one image per service (services are created on first use);
        ``created_at`` (a datetime or ISO text) backdates it."""
        with self.backend.lock:
            app_id = self._app_id(app)
            values: dict[str, Any] = {"belongs_to__application": app_id, "status": status,
                                      "is_final": final, "source": "cloud",
                                      "composition": {"services": {s: {} for s in services}}}
            if commit is not None:
                values["commit"] = commit
            if semver is not None:
                values["semver"] = semver
            if note is not None:
                values["note"] = note
            if created_at is not None:
                values["created_at"] = created_at
            release = self.db.insert("release", values)
            for name in services:
                found = self.db.find("service", application=app_id, service_name=name)
                service = found[0] if found else self.db.insert(
                    "service", {"application": app_id, "service_name": name})
                image = self.db.insert("image", {"is_a_build_of__service": service["id"],
                                                 "status": "success" if status == "success"
                                                 else status})
                self.db.insert("release_image", {"image": image["id"],
                                                 "is_part_of__release": release["id"]})
            return dict(self.db.get("release", release["id"]))

    def device(self, app: Ref, uuid: Optional[str] = None, *, name: Optional[str] = None,
               device_type: Optional[str] = None, online: bool = False,
               release: Optional[Ref] = None, **fields: Any) -> dict:
        """A registered device (with its device API key under ``"api_key"``). ``release`` sets
        what it runs; ``online`` marks it connected now; ``fields`` are extra device fields."""
        b = self.backend
        with b.lock:
            app_id = self._app_id(app)
            values: dict[str, Any] = {"belongs_to__application": app_id, "uuid": uuid,
                                      "device_name": name}
            if device_type is not None:
                dt = b.device_type_by_alias(device_type)
                if dt is None:
                    raise ValueError(f"unknown device type {device_type!r}")
                values["is_of__device_type"] = dt["id"]
            else:
                values["is_of__device_type"] = self.db.get("application", app_id)["is_for__device_type"]
            if online:
                values.update(is_online=True, api_heartbeat_state="online",
                              last_connectivity_event=b.clock.now(), is_connected_to_vpn=True)
            if release is not None:
                values["is_running__release"] = self._release_id(release)
            values.update(fields)
            row = self.db.insert("device", values)
            key = b._new_key(row["actor"], None, None, None)
            out = dict(row)
            out["api_key"] = key
            return out

    def devices(self, app: Ref, count: int, *, prefix: str = "device-", **fields: Any) -> list[dict]:
        """``count`` devices named ``<prefix>0000``, ``<prefix>0001``, ..."""
        return [self.device(app, name=f"{prefix}{i:04d}", **fields) for i in range(count)]

    def provisioning_key(self, app: Ref) -> str:
        with self.backend.lock:
            app_row = self.db.get("application", self._app_id(app))
            return self.backend._new_key(app_row["actor"], None, None, None)

    def sdk(self, user: Optional[User] = None, api_version: Optional[str] = None) -> Any:
        """A ``balena.Balena`` pointed at the fake, logged in as ``user`` (or anonymous)."""
        return sdk_client(self.base_url, token=user.token if user else None,
                          api_version=api_version)

    def invitation_token(self, invite: Ref, kind: str = "application") -> str:
        """The token an invitee would get by email (``invite.accept(token)`` takes it)."""
        row = self.db.get(f"invitee__is_invited_to__{kind}", _id(invite))
        if row is None:
            raise ValueError(f"no {kind} invite {invite!r}")
        return row["invitation_token"]

    def totp_code(self, user: Ref) -> str:
        """The current 2FA code of a user who ran ``get_setup_key`` (as their authenticator)."""
        return self.backend.totp_code(self._user_id(user))

    # -- references -------------------------------------------------------------------------------

    def _user_id(self, ref: Ref) -> int:
        if isinstance(ref, str):
            rows = self.db.find("user", username=ref)
            if not rows:
                raise ValueError(f"no balena user {ref!r}")
            return rows[0]["id"]
        return _id(ref)

    def _org_id(self, ref: Ref) -> int:
        if isinstance(ref, User):
            return ref.org["id"]
        if isinstance(ref, str):
            rows = self.db.find("organization", handle=ref)
            if not rows:
                raise ValueError(f"no balena organization with handle {ref!r}")
            return rows[0]["id"]
        return _id(ref)

    def _app_id(self, ref: Ref) -> int:
        if isinstance(ref, str):
            rows = self.db.find("application", slug=ref.lower())
            if not rows:
                raise ValueError(f"no balena application with slug {ref!r}")
            return rows[0]["id"]
        return _id(ref)

    def _release_id(self, ref: Ref) -> int:
        if isinstance(ref, str):
            rows = self.db.find("release", commit=ref)
            if not rows:
                raise ValueError(f"no balena release with commit {ref!r}")
            return rows[0]["id"]
        return _id(ref)


# -- scenario files ---------------------------------------------------------------------------------

def load_scenario(seeder: BalenaSeeder, section: Any) -> dict:
    """Seed a scenario's ``"balena"`` section; returns credentials and ids.

    Format: ``{"users": [{"username", "email", "password", "api_key"?}], "organizations":
    [{"name", "handle", "members": {"<username>": "member"}}], "fleets": [{"name",
    "organization" (handle), "device_type", "class"}], "releases": [{"fleet" (slug), "commit",
    "semver", "status", "final", "services"}], "devices": [{"fleet", "uuid", "name",
    "device_type", "online", "release" (commit)} or {"fleet", "count", "prefix"}]}``.
    """
    if not isinstance(section, dict):
        raise ValueError('the balena section must be an object: {"users": [...], ...}')
    unknown = sorted(set(section) - {"users", "organizations", "fleets", "releases", "devices"})
    if unknown:
        raise ValueError(f"unknown key(s) in the balena section: {', '.join(unknown)}")
    out: dict[str, Any] = {"users": {}, "organizations": {}, "fleets": {}, "releases": {},
                           "devices": {}}
    for spec in section.get("users", []):
        if not isinstance(spec, dict) or not spec.get("username"):
            raise ValueError('each balena user needs at least {"username": ...}')
        user = seeder.user(spec["username"], spec.get("email"), spec.get("password"),
                           api_key=spec.get("api_key"))
        out["users"][user.username] = {"email": user.email, "password": user.password,
                                       "token": user.token, "api_key": user.api_key,
                                       "org": user.org["handle"]}
    for spec in section.get("organizations", []):
        org = seeder.organization(spec["name"], spec.get("handle"), members=spec.get("members"))
        out["organizations"][org["handle"]] = org["id"]
    for spec in section.get("fleets", []):
        app = seeder.application(spec["organization"], spec["name"],
                                 spec.get("device_type", "raspberrypi4-64"),
                                 app_class=spec.get("class", "fleet"))
        out["fleets"][app["slug"]] = app["id"]
    releases = section.get("releases", [])
    now = seeder.backend.clock.now()
    for index, spec in enumerate(releases):
        # listed oldest first, one minute apart, so "latest" is the last one listed
        created = now - timedelta(minutes=len(releases) - index)
        release = seeder.release(spec["fleet"], commit=spec.get("commit"), semver=spec.get("semver"),
                                 created_at=spec.get("created_at", created),
                                 status=spec.get("status", "success"),
                                 final=bool(spec.get("final", True)),
                                 services=tuple(spec.get("services", ("main",))),
                                 note=spec.get("note"))
        out["releases"][release["commit"]] = release["id"]
    for spec in section.get("devices", []):
        if "count" in spec:
            made = seeder.devices(spec["fleet"], int(spec["count"]),
                                  prefix=spec.get("prefix", "device-"))
        else:
            made = [seeder.device(spec["fleet"], spec.get("uuid"), name=spec.get("name"),
                                  device_type=spec.get("device_type"),
                                  online=bool(spec.get("online", False)),
                                  release=spec.get("release"))]
        for device in made:
            out["devices"][device["uuid"]] = device["api_key"]
    return out
