"""Host OS updates through balena's actions service (``https://actions.<deviceUrlsBase>/
{v1|v2}/<uuid>/resinhup``), which the SDK's ``device.start_os_update`` and
``get_os_update_status`` call (so only intercept mode reaches it). No Flask here.

Starting an update checks what the actions service checks (a user who may change the device,
the device online, a final host OS release of that version for its device type), queues a
``resinhup`` action for the device (``{"target_version"}``) and answers ``in_progress``. The
status is ``idle`` before any update, ``in_progress`` until the device reports an ``os_version``
of the target, then ``done``: a simulated device applies it by taking the action and reporting
its new version.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from .auth import USER, Actor
from .db import format_date
from .errors import bad_request, unauthorized

ACTION = "resinhup"


def bare_version(os_version: Optional[str]) -> str:
    """``"balenaOS 2.83.21+rev1"`` and ``"2.83.21+rev1.prod"`` -> ``"2.83.21+rev1"``."""
    text = (os_version or "").strip()
    text = re.sub(r"^(balena|resin)\s*os\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"[.+](prod|dev)$", "", text)
    return text


class HostOsUpdates:
    """``resinhup`` records per device in the store table ``balena._hup``."""

    def __init__(self, backend: Any, device_state: Any, supervisor: Any) -> None:
        self.backend = backend
        self.db = backend.db
        self.state = device_state
        self.supervisor = supervisor
        self._hups = backend.cloud.store.table("balena._hup")

    def _device(self, actor: Optional[Actor], uuid: str) -> dict:
        if actor is None or actor.kind != USER:
            raise unauthorized()
        return self.state.device_for(actor, uuid, write=True)

    def host_release(self, device: dict, version: str) -> Optional[dict]:
        """The final host OS release ``version`` (raw version, with or without the variant) for
        the device's type."""
        wanted = bare_version(version)
        for app in self.db.children("application", "is_for__device_type",
                                    device["is_of__device_type"]):
            if not app.get("is_host"):
                continue
            for release in self.db.children("release", "belongs_to__application", app["id"]):
                if release.get("is_final") and not release.get("is_invalidated") and \
                        bare_version(release.get("raw_version")) == wanted:
                    return release
        return None

    def start(self, actor: Optional[Actor], uuid: str, body: Any) -> dict:
        params = body.get("parameters") if isinstance(body, dict) else None
        target = params.get("target_version") if isinstance(params, dict) else None
        if not isinstance(target, str) or not target:
            raise bad_request("parameters.target_version is required")
        with self.backend.lock:
            device = self._device(actor, uuid)
            if not device.get("is_online"):
                raise bad_request("Device is not online")
            if self.host_release(device, target) is None:
                raise bad_request(f"Invalid target version: {target}")
            record = {"action": ACTION, "status": "in_progress",
                      "parameters": {"target_version": target},
                      "started_at": format_date(self.backend.clock.now())}
            self._hups[str(device["id"])] = record
            self.supervisor.enqueue(device, ACTION, f"/{ACTION}", {"target_version": target})
            return self._answer(device, record)

    def status(self, actor: Optional[Actor], uuid: str) -> dict:
        with self.backend.lock:
            device = self._device(actor, uuid)
            record = self._hups.get(str(device["id"]))
            if record is None:
                return {"action": ACTION, "status": "idle"}
            return self._answer(device, record)

    @staticmethod
    def _answer(device: dict, record: dict) -> dict:
        status = record["status"]
        target = record["parameters"]["target_version"]
        if status == "in_progress" and bare_version(device.get("os_version")) == \
                bare_version(target):
            status = "done"
        return {"action": ACTION, "status": status, "parameters": dict(record["parameters"])}
