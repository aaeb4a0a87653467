"""Fleets and their devices: provisioning, the check-in, fleet size and rollout reporting."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ..core.errors import Conflict
from . import auth, checkin, views
from .base import SYSTEM, BackendBase, key, paged
from .errors import BadRequest, InUse
from .fields import envelope, flag, identifier, text

#: Bulk provisioning takes at most this many devices per request (fl33t-provision batches 1000).
BULK_LIMIT = 1000


class FleetRules(BackendBase):
    """Fleets, devices and check-ins. ``build_view`` comes from the build rules and
    ``create_session`` from the backend (a device gets its own session)."""

    build_view: Any
    create_session: Any

    def _device_view(self, actor: dict, record: dict) -> dict:
        return views.device(record, show_token=bool(auth.privileges(actor) & auth.TOKEN_READERS))

    def list_devices(self, actor: dict, team_id: str, args: Mapping[str, str]) -> dict:
        self.require(actor, "device.read")
        rows = self._of_team(self.devices, team_id, fleet_id=args.get("fleet_id") or None,
                             build_id=args.get("build_id") or None)
        return paged(rows, args, "device", lambda d: self._device_view(actor, d))

    def get_device(self, actor: dict, team_id: str, device_id: str) -> dict:
        self.require(actor, "device.read")
        record = self._find(self.devices, team_id, device_id, "device")
        return {"device": self._device_view(actor, record)}

    def _new_device(self, team_id: str, data: Any, token: Optional[str] = None) -> dict:
        """Validate one device body; the record is not stored yet (bulk creation is atomic)."""
        if not isinstance(data, dict):
            raise BadRequest("each device must be an object")
        return {
            "team_id": team_id,
            "device_id": identifier(data.get("device_id"), "device_id"),
            "fleet_id": self._fleet_ref(team_id, data.get("fleet_id")),
            "name": text(data, "name") or "",
            "build_id": None,
            "checkin_tstamp": None,
            "session_token": token,
            "checkins": 0,
            "created": self.clock.isoformat(),
        }

    def _store_device(self, record: dict) -> dict:
        """Store a validated device and issue its own device session."""
        team_id = record["team_id"]
        session = self.create_session(
            SYSTEM, team_id,
            {"session": {"name": record["name"] or record["device_id"], "type": "device",
                         "device": True}},
            token=record["session_token"], device_id=record["device_id"])
        record["session_token"] = session["session"]["session_token"]
        self._put(self.devices, key(team_id, record["device_id"]), record)
        self._count(record, +1)
        return record

    def create_device(self, actor: dict, team_id: str, body: Any,
                      token: Optional[str] = None) -> dict:
        """The client picks ``device_id`` (409 when taken); the server issues a device token."""
        self.require(actor, "device.create")
        record = self._new_device(team_id, envelope(body, "device"), token)
        if key(team_id, record["device_id"]) in self.devices:
            raise Conflict(f"device {record['device_id']} already exists")
        self._store_device(record)
        return {"device": self._device_view(actor, record)}

    def create_devices(self, actor: dict, team_id: str, body: Any) -> dict:
        """Bulk provisioning (``POST /devices``): all or nothing, at most 1000 per request."""
        self.require(actor, "device.create")
        items = body.get("devices") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise BadRequest('the request body must be {"devices": [{...}, ...]} (at least one)')
        if len(items) > BULK_LIMIT:
            raise BadRequest(f"at most {BULK_LIMIT} devices per request, got {len(items)}")
        records, seen = [], set()
        for index, item in enumerate(items):
            try:
                record = self._new_device(team_id, item)
            except BadRequest as exc:
                raise BadRequest(f"devices[{index}]: {exc.message}") from None
            device_id = record["device_id"]
            if device_id in seen or key(team_id, device_id) in self.devices:
                raise Conflict(f"devices[{index}]: device {device_id} already exists",
                               device_id=device_id)
            seen.add(device_id)
            records.append(record)
        for record in records:
            self._store_device(record)
        return {"devices": [self._device_view(actor, r) for r in records]}

    def update_device(self, actor: dict, team_id: str, device_id: str, body: Any) -> None:
        """``name`` and ``fleet_id`` change; the id, token and check-in facts are read-only."""
        self.require(actor, "device.write")
        record = self._find(self.devices, team_id, device_id, "device")
        data = envelope(body, "device")
        changes: dict[str, Any] = {}
        if "name" in data:
            changes["name"] = text(data, "name") or ""
        if "fleet_id" in data:
            changes["fleet_id"] = self._fleet_ref(team_id, data.get("fleet_id"))
        self._count(record, -1)
        record.update(changes)
        self._count(record, +1)
        self._changed(self.devices, key(team_id, device_id), record)

    def delete_device(self, actor: dict, team_id: str, device_id: str) -> None:
        """Also revokes the device's session."""
        self.require(actor, "device.write")
        record = self._find(self.devices, team_id, device_id, "device")
        session = self.sessions.get(record.get("session_token") or "")
        if session is not None and session.get("device_id") == device_id:
            self._drop(self.sessions, record["session_token"])
        self._count(record, -1)
        self._drop(self.devices, key(team_id, device_id))

    def checkin(self, actor: dict, team_id: str, device_id: str, body: Any,
                base_url: str) -> Optional[dict]:
        """Record the check-in; return ``{"build": ...}`` if a build is due, else None (204)."""
        self.require(actor, "device.checkin", device_id=device_id)
        record = self._find(self.devices, team_id, device_id, "device")
        data = body.get("checkin", {}) if isinstance(body, dict) else body
        if not isinstance(data, dict):
            raise BadRequest('the request body must be {"checkin": {}} or '
                             '{"checkin": {"build_id": "<installed build id>"}}')
        installed = text(data, "build_id") or None
        self._count(record, -1)
        if installed is not None and installed != record["build_id"]:
            record["build_id"] = installed
            self._changed(self.devices, key(team_id, device_id), record)
        record["checkin_tstamp"] = self.clock.isoformat()
        record["checkins"] = record.get("checkins", 0) + 1
        self._count(record, +1)
        fleet = self.fleets.get(key(team_id, record["fleet_id"]))
        target = self._target(fleet) if fleet is not None else None
        if not checkin.is_due(target, installed):
            return None
        assert target is not None and fleet is not None
        if not fleet.get("build_id") and installed is not None and not checkin.moves_forward(
                target, self.builds.get(key(team_id, installed))):
            return None
        return {"build": self.build_view(target, base_url, actor)}

    # -- fleets ------------------------------------------------------------------------------

    def list_fleets(self, actor: dict, team_id: str, args: Mapping[str, str]) -> dict:
        self.require(actor, "fleet.read")
        rows = self._of_team(self.fleets, team_id, train_id=args.get("train_id") or None)
        return paged(rows, args, "fleet", views.fleet)

    def get_fleet(self, actor: dict, team_id: str, fleet_id: str) -> dict:
        self.require(actor, "fleet.read")
        return {"fleet": views.fleet(self._find(self.fleets, team_id, fleet_id, "fleet"))}

    def create_fleet(self, actor: dict, team_id: str, body: Any,
                     fleet_id: Optional[str] = None) -> dict:
        """``train_id`` is required; ``unreleased`` defaults to false, as fl33t's model docs
        say ("*default: false*"; the Python client's own model default of true never reaches
        the server, since the client always sends the field)."""
        self.require(actor, "fleet.write")
        data = envelope(body, "fleet")
        train_id = self._train_ref(team_id, data.get("train_id"))
        record = {
            "team_id": team_id,
            "train_id": train_id,
            "name": text(data, "name") or "",
            "build_id": self._fleet_build_ref(team_id, data.get("build_id"), train_id),
            "unreleased": bool(flag(data, "unreleased")),
            "size": 0,
            "report": {"checked_in": 0, "builds": {}},
            "created": self.clock.isoformat(),
        }
        record["fleet_id"] = self._new_id(self.fleets, team_id, "fl33t.fleet", fleet_id)
        self._put(self.fleets, key(team_id, record["fleet_id"]), record)
        return {"fleet": views.fleet(record)}

    def update_fleet(self, actor: dict, team_id: str, fleet_id: str, body: Any) -> None:
        """``name``, ``train_id``, ``build_id`` (pin, or null to auto-update) and ``unreleased``."""
        self.require(actor, "fleet.write")
        record = self._find(self.fleets, team_id, fleet_id, "fleet")
        data = envelope(body, "fleet")
        changes: dict[str, Any] = {}
        if "name" in data:
            changes["name"] = text(data, "name") or ""
        train_id = record["train_id"]
        if "train_id" in data:
            train_id = changes["train_id"] = self._train_ref(team_id, data.get("train_id"))
        build_id = text(data, "build_id") or None if "build_id" in data else record["build_id"]
        if build_id != record["build_id"] or train_id != record["train_id"]:
            changes["build_id"] = self._fleet_build_ref(team_id, build_id, train_id)
        if "unreleased" in data:
            changes["unreleased"] = bool(flag(data, "unreleased"))
        record.update(changes)
        self._changed(self.fleets, key(team_id, fleet_id), record)

    def delete_fleet(self, actor: dict, team_id: str, fleet_id: str) -> None:
        """Refused (409) while devices belong to the fleet."""
        self.require(actor, "fleet.write")
        self._find(self.fleets, team_id, fleet_id, "fleet")
        count = len(self._of_team(self.devices, team_id, fleet_id=fleet_id))
        if count:
            raise InUse(f"fleet {fleet_id} still has {count} device(s); move or delete them first")
        self._drop(self.fleets, key(team_id, fleet_id))

    def _count(self, device: dict, sign: int) -> None:
        """Add (``+1``) or remove (``-1``) a device's share of its fleet's ``size`` and rollout
        report. Called around every change to a device, so check-ins cost O(1) however large
        the fleet."""
        fleet = self.fleets.get(key(device["team_id"], device["fleet_id"]))
        if fleet is None:
            return
        fleet["size"] = fleet.get("size", 0) + sign
        if device.get("checkin_tstamp"):
            report = fleet.setdefault("report", {"checked_in": 0, "builds": {}})
            report["checked_in"] += sign
            build = device.get("build_id") or ""
            left = report["builds"].get(build, 0) + sign
            if left:
                report["builds"][build] = left
            else:
                report["builds"].pop(build, None)

    def rollout(self, team_id: str, fleet_id: str) -> dict[str, Any]:
        """Rollout reporting for a fleet: target build, and what its devices last reported."""
        fleet = self._find(self.fleets, team_id, fleet_id, "fleet")
        target = self._target(fleet)
        report = fleet.get("report") or {"checked_in": 0, "builds": {}}
        target_id = target["build_id"] if target else None
        return {
            "fleet_id": fleet_id,
            "size": fleet["size"],
            "target_build_id": target_id,
            "checked_in": report["checked_in"],
            "on_target": report["builds"].get(target_id, 0) if target_id else 0,
            "builds": dict(report["builds"]),
        }

    def _target(self, fleet: dict) -> Optional[dict]:
        """The fleet's target build; an auto-updating fleet's comes from the newest-build cache,
        so a check-in does not look at every build of the train."""
        team_id = fleet["team_id"]
        if fleet.get("build_id"):
            pinned = self.builds.get(key(team_id, fleet["build_id"]))
            return checkin.target_build(fleet, [], pinned)
        cache_key = (team_id, fleet["train_id"], bool(fleet.get("unreleased")))
        if cache_key in self._newest:
            found = self._newest[cache_key]
            return None if found is None else self.builds[found]
        train_builds = self._of_team(self.builds, team_id, train_id=fleet["train_id"])
        target = checkin.target_build(fleet, list(train_builds), None)
        self._newest[cache_key] = None if target is None else key(team_id, target["build_id"])
        return target
