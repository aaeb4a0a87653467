"""Device attributes: project-wide definitions (``custom-metrics``) and a value per device.

``GET .../devices/{serial}/attributes`` lists every definition with that device's state (or
``null``); ``PATCH`` takes ``[{"string_key", "value"}, ...]``. Writing a key that is not defined
yet defines it with the type of the value (fleetsim's reading of Memfault's "attributes are
created on first write"); a value of the wrong type for a defined key is a 400.
"""

from __future__ import annotations

from typing import Any, Optional

from ..core.journal import glob
from .errors import ConflictError, InvalidUsageError
from .util import field_error, require_str

DATA_TYPES = ("INT", "FLOAT", "STRING", "BOOL")


def _type_of(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "FLOAT"
    if isinstance(value, str):
        return "STRING"
    return None


def _fits(data_type: str, value: Any) -> bool:
    kind = _type_of(value)
    return value is None or kind == data_type or (data_type == "FLOAT" and kind == "INT")


class AttributesMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    custom_metrics: dict
    attribute_states: dict

    def create_custom_metric(self, project: dict, body: dict) -> dict:
        string_key = require_str(body.get("string_key"), "string_key")
        data_type = body.get("data_type", "STRING")
        if data_type not in DATA_TYPES:
            raise field_error("data_type", f"Must be one of: {', '.join(DATA_TYPES)}.")
        if f"{project['id']}/{string_key}" in self.custom_metrics:
            raise ConflictError(f"Attribute with string_key `{string_key}` already exists")
        return self._define(project, string_key, data_type, body)

    def _define(self, project: dict, string_key: str, data_type: str, body: dict) -> dict:
        record = {
            "id": self.ids.uuid("memfault.custom_metric"), "project_id": project["id"],
            "string_key": string_key, "data_type": data_type,
            "description": str(body.get("description") or ""),
            "display_name": str(body.get("display_name") or ""),
            "favorite": False, "ignored_values": [], "range": {"min": None, "max": None},
            "updatable": True,
        }
        self.custom_metrics[f"{project['id']}/{string_key}"] = record
        return record

    def render_custom_metric(self, record: dict) -> dict:
        return {k: v for k, v in record.items() if k != "project_id"}

    def device_attributes(self, project: dict, device: dict, pattern: Optional[str]) -> list[dict]:
        """Every definition (matching ``q``, ``*`` wildcards) with this device's state or null."""
        out = []
        matches = glob(pattern).match if pattern else None  # not fnmatch: its cache is unbounded
        for record in self.custom_metrics.values():
            if record["project_id"] != project["id"]:
                continue
            if matches is not None and not matches(record["string_key"]):
                continue
            state = self.attribute_states.get(self._state_key(device, record["string_key"]))
            out.append({"custom_metric": self.render_custom_metric(record),
                        "state": dict(state["state"]) if state else None})
        return out

    def update_device_attributes(self, project: dict, device: dict, body: Any) -> None:
        """Validate the whole list first, then write: a bad item changes nothing."""
        self.write_attributes(project, device, self.check_attributes(project, body))

    def check_attributes(self, project: dict, body: Any) -> list[tuple]:
        """The ``(string_key, value, definition)`` writes of a PATCH body, or a 400."""
        if not isinstance(body, list):
            raise InvalidUsageError({"_schema": ["Invalid input type: expected a list."]})
        writes = []
        for index, item in enumerate(body):
            if not isinstance(item, dict) or set(item) - {"string_key", "value"}:
                raise InvalidUsageError({str(index): {"_schema": [
                    "Expected an object with string_key and value."]}})
            try:
                key = require_str(item.get("string_key"), "string_key")
            except InvalidUsageError as exc:
                raise InvalidUsageError({str(index): exc.payload}) from None
            value = item.get("value")
            if value is not None and _type_of(value) is None:
                raise InvalidUsageError({str(index): {"value": ["Not a valid value."]}})
            defined = self.custom_metrics.get(f"{project['id']}/{key}")
            if defined is not None and not _fits(defined["data_type"], value):
                raise InvalidUsageError({str(index): {"value": [
                    f"Not a valid {defined['data_type']} value."]}})
            writes.append((key, value, defined))
        return writes

    def write_attributes(self, project: dict, device: dict, writes: list[tuple]) -> None:
        now = self.now()
        for key, value, defined in writes:
            if defined is None:
                if value is None:
                    continue
                self._define(project, key, _type_of(value) or "STRING", {})
            state_key = self._state_key(device, key)
            existing = self.attribute_states.get(state_key)
            created = existing["state"]["created_date"] if existing else now
            self.attribute_states[state_key] = {
                "device_id": device["id"],
                "state": {"created_date": created, "time": now, "updated_date": now,
                          "value": value},
            }
        if writes:
            device["updated_date"] = now

    def forget_attribute_states(self, device: dict) -> None:
        for key in [k for k, v in self.attribute_states.items() if v["device_id"] == device["id"]]:
            del self.attribute_states[key]

    @staticmethod
    def _state_key(device: dict, string_key: str) -> str:
        return f"{device['project_id']}/{device['device_serial']}/{string_key}"
