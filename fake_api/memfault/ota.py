"""The device side: the OTA check (``/releases/latest``), chunks and device-written attributes.

Which release a device gets, among the releases active in its cohort (for a staged rollout, only
if the device is staged) that have an artifact for the request's hardware version and software
type — everything else is "treated as if it did not exist":

1. a delta release whose from-version equals ``current_version`` (the highest to-version wins);
2. else the must-pass-through full release with the *lowest* version above ``current_version``;
3. else the full release with the *highest* version above ``current_version``;
4. else nothing: 204 with ``memfault-reason: latest``.

Without ``current_version`` the highest applicable full release is returned. Versions are
ordered with ``core.rollout.release_key`` (Memfault's natsort order). No downgrades.
"""

from __future__ import annotations

from typing import Any, Optional

from .devices import DEFAULT_COHORT
from .errors import InvalidUsageError
from .util import HARDWARE_VERSION_RE, SERIAL_RE, VERSION_RE, Query, check_serial, first


class OtaMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    chunks: dict
    indexes: Any

    def latest_release(self, project: dict, query: Query) -> tuple[Optional[dict], dict]:
        """``(release or None, context)`` for an OTA check; records the device as seen."""
        problems: dict[str, list[str]] = {}
        params = {}
        for name in ("device_serial", "hardware_version", "software_type"):
            value = first(query, name)
            if not value:
                problems[name] = ["Missing data for required field."]
            params[name] = value
        if problems:
            raise InvalidUsageError(problems)
        serial, hardware, software_type = (params["device_serial"], params["hardware_version"],
                                           params["software_type"])
        if not SERIAL_RE.match(serial):
            raise InvalidUsageError({"device_serial": ["Not a valid device serial."]})
        if not HARDWARE_VERSION_RE.match(hardware) or self.hardware_version(project, hardware) is None:
            raise InvalidUsageError(f"HardwareVersion with name `{hardware}` does not exist")
        if self.software_type(project, software_type) is None:
            raise InvalidUsageError(f"SoftwareType with name `{software_type}` does not exist")
        current = first(query, "current_version") or None

        device = self.device(project, serial)
        if device is None:
            device = self.add_device(project, serial, hardware)
        self.record_seen(project, device, software_type, current)

        cohort = self.cohort(project, device["cohort"]) or self.cohort(project, DEFAULT_COHORT)
        candidates = []
        for deployment in self.active_deployments(project["id"], cohort["id"]):
            release = self.releases.get(str(deployment["release_id"]))
            if release is None or not self.is_staged(deployment, serial):
                continue
            if any(a["hardware_version"] == hardware and a["software_type"] == software_type
                   for a in self.release_artifacts(release)):
                candidates.append(release)
        chosen = self.pick_release(candidates, current)
        return chosen, {"hardware_version": hardware, "software_type": software_type}

    def pick_release(self, candidates: list[dict], current: Optional[str]) -> Optional[dict]:
        """Memfault's precedence: delta from current, then lowest MPT above, then highest full."""
        key = self.version_key
        fulls = [r for r in candidates if r["delta_from"] is None]
        if current is None:
            return max(fulls, key=lambda r: key(r["version"]), default=None)
        now = key(current)
        deltas = [r for r in candidates if r["delta_from"] is not None
                  and key(r["delta_from"]) == now and key(r["version"]) > now]
        if deltas:
            return max(deltas, key=lambda r: key(r["version"]))
        newer = [r for r in fulls if key(r["version"]) > now]
        mpt = [r for r in newer if r["must_pass_through"]]
        if mpt:
            return min(mpt, key=lambda r: key(r["version"]))
        return max(newer, key=lambda r: key(r["version"]), default=None)

    def record_seen(self, project: dict, device: dict, software_type: Optional[str],
                    version: Optional[str]) -> None:
        """``last_seen`` now; ``last_seen_release`` from the reported version (a release is
        created for a version Memfault has not heard of, as Memfault does for reported ones)."""
        now = self.now()
        device["last_seen"] = now
        if software_type:
            device["last_seen_software_type"] = software_type
        if version and VERSION_RE.match(version):
            release = self.full_release(project, version)
            if release is None:
                release = self.new_release(project, version)
            if software_type:
                self.software_version(project, software_type, version, create=True)
            if device["last_seen_release_id"] != release["id"]:
                device["last_seen_release_id"] = release["id"]
                self.device_changed(device)

    def render_latest(self, release: dict, context: dict, base_url: str) -> dict:
        """The top-level release JSON of a 200 (no ``data`` wrapper)."""
        body = self.render_release(release, base_url, **context)
        body["is_forced"] = None
        body["reason"] = "latest"
        return body

    # -- chunks and device-written attributes --------------------------------------------------

    def device_for_data(self, project: dict, serial: str) -> dict:
        """The device an upload speaks for, auto-created in ``default`` when unknown."""
        serial = check_serial(serial)
        device = self.device(project, serial)
        if device is None:
            device = self.add_device(project, serial, None)
        return device

    def post_chunks(self, project: dict, serial: str, chunks: list[bytes]) -> list[dict]:
        """Record chunks in arrival order (the SDK sends them in sequence)."""
        if not chunks or any(not c for c in chunks):
            raise InvalidUsageError("Empty chunk")
        device = self.device_for_data(project, serial)
        device["last_seen"] = self.now()
        stored = []
        for data in chunks:
            record = {"id": self.ids.counter("memfault.chunk"), "project_id": project["id"],
                      "device_serial": device["device_serial"], "size": len(data),
                      "data": bytes(data), "received_date": self.now()}
            self.chunks[str(record["id"])] = record
            stored.append(record)
        return stored

    def device_chunks(self, project: dict, serial: str) -> list[bytes]:
        """Every chunk a device posted, in order (for tests and agents)."""
        return [c["data"] for c in sorted(self.chunks.values(), key=lambda c: c["id"])
                if c["project_id"] == project["id"] and c["device_serial"] == serial]

    def device_writes_attributes(self, project: dict, serial: Any, body: Any) -> None:
        """``PATCH /api/v0/attributes?device_serial=``: the device-side attribute write."""
        if not serial:
            raise InvalidUsageError({"device_serial": ["Missing data for required field."]})
        writes = self.check_attributes(project, body)
        device = self.device_for_data(project, serial)
        self.write_attributes(project, device, writes)
        device["last_seen"] = self.now()
