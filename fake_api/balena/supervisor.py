"""Supervisor actions through the API proxy (``POST /supervisor/...``). No Flask here.

On balenaCloud the API forwards these calls over the VPN to the supervisor of each targeted
device (``deviceId``/``uuid``, or every online device of ``appId``) and relays its answer. Here
each call is checked as the API checks it (caller may change the device; at least one target
online, else ``No online device(s) found``), answered the way the supervisor answers it, and
queued per device so that a simulated device picks it up (``GET /device/v2/<uuid>/actions``,
fleetsim's own device-side route) and acts: reboots, restarts, goes dark, ...

Queued items: ``{"id", "action", "path", "params", "created_at"}`` with ``action`` one of
``reboot, shutdown, restart, purge, update, blink, start-service, stop-service, restart-service,
start, stop, regenerate-api-key`` or the path's last word for anything else. Reads
(``/v1/device``, ``/v1/apps/<appId>``, ping) are answered from the model and not queued.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from .auth import APPLICATION, DEVICE, Actor
from .db import format_date
from .errors import bad_request, forbidden, not_found, unauthorized

NO_ONLINE = "No online device(s) found"
#: Per device, queued actions are capped (oldest dropped): a device that never polls its queue
#: must not grow memory without bound.
QUEUE_LIMIT = 200
_V2_SERVICE = re.compile(r"^v2/applications/(\d+)/(start|stop|restart)-service$")
_V1_APP = re.compile(r"^v1/apps/(\d+)/(start|stop)$")
_V1_APP_INFO = re.compile(r"^v1/apps/(\d+)$")
#: Calls that only read from the supervisor: answered, never queued.
READS = frozenset({"device", "app-info", "ping"})

#: (status, body) the supervisor answers for each action (its API docs).
ANSWERS: dict[str, tuple[int, Any]] = {
    "reboot": (202, {"Data": "OK", "Error": None}),
    "shutdown": (202, {"Data": "OK", "Error": None}),
    "purge": (200, {"Data": "OK", "Error": ""}),
    "restart": (200, "OK"),
    "blink": (200, "OK"),
    "ping": (200, "OK"),
    "update": (204, ""),
    "start-service": (200, "OK"),
    "stop-service": (200, "OK"),
    "restart-service": (200, "OK"),
}


class Supervisor:
    """The proxy and the per-device action queues (store table ``balena._actions``)."""

    def __init__(self, backend: Any, device_state: Any) -> None:
        self.backend = backend
        self.db = backend.db
        self.state = device_state
        self._queues = backend.cloud.store.table("balena._actions")  # str(device id) -> [items]

    def _targets(self, actor: Actor, body: dict) -> list[dict]:
        """The devices a proxied call addresses, as the caller may change them."""
        perms = self.backend.permissions
        if body.get("uuid") is not None:
            devices = self.db.find("device", uuid=str(body["uuid"]))
        elif body.get("deviceId") is not None:
            device_id = body["deviceId"]
            found = self.db.get("device", device_id) if isinstance(device_id, int) and \
                not isinstance(device_id, bool) else None
            devices = [found] if found else []
        elif isinstance(body.get("appId"), (int, str)) and str(body["appId"]).isdigit():
            app_id = int(body["appId"])
            app = self.db.get("application", app_id)
            if app is None or not perms.can_write(actor, "application", app):
                raise not_found("Application not found")
            return list(self.db.children("device", "belongs_to__application", app_id))
        else:
            raise bad_request("A deviceId, uuid or appId is required")
        devices = [d for d in devices if perms.can_write(actor, "device", d)]
        if not devices:
            raise not_found("Device not found")
        return devices

    def proxy(self, actor: Optional[Actor], path: str, body: Any) -> tuple[int, Any]:
        """``POST /supervisor/<path>``: (status, answer) as the API relays it."""
        if actor is None:
            raise unauthorized()
        if actor.kind in (APPLICATION, DEVICE):
            raise forbidden()
        body = body if isinstance(body, dict) else {}
        path = path.strip("/")
        action, params = self._parse(path, body)
        with self.backend.lock:
            devices = self._targets(actor, body)
            online = [d for d in devices if d.get("is_online")]
            if not online:
                raise bad_request(NO_ONLINE)
            if action == "device":
                return 200, self.state.supervisor_status(online[0])
            if action == "app-info":
                return 200, self._app_info(online[0], params.get("appId"))
            if action not in READS:
                for device in online:
                    self.enqueue(device, action, "/" + path, params)
            if action in ("start", "stop"):  # v1 apps API: the container it acted on
                return 200, {"containerId": self._container_id(online[0])}
            if action == "regenerate-api-key":
                return 200, self.backend.ids.hex("balena.supervisor.api_key", 32)
        return ANSWERS.get(action, (200, "OK"))

    def _container_id(self, device: dict) -> str:
        return self.backend.ids.hex(f"balena.container.{device['id']}", 64)

    def _app_info(self, device: dict, app_id: Any) -> dict:
        """``GET /v1/apps/<appId>`` of the supervisor: what the device runs."""
        release = self.db.get("release", device.get("is_running__release"))
        images = self.state._images(release) if release else []
        return {"appId": app_id, "commit": release["commit"] if release else None,
                "releaseId": release["id"] if release else None,
                "containerId": self._container_id(device),
                "imageId": self.state.image_location(images[0][0]) if images else None,
                "env": {}}

    @staticmethod
    def _parse(path: str, body: dict) -> tuple[str, dict]:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        params = dict(data)
        match = _V2_SERVICE.match(path)
        if match:
            params.setdefault("appId", int(match.group(1)))
            return f"{match.group(2)}-service", params
        match = _V1_APP.match(path)
        if match:
            params.setdefault("appId", int(match.group(1)))
            return match.group(2), params
        match = _V1_APP_INFO.match(path)
        if match:
            params.setdefault("appId", int(match.group(1)))
            return "app-info", params
        word = path.rsplit("/", 1)[-1] if path else "ping"
        if word == "ping" or path in ("ping", "v1/ping"):
            return "ping", params
        return word, params

    def enqueue(self, device: dict, action: str, path: str, params: dict) -> dict:
        item = {"id": self.backend.ids.counter("balena.supervisor.action"), "action": action,
                "path": path, "params": params,
                "created_at": format_date(self.backend.clock.now())}
        queue = list(self._queues.get(str(device["id"]), []))
        queue.append(item)
        self._queues[str(device["id"])] = queue[-QUEUE_LIMIT:]
        return item

    def pending(self, device_id: int) -> list[dict]:
        return list(self._queues.get(str(device_id), []))

    def take(self, actor: Optional[Actor], uuid: str, *, peek: bool = False) -> list[dict]:
        """The device's queued actions, oldest first; taken off the queue unless ``peek``.
        Only the device itself takes them; users who may change the device may peek."""
        with self.backend.lock:
            device = self.state.device_for(actor, uuid)
            if actor.kind != DEVICE and not peek:
                raise unauthorized()
            if actor.kind == DEVICE:
                self.state.heartbeat(device, actor)
            items = self.pending(device["id"])
            if not peek:
                self._queues.pop(str(device["id"]), None)
            return items

    def app_restart(self, actor: Optional[Actor], app_id: int) -> str:
        """``POST /applcation/<id>/restart`` (sic, the SDK's path) and ``/application/...``:
        restart the release on every online device of the fleet."""
        status, answer = self.proxy(actor, "v1/restart", {"appId": app_id,
                                                         "data": {"appId": app_id}})
        return answer if isinstance(answer, str) else "OK"

    def device_restart(self, actor: Optional[Actor], device_id: int) -> str:
        """``POST /device/<id>/restart`` (supervisors older than 7.0.0)."""
        status, answer = self.proxy(actor, "v1/restart", {"deviceId": device_id, "data": {}})
        return answer if isinstance(answer, str) else "OK"
