"""The device side of balena: target state (what a supervisor polls), current state (what it
reports) and the API heartbeat that turns a quiet device offline. No Flask here.

Target state is computed from the model on every poll, as open-balena does:

- the release to run is the device's pin, else its fleet's target release, else (a tracking
  fleet with no target yet) the fleet's latest final release;
- each service of that release gets its image location and an environment merged in balena's
  order, later levels winning: fleet env vars < service env vars < device env vars <
  device-service env vars;
- ``config`` is the fleet's config vars overridden by the device's, minus ``*_UI`` vars, plus
  balenaCloud's defaults (native logger on, poll interval at least 15 minutes).

Heartbeat (open-balena's device-heartbeat feature, balenaCloud's intervals): every target-state
poll, state report or action pickup with a device key marks the device online (and sets
``last_connectivity_event``); a device that stays quiet longer than its poll interval x 1.5 goes
to ``timeout`` and, 15 s later, offline. The sweep runs when the clock moves and before every
balena request, and costs nothing until a deadline passes. Devices that never use the device API
(seeded or PATCHed online) are left to the backend's own 30-minute rule
(``BalenaBackend.expire_heartbeats``).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from .auth import DEVICE, USER, Actor
from .db import format_date
from .errors import bad_request, unauthorized

#: balenaCloud's default and minimum supervisor poll interval (ms), as the API sends it.
DEFAULT_POLL_INTERVAL_MS = 900_000
#: open-balena: the longest a supervisor waits between polls is the interval x 1.5 (jitter).
POLL_JITTER_FACTOR = 1.5
#: open-balena API_HEARTBEAT_STATE_TIMEOUT_SECONDS: from ``timeout`` to ``offline``.
HEARTBEAT_TIMEOUT_S = 15
POLL_VARS = ("BALENA_SUPERVISOR_POLL_INTERVAL", "RESIN_SUPERVISOR_POLL_INTERVAL")
#: Config vars mapped to service labels when the release does not set them.
CONFIG_LABELS = {"RESIN_SUPERVISOR_UPDATE_STRATEGY": "io.resin.update.strategy",
                 "RESIN_SUPERVISOR_HANDOVER_TIMEOUT": "io.resin.update.handover-timeout"}
_UI_VAR = re.compile(r"^(BALENA|RESIN)_UI")

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


def _fk(value: Any) -> Any:
    return value.get("__id") if isinstance(value, dict) else value


class DeviceState:
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
        from datetime import datetime, timezone

        stamp = format_date(datetime.fromtimestamp(when, tz=timezone.utc))
        changes: dict[str, Any] = {"api_heartbeat_state": state,
                                   "changed_api_heartbeat_state_on__date": stamp}
        if state == "offline":
            changes.update(is_online=False, is_connected_to_vpn=False,
                           last_connectivity_event=stamp, last_vpn_event=stamp)
        self.db.update("device", device_id, changes)

    # -- target state -----------------------------------------------------------------------------

    def target_release(self, device: dict) -> Optional[dict]:
        """Pin, else the fleet's target, else the latest final release of a tracking fleet."""
        pin = self.db.get("release", device.get("is_pinned_on__release"))
        if pin is not None:
            return pin
        app = self.db.get("application", device.get("belongs_to__application"))
        if app is None:
            return None
        target = self.db.get("release", app.get("should_be_running__release"))
        if target is not None or not app.get("should_track_latest_release"):
            return target
        return self.latest_release(app["id"])

    def latest_release(self, app_id: int) -> Optional[dict]:
        rows = [r for r in self.db.children("release", "belongs_to__application", app_id)
                if r.get("is_final") and r.get("status") == "success"
                and not r.get("is_invalidated")]
        return max(rows, key=lambda r: (r["created_at"] or "", r["id"])) if rows else None

    def config(self, device: Optional[dict], app: dict) -> dict[str, str]:
        """Fleet config vars overridden by the device's, with balenaCloud's defaults."""
        config: dict[str, str] = {}
        for row in self.db.children("application_config_variable", "application", app["id"]):
            if not _UI_VAR.match(row["name"]):
                config[row["name"]] = row["value"]
        if device is not None:
            for row in self.db.children("device_config_variable", "device", device["id"]):
                if not _UI_VAR.match(row["name"]):
                    config[row["name"]] = row["value"]
        config.pop("RESIN_HOST_LOG_TO_DISPLAY", None)
        try:
            poll = int(config.get("RESIN_SUPERVISOR_POLL_INTERVAL") or 0)
        except ValueError:
            poll = 0
        config["RESIN_SUPERVISOR_POLL_INTERVAL"] = str(max(poll, DEFAULT_POLL_INTERVAL_MS))
        config.setdefault("RESIN_SUPERVISOR_NATIVE_LOGGER", "true")
        return config

    def ensure_service_installs(self, device: dict) -> None:
        """One service_install per service of the device's fleet (open-balena's hooks create
        them when a device or service is created; here they appear on the first poll too)."""
        app_id = device.get("belongs_to__application")
        have = {si["installs__service"] for si in
                self.db.children("service_install", "device", device["id"])}
        for service in self.db.children("service", "application", app_id):
            if service["id"] not in have:
                self.db.insert("service_install", {"device": device["id"],
                                                   "installs__service": service["id"]})

    def _images(self, release: dict) -> list[tuple[dict, dict]]:
        """(image, service) pairs of a release, in image id order."""
        out = []
        for link in self.db.children("release_image", "is_part_of__release", release["id"]):
            image = self.db.get("image", link["image"])
            service = self.db.get("service", image["is_a_build_of__service"]) if image else None
            if image is not None and service is not None:
                out.append((image, service))
        return sorted(out, key=lambda pair: pair[0]["id"])

    def environment(self, device: Optional[dict], app: dict, service: dict) -> dict[str, str]:
        """fleet env < service env < device env < device-service env (later wins)."""
        env: dict[str, str] = {}
        levels = [self.db.children("application_environment_variable", "application", app["id"]),
                  self.db.children("service_environment_variable", "service", service["id"])]
        if device is not None:
            levels.append(self.db.children("device_environment_variable", "device", device["id"]))
            for si in self.db.children("service_install", "device", device["id"]):
                if si["installs__service"] == service["id"]:
                    levels.append(self.db.children("device_service_environment_variable",
                                                   "service_install", si["id"]))
        for rows in levels:
            for row in rows:
                env[row["name"]] = row["value"]
        return env

    @staticmethod
    def image_location(image: dict) -> str:
        location = image.get("is_stored_at__image_location") or ""
        if image.get("content_hash"):
            location += "@" + image["content_hash"]
        return location.lower()

    @staticmethod
    def _composition(release: dict) -> dict:
        comp = release.get("composition")
        return comp if isinstance(comp, dict) else {}

    def _labels(self, config: dict, composed: dict, defaults: Optional[dict] = None) -> dict:
        labels = dict(defaults or {})
        if isinstance(composed.get("labels"), dict):
            labels.update({str(k): str(v) for k, v in composed["labels"].items()})
        for name, label in CONFIG_LABELS.items():
            if name in config and label not in labels:
                labels[label] = config[name]
        return labels

    def state_v2(self, actor: Optional[Actor], uuid: str) -> dict:
        """``GET /device/v2/<uuid>/state``."""
        with self.lock:
            device = self.device_for(actor, uuid)
            self.heartbeat(device, actor)
            self.ensure_service_installs(device)
            app = self.db.get("application", device["belongs_to__application"])
            config = self.config(device, app)
            release = self.target_release(device)
            local_app: dict[str, Any] = {"name": app["app_name"], "services": {}, "networks": {},
                                         "volumes": {}}
            if release is not None:
                comp = self._composition(release)
                services: dict[str, Any] = {}
                for image, service in self._images(release):
                    composed = dict((comp.get("services") or {}).get(service["service_name"]) or {})
                    composed.pop("build", None)
                    entry = {**composed, "imageId": image["id"],
                             "serviceName": service["service_name"],
                             "image": self.image_location(image), "running": True,
                             "environment": self.environment(device, app, service),
                             "labels": self._labels(config, composed)}
                    if image.get("contract") is not None:
                        entry["contract"] = image["contract"]
                    services[str(service["id"])] = entry
                local_app = {"releaseId": release["id"], "commit": release["commit"],
                             "name": app["app_name"], "services": services,
                             "networks": comp.get("networks") or {},
                             "volumes": comp.get("volumes") or {}}
            return {"local": {"name": device["device_name"], "config": config,
                              "apps": {str(app["id"]): local_app}},
                    "dependent": {"apps": {}, "devices": {}}}

    def _app_v3(self, device: Optional[dict], app: dict, release: Optional[dict],
                config: dict, defaults: Optional[dict] = None) -> dict:
        out: dict[str, Any] = {"id": app["id"], "name": app["app_name"],
                               "is_host": bool(app.get("is_host")),
                               "class": app.get("is_of__class") or "fleet"}
        if release is None:
            return out
        comp = self._composition(release)
        services: dict[str, Any] = {}
        for image, service in self._images(release):
            composed = dict((comp.get("services") or {}).get(service["service_name"]) or {})
            composed.pop("build", None)
            entry: dict[str, Any] = {
                "id": service["id"], "image_id": image["id"],
                "image": self.image_location(image),
                "environment": self.environment(device, app, service),
                "labels": self._labels(config, composed, defaults)}
            if image.get("contract") is not None:
                entry["contract"] = image["contract"]
            if composed:
                entry["composition"] = composed
            services[service["service_name"]] = entry
        body: dict[str, Any] = {"id": release["id"]}
        if services:
            body["services"] = services
        if comp.get("networks") is not None:
            body["networks"] = comp["networks"]
        if comp.get("volumes") is not None:
            body["volumes"] = comp["volumes"]
        out["releases"] = {release["commit"]: body}
        return out

    def state_v3(self, actor: Optional[Actor], uuid: str) -> dict:
        """``GET /device/v3/<uuid>/state``: the user fleet plus, when set, the supervisor and
        host OS releases the device should run (keyed by fleet uuid, releases by commit)."""
        with self.lock:
            device = self.device_for(actor, uuid)
            self.heartbeat(device, actor)
            self.ensure_service_installs(device)
            app = self.db.get("application", device["belongs_to__application"])
            config = self.config(device, app)
            apps: dict[str, Any] = {}
            for field, defaults in (("should_be_managed_by__release", None),
                                    ("should_be_operated_by__release",
                                     {"io.balena.image.store": "root"})):
                release = self.db.get("release", device.get(field))
                owner = self.db.get("application", release["belongs_to__application"]) \
                    if release else None
                if owner is not None:
                    apps[owner["uuid"]] = self._app_v3(None, owner, release, {}, defaults)
            apps[app["uuid"]] = self._app_v3(device, app, self.target_release(device), config)
            return {uuid: {"name": device["device_name"], "apps": apps, "config": config}}

    def fleet_state_v3(self, actor: Optional[Actor], app_uuid: str,
                       release_uuid: Optional[str]) -> dict:
        """``GET /device/v3/fleet/<appUuid>/state/?releaseUuid=``: what a new device of the
        fleet would get (no device-level variables); ``releaseUuid`` picks a release by commit."""
        if actor is None:
            raise unauthorized()
        with self.lock:
            found = self.db.find("application", uuid=app_uuid)
            visible = self.backend.permissions.read_filter("application", actor)
            if not found or (visible is not None and not visible(found[0])):
                raise unauthorized()
            app = found[0]
            if release_uuid:
                rows = [r for r in self.db.children("release", "belongs_to__application", app["id"])
                        if r["commit"] == release_uuid]
                if not rows:
                    raise bad_request(f"Release {release_uuid} not found in this fleet")
                release: Optional[dict] = rows[0]
            else:
                release = self.db.get("release", app.get("should_be_running__release"))
                if release is None and app.get("should_track_latest_release"):
                    release = self.latest_release(app["id"])
            config = self.config(None, app)
            return {app_uuid: {"name": app["app_name"], "config": config,
                               "apps": {app_uuid: self._app_v3(None, app, release, config)}}}

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


def user_or_device(actor: Optional[Actor]) -> Actor:
    """Callers of the device API: users (what they may see) and devices (themselves)."""
    if actor is None or actor.kind not in (USER, DEVICE):
        raise unauthorized()
    return actor
