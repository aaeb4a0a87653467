"""balena's device side, as a supervisor speaks it: register, target state, state reports, logs.

* register: ``POST /device/register`` with the fleet's **provisioning key** (body ``{user,
  application, uuid, device_type, api_key, supervisor_version, os_version, os_variant,
  mac_address}``); the device chooses its uuid and its own key (both derived from its serial),
  used for everything after. Then a first state report: it runs the release it was flashed with
  (``release_uuid``), ``status: Idle``.
* poll: ``GET /device/v3/<uuid>/state``. The offer is the fleet's release (its commit) when it
  differs from the running one; ``RESIN_SUPERVISOR_POLL_INTERVAL`` (ms) is the poll interval, as
  the supervisor's ``appUpdatePollInterval``. Each poll also takes the device's queued supervisor
  actions (``GET /device/v2/<uuid>/fleetsim/actions``) and acts on them: ``reboot``/``shutdown``
  (log lines, then ``status: Idle`` again), ``restart``/``*-service``, ``purge`` (log lines);
  others (``update``: actions are picked up at a poll, so the target state is already fresh)
  are only logged. balenaCloud pushes actions over the VPN; the queue is fleetsim's.
* download: balena has no firmware blob (the fake builds no images and serves no layers), so a
  download is simulated: each attempt reports ``Downloading`` with ``download_progress`` (from the
  point it resumes at) through ``PATCH /device/v3/state`` and the agent "receives" a nominal
  ``image_size`` bytes per image, through which failure plans (drops, stalls, slow links) act.
* report: success is ``release_uuid`` = the new commit, services ``Running``, ``update_status:
  done``, plus log lines; a failure keeps ``release_uuid`` on the old commit and reports the new
  release's images as ``Download failed`` or ``Install failed`` (``update_status`` ``aborted`` or
  ``rejected``), as the SDK then sees them in ``image_install`` and ``update_status``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

from .protocol import DeviceProtocol, Offer, Outcome, PollReply, ServerError
from .transport import Reply, Transport

#: What a simulated supervisor says it is (sent at registration and in reports).
SUPERVISOR_VERSION = "16.4.6"
OS_VERSION = "balenaOS 5.3.21"
#: Nominal size of one image, in bytes: what failure plans cut and link speeds pace.
DEFAULT_IMAGE_SIZE = 64 * 1024


def _get(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


class BalenaProtocol(DeviceProtocol):
    dialect = "balena"

    def __init__(self, transport: Transport, *, fleet: Any, provisioning_key: str,
                 user: Any = None, device_type: Optional[str] = None,
                 image_size: int = DEFAULT_IMAGE_SIZE, logs: bool = True) -> None:
        """``fleet``: the fleet (application) row (``id`` and ``uuid``); ``provisioning_key``:
        a key of that fleet (``fleetsim.balena.provisioning_key(fleet)`` or the SDK's
        ``application.generate_provisioning_key``); ``user``: the owner (a seeded User or id)."""
        super().__init__(transport)
        self.app_id, self.app_uuid = _get(fleet, "id"), _get(fleet, "uuid")
        if not isinstance(self.app_id, int) or not self.app_uuid:
            raise ValueError("balena agents need the fleet row (its id and uuid): fleet=")
        if not provisioning_key:
            raise ValueError("balena agents need the fleet's provisioning key: provisioning_key=")
        self.key = provisioning_key
        self.user_id = user if isinstance(user, int) or user is None else _get(user, "id")
        self.device_type = device_type
        self.image_size = image_size
        self.logs = logs
        #: per uuid: {commit: {service name: image location}} of releases seen in target states
        self._services: dict[str, dict[str, dict[str, str]]] = {}

    @staticmethod
    def initial(installed: Any) -> tuple[Optional[str], Optional[str]]:
        """``(version, ref)`` of what devices start with: a release row or a commit; both are
        the commit (the supervisor knows releases by commit only)."""
        if installed is None:
            return None, None
        commit = installed if isinstance(installed, str) else _get(installed, "commit")
        return commit, commit

    # -- identity and HTTP -----------------------------------------------------------------------

    @staticmethod
    def uuid(device: Any) -> str:
        """The device's uuid: 32 hex digits derived from its serial (as ``generate_uuid``)."""
        return hashlib.sha256(f"fleetsim-balena:{device.identity.serial}".encode()).hexdigest()[:32]

    def _call(self, device: Any, method: str, path: str, body: Any = None,
              token: Optional[str] = None) -> Reply:
        headers = {"Authorization": f"Bearer {token or device.creds}"}
        data = b""
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        reply = self.transport.request(method, self.transport.url(path), headers, data)
        if reply.status >= 300:
            raise ServerError.from_reply(reply, device.now)
        return reply

    def _report(self, device: Any, fields: dict, releases: Optional[dict] = None,
                running: Optional[str] = None) -> None:
        app: dict[str, Any] = {}
        if running:
            app["release_uuid"] = running
        if releases:
            app["releases"] = releases
        state = {**fields, "apps": {self.app_uuid: app}} if app else fields
        self._call(device, "PATCH", "/device/v3/state", {self.uuid(device): state})

    def _release(self, device: Any, commit: str, status: str, progress: Optional[int],
                 update_status: str) -> dict:
        services = self._services.get(self.uuid(device), {}).get(commit, {})
        return {commit: {"update_status": update_status, "services": {
            name: {"image": image, "status": status, "download_progress": progress}
            for name, image in services.items()}}}

    def _log(self, device: Any, *messages: str, system: bool = True) -> None:
        if not self.logs:
            return
        stamp = int(device.device_time * 1000)
        self._call(device, "POST", f"/device/v2/{self.uuid(device)}/logs",
                   [{"message": m, "timestamp": stamp, "isSystem": system} for m in messages])

    # -- the protocol ----------------------------------------------------------------------------

    def register(self, device: Any) -> None:
        ident = device.identity
        uuid = self.uuid(device)
        api_key = hashlib.sha256(f"fleetsim-balena-key:{ident.serial}".encode()).hexdigest()
        body: dict[str, Any] = {"user": self.user_id, "application": self.app_id, "uuid": uuid,
                                "api_key": api_key, "supervisor_version": SUPERVISOR_VERSION,
                                "os_version": OS_VERSION, "os_variant": "prod",
                                "mac_address": ident.mac}
        if self.device_type:
            body["device_type"] = self.device_type
        reply = self._call(device, "POST", "/device/register", body, token=self.key)
        try:
            device.creds = reply.json()["api_key"]
        except (ValueError, KeyError, TypeError):
            raise ServerError(reply.status, "no api_key in the registration answer") from None
        self._report(device, {"status": "Idle", "ip_address": _ip(ident.index),
                              "mac_address": ident.mac, "os_version": OS_VERSION,
                              "supervisor_version": SUPERVISOR_VERSION},
                     running=device.ref)

    def poll(self, device: Any) -> PollReply:
        uuid = self.uuid(device)
        reply = self._call(device, "GET", f"/device/v3/{uuid}/state")
        try:
            state = reply.json()[uuid]
            app = state["apps"][self.app_uuid]
            releases = app.get("releases") or {}
            interval = float(state["config"]["RESIN_SUPERVISOR_POLL_INTERVAL"]) / 1000
        except (ValueError, KeyError, TypeError):
            raise ServerError(reply.status, "target state without this fleet") from None
        known = self._services.setdefault(uuid, {})
        offer = None
        for commit, release in releases.items():
            services = release.get("services") or {}
            known[commit] = {name: svc.get("image", "") for name, svc in services.items()}
            if commit != device.ref:
                size = self.image_size * max(1, len(services))
                offer = Offer(version=commit, ref=commit, url="", size=size)
        self._actions(device, uuid)
        return PollReply(offer, interval=interval)

    def _actions(self, device: Any, uuid: str) -> None:
        reply = self._call(device, "GET", f"/device/v2/{uuid}/fleetsim/actions")
        try:
            actions = reply.json()["actions"]
        except (ValueError, KeyError, TypeError):
            raise ServerError(reply.status, "actions answer without actions") from None
        for item in actions:
            action = str(item.get("action"))
            device.log("action", action)
            if action in ("reboot", "shutdown"):
                self._log(device, f"Supervisor: {action} requested", "Rebooting")
                self._report(device, {"status": "Idle"})
            elif action in ("restart", "restart-service", "start-service", "stop-service",
                            "start", "stop"):
                self._log(device, f"Supervisor: {action} of the release's services")
            elif action == "purge":
                self._log(device, "Supervisor: purging the data volumes", "Purged data")
            else:
                self._log(device, f"Supervisor: {action}")

    def download(self, device: Any, offer: Offer, start: int = 0) -> Reply:
        """A simulated pull: report progress, then hand the agent ``offer.size`` nominal bytes."""
        size = offer.size or 0
        progress = int(100 * start / size) if size else 0
        self._report(device, {"status": "Downloading", "download_progress": progress},
                     self._release(device, offer.ref, "Downloading", progress, "downloading"),
                     running=device.ref)
        return Reply(206 if start else 200, {"accept-ranges": "bytes"}, bytes(size - start))

    def report(self, device: Any, outcome: Outcome) -> Optional[PollReply]:
        target = outcome.target
        if outcome.ok:
            self._report(device, {"status": "Idle", "download_progress": None},
                         self._release(device, target, "Running", None, "done"), running=target)
            self._log(device, f"Downloaded and started release {target[:7]}")
            return None
        download = outcome.reason.startswith("download")
        status = "Download failed" if download else "Install failed"
        releases = self._release(device, target, status, None,
                                 "aborted" if download else "rejected")
        if device.ref and device.ref != target:
            releases.update(self._release(device, device.ref, "Running", None, "done"))
        self._report(device, {"status": "Idle", "download_progress": None}, releases,
                     running=device.ref)
        self._log(device, f"Failed to update to release {target[:7]}: {outcome.reason}; "
                  "still running the previous release")
        return None

    def describe_group(self) -> dict[str, Any]:
        return {"application": self.app_id, "fleet_uuid": self.app_uuid}


def _ip(index: int) -> str:
    return f"10.{(index >> 16) & 0xFF}.{(index >> 8) & 0xFF}.{index & 0xFF or 1}"
