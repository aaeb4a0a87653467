"""The device side of balena, current state: what a supervisor reports (``PATCH
/device/v2/<uuid>/state``, ``PATCH /device/v3/state``) and the API heartbeat that turns a quiet
device offline. Target state (what it polls) is in :mod:`.target_state`. No Flask here.

Heartbeat (open-balena's device-heartbeat feature, balenaCloud's intervals): every target-state
poll, state report or action pickup with a device key marks the device online (and sets
``last_connectivity_event``); a device that stays quiet longer than its poll interval x 1.5 goes
to ``timeout`` and, 15 s later, offline. The sweep runs when the clock moves and before every
balena request, and costs nothing until a deadline passes. Devices that never use the device API
(seeded or PATCHed online) are left to the backend's own 30-minute rule
(``BalenaBackend.expire_heartbeats``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from .auth import DEVICE, Actor
from .db import format_date
from .errors import bad_request, unauthorized
from .target_state import DEFAULT_POLL_INTERVAL_MS, TargetState

#: open-balena: the longest a supervisor waits between polls is the interval x 1.5 (jitter).
POLL_JITTER_FACTOR = 1.5
#: open-balena API_HEARTBEAT_STATE_TIMEOUT_SECONDS: from ``timeout`` to ``offline``.
HEARTBEAT_TIMEOUT_S = 15
POLL_VARS = ("BALENA_SUPERVISOR_POLL_INTERVAL", "RESIN_SUPERVISOR_POLL_INTERVAL")

#: Device fields a supervisor may report (v2 ``local`` and v3 per-uuid bodies).
REPORTED_FIELDS = (
    "status", "os_version", "os_variant", "supervisor_version", "provisioning_progress",
    "provisioning_state", "ip_address", "mac_address", "download_progress", "memory_usage",
    "memory_total", "storage_block_device", "storage_usage", "storage_total", "cpu_temp",
    "cpu_usage", "cpu_id", "is_undervolted", "update_status", "public_address",
)
#: v3 ``update_status`` precedence: the lowest wins when releases disagree.
UPDATE_STATUS_ORDER = ("rejected", "aborted", "downloading", "downloaded", "applying changes",
                       "done")
_NEXT = "_next"  # the heartbeat table's own key: the earliest deadline (None = nothing tracked)


class DeviceState(TargetState):
    """Target and current state of every device, and its online/offline heartbeat."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.db = backend.db
        self.clock = backend.clock
        self.lock = backend.lock
        # str(device id) -> {"state": "online"|"timeout", "due": unix seconds}; plus _NEXT
        self._beats = backend.cloud.store.table("balena._heartbeat")
        self.clock.on_change(lambda _now: self.sweep())

    # -- access -----------------------------------------------------------------------------------

    def device_for(self, actor: Optional[Actor], uuid: str, *, write: bool = False) -> dict:
        """The device ``uuid`` if ``actor`` may see it (and change it with ``write``), else 401
        (open-balena answers 401, not 404, to a state request for a device it cannot see)."""
        if actor is None:
            raise unauthorized()
        found = self.db.find("device", uuid=uuid)
        if not found:
            raise unauthorized()
        device = found[0]
        perms = self.backend.permissions
        visible = perms.read_filter("device", actor)
        if visible is not None and not visible(device):
            raise unauthorized()
        if write and not perms.can_write(actor, "device", device):
            raise unauthorized()
        return device

    # -- heartbeat --------------------------------------------------------------------------------

    def poll_interval_ms(self, device: dict) -> int:
        """The device's poll interval: its config var, else its fleet's, never below the default."""
        value = None
        for resource, parent, key in (("device_config_variable", "device", device["id"]),
                                      ("application_config_variable", "application",
                                       device.get("belongs_to__application"))):
            rows = {r["name"]: r["value"] for r in self.db.children(resource, parent, key)
                    if r["name"] in POLL_VARS}
            if rows:
                value = rows[max(rows)]  # the name sorted last is the one the supervisor uses
                break
        try:
            given = int(value) if value is not None else 0
        except (TypeError, ValueError):
            given = 0
        return max(given, DEFAULT_POLL_INTERVAL_MS)

    def heartbeat(self, device: dict, actor: Optional[Actor]) -> None:
        """A poll or report by the device itself: online now, offline if it goes quiet."""
        if actor is None or actor.kind != DEVICE:
            return
        now = self.clock.time()
        due = now + self.poll_interval_ms(device) * POLL_JITTER_FACTOR / 1000
        self._beats[str(device["id"])] = {"state": "online", "due": due}
        nxt = self._beats.get(_NEXT)
        if nxt is None or nxt["due"] is None or due < nxt["due"]:
            self._beats[_NEXT] = {"due": due}
        stamp = format_date(self.clock.now())
        # last_connectivity_event is "last heard from" (the backend's own 30-minute sweep of
        # devices that never use the device API reads it too)
        changes: dict[str, Any] = {"last_connectivity_event": stamp}
        if device.get("api_heartbeat_state") != "online":
            changes["api_heartbeat_state"] = "online"
            changes["changed_api_heartbeat_state_on__date"] = stamp
        if not device.get("is_online"):
            changes.update(is_online=True, is_connected_to_vpn=True, last_vpn_event=stamp)
        if any(device.get(k) != v for k, v in changes.items()):
            self.db.update("device", device["id"], changes)

    def sweep(self) -> None:
        """Move quiet devices to ``timeout`` and then offline, as their deadlines pass."""
        nxt = self._beats.get(_NEXT)
        now = self.clock.time()
        if nxt is None or nxt["due"] is None or now < nxt["due"]:
            return
        with self.lock:
            earliest: Optional[float] = None
            for key, beat in list(self._beats.items()):
                if key == _NEXT:
                    continue
                if beat["state"] == "online" and now >= beat["due"]:
                    beat = {"state": "timeout", "due": beat["due"] + HEARTBEAT_TIMEOUT_S}
                    self._beats[key] = beat
                    self._set_offline(int(key), "timeout", beat["due"] - HEARTBEAT_TIMEOUT_S)
                if beat["state"] == "timeout" and now >= beat["due"]:
                    del self._beats[key]
                    self._set_offline(int(key), "offline", beat["due"])
                    continue
                earliest = beat["due"] if earliest is None else min(earliest, beat["due"])
            self._beats[_NEXT] = {"due": earliest}

    def _set_offline(self, device_id: int, state: str, when: float) -> None:
        device = self.db.get("device", device_id)
        if device is None:
            return
        stamp = format_date(datetime.fromtimestamp(when, tz=timezone.utc))
        changes: dict[str, Any] = {"api_heartbeat_state": state,
                                   "changed_api_heartbeat_state_on__date": stamp}
        if state == "offline":
            changes.update(is_online=False, is_connected_to_vpn=False,
                           last_connectivity_event=stamp, last_vpn_event=stamp)
        self.db.update("device", device_id, changes)

    # -- current state ----------------------------------------------------------------------------

    def _device_changes(self, body: dict) -> dict:
        changes = {}
        for name in REPORTED_FIELDS:
            if name in body:
                value = body[name]
                if name == "cpu_id" and isinstance(value, str):
                    if any(not 0x20 <= ord(ch) <= 0x7E for ch in value):
                        continue
                    value = value.lower()
                if name in ("ip_address", "mac_address") and isinstance(value, str):
                    value = value[:255]
                changes[name] = value
        return changes

    def _write(self, device: dict, changes: dict, actor: Optional[Actor]) -> None:
        current = {k: v for k, v in changes.items() if device.get(k) != v}
        if current:
            self.db.update("device", device["id"], current, actor=actor)

    def _upsert_installs(self, device: dict, installs: list[dict]) -> None:
        """image_install rows for what the device reports; those it no longer has: deleted."""
        now = format_date(self.clock.now())
        existing = {row["installs__image"]: row
                    for row in self.db.children("image_install", "device", device["id"])}
        reported = set()
        for item in installs:
            reported.add(item["image"])
            values = {"status": item["status"], "download_progress": item.get("download_progress"),
                      "is_provided_by__release": item["release"]}
            row = existing.get(item["image"])
            if row is None:
                self.db.insert("image_install", {"device": device["id"],
                                                 "installs__image": item["image"],
                                                 "install_date": now, **values})
            elif any(row.get(k) != v for k, v in values.items()):
                self.db.update("image_install", row["id"], values)
        for image_id, row in existing.items():
            if image_id not in reported and row.get("status") != "deleted":
                self.db.update("image_install", row["id"], {"status": "deleted",
                                                            "download_progress": None})

    def report_v2(self, actor: Optional[Actor], uuid: str, body: Any) -> None:
        """``PATCH /device/v2/<uuid>/state`` ``{"local": {...fields, "is_on__commit",
        "apps": {appId: {"services": {imageId: {status, releaseId, download_progress}}}}}}``."""
        if not isinstance(body, dict) or not isinstance(body.get("local", {}), dict):
            raise bad_request("Invalid state body")
        local = body.get("local") or {}
        with self.lock:
            device = self.device_for(actor, uuid, write=True)
            changes = self._device_changes(local)
            app_id = device["belongs_to__application"]
            commit = local.get("is_on__commit")
            if isinstance(commit, str):
                release = self._release_by_commit(app_id, commit)
                if release is not None:
                    changes["is_running__release"] = release["id"]
            apps = local.get("apps")
            installs = None
            if isinstance(apps, dict):
                installs = []
                for app_state in apps.values():
                    services = app_state.get("services") if isinstance(app_state, dict) else None
                    for image_key, svc in (services or {}).items():
                        installs.append(self._install_v2(app_id, image_key, svc))
            self.heartbeat(device, actor)  # only once the whole report is known to be valid
            self._write(device, changes, actor)
            if installs is not None:
                self._upsert_installs(device, installs)

    def _install_v2(self, app_id: int, image_key: Any, svc: Any) -> dict:
        try:
            image_id = int(image_key)
        except (TypeError, ValueError):
            raise bad_request(f"Invalid image id: {image_key}") from None
        if not isinstance(svc, dict) or not isinstance(svc.get("status"), str):
            raise bad_request("Each service needs a status")
        image = self.db.get("image", image_id)
        release = self.db.get("release", svc.get("releaseId"))
        if image is None or release is None or release["belongs_to__application"] != app_id:
            raise unauthorized()
        return {"image": image_id, "release": release["id"], "status": svc["status"],
                "download_progress": _progress(svc.get("download_progress"))}

    def _release_by_commit(self, app_id: int, commit: str) -> Optional[dict]:
        rows = [r for r in self.db.children("release", "belongs_to__application", app_id)
                if r["commit"] == commit]
        return rows[0] if rows else None

    def report_v3(self, actor: Optional[Actor], body: Any) -> None:
        """``PATCH /device/v3/state`` ``{uuid: {...fields, "apps": {appUuid: {"release_uuid",
        "releases": {commit: {"update_status", "services": {name: {image, status,
        download_progress}}}}}}}}``."""
        if not isinstance(body, dict) or not body:
            raise bad_request("Invalid state body")
        with self.lock:
            plans = []
            for uuid, state in body.items():
                if state is None:
                    continue
                if not isinstance(state, dict):
                    raise bad_request("Invalid state body")
                device = self.device_for(actor, uuid, write=True)
                plans.append((device, state, self._plan_v3(device, state)))
            if not plans:
                raise bad_request("Invalid state body")
            for device, _state, (changes, installs) in plans:
                self.heartbeat(device, actor)
                self._write(device, changes, actor)
                if installs is not None:
                    self._upsert_installs(device, installs)

    def _plan_v3(self, device: dict, state: dict) -> tuple[dict, Optional[list]]:
        changes = self._device_changes(state)
        apps = state.get("apps")
        if apps is None:
            return changes, None
        if not isinstance(apps, dict):
            raise bad_request("Invalid state body")
        app = self.db.get("application", device["belongs_to__application"])
        installs: list[dict] = []
        for app_uuid, app_state in apps.items():
            if not isinstance(app_state, dict):
                raise bad_request("Invalid state body")
            owner = self.db.find("application", uuid=app_uuid)
            if not owner:
                raise unauthorized()
            running = app_state.get("release_uuid")
            if app_uuid == app["uuid"] and isinstance(running, str):
                release = self._release_by_commit(app["id"], running)
                if release is None:
                    raise unauthorized()
                changes["is_running__release"] = release["id"]
            for commit, rel_state in (app_state.get("releases") or {}).items():
                release = self._release_by_commit(owner[0]["id"], commit)
                if release is None or not isinstance(rel_state, dict):
                    raise unauthorized()
                status = rel_state.get("update_status")
                if app_uuid == app["uuid"] and status in UPDATE_STATUS_ORDER:
                    old = changes.get("update_status")
                    if old not in UPDATE_STATUS_ORDER or \
                            UPDATE_STATUS_ORDER.index(status) < UPDATE_STATUS_ORDER.index(old):
                        changes["update_status"] = status
                images = {self.image_location(img).split("@", 1)[0]: img
                          for img, _svc in self._images(release)}
                for svc in (rel_state.get("services") or {}).values():
                    if not isinstance(svc, dict) or not isinstance(svc.get("image"), str):
                        raise bad_request("Each service needs an image")
                    image = images.get(svc["image"].split("@", 1)[0].lower())
                    if image is None:
                        raise unauthorized()
                    installs.append({"image": image["id"], "release": release["id"],
                                     "status": str(svc.get("status") or "Unknown"),
                                     "download_progress": _progress(svc.get("download_progress"))})
        return changes, installs

    # -- what the SDK and dashboards read ---------------------------------------------------------

    def supervisor_status(self, device: dict) -> dict:
        """What ``/supervisor/v1/device`` answers: the supervisor's own view of the device."""
        release = self.db.get("release", device.get("is_running__release"))
        target = self.target_release(device)
        installs = [r for r in self.db.children("image_install", "device", device["id"])
                    if r.get("status") != "deleted"]
        progress = [r["download_progress"] for r in installs
                    if r.get("download_progress") is not None]
        pending = target is not None and (release is None or release["id"] != target["id"])
        return {
            "api_port": 48484, "ip_address": device.get("ip_address"),
            "os_version": device.get("os_version"),
            "mac_address": device.get("mac_address"),
            "supervisor_version": device.get("supervisor_version"),
            "update_pending": pending,
            "update_failed": device.get("update_status") in ("rejected", "aborted"),
            "update_downloaded": device.get("update_status") in ("downloaded",
                                                                  "applying changes"),
            "status": device.get("status") or "Idle",
            "commit": release["commit"] if release else None,
            "download_progress": min(progress) if progress else None,
        }


def _progress(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    try:
        return max(0, min(100, int(value)))
    except (TypeError, ValueError):
        raise bad_request(f"Invalid download_progress: {value!r}") from None
