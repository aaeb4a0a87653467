"""Device registration, the heartbeat timeout, supervisor actions and target state: the device
half of :class:`.models.BalenaBackend` (a mixin). No Flask here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from . import state
from .auth import APPLICATION, USER, Actor
from .db import format_date
from .errors import BalenaError, bad_request, forbidden, not_found, unauthorized
from .rules import link_id as _fk

#: An online device not heard from for this long goes offline (see ``expire_heartbeats``).
HEARTBEAT_TIMEOUT = timedelta(minutes=30)


class Devices:
    """Device operations; see the module docstring."""

    db: Any
    ids: Any
    clock: Any
    lock: Any
    permissions: Any

    def expire_heartbeats(self, now: Any = None) -> int:
        """Online devices not heard from for :data:`HEARTBEAT_TIMEOUT` go offline (balena's API
        heartbeat: twice the supervisor's 15-minute poll interval). Runs whenever the clock
        moves; returns how many devices went offline."""
        now = now if now is not None else self.clock.now()
        limit = format_date(now - HEARTBEAT_TIMEOUT)
        gone = 0
        with self.lock:
            for device in list(self.db.tables["device"].values()):
                seen = device.get("last_connectivity_event")
                if device.get("is_online") and seen is not None and seen <= limit:
                    self.db.update("device", device["id"], {
                        "is_online": False, "api_heartbeat_state": "offline",
                        "changed_api_heartbeat_state_on__date": format_date(now)})
                    gone += 1
        return gone

    # -- device registration ---------------------------------------------------------------------

    def register_device(self, actor: Optional[Actor], body: Any) -> dict:
        """``POST /device/register`` with a provisioning key (or a user who may write the fleet):
        a device in that fleet and its device API key; a duplicate uuid is a 409."""
        caller = self._require_user_or_app(actor)
        if not isinstance(body, dict):
            raise bad_request("the body must be an object")
        app_id, uuid, dt_slug = body.get("application"), body.get("uuid"), body.get("device_type")
        if isinstance(app_id, bool) or not isinstance(app_id, int):
            raise bad_request("application must be an application id")
        if not isinstance(uuid, str) or not uuid:
            raise bad_request("uuid is required")
        app = self.db.get("application", app_id)
        if caller.kind == APPLICATION and caller.id != app_id:
            raise forbidden("This provisioning key cannot register devices in that fleet")
        if app is None or (caller.kind == USER
                           and not self.permissions.can_write(caller, "application", app)):
            raise not_found(f"Application {app_id} not found")
        device_type = self.device_type_by_alias(dt_slug) if dt_slug else \
            self.db.get("device_type", _fk(app["is_for__device_type"]))
        if device_type is None:
            raise bad_request(f"Invalid device type: {dt_slug}")
        if self.db.find("device", uuid=uuid):
            raise BalenaError(409, '"uuid" must be unique.')
        user_id = body.get("user") if caller.kind == APPLICATION else caller.id
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)
                                    or self.db.get("user", user_id) is None):
            user_id = None
        reported = {k: body[k] for k in ("supervisor_version", "os_version", "os_variant",
                                         "mac_address") if isinstance(body.get(k), str)}
        with self.db.transaction():  # the device and its key, or neither
            device = self.db.insert("device", {
                "uuid": uuid, "belongs_to__application": app_id,
                "is_of__device_type": device_type["id"], "belongs_to__user": user_id, **reported,
            }, actor=caller)
            api_key = body.get("api_key")
            if isinstance(api_key, str) and api_key:
                self.db.insert("api_key", {"key": api_key, "is_of__actor": _fk(device["actor"])})
            else:
                api_key = self._new_key(_fk(device["actor"]), None, None, None)
        return {"id": device["id"], "uuid": device["uuid"], "api_key": api_key}

    def device_type_by_alias(self, alias: Any) -> Optional[dict]:
        rows = self.db.find("device_type_alias", is_referenced_by__alias=alias)
        return self.db.get("device_type", _fk(rows[0]["device_type"])) if rows else None

    def _readable(self, actor: Optional[Actor], resource: str, row: Optional[dict]) -> bool:
        if row is None:
            return False
        visible = self.permissions.read_filter(resource, actor)
        return visible is None or bool(visible(row))

    def target_state(self, actor: Optional[Actor], uuid: str) -> dict:
        """``GET /device/v2/<uuid>/state``: what the device should run (see :mod:`.state`)."""
        if actor is None:
            raise unauthorized()
        found = self.db.find("device", uuid=uuid)
        if not found or not self._readable(actor, "device", found[0]):
            raise not_found(f"Device {uuid} not found")
        return state.device_state_v2(self, found[0])

    def fleet_target_state(self, actor: Optional[Actor], app_uuid: str,
                           release: Optional[str]) -> dict:
        """``GET /device/v3/fleet/<uuid>/state/?releaseUuid=``: a fleet's target state."""
        if actor is None:
            raise unauthorized()
        found = self.db.find("application", uuid=app_uuid)
        if not found or not self._readable(actor, "application", found[0]):
            raise not_found(f"Fleet {app_uuid} not found")
        return state.fleet_state_v3(self, found[0], release or None)

    def supervisor_action(self, actor: Optional[Actor], action: str, body: Any) -> Any:
        """``POST /supervisor/...``: balena proxies these to the devices' supervisors. Until
        simulated supervisors exist (part 2) an online device answers as an idle supervisor
        would; an offline one gives the API's ``No online device(s) found``."""
        caller = self._require_user_or_app(actor)
        body = body if isinstance(body, dict) else {}
        devices: list[dict] = []
        if body.get("uuid") is not None:
            devices = self.db.find("device", uuid=body["uuid"])
        elif body.get("deviceId") is not None:
            found = self.db.get("device", body["deviceId"]) if isinstance(body["deviceId"], int) \
                else None
            devices = [found] if found else []
        elif isinstance(body.get("appId"), int):
            devices = self.db.children("device", "belongs_to__application", body["appId"])
        devices = [d for d in devices if self.permissions.can_write(caller, "device", d)]
        if not devices and not (body.get("appId") and not body.get("uuid")
                                and body.get("deviceId") is None):
            raise not_found("Device not found")
        online = [d for d in devices if d.get("is_online")]
        if not online:
            raise bad_request("No online device(s) found")
        if action.strip("/") == "v1/device":
            device = online[0]
            release = self.db.get("release", device.get("is_running__release"))
            return {"api_port": 48484, "ip_address": device.get("ip_address"),
                    "os_version": device.get("os_version"),
                    "supervisor_version": device.get("supervisor_version"),
                    "update_pending": False, "update_failed": False, "update_downloaded": False,
                    "commit": release["commit"] if release else None, "status": "Idle",
                    "download_progress": None}
        return "OK"

    def download_config(self, actor: Optional[Actor], body: Any, base_url: str) -> dict:
        """``POST /download-config``: a device's ``config.json`` for a fleet, with a new
        provisioning key, as ``os.get_config`` gets it. ``apiEndpoint`` is the URL the request
        came to, so a device provisioned from it talks to this fake."""
        caller = self._require_user_or_app(actor)
        body = body if isinstance(body, dict) else {}
        app_id = body.get("appId")
        if isinstance(app_id, str) and app_id.isdigit():
            app_id = int(app_id)
        app = self.db.get("application", app_id) if isinstance(app_id, int) else None
        if app is None or not self.permissions.can_write(caller, "application", app):
            raise not_found(f"Application {app_id} not found")
        if not isinstance(body.get("version"), str) or not body["version"]:
            raise bad_request("An OS version is required")
        dt = self.device_type_by_alias(body.get("deviceType")) if body.get("deviceType") else \
            self.db.get("device_type", app["is_for__device_type"])
        if dt is None:
            raise bad_request(f"Invalid device type: {body.get('deviceType')}")
        config = {
            "applicationId": app["id"], "deviceType": dt["slug"],
            "userId": caller.id if caller.kind == USER else None,
            "username": caller.username if caller.kind == USER else None,
            "appUpdatePollInterval": 900000, "listenPort": 48484, "vpnPort": 443,
            "apiEndpoint": base_url.rstrip("/"), "vpnEndpoint": "vpn.balena-cloud.com",
            "registryEndpoint": "registry2.balena-cloud.com",
            "deltaEndpoint": "https://delta.balena-cloud.com", "mixpanelToken": "",
            "apiKey": self._new_key(_fk(app["actor"]), None, None, None),
            "version": body["version"], "developmentMode": bool(body.get("developmentMode")),
        }
        if body.get("network") == "wifi":
            config.update(wifiSsid=body.get("wifiSsid"), wifiKey=body.get("wifiKey"))
        return config

