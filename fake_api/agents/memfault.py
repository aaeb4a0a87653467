"""Memfault's device side: ``releases/latest``, the artifact URL, chunks and attributes.

* register: with an org token, the factory step ``POST .../devices`` (serial, hardware version,
  owner, cohort); without one, the first OTA check auto-creates the device in ``default``, as
  Memfault does. Then the device writes its own attributes (``PATCH /api/v0/attributes``: MAC,
  site, country).
* poll: ``GET /api/v0/releases/latest?device_serial&hardware_version&software_type
  &current_version`` with ``Memfault-Project-Key``: 204 up to date, 200 the release (the first
  artifact's ``url``, ``file_size``, ``md5``, ``sha256``).
* report: Memfault has no OTA-result endpoint; the device reports through what it has: a chunk
  (``POST /api/v0/chunks/{serial}``, after the reboot, as the SDK sends its reboot event) and
  attributes ``ota_last_result`` / ``ota_last_target`` / ``ota_failure_reason`` /
  ``device_time``. Its next OTA check carries ``current_version``, which is what moves
  ``last_seen_release`` on the server. The chunk body is fleetsim's own JSON event, not the
  SDK's packetizer format: the fake stores chunks as opaque bytes, as Memfault would.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import urlencode

from .protocol import DeviceProtocol, Offer, Outcome, PollReply, ServerError
from .transport import Transport


class MemfaultProtocol(DeviceProtocol):
    dialect = "memfault"

    def __init__(self, transport: Transport, *, project: Any, cohort: Optional[str] = None,
                 software_type: str = "main", org_token: Optional[str] = None) -> None:
        """``project``: a seeded MemfaultProject (or a dict with ``project_key`` and, to place
        devices in a cohort, ``org``, ``project``, ``org_token``)."""
        super().__init__(transport)
        get = project.get if isinstance(project, dict) else (lambda k: getattr(project, k, None))
        self.project_key = get("project_key")
        if not self.project_key:
            raise ValueError("Memfault agents need the project key")
        self.org, self.project = get("org"), get("project")
        self.org_token = org_token or get("org_token")
        self.cohort = cohort
        self.software_type = software_type
        self._device_headers = {"Memfault-Project-Key": self.project_key}

    @staticmethod
    def initial(installed: Any) -> tuple[Optional[str], Optional[str]]:
        if installed is None:
            return None, None
        version = installed if isinstance(installed, str) else installed["version"]
        return version, version

    def _check(self, reply: Any, now: float, ok: tuple[int, ...]) -> Any:
        if reply.status not in ok:
            raise ServerError.from_reply(reply, now)
        return reply

    def _attributes(self, device: Any, values: dict[str, Any]) -> None:
        body = json.dumps([{"string_key": k, "value": v} for k, v in values.items()]).encode()
        url = self.transport.url("/api/v0/attributes?" + urlencode(
            {"device_serial": device.identity.serial}))
        reply = self.transport.request("PATCH", url, {**self._device_headers,
                                                      "Content-Type": "application/json"}, body)
        self._check(reply, device.now, (200, 204))

    def register(self, device: Any) -> None:
        ident = device.identity
        if self.org_token and self.org and self.project:
            body = {"device_serial": ident.serial, "hardware_version": ident.hardware,
                    "owner_ref": ident.owner_ref, "cohort": self.cohort or "default"}
            reply = self.transport.request(
                "POST",
                self.transport.url(f"/api/v0/organizations/{self.org}/projects/{self.project}"
                                   "/devices"),
                {"Authorization": f"Bearer {self.org_token}", "Content-Type": "application/json"},
                json.dumps(body).encode())
            self._check(reply, device.now, (200, 201, 409))
        else:
            # No factory step: the first OTA check creates the device with its hardware version
            # (an attribute write first would create it without one).
            self.poll(device)
        self._attributes(device, {"mac_address": ident.mac, "site": ident.site,
                                  "country": ident.country})
        device.creds = self.project_key

    def poll(self, device: Any) -> PollReply:
        query = {"device_serial": device.identity.serial,
                 "hardware_version": device.identity.hardware,
                 "software_type": self.software_type}
        if device.version:
            query["current_version"] = device.version
        reply = self.transport.request(
            "GET", self.transport.url("/api/v0/releases/latest?" + urlencode(query)),
            self._device_headers)
        self._check(reply, device.now, (200, 204))
        if reply.status == 204:
            return PollReply()
        try:
            release = reply.json()
            artifact = release["artifacts"][0]
            return PollReply(Offer(version=str(release["version"]), ref=str(release["version"]),
                                   url=artifact["url"], size=artifact.get("file_size"),
                                   md5=artifact.get("md5"), sha256=artifact.get("sha256")))
        except (ValueError, KeyError, IndexError, TypeError):
            raise ServerError(reply.status, "release answer without a usable artifact") from None

    def report(self, device: Any, outcome: Outcome) -> Optional[PollReply]:
        stamp = datetime.fromtimestamp(outcome.device_time, tz=timezone.utc).isoformat()
        event = {"fleetsim_event": "ota_result", "result": "success" if outcome.ok else "failed",
                 "target": outcome.target, "running": outcome.version, "reason": outcome.reason,
                 "device_time": stamp}
        reply = self.transport.request(
            "POST", self.transport.url(f"/api/v0/chunks/{device.identity.serial}"),
            {**self._device_headers, "Content-Type": "application/octet-stream"},
            json.dumps(event).encode())
        self._check(reply, device.now, (200, 202))
        self._attributes(device, {"ota_last_result": event["result"],
                                  "ota_last_target": outcome.target,
                                  "ota_failure_reason": outcome.reason, "device_time": stamp})
        return None

    def describe_group(self) -> dict[str, Any]:
        return {"org": self.org, "project": self.project, "cohort": self.cohort or "default",
                "software_type": self.software_type}
