"""The rest of the seed document's functions that need only the cloud side: lookups, device
details, local mode, supervisor actions, OS update checks, images, teams."""

from __future__ import annotations

from typing import Any

import pytest
from balena import exceptions


@pytest.fixture
def running(fleetsim: Any, sdk: Any, fleet: dict) -> dict:
    rel = fleetsim.balena.release(fleet, services=("main",))
    device = fleetsim.balena.device(
        fleet, online=True, release=rel["id"], supervisor_version="14.11.0",
        os_version="balenaOS 2.83.21+rev1", os_variant="prod", ip_address="10.0.0.2 192.168.1.9",
        mac_address="aa:bb:cc:dd:ee:ff", memory_usage=100, memory_total=1000)
    image = sdk.models.release.get_with_image_details(rel["id"])["images"][0]
    sdk.pine.post({"resource": "image_install", "body": {
        "device": device["id"], "installs__image": image["id"], "is_provided_by__release": rel["id"],
        "status": "Running", "download_progress": 100}})
    return {"device": device, "release": rel, "image": image}


def test_application_lookups(models: Any, fleet: dict, running: dict) -> None:
    assert models.application.get_id(fleet["slug"]) == fleet["id"]
    assert models.application.get_by_name("myfleet")["id"] == fleet["id"]
    assert [a["id"] for a in models.application.get_all_directly_accessible()] == [fleet["id"]]
    details = models.application.get_with_device_service_details(fleet["id"])
    services = details["owns__device"][0]["current_services"]
    assert services["main"][0]["status"] == "Running"
    assert services["main"][0]["commit"] == running["release"]["commit"]


def test_device_details(models: Any, running: dict) -> None:
    uuid = running["device"]["uuid"]
    assert models.device.get_local_ip_address(uuid) == ["10.0.0.2", "192.168.1.9"]
    assert models.device.get_mac_address(uuid) == ["aa:bb:cc:dd:ee:ff"]
    assert models.device.get_metrics(uuid)["memory_total"] == 1000
    details = models.device.get_with_service_details(uuid)
    main = details["current_services"]["main"][0]
    assert (main["commit"], main["status"]) == (running["release"]["commit"], "Running")
    support = models.device.get_local_mode_support(uuid)
    assert support == {"supported": False,
                       "message": "Local mode is only supported on development OS versions"}
    with pytest.raises(exceptions.LocalModeError):
        models.device.enable_local_mode(uuid)


def test_local_mode_on_a_development_os(fleetsim: Any, models: Any, fleet: dict) -> None:
    dev = fleetsim.balena.device(fleet, online=True, supervisor_version="14.11.0",
                                 os_version="balenaOS 2.83.21+rev1", os_variant="dev")
    models.device.enable_local_mode(dev["uuid"])
    assert models.device.is_in_local_mode(dev["uuid"]) is True
    models.device.disable_local_mode(dev["uuid"])
    assert models.device.is_in_local_mode(dev["uuid"]) is False


def test_supervisor_actions_on_an_online_device(fleetsim: Any, models: Any, fleet: dict,
                                                running: dict) -> None:
    uuid, image_id = running["device"]["uuid"], running["image"]["id"]
    models.device.restart_application(uuid)
    models.device.start_service(uuid, image_id)
    models.device.stop_service(uuid, image_id)
    models.device.restart_service(uuid, image_id)
    models.device.purge(uuid)
    models.device.shutdown(uuid)
    models.application.purge(fleet["id"])
    models.application.reboot(fleet["id"])
    models.application.shutdown(fleet["id"])
    statuses = [e.status for e in fleetsim.journal.entries(method="POST", path="/supervisor/*")]
    # shutdown and reboot: the supervisor's 202, relayed by the proxy (see test_supervisor.py)
    assert len(statuses) == 9 and set(statuses) == {200, 202}


def test_os_update_checks(models: Any) -> None:
    supported = models.os.get_supported_os_update_versions("raspberrypi4-64", "2.83.21+rev1.prod")
    assert supported["current"] == "2.83.21+rev1.prod" and "6.0.10" in supported["versions"]
    assert models.os.is_supported_os_update("raspberrypi4-64", "2.83.21+rev1.prod", "6.0.10")
    assert models.os.is_architecture_compatible_with("aarch64", "armv7hf")


def test_image_and_memberships_lists(models: Any, running: dict, user: Any) -> None:
    image = models.image.get(running["image"]["id"])
    assert image["status"] == "success" and "build_log" not in image
    assert models.image.get_logs(running["image"]["id"]) is None
    assert [m["user"]["__id"] for m in models.organization.membership.get_all()] == [user.id]
    assert models.organization.invite.get_all() == []
    assert models.application.membership.get_all() == []


def test_teams(models: Any, user: Any) -> None:
    team = models.team.create(user.org["id"], "team-a")
    assert team["belongs_to__organization"] == {"__id": user.org["id"]}
    assert [t["name"] for t in models.team.get_all_by_organization(user.org["id"])] == ["team-a"]
    models.team.rename(team["id"], "team-b")
    assert models.team.get(team["id"])["name"] == "team-b"
    models.team.remove(team["id"])
    assert models.team.get_all_by_organization(user.org["id"]) == []


def test_supervisor_target_state(fleetsim: Any, models: Any, fleet: dict, running: dict) -> None:
    uuid = running["device"]["uuid"]
    models.application.env_var.set(fleet["id"], "LEVEL", "fleet")
    models.device.env_var.set(uuid, "LEVEL", "device")
    models.application.config_var.set(fleet["id"], "BALENA_SUPERVISOR_POLL_INTERVAL", "600000")
    state = models.device.get_supervisor_target_state(uuid)
    app = state["local"]["apps"][str(fleet["id"])]
    assert app["name"] == "myfleet" and app["commit"] == running["release"]["commit"]
    (service,) = app["services"].values()
    assert service["serviceName"] == "main" and service["environment"] == {"LEVEL": "device"}
    assert state["local"]["config"]["BALENA_SUPERVISOR_POLL_INTERVAL"] == "600000"
    assert state["dependent"] == {"apps": {}, "devices": {}}

    fleet_state = models.device.get_supervisor_target_state_for_app(fleet["id"])
    assert fleet_state[fleet["uuid"]]["config"]["RESIN_SUPERVISOR_NATIVE_LOGGER"] == "true"
    releases = fleet_state[fleet["uuid"]]["apps"][fleet["uuid"]]["releases"]
    assert releases[running["release"]["commit"]]["services"]["main"]["environment"] == \
        {"LEVEL": "fleet"}
    assert "not found" in models.device.get_supervisor_target_state_for_app(fleet["id"], "f" * 32)


def test_target_state_refusals(fleetsim: Any, other: Any, running: dict, raw: Any) -> None:
    uuid = running["device"]["uuid"]
    r = raw("GET", f"/device/v2/{uuid}/state", token=other.fleetsim_user.token)
    # open-balena answers 401 for a device the caller cannot see (getStateDelayingEmpty)
    assert r.status_code == 401 and isinstance(r.json(), str)
    assert raw("GET", f"/device/v2/{uuid}/state", token=None).status_code == 401
    own = raw("GET", f"/device/v2/{uuid}/state", token=running["device"]["api_key"])
    assert own.status_code == 200 and own.json()["local"]["name"] == running["device"]["device_name"]


def test_os_get_config(fleetsim: Any, models: Any, fleet: dict, user: Any, other: Any) -> None:
    config = models.os.get_config(fleet["slug"], {"version": "6.0.10"})
    assert config["applicationId"] == fleet["id"] and config["deviceType"] == "raspberrypi4-64"
    assert config["apiEndpoint"] == fleetsim.url and config["userId"] == user.id
    assert config["version"] == "6.0.10"
    # the provisioning key in it registers devices into that fleet
    device = fleetsim.balena.sdk()
    device.auth.login_with_token(config["apiKey"])
    assert device.auth.whoami()["actorType"] == "application"
    assert "not found" in other.models.os.get_config(fleet["id"], {"version": "6.0.10"})
