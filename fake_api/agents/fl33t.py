"""fl33t's device side: provisioning, check-in, and the build's signed ``download_url``.

* register: ``POST /team/{team}/device`` with a provisioning (or admin) token; the answer
  carries the device's own ``session_token``, used for everything after.
* poll: ``POST /team/{team}/device/{id}/checkin`` with ``{"checkin": {"build_id": <installed>}}``
  (``{"checkin": {}}`` while nothing is known): 204 means up to date, 200 ``{"build": ...}``
  is the offer (``download_url``, ``size``, ``md5sum``, ``version``).
* report: fl33t has no failure report; the next check-in names the build the device runs, so
  the server sees the new build after a success and the old one after a failure or rollback.
  That check-in is a poll too (``reports_by_polling``).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from .protocol import DeviceProtocol, Offer, Outcome, PollReply, ServerError
from .transport import Transport


def _ref(value: Any, name: str) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value[name]
    return getattr(value, name)


class Fl33tProtocol(DeviceProtocol):
    dialect = "fl33t"
    reports_by_polling = True

    def __init__(self, transport: Transport, *, team: Any, fleet: Any,
                 token: Optional[str] = None) -> None:
        """``team``: a seeded Team (its provisioning token is used unless ``token`` is given)
        or a team id; ``fleet``: a fleet id or dict."""
        super().__init__(transport)
        self.team_id = _ref(team, "team_id")
        tokens = getattr(team, "tokens", None) or {}
        self.token = token or tokens.get("provisioning") or tokens.get("admin")
        if not self.token:
            raise ValueError("fl33t agents need a provisioning (or admin) token: pass token=")
        self.fleet_id = _ref(fleet, "fleet_id")

    @staticmethod
    def initial(installed: Any) -> tuple[Optional[str], Optional[str]]:
        """``(version, build_id)`` of what devices start with: a build dict/object or an id."""
        if installed is None:
            return None, None
        if isinstance(installed, str):
            return installed, installed
        return _ref(installed, "version"), _ref(installed, "build_id")

    def _post(self, path: str, token: str, body: dict, now: float) -> Any:
        reply = self.transport.request(
            "POST", self.transport.url(f"/team/{self.team_id}{path}"),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            json.dumps(body).encode())
        if reply.status >= 300:
            raise ServerError.from_reply(reply, now)
        return reply

    def register(self, device: Any) -> None:
        body = {"device": {"device_id": device.identity.serial, "fleet_id": self.fleet_id,
                           "name": device.identity.name}}
        reply = self._post("/device", self.token, body, device.now)
        try:
            device.creds = reply.json()["device"]["session_token"]
        except (ValueError, KeyError, TypeError):
            raise ServerError(reply.status, "no session_token in the device answer") from None

    def poll(self, device: Any) -> PollReply:
        checkin = {"build_id": device.ref} if device.ref else {}
        reply = self._post(f"/device/{device.identity.serial}/checkin", device.creds,
                           {"checkin": checkin}, device.now)
        if reply.status == 204:
            return PollReply()
        try:
            build = reply.json()["build"]
            return PollReply(Offer(version=str(build["version"]), ref=build["build_id"],
                                   url=build["download_url"], size=build.get("size"),
                                   md5=build.get("md5sum")))
        except (ValueError, KeyError, TypeError):
            raise ServerError(reply.status, "check-in answer without a usable build") from None

    def report(self, device: Any, outcome: Outcome) -> Optional[PollReply]:
        return self.poll(device)

    def describe_group(self) -> dict[str, Any]:
        return {"team_id": self.team_id, "fleet_id": self.fleet_id}
