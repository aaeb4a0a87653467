"""Hardware versions, software types and software versions of a project.

A hardware version names a board revision (artifacts are per hardware version); a software type
names a firmware image kind (``main``, ``mfw``...); a software version is one version of one
software type, created when an OTA payload is committed or a device reports it.
"""

from __future__ import annotations

from typing import Any, Optional

from .errors import ConflictError, NotFoundError
from .util import Query, check_hardware_version, check_version, paginate, require_str, sort_records


class CatalogMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    hardware_versions: dict
    software_types: dict
    software_versions: dict
    devices: dict
    indexes: Any

    # -- software types ------------------------------------------------------------------------

    def software_type(self, project: dict, name: str, *, create: bool = False) -> Optional[dict]:
        """The software type called ``name``; with ``create``, made on first use."""
        key = f"{project['id']}/{name}"
        record = self.software_types.get(key)
        if record is None and create:
            name = require_str(name, "software_type")
            now = self.now()
            record = {"id": self.ids.counter("memfault.software_type"), "project_id": project["id"],
                      "name": name, "archived": False, "created_date": now, "updated_date": now}
            self.software_types[key] = record
        return record

    def create_software_type(self, project: dict, name: Any) -> dict:
        name = require_str(name, "name")
        if self.software_type(project, name) is not None:
            raise ConflictError(f"SoftwareType with name `{name}` already exists")
        return self.software_type(project, name, create=True)  # type: ignore[return-value]

    def get_software_type(self, project: dict, name: str) -> dict:
        record = self.software_type(project, name)
        if record is None:
            raise NotFoundError(f"SoftwareType with name `{name}` not found")
        return record

    def project_software_types(self, project: dict) -> list[dict]:
        return [t for t in self.software_types.values() if t["project_id"] == project["id"]]

    def render_software_type(self, record: dict) -> dict:
        versions = [v for v in self.software_versions.values()
                    if v["software_type_id"] == record["id"]]
        latest = max(versions, key=lambda v: v["id"], default=None)
        return {
            "archived": record["archived"],
            "created_date": record["created_date"],
            "id": record["id"],
            "latest_software_version": self.render_software_version(latest) if latest else None,
            "name": record["name"],
            "software_version_string_format": None,
            "software_versions_count": len(versions),
            "updated_date": record["updated_date"],
        }

    def software_type_values(self, project: dict, query: Query) -> tuple[list[dict], dict]:
        """What the CLI asks after a deploy to pick the primary software type for its UI link."""
        primaries = {h["primary_software_type"] for h in self.hardware_versions.values()
                     if h["project_id"] == project["id"]}
        rows = []
        for record in self.project_software_types(project):
            active = sum(1 for d in self.devices.values() if d["project_id"] == project["id"]
                         and d.get("last_seen_software_type") == record["name"])
            rows.append({"name": record["name"], "is_primary_type": record["name"] in primaries,
                         "active_device_count": active})
        keys = {"name": lambda r: r["name"], "is_primary_type": lambda r: r["is_primary_type"],
                "active_device_count": lambda r: r["active_device_count"]}
        return paginate(sort_records(rows, query, keys, "name"), query)

    # -- software versions ---------------------------------------------------------------------

    def software_version(self, project: dict, software_type: str, version: str, *,
                         create: bool = False, revision: str = "") -> Optional[dict]:
        key = f"{project['id']}/{software_type}/{version}"
        record = self.software_versions.get(key)
        if record is None and create:
            check_version(version)
            stype = self.software_type(project, software_type, create=True)
            now = self.now()
            record = {"id": self.ids.counter("memfault.software_version"),
                      "project_id": project["id"], "software_type_id": stype["id"],
                      "software_type": software_type, "version": version,
                      "revision": revision or "", "created_date": now, "updated_date": now}
            self.software_versions[key] = record
        return record

    def get_software_version(self, project: dict, software_type: str, version: str) -> dict:
        self.get_software_type(project, software_type)
        record = self.software_version(project, software_type, version)
        if record is None:
            raise NotFoundError(f"SoftwareVersion with version `{version}` not found")
        return record

    def list_software_versions(self, project: dict, software_type: str, query: Query
                               ) -> tuple[list[dict], dict]:
        self.get_software_type(project, software_type)
        rows = [v for v in self.software_versions.values()
                if v["project_id"] == project["id"] and v["software_type"] == software_type]
        keys = {"created_date": lambda r: r["id"], "version": lambda r: self.version_key(r["version"])}
        return paginate(sort_records(rows, query, keys, "-created_date"), query)

    def render_software_version(self, record: dict) -> dict:
        return {
            "id": record["id"],
            "version": record["version"],
            "revision": record["revision"],
            "software_type": {"id": record["software_type_id"], "name": record["software_type"]},
            "created_date": record["created_date"],
            "updated_date": record["updated_date"],
        }

    # -- hardware versions ---------------------------------------------------------------------

    def hardware_version(self, project: dict, name: str) -> Optional[dict]:
        return self.hardware_versions.get(f"{project['id']}/{name}")

    def get_hardware_version(self, project: dict, name: str) -> dict:
        """The hardware version, or Memfault's 404 (Nordic's client matches this exact text)."""
        record = self.hardware_version(project, name)
        if record is None:
            raise NotFoundError(f"HardwareVersion with name `{name}` not found")
        return record

    def create_hardware_version(self, project: dict, name: Any,
                                primary_software_type: Any = "main") -> dict:
        """A hardware version; its primary software type is created when it does not exist."""
        name = check_hardware_version(name, "name")
        stype_name = require_str(primary_software_type, "primary_software_type")
        if self.hardware_version(project, name) is not None:
            raise ConflictError(f"HardwareVersion with name `{name}` already exists")
        self.software_type(project, stype_name, create=True)
        now = self.now()
        record = {"id": self.ids.counter("memfault.hardware_version"), "project_id": project["id"],
                  "name": name, "primary_software_type": stype_name,
                  "created_date": now, "updated_date": now}
        self.hardware_versions[f"{project['id']}/{name}"] = record
        return record

    def delete_hardware_version(self, project: dict, name: str) -> None:
        record = self.get_hardware_version(project, name)
        if self.indexes[self.devices.name].count("hardware", (project["id"], name)):
            raise ConflictError(f"HardwareVersion with name `{name}` still has devices")
        del self.hardware_versions[f"{project['id']}/{record['name']}"]

    def list_hardware_versions(self, project: dict, query: Query) -> tuple[list[dict], dict]:
        rows = [h for h in self.hardware_versions.values() if h["project_id"] == project["id"]]
        keys = {"name": lambda r: r["name"], "created_date": lambda r: r["id"]}
        return paginate(sort_records(rows, query, keys, "created_date"), query)

    def render_hardware_version(self, record: dict) -> dict:
        project = {"id": record["project_id"]}
        primary = self.software_type(project, record["primary_software_type"])
        types = [t for t in self.project_software_types(project)]
        return {
            "id": record["id"],
            "name": record["name"],
            "count_devices": self.indexes[self.devices.name].count(
                "hardware", (record["project_id"], record["name"])),
            "primary_software_type": self.render_software_type(primary) if primary else None,
            "software_types": [{"id": t["id"], "name": t["name"]} for t in types],
            "created_date": record["created_date"],
            "updated_date": record["updated_date"],
        }
