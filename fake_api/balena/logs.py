"""Device logs: devices write them (``POST /device/v2/<uuid>/logs``), users read the history
(``GET .../logs?count=N|all``) or follow them (``?stream=1``: newline-delimited JSON over a
held-open response). No Flask here.

As open-balena: the last 1000 lines per device are kept (the retention limit caps ``count`` too),
history defaults to 1000 lines and a stream to none before the new ones, only the device's own
key may write, and a log line is ``{message, createdAt, timestamp, isStdErr, isSystem,
serviceId}`` with ``createdAt`` the server's time (ms) and ``timestamp`` the device's.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Iterator, Optional

from .auth import DEVICE, Actor
from .errors import bad_request, not_found, unauthorized

RETENTION = 1000
HISTORY_COUNT = 1000
STREAM_COUNT = 0
#: open-balena writes a bare newline this often (ms) to keep a stream's connection alive.
HEARTBEAT_S = 58.0
#: A stream ends after an hour, as open-balena's subscriptions expire.
STREAM_LIFETIME_S = 3600.0
MAX_LINES_PER_POST = 1000
_EPOCH = "_epoch"  # a key of the lines table that a reset clears: open streams then end


class DeviceLogs:
    """Per-device log lines in the store table ``balena._logs`` (str(device id) -> lines)."""

    def __init__(self, backend: Any, device_state: Any) -> None:
        self.backend = backend
        self.db = backend.db
        self.state = device_state
        self._lines = backend.cloud.store.table("balena._logs")
        self._changed = threading.Condition()
        self._generation = 0

    def _device(self, actor: Optional[Actor], uuid: str) -> dict:
        if actor is None:
            raise unauthorized()
        found = self.db.find("device", uuid=uuid)
        visible = self.backend.permissions.read_filter("device", actor)
        if not found or (visible is not None and not visible(found[0])):
            raise not_found(f"No device with uuid {uuid}")
        return found[0]

    def write(self, actor: Optional[Actor], uuid: str, body: Any) -> None:
        """A device posts a list of ``{message, timestamp[, isStdErr, isSystem, serviceId]}``."""
        if actor is None:
            raise unauthorized()
        with self.backend.lock:
            device = self._device(actor, uuid)
            if actor.kind != DEVICE or actor.id != device["id"]:
                raise unauthorized()
            if isinstance(body, dict):
                body = [body]
            if not isinstance(body, list) or len(body) > MAX_LINES_PER_POST:
                raise bad_request("Invalid log format")
            now_ms = int(self.backend.clock.time() * 1000)
            new = [self._line(item, now_ms) for item in body]
            lines = list(self._lines.get(str(device["id"]), []))
            n = lines[-1]["n"] if lines else 0
            for i, line in enumerate(new, 1):
                line["n"] = n + i  # order within the device (never served)
            lines.extend(new)
            self._lines[str(device["id"])] = lines[-RETENTION:]
        if new:
            with self._changed:
                self._generation += 1
                self._changed.notify_all()

    @staticmethod
    def _line(item: Any, now_ms: int) -> dict:
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            raise bad_request("Invalid log format")
        stamp = item.get("timestamp", now_ms)
        if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
            raise bad_request("Invalid log format")
        service = item.get("serviceId")
        if service is not None and (isinstance(service, bool) or not isinstance(service, int)):
            raise bad_request("Invalid log format")
        return {"message": item["message"], "createdAt": now_ms, "timestamp": int(stamp),
                "isStdErr": bool(item.get("isStdErr", False)),
                "isSystem": bool(item.get("isSystem", False)), "serviceId": service}

    @staticmethod
    def count(raw: Optional[str], default: int) -> int:
        if raw is None:
            return default
        if raw == "all":
            return RETENTION
        try:
            return max(0, min(int(raw), RETENTION))
        except ValueError:
            return default

    def history(self, actor: Optional[Actor], uuid: str, count: Optional[str]) -> list[dict]:
        with self.backend.lock:
            device = self._device(actor, uuid)
            n = self.count(count, HISTORY_COUNT)
            lines = self._lines.get(str(device["id"]), [])
            return [_public(line) for line in lines[len(lines) - n:]] if n else []

    def stream(self, actor: Optional[Actor], uuid: str, count: Optional[str]) -> Iterator[str]:
        """Checks access now (so errors are proper answers), then yields NDJSON lines: the
        requested history, then every new line, with a bare newline every 58 s."""
        with self.backend.lock:
            device = self._device(actor, uuid)
            key = str(device["id"])
            n = self.count(count, STREAM_COUNT)
            lines = list(self._lines.get(key, []))
            first = lines[len(lines) - n:] if n else []
            last = lines[-1]["n"] if lines else 0
            if _EPOCH not in self._lines:
                self._lines[_EPOCH] = self.backend.ids.hex("balena.logs.epoch", 16)
            epoch = self._lines[_EPOCH]
        return self._follow(key, first, last, epoch)

    def _follow(self, key: str, first: list, last: int, epoch: str) -> Iterator[str]:
        yield ""  # an empty chunk: the server sends the status and headers right away
        for line in first:
            yield json.dumps(_public(line)) + "\n"
        started = last_write = time.monotonic()
        while time.monotonic() - started < STREAM_LIFETIME_S:
            with self._changed:
                self._changed.wait(timeout=0.5)
            with self.backend.lock:
                lines = self._lines.get(key)
                if self._lines.get(_EPOCH) != epoch or self.db.get("device", int(key)) is None:
                    return  # the cloud was reset or restored, or the device removed
                lines = list(lines or [])
            new = [line for line in lines if line["n"] > last]
            if new:
                last = new[-1]["n"]
                last_write = time.monotonic()
                yield "".join(json.dumps(_public(line)) + "\n" for line in new)
            elif time.monotonic() - last_write >= HEARTBEAT_S:
                last_write = time.monotonic()
                yield "\n"


def _public(line: dict) -> dict:
    return {k: v for k, v in line.items() if k != "n"}
