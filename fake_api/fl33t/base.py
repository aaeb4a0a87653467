"""Shared ground of the fl33t backend: its tables, table keys, lookups and references.

Every record is a plain JSON dict in a store table keyed ``"<team_id>/<id>"`` (sessions by
token), so teams never see each other and snapshots carry everything. Records hold more than the
client sees (``team_id``, blob ids, rollout counters); :mod:`.views` cuts them down to exactly the
client's field set.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ..core.errors import Conflict
from . import auth
from .errors import BadRequest, InvalidId
from .fields import page, text

#: The actor the seeding helpers use: an admin of every team.
SYSTEM: dict[str, Any] = {"admin": True, "session_token": None, "team_id": None}


def key(team_id: str, obj_id: str) -> str:
    """Table key of a team-scoped record."""
    return f"{team_id}/{obj_id}"


def paged(records: list[dict], args: Mapping[str, str], model: str, view: Any) -> dict:
    """The fl33t list envelope: ``{"<model>s": [...], "<model>_count": total}``."""
    offset, limit = page(args)
    return {f"{model}s": [view(r) for r in records[offset:offset + limit]],
            f"{model}_count": len(records)}


class BackendBase:
    """The tables of one fake cloud's fl33t state, and the lookups every rule needs."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.clock = cloud.clock
        self.ids = cloud.ids
        self.blobs = cloud.blobs
        store = cloud.store
        self.lock = store.lock
        self.teams = store.table("fl33t.teams")
        self.sessions = store.table("fl33t.sessions")
        self.trains = store.table("fl33t.trains")
        self.builds = store.table("fl33t.builds")
        self.fleets = store.table("fl33t.fleets")
        self.devices = store.table("fl33t.devices")

    # -- helpers -----------------------------------------------------------------------------

    def _new_id(self, table: Mapping[str, Any], team_id: str, ns: str,
                given: Optional[str] = None) -> str:
        obj_id = given if given is not None else self.ids.alnum(ns, 10)
        if key(team_id, obj_id) in table:
            raise Conflict(f"{ns.split('.')[-1]} {obj_id} already exists in team {team_id}")
        return obj_id

    def _new_token(self, ns: str, given: Optional[str] = None) -> str:
        token = given if given is not None else self.ids.token(ns, "", 32)
        if not token or token in self.sessions:
            raise Conflict("that session token is already in use")
        return token

    @staticmethod
    def _find(table: Mapping[str, dict], team_id: str, obj_id: str, kind: str) -> dict:
        record = table.get(key(team_id, obj_id))
        if record is None:
            raise InvalidId(kind, obj_id)
        return record

    @staticmethod
    def _of_team(table: Mapping[str, dict], team_id: str, **match: Any) -> list[dict]:
        return [r for r in table.values() if r["team_id"] == team_id
                and all(r.get(k) == v for k, v in match.items() if v is not None)]

    def _train_ref(self, team_id: str, train_id: Any) -> str:
        """A train id from a body: required, and naming a train of this team (else 400)."""
        train_id = text({"train_id": train_id}, "train_id", required=True)
        assert train_id is not None
        if key(team_id, train_id) not in self.trains:
            raise BadRequest(f"train_id {train_id} does not name a train of this team")
        return train_id

    def _fleet_ref(self, team_id: str, fleet_id: Any) -> str:
        fleet_id = text({"fleet_id": fleet_id}, "fleet_id", required=True)
        assert fleet_id is not None
        if key(team_id, fleet_id) not in self.fleets:
            raise BadRequest(f"fleet_id {fleet_id} does not name a fleet of this team")
        return fleet_id

    def _fleet_build_ref(self, team_id: str, build_id: Any, train_id: str) -> Optional[str]:
        """A fleet's ``build_id``: null/"" (auto-update) or a build of the fleet's train."""
        build_id = text({"build_id": build_id}, "build_id")
        if not build_id:
            return None
        build = self.builds.get(key(team_id, build_id))
        if build is None:
            raise BadRequest(f"build_id {build_id} does not name a build of this team")
        if build["train_id"] != train_id:
            raise BadRequest(f"build {build_id} belongs to train {build['train_id']}, "
                             f"not to the fleet's train {train_id}")
        if build["status"] == "failed":
            raise BadRequest(f"build {build_id} failed its upload and cannot be deployed")
        return build_id

    def authenticate(self, team_id: str, authorization: Optional[str]) -> dict[str, Any]:
        """The session behind an ``Authorization`` header for ``team_id`` (or a 401)."""
        return auth.authenticate(self.sessions, team_id, authorization)

    require = staticmethod(auth.require)

