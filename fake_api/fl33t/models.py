"""fl33t state and rules: the backend the routes call, and teams, sessions and trains.

The backend is assembled from its parts: :mod:`.base` (tables, lookups), :mod:`.builds` (builds
and their signed files), :mod:`.fleets` (fleets, devices, check-in) and this module. Every
public method takes the acting session first and checks the privilege matrix itself
(:mod:`.auth`), so no endpoint can forget it. Nothing here imports Flask.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ..core.errors import Conflict
from . import auth, views
from .base import SYSTEM, key, paged
from .builds import DOWNLOAD_TTL, UPLOAD_TTL, BuildRules
from .errors import BadRequest, InUse, InvalidId
from .fields import envelope, flag, identifier, text
from .fleets import BULK_LIMIT, FleetRules

__all__ = ["BULK_LIMIT", "DOWNLOAD_TTL", "SYSTEM", "UPLOAD_TTL", "Fl33tBackend", "key"]


class Fl33tBackend(FleetRules, BuildRules):
    """All fl33t state of one fake cloud, and the rules that change it."""

    # -- teams (seeding only: the client has no team endpoints) ----------------------------

    def create_team(self, team_id: Optional[str] = None, name: Optional[str] = None) -> dict:
        """A new team; ids come from the seed unless given."""
        team_id = identifier(team_id, "team_id") if team_id is not None else \
            self.ids.alnum("fl33t.team", 8)
        if team_id in self.teams:
            raise Conflict(f"team {team_id} already exists")
        record = {"team_id": team_id, "name": name or team_id, "created": self.clock.isoformat()}
        self.teams[team_id] = record
        return record

    # -- sessions ----------------------------------------------------------------------------

    def list_sessions(self, actor: dict, team_id: str, args: Mapping[str, str]) -> dict:
        """API and account sessions; device sessions live with their devices and are not listed."""
        self.require(actor, "session.read")
        rows = self._of_team(self.sessions, team_id)  # (device sessions are not indexed)
        return paged(rows, args, "session", views.session)

    def get_session(self, actor: dict, team_id: str, token: str) -> dict:
        """Any token may read its own session (``get_own_session``); others need admin."""
        if actor.get("session_token") != token:
            self.require(actor, "session.read")
        session = self.sessions.get(token)
        if session is None or session["team_id"] != team_id:
            raise InvalidId("session", token)
        return {"session": views.session(session)}

    def create_session(self, actor: dict, team_id: str, body: Any,
                       token: Optional[str] = None, device_id: Optional[str] = None) -> dict:
        self.require(actor, "session.write")
        data = envelope(body, "session")
        kind = text(data, "type") or ("device" if device_id else "api")
        if kind not in auth.SESSION_TYPES:
            raise BadRequest(f"'type' must be one of {', '.join(auth.SESSION_TYPES)}")
        record: dict[str, Any] = {
            "team_id": team_id,
            "name": text(data, "name") or "",
            "type": kind,
        }
        for priv in auth.PRIVILEGES:
            record[priv] = bool(flag(data, priv))
        record["device_id"] = device_id
        record["created"] = self.clock.isoformat()
        record["session_token"] = self._new_token(
            "fl33t.device_session" if device_id else "fl33t.session", token)
        self._put(self.sessions, record["session_token"], record)
        return {"session": views.session(record)}

    def update_session(self, actor: dict, team_id: str, token: str, body: Any) -> None:
        """Name and privileges change; ``type`` and the token are read-only."""
        self.require(actor, "session.write")
        session = self.sessions.get(token)
        if session is None or session["team_id"] != team_id:
            raise InvalidId("session", token)
        data = envelope(body, "session")
        changes: dict[str, Any] = {}
        if "name" in data:
            changes["name"] = text(data, "name") or ""
        for priv in auth.PRIVILEGES:
            if priv in data:
                changes[priv] = bool(flag(data, priv))
        session.update(changes)
        self._changed(self.sessions, token, session)

    def delete_session(self, actor: dict, team_id: str, token: str) -> None:
        """Revokes the token at once (a device's token too: the device can no longer check in)."""
        self.require(actor, "session.write")
        session = self.sessions.get(token)
        if session is None or session["team_id"] != team_id:
            raise InvalidId("session", token)
        self._drop(self.sessions, token)

    # -- trains ------------------------------------------------------------------------------

    def list_trains(self, actor: dict, team_id: str, args: Mapping[str, str]) -> dict:
        self.require(actor, "train.read")
        rows = self._of_team(self.trains, team_id, name=args.get("name") or None)
        return paged(rows, args, "train", lambda t: views.train(t, self._builds_of(t)))

    def get_train(self, actor: dict, team_id: str, train_id: str) -> dict:
        self.require(actor, "train.read")
        record = self._find(self.trains, team_id, train_id, "train")
        return {"train": views.train(record, self._builds_of(record))}

    def create_train(self, actor: dict, team_id: str, body: Any,
                     train_id: Optional[str] = None) -> dict:
        self.require(actor, "train.create")
        data = envelope(body, "train")
        record = {
            "team_id": team_id,
            "name": text(data, "name") or "",
            "created": self.clock.isoformat(),
        }
        record["train_id"] = self._new_id(self.trains, team_id, "fl33t.train", train_id)
        self._put(self.trains, key(team_id, record["train_id"]), record)
        return {"train": views.train(record, [])}

    def update_train(self, actor: dict, team_id: str, train_id: str, body: Any) -> None:
        self.require(actor, "train.write")
        record = self._find(self.trains, team_id, train_id, "train")
        data = envelope(body, "train")
        if "name" in data:
            record["name"] = text(data, "name") or ""
            self._changed(self.trains, key(team_id, train_id), record)

    def delete_train(self, actor: dict, team_id: str, train_id: str) -> None:
        """Refused (409) while fleets or builds still belong to the train: no dangling ids."""
        self.require(actor, "train.write")
        self._find(self.trains, team_id, train_id, "train")
        fleets = self._of_team(self.fleets, team_id, train_id=train_id)
        builds = self._of_team(self.builds, team_id, train_id=train_id)
        if fleets or builds:
            raise InUse(f"train {train_id} still has {len(fleets)} fleet(s) and {len(builds)} "
                        "build(s); delete them first")
        self._drop(self.trains, key(team_id, train_id))

    def _builds_of(self, train: dict) -> list[dict]:
        return self._of_team(self.builds, train["team_id"], train_id=train["train_id"])
