"""The official memfault-cli, unmodified, against the fake: uploads, deployments, chunks."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess

import pytest
import requests

from .memfault_helpers import Api

FIRMWARE = bytes(range(256)) * 12  # 3072 bytes


def _payload(tmp_path, name="fw.bin", data=FIRMWARE):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_upload_full_payload_creates_release_and_artifact(memfault_cli, fleetsim, tmp_path):
    path = _payload(tmp_path)
    result = memfault_cli(
        "upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
        "--software-version", "1.0.0", "--revision", "abc123", "--notes", "hello notes",
        "--extra-metadata", "k=v", str(path),
    )
    assert result.returncode == 0, result.stderr
    assert "/releases/1.0.0" in result.stdout

    api = Api(fleetsim.url, memfault_cli.project)
    release = api.get("/releases/1.0.0").json()["data"]
    assert release["revision"] == "abc123" and release["notes"] == "hello notes"
    assert release["is_delta"] is False and release["must_pass_through"] is False
    [artifact] = release["artifacts"]
    assert artifact["hardware_version"] == "evt" and artifact["filename"] == "fw.bin"
    assert artifact["md5"] == hashlib.md5(FIRMWARE).hexdigest()
    assert artifact["file_size"] == len(FIRMWARE) and artifact["extra_info"] == {"k": "v"}
    assert requests.get(artifact["url"]).content == FIRMWARE
    # the commit also made the hardware version and the software version
    assert api.get("/hardware_versions/evt").status_code == 200
    assert api.get("/software_types/main/software_versions/1.0.0").status_code == 200

    # the same upload again is a 409, which the CLI reports as "already uploaded" (exit 0)
    again = memfault_cli(
        "upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
        "--software-version", "1.0.0", str(path),
    )
    assert again.returncode == 0, again.stderr
    assert len(api.get("/releases/1.0.0").json()["data"]["artifacts"]) == 1


def test_upload_delta_and_must_pass_through(memfault_cli, fleetsim, tmp_path):
    delta = memfault_cli(
        "upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
        "--delta-from", "0.9.0", "--delta-to", "1.0.0", str(_payload(tmp_path, "d.bin", b"d" * 99)),
    )
    assert delta.returncode == 0, delta.stderr
    mpt = memfault_cli(
        "upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
        "--software-version", "0.9.5", "--must-pass-through", str(_payload(tmp_path, "m.bin")),
    )
    assert mpt.returncode == 0, mpt.stderr

    api = Api(fleetsim.url, memfault_cli.project)
    [listed] = api.get("/delta-releases").json()["data"]
    assert listed["is_delta"] is True
    assert (listed["delta_from"], listed["delta_to"]) == ("0.9.0", "1.0.0")
    assert api.get("/delta-releases/0.9.0/1.0.0").json()["data"]["artifacts"][0]["file_size"] == 99
    assert api.get("/releases/0.9.5").json()["data"]["must_pass_through"] is True
    assert [r["version"] for r in api.get("/releases").json()["data"]] == ["0.9.5"]


def test_multipart_upload_when_project_asks_for_it(memfault_cli, fleetsim, tmp_path):
    project = memfault_cli.project
    project.record["max_ota_upload_size"] = 10_000
    project.record["multipart_part_size"] = 1024  # 3072 bytes -> 3 parts
    result = memfault_cli(
        "upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
        "--software-version", "2.0.0", str(_payload(tmp_path)),
    )
    assert result.returncode == 0, result.stderr
    paths = [e.path for e in fleetsim.journal if e.dialect == "memfault"]
    assert any(p.endswith("/upload_multipart") for p in paths)
    assert sum("/parts/" in p for p in paths) == 3
    assert any(p.endswith("/complete") for p in paths)
    artifact = Api(fleetsim.url, project).get("/releases/2.0.0").json()["data"]["artifacts"][0]
    assert requests.get(artifact["url"]).content == FIRMWARE

    # larger than max_ota_upload_size: Memfault's "too big" 400, which the CLI turns into exit 1
    too_big = memfault_cli(
        "upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
        "--software-version", "2.0.1", str(_payload(tmp_path, "big.bin", b"x" * 10_001)),
    )
    assert too_big.returncode == 1
    assert "Uploaded file is too big, max is 10000" in too_big.stderr + too_big.stdout


def test_deploy_normal_staged_and_deactivate(memfault_cli, fleetsim):
    project = memfault_cli.project
    seed = fleetsim.memfault
    seed.release(project, "1.0.0")
    seed.cohort(project, "Beta", "beta")
    api = Api(fleetsim.url, project)

    assert memfault_cli("deploy-release", "--release-version", "1.0.0",
                        "--cohort", "default").returncode == 0
    staged = memfault_cli("deploy-release", "--release-version", "1.0.0", "--cohort", "beta",
                          "--rollout-percent", "25")
    assert staged.returncode == 0, staged.stderr
    by_cohort = {d["cohort"]["slug"]: d for d in api.get("/deployments").json()["data"]}
    assert by_cohort["default"]["type"] == "normal" and by_cohort["default"]["status"] == "done"
    assert by_cohort["beta"]["type"] == "staged_rollout"
    assert (by_cohort["beta"]["rollout_percent"], by_cohort["beta"]["status"]) == (25, "in_progress")
    assert by_cohort["beta"]["deployer"]["name"] == "fleetsim"

    off = memfault_cli("deploy-release", "--release-version", "1.0.0", "--cohort", "default",
                       "--deactivate")
    assert off.returncode == 0, off.stderr
    status = {d["cohort"]["slug"]: d["status"] for d in api.get("/deployments").json()["data"]}
    assert status == {"default": "cancelled", "beta": "in_progress"}
    # nothing active left for default: the CLI refuses, as it does against Memfault
    again = memfault_cli("deploy-release", "--release-version", "1.0.0", "--cohort", "default",
                         "--deactivate")
    assert again.returncode == 2 and "Could not find an active deployment" in again.stderr


def test_deploy_delta_and_unknown_release(memfault_cli, fleetsim):
    project = memfault_cli.project
    fleetsim.memfault.release(project, "1.0.0", delta_from="0.9.0")
    ok = memfault_cli("deploy-release", "--delta-from", "0.9.0", "--delta-to", "1.0.0",
                      "--cohort", "default")
    assert ok.returncode == 0, ok.stderr
    off = memfault_cli("deploy-release", "--delta-from", "0.9.0", "--delta-to", "1.0.0",
                       "--cohort", "default", "--deactivate")
    assert off.returncode == 0, off.stderr
    missing = memfault_cli("deploy-release", "--release-version", "9.9.9", "--cohort", "default")
    assert missing.returncode != 0
    assert '"type": "NotFoundError"' in missing.stderr


def test_wrong_org_token_fails_cleanly(memfault_cli, fleetsim):
    fleetsim.memfault.release(memfault_cli.project, "1.0.0")
    result = memfault_cli("--org-token", "oat_wrong", "deploy-release", "--release-version",
                          "1.0.0", "--cohort", "default")
    assert result.returncode != 0
    assert "401" in result.stderr and "AuthenticationError" in result.stderr


def test_post_chunk_single_and_multipart(memfault_cli, fleetsim, tmp_path):
    project = memfault_cli.project
    key = project.project_key
    one = memfault_cli("--project-key", key, "post-chunk", "--device-serial", "DEV-1",
                       "--encoding", "hex", "0802a702010301")
    assert one.returncode == 0, one.stderr
    export = tmp_path / "export.txt"
    chunks = [b"first-chunk", b"abc"]
    export.write_text("".join(f"MC:{base64.b64encode(c).decode()}:\n" for c in chunks))
    many = memfault_cli("--project-key", key, "post-chunk", "--device-serial", "DEV2",
                        "--encoding", "sdk_data_export", str(export))
    assert many.returncode == 0, many.stderr

    assert fleetsim.memfault.chunks(project, "DEV-1") == [bytes.fromhex("0802a702010301")]
    assert fleetsim.memfault.chunks(project, "DEV2") == chunks
    # unknown serials were auto-created in the default cohort, seen now
    dev = fleetsim.memfault.render_device(project, "DEV2")
    assert dev["cohort"]["slug"] == "default" and dev["last_seen"] == fleetsim.clock.isoformat()

    bad = memfault_cli("--project-key", "0" * 32, "post-chunk", "--encoding", "hex", "08")
    assert bad.returncode != 0 and "403" in bad.stderr


def test_cli_with_user_api_key_basic_auth(memfault_cli, fleetsim):
    """``--email/--password`` sends Basic ``email:key``: the user's API key works too."""
    project = memfault_cli.project
    fleetsim.memfault.release(project, "1.0.0")
    base = [memfault_cli.executable, "--url", memfault_cli.url, "--org", project.org,
            "--project", project.project, "--email", project.user_email]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    ok = subprocess.run([*base, "--password", project.user_api_key, "deploy-release",
                         "--release-version", "1.0.0", "--cohort", "default"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    [deployment] = Api(fleetsim.url, project).get("/deployments").json()["data"]
    assert deployment["deployer"]["email"] == project.user_email
    bad = subprocess.run([*base, "--password", "not-my-key", "deploy-release",
                          "--release-version", "1.0.0", "--cohort", "default"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "401" in bad.stderr


def test_project_settings_apply_to_the_project_the_fixture_made(memfault_cli, fleetsim, tmp_path):
    """``fleetsim.memfault.project(...)`` after ``memfault_cli`` made the project updates it
    (it used to ignore the arguments silently)."""
    project = fleetsim.memfault.project(max_ota_upload_size=10_000, multipart_part_size=1024)
    assert project.project_key == memfault_cli.project.project_key
    result = memfault_cli(
        "upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
        "--software-version", "3.0.0", str(_payload(tmp_path)),
    )
    assert result.returncode == 0, result.stderr
    paths = [e.path for e in fleetsim.journal if e.dialect == "memfault"]
    assert any(p.endswith("/upload_multipart") for p in paths)
    assert sum("/parts/" in p for p in paths) == 3
    # a plain call later changes nothing; a different project key is refused loudly
    assert fleetsim.memfault.project().record["max_ota_upload_size"] == 10_000
    with pytest.raises(ValueError, match="another project key"):
        fleetsim.memfault.project(project_key="f" * 32)
