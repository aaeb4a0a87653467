"""The device side, driven with ``requests`` as firmware would: OTA check precedence, staged
rollouts, artifact URLs that expire, last-seen bookkeeping, chunks and device attributes."""

from __future__ import annotations

import pytest
import requests

from .memfault_helpers import Api, assert_error


@pytest.fixture
def releases(fleetsim, mf):
    """1.0.0, 1.0.5 (MPT), 1.1.0 (MPT), 1.2.0 and a 1.0.0 -> 1.2.0 delta, all live in default."""
    seed = fleetsim.memfault
    seed.release(mf, "1.0.0")
    seed.release(mf, "1.0.5", must_pass_through=True)
    seed.release(mf, "1.1.0", must_pass_through=True)
    seed.release(mf, "1.2.0")
    seed.release(mf, "1.2.0", delta_from="1.0.0", data=b"delta")
    for ref in ("1.0.0", "1.0.5", "1.1.0", "1.2.0", ["1.0.0", "1.2.0"]):
        seed.deploy(mf, ref)
    return mf


@pytest.mark.parametrize(("current", "offered", "is_delta"), [
    ("1.0.0", "1.2.0", True),     # 1. a delta from the current version wins, even over an MPT
    ("0.9.0", "1.0.5", False),    # 2. else the lowest must-pass-through above current
    ("1.0.5", "1.1.0", False),    #    the next MPT
    ("1.1.0", "1.2.0", False),    # 3. else the highest full release above current
    (None, "1.2.0", False),       # no current_version: the latest full release
])
def test_precedence(releases, device, current, offered, is_delta):
    response = device("SINK-1").check(current)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" not in body  # the release is the top-level object
    assert (body["version"], body["is_delta"], body["reason"]) == (offered, is_delta, "latest")
    [artifact] = body["artifacts"]
    assert artifact["hardware_version"] == "evt"
    assert {"url", "md5", "file_size", "sha256"} <= set(artifact)


@pytest.mark.parametrize("current", ["1.2.0", "1.2.1", "9.0.0"])
def test_up_to_date_and_no_downgrade_give_204(releases, device, current):
    response = device("SINK-1").check(current)
    assert response.status_code == 204
    assert response.headers["memfault-reason"] == "latest"
    assert response.content == b""


def test_version_order_is_memfaults_natural_order(fleetsim, mf, device):
    for version in ("1.0.9", "1.0.10", "1.0.1-rc2", "1.0.1"):
        fleetsim.memfault.release(mf, version)
        fleetsim.memfault.deploy(mf, version)
    dev = device("SINK-1")
    assert dev.latest_version("1.0.1-dev") == "1.0.10"
    assert dev.latest_version("1.0.9") == "1.0.10"   # 10 > 9 numerically, not as text
    assert dev.latest_version("1.0.10") is None
    fleetsim.memfault.release(mf, "1.1.0rc1")
    fleetsim.memfault.deploy(mf, "1.1.0rc1")
    assert dev.latest_version("1.0.10") == "1.1.0rc1"
    fleetsim.memfault.release(mf, "1.1.0")
    fleetsim.memfault.deploy(mf, "1.1.0")
    assert dev.latest_version("1.1.0rc1") == "1.1.0"  # a release sorts above its pre-release


def test_only_applicable_releases_count(fleetsim, mf, device):
    seed = fleetsim.memfault
    seed.cohort(mf, "Beta", "beta")
    seed.release(mf, "2.0.0")                                   # never deployed
    seed.release(mf, "3.0.0")
    seed.deploy(mf, "3.0.0", cohort="beta")                     # another cohort
    seed.release(mf, "4.0.0", hardware_version="dvt")
    seed.deploy(mf, "4.0.0")                                    # no artifact for evt
    seed.release(mf, "5.0.0", software_type="wifi")
    seed.deploy(mf, "5.0.0")                                    # another software type
    assert device("SINK-1").latest_version("1.0.0") is None
    seed.device(mf, "SINK-B", cohort="beta")
    assert device("SINK-B").latest_version("1.0.0") == "3.0.0"
    assert device("SINK-D", hardware_version="dvt").latest_version("1.0.0") == "4.0.0"
    assert device("SINK-W", software_type="wifi").latest_version("1.0.0") == "5.0.0"


def test_moving_a_device_between_cohorts_changes_its_offer(fleetsim, mf, api, device):
    seed = fleetsim.memfault
    seed.cohort(mf, "Beta", "beta")
    seed.release(mf, "2.0.0")
    seed.deploy(mf, "2.0.0", cohort="beta")
    seed.device(mf, "SINK-1")
    dev = device("SINK-1")
    assert dev.latest_version("1.0.0") is None
    moved = api.patch("/devices/SINK-1", json={"cohort": "beta"})
    assert moved.json()["data"]["cohort"]["slug"] == "beta"
    assert dev.latest_version("1.0.0") == "2.0.0"
    # a deactivated release is no longer offered
    [deployment] = api.get("/deployments", params={"cohort": "beta"}).json()["data"]
    assert api.delete(f"/deployments/{deployment['id']}").status_code == 204
    assert dev.latest_version("1.0.0") is None


def test_staged_rollout_is_deterministic_sticky_and_only_grows(fleetsim, mf, api, device):
    seed = fleetsim.memfault
    seed.release(mf, "2.0.0")
    serials = [f"SINK-{n:04d}" for n in range(200)]
    seed.devices(mf, serials[:100])           # 100 devices in the cohort at activation
    deployment = seed.deploy(mf, "2.0.0", rollout_percent=25)

    def offered(among=serials) -> set[str]:
        return {s for s in among if device(s).latest_version("1.0.0") == "2.0.0"}

    first = offered(serials[:100])
    assert len(first) == 25                   # exactly the share of the cohort at activation
    assert offered(serials[:100]) == first    # sticky across polls
    # 100 more devices join the cohort by polling: each is decided once, and the staged count
    # stays within one device of 25% of all devices the rollout has seen
    late = offered(serials[100:])
    assert len(first | late) == 50 and offered() == first | late

    grown = api.patch(f"/deployments/{deployment['id']}", json={"rollout_percent": 60})
    assert grown.json()["data"]["rollout_percent"] == 60
    wider = offered()
    assert first | late < wider and len(wider) == 120
    shrink = api.patch(f"/deployments/{deployment['id']}", json={"rollout_percent": 30})
    assert shrink.status_code == 400 and offered() == wider
    # a new POST for the same release and cohort keeps the staged devices, replacing the old one
    again = api.post("/deployments", json={"type": "staged_rollout", "release": "2.0.0",
                                           "cohort": "default", "rollout_percent": 60})
    assert again.status_code == 200
    assert offered() == wider
    statuses = sorted(d["status"] for d in api.get("/deployments").json()["data"])
    assert statuses == ["cancelled", "in_progress"]
    full = api.patch(f"/deployments/{again.json()['data']['id']}", json={"rollout_percent": 100})
    assert full.json()["data"]["status"] == "done"
    assert offered() == set(serials)


def test_latest_url_and_artifact_expiry(fleetsim, mf, device):
    fleetsim.memfault.release(mf, "2.0.0", b"\x00firmware-bytes")
    fleetsim.memfault.deploy(mf, "2.0.0")
    dev = device("SINK-1")
    response = dev.check("1.0.0", "/url")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    url = response.text
    assert url.startswith(fleetsim.url + "/api/v0/storage/")
    assert requests.get(url).content == b"\x00firmware-bytes"
    fleetsim.clock.advance(hours=6, seconds=1)  # Memfault's CDN links last 6 hours
    assert_error(requests.get(url), 403, "ForbiddenError")
    assert requests.get(dev.check("1.0.0", "/url").text).content == b"\x00firmware-bytes"
    assert dev.check("2.0.0", "/url").status_code == 204


def test_check_records_last_seen_and_release(fleetsim, mf, api, device):
    fleetsim.memfault.release(mf, "1.0.0", revision="r1")
    fleetsim.memfault.device(mf, "SINK-1")
    assert api.get("/devices/SINK-1").json()["data"]["last_seen"] is None
    fleetsim.clock.advance(minutes=5)
    device("SINK-1").check("1.0.0")
    data = api.get("/devices/SINK-1").json()["data"]
    assert data["last_seen"] == fleetsim.clock.isoformat()
    assert data["last_seen_release"]["version"] == "1.0.0"
    assert data["last_seen_release"]["revision"] == "r1"
    # an unknown version reported by a device becomes a release, as on Memfault
    device("SINK-1").check("0.5.0")
    assert api.get("/devices/SINK-1").json()["data"]["last_seen_release"]["version"] == "0.5.0"
    assert api.get("/releases/0.5.0").json()["data"]["artifacts"] == []


@pytest.mark.parametrize(("params", "missing"), [
    ({"hardware_version": "evt", "software_type": "main"}, "device_serial"),
    ({"device_serial": "S1", "software_type": "main"}, "hardware_version"),
    ({"device_serial": "S1", "hardware_version": "evt"}, "software_type"),
])
def test_check_bad_requests(fleetsim, mf, params, missing):
    response = requests.get(f"{fleetsim.url}/api/v0/releases/latest", params=params,
                            headers={"Memfault-Project-Key": mf.project_key})
    error = assert_error(response, 400, "InvalidUsageError")
    assert missing in error["message"] and error["code"] == 1000


def test_check_unknown_hardware_or_software_type(fleetsim, mf, device):
    assert_error(device("S1", hardware_version="nope").check("1.0"), 400)
    assert_error(device("S1", software_type="nope").check("1.0"), 400)
    assert fleetsim.cloud.backends["memfault"].device(mf.record, "S1") is None


def test_check_needs_the_project_key(fleetsim, mf):
    url = f"{fleetsim.url}/api/v0/releases/latest"
    params = {"device_serial": "S1", "hardware_version": "evt", "software_type": "main"}
    assert_error(requests.get(url, params=params), 403, "ForbiddenError")
    assert_error(requests.get(url, params=params, headers={"Memfault-Project-Key": "f" * 32}), 403)
    bearer = {"Authorization": f"Bearer {mf.org_token}"}
    assert_error(requests.get(url, params=params, headers=bearer), 403)
    # and the project key opens no management endpoint
    api = Api(fleetsim.url, mf, auth={"Memfault-Project-Key": mf.project_key})
    assert_error(api.get("/devices"), 401, "AuthenticationError")


def test_firmware_sdk_query_quirk(fleetsim, mf):
    """The firmware SDK sends ``?&device_serial=...`` (an empty first parameter)."""
    fleetsim.memfault.release(mf, "2.0.0")
    fleetsim.memfault.deploy(mf, "2.0.0")
    url = (f"{fleetsim.url}/api/v0/releases/latest/url?&device_serial=DEMOSERIAL"
           "&hardware_version=evt&software_type=main&current_version=1.0.0")
    response = requests.get(url, headers={"Memfault-Project-Key": mf.project_key})
    assert response.status_code == 200 and "/api/v0/storage/artifacts/" in response.text


# -- chunks ----------------------------------------------------------------------------------


def _chunks_url(fleetsim, serial):
    return f"{fleetsim.url}/api/v0/chunks/{serial}"


def test_chunks_octet_stream_multipart_and_base64(fleetsim, mf):
    key = {"Memfault-Project-Key": mf.project_key}
    one = requests.post(_chunks_url(fleetsim, "CH-1"), data=b"\x08\x02",
                        headers={**key, "Content-Type": "application/octet-stream"})
    assert one.status_code == 202
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n"
            f"abc\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\nde\r\n"
            f"--{boundary}--\r\n").encode()
    many = requests.post(_chunks_url(fleetsim, "CH-1"), data=body,
                         headers={**key, "Content-Type": f"multipart/mixed; boundary={boundary}"})
    assert many.status_code == 202
    b64 = requests.post(_chunks_url(fleetsim, "CH-1"), data=b"Zmc=",
                        headers={**key, "Content-Type": "application/octet-stream",
                                 "Content-Encoding": "base64"})
    assert b64.status_code == 202
    assert fleetsim.memfault.chunks(mf, "CH-1") == [b"\x08\x02", b"abc", b"de", b"fg"]


def test_chunks_refusals(fleetsim, mf):
    key = {"Memfault-Project-Key": mf.project_key}
    octet = {"Content-Type": "application/octet-stream"}
    url = _chunks_url(fleetsim, "CH-1")
    assert_error(requests.post(url, data=b"x", headers=octet), 403)
    assert_error(requests.post(url, data=b"x", headers={**key, "Content-Type": "text/plain"}), 415)
    assert_error(requests.post(url, data=b"", headers={**key, **octet}), 400)
    assert_error(requests.post(_chunks_url(fleetsim, "bad%20serial"), data=b"x",
                               headers={**key, **octet}), 400)
    assert_error(requests.post(url, data=b"--x\r\n", headers={
        **key, "Content-Type": "multipart/mixed; boundary=zzz"}), 400)
    assert fleetsim.memfault.chunks(mf, "CH-1") == []
    assert fleetsim.cloud.backends["memfault"].device(mf.record, "CH-1") is None


def test_device_side_attribute_write(fleetsim, mf, api):
    url = f"{fleetsim.url}/api/v0/attributes"
    response = requests.patch(url, params={"device_serial": "ATTR-1"},
                              json=[{"string_key": "region", "value": "eu"}],
                              headers={"Memfault-Project-Key": mf.project_key})
    assert response.status_code == 204
    [attr] = api.get("/devices/ATTR-1/attributes").json()["data"]
    assert attr["custom_metric"]["string_key"] == "region"
    assert attr["custom_metric"]["data_type"] == "STRING"
    assert attr["state"]["value"] == "eu"


def test_device_side_attribute_refusals_change_nothing(fleetsim, mf):
    url = f"{fleetsim.url}/api/v0/attributes"
    key = {"Memfault-Project-Key": mf.project_key}
    assert_error(requests.patch(url, params={"device_serial": "ATTR-2"}, json={"a": 1},
                                headers=key), 400)
    assert_error(requests.patch(url, json=[], headers=key), 400)   # no device_serial
    assert_error(requests.patch(url, params={"device_serial": "ATTR-2"}, json=[]), 403)
    assert fleetsim.cloud.backends["memfault"].device(mf.record, "ATTR-2") is None
