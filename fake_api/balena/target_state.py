"""The device side of balena, target state: what a supervisor polls (``GET
/device/v2|v3/<uuid>/state``, ``GET /device/v3/fleet/<appUuid>/state/``), computed from the model
on every poll as open-balena does. No Flask here.

- the release to run is the device's pin, else its fleet's target release, else (a tracking
  fleet with no target yet) the fleet's latest final release;
- each service of that release gets its image location and an environment merged in balena's
  order, later levels winning: fleet env vars < service env vars < device env vars <
  device-service env vars;
- ``config`` is the fleet's config vars overridden by the device's, minus ``*_UI`` vars, plus
  balenaCloud's defaults (native logger on, poll interval at least 15 minutes).

:class:`TargetState` is the half of :class:`.device_state.DeviceState` that reads; it relies on
that class for ``device_for`` (access) and ``heartbeat`` (a poll is contact).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from .auth import Actor
from .errors import bad_request, unauthorized

#: balenaCloud's default and minimum supervisor poll interval (ms), as the API sends it.
DEFAULT_POLL_INTERVAL_MS = 900_000
#: Config vars mapped to service labels when the release does not set them.
CONFIG_LABELS = {"RESIN_SUPERVISOR_UPDATE_STRATEGY": "io.resin.update.strategy",
                 "RESIN_SUPERVISOR_HANDOVER_TIMEOUT": "io.resin.update.handover-timeout"}
_UI_VAR = re.compile(r"^(BALENA|RESIN)_UI")


class TargetState:
    """What every device should run (reads only, apart from service installs and heartbeats)."""

    db: Any
    lock: Any
    backend: Any

    def device_for(self, actor: Optional[Actor], uuid: str, *, write: bool = False) -> dict:
        raise NotImplementedError

    def heartbeat(self, device: dict, actor: Optional[Actor]) -> None:
        raise NotImplementedError

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
