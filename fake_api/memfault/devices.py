"""Devices and cohorts, as Memfault's Devices reference describes them.

A device belongs to exactly one cohort; ``default`` exists in every project and holds every
device not put elsewhere (auto-created devices too). Devices are keyed ``{project}/{serial}`` so
the OTA check finds one without a scan.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..core.index import Rows
from .errors import ConflictError, InvalidUsageError, NotFoundError
from .util import (
    SLUG_RE,
    Query,
    check_hardware_version,
    check_serial,
    field_error,
    optional_str,
    paginate,
    query_time,
    reject_unknown,
    require_str,
    slugify,
    sort_records,
    values,
)

DEFAULT_COHORT = "default"
DEVICE_FIELDS = ("device_serial", "owner_ref", "hardware_version", "cohort")
DEVICE_PATCH_FIELDS = ("owner_ref", "hardware_version", "cohort", "nickname", "description")


class DevicesMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    devices: dict
    cohorts: dict
    indexes: Any
    releases: dict
    deployments: dict

    # -- cohorts -------------------------------------------------------------------------------

    def cohort(self, project: dict, slug: str) -> Optional[dict]:
        return self.cohorts.get(f"{project['id']}/{slug}")

    def get_cohort(self, project: dict, slug: Any) -> dict:
        """A cohort by slug (or integer id), 404 when unknown, 400 when not a slug at all."""
        if not isinstance(slug, (str, int)) or isinstance(slug, bool):
            raise field_error("cohort", "Not a valid string.")
        record = self.cohort(project, slug) if isinstance(slug, str) else None
        if record is None and isinstance(slug, int) and not isinstance(slug, bool):
            record = next((c for c in self.cohorts.values()
                           if c["project_id"] == project["id"] and c["id"] == slug), None)
        if record is None:
            raise NotFoundError(f"Cohort with slug `{slug}` not found")
        return record

    def create_cohort(self, project: dict, name: Any, slug: Any = None) -> dict:
        """A cohort; the slug defaults to the name, slugified. Duplicates are 409 as documented."""
        name = require_str(name, "name")
        slug = optional_str(slug, "slug") or slugify(name)
        if not SLUG_RE.match(slug):
            raise field_error("slug", "Must be lower-case letters, digits, - and _.")
        if self.cohort(project, slug) is not None or any(
            c["project_id"] == project["id"] and c["name"] == name for c in self.cohorts.values()
        ):
            raise ConflictError(f"Cohort with slug `{slug}` or name `{name}` already exists")
        now = self.now()
        record = {"id": self.ids.counter("memfault.cohort"), "project_id": project["id"],
                  "name": name, "slug": slug, "created_date": now, "updated_date": now}
        self.cohorts[f"{project['id']}/{slug}"] = record
        return record

    def update_cohort(self, project: dict, slug: str, body: dict) -> dict:
        record = self.get_cohort(project, slug)
        reject_unknown(body, ("name",))
        if "name" in body:
            record["name"] = require_str(body["name"], "name")
            record["updated_date"] = self.now()
        return record

    def delete_cohort(self, project: dict, slug: str) -> None:
        """Devices go back to ``default``; the cohort's deployments stop (``default`` stays)."""
        record = self.get_cohort(project, slug)
        if record["slug"] == DEFAULT_COHORT:
            raise InvalidUsageError("The default Cohort cannot be deleted")
        moved = self.indexes[self.devices.name].keys("cohort", (project["id"], record["slug"]))
        for device_key in moved:
            device = self.devices[device_key]
            device["cohort"] = DEFAULT_COHORT
            self.indexes.changed(self.devices, device_key, device)
        for deployment in list(self.deployments.values()):
            if deployment["cohort_id"] == record["id"]:
                self.deactivate(deployment)
        del self.cohorts[f"{project['id']}/{record['slug']}"]

    def list_cohorts(self, project: dict, query: Query) -> tuple[list[dict], dict]:
        rows = [c for c in self.cohorts.values() if c["project_id"] == project["id"]]
        names, slugs = values(query, "name"), values(query, "slug")
        rows = [c for c in rows if (not names or c["name"] in names)
                and (not slugs or c["slug"] in slugs)]
        keys = {"created_date": lambda r: r["id"], "name": lambda r: r["name"],
                "slug": lambda r: r["slug"]}
        return paginate(sort_records(rows, query, keys, "created_date"), query)

    def count_cohort_devices(self, project_id: int, slug: str) -> int:
        return self.indexes[self.devices.name].count("cohort", (project_id, slug))

    def render_cohort(self, record: dict) -> dict:
        deployments = sorted((d for d in self.deployments.values()
                              if d["cohort_id"] == record["id"]), key=lambda d: d["id"])
        active = [d for d in deployments if d["status"] in ("in_progress", "done")]
        return {
            "count_devices": self.count_cohort_devices(record["project_id"], record["slug"]),
            "created_date": record["created_date"],
            "deployments": [self.render_deployment_summary(d) for d in active],
            "id": record["id"],
            "last_deployment": self.render_deployment_summary(deployments[-1]) if deployments
            else None,
            "name": record["name"],
            "slug": record["slug"],
            "updated_date": record["updated_date"],
        }

    def move_devices(self, project: dict, slug: str, serials: Iterable[Any]) -> int:
        """``PATCH .../cohorts/{slug}/devices``: every listed device leaves its old cohort."""
        cohort = self.get_cohort(project, slug)
        found = []
        for serial in serials:
            found.append(self.get_device(project, check_serial(serial)))
        for device in found:
            device["cohort"] = cohort["slug"]
            device["updated_date"] = self.now()
            self.device_changed(device)
        return len(found)

    # -- devices -------------------------------------------------------------------------------

    def device_changed(self, device: dict) -> None:
        """Call after changing a device's cohort, hardware version or last-seen release in place:
        the indexes regroup it (counts and lists read them)."""
        self.indexes.changed(self.devices, f"{device['project_id']}/{device['device_serial']}",
                             device)

    def device(self, project: dict, serial: str) -> Optional[dict]:
        return self.devices.get(f"{project['id']}/{serial}")

    def get_device(self, project: dict, serial: str) -> dict:
        record = self.device(project, serial)
        if record is None:
            raise NotFoundError(f"Device with serial `{serial}` not found")
        return record

    def project_devices(self, project: dict) -> list[dict]:
        """A project's devices in creation order (from the index: no scan of other projects)."""
        return list(self.indexes[self.devices.name].records("project", project["id"]))

    def create_device(self, project: dict, body: dict) -> dict:
        """``POST .../devices``: ``device_serial`` and ``hardware_version`` are required;
        ``owner_ref`` defaults to ``""`` and a new hardware version is created, as Memfault's
        "Adding a Device to a Cohort" tutorial shows (its capture beats the reference's
        "Required" on ``owner_ref``); 409 when the serial exists."""
        reject_unknown(body, DEVICE_FIELDS)
        problems: dict[str, list[str]] = {}
        for field in ("device_serial", "hardware_version"):
            if body.get(field) is None:
                problems[field] = ["Missing data for required field."]
        if problems:
            raise InvalidUsageError(problems)
        serial = check_serial(body["device_serial"])
        owner_ref = optional_str(body.get("owner_ref"), "owner_ref", "")
        hardware_version = check_hardware_version(body["hardware_version"])
        cohort = self.get_cohort(project, body["cohort"]) if body.get("cohort") is not None \
            else self.get_cohort(project, DEFAULT_COHORT)
        if self.device(project, serial) is not None:
            raise ConflictError(f"Device with serial `{serial}` already exists")
        if self.hardware_version(project, hardware_version) is None:
            self.create_hardware_version(project, hardware_version)
        return self.add_device(project, serial, hardware_version, owner_ref=owner_ref,
                               cohort=cohort["slug"])

    def add_device(self, project: dict, serial: str, hardware_version: Optional[str], *,
                   owner_ref: str = "", cohort: str = DEFAULT_COHORT) -> dict:
        """Store a device (no checks): what creation, auto-creation and seeding share."""
        now = self.now()
        record = {
            "id": self.ids.counter("memfault.device"), "project_id": project["id"],
            "device_serial": serial, "owner_ref": owner_ref, "hardware_version": hardware_version,
            "cohort": cohort, "nickname": None, "description": None,
            "last_seen": None, "last_seen_release_id": None, "last_seen_software_type": None,
            "created_date": now, "updated_date": now,
        }
        self.indexes.put(self.devices, f"{project['id']}/{serial}", record)
        return record

    def update_device(self, project: dict, serial: str, body: dict) -> dict:
        """``PATCH .../devices/{serial}``: validate everything first, then apply (no half-updates)."""
        device = self.get_device(project, serial)
        reject_unknown(body, DEVICE_PATCH_FIELDS)
        changes: dict[str, Any] = {}
        if "owner_ref" in body:
            changes["owner_ref"] = optional_str(body["owner_ref"], "owner_ref", "")
        for field in ("nickname", "description"):
            if field in body:
                changes[field] = optional_str(body[field], field)
        if "hardware_version" in body:
            name = check_hardware_version(body["hardware_version"])
            changes["hardware_version"] = self.get_hardware_version(project, name)["name"]
        if "cohort" in body:
            if not isinstance(body["cohort"], (str, int)) or isinstance(body["cohort"], bool):
                raise field_error("cohort", "Not a valid string.")
            changes["cohort"] = self.get_cohort(project, body["cohort"])["slug"]
        if changes:
            device.update(changes)
            device["updated_date"] = self.now()
            self.device_changed(device)
        return device

    def delete_device(self, project: dict, serial: str) -> None:
        device = self.get_device(project, serial)
        self.forget_attribute_states(device)
        self.indexes.drop(self.devices, f"{project['id']}/{device['device_serial']}")

    def list_devices(self, project: dict, query: Query, cohort: Optional[str] = None
                     ) -> tuple[list[dict], dict]:
        """Filters ``release[]``, ``owner_ref[]``, ``hardware_version[]``, ``last_seen_since``,
        ``last_seen_until``; ``sort`` (``-`` descending, default ``created_date``); paging.

        Unfiltered and in creation order, a page comes straight from the index (its cost is the
        page's); filters and other sort orders look at every device of the project or cohort.
        """
        releases = values(query, "release")
        owners = values(query, "owner_ref")
        hardware = values(query, "hardware_version")
        since, until = query_time(query, "last_seen_since"), query_time(query, "last_seen_until")
        grouping, bucket = ("project", project["id"]) if cohort is None else \
            ("cohort", (project["id"], cohort))
        sort = values(query, "sort")
        if not (releases or owners or hardware or since or until) and \
                sort in ([], ["created_date"], ["-created_date"]):
            index = self.indexes[self.devices.name]
            return paginate(Rows(index, grouping, bucket, reverse=sort == ["-created_date"]),
                            query)
        rows = list(self.indexes[self.devices.name].records(grouping, bucket))
        if releases:
            rows = [d for d in rows if self._last_seen_version(d) in releases]
        if owners:
            rows = [d for d in rows if d["owner_ref"] in owners]
        if hardware:
            rows = [d for d in rows if d["hardware_version"] in hardware]
        if since is not None:
            rows = [d for d in rows if d["last_seen"] and self.parse_time(d["last_seen"]) > since]
        if until is not None:
            rows = [d for d in rows if d["last_seen"] and self.parse_time(d["last_seen"]) < until]
        keys = {
            "last_seen": lambda d: self.parse_time(d["last_seen"]) if d["last_seen"] else None,
            "created_date": lambda d: d["id"],
            "device_serial": lambda d: d["device_serial"],
        }
        return paginate(sort_records(rows, query, keys, "created_date"), query)

    def _last_seen_version(self, device: dict) -> Optional[str]:
        release = self.releases.get(str(device["last_seen_release_id"]))
        return release["version"] if release else None

    def render_device(self, device: dict) -> dict:
        """Exactly the fields of the Devices reference."""
        release = self.releases.get(str(device["last_seen_release_id"]))
        cohort = self.cohort({"id": device["project_id"]}, device["cohort"])
        return {
            "id": device["id"],
            "created_date": device["created_date"],
            "updated_date": device["updated_date"],
            "device_serial": device["device_serial"],
            "owner_ref": device["owner_ref"],
            "hardware_version": device["hardware_version"],
            "last_seen": device["last_seen"],
            "last_seen_release": {"id": release["id"], "version": release["version"],
                                  "revision": release["revision"]} if release else None,
            "cohort": {"id": cohort["id"], "name": cohort["name"], "slug": cohort["slug"]}
            if cohort else None,
        }
