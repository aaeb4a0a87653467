"""fl33t state and rules: teams, sessions, trains, builds, fleets, devices and the check-in.

Every record is a plain JSON dict in a store table keyed ``"<team_id>/<id>"`` (sessions by
token), so teams never see each other and snapshots carry everything. Records hold more than the
client sees (``team_id``, blob ids, rollout counters); the ``*_view`` functions in
:mod:`.views` cut them down to exactly the client's field set, because the client refuses
objects with unknown keys. Every public method takes the acting session first and checks the
privilege matrix itself (:mod:`.auth`), so no endpoint can forget it.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional
from urllib.parse import quote

from ..core.blobs import UrlRefused
from ..core.errors import Conflict, Forbidden, NotFound
from . import auth, checkin, views
from .errors import BadRequest, InUse, InvalidId
from .fields import envelope, flag, identifier, page, text

#: Lifetimes of the signed URLs. fl33t documents 3 minutes for ``download_url``; the upload URL's
#: lifetime is not documented (an hour is a guess, long enough for a slow firmware upload).
DOWNLOAD_TTL = 180
UPLOAD_TTL = 3600
#: Bulk provisioning takes at most this many devices per request (fl33t-provision batches 1000).
BULK_LIMIT = 1000

#: The actor the seeding helpers use: an admin of every team.
SYSTEM: dict[str, Any] = {"admin": True, "session_token": None, "team_id": None}


def key(team_id: str, obj_id: str) -> str:
    """Table key of a team-scoped record."""
    return f"{team_id}/{obj_id}"


def _paged(records: list[dict], args: Mapping[str, str], model: str, view: Any) -> dict:
    """The fl33t list envelope: ``{"<model>s": [...], "<model>_count": total}``."""
    offset, limit = page(args)
    return {f"{model}s": [view(r) for r in records[offset:offset + limit]],
            f"{model}_count": len(records)}


class Fl33tBackend:
    """All fl33t state of one fake cloud, and the rules that change it."""

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
        rows = [s for s in self._of_team(self.sessions, team_id) if s.get("device_id") is None]
        return _paged(rows, args, "session", views.session)

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
            "session_token": self._new_token("fl33t.device_session" if device_id
                                             else "fl33t.session", token),
            "name": text(data, "name") or "",
            "type": kind,
        }
        for priv in auth.PRIVILEGES:
            record[priv] = bool(flag(data, priv))
        record["device_id"] = device_id
        record["created"] = self.clock.isoformat()
        self.sessions[record["session_token"]] = record
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

    def delete_session(self, actor: dict, team_id: str, token: str) -> None:
        """Revokes the token at once (a device's token too: the device can no longer check in)."""
        self.require(actor, "session.write")
        session = self.sessions.get(token)
        if session is None or session["team_id"] != team_id:
            raise InvalidId("session", token)
        del self.sessions[token]

    # -- trains ------------------------------------------------------------------------------

    def list_trains(self, actor: dict, team_id: str, args: Mapping[str, str]) -> dict:
        self.require(actor, "train.read")
        rows = self._of_team(self.trains, team_id, name=args.get("name") or None)
        return _paged(rows, args, "train", lambda t: views.train(t, self._builds_of(t)))

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
            "train_id": self._new_id(self.trains, team_id, "fl33t.train", train_id),
            "name": text(data, "name") or "",
            "created": self.clock.isoformat(),
        }
        self.trains[key(team_id, record["train_id"])] = record
        return {"train": views.train(record, [])}

    def update_train(self, actor: dict, team_id: str, train_id: str, body: Any) -> None:
        self.require(actor, "train.write")
        record = self._find(self.trains, team_id, train_id, "train")
        data = envelope(body, "train")
        if "name" in data:
            record["name"] = text(data, "name") or ""

    def delete_train(self, actor: dict, team_id: str, train_id: str) -> None:
        """Refused (409) while fleets or builds still belong to the train: no dangling ids."""
        self.require(actor, "train.write")
        self._find(self.trains, team_id, train_id, "train")
        fleets = self._of_team(self.fleets, team_id, train_id=train_id)
        builds = self._of_team(self.builds, team_id, train_id=train_id)
        if fleets or builds:
            raise InUse(f"train {train_id} still has {len(fleets)} fleet(s) and {len(builds)} "
                        "build(s); delete them first")
        del self.trains[key(team_id, train_id)]

    def _builds_of(self, train: dict) -> list[dict]:
        return self._of_team(self.builds, train["team_id"], train_id=train["train_id"])

    # -- builds ------------------------------------------------------------------------------

    def _upload_path(self, team_id: str, build_id: str) -> str:
        return f"/team/{team_id}/build/{build_id}/upload"

    def _download_path(self, team_id: str, build_id: str) -> str:
        return f"/team/{team_id}/build/{build_id}/download"

    def _signed(self, base_url: str, path: str, ttl: float, method: str) -> str:
        """An absolute signed URL (the signature covers the unquoted path)."""
        return f"{base_url.rstrip('/')}{quote(path)}?{self.blobs.sign(path, ttl, method)}"

    def build_view(self, record: dict, base_url: str) -> dict:
        """The client's Build, with fresh signed URLs: ``download_url`` once the file is there,
        ``upload_url`` until it is."""
        team_id, build_id = record["team_id"], record["build_id"]
        download = upload = None
        if record["status"] == "available":
            download = self._signed(base_url, self._download_path(team_id, build_id),
                                    DOWNLOAD_TTL, "GET")
        elif record["status"] == "created":
            upload = self._signed(base_url, self._upload_path(team_id, build_id),
                                  UPLOAD_TTL, "PUT")
        return views.build(record, download, upload)

    def list_builds(self, actor: dict, team_id: str, args: Mapping[str, str],
                    base_url: str) -> dict:
        self.require(actor, "build.read")
        rows = self._of_team(self.builds, team_id, train_id=args.get("train_id") or None,
                             version=args.get("version") or None)
        return _paged(rows, args, "build", lambda b: self.build_view(b, base_url))

    def get_build(self, actor: dict, team_id: str, build_id: str, base_url: str) -> dict:
        self.require(actor, "build.read")
        return {"build": self.build_view(self._find(self.builds, team_id, build_id, "build"),
                                         base_url)}

    def create_build(self, actor: dict, team_id: str, body: Any, base_url: str,
                     build_id: Optional[str] = None) -> dict:
        """A build record waiting for its file: status ``created`` and a signed ``upload_url``."""
        self.require(actor, "build.create")
        data = envelope(body, "build")
        md5sum = text(data, "md5sum")
        if md5sum and (len(md5sum) != 32 or any(c not in "0123456789abcdefABCDEF" for c in md5sum)):
            raise BadRequest("'md5sum' must be 32 hexadecimal digits (or null)")
        train_id = self._train_ref(team_id, data.get("train_id"))
        record = {
            "team_id": team_id,
            "build_id": self._new_id(self.builds, team_id, "fl33t.build", build_id),
            "train_id": train_id,
            "version": text(data, "version", required=True),
            "released": bool(flag(data, "released")),
            "status": "created",
            "filename": text(data, "filename") or None,
            "md5sum": md5sum.lower() if md5sum else None,
            "size": None,
            "upload_tstamp": None,
            "blob_id": None,
            "created": self.clock.isoformat(),
        }
        self.builds[key(team_id, record["build_id"])] = record
        return {"build": self.build_view(record, base_url)}

    def update_build(self, actor: dict, team_id: str, build_id: str, body: Any) -> None:
        """``version`` and ``released`` change; the file's facts and the train are read-only."""
        self.require(actor, "build.write")
        record = self._find(self.builds, team_id, build_id, "build")
        data = envelope(body, "build")
        changes: dict[str, Any] = {}
        if "version" in data:
            changes["version"] = text(data, "version", required=True)
        if "released" in data:
            changes["released"] = bool(flag(data, "released"))
        record.update(changes)

    def delete_build(self, actor: dict, team_id: str, build_id: str) -> None:
        """Refused (409) while a fleet is pinned to the build."""
        self.require(actor, "build.write")
        record = self._find(self.builds, team_id, build_id, "build")
        pinned = self._of_team(self.fleets, team_id, build_id=build_id)
        if pinned:
            names = ", ".join(f["fleet_id"] for f in pinned)
            raise InUse(f"build {build_id} is the build of fleet(s) {names}; unassign it first")
        if record.get("blob_id"):
            self.blobs.delete(record["blob_id"])
        del self.builds[key(team_id, build_id)]

    def receive_upload(self, team_id: str, build_id: str, args: Mapping[str, str], data: bytes,
                       filename: Optional[str]) -> dict:
        """The file PUT to a build's ``upload_url`` (no auth: the URL is the credential).

        The upload is always accepted when the URL is valid (exactly 200, as the client needs);
        a declared ``md5sum`` that the bytes do not match marks the build ``failed`` instead of
        ``available``, as an asynchronous integrity check would.
        """
        self._verify(self._upload_path(team_id, build_id), args, "PUT")
        record = self._find(self.builds, team_id, build_id, "build")
        if record["status"] != "created":
            raise Conflict(f"build {build_id} was already uploaded (status {record['status']})")
        name = filename or record.get("filename") or f"{build_id}.bin"
        blob = self.blobs.put(data, filename=name)
        declared = record.get("md5sum")
        record.update({
            "blob_id": blob["id"],
            "filename": name,
            "size": blob["size"],
            "md5sum": declared or blob["md5"],
            "actual_md5": blob["md5"],
            "upload_tstamp": self.clock.isoformat(),
            "status": "failed" if declared and declared != blob["md5"] else "available",
        })
        return record

    def download(self, team_id: str, build_id: str, args: Mapping[str, str]) -> dict:
        """The file behind a signed ``download_url``: ``{"data", "filename", "md5"}``."""
        self._verify(self._download_path(team_id, build_id), args, "GET")
        record = self._find(self.builds, team_id, build_id, "build")
        data = self.blobs.data(record["blob_id"]) if record.get("blob_id") else None
        if record["status"] != "available" or data is None:
            raise NotFound(f"build {build_id} has no downloadable file")
        return {"data": data, "filename": record["filename"], "md5": record["actual_md5"]}

    def _verify(self, path: str, args: Mapping[str, str], method: str) -> None:
        try:
            self.blobs.verify(path, args, method)
        except UrlRefused as exc:
            raise Forbidden(f"{exc.message} ({exc.reason})", reason=exc.reason) from None

    # -- fleets ------------------------------------------------------------------------------

    def list_fleets(self, actor: dict, team_id: str, args: Mapping[str, str]) -> dict:
        self.require(actor, "fleet.read")
        rows = self._of_team(self.fleets, team_id, train_id=args.get("train_id") or None)
        return _paged(rows, args, "fleet", views.fleet)

    def get_fleet(self, actor: dict, team_id: str, fleet_id: str) -> dict:
        self.require(actor, "fleet.read")
        return {"fleet": views.fleet(self._find(self.fleets, team_id, fleet_id, "fleet"))}

    def create_fleet(self, actor: dict, team_id: str, body: Any,
                     fleet_id: Optional[str] = None) -> dict:
        """``train_id`` and ``unreleased`` are required (the docs and the client's model disagree
        on the default of ``unreleased``, and the client always sends it)."""
        self.require(actor, "fleet.write")
        data = envelope(body, "fleet")
        train_id = self._train_ref(team_id, data.get("train_id"))
        if "unreleased" not in data:
            raise BadRequest("'unreleased' is required (true: auto-update to unreleased builds)")
        record = {
            "team_id": team_id,
            "fleet_id": self._new_id(self.fleets, team_id, "fl33t.fleet", fleet_id),
            "train_id": train_id,
            "name": text(data, "name") or "",
            "build_id": self._fleet_build_ref(team_id, data.get("build_id"), train_id),
            "unreleased": bool(flag(data, "unreleased")),
            "size": 0,
            "report": {"checked_in": 0, "builds": {}},
            "created": self.clock.isoformat(),
        }
        self.fleets[key(team_id, record["fleet_id"])] = record
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
        build_id = data.get("build_id") if "build_id" in data else record["build_id"]
        changes["build_id"] = self._fleet_build_ref(team_id, build_id, train_id)
        if "unreleased" in data:
            changes["unreleased"] = bool(flag(data, "unreleased"))
        record.update(changes)

    def delete_fleet(self, actor: dict, team_id: str, fleet_id: str) -> None:
        """Refused (409) while devices belong to the fleet."""
        self.require(actor, "fleet.write")
        self._find(self.fleets, team_id, fleet_id, "fleet")
        count = len(self._of_team(self.devices, team_id, fleet_id=fleet_id))
        if count:
            raise InUse(f"fleet {fleet_id} still has {count} device(s); move or delete them first")
        del self.fleets[key(team_id, fleet_id)]

    def _refresh_fleets(self, team_id: str, fleet_ids: Iterable[Optional[str]]) -> None:
        """Recount ``size`` and the rollout report (builds reported by devices) of fleets."""
        wanted = {f for f in fleet_ids if f}
        counts = {f: {"size": 0, "checked_in": 0, "builds": {}} for f in wanted}
        for device in self.devices.values():
            entry = counts.get(device["fleet_id"]) if device["team_id"] == team_id else None
            if entry is None:
                continue
            entry["size"] += 1
            if device.get("checkin_tstamp"):
                entry["checked_in"] += 1
                build = device.get("build_id") or ""
                entry["builds"][build] = entry["builds"].get(build, 0) + 1
        for fleet_id, entry in counts.items():
            fleet = self.fleets.get(key(team_id, fleet_id))
            if fleet is not None:
                fleet["size"] = entry["size"]
                fleet["report"] = {"checked_in": entry["checked_in"], "builds": entry["builds"]}

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
        team_id = fleet["team_id"]
        pinned = self.builds.get(key(team_id, fleet["build_id"])) if fleet.get("build_id") else None
        train_builds = self._of_team(self.builds, team_id, train_id=fleet["train_id"])
        return checkin.target_build(fleet, train_builds, pinned)

    # -- devices -----------------------------------------------------------------------------

    def _device_view(self, actor: dict, record: dict) -> dict:
        return views.device(record, show_token=bool(auth.privileges(actor) & auth.TOKEN_READERS))

    def list_devices(self, actor: dict, team_id: str, args: Mapping[str, str]) -> dict:
        self.require(actor, "device.read")
        rows = self._of_team(self.devices, team_id, fleet_id=args.get("fleet_id") or None,
                             build_id=args.get("build_id") or None)
        return _paged(rows, args, "device", lambda d: self._device_view(actor, d))

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
        self.devices[key(team_id, record["device_id"])] = record
        return record

    def create_device(self, actor: dict, team_id: str, body: Any,
                      token: Optional[str] = None) -> dict:
        """The client picks ``device_id`` (409 when taken); the server issues a device token."""
        self.require(actor, "device.create")
        record = self._new_device(team_id, envelope(body, "device"), token)
        if key(team_id, record["device_id"]) in self.devices:
            raise Conflict(f"device {record['device_id']} already exists")
        self._store_device(record)
        self._refresh_fleets(team_id, [record["fleet_id"]])
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
        self._refresh_fleets(team_id, {r["fleet_id"] for r in records})
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
        old_fleet = record["fleet_id"]
        record.update(changes)
        self._refresh_fleets(team_id, [old_fleet, record["fleet_id"]])

    def delete_device(self, actor: dict, team_id: str, device_id: str) -> None:
        """Also revokes the device's session."""
        self.require(actor, "device.write")
        record = self._find(self.devices, team_id, device_id, "device")
        session = self.sessions.get(record.get("session_token") or "")
        if session is not None and session.get("device_id") == device_id:
            del self.sessions[record["session_token"]]
        del self.devices[key(team_id, device_id)]
        self._refresh_fleets(team_id, [record["fleet_id"]])

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
        if installed is not None:
            record["build_id"] = installed
        record["checkin_tstamp"] = self.clock.isoformat()
        record["checkins"] = record.get("checkins", 0) + 1
        self._refresh_fleets(team_id, [record["fleet_id"]])
        fleet = self.fleets.get(key(team_id, record["fleet_id"]))
        target = self._target(fleet) if fleet is not None else None
        if not checkin.is_due(target, installed):
            return None
        assert target is not None
        return {"build": self.build_view(target, base_url)}
