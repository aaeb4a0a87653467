"""Uploaded files other than OTA payloads: symbols, SBOMs, coredumps, MARs, bug reports,
custom data recordings and Qualcomm XED/XCD files.

Every kind goes through the same prepared-upload flow as an OTA payload (``/upload`` hands out a
token, the bytes go to signed storage) and ends with a commit that names the token plus what the
file is about. The commit bodies are memfault-cli 1.12's (``upload.py``); the fake stores the
bytes (a blob) with what the commit said and lists the files where Memfault lists them
(``GET`` on the commit path). A commit that names a device (serial, hardware version, software
type and version) updates that device as data from it would: it is auto-created when unknown, its
``last_seen`` becomes now and, with a software version, its ``last_seen_release`` follows.

A symbol file is identified by the GNU build id inside it (read from the ELF, as Memfault does)
or, without one, by the software version the commit names; the same symbol file twice is 409,
which memfault-cli reads as "already uploaded". An SBOM is one per software version (409 again).
"""

from __future__ import annotations

from typing import Any, Optional

from .elf import ET_CORE, elf_type, gnu_build_id
from .errors import ConflictError, InvalidUsageError, NotFoundError
from .util import (
    Query,
    check_hardware_version,
    check_serial,
    check_version,
    field_error,
    optional_mapping,
    optional_str,
    paginate,
    reject_unknown,
    require_str,
    sort_records,
    values,
)

#: commit path (after ``P/`` or ``/api/v0/upload/``) -> (upload kind, fields the body may carry)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "symbols": ("SYMBOL_FILE", ("software_version",)),
    "sboms": ("SBOM", ("software_version", "software_type")),
    "coredumps": ("COREDUMP", ("device_serial",)),
    "elf_coredumps": ("ELF_COREDUMP", ("device",)),
    "mar": ("MAR", ("device_serial", "hardware_version", "software_type", "software_version")),
    "bugreports": ("ANDROID_BUG_REPORT", ()),
    "custom-data-recording": ("CUSTOM_DATA_RECORDING",
                              ("start_time", "duration_secs", "mimetypes", "reason", "device")),
    "qc/x": ("QCOMM_X", ("device_serial", "hardware_version", "trace_attributes")),
}
#: the project-key commit paths (``/api/v0/upload/<name>``) -> the management path's name
DEVICE_PATHS = {"coredump": "coredumps", "elf_coredump": "elf_coredumps", "mar": "mar",
                "bugreport": "bugreports", "custom-data-recording": "custom-data-recording",
                "qc/x": "qc/x"}
DEVICE_FIELDS = ("device_serial", "hardware_version", "software_type", "software_version")


class ArtifactsMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    files: dict

    def commit_file(self, project: dict, path: str, body: dict, *, via: str) -> dict:
        """Store a committed upload of kind ``path`` (a key of :data:`KINDS`); returns the record."""
        if path not in KINDS:
            raise NotFoundError(f"Unknown upload kind `{path}`")
        kind, allowed = KINDS[path]
        reject_unknown(body, ("file", *allowed))
        upload, meta = self.take_upload(project, body.get("file"), kind)
        if upload["committed"]:
            raise ConflictError("This upload was already committed")
        facts = getattr(self, "_facts_" + path.replace("/", "_").replace("-", "_"))(body)
        data = self.cloud.blobs.data(upload["blob_id"]) or b""
        if path == "symbols":
            facts["build_id"] = gnu_build_id(data)
            if facts["build_id"] is None and facts.get("software_version") is None:
                raise InvalidUsageError("Build Id missing: the symbol file has no GNU build id; "
                                        "name a software_version and software_type instead")
            self._refuse_duplicate_symbols(project, facts, meta["md5"])
        elif path == "sboms":
            if any(f["project_id"] == project["id"] and f["path"] == "sboms"
                   and (f["software_type"], f["software_version"])
                   == (facts["software_type"], facts["software_version"])
                   for f in self.files.values()):
                raise ConflictError("An SBOM was already uploaded for this Software Version")
            self.software_version(project, facts["software_type"], facts["software_version"],
                                  create=True)
        elif path == "elf_coredumps" and elf_type(data) != ET_CORE:
            raise InvalidUsageError("The file is not an ELF core file")
        upload["committed"] = True
        name = body["file"].get("name") or f"{kind.lower()}.bin"
        return self._add_file(project, path, meta, name, via, facts)

    def _add_file(self, project: dict, path: str, meta: dict, name: str, via: str,
                  facts: dict) -> dict:
        record = {
            "id": self.ids.counter("memfault.file"), "project_id": project["id"], "path": path,
            "kind": KINDS[path][0], "blob_id": meta["id"], "name": name, "md5": meta["md5"],
            "size": meta["size"], "via": via, "created_date": self.now(),
            "device_serial": None, "hardware_version": None, "software_type": None,
            "software_version": None, "revision": None, "build_id": None, "details": {},
        }
        record.update(facts)
        self.files[str(record["id"])] = record
        if record["device_serial"]:
            self._seen_by_upload(project, record)
        return record

    # -- what each kind's commit says ----------------------------------------------------------

    @staticmethod
    def _facts_symbols(body: dict) -> dict:
        sv = body.get("software_version")
        if sv is None:
            return {}
        if not isinstance(sv, dict):
            raise field_error("software_version", "Not a valid mapping type.")
        version = sv.get("version")
        if isinstance(version, list):
            if len(version) != 2:
                raise field_error("version", "A delta is [from_version, to_version].")
            version = "->".join(require_str(v, "version") for v in version)
        return {"software_type": require_str(sv.get("software_type"), "software_type"),
                "software_version": require_str(version, "version"),
                "revision": optional_str(sv.get("revision"), "revision")}

    @staticmethod
    def _facts_sboms(body: dict) -> dict:
        return {"software_type": require_str(body.get("software_type"), "software_type"),
                "software_version": check_version(body.get("software_version"),
                                                  "software_version")}

    @staticmethod
    def _facts_coredumps(body: dict) -> dict:
        serial = body.get("device_serial")
        return {"device_serial": check_serial(serial) if serial is not None else None}

    @staticmethod
    def _device_facts(device: Any, where: str = "device") -> dict:
        if not isinstance(device, dict):
            raise field_error(where, "Missing data for required field." if device is None
                              else "Not a valid mapping type.")
        reject_unknown(device, DEVICE_FIELDS)
        return {"device_serial": check_serial(device.get("device_serial")),
                "hardware_version": check_hardware_version(device.get("hardware_version")),
                "software_type": require_str(device.get("software_type"), "software_type"),
                "software_version": check_version(device.get("software_version"),
                                                  "software_version")}

    def _facts_elf_coredumps(self, body: dict) -> dict:
        return self._device_facts(body.get("device"))

    def _facts_mar(self, body: dict) -> dict:
        return self._device_facts({k: body.get(k) for k in DEVICE_FIELDS}, "device_serial")

    @staticmethod
    def _facts_bugreports(body: dict) -> dict:
        return {}

    def _facts_custom_data_recording(self, body: dict) -> dict:
        facts = self._device_facts(body.get("device"))
        duration = body.get("duration_secs")
        if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
            raise field_error("duration_secs", "Not a valid integer.")
        mimetypes = body.get("mimetypes")
        if not isinstance(mimetypes, list) or not mimetypes or \
                not all(isinstance(m, str) and m for m in mimetypes):
            raise field_error("mimetypes", "Must be a non-empty list of strings.")
        start = require_str(body.get("start_time"), "start_time")
        try:
            self.parse_time(start)
        except (ValueError, TypeError):
            raise field_error("start_time", "Not a valid datetime.") from None
        facts["details"] = {"start_time": start, "duration_secs": duration,
                            "mimetypes": list(mimetypes),
                            "reason": require_str(body.get("reason"), "reason")}
        return facts

    @staticmethod
    def _facts_qc_x(body: dict) -> dict:
        attributes = body.get("trace_attributes", [])
        if not isinstance(attributes, list) or not all(
                isinstance(a, dict) and set(a) == {"string_key", "value"}
                and isinstance(a["string_key"], str)
                and (a["value"] is None or isinstance(a["value"], (int, float, str, bool)))
                for a in attributes):
            raise field_error("trace_attributes",
                              "Must be a list of {string_key, value} (value a scalar or null).")
        return {"device_serial": check_serial(body.get("device_serial")),
                "hardware_version": check_hardware_version(body.get("hardware_version")),
                "details": {"trace_attributes": [dict(a) for a in attributes]}}

    # -- rules ---------------------------------------------------------------------------------

    def _refuse_duplicate_symbols(self, project: dict, facts: dict, md5: str) -> None:
        for other in self.files.values():
            if other["project_id"] != project["id"] or other["path"] != "symbols":
                continue
            if facts["build_id"] and other["build_id"] == facts["build_id"]:
                raise ConflictError(f"A symbol file with GNU build id `{facts['build_id']}` was "
                                    "already uploaded")
            if not facts["build_id"] and other["md5"] == md5 and \
                    other["software_version"] == facts.get("software_version"):
                raise ConflictError("This symbol file was already uploaded")

    def _seen_by_upload(self, project: dict, record: dict) -> None:
        """Data from a device: auto-create it, mark it seen, note its hardware and software."""
        device = self.device_for_data(project, record["device_serial"])
        hardware = record["hardware_version"]
        if hardware and device["hardware_version"] is None:
            if self.hardware_version(project, hardware) is None:
                self.create_hardware_version(project, hardware,
                                             record["software_type"] or "main")
            device["hardware_version"] = hardware
            self.device_changed(device)
        version = record["software_version"] if record["path"] != "symbols" else None
        self.record_seen(project, device, record["software_type"], version)

    def symbol_file_by_build_id(self, project: dict, build_id: str) -> dict:
        found = next((f for f in self.files.values() if f["project_id"] == project["id"]
                      and f["path"] == "symbols" and f["build_id"] == build_id.lower()), None)
        if found is None:
            raise NotFoundError(f"Symbol file with GNU build id `{build_id}` not found")
        return found

    def list_files(self, project: dict, path: str, query: Query) -> tuple[list[dict], dict]:
        """Files of one kind; filters ``device_serial[]``, ``build_id[]``, ``software_type[]``,
        ``software_version[]``; sort ``created_date`` (default ``-created_date``)."""
        if path not in KINDS:
            raise NotFoundError(f"Unknown upload kind `{path}`")
        rows = [f for f in self.files.values()
                if f["project_id"] == project["id"] and f["path"] == path]
        for name in ("device_serial", "build_id", "software_type", "software_version"):
            wanted = values(query, name)
            if wanted:
                rows = [f for f in rows if f[name] in wanted]
        keys = {"created_date": lambda f: f["id"]}
        return paginate(sort_records(rows, query, keys, "-created_date"), query)

    def get_file(self, project: dict, path: str, file_id: str) -> dict:
        record = self.files.get(str(file_id))
        if record is None or record["project_id"] != project["id"] or record["path"] != path:
            raise NotFoundError(f"Upload with id `{file_id}` not found")
        return record

    def render_file(self, record: dict) -> dict:
        body: dict[str, Any] = {
            "id": record["id"], "type": record["kind"], "created_date": record["created_date"],
            "file": {"name": record["name"], "md5": record["md5"], "size": record["size"]},
        }
        if record["path"] == "symbols":
            body["gnu_build_id"] = record["build_id"]
        if record["software_version"] is not None:
            body["software_version"] = {"version": record["software_version"],
                                        "software_type": {"name": record["software_type"]},
                                        "revision": record["revision"] or ""}
        if record["device_serial"] is not None:
            body["device"] = {"device_serial": record["device_serial"],
                              "hardware_version": record["hardware_version"]}
        body.update(optional_mapping(record["details"], "details") or {})
        return body

    def file_data(self, record: dict) -> Optional[bytes]:
        return self.cloud.blobs.data(record["blob_id"])

    def store_raw_coredump(self, project: dict, data: bytes, serial: Optional[str]) -> dict:
        """``POST /api/v0/upload/coredump`` with the bytes as the body (the SDK's gdb script)."""
        if not data:
            raise InvalidUsageError("Empty coredump")
        meta = self.cloud.blobs.put(bytes(data))
        facts = {"device_serial": check_serial(serial) if serial else None}
        return self._add_file(project, "coredumps", meta, "coredump.bin", "project_key", facts)
