"""Releases (full ``version`` or delta ``from -> to``) and their artifacts (OTA payloads).

A release is project-wide; it holds one artifact per ``(hardware_version, software_type,
firmware_type)``. Committing an OTA payload creates the release, its software version and (if
needed) the hardware version, as Memfault's "a Release is created automatically" says.
Committing a second payload for the same slot is a 409, which memfault-cli reads as "already
uploaded".
"""

from __future__ import annotations

from typing import Any, Optional

from .errors import ConflictError, InvalidUsageError, NotFoundError
from .util import (
    Query,
    check_hardware_version,
    check_version,
    field_error,
    optional_bool,
    optional_mapping,
    optional_str,
    paginate,
    reject_unknown,
    require_str,
    sort_records,
    values,
)

FIRMWARE_TYPES = ("standalone", "zchunk_header_swu", "zchunk_image")
RELEASE_FIELDS = ("version", "min_version", "revision", "notes", "extra_info", "display_name",
                  "must_pass_through")
COMMIT_FIELDS = ("file", "software_version", "must_pass_through", "hardware_version", "notes",
                 "extra_info", "firmware_type", "component_version", "component_base_version")
#: How long an artifact URL stays valid: "CDN links that expire after 6 hours".
ARTIFACT_URL_TTL = 6 * 3600


class ReleasesMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    releases: dict
    artifacts: dict
    indexes: Any

    # -- lookups -------------------------------------------------------------------------------

    def full_release(self, project: dict, version: str) -> Optional[dict]:
        return self.indexes[self.releases.name].first("full", (project["id"], version))

    def delta_release(self, project: dict, delta_from: str, delta_to: str) -> Optional[dict]:
        return next((r for r in self.releases.values() if r["project_id"] == project["id"]
                     and r["delta_from"] == delta_from and r["version"] == delta_to), None)

    def get_release(self, project: dict, ref: Any) -> dict:
        """A release by version string, ``[from, to]`` (delta) or integer id, or 404."""
        record = None
        if isinstance(ref, (list, tuple)):
            if len(ref) != 2 or not all(isinstance(v, str) for v in ref):
                raise field_error("release", "A delta release is [from_version, to_version].")
            record = self.delta_release(project, ref[0], ref[1])
            label = f"{ref[0]} -> {ref[1]}"
        elif isinstance(ref, int) and not isinstance(ref, bool):
            found = self.releases.get(str(ref))
            record = found if found and found["project_id"] == project["id"] else None
            label = str(ref)
        elif isinstance(ref, str) and ref:
            record = self.full_release(project, ref)
            label = ref
        else:
            raise field_error("release", "Not a valid release version.")
        if record is None:
            raise NotFoundError(f"Release with version `{label}` not found")
        return record

    def release_artifacts(self, release: dict) -> list[dict]:
        return sorted((a for a in self.artifacts.values() if a["release_id"] == release["id"]),
                      key=lambda a: a["id"])

    # -- releases ------------------------------------------------------------------------------

    def new_release(self, project: dict, version: str, *, delta_from: Optional[str] = None,
                    revision: str = "", notes: str = "", min_version: str = "",
                    extra_info: Optional[dict] = None, must_pass_through: bool = False,
                    display_name: str = "") -> dict:
        now = self.now()
        record = {
            "id": self.ids.counter("memfault.release"), "project_id": project["id"],
            "version": version, "delta_from": delta_from, "revision": revision or "",
            "notes": notes or "", "min_version": min_version or "", "extra_info": extra_info,
            "must_pass_through": bool(must_pass_through), "display_name": display_name or "",
            "created_date": now, "updated_date": now,
        }
        self.indexes.put(self.releases, str(record["id"]), record)
        return record

    def create_release(self, project: dict, body: dict) -> dict:
        """``POST .../releases``: a full release without artifacts; 409 if the version exists."""
        reject_unknown(body, RELEASE_FIELDS)
        version = check_version(body.get("version"))
        fields = self._release_fields(body)
        if self.full_release(project, version) is not None:
            raise ConflictError(f"Release with version `{version}` already exists")
        return self.new_release(project, version, **fields)

    def _release_fields(self, body: dict) -> dict:
        fields: dict[str, Any] = {}
        for name in ("revision", "notes", "min_version", "display_name"):
            if name in body:
                fields[name] = optional_str(body[name], name, "")
        if "extra_info" in body:
            fields["extra_info"] = optional_mapping(body["extra_info"], "extra_info")
        if "must_pass_through" in body:
            fields["must_pass_through"] = optional_bool(body["must_pass_through"],
                                                        "must_pass_through")
        return fields

    def update_release(self, release: dict, body: dict) -> dict:
        reject_unknown(body, tuple(f for f in RELEASE_FIELDS if f != "version"))
        fields = self._release_fields(body)
        if fields:
            release.update(fields)
            release["updated_date"] = self.now()
        return release

    def delete_release(self, release: dict) -> None:
        """Only once no deployment of it is active (Memfault: "after all activations are pulled")."""
        related = [d for d in self.deployments.values() if d["release_id"] == release["id"]]
        if any(d["status"] in ("in_progress", "done") for d in related):
            raise InvalidUsageError(
                "This Release is active in a Cohort; deactivate it before deleting it")
        for deployment in related:
            del self.deployments[str(deployment["id"])]
        for artifact in self.release_artifacts(release):
            self.cloud.blobs.delete(artifact["blob_id"])
            del self.artifacts[str(artifact["id"])]
        self.indexes.drop(self.releases, str(release["id"]))

    def list_releases(self, project: dict, query: Query, *, delta: bool = False
                      ) -> tuple[list[dict], dict]:
        """Filters ``version[]``, ``revision[]``, ``hardware_version[]``, ``build_id[]``."""
        rows = [r for r in self.releases.values() if r["project_id"] == project["id"]
                and (r["delta_from"] is not None) == delta]
        versions, revisions = values(query, "version"), values(query, "revision")
        hardware, build_ids = values(query, "hardware_version"), values(query, "build_id")
        if versions:
            rows = [r for r in rows if r["version"] in versions]
        if revisions:
            rows = [r for r in rows if r["revision"] in revisions]
        if hardware:
            rows = [r for r in rows if any(a["hardware_version"] in hardware
                                           for a in self.release_artifacts(r))]
        if build_ids:
            rows = [r for r in rows if any(a["build_id"] in build_ids
                                           for a in self.release_artifacts(r))]
        keys = {"created_date": lambda r: r["id"], "version": lambda r: self.version_key(r["version"])}
        return paginate(sort_records(rows, query, keys, "-created_date"), query)

    def render_release(self, release: dict, base_url: str, *, hardware_version: Optional[str] = None,
                       software_type: Optional[str] = None) -> dict:
        """The release object; artifacts may be narrowed to one hardware version/software type."""
        artifacts = [a for a in self.release_artifacts(release)
                     if (hardware_version is None or a["hardware_version"] == hardware_version)
                     and (software_type is None or a["software_type"] == software_type)]
        body = {
            "id": release["id"],
            "version": release["version"],
            "display_name": release["display_name"],
            "notes": release["notes"],
            "revision": release["revision"],
            "min_version": release["min_version"],
            "is_delta": release["delta_from"] is not None,
            "must_pass_through": release["must_pass_through"],
            "extra_info": release["extra_info"],
            "count_devices": self.indexes[self.devices.name].count("release", release["id"]),
            "created_date": release["created_date"],
            "updated_date": release["updated_date"],
            "artifacts": [self.render_artifact(a, base_url) for a in artifacts],
        }
        if release["delta_from"] is not None:
            body["delta_from"] = release["delta_from"]
            body["delta_to"] = release["version"]
        return body

    def render_artifact(self, artifact: dict, base_url: str) -> dict:
        body = {
            "id": artifact["id"],
            "type": artifact["type"],
            "hardware_version": artifact["hardware_version"],
            "software_type": artifact["software_type"],
            "filename": artifact["filename"],
            "file_size": artifact["file_size"],
            "md5": artifact["md5"],
            "sha1": artifact["sha1"],
            "sha256": artifact["sha256"],
            "build_id": artifact["build_id"],
            "url": self.artifact_url(base_url, artifact, ARTIFACT_URL_TTL),
            "extra_info": artifact["extra_info"],
            "created_date": artifact["created_date"],
            "updated_date": artifact["updated_date"],
        }
        for optional in ("firmware_type", "component_version", "component_base_version"):
            if artifact.get(optional):
                body[optional] = artifact[optional]
        return body

    # -- artifacts -----------------------------------------------------------------------------

    def add_artifact(self, project: dict, release: dict, hardware_version: str,
                     software_type: str, meta: dict, filename: str, *,
                     extra_info: Optional[dict] = None, firmware_type: Optional[str] = None,
                     component_version: Optional[str] = None,
                     component_base_version: Optional[str] = None) -> dict:
        """Attach stored bytes to a release; 409 when that slot already has a payload."""
        for other in self.release_artifacts(release):
            if (other["hardware_version"], other["software_type"], other["firmware_type"]) == (
                    hardware_version, software_type, firmware_type):
                raise ConflictError(
                    f"An OTA payload for hardware version `{hardware_version}` and software type "
                    f"`{software_type}` was already uploaded to this Release")
        now = self.now()
        record = {
            "id": self.ids.counter("memfault.artifact"), "release_id": release["id"],
            "project_id": project["id"], "type": "firmware",
            "hardware_version": hardware_version, "software_type": software_type,
            "filename": filename, "blob_id": meta["id"], "file_size": meta["size"],
            "md5": meta["md5"], "sha1": meta["sha1"], "sha256": meta["sha256"], "build_id": "",
            "extra_info": extra_info, "firmware_type": firmware_type,
            "component_version": component_version,
            "component_base_version": component_base_version,
            "created_date": now, "updated_date": now,
        }
        self.artifacts[str(record["id"])] = record
        release["updated_date"] = now
        return record

    def commit_ota_payload(self, project: dict, body: dict) -> dict:
        """``POST .../releases/ota_payload``: what ``memfault upload-ota-payload`` commits."""
        reject_unknown(body, COMMIT_FIELDS)
        upload, meta = self.take_upload(project, body.get("file"), "OTA_PAYLOAD")
        sv = body.get("software_version")
        if not isinstance(sv, dict):
            raise field_error("software_version", "Missing data for required field."
                              if sv is None else "Not a valid mapping type.")
        software_type = require_str(sv.get("software_type"), "software_type")
        version = sv.get("version")
        if isinstance(version, list):
            if len(version) != 2:
                raise field_error("version", "A delta is [from_version, to_version].")
            delta_from, to = check_version(version[0]), check_version(version[1])
            if delta_from == to:
                raise field_error("version", "A delta must go from one version to another.")
        else:
            delta_from, to = None, check_version(version)
        revision = optional_str(sv.get("revision"), "revision", "")
        hardware_version = check_hardware_version(body.get("hardware_version"))
        mpt = optional_bool(body.get("must_pass_through"), "must_pass_through")
        notes = optional_str(body.get("notes"), "notes", "")
        extra_info = optional_mapping(body.get("extra_info"), "extra_info")
        firmware_type = body.get("firmware_type")
        if firmware_type is not None and firmware_type not in FIRMWARE_TYPES:
            raise field_error("firmware_type", f"Must be one of: {', '.join(FIRMWARE_TYPES)}.")
        component = optional_str(body.get("component_version"), "component_version")
        component_base = optional_str(body.get("component_base_version"),
                                      "component_base_version")
        limit = project.get("max_ota_upload_size") or 0
        if limit and meta["size"] > limit:
            raise InvalidUsageError(f"Uploaded file is too big, max is {limit}")
        if upload["committed"]:
            raise ConflictError("This upload was already committed")

        release = (self.delta_release(project, delta_from, to) if delta_from
                   else self.full_release(project, to))
        if release is not None and self._slot_taken(release, hardware_version, software_type,
                                                    firmware_type):
            raise ConflictError("This OTA payload was already uploaded")
        if self.hardware_version(project, hardware_version) is None:
            self.create_hardware_version(project, hardware_version, software_type)
        self.software_version(project, software_type, to, create=True, revision=revision)
        if release is None:
            release = self.new_release(project, to, delta_from=delta_from, revision=revision,
                                       notes=notes, must_pass_through=mpt and not delta_from)
        else:
            release["revision"] = release["revision"] or revision
            release["notes"] = release["notes"] or notes
            release["must_pass_through"] = release["must_pass_through"] or (mpt and not delta_from)
        filename = (body["file"].get("name") or f"{to}.bin").replace("/", "_")
        self.add_artifact(project, release, hardware_version, software_type, meta, filename,
                          extra_info=extra_info, firmware_type=firmware_type,
                          component_version=component, component_base_version=component_base)
        upload["committed"] = True
        return release

    def _slot_taken(self, release: dict, hardware_version: str, software_type: str,
                    firmware_type: Optional[str]) -> bool:
        return any((a["hardware_version"], a["software_type"], a["firmware_type"]) ==
                   (hardware_version, software_type, firmware_type)
                   for a in self.release_artifacts(release))
