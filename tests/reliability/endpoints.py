"""The one table the reliability suites share: every endpoint of every dialect, the credential
kinds each dialect knows, who may call what, and what the vendor's error envelope looks like.

A new endpoint is one :class:`Endpoint` line in its dialect's list; a new dialect is one
:class:`Suite` (a seeding function, its credentials, its expected statuses, its envelope check)
added to :data:`SUITES`. The fuzz suite, the auth matrix and the concurrency test all read it.

Paths and bodies are templates: ``{name}`` is replaced by the seeded world's value of ``name``
(ids, slugs, versions), so every request of the table is valid for an allowed credential.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from fake_api.app import create_app
from fake_api.core import Cloud
from fake_api.dialects import by_name

#: Where the Flask test client says the requests come from (signed URLs carry it).
BASE = "http://localhost"


@dataclass(frozen=True)
class Endpoint:
    """One route of a dialect, with a request that succeeds for an allowed credential."""

    method: str
    path: str
    ok: int = 200
    body: Any = None  #: JSON template (``None``: no body)
    raw: Optional[bytes] = None  #: a non-JSON body instead (chunks)
    content_type: Optional[str] = None
    query: Optional[dict] = None
    needs: str = "read"  #: the rule of the dialect's auth table that guards it
    mutating: bool = True
    #: the status for a valid credential of *another* tenant where that tenant may call the
    #: route too (Memfault's device side): None when it succeeds there as well
    foreign: Optional[int] = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class World:
    """A seeded tenant (and a second one): template values and one header set per credential."""

    values: dict[str, str]
    credentials: dict[str, dict[str, str]]


@dataclass
class Suite:
    """One dialect's entry: how to seed it, its endpoints and its rules."""

    name: str
    prefix: str  #: what random paths start with
    endpoints: list[Endpoint]
    seed: Callable[[Cloud], World]
    expected: Callable[[Endpoint, str], int]  #: (endpoint, credential kind) -> status
    check_error: Callable[[int, bytes], None]  #: raises AssertionError unless the envelope
    credential_kinds: tuple[str, ...] = field(default=())
    #: (world, credential kind) -> strings an answer to that credential must never contain
    secrets: Callable[[World, str], list[str]] = lambda world, credential: []
    #: endpoint -> the credential kind that may read it (the fuzz re-reads after every write)
    read_as: Callable[[Endpoint], str] = lambda endpoint: "admin"


class Env:
    """A private cloud and app for one suite, re-seeded to the same world on demand."""

    def __init__(self, suite: Suite, seed: int = 7) -> None:
        self.suite = suite
        self.cloud = Cloud(seed=seed)
        self.app = create_app(self.cloud)
        self.client = self.app.test_client()
        self.world = self.fresh()

    def fresh(self) -> World:
        self.cloud.reset()
        self.world = self.suite.seed(self.cloud)
        return self.world

    def fill(self, template: Any) -> Any:
        """``template`` with every ``{name}`` replaced by the world's value."""
        return _fill(template, self.world.values)

    def request(self, endpoint: Endpoint, credential: str, **override: Any) -> Any:
        """The table's request for ``endpoint`` with one credential kind (test-client response)."""
        headers = dict(self.world.credentials[credential])
        body = endpoint.raw
        if endpoint.body is not None:
            body = json.dumps(self.fill(endpoint.body)).encode()
            headers.setdefault("Content-Type", "application/json")
        if endpoint.content_type:
            headers["Content-Type"] = endpoint.content_type
        query = self.fill(endpoint.query) if endpoint.query else None
        return self.client.open(self.fill(endpoint.path), method=endpoint.method, data=body,
                                headers=headers, query_string=query, **override)


def _seeder(cloud: Cloud, name: str) -> Any:
    return by_name(name).make_seeder(cloud.backends[name], BASE)


# -- fl33t --------------------------------------------------------------------------------------

T = "/team/{team}"

FL33T_ENDPOINTS = [
    Endpoint("GET", T + "/sessions", needs="session.read", mutating=False),
    Endpoint("GET", T + "/session/{victim}", needs="session.read", mutating=False),
    Endpoint("POST", T + "/session", 201, {"session": {"name": "n", "type": "api",
                                                       "readonly": True}}, needs="session.write"),
    Endpoint("PUT", T + "/session/{victim}", 204, {"session": {"name": "renamed", "admin": True}},
             needs="session.write"),
    Endpoint("DELETE", T + "/session/{victim}", 204, needs="session.write"),
    Endpoint("GET", T + "/trains", mutating=False),
    Endpoint("GET", T + "/train/{train}", mutating=False),
    Endpoint("POST", T + "/train", 201, {"train": {"name": "t2"}}, needs="train.create"),
    Endpoint("PUT", T + "/train/{train}", 204, {"train": {"name": "renamed"}},
             needs="train.write"),
    Endpoint("DELETE", T + "/train/{spare_train}", 204, needs="train.write"),
    Endpoint("GET", T + "/builds", mutating=False),
    Endpoint("GET", T + "/build/{build}", mutating=False),
    Endpoint("POST", T + "/build", 201, {"build": {"train_id": "{train}", "version": "9.9",
                                                   "filename": "fw.bin", "md5sum": None}},
             needs="build.create"),
    Endpoint("PUT", T + "/build/{build}", 204, {"build": {"version": "1.0.1", "released": True}},
             needs="build.write"),
    Endpoint("DELETE", T + "/build/{spare_build}", 204, needs="build.write"),
    Endpoint("GET", T + "/fleets", mutating=False),
    Endpoint("GET", T + "/fleet/{fleet}", mutating=False),
    Endpoint("POST", T + "/fleet", 201, {"fleet": {"train_id": "{train}", "name": "f2",
                                                   "build_id": None, "unreleased": False}},
             needs="fleet.write"),
    Endpoint("PUT", T + "/fleet/{fleet}", 204, {"fleet": {"name": "renamed",
                                                          "build_id": "{spare_build}"}},
             needs="fleet.write"),
    Endpoint("DELETE", T + "/fleet/{spare_fleet}", 204, needs="fleet.write"),
    Endpoint("GET", T + "/devices", mutating=False),
    Endpoint("GET", T + "/device/{device}", mutating=False),
    Endpoint("POST", T + "/device", 201, {"device": {"device_id": "new-1", "fleet_id": "{fleet}",
                                                     "name": "n", "build_id": ""}},
             needs="device.create"),
    Endpoint("POST", T + "/devices", 201, {"devices": [
        {"device_id": "bulk-1", "fleet_id": "{fleet}", "name": "a"},
        {"device_id": "bulk-2", "fleet_id": "{fleet}", "name": "b"}]}, needs="device.create"),
    Endpoint("PUT", T + "/device/{device}", 204, {"device": {"name": "renamed",
                                                             "fleet_id": "{spare_fleet}"}},
             needs="device.write"),
    Endpoint("DELETE", T + "/device/{spare_device}", 204, needs="device.write"),
    Endpoint("POST", T + "/device/{device}/checkin", 200, {"checkin": {"build_id": "{old}"}},
             needs="device.checkin"),
    # the routes of fl33t's older tools (builds nested under their train, the old update check)
    Endpoint("POST", T + "/train/{train}/build", 201, {"build": {"version": "9.9", "md5sum": None}},
             needs="build.create"),
    Endpoint("GET", T + "/train/{train}/builds", mutating=False),
    Endpoint("GET", T + "/train/{train}/build/{build}", mutating=False),
    Endpoint("PUT", T + "/train/{train}/build/{build}", 204, {"build": {"version": "1.0.2"}},
             needs="build.write"),
    Endpoint("DELETE", T + "/train/{train}/build/{spare_build}", 204, needs="build.write"),
    Endpoint("GET", T + "/device/{device}/build", 200, query={"installed_build_id": "{old}"},
             needs="device.checkin"),
]

#: Who may do what, written from docs/fl33t.md (not read from the code under test).
FL33T_ALLOWED = {
    "read": {"admin", "readonly", "upload", "provisioning"},
    "session.read": {"admin"},
    "session.write": {"admin"},
    "train.create": {"admin", "upload"},
    "train.write": {"admin"},
    "build.create": {"admin", "upload"},
    "build.write": {"admin"},
    "fleet.write": {"admin"},
    "device.create": {"admin", "provisioning"},
    "device.write": {"admin"},
    "device.checkin": {"admin", "device"},  # "device": the device's own token only
}
FL33T_CREDENTIALS = ("none", "wrong", "malformed", "other_team", "admin", "readonly", "upload",
                     "provisioning", "device", "device_other")


def seed_fl33t(cloud: Cloud) -> World:
    s = _seeder(cloud, "fl33t")
    team, other = s.team(), s.team()
    train = s.train(team, "main")
    spare_train = s.train(team, "spare")
    old = s.build(team, train, "0.9.0")
    build = s.build(team, train, "1.0.0", released=True)
    spare_build = s.build(team, train, "1.1.0")
    pending = s.build(team, train, "2.0.0", upload=False)
    fleet = s.fleet(team, train, "main", build=build)
    spare_fleet = s.fleet(team, train, "spare")
    device = s.device(team, fleet, "dev-1", installed=old)
    spare_device = s.device(team, fleet, "dev-2")
    victim = s.session(team, "readonly", name="victim")
    s.fleet(other, s.train(other), "theirs")

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    credentials = {
        "none": {},
        "wrong": bearer("not-a-token"),
        "malformed": {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
        "other_team": bearer(other.tokens["admin"]),
        "device": bearer(device["session_token"]),
        "device_other": bearer(spare_device["session_token"]),
    }
    credentials.update({kind: bearer(token) for kind, token in team.tokens.items()})
    values = {"team": team.team_id, "other_team": other.team_id, "train": train["train_id"],
              "spare_train": spare_train["train_id"], "build": build["build_id"],
              "old": old["build_id"], "spare_build": spare_build["build_id"],
              "pending": pending["build_id"], "fleet": fleet["fleet_id"],
              "spare_fleet": spare_fleet["fleet_id"], "device": device["device_id"],
              "spare_device": spare_device["device_id"], "victim": victim}
    return World(values, credentials)


def fl33t_expected(endpoint: Endpoint, credential: str) -> int:
    if credential in ("none", "wrong", "malformed", "other_team"):
        return 401
    kind = "device" if credential == "device" else credential
    if credential == "device_other":
        kind = "device"
        if endpoint.needs == "device.checkin":
            return 403  # another device's token may not check in as this one
    return endpoint.ok if kind in FL33T_ALLOWED[endpoint.needs] else 403


def fl33t_secrets(world: World, credential: str) -> list[str]:
    """Upload URLs are credentials for uploaders; device tokens for admins and provisioners."""
    hidden = []
    if credential not in FL33T_ALLOWED["build.create"]:
        hidden.append("/upload?")
    if credential not in ("admin", "provisioning"):
        hidden += [token for kind, headers in world.credentials.items()
                   if kind.startswith("device") for token in [headers["Authorization"][7:]]
                   if kind != credential]
    return hidden


def fl33t_error(status: int, body: bytes) -> None:
    data = json.loads(body)
    assert isinstance(data, dict) and set(data) == {"error"}, data
    assert isinstance(data["error"], str) and data["error"], data


# -- Memfault -----------------------------------------------------------------------------------

P = "/api/v0/organizations/{org}/projects/{project}"
LATEST = {"device_serial": "{new_serial}", "hardware_version": "evt", "software_type": "main",
          "current_version": "0.5.0"}

DEVICE = {"device_serial": "{serial}", "hardware_version": "evt", "software_type": "main",
          "software_version": "1.0.0"}
#: commit path -> a commit body that succeeds once the world has an upload of that kind
FILE_COMMITS: dict[str, dict] = {
    "symbols": {"file": {"token": "{upload_symbols}", "name": "app.elf"},
                "software_version": {"version": "1.0.0", "software_type": "main"}},
    "sboms": {"file": {"token": "{upload_sboms}"}, "software_type": "main",
              "software_version": "2.0.0"},
    "coredumps": {"file": {"token": "{upload_coredumps}"}, "device_serial": "{serial}"},
    "elf_coredumps": {"file": {"token": "{upload_elf_coredumps}"}, "device": DEVICE},
    "mar": {"file": {"token": "{upload_mar}"}, **DEVICE},
    "bugreports": {"file": {"token": "{upload_bugreports}", "name": "bugreport.zip"}},
    "custom-data-recording": {"file": {"token": "{upload_custom_data_recording}"},
                              "start_time": "2026-01-01T00:00:00Z", "duration_secs": 5,
                              "mimetypes": ["text/plain"], "reason": "why", "device": DEVICE},
    "qc/x": {"file": {"token": "{upload_qc_x}"}, "device_serial": "{serial}",
             "hardware_version": "evt", "trace_attributes": [{"string_key": "k", "value": 1}]},
}


def _key(path: str) -> str:
    return path.replace("/", "_").replace("-", "_")


MEMFAULT_ENDPOINTS = [
    Endpoint("GET", P, mutating=False),
    Endpoint("GET", P + "/api_key", mutating=False),
    Endpoint("POST", P + "/api_key", needs="manage"),
    Endpoint("POST", P + "/upload", body={"kind": "OTA_PAYLOAD", "size": 3}, needs="manage"),
    Endpoint("POST", P + "/upload_multipart", body={"kind": "OTA_PAYLOAD", "size": 3},
             needs="manage"),
    Endpoint("POST", P + "/releases/ota_payload", body={
        "file": {"token": "{upload}", "name": "fw.bin", "md5": "{upload_md5}"},
        "hardware_version": "evt", "notes": "n", "must_pass_through": False,
        "software_version": {"version": "3.0.0", "software_type": "main", "revision": "r"}},
        needs="manage"),
    Endpoint("POST", P + "/release-artifacts", 202, {
        "file": {"token": "{upload}"}, "hardware_version": "evt",
        "software_version": {"version": "3.0.0", "software_type": "main"}}, needs="manage"),
    Endpoint("GET", P + "/releases", mutating=False),
    Endpoint("POST", P + "/releases", body={"version": "9.0.0", "notes": "n"}, needs="manage"),
    Endpoint("GET", P + "/releases/{release}", mutating=False),
    Endpoint("PATCH", P + "/releases/{release}", body={"notes": "changed"}, needs="manage"),
    Endpoint("DELETE", P + "/releases/{spare_release}", 204, needs="manage"),
    Endpoint("GET", P + "/delta-releases", mutating=False),
    Endpoint("GET", P + "/delta-releases/{spare_release}/{release}", mutating=False),
    Endpoint("GET", P + "/cohorts", mutating=False),
    Endpoint("POST", P + "/cohorts", body={"name": "Gamma"}, needs="manage"),
    Endpoint("GET", P + "/cohorts/{cohort}", mutating=False),
    Endpoint("PATCH", P + "/cohorts/{cohort}", body={"name": "Beta 2"}, needs="manage"),
    Endpoint("DELETE", P + "/cohorts/{cohort}", 204, needs="manage"),
    Endpoint("GET", P + "/cohorts/{cohort}/devices", mutating=False),
    Endpoint("PATCH", P + "/cohorts/{cohort}/devices", 202,
             {"devices": [{"device_serial": "{serial}"}]}, needs="manage"),
    Endpoint("GET", P + "/devices", mutating=False),
    Endpoint("POST", P + "/devices", body={"device_serial": "NEW-1", "owner_ref": "o",
                                           "hardware_version": "evt"}, needs="manage"),
    Endpoint("GET", P + "/devices/{serial}", mutating=False),
    Endpoint("PATCH", P + "/devices/{serial}", body={"owner_ref": "someone",
                                                     "cohort": "{cohort}"}, needs="manage"),
    Endpoint("DELETE", P + "/devices/{spare_serial}", 204, needs="manage"),
    Endpoint("GET", P + "/devices/{serial}/attributes", mutating=False),
    Endpoint("PATCH", P + "/devices/{serial}/attributes", 204,
             [{"string_key": "color", "value": "red"}], needs="manage"),
    Endpoint("GET", P + "/custom-metrics", mutating=False),
    Endpoint("POST", P + "/custom-metrics", body={"string_key": "temp", "data_type": "INT"},
             needs="manage"),
    Endpoint("GET", P + "/hardware_versions", mutating=False),
    Endpoint("POST", P + "/hardware_versions", body={"name": "dvt"}, needs="manage"),
    Endpoint("GET", P + "/hardware_versions/{hardware}", mutating=False),
    Endpoint("DELETE", P + "/hardware_versions/{spare_hardware}", 204, needs="manage"),
    Endpoint("GET", P + "/software_types", mutating=False),
    Endpoint("POST", P + "/software_types", body={"name": "bootloader"}, needs="manage"),
    Endpoint("GET", P + "/software_types/{software_type}", mutating=False),
    Endpoint("GET", P + "/software_type_values", mutating=False),
    Endpoint("GET", P + "/software_types/{software_type}/software_versions", mutating=False),
    Endpoint("GET", P + "/software_types/{software_type}/software_versions/{release}", mutating=False),
    Endpoint("GET", P + "/deployments", mutating=False),
    Endpoint("POST", P + "/deployments", body={"release": "{spare_release}", "cohort": "{cohort}",
                                               "type": "staged_rollout", "rollout_percent": 10},
             needs="manage"),
    Endpoint("GET", P + "/deployments/{deployment}", mutating=False),
    Endpoint("PATCH", P + "/deployments/{deployment}", body={"extra_info": {"k": "v"}},
             needs="manage"),
    Endpoint("DELETE", P + "/deployments/{deployment}", 204, needs="manage"),
    # the other uploads (symbols, SBOMs, coredumps, ...): commit, list, one file
    *[endpoint for path, body in FILE_COMMITS.items() for endpoint in (
        Endpoint("POST", f"{P}/{path}", body=body, needs="manage"),
        Endpoint("GET", f"{P}/{path}", mutating=False),
        Endpoint("GET", f"{P}/{path}/{{file_{_key(path)}}}", mutating=False))],
    Endpoint("GET", P + "/symbols-by-gnu-build-id/{build_id}", mutating=False),
    Endpoint("POST", "/api/v0/upload", body={"kind": "COREDUMP", "size": 3}, needs="device"),
    Endpoint("POST", "/api/v0/upload/{device_kind}", body=FILE_COMMITS["coredumps"], needs="device",
             foreign=400),  # the token belongs to the first project
    # device side (Memfault-Project-Key); the OTA check records and may create the device
    Endpoint("GET", "/api/v0/releases/latest", query=LATEST, needs="device"),
    Endpoint("GET", "/api/v0/releases/latest/url", query=LATEST, needs="device"),
    Endpoint("POST", "/api/v0/chunks/{serial}", 202, raw=b"\x08\x02chunk",
             content_type="application/octet-stream", needs="device"),
    Endpoint("PATCH", "/api/v0/attributes", 204, [{"string_key": "color", "value": "blue"}],
             query={"device_serial": "{serial}"}, needs="device"),
]
MEMFAULT_CREDENTIALS = ("none", "wrong", "malformed", "other_org",
                        "org_token", "org_token_basic", "user_key", "project_key",
                        "other_project_key")
_MANAGERS = {"org_token", "org_token_basic", "user_key"}


def seed_memfault(cloud: Cloud) -> World:
    s = _seeder(cloud, "memfault")
    backend = cloud.backends["memfault"]
    p = s.project()
    other = s.project("other-org", "other-project", user_email="other@example.com")
    s.hardware_version(p, "evt")
    s.hardware_version(p, "proto")
    s.cohort(p, "Beta", "beta")
    s.device(p, "D1")
    s.device(p, "D2")
    s.release(p, "1.0.0")
    s.release(p, "0.5.0")
    s.release(p, "1.0.0", delta_from="0.5.0")
    deployment = s.deploy(p, "1.0.0")
    s.release(other, "1.0.0")  # another tenant, with a release its devices are offered
    s.deploy(other, "1.0.0")
    files: dict[str, str] = {}
    with cloud.store.lock:
        upload = backend.prepare_upload(p.record, {"kind": "OTA_PAYLOAD", "size": 3}, BASE)
        stored = backend.store_upload(upload["token"], b"abc", "application/octet-stream")
        names = {"org": p.org, "project": p.project, "serial": "D1"}
        for path, body in FILE_COMMITS.items():
            # one committed file of each kind, and one upload waiting for its commit
            committed = _file_upload(backend, p.record, path, first=True)
            filled = _fill(body, dict(names, **{f"upload_{_key(path)}": committed}))
            if path == "sboms":
                filled["software_version"] = "1.0.0"
            record = backend.commit_file(p.record, path, filled, via="management")
            files[f"file_{_key(path)}"] = str(record["id"])
            files[f"upload_{_key(path)}"] = _file_upload(backend, p.record, path, first=False)

    def basic(user: str, secret: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}

    credentials = {
        "none": {},
        "wrong": {"Authorization": "Bearer oat_not_a_token"},
        "malformed": {"Authorization": "Basic !!!"},
        "other_org": {"Authorization": f"Bearer {other.org_token}"},
        "org_token": {"Authorization": f"Bearer {p.org_token}"},
        "org_token_basic": basic("", p.org_token),
        "user_key": basic(p.user_email, p.user_api_key),
        "project_key": {"Memfault-Project-Key": p.project_key},
        "other_project_key": {"Memfault-Project-Key": other.project_key},
    }
    values = {"org": p.org, "project": p.project, "other_org": other.org,
              "other_project": other.project, "serial": "D1", "spare_serial": "D2",
              "new_serial": "D-NEW", "hardware": "evt", "spare_hardware": "proto",
              "software_type": "main", "cohort": "beta", "release": "1.0.0",
              "spare_release": "0.5.0", "deployment": str(deployment["id"]),
              "upload": upload["token"], "upload_md5": stored["md5"],
              "build_id": SYMBOLS_BUILD_ID.hex(), "device_kind": "coredump", **files}
    return World(values, credentials)


SYMBOLS_BUILD_ID = bytes(range(20))


def _file_upload(backend: Any, project: dict, path: str, *, first: bool) -> str:
    """A prepared upload of the kind ``path`` commits, with bytes that commit will accept."""
    from fake_api.memfault.artifacts import KINDS

    from ..dialects.memfault.elf_maker import ET_CORE, make_elf

    if path == "symbols":  # the GNU build id tells symbol files apart
        data = make_elf(SYMBOLS_BUILD_ID if first else bytes(range(1, 21)))
    elif path == "elf_coredumps":
        data = make_elf(e_type=ET_CORE, text=b"\x90" * (16 if first else 24))
    else:
        data = f"{path} {'one' if first else 'two'}".encode()
    prepared = backend.prepare_upload(project, {"kind": KINDS[path][0], "size": len(data)}, BASE)
    backend.store_upload(prepared["token"], data, "application/octet-stream")
    return prepared["token"]


def _fill(template: Any, values: dict[str, str]) -> Any:
    """``template`` with every ``{name}`` in its strings replaced by ``values[name]``."""
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    return template


def memfault_expected(endpoint: Endpoint, credential: str) -> int:
    if endpoint.needs == "device":
        # device endpoints take a project key (another project's key speaks for that project)
        if credential == "other_project_key" and endpoint.foreign is not None:
            return endpoint.foreign
        return endpoint.ok if credential in ("project_key", "other_project_key") else 403
    if credential in ("none", "wrong", "malformed", "project_key", "other_project_key"):
        return 401
    if credential == "other_org":
        return 403
    return endpoint.ok if credential in _MANAGERS else 403


def memfault_error(status: int, body: bytes) -> None:
    data = json.loads(body)
    assert isinstance(data, dict) and set(data) == {"error"}, data
    error = data["error"]
    assert set(error) == {"code", "http_code", "message", "type"}, error
    assert error["http_code"] == status and isinstance(error["code"], int), error
    assert isinstance(error["type"], str) and error["message"], error


# -- the table ----------------------------------------------------------------------------------

SUITES = [
    Suite("fl33t", "/team/", FL33T_ENDPOINTS, seed_fl33t, fl33t_expected, fl33t_error,
          FL33T_CREDENTIALS, fl33t_secrets),
    Suite("memfault", "/api/v0/", MEMFAULT_ENDPOINTS, seed_memfault, memfault_expected,
          memfault_error, MEMFAULT_CREDENTIALS,
          read_as=lambda e: "project_key" if e.needs == "device" else "org_token"),
]
