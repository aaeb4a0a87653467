"""Seeding helpers: write Memfault state straight into the store, and load scenario sections.

``MemfaultSeeder.project()`` with no arguments gives an ``acme`` organization with a
``smart-sink`` project, an org token, a project key and a user API key: what ``memfault_cli``
and device code need. The other helpers take that handle and add hardware versions, cohorts,
devices, releases (with artifact bytes) and deployments.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, TypeVar, Union

from ..scenarios import ScenarioError
from .devices import DEFAULT_COHORT

DEFAULT_HARDWARE = "evt"
DEFAULT_SOFTWARE_TYPE = "main"


@dataclass
class MemfaultProject:
    """What a test needs to talk to one seeded project."""

    org: str
    project: str
    org_token: str
    project_key: str
    user_email: str
    user_api_key: str
    record: dict = field(repr=False, default_factory=dict)

    def summary(self) -> dict:
        return {"org": self.org, "project": self.project, "org_token": self.org_token,
                "project_key": self.project_key, "user_email": self.user_email,
                "user_api_key": self.user_api_key}


ProjectRef = Union[MemfaultProject, dict]
F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    """Seeding runs in the test's thread while the live server may be answering: take the lock."""
    @functools.wraps(method)
    def wrapper(self: MemfaultSeeder, *args: Any, **kwargs: Any) -> Any:
        with self.backend.cloud.store.lock:
            return method(self, *args, **kwargs)
    return wrapper  # type: ignore[return-value]


class MemfaultSeeder:
    """``fleetsim.memfault``: shortcuts that skip HTTP (and credentials) entirely."""

    def __init__(self, backend: Any, base_url: str) -> None:
        self.backend = backend
        self.base_url = base_url

    def _p(self, project: ProjectRef) -> dict:
        return project.record if isinstance(project, MemfaultProject) else project

    @_locked
    def project(self, org: str = "acme", project: str = "smart-sink", *,
                max_ota_upload_size: Optional[int] = None,
                multipart_part_size: Optional[int] = None,
                user_email: str = "dev@example.com", org_token: Optional[str] = None,
                project_key: Optional[str] = None) -> MemfaultProject:
        """An org + project with credentials. When those slugs are taken (the ``memfault_cli``
        fixture makes ``acme/smart-sink`` first), the existing project is returned with the
        settings given here applied to it; a different ``project_key`` is a ``ValueError``."""
        b = self.backend
        org_record = b.org_by_slug(org) or b.create_org(org)
        record = next((p for p in b.projects.values()
                       if p["org_id"] == org_record["id"] and p["slug"] == project), None)
        if record is None:
            record = b.create_project(
                org_record, project, max_ota_upload_size=max_ota_upload_size or 0,
                multipart_part_size=multipart_part_size or 5 * 1024 * 1024, api_key=project_key)
        else:
            if project_key is not None and project_key != record["api_key"]:
                raise ValueError(f"project {org}/{project} exists with another project key "
                                 f"({record['api_key']!r}); a project has one key")
            if max_ota_upload_size is not None:
                record["max_ota_upload_size"] = int(max_ota_upload_size)
            if multipart_part_size is not None:
                record["multipart_part_size"] = max(1, int(multipart_part_size))
        token = next((t for t in b.org_tokens.values() if t["org_id"] == org_record["id"]
                      and (org_token is None or t["token"] == org_token)), None)
        token = token or b.create_org_token(org_record, token=org_token)
        user = b.create_user(user_email, [org_record])
        return MemfaultProject(org=org, project=project, org_token=token["token"],
                               project_key=record["api_key"], user_email=user["email"],
                               user_api_key=user["api_key"], record=record)

    @_locked
    def hardware_version(self, project: ProjectRef, name: str = DEFAULT_HARDWARE,
                         primary_software_type: str = DEFAULT_SOFTWARE_TYPE) -> dict:
        """The hardware version (created if missing)."""
        p = self._p(project)
        return self.backend.hardware_version(p, name) or self.backend.create_hardware_version(
            p, name, primary_software_type)

    @_locked
    def cohort(self, project: ProjectRef, name: str, slug: Optional[str] = None) -> dict:
        p = self._p(project)
        if slug and self.backend.cohort(p, slug):
            return self.backend.cohort(p, slug)
        return self.backend.create_cohort(p, name, slug)

    @_locked
    def device(self, project: ProjectRef, serial: str, *,
               hardware_version: str = DEFAULT_HARDWARE, cohort: str = DEFAULT_COHORT,
               owner_ref: Optional[str] = None, current_version: Optional[str] = None,
               software_type: str = DEFAULT_SOFTWARE_TYPE) -> dict:
        """A device (its hardware version and cohort must make sense; both are created/checked).

        ``current_version`` records it as seen now, running that version.
        """
        b, p = self.backend, self._p(project)
        self.hardware_version(p, hardware_version, software_type)
        b.get_cohort(p, cohort)
        device = b.create_device(p, {"device_serial": serial, "hardware_version": hardware_version,
                                     "owner_ref": owner_ref or "",
                                     "cohort": cohort})
        if current_version:
            b.software_type(p, software_type, create=True)
            b.record_seen(p, device, software_type, current_version)
        return device

    def devices(self, project: ProjectRef, serials: Sequence[str], **kwargs: Any) -> list[dict]:
        return [self.device(project, serial, **kwargs) for serial in serials]

    @_locked
    def release(self, project: ProjectRef, version: str, data: Optional[bytes] = None, *,
                hardware_version: str = DEFAULT_HARDWARE,
                software_type: str = DEFAULT_SOFTWARE_TYPE, delta_from: Optional[str] = None,
                must_pass_through: bool = False, notes: str = "", revision: str = "",
                filename: Optional[str] = None, extra_info: Optional[dict] = None) -> dict:
        """A full (or, with ``delta_from``, delta) release with one artifact of ``data``.

        Calling it again for another hardware version adds an artifact to the same release.
        """
        b, p = self.backend, self._p(project)
        self.hardware_version(p, hardware_version, software_type)
        b.software_version(p, software_type, version, create=True, revision=revision)
        release = (b.delta_release(p, delta_from, version) if delta_from
                   else b.full_release(p, version))
        if release is None:
            release = b.new_release(p, version, delta_from=delta_from, revision=revision,
                                    notes=notes, must_pass_through=must_pass_through)
        elif must_pass_through:
            release["must_pass_through"] = True
        if data is None:
            data = f"firmware {delta_from + '->' if delta_from else ''}{version} " \
                   f"for {hardware_version}".encode()
        meta = b.cloud.blobs.put(bytes(data))
        name = filename or (f"{delta_from}-{version}.delta.bin" if delta_from else f"{version}.bin")
        b.add_artifact(p, release, hardware_version, software_type, meta, name,
                       extra_info=extra_info)
        return release

    @_locked
    def deploy(self, project: ProjectRef, release: Union[str, list, dict],
               cohort: str = DEFAULT_COHORT, rollout_percent: Optional[int] = None,
               deployer: Optional[dict] = None) -> dict:
        """Activate a release (version, ``[from, to]`` or the release dict) for a cohort."""
        b, p = self.backend, self._p(project)
        ref = release["id"] if isinstance(release, dict) else release
        body: dict[str, Any] = {"release": ref, "cohort": cohort,
                                "type": "normal" if rollout_percent in (None, 100)
                                else "staged_rollout"}
        if body["type"] == "staged_rollout":
            body["rollout_percent"] = rollout_percent
        return b.create_deployment(p, body, deployer or {"email": None, "id": 0,
                                                         "name": "fleetsim seeder"})

    @_locked
    def chunks(self, project: ProjectRef, serial: str) -> list[bytes]:
        """Every chunk a device posted, in arrival order."""
        return self.backend.device_chunks(self._p(project), serial)

    @_locked
    def render_device(self, project: ProjectRef, serial: str) -> dict:
        """A device as the API would answer it (handy in assertions)."""
        return self.backend.render_device(self.backend.get_device(self._p(project), serial))


def load_scenario(seeder: MemfaultSeeder, section: Any) -> dict:
    """Load ``{"projects": [...]}``; returns each project's slugs and credentials."""
    if not isinstance(section, dict) or not isinstance(section.get("projects", []), list):
        raise ScenarioError('the memfault section must be {"projects": [...]}')
    unknown = set(section) - {"projects"}
    if unknown:
        raise ScenarioError(f"unknown memfault scenario key(s): {', '.join(sorted(unknown))}")
    out = []
    for spec in section.get("projects", []):
        if not isinstance(spec, dict):
            raise ScenarioError("each memfault project must be an object")
        try:
            out.append(_load_project(seeder, spec))
        except (KeyError, TypeError) as exc:
            raise ScenarioError(f"memfault project {spec.get('project')!r}: {exc!r}") from None
    return {"projects": out}


def _load_project(seeder: MemfaultSeeder, spec: dict) -> dict:
    handle = seeder.project(spec.get("org", "acme"), spec.get("project", "smart-sink"),
                            max_ota_upload_size=spec.get("max_ota_upload_size"),
                            org_token=spec.get("org_token"), project_key=spec.get("project_key"),
                            user_email=spec.get("user_email", "dev@example.com"))
    for hw in spec.get("hardware_versions", []):
        hw = {"name": hw} if isinstance(hw, str) else hw
        seeder.hardware_version(handle, hw["name"],
                                hw.get("primary_software_type", DEFAULT_SOFTWARE_TYPE))
    for cohort in spec.get("cohorts", []):
        cohort = {"name": cohort} if isinstance(cohort, str) else cohort
        seeder.cohort(handle, cohort["name"], cohort.get("slug"))
    for release in spec.get("releases", []):
        release = dict(release)
        data = release.pop("data", None)
        seeder.release(handle, release.pop("version"),
                       data.encode() if isinstance(data, str) else data, **release)
    for device in spec.get("devices", []):
        device = {"serial": device} if isinstance(device, str) else dict(device)
        seeder.device(handle, device.pop("serial"), **device)
    for deployment in spec.get("deployments", []):
        deployment = dict(deployment)
        seeder.deploy(handle, deployment.pop("release"), **deployment)
    return {**handle.summary(), **_seeded_names(spec)}


def _seeded_names(spec: dict) -> dict:
    """The hardware versions, software types and device serials a project section seeded: what
    a person needs (beside the credentials) to point a device or the CLI at it."""
    items = [*spec.get("releases", []), *spec.get("devices", [])]
    hardware = [hw if isinstance(hw, str) else hw["name"] for hw in spec.get("hardware_versions", [])]
    hardware += [i.get("hardware_version", DEFAULT_HARDWARE) for i in items if isinstance(i, dict)]
    software = [hw.get("primary_software_type", DEFAULT_SOFTWARE_TYPE)
                for hw in spec.get("hardware_versions", []) if isinstance(hw, dict)]
    software += [i.get("software_type", DEFAULT_SOFTWARE_TYPE) for i in items if isinstance(i, dict)]
    serials = [d if isinstance(d, str) else d["serial"] for d in spec.get("devices", [])]
    return {"hardware_versions": sorted(set(hardware)),
            "software_types": sorted(set(software) or {DEFAULT_SOFTWARE_TYPE}),
            "devices": serials}
