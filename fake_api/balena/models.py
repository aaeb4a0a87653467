"""balena state and rules: the backend the routes call. Nothing here imports Flask.

Rows live in :class:`.db.BalenaDb` (B1's store layer; one table per v7 resource). This module
adds what is not OData: users' secrets (passwords, 2FA), API keys, tokens, who an actor is,
device registration and ``/config``. The rules every write obeys (defaults, computed fields,
tag rules, history) are in :mod:`.rules`; who may see and change what in :mod:`.permissions`.

Private tables (never served through OData), keyed by strings so snapshots round-trip:
``balena._auth`` (user id -> email, password hash, 2FA state), ``balena._actors``
(actor id -> [kind, id]) and ``balena._keys`` (API key text -> api_key row id).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any, Optional

from . import auth, seed
from .auth import APPLICATION, DEVICE, USER, Actor
from .db import BalenaDb, format_date
from .errors import BalenaError, bad_request, forbidden, not_found, unauthorized
from .permissions import Permissions
from .rules import Rules

#: An online device not heard from for this long goes offline (see ``expire_heartbeats``).
HEARTBEAT_TIMEOUT = timedelta(minutes=30)

#: What ``GET /config`` answers (balenaCloud's public values; the SDK reads ``deviceUrlsBase``).
CONFIG = {
    "deviceUrlsBase": "balena-devices.com",
    "gitServerUrl": "git.balena-cloud.com",
    "imgMakerUrl": "https://img.balena-cloud.com",
    "registryHost": "registry2.balena-cloud.com",
    "apiHost": "api.balena-cloud.com",
    "deltaHost": "delta.balena-cloud.com",
    "mixpanelToken": "",
    "intercomAppId": "",
    "recurlyPublicKey": "",
    "DEVICE_ONLINE_ICON": "green",
    "DEVICE_OFFLINE_ICON": "red",
    "signupCodeRequired": False,
    "supportedSocialProviders": [],
}


class BalenaBackend:
    """All balena state of one fake cloud and the non-OData operations on it."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.ids = cloud.ids
        self.lock = cloud.store.lock
        self.rules = Rules(self)
        self.permissions = Permissions(self)
        self.db = BalenaDb(cloud, self.rules)
        self._auth = cloud.store.table("balena._auth")
        self._actors = cloud.store.table("balena._actors")
        self._keys = cloud.store.table("balena._keys")
        self._reference: dict[tuple, dict[str, Any]] = {}  # (seed, time) -> rows and counters
        self.after_reset()
        self.clock.on_change(self.expire_heartbeats)

    # -- lifecycle -------------------------------------------------------------------------------

    def after_reset(self) -> None:
        """Reference data (device types, roles, host OS fleets) is part of every fresh cloud.

        Loading it through the rules costs ~15 ms, and every test resets, so the result is kept
        per seed and copied back on later resets (the same rows, ids and counters)."""
        with self.lock:
            key = (self.ids.seed, self.clock.isoformat())
            cached = self._reference.get(key) if self.clock.virtual else None
            if cached is None:
                self.db.rebuild()
                seed.load_reference(self)
                if self.clock.virtual:
                    self._reference[key] = self._capture()
            else:
                self._apply(cached)

    def _tables(self) -> dict[str, Any]:
        tables = {f"balena.{name}": table for name, table in self.db.tables.items()}
        tables.update({t.name: t for t in (self._auth, self._actors, self._keys)})
        return tables

    def _capture(self) -> dict[str, Any]:
        counters = self.cloud.store.table("_core.counters")
        return {
            "tables": {name: {k: copy.deepcopy(row) for k, row in table.items()}
                       for name, table in self._tables().items() if table},
            "counters": {ns: n for ns, n in counters.items() if ns.startswith("balena.")},
        }

    def _apply(self, cached: dict[str, Any]) -> None:
        tables = self._tables()
        for name, rows in cached["tables"].items():
            tables[name].update((k, _copy_row(row)) for k, row in rows.items())
        self.cloud.store.table("_core.counters").update(cached["counters"])
        self.db.rebuild()

    def after_restore(self) -> None:
        self.db.after_restore()

    def expire_heartbeats(self, now: Any = None) -> int:
        """Online devices not heard from for :data:`HEARTBEAT_TIMEOUT` go offline (balena's API
        heartbeat: twice the supervisor's 15-minute poll interval). Runs whenever the clock
        moves; returns how many devices went offline."""
        now = now if now is not None else self.clock.now()
        limit = format_date(now - HEARTBEAT_TIMEOUT)
        gone = 0
        with self.lock:
            for device in list(self.db.tables["device"].values()):
                seen = device.get("last_connectivity_event")
                if device.get("is_online") and seen is not None and seen <= limit:
                    self.db.update("device", device["id"], {
                        "is_online": False, "api_heartbeat_state": "offline",
                        "changed_api_heartbeat_state_on__date": format_date(now)})
                    gone += 1
        return gone

    @property
    def secret(self) -> bytes:
        """The key every JWT of this cloud is signed with (stable per seed)."""
        return f"fleetsim-balena:{self.ids.seed}".encode()

    # -- actors ----------------------------------------------------------------------------------

    def new_actor(self, kind: str) -> int:
        """An actor row; its owner is recorded by :meth:`bind_actor` once the owner exists."""
        return self.db.insert("actor", {})["id"]

    def bind_actor(self, actor_id: int, kind: str, owner_id: int) -> None:
        self._actors[str(actor_id)] = [kind, owner_id]

    def actor_owner(self, actor_id: Any) -> Optional[tuple[str, int]]:
        found = self._actors.get(str(actor_id))
        return (found[0], found[1]) if found else None

    def actor_for(self, actor_id: int, via: str, key_id: Optional[int] = None) -> Actor:
        """The :class:`Actor` of actor row ``actor_id`` (401 when its owner is gone)."""
        owner = self.actor_owner(actor_id)
        if owner is None:
            raise unauthorized()
        kind, owner_id = owner
        if kind == USER:
            user = self.db.get("user", owner_id)
            if user is None:
                raise unauthorized()
            return Actor(USER, owner_id, actor_id, via, username=user["username"],
                         email=self.user_email(owner_id), key_id=key_id)
        if kind == APPLICATION:
            app = self.db.get("application", owner_id)
            if app is None:
                raise unauthorized()
            return Actor(APPLICATION, owner_id, actor_id, via, slug=app["slug"], key_id=key_id)
        device = self.db.get("device", owner_id)
        if device is None:
            raise unauthorized()
        return Actor(DEVICE, owner_id, actor_id, via, uuid=device["uuid"],
                     application=_fk(device.get("belongs_to__application")), key_id=key_id)

    # -- users -----------------------------------------------------------------------------------

    def create_user(self, username: str, email: str, password: str) -> dict:
        """A user, its actor, its secrets and its personal organization (handle = username),
        of which it is administrator, as on balenaCloud."""
        if not username or not isinstance(username, str):
            raise bad_request("username is required")
        if self.db.find("user", username=username):
            raise BalenaError(409, '"username" must be unique.')
        if any(a.get("email") == email for a in self._auth.values()):
            raise BalenaError(409, '"email" must be unique.')
        actor_id = self.new_actor(USER)
        user = self.db.insert("user", {"username": username, "actor": actor_id})
        self.bind_actor(actor_id, USER, user["id"])
        salt = self.ids.hex("balena.salt", 16)
        self._auth[str(user["id"])] = {
            "email": email, "salt": salt, "password": auth.hash_password(password, salt),
            "jwt_secret": self.ids.hex("balena.jwt_secret", 32),
            "totp_secret": None, "totp_enabled": False,
        }
        org = self.db.insert("organization", {"name": username, "handle": username})
        self.add_org_member(org["id"], user["id"], "administrator")
        return user

    def add_org_member(self, org_id: int, user_id: int, role: str = "member") -> dict:
        role_rows = self.db.find("organization_membership_role", name=role)
        if not role_rows:
            raise bad_request(f"unknown organization membership role {role!r}")
        return self.db.insert("organization_membership", {
            "user": user_id, "is_member_of__organization": org_id,
            "organization_membership_role": role_rows[0]["id"]})

    def user_email(self, user_id: int) -> Optional[str]:
        secrets = self._auth.get(str(user_id))
        return secrets["email"] if secrets else None

    def user_by_login(self, username: str) -> Optional[dict]:
        """A user by username or email (``/login_`` takes either)."""
        rows = self.db.find("user", username=username)
        if rows:
            return rows[0]
        for user_id, secrets in self._auth.items():
            if secrets.get("email") and secrets["email"].lower() == str(username).lower():
                return self.db.get("user", int(user_id))
        return None

    # -- tokens ----------------------------------------------------------------------------------

    def login(self, body: Any) -> str:
        """``POST /login_``: a JWT for a right username (or email) and password, else 401."""
        if not isinstance(body, dict):
            raise unauthorized()
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise unauthorized()
        user = self.user_by_login(username)
        if user is None:
            raise unauthorized()
        secrets = self._auth[str(user["id"])]
        if auth.hash_password(password, secrets["salt"]) != secrets["password"]:
            raise unauthorized()
        return self.issue_jwt(user["id"], two_factor_pending=bool(secrets["totp_enabled"]))

    def issue_jwt(self, user_id: int, *, two_factor_pending: Optional[bool] = None) -> str:
        """A fresh user JWT. ``twoFactorRequired`` is present only for users with 2FA on (that
        is how the SDK's ``is_enabled`` tells), true until the 2FA challenge is passed."""
        user = self.db.get("user", user_id)
        secrets = self._auth[str(user_id)]
        now = int(self.clock.time())
        claims: dict[str, Any] = {
            "id": user_id, "actorId": _fk(user.get("actor")), "username": user["username"],
            "email": secrets["email"], "jwt_secret": secrets["jwt_secret"],
            "authTime": now * 1000, "permissions": [],
            "iat": now, "exp": now + int(auth.JWT_LIFETIME.total_seconds()),
        }
        if secrets["totp_enabled"]:
            claims["twoFactorRequired"] = bool(two_factor_pending)
        return auth.encode_jwt(claims, self.secret)

    def authenticate(self, token: str) -> Actor:
        """The actor behind a token, or 401 (malformed, forged, expired, revoked)."""
        if auth.looks_like_jwt(token):
            claims = auth.decode_jwt(token, self.secret)
            if claims is None or not isinstance(claims.get("id"), int):
                raise unauthorized()
            if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= self.clock.time():
                raise unauthorized("Unauthorized: the token has expired")
            secrets = self._auth.get(str(claims["id"]))
            user = self.db.get("user", claims["id"])
            if secrets is None or user is None or secrets["jwt_secret"] != claims.get("jwt_secret"):
                raise unauthorized()
            return Actor(USER, user["id"], _fk(user["actor"]), "jwt", username=user["username"],
                         email=secrets["email"],
                         two_factor_pending=bool(claims.get("twoFactorRequired")))
        key_id = self._keys.get(token)
        row = self.db.get("api_key", key_id) if key_id is not None else None
        if row is None:
            raise unauthorized()
        if auth.expired(row.get("expiry_date"), self.clock.now()):
            raise unauthorized("Unauthorized: the API key has expired")
        return self.actor_for(_fk(row["is_of__actor"]), "api_key", key_id=row["id"])

    def refresh(self, actor: Optional[Actor]) -> str:
        """``GET /whoami``: a new JWT for a user JWT (what the SDK's hourly refresh calls)."""
        if actor is None or actor.kind != USER or actor.via != "jwt":
            raise unauthorized()
        return self.issue_jwt(actor.id, two_factor_pending=actor.two_factor_pending)

    # -- whoami ----------------------------------------------------------------------------------

    def actor_whoami(self, actor: Optional[Actor]) -> dict:
        """``GET /actor/v1/whoami`` in open-balena's shapes (``actorWhoami``)."""
        if actor is None:
            raise unauthorized()
        if actor.kind == USER:
            return {"id": actor.actor_id, "actorType": USER, "actorTypeId": actor.id,
                    "username": actor.username, "email": actor.email}
        if actor.kind == APPLICATION:
            return {"id": actor.actor_id, "actorType": APPLICATION, "actorTypeId": actor.id,
                    "slug": actor.slug}
        return {"id": actor.actor_id, "actorType": DEVICE, "actorTypeId": actor.id,
                "uuid": actor.uuid}

    def user_whoami(self, actor: Optional[Actor]) -> dict:
        """``GET /user/v1/whoami``: users only."""
        if actor is None or actor.kind != USER:
            raise unauthorized()
        return {"id": actor.id, "username": actor.username, "email": actor.email}

    # -- API keys --------------------------------------------------------------------------------

    def _new_key(self, actor_id: int, name: Any, description: Any, expiry: Any) -> str:
        for field, value in (("name", name), ("description", description)):
            if value is not None and not isinstance(value, str):
                raise bad_request(f"{field} must be a string")
        expiry_date = auth.parse_expiry(expiry)
        if auth.expired(expiry_date, self.clock.now()):
            raise bad_request("The expiry date must be in the future")
        key = self.ids.alnum("balena.api_key", 32)
        row = self.db.insert("api_key", {
            "key": key, "name": name, "description": description, "expiry_date": expiry_date,
            "is_of__actor": actor_id})
        self._keys[key] = row["id"]
        return key

    def forget_key(self, row: dict) -> None:
        """Called by the rules when an api_key row is deleted (revoked)."""
        for key, key_id in list(self._keys.items()):
            if key_id == row["id"]:
                del self._keys[key]

    def create_user_key(self, actor: Optional[Actor], body: Any) -> str:
        """``POST /api-key/user/full``: a named key with the user's full rights."""
        user = self._require_user(actor)
        body = body if isinstance(body, dict) else {}
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request("API keys require a name")
        return self._new_key(user.actor_id, name, body.get("description"), body.get("expiryDate"))

    def create_key_v1(self, actor: Optional[Actor], body: Any) -> str:
        """``POST /api-key/v1/``: provisioning keys (``actorType: application``) and device keys
        (``actorType: device``) for things the caller may change."""
        caller = self._require_user_or_app(actor)
        if not isinstance(body, dict):
            raise bad_request("the body must be an object")
        kind, target = body.get("actorType"), body.get("actorTypeId")
        if kind not in (APPLICATION, DEVICE) or isinstance(target, bool) or not isinstance(target, int):
            raise bad_request("actorType must be 'application' or 'device' with an integer actorTypeId")
        row = self.db.get(kind, target)
        if row is None or not self.permissions.can_write(caller, kind, row):
            raise not_found(f"{kind} with id {target} not found")
        return self._new_key(_fk(row["actor"]), body.get("name"), body.get("description"),
                             body.get("expiryDate"))

    def create_device_key(self, actor: Optional[Actor], device_id: int, body: Any) -> str:
        """``POST /api-key/device/<id>/device-key``."""
        caller = self._require_user_or_app(actor)
        device = self.db.get("device", device_id)
        # a provisioning key may make keys for its fleet's devices (the supervisor's key exchange)
        own_fleet = caller.kind == APPLICATION and device is not None and \
            device["belongs_to__application"] == caller.id
        if device is None or not (own_fleet or self.permissions.can_write(caller, "device", device)):
            raise not_found(f"device with id {device_id} not found")
        body = body if isinstance(body, dict) else {}
        wanted = body.get("apiKey")
        if isinstance(wanted, str) and wanted:  # a supervisor's key exchange names its own key
            if wanted in self._keys:
                raise BalenaError(409, '"key" must be unique.')
            row = self.db.insert("api_key", {"key": wanted, "name": body.get("name"),
                                             "is_of__actor": _fk(device["actor"])})
            self._keys[wanted] = row["id"]
            return wanted
        return self._new_key(_fk(device["actor"]), body.get("name"), body.get("description"),
                             body.get("expiryDate"))

    def create_provisioning_key(self, actor: Optional[Actor], app_id: int, body: Any) -> str:
        """``POST /api-key/application/<id>/provisioning`` (the older route)."""
        body = dict(body) if isinstance(body, dict) else {}
        body.update({"actorType": APPLICATION, "actorTypeId": app_id})
        return self.create_key_v1(actor, body)

    def _require_user(self, actor: Optional[Actor]) -> Actor:
        if actor is None:
            raise unauthorized()
        if actor.kind != USER:
            raise forbidden()
        return actor

    def _require_user_or_app(self, actor: Optional[Actor]) -> Actor:
        if actor is None:
            raise unauthorized()
        if actor.kind == DEVICE:
            raise forbidden()
        return actor

    # -- two-factor authentication ---------------------------------------------------------------

    def totp_setup(self, actor: Optional[Actor]) -> str:
        """``GET /auth/totp/setup``: a new secret as an otpauth URL (``secret`` is not the first
        parameter, which the SDK's ``parse_qs`` relies on)."""
        user = self._require_user(actor)
        secrets = self._auth[str(user.id)]
        if secrets["totp_enabled"]:
            raise bad_request("Two factor authentication is already enabled")
        secret = auth.totp_secret_from_hex(self.ids.hex("balena.totp", 64))
        secrets["totp_secret"] = secret
        return f"otpauth://totp/balena:{user.username}?issuer=balena&secret={secret}"

    def totp_verify(self, actor: Optional[Actor], body: Any) -> str:
        """``POST /auth/totp/verify``: enables 2FA (after setup) or passes the login challenge;
        answers a new token either way."""
        user = self._require_user(actor)
        if user.via != "jwt":
            raise forbidden()
        secrets = self._auth[str(user.id)]
        code = body.get("code") if isinstance(body, dict) else None
        if not secrets["totp_secret"]:
            raise bad_request("Two factor authentication is not set up")
        if code is None or not auth.totp_ok(secrets["totp_secret"], code, self.clock.time()):
            raise unauthorized("Invalid two factor authentication code")
        secrets["totp_enabled"] = True
        return self.issue_jwt(user.id, two_factor_pending=False)

    def totp_disable(self, actor: Optional[Actor], body: Any) -> str:
        """``POST /auth/totp/disable {"password"}``."""
        user = self._require_user(actor)
        secrets = self._auth[str(user.id)]
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str) or \
                auth.hash_password(password, secrets["salt"]) != secrets["password"]:
            raise unauthorized("Invalid password")
        secrets["totp_enabled"] = False
        secrets["totp_secret"] = None
        return self.issue_jwt(user.id)

    def totp_code(self, user_id: int) -> str:
        """The current code of a user's authenticator (for tests and the seeding helpers)."""
        secret = self._auth[str(user_id)]["totp_secret"]
        if not secret:
            raise ValueError("this user has not set up two factor authentication")
        return auth.totp(secret, self.clock.time())

    # -- device registration ---------------------------------------------------------------------

    def register_device(self, actor: Optional[Actor], body: Any) -> dict:
        """``POST /device/register`` with a provisioning key (or a user who may write the fleet):
        a device in that fleet and its device API key; a duplicate uuid is a 409."""
        caller = self._require_user_or_app(actor)
        if not isinstance(body, dict):
            raise bad_request("the body must be an object")
        app_id, uuid, dt_slug = body.get("application"), body.get("uuid"), body.get("device_type")
        if isinstance(app_id, bool) or not isinstance(app_id, int):
            raise bad_request("application must be an application id")
        if not isinstance(uuid, str) or not uuid:
            raise bad_request("uuid is required")
        app = self.db.get("application", app_id)
        if caller.kind == APPLICATION and caller.id != app_id:
            raise forbidden("This provisioning key cannot register devices in that fleet")
        if app is None or (caller.kind == USER
                           and not self.permissions.can_write(caller, "application", app)):
            raise not_found(f"Application {app_id} not found")
        device_type = self.device_type_by_alias(dt_slug) if dt_slug else \
            self.db.get("device_type", _fk(app["is_for__device_type"]))
        if device_type is None:
            raise bad_request(f"Invalid device type: {dt_slug}")
        if self.db.find("device", uuid=uuid):
            raise BalenaError(409, '"uuid" must be unique.')
        user_id = body.get("user") if caller.kind == APPLICATION else caller.id
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)
                                    or self.db.get("user", user_id) is None):
            user_id = None
        reported = {k: body[k] for k in ("supervisor_version", "os_version", "os_variant",
                                         "mac_address") if isinstance(body.get(k), str)}
        device = self.db.insert("device", {
            "uuid": uuid, "belongs_to__application": app_id,
            "is_of__device_type": device_type["id"], "belongs_to__user": user_id, **reported,
        }, actor=caller)
        api_key = body.get("api_key")
        if isinstance(api_key, str) and api_key:
            row = self.db.insert("api_key", {"key": api_key, "is_of__actor": _fk(device["actor"])})
            self._keys[api_key] = row["id"]
        else:
            api_key = self._new_key(_fk(device["actor"]), None, None, None)
        return {"id": device["id"], "uuid": device["uuid"], "api_key": api_key}

    def device_type_by_alias(self, alias: Any) -> Optional[dict]:
        rows = self.db.find("device_type_alias", is_referenced_by__alias=alias)
        return self.db.get("device_type", _fk(rows[0]["device_type"])) if rows else None

    def config(self) -> dict:
        return dict(CONFIG)

    def supervisor_action(self, actor: Optional[Actor], action: str, body: Any) -> Any:
        """``POST /supervisor/...``: balena proxies these to the devices' supervisors. Until
        simulated supervisors exist (part 2) an online device answers as an idle supervisor
        would; an offline one gives the API's ``No online device(s) found``."""
        caller = self._require_user_or_app(actor)
        body = body if isinstance(body, dict) else {}
        devices: list[dict] = []
        if body.get("uuid") is not None:
            devices = self.db.find("device", uuid=body["uuid"])
        elif body.get("deviceId") is not None:
            found = self.db.get("device", body["deviceId"]) if isinstance(body["deviceId"], int) \
                else None
            devices = [found] if found else []
        elif isinstance(body.get("appId"), int):
            devices = self.db.children("device", "belongs_to__application", body["appId"])
        devices = [d for d in devices if self.permissions.can_write(caller, "device", d)]
        if not devices and not (body.get("appId") and not body.get("uuid")
                                and body.get("deviceId") is None):
            raise not_found("Device not found")
        online = [d for d in devices if d.get("is_online")]
        if not online:
            raise bad_request("No online device(s) found")
        if action.strip("/") == "v1/device":
            device = online[0]
            release = self.db.get("release", device.get("is_running__release"))
            return {"api_port": 48484, "ip_address": device.get("ip_address"),
                    "os_version": device.get("os_version"),
                    "supervisor_version": device.get("supervisor_version"),
                    "update_pending": False, "update_failed": False, "update_downloaded": False,
                    "commit": release["commit"] if release else None, "status": "Idle",
                    "download_progress": None}
        return "OK"

    def accept_invite(self, actor: Optional[Actor], kind: str, token: str) -> None:
        """``POST /user/v1/invitation/<token>`` (fleet) or ``/org/v1/invitation/<token>``:
        the caller becomes a member with the invite's role; the invite is used up."""
        user = self._require_user(actor)
        resource = f"invitee__is_invited_to__{kind}"
        found = self.db.find(resource, invitation_token=token)
        if not found:
            raise not_found("Invitation not found")
        invite = found[0]
        if kind == "organization":
            role = self.db.get("organization_membership_role", invite["organization_membership_role"])
            if not self.db.find("organization_membership", user=user.id,
                                is_member_of__organization=invite["is_invited_to__organization"]):
                self.add_org_member(invite["is_invited_to__organization"], user.id, role["name"])
        elif not self.db.find("user_application_membership", user=user.id,
                              is_member_of__application=invite["is_invited_to__application"]):
            self.db.insert("user_application_membership", {
                "user": user.id, "is_member_of__application": invite["is_invited_to__application"],
                "application_membership_role": invite["application_membership_role"]})
        self.db.delete(resource, invite["id"])

    def config_vars(self) -> dict:
        """``GET /config/vars`` (the SDK's ``config.get_config_var_schema``)."""
        return {"reservedNames": ["BALENA", "RESIN", "USER"],
                "reservedNamespaces": ["BALENA_", "RESIN_"],
                "invalidRegex": "/^d|W/", "whiteListedNames": ["BALENA_APP_RESTART_POLICY"],
                "whiteListedNamespaces": ["BALENA_HOST_", "RESIN_HOST_"],
                "blackListedNames": ["BALENA_SUPERVISOR_API_KEY", "RESIN_SUPERVISOR_API_KEY"],
                "configVarSchema": {"type": "object", "properties": {}}}

    def register_user(self, body: Any) -> str:
        """``POST /user/register {email, password[, username]}``: a JWT for the new user."""
        if not isinstance(body, dict):
            raise bad_request("the body must be an object")
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or "@" not in email:
            raise bad_request("Invalid email")
        if not isinstance(password, str) or len(password) < 8:
            raise bad_request("Password must be at least 8 characters")
        username = body.get("username") or email.split("@", 1)[0].replace("+", "_").replace(".", "_")
        user = self.create_user(str(username), email, password)
        return self.issue_jwt(user["id"])


def _copy_row(row: Any) -> Any:
    """A copy deep enough that no two resets share a mutable value."""
    if not isinstance(row, dict):
        return copy.deepcopy(row)
    return {k: copy.deepcopy(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}


def _fk(value: Any) -> Any:
    """A to-one link as an int id (rows store ints; tolerate ``{"__id": n}`` too)."""
    if isinstance(value, dict):
        return value.get("__id")
    return value
