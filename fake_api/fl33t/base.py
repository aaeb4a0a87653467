"""Shared ground of the fl33t backend: its tables, table keys, lookups and references.

Every record is a plain JSON dict in a store table keyed ``"<team_id>/<id>"`` (sessions by
token), so teams never see each other and snapshots carry everything. Records hold more than the
client sees (``team_id``, blob ids, rollout counters); :mod:`.views` cuts them down to exactly the
client's field set.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from ..core.errors import Conflict
from ..core.index import Indexes, Rows, TableIndex
from . import auth, checkin
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
        self.indexes = _make_indexes(self)
        #: (team_id, train_id, unreleased) -> key of the newest eligible build (or None): the
        #: auto-update target, dropped whenever a build of that train changes.
        self._newest: dict[tuple[str, str, bool], Optional[str]] = {}

    # -- indexes: keys only, derived from the tables ------------------------------------------

    def after_reset(self) -> None:
        self.indexes.clear_all()
        self._newest.clear()

    def after_restore(self) -> None:
        self.indexes.rebuild_all()
        self._newest.clear()

    def _put(self, table: Any, table_key: str, record: dict) -> None:
        """Store a new record (every insert goes through here, so the indexes follow)."""
        self.indexes.put(table, table_key, record)
        self._touched(table, record)

    def _changed(self, table: Any, table_key: str, record: dict) -> None:
        """A record was changed in place: regroup it."""
        self.indexes.changed(table, table_key, record)
        self._touched(table, record)

    def _drop(self, table: Any, table_key: str) -> None:
        self._touched(table, self.indexes.drop(table, table_key))

    def _touched(self, table: dict, record: dict) -> None:
        if table is self.builds:
            for unreleased in (False, True):
                self._newest.pop((record["team_id"], record["train_id"], unreleased), None)

    def index_problems(self) -> list[str]:
        """Where an index or the newest-build cache disagrees with a scan (tests call this)."""
        found = self.indexes.problems()
        for (team_id, train_id, unreleased), cached in list(self._newest.items()):
            builds = [b for b in self.builds.values()
                      if b["team_id"] == team_id and b["train_id"] == train_id]
            target = checkin.target_build({"unreleased": unreleased}, builds, None)
            expected = key(team_id, target["build_id"]) if target else None
            if cached != expected:
                found.append(f"newest build of {team_id}/{train_id} (unreleased={unreleased}): "
                             f"cached {cached}, scan gives {expected}")
        return found

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

    def _of_team(self, table: Mapping[str, dict], team_id: str, **match: Any) -> Sequence[dict]:
        """A team's records of ``table`` (in table order) whose fields equal every non-None
        ``match`` value: the smallest index group that answers, filtered by the rest."""
        index: TableIndex = self.indexes[table.name]  # type: ignore[attr-defined]
        match = {k: v for k, v in match.items() if v is not None}
        groups = [(index.count(k, (team_id, v)), k) for k, v in match.items() if k in index.groupings]
        if not groups:
            rows = Rows(index, "team", team_id)
        else:
            _, name = min(groups)
            rows = Rows(index, name, (team_id, match.pop(name)))
        if not match:
            return rows
        return [r for r in rows if all(r.get(k) == v for k, v in match.items())]

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



def _team(record: dict) -> str:
    return record["team_id"]


def _by(field: str) -> Any:
    """Group by ``(team_id, record[field])``; records without the field are left out."""
    def bucket(record: dict) -> Optional[tuple[str, str]]:
        value = record.get(field)
        return None if value is None else (record["team_id"], value)
    return bucket


def _make_indexes(b: BackendBase) -> Indexes:
    """The groupings ``_of_team`` can answer from: by team, and by the fields lists filter on.
    Sessions are grouped by team only when they are not a device's own session."""
    return Indexes({
        b.sessions.name: TableIndex(
            b.sessions, team=lambda s: s["team_id"] if s.get("device_id") is None else None),
        b.trains.name: TableIndex(b.trains, team=_team),
        b.builds.name: TableIndex(b.builds, team=_team, train_id=_by("train_id")),
        b.fleets.name: TableIndex(b.fleets, team=_team, train_id=_by("train_id"),
                                  build_id=_by("build_id")),
        b.devices.name: TableIndex(b.devices, team=_team, fleet_id=_by("fleet_id"),
                                   build_id=_by("build_id")),
    })
