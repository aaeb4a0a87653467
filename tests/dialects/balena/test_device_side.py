"""The device side, driven as a real device does it (plain ``requests``, the supervisor's calls)
and checked through the official SDK (balena-sdk 17.3): provisioning, target state, current
state with download progress, online/offline on the clock, history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

import pytest
import requests

from fake_api.balena.device_state import DEFAULT_POLL_INTERVAL_MS, HEARTBEAT_TIMEOUT_S

QUIET = DEFAULT_POLL_INTERVAL_MS * 1.5 / 1000  # seconds a device may stay silent and be online


class PlainSupervisor:
    """What a balena supervisor sends, written by hand from its protocol."""

    def __init__(self, url: str, uuid: str, provisioning_key: str, device_key: str) -> None:
        self.url, self.uuid = url, uuid
        self.provisioning_key, self.device_key = provisioning_key, device_key

    def call(self, method: str, path: str, key: Optional[str] = None, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {key or self.device_key}"}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def register(self, app_id: int, user_id: int, device_type: str) -> requests.Response:
        return self.call("POST", "/device/register", self.provisioning_key, json={
            "user": user_id, "application": app_id, "uuid": self.uuid, "device_type": device_type,
            "api_key": self.device_key, "supervisor_version": "14.11.0",
            "os_version": "balenaOS 5.1.20+rev1", "os_variant": "prod",
            "mac_address": "DC:A6:32:00:00:01"})

    def target(self) -> dict:
        answer = self.call("GET", f"/device/v3/{self.uuid}/state")
        assert answer.status_code == 200, answer.text
        return answer.json()[self.uuid]

    def report(self, body: dict) -> requests.Response:
        return self.call("PATCH", "/device/v3/state", json={self.uuid: body})


def installs(models: Any, uuid: str) -> list[dict]:
    """The SDK's view of what a device runs: ``current_services`` flattened."""
    current = models.device.get_with_service_details(uuid)["current_services"]
    return [dict(item, service=name) for name, items in current.items() for item in items]


def fleet_with_release(fleetsim: Any, user: Any) -> tuple[dict, dict]:
    fleet = fleetsim.balena.application(user, "devside", "raspberrypi4-64")
    release = fleetsim.balena.release(fleet, semver="1.0.0", services=("main", "worker"))
    return fleet, release


@pytest.fixture
def device(fleetsim: Any, user: Any, models: Any) -> PlainSupervisor:
    fleet, _release = fleet_with_release(fleetsim, user)
    key = models.application.generate_provisioning_key(fleet["id"])
    sup = PlainSupervisor(fleetsim.url, models.device.generate_uuid(), key, "d" * 32)
    assert sup.register(fleet["id"], user.id, "raspberrypi4-64").status_code == 201
    sup.fleet = fleet
    return sup


def test_supervisor_lifecycle_seen_by_the_sdk(fleetsim: Any, models: Any, user: Any) -> None:
    """Register with the provisioning key, poll, download with progress, run, go quiet."""
    fleet, release = fleet_with_release(fleetsim, user)
    key = models.application.generate_provisioning_key(fleet["id"])
    sup = PlainSupervisor(fleetsim.url, models.device.generate_uuid(), key, "k" * 32)

    answer = sup.register(fleet["id"], user.id, "raspberrypi4-64")
    assert answer.status_code == 201
    assert answer.json()["api_key"] == sup.device_key
    # the supervisor's key exchange: the device key sees its own device, and only it
    mine = sup.call("GET", f"/v6/device?$filter=uuid eq '{sup.uuid}'&$select=id,uuid").json()["d"]
    assert [d["uuid"] for d in mine] == [sup.uuid]
    assert models.device.get_status(sup.uuid) == "inactive"
    assert models.device.is_online(sup.uuid) is False
    got = models.device.get(sup.uuid)
    assert (got["os_version"], got["supervisor_version"]) == ("balenaOS 5.1.20+rev1", "14.11.0")

    target = sup.target()
    assert models.device.is_online(sup.uuid) is True
    app = target["apps"][fleet["uuid"]]
    services = app["releases"][release["commit"]]["services"]
    assert sorted(services) == ["main", "worker"]

    def progress(pct: int, status: str, running: Optional[str] = None) -> None:
        body: dict = {"status": "Downloading" if pct < 100 else "Idle", "apps": {fleet["uuid"]: {
            "releases": {release["commit"]: {
                "update_status": "downloading" if pct < 100 else "done",
                "services": {name: {"image": svc["image"], "status": status,
                                    "download_progress": pct if pct < 100 else None}
                             for name, svc in services.items()}}}}}}
        if running:
            body["apps"][fleet["uuid"]]["release_uuid"] = running
        answer = sup.report(body)
        assert (answer.status_code, answer.content) == (200, b"")  # open-balena: no body

    progress(40, "Downloading")
    assert models.device.get_status(sup.uuid) == "updating"
    seen = installs(models, sup.uuid)
    assert sorted((i["service"], i["download_progress"]) for i in seen) == \
        [("main", 40), ("worker", 40)]
    assert {i["status"] for i in seen} == {"Downloading"}
    progress(100, "Running", running=release["commit"])
    seen = installs(models, sup.uuid)
    assert {(i["status"], i["commit"]) for i in seen} == {("Running", release["commit"])}
    assert models.device.get(sup.uuid)["is_running__release"]["__id"] == release["id"]
    assert models.device.get_status(sup.uuid) == "operational"

    # quiet for the poll interval x 1.5: timeout (still online), then 15 s later offline
    fleetsim.clock.advance(seconds=QUIET - 1)
    assert models.device.is_online(sup.uuid) is True
    fleetsim.clock.advance(seconds=2)
    assert models.device.get(sup.uuid)["api_heartbeat_state"] == "timeout"
    fleetsim.clock.advance(seconds=HEARTBEAT_TIMEOUT_S)
    assert models.device.is_online(sup.uuid) is False
    assert models.device.get_status(sup.uuid) == "disconnected"
    assert models.device.get(sup.uuid)["api_heartbeat_state"] == "offline"
    # and back: the next poll brings it online
    sup.target()
    assert models.device.is_online(sup.uuid) is True

    since = fleetsim.clock.now() - timedelta(days=1)
    history = models.device.history.get_all_by_device(sup.uuid, from_date=since)
    running = [h["is_running__release"] for h in history]
    assert running[0] is None and running[-1] == {"__id": release["id"]}


def test_supervisor_key_exchange_and_rotation(fleetsim: Any, models: Any, user: Any) -> None:
    """A supervisor that lost its key asks for one with the provisioning key; a user rotates
    the device key with generate_device_key and revokes the old one."""
    fleet, _ = fleet_with_release(fleetsim, user)
    key = models.application.generate_provisioning_key(fleet["id"])
    sup = PlainSupervisor(fleetsim.url, models.device.generate_uuid(), key, "e" * 32)
    device_id = sup.register(fleet["id"], user.id, "raspberrypi4-64").json()["id"]
    exchanged = sup.call("POST", f"/api-key/device/{device_id}/device-key", key,
                         json={"apiKey": "f" * 32})
    assert exchanged.status_code == 200 and exchanged.json() == "f" * 32
    sup.device_key = "f" * 32
    assert sup.call("GET", "/actor/v1/whoami").json()["uuid"] == sup.uuid
    new_key = models.device.generate_device_key(sup.uuid, "rotated")
    for old in models.api_key.get_device_api_keys_by_device(sup.uuid):
        if old["name"] != "rotated":
            models.api_key.revoke(old["id"])
    assert sup.call("GET", f"/device/v3/{sup.uuid}/state").status_code == 401
    sup.device_key = new_key
    assert sup.call("GET", f"/device/v3/{sup.uuid}/state").status_code == 200
    # a provisioning key of another fleet cannot make keys for this device
    other = fleetsim.balena.application(user, "otherfleet", "raspberrypi4-64")
    other_key = models.application.generate_provisioning_key(other["id"])
    assert sup.call("POST", f"/api-key/device/{device_id}/device-key", other_key,
                    json={}).status_code == 404


def test_device_key_sees_only_its_device(fleetsim: Any, models: Any, device: PlainSupervisor) -> None:
    sibling = fleetsim.balena.device(device.fleet)
    assert device.call("GET", f"/device/v3/{sibling['uuid']}/state").status_code == 401
    assert device.call("GET", f"/device/v2/{sibling['uuid']}/state").status_code == 401
    assert device.report({"status": "x"}).status_code == 200
    assert device.call("PATCH", "/device/v3/state",
                       json={sibling["uuid"]: {"status": "hijacked"}}).status_code == 401
    assert models.device.get(sibling["uuid"])["status"] != "hijacked"
    seen = device.call("GET", "/v7/device?$select=uuid").json()["d"]
    assert seen == [{"uuid": device.uuid}]


def test_target_state_release_choice(fleetsim: Any, models: Any, device: PlainSupervisor) -> None:
    """Device pin, else the fleet's target, else the latest final release when tracking."""
    fleet = device.fleet
    first = models.release.get_latest_by_application(fleet["id"])
    second = fleetsim.balena.release(fleet, semver="1.1.0")
    releases = lambda: list(device.target()["apps"][fleet["uuid"]]["releases"])  # noqa: E731
    assert releases() == [second["commit"]]  # tracking: the new final release
    models.application.pin_to_release(fleet["id"], first["commit"])
    assert releases() == [first["commit"]]
    models.device.pin_to_release(device.uuid, second["commit"])
    assert releases() == [second["commit"]]
    models.device.track_application_release(device.uuid)
    assert releases() == [first["commit"]]
    fleetsim.balena.release(fleet, semver="2.0.0", final=False)
    assert releases() == [first["commit"]]  # drafts are never targets
    state_v2 = models.device.get_supervisor_target_state(device.uuid)
    local = state_v2["local"]["apps"][str(fleet["id"])]
    assert (local["commit"], local["releaseId"]) == (first["commit"], first["id"])
    assert {s["serviceName"] for s in local["services"].values()} == {"main", "worker"}
    assert all(s["running"] is True for s in local["services"].values())


def test_target_state_variables_and_config(fleetsim: Any, models: Any,
                                           device: PlainSupervisor) -> None:
    """fleet env < service env < device env < device-service env; config: fleet < device."""
    fleet = device.fleet
    device.target()  # the first poll creates the service installs
    models.application.env_var.set(fleet["id"], "LEVEL", "fleet")
    models.application.env_var.set(fleet["id"], "FLEET_ONLY", "1")
    models.service.var.set({"application": fleet["id"], "service_name": "main"}, "LEVEL", "service")
    models.device.env_var.set(device.uuid, "DEVICE_ONLY", "1")
    models.device.service_var.set(device.uuid, "worker", "LEVEL", "device-service")
    models.application.config_var.set(fleet["id"], "RESIN_SUPERVISOR_POLL_INTERVAL", "60000")
    models.application.config_var.set(fleet["id"], "BALENA_HOST_CONFIG_gpu_mem", "16")
    models.application.config_var.set(fleet["id"], "BALENA_UI_SOMETHING", "hidden")
    models.device.config_var.set(device.uuid, "BALENA_HOST_CONFIG_gpu_mem", "64")
    models.device.config_var.set(device.uuid, "RESIN_SUPERVISOR_UPDATE_STRATEGY", "kill-then-download")

    state = device.target()
    assert state["config"]["RESIN_SUPERVISOR_POLL_INTERVAL"] == "900000"  # never below 15 min
    assert state["config"]["BALENA_HOST_CONFIG_gpu_mem"] == "64"
    assert state["config"]["RESIN_SUPERVISOR_NATIVE_LOGGER"] == "true"
    assert "BALENA_UI_SOMETHING" not in state["config"]
    (release,) = state["apps"][fleet["uuid"]]["releases"].values()
    main, worker = release["services"]["main"], release["services"]["worker"]
    assert main["environment"] == {"LEVEL": "service", "FLEET_ONLY": "1", "DEVICE_ONLY": "1"}
    assert worker["environment"] == {"LEVEL": "device-service", "FLEET_ONLY": "1",
                                     "DEVICE_ONLY": "1"}
    assert main["labels"]["io.resin.update.strategy"] == "kill-then-download"
    assert main["image"].startswith("registry2.balena-cloud.com/v2/")
    # the v2 shape carries the same environment, keyed by service id
    v2 = models.device.get_supervisor_target_state(device.uuid)["local"]
    v2_services = {s["serviceName"]: s for s in v2["apps"][str(fleet["id"])]["services"].values()}
    assert v2_services["worker"]["environment"]["LEVEL"] == "device-service"
    assert v2["config"] == state["config"]


def test_fleet_target_state(fleetsim: Any, models: Any, device: PlainSupervisor) -> None:
    fleet = device.fleet
    models.application.env_var.set(fleet["id"], "LEVEL", "fleet")
    models.device.env_var.set(device.uuid, "LEVEL", "device")
    latest = models.release.get_latest_by_application(fleet["id"])
    state = models.device.get_supervisor_target_state_for_app(fleet["id"])
    app = state[fleet["uuid"]]["apps"][fleet["uuid"]]
    assert app["name"] == "devside" and app["class"] == "fleet"
    services = app["releases"][latest["commit"]]["services"]
    assert services["main"]["environment"] == {"LEVEL": "fleet"}  # no device level here
    older = fleetsim.balena.release(fleet, semver="0.9.0")
    pinned = models.device.get_supervisor_target_state_for_app(fleet["id"], older["commit"])
    assert list(pinned[fleet["uuid"]]["apps"][fleet["uuid"]]["releases"]) == [older["commit"]]


def test_current_state_v2(fleetsim: Any, models: Any, device: PlainSupervisor) -> None:
    """The older supervisors' report: ``local`` fields, is_on__commit and image installs by id."""
    fleet = device.fleet
    release = models.release.get_latest_by_application(fleet["id"])
    v2 = device.call("GET", f"/device/v2/{device.uuid}/state").json()
    services = v2["local"]["apps"][str(fleet["id"])]["services"]
    body = {"local": {"ip_address": "192.168.1.20", "cpu_temp": 51, "is_on__commit": release["commit"],
                      "apps": {str(fleet["id"]): {"services": {
                          str(s["imageId"]): {"status": "Running", "releaseId": release["id"],
                                              "download_progress": None}
                          for s in services.values()}}}}}
    assert device.call("PATCH", f"/device/v2/{device.uuid}/state", json=body).status_code == 200
    got = models.device.get(device.uuid)
    assert (got["ip_address"], got["cpu_temp"]) == ("192.168.1.20", 51)
    assert got["is_running__release"] == {"__id": release["id"]}
    seen = installs(models, device.uuid)
    assert len(seen) == 2 and {i["status"] for i in seen} == {"Running"}
    # a report without one of the images marks its install deleted
    first_image = next(iter(body["local"]["apps"][str(fleet["id"])]["services"]))
    body["local"]["apps"][str(fleet["id"])]["services"].pop(first_image)
    device.call("PATCH", f"/device/v2/{device.uuid}/state", json=body)
    assert len(installs(models, device.uuid)) == 1


@pytest.mark.parametrize("body", [[], "x", {"local": []}, {"local": {"apps": {"1": {
    "services": {"abc": {"status": "Running"}}}}}}])
def test_bad_reports_are_400(device: PlainSupervisor, body: Any, state: Any) -> None:
    before = state()
    answer = device.call("PATCH", f"/device/v2/{device.uuid}/state", json=body)
    assert answer.status_code == 400
    assert isinstance(answer.json(), str)
    assert state() == before


def test_v3_report_refuses_unknown_releases_and_images(device: PlainSupervisor, models: Any) -> None:
    fleet = device.fleet
    bad_release = {"apps": {fleet["uuid"]: {"releases": {"0" * 32: {}}}}}
    assert device.report(bad_release).status_code == 401
    commit = models.release.get_latest_by_application(fleet["id"])["commit"]
    bad_image = {"apps": {fleet["uuid"]: {"releases": {commit: {"services": {
        "main": {"image": "registry2.example/nope", "status": "Running"}}}}}}}
    assert device.report(bad_image).status_code == 401
    assert device.call("PATCH", "/device/v3/state", json={}).status_code == 400
    assert installs(models, device.uuid) == []


def test_poll_interval_config_moves_the_offline_deadline(fleetsim: Any, models: Any,
                                                         device: PlainSupervisor) -> None:
    models.device.config_var.set(device.uuid, "RESIN_SUPERVISOR_POLL_INTERVAL", str(3600 * 1000))
    device.target()
    fleetsim.clock.advance(seconds=QUIET + HEARTBEAT_TIMEOUT_S + 1)
    assert models.device.is_online(device.uuid) is True
    fleetsim.clock.advance(seconds=3600 * 1.5 - QUIET)  # 1 h x 1.5 + 15 s after the poll
    assert models.device.is_online(device.uuid) is False
    assert isinstance(datetime.fromisoformat(
        models.device.get(device.uuid)["last_connectivity_event"].replace("Z", "+00:00")),
        datetime)


@pytest.mark.filterwarnings("ignore:Call to deprecated method get_os_update_status")
def test_os_update_through_the_actions_host(fleetsim: Any, models: Any, user: Any,
                                            device: PlainSupervisor) -> None:
    """start_os_update / get_os_update_status go to https://actions.balena-devices.com, which
    only intercept mode reaches; the device takes the resinhup action and reports the version."""
    device.report({"os_version": "balenaOS 2.83.21+rev1", "os_variant": "prod"})
    with fleetsim.intercept():
        assert models.device.get_os_update_status(device.uuid)["status"] == "idle"
        started = models.device.start_os_update(device.uuid, "6.0.10")
        assert (started["status"], started["parameters"]) == (
            "in_progress", {"target_version": "6.0.10"})
        (action,) = device.call("GET", f"/device/v2/{device.uuid}/fleetsim/actions").json()["actions"]
        assert (action["action"], action["params"]) == ("resinhup", {"target_version": "6.0.10"})
        assert models.device.get_os_update_status(device.uuid)["status"] == "in_progress"
        device.report({"os_version": "balenaOS 6.0.10"})
        assert models.device.get_os_update_status(device.uuid)["status"] == "done"
        assert fleetsim.journal.assert_called("POST", f"/v2/{device.uuid}/resinhup")
    fleetsim.clock.advance(hours=1)  # quiet: offline, and the SDK refuses before any request
    with fleetsim.intercept(), pytest.raises(Exception, match="not online|offline"):
        models.device.start_os_update(device.uuid, "6.0.10")


def test_os_update_refusals(fleetsim: Any, user: Any, other: Any, device: PlainSupervisor,
                            state: Any) -> None:
    device.target()  # online
    before = state()
    url = f"{fleetsim.url}/v2/{device.uuid}/resinhup"
    for token, body, status in (
            (user.token, {"parameters": {"target_version": "9.9.9"}}, 400),
            (user.token, {"parameters": {}}, 400),
            (other.fleetsim_user.token, {"parameters": {"target_version": "6.0.10"}}, 401),
            (device.device_key, {"parameters": {"target_version": "6.0.10"}}, 401)):
        answer = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                               timeout=30)
        assert answer.status_code == status, (body, answer.text)
        assert isinstance(answer.json(), str)
    assert state() == before


def test_device_side_state_survives_snapshot_and_restore(fleetsim: Any, models: Any, sdk: Any,
                                                         device: PlainSupervisor) -> None:
    device.target()
    device.call("POST", f"/device/v2/{device.uuid}/logs", json=[{"message": "hi", "timestamp": 1}])
    models.device.identify(device.uuid)
    saved = fleetsim.snapshot()
    fleetsim.reset()
    fleetsim.restore(saved)
    assert models.device.is_online(device.uuid) is True
    assert [line["message"] for line in sdk.logs.history(device.uuid)] == ["hi"]
    actions = device.call("GET", f"/device/v2/{device.uuid}/fleetsim/actions").json()["actions"]
    assert [a["action"] for a in actions] == ["blink"]
    fleetsim.clock.advance(seconds=QUIET + HEARTBEAT_TIMEOUT_S + 1)
    assert models.device.is_online(device.uuid) is False


def test_supervisor_and_host_os_pins_reach_the_v3_target_state(models: Any,
                                                               device: PlainSupervisor) -> None:
    """pin_to_supervisor_release / pin_to_os_release (balena-sdk 17.3) put the supervisor's and
    the host OS's fleets into the v3 target state, next to the user's fleet."""
    device.report({"os_version": "balenaOS 5.1.20+rev1", "os_variant": "prod",
                   "supervisor_version": "12.11.0"})
    models.device.pin_to_supervisor_release(device.uuid, "14.11.0")
    models.device.pin_to_os_release(device.uuid, "6.0.10")
    got = models.device.get(device.uuid, {"$select": ["should_be_managed_by__release",
                                                      "should_be_operated_by__release"]})
    supervisor = models.release.get(got["should_be_managed_by__release"]["__id"])
    host = models.release.get(got["should_be_operated_by__release"]["__id"])
    assert (supervisor["raw_version"], host["raw_version"].split("+")[0]) == ("14.11.0", "6.0.10")
    apps = device.target()["apps"]
    assert device.fleet["uuid"] in apps
    by_release = {next(iter(a.get("releases", {"": None}))): a for a in apps.values()}
    assert by_release[supervisor["commit"]]["is_host"] is False
    assert by_release[host["commit"]]["is_host"] is True
    main = by_release[supervisor["commit"]]["releases"][supervisor["commit"]]
    assert main["services"]["main"]["image"].startswith("registry2.balena-cloud.com/v2/")
