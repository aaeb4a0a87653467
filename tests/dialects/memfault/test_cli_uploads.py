"""Every memfault-cli 1.12 upload command other than the OTA payload, unmodified, against the
fake, with each credential kind the command accepts, on inputs generated here."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import zipfile

import pytest
import requests

from .elf_maker import ET_CORE, make_elf
from .memfault_helpers import Api

BUILD_ID = bytes.fromhex("1487ddbe3529fefb197b723543aa970aec6e4176")
ENV = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def run(memfault_cli, cred: str, *args: str) -> subprocess.CompletedProcess:
    """``memfault <args>`` with one credential kind: org_token, user_key or project_key."""
    p = memfault_cli.project
    if cred == "org_token":
        return memfault_cli(*args)
    if cred == "project_key":
        base = [memfault_cli.executable, "--url", memfault_cli.url,
                "--project-key", p.project_key]
    else:
        base = [memfault_cli.executable, "--url", memfault_cli.url, "--org", p.org,
                "--project", p.project, "--email", p.user_email, "--password", p.user_api_key]
    return subprocess.run([*base, *args], capture_output=True, text=True, env=ENV, timeout=120)


def listed(fleetsim, memfault_cli, path: str) -> list[dict]:
    return Api(fleetsim.url, memfault_cli.project).get(f"/{path}").json()["data"]


def paths(fleetsim) -> list[str]:
    return [e.path for e in fleetsim.journal if e.dialect == "memfault"]


def zip_bytes(name: str = "report.txt", text: str = "hello") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, text)
    return out.getvalue()


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def tar_of(tmp_path, name: str, members: dict[str, bytes]):
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(data))
    return path


def device_of(fleetsim, memfault_cli, serial: str) -> dict:
    return fleetsim.memfault.render_device(memfault_cli.project, serial)


# -- device data: project key (the device's own path) and org token -------------------------

DEVICE_CREDS = ["project_key", "org_token"]
DEVICE_FLAGS = ("--device-serial", "DEV-7", "--hardware-version", "evt",
                "--software-type", "main", "--software-version", "1.2.3")


@pytest.mark.parametrize("cred", DEVICE_CREDS)
def test_upload_coredump(memfault_cli, fleetsim, tmp_path, cred):
    data = b"CORE" + bytes(range(60))
    result = run(memfault_cli, cred, "upload-coredump", "--device-serial", "DEV-7",
                 str(write(tmp_path, "core.bin", data)))
    assert result.returncode == 0, result.stderr
    [core] = listed(fleetsim, memfault_cli, "coredumps")
    assert core["file"] == {"name": "core.bin", "md5": hashlib.md5(data).hexdigest(),
                            "size": len(data)}
    assert core["device"]["device_serial"] == "DEV-7"
    assert device_of(fleetsim, memfault_cli, "DEV-7")["last_seen"] == fleetsim.clock.isoformat()
    commit = "/api/v0/upload/coredump" if cred == "project_key" else "/coredumps"
    assert any(p.endswith(commit) for p in paths(fleetsim))
    # not a coredump: the CLI refuses it locally, nothing reaches the fake
    bad = run(memfault_cli, cred, "upload-coredump", str(write(tmp_path, "x.bin", b"nope")))
    assert bad.returncode != 0 and len(listed(fleetsim, memfault_cli, "coredumps")) == 1


@pytest.mark.parametrize("cred", DEVICE_CREDS)
def test_upload_elf_coredump(memfault_cli, fleetsim, tmp_path, cred):
    core = make_elf(e_type=ET_CORE, debug_info=False)
    result = run(memfault_cli, cred, "upload-elf-coredump", *DEVICE_FLAGS,
                 str(write(tmp_path, "app.core", core)))
    assert result.returncode == 0, result.stderr
    [item] = listed(fleetsim, memfault_cli, "elf_coredumps")
    assert item["device"] == {"device_serial": "DEV-7", "hardware_version": "evt"}
    assert item["software_version"]["version"] == "1.2.3"
    device = device_of(fleetsim, memfault_cli, "DEV-7")
    assert device["last_seen"] == fleetsim.clock.isoformat()
    assert device["last_seen_release"]["version"] == "1.2.3"
    assert device["hardware_version"] == "evt"


@pytest.mark.parametrize("cred", DEVICE_CREDS)
def test_upload_mar(memfault_cli, fleetsim, tmp_path, cred):
    fleetsim.clock.advance(minutes=5)
    result = run(memfault_cli, cred, "upload-mar", *DEVICE_FLAGS,
                 str(write(tmp_path, "data.mar", zip_bytes("manifest.json", "{}"))))
    assert result.returncode == 0, result.stderr
    [mar] = listed(fleetsim, memfault_cli, "mar")
    assert mar["type"] == "MAR" and mar["device"]["device_serial"] == "DEV-7"
    assert device_of(fleetsim, memfault_cli, "DEV-7")["last_seen"] == fleetsim.clock.isoformat()


@pytest.mark.parametrize("cred", DEVICE_CREDS)
def test_upload_bugreport(memfault_cli, fleetsim, tmp_path, cred):
    data = zip_bytes("bugreport.txt", "== dumpstate ==")
    result = run(memfault_cli, cred, "upload-bugreport", str(write(tmp_path, "bug.zip", data)))
    assert result.returncode == 0, result.stderr
    [report] = listed(fleetsim, memfault_cli, "bugreports")
    assert report["type"] == "ANDROID_BUG_REPORT"
    assert report["file"]["md5"] == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("cred", DEVICE_CREDS)
def test_upload_custom_data_recording(memfault_cli, fleetsim, tmp_path, cred):
    result = run(memfault_cli, cred, "upload-custom-data-recording", *DEVICE_FLAGS,
                 "--start-time", "2026-01-01T00:00:00+0000", "--duration-secs", "30",
                 "--mimetype", "text/plain", "--mimetype", "application/x-log",
                 "--reason", "button pressed", str(write(tmp_path, "rec.log", b"log line\n")))
    assert result.returncode == 0, result.stderr
    [rec] = listed(fleetsim, memfault_cli, "custom-data-recording")
    assert rec["duration_secs"] == 30 and rec["reason"] == "button pressed"
    assert rec["mimetypes"] == ["text/plain", "application/x-log"]
    assert rec["start_time"].startswith("2026-01-01T00:00:00")
    assert device_of(fleetsim, memfault_cli, "DEV-7")["last_seen"] == fleetsim.clock.isoformat()


@pytest.mark.parametrize("cred", DEVICE_CREDS)
def test_upload_xed(memfault_cli, fleetsim, tmp_path, cred):
    result = run(memfault_cli, cred, "upload-xed", "--hardware-version", "evt",
                 "--device-serial", "DEV-7", "--attribute", "my_int", "1234",
                 "--attribute", "my_string", "hello", str(write(tmp_path, "t.xed", b"\x01\x02")))
    assert result.returncode == 0, result.stderr
    [xed] = listed(fleetsim, memfault_cli, "qc/x")
    assert xed["trace_attributes"] == [{"string_key": "my_int", "value": 1234},
                                       {"string_key": "my_string", "value": "hello"}]
    assert device_of(fleetsim, memfault_cli, "DEV-7")["hardware_version"] == "evt"


# -- release pipeline files: org token and user API key (Basic) --------------------------------

MGMT_CREDS = ["org_token", "user_key"]


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_symbols_then_skipped_by_build_id(memfault_cli, fleetsim, tmp_path, cred):
    elf = write(tmp_path, "app.elf", make_elf(BUILD_ID))
    result = run(memfault_cli, cred, "upload-symbols", str(elf))
    assert result.returncode == 0, result.stderr
    [symbols] = listed(fleetsim, memfault_cli, "symbols")
    assert symbols["gnu_build_id"] == BUILD_ID.hex() and symbols["file"]["name"] == "app.elf"
    api = Api(fleetsim.url, memfault_cli.project)
    assert api.head(f"/symbols-by-gnu-build-id/{BUILD_ID.hex()}").status_code == 200
    # the CLI asks first (HEAD) and skips a file the fake already has
    commits = sum(p.endswith("/symbols") for p in paths(fleetsim))
    again = run(memfault_cli, cred, "upload-symbols", str(elf))
    assert again.returncode == 0, again.stderr
    assert sum(p.endswith("/symbols") for p in paths(fleetsim)) == commits
    assert len(listed(fleetsim, memfault_cli, "symbols")) == 1


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_mcu_symbols_with_software_version(memfault_cli, fleetsim, tmp_path, cred):
    elf = write(tmp_path, "fw.elf", make_elf(BUILD_ID))
    result = run(memfault_cli, cred, "upload-mcu-symbols", "--software-type", "main",
                 "--software-version", "1.0.0", "--revision", "deadbeef", str(elf))
    assert result.returncode == 0, result.stderr
    [symbols] = listed(fleetsim, memfault_cli, "symbols")
    assert symbols["software_version"] == {"version": "1.0.0", "software_type": {"name": "main"},
                                           "revision": "deadbeef"}
    assert symbols["gnu_build_id"] == BUILD_ID.hex()
    # the same build id again: 409 from the commit, which the CLI reports as already uploaded
    again = run(memfault_cli, cred, "upload-mcu-symbols", "--no-check-uploaded",
                "--software-type", "main", "--software-version", "1.0.0", str(elf))
    assert again.returncode == 0, again.stderr
    assert len(listed(fleetsim, memfault_cli, "symbols")) == 1


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_elf_symbols_from_a_tarball(memfault_cli, fleetsim, tmp_path, cred):
    archive = tar_of(tmp_path, "rootfs-dbg.tar.gz", {
        "usr/bin/app": make_elf(bytes(range(20))),
        "usr/lib/libfoo.so": make_elf(bytes(range(1, 21))),
        "etc/motd": b"not an elf",
    })
    result = run(memfault_cli, cred, "upload-elf-symbols", "--archive", str(archive))
    assert result.returncode == 0, result.stderr
    ids = sorted(s["gnu_build_id"] for s in listed(fleetsim, memfault_cli, "symbols"))
    assert ids == [bytes(range(20)).hex(), bytes(range(1, 21)).hex()]


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_aosp_symbols_directory(memfault_cli, fleetsim, tmp_path, cred):
    root = tmp_path / "symbols"
    write(root, "system/lib64/libc.so", make_elf(bytes(range(2, 22))))
    write(root, "system/bin/init", make_elf(bytes(range(3, 23))))
    result = run(memfault_cli, cred, "upload-aosp-symbols", str(root))
    assert result.returncode == 0, result.stderr
    assert len(listed(fleetsim, memfault_cli, "symbols")) == 2


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_yocto_symbols(memfault_cli, fleetsim, tmp_path, cred):
    stripped = make_elf(bytes(range(4, 24)), debug_info=False)
    debug = make_elf(bytes(range(4, 24)))
    image = tar_of(tmp_path, "image.rootfs.tar.gz", {"usr/bin/app": stripped})
    dbg = tar_of(tmp_path, "image.rootfs-dbg.tar.gz", {"usr/bin/.debug/app": debug})
    # eu-unstrip --output OUT STRIPPED DEBUG: here, the debug file already has everything
    unstrip = tmp_path / "eu-unstrip"
    unstrip.write_text('#!/bin/sh\ncp "$4" "$2"\n')
    unstrip.chmod(0o755)
    result = run(memfault_cli, cred, "upload-yocto-symbols", "--image", str(image),
                 "--dbg-image", str(dbg), "--eu-unstrip-path", str(unstrip),
                 "--package-debug-split-style", "debug-with-srcpkg")
    assert result.returncode == 0, result.stderr
    [symbols] = listed(fleetsim, memfault_cli, "symbols")
    assert symbols["gnu_build_id"] == bytes(range(4, 24)).hex()


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_android_app_symbols(memfault_cli, fleetsim, tmp_path, cred):
    build = tmp_path / "build"
    mapping = write(build, "outputs/mapping/release/mapping.txt",
                    b"com.acme.Foo -> a.a:\n    void bar() -> a\n")
    result = run(memfault_cli, cred, "upload-android-app-symbols", "--build-variant", "release",
                 "--package", "com.acme.app", "--version-name", "1.4", "--version-code", "14",
                 "--mapping-txt", str(mapping), str(build))
    assert result.returncode == 0, result.stderr
    [symbols] = listed(fleetsim, memfault_cli, "symbols")
    assert symbols["software_version"]["version"] == "1.4:14"
    assert symbols["software_version"]["software_type"] == {"name": "com.acme.app"}
    assert symbols["gnu_build_id"] is None


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_software_version_sbom(memfault_cli, fleetsim, tmp_path, cred):
    sbom = write(tmp_path, "sbom.json", json.dumps({"bomFormat": "CycloneDX"}).encode())
    result = run(memfault_cli, cred, "upload-software-version-sbom", "--software-type", "main",
                 "--software-version", "1.0.0", str(sbom))
    assert result.returncode == 0, result.stderr
    [item] = listed(fleetsim, memfault_cli, "sboms")
    assert item["software_version"]["version"] == "1.0.0"
    api = Api(fleetsim.url, memfault_cli.project)
    assert api.get("/software_types/main/software_versions/1.0.0").status_code == 200
    again = run(memfault_cli, cred, "upload-software-version-sbom", "--software-type", "main",
                "--software-version", "1.0.0", str(sbom))
    assert again.returncode == 0, again.stderr          # 409: "already uploaded"
    assert len(listed(fleetsim, memfault_cli, "sboms")) == 1


def test_project_key_is_refused_for_management_only_uploads(memfault_cli, fleetsim, tmp_path):
    """The CLI needs --org for symbols; a project key on a management path is a 401."""
    elf = write(tmp_path, "app.elf", make_elf(BUILD_ID))
    result = run(memfault_cli, "project_key", "upload-symbols", str(elf))
    assert result.returncode != 0 and "--org" in result.stderr
    api = Api(fleetsim.url, memfault_cli.project,
              auth={"Memfault-Project-Key": memfault_cli.project.project_key})
    assert api.post("/symbols", json={"file": {"token": "x"}}).status_code == 401


@pytest.mark.parametrize("cred", MGMT_CREDS)
def test_upload_zchunk_ota_payload(memfault_cli, fleetsim, tmp_path, cred):
    lead = b"\x81\x85" + hashlib.sha256(b"header").digest()   # sha256 checksum, header digest
    image = write(tmp_path, "image.zck", b"\x00ZCK1" + lead + b"chunks" * 20)
    swu = write(tmp_path, "image-delta.swu",
                b'software = { version = "4.0.0"; images: ({ filename = "image.zck"; '
                b'zckfile = "image.zck"; }); };\n' + b"\x00ZHR1" + lead)
    result = run(memfault_cli, cred, "upload-zchunk-ota-payload", "--hardware-version", "evt",
                 "--software-type", "main", "--software-version", "4.0.0",
                 "--zchunk-header", str(swu), "--zchunk-image", str(image))
    assert result.returncode == 0, result.stderr
    release = Api(fleetsim.url, memfault_cli.project).get("/releases/4.0.0").json()["data"]
    assert sorted((a["firmware_type"], a["filename"]) for a in release["artifacts"]) == [
        ("zchunk_header_swu", "image-delta.swu"), ("zchunk_image", "image.zck")]


@pytest.mark.parametrize(("path", "body"), [
    ("/symbols", b"[1]"),
    ("/symbols", b'{"file": {"token": "nope"}}'),
    ("/symbols", b'{"file": {"token": "T"}, "software_version": "1.0"}'),
    ("/symbols", b'{"file": {"token": "T"}, "software_version": {"version": [1, 2], '
                 b'"software_type": "main"}}'),
    ("/sboms", b'{"file": {"token": "T"}, "software_version": 5, "software_type": "main"}'),
    ("/mar", b'{"file": {"token": "T"}, "device_serial": "bad serial!"}'),
    ("/elf_coredumps", b'{"file": {"token": "T"}, "device": []}'),
    ("/custom-data-recording", b'{"file": {"token": "T"}, "start_time": "yesterday", '
                               b'"duration_secs": 1, "mimetypes": ["a/b"], "reason": "r", '
                               b'"device": {"device_serial": "D", "hardware_version": "evt", '
                               b'"software_type": "main", "software_version": "1"}}'),
    ("/qc/x", b'{"file": {"token": "T"}, "device_serial": "D", "hardware_version": "evt", '
              b'"trace_attributes": [{"string_key": "k", "value": {"nested": 1}}]}'),
    ("/coredumps", b'{"file": {"token": "T"}, "colour": "red"}'),
])
def test_bad_commits_are_400_and_change_nothing(fleetsim, mf, api, path, body):
    """A prepared, uploaded file (token T) committed with a bad body: Memfault's 400."""
    kind = {"/symbols": "SYMBOL_FILE", "/sboms": "SBOM", "/mar": "MAR",
            "/elf_coredumps": "ELF_COREDUMP", "/custom-data-recording": "CUSTOM_DATA_RECORDING",
            "/qc/x": "QCOMM_X", "/coredumps": "COREDUMP"}[path]
    fleetsim.cloud.ids.pin("memfault.upload_token", "T")
    prepared = api.post("/upload", json={"kind": kind, "size": 4}).json()["data"]
    assert requests.put(prepared["upload_url"], data=b"\x00\x01\x02\x03").status_code == 200
    before = fleetsim.snapshot()
    answer = api.post(path, data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert set(answer.json()["error"]) == {"code", "http_code", "message", "type"}
    assert fleetsim.snapshot() == before
