"""balena state and rules: the backend the routes call. Nothing here imports Flask.

Rows live in :class:`.db.BalenaDb` (B1's store layer; one table per v7 resource). The backend
adds what is not OData, in three parts: this module (lifecycle, reference data, actors,
``/config``), :mod:`.accounts` (users, tokens, API keys, 2FA, invitations) and :mod:`.devices`
(registration, heartbeats, supervisor actions, target state). The rules every write obeys
(defaults, computed fields, tag rules, history) are in :mod:`.rules`; who may see and change
what in :mod:`.permissions`.

Private tables (never served through OData), keyed by strings so snapshots round-trip:
``balena._auth`` (user id -> email, password hash, 2FA state). Everything else (who owns an
actor, which row an API key is) is looked up through the db's indexes, so it is undone with the
rows when a pine request's transaction is.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

from . import seed
from .accounts import Accounts
from .auth import APPLICATION, DEVICE, USER, Actor
from .db import BalenaDb
from .devices import HEARTBEAT_TIMEOUT, Devices
from .errors import unauthorized
from .permissions import Permissions
from .rules import Rules
from .rules import link_id as _fk

__all__ = ["CONFIG", "HEARTBEAT_TIMEOUT", "BalenaBackend"]

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


class BalenaBackend(Accounts, Devices):
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
        tables[self._auth.name] = self._auth
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


    @property
    def secret(self) -> bytes:
        """The key every JWT of this cloud is signed with (stable per seed)."""
        return f"fleetsim-balena:{self.ids.seed}".encode()

    # -- actors ----------------------------------------------------------------------------------

    def new_actor(self, kind: str) -> int:
        """An actor row (its owner, a user, fleet or device, points at it through ``actor``)."""
        return self.db.insert("actor", {})["id"]

    def actor_owner(self, actor_id: Any) -> Optional[tuple[str, int]]:
        """(kind, id) of the user, fleet or device that owns actor ``actor_id`` (FK-indexed)."""
        for kind in (USER, APPLICATION, DEVICE):
            rows = self.db.find(kind, actor=actor_id)
            if rows:
                return kind, rows[0]["id"]
        return None

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

    def config(self) -> dict:
        return dict(CONFIG)

    def config_vars(self) -> dict:
        """``GET /config/vars`` (the SDK's ``config.get_config_var_schema``)."""
        return {"reservedNames": ["BALENA", "RESIN", "USER"],
                "reservedNamespaces": ["BALENA_", "RESIN_"],
                "invalidRegex": "/^d|W/", "whiteListedNames": ["BALENA_APP_RESTART_POLICY"],
                "whiteListedNamespaces": ["BALENA_HOST_", "RESIN_HOST_"],
                "blackListedNames": ["BALENA_SUPERVISOR_API_KEY", "RESIN_SUPERVISOR_API_KEY"],
                "configVarSchema": {"type": "object", "properties": {}}}


def _copy_row(row: Any) -> Any:
    """A copy deep enough that no two resets share a mutable value."""
    if not isinstance(row, dict):
        return copy.deepcopy(row)
    return {k: copy.deepcopy(v) if isinstance(v, (dict, list)) else v for k, v in row.items()}
