"""The shipped scenario, snapshots, determinism and intercept mode on Memfault's real hosts."""

from __future__ import annotations

import requests

from fake_api.app import create_app
from fake_api.memfault.seed import MemfaultSeeder

from .memfault_helpers import Api, Device


def test_memfault_basic_scenario(fleetsim):
    summary = fleetsim.load_scenario("memfault-basic")
    [creds] = summary["memfault"]["projects"]
    assert (creds["org"], creds["project"]) == ("acme", "smart-sink")
    assert creds["org_token"].startswith("oat_") and len(creds["project_key"]) == 32
    project = fleetsim.memfault.project("acme", "smart-sink")
    assert project.org_token == creds["org_token"]
    api = Api(fleetsim.url, project)
    assert api.get("/devices").json()["paging"]["total_count"] == 5
    beta = Device(fleetsim.url, creds["project_key"], "SINK-0001")
    assert beta.check("1.0.0").json()["is_delta"] is True
    assert beta.latest_version("1.1.0") is None


def test_snapshot_and_restore_round_trip(fleetsim, mf, device):
    fleetsim.memfault.release(mf, "2.0.0", b"two")
    fleetsim.memfault.deploy(mf, "2.0.0")
    snap = fleetsim.snapshot()
    fleetsim.memfault.release(mf, "3.0.0")
    fleetsim.memfault.deploy(mf, "3.0.0")
    assert device("S1").latest_version("1.0.0") == "3.0.0"
    fleetsim.restore(snap)
    url = device("S1").check("1.0.0", "/url").text
    assert requests.get(url).content == b"two"


def test_same_seed_same_credentials_and_answers():
    def run() -> tuple:
        app = create_app(seed=7)
        seeder = MemfaultSeeder(app.cloud.backends["memfault"], "http://localhost")
        project = seeder.project()
        seeder.release(project, "1.0.0")
        seeder.deploy(project, "1.0.0", rollout_percent=50)
        answers = [app.test_client().get(
            "/api/v0/releases/latest",
            query_string={"device_serial": f"S{n}", "hardware_version": "evt",
                          "software_type": "main", "current_version": "0.1"},
            headers={"Memfault-Project-Key": project.project_key}).data for n in range(20)]
        return project.org_token, project.project_key, answers

    assert run() == run()


def test_intercept_mode_reaches_the_fake_on_memfaults_hosts(fleetsim, mf):
    fleetsim.memfault.release(mf, "2.0.0", b"over-the-air")
    fleetsim.memfault.deploy(mf, "2.0.0")
    with fleetsim.intercept():
        response = requests.get(
            "https://device.memfault.com/api/v0/releases/latest",
            params={"device_serial": "S1", "hardware_version": "evt", "software_type": "main",
                    "current_version": "1.0.0"},
            headers={"Memfault-Project-Key": mf.project_key})
        assert response.status_code == 200
        url = response.json()["artifacts"][0]["url"]
        assert url.startswith("https://device.memfault.com/api/v0/storage/")
        assert requests.get(url).content == b"over-the-air"
        chunk = requests.post("https://chunks.memfault.com/api/v0/chunks/S1", data=b"c",
                              headers={"Memfault-Project-Key": mf.project_key,
                                       "Content-Type": "application/octet-stream"})
        assert chunk.status_code == 202
        devices = requests.get(
            f"https://api.memfault.com/api/v0/organizations/{mf.org}/projects/{mf.project}/devices",
            headers={"Authorization": f"Bearer {mf.org_token}"})
        assert [d["device_serial"] for d in devices.json()["data"]] == ["S1"]
