"""Users, tokens, whoami, API keys, two-factor authentication and invitations: the account
half of :class:`.models.BalenaBackend` (a mixin; it uses the backend's ``db``, ``ids``, ``clock``,
``permissions`` and private tables). No Flask here."""

from __future__ import annotations

from typing import Any, Optional

from . import auth
from .auth import APPLICATION, DEVICE, USER, Actor
from .errors import BalenaError, bad_request, forbidden, not_found, unauthorized
from .rules import link_id as _fk


class Accounts:
    """Account operations; see the module docstring."""

    db: Any
    ids: Any
    clock: Any
    permissions: Any
    secret: bytes
    _auth: Any

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
        with self.db.transaction():  # the user, its org and membership, or nothing
            actor_id = self.new_actor(USER)
            user = self.db.insert("user", {"username": username, "actor": actor_id})
            org = self.db.insert("organization", {"name": username, "handle": username})
            self.add_org_member(org["id"], user["id"], "administrator")
        salt = self.ids.hex("balena.salt", 16)  # secrets last: _auth is outside the transaction
        self._auth[str(user["id"])] = {
            "email": email, "salt": salt, "password": auth.hash_password(password, salt),
            "jwt_secret": self.ids.hex("balena.jwt_secret", 32),
            "totp_secret": None, "totp_enabled": False,
        }
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
        found = self.db.find("api_key", key=token)  # unique-indexed
        row = found[0] if found else None
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
        self.db.insert("api_key", {
            "key": key, "name": name, "description": description, "expiry_date": expiry_date,
            "is_of__actor": actor_id})
        return key

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
        if isinstance(wanted, str) and wanted:  # the supervisor's key exchange names its own key
            self.db.insert("api_key", {"key": wanted, "name": body.get("name"),
                                       "is_of__actor": _fk(device["actor"])})
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
