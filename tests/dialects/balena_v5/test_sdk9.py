"""balena-sdk 9.5.0 (API v5, the seed document's older SDK) through the seed's examples:
applications, devices, environment variables, releases, tags and supervisor calls. Rows come
in v5's verbose format (``__metadata``, ``__deferred`` links, ``/resin/...`` URIs)."""

from __future__ import annotations

from typing import Any

import pytest
import requests


@pytest.fixture
def device(fleetsim: Any, fleet: dict) -> dict:
    return fleetsim.balena.device(fleet, online=True, supervisor_version="9.0.1")


def test_rows_have_v5_metadata_and_deferred_links(models: Any, fleet: dict, user: Any) -> None:
    app = models.application.get("myfleet")
    assert app["id"] == fleet["id"]
    assert app["__metadata"] == {"uri": f"/resin/application({fleet['id']})", "type": ""}
    assert app["organization"] == {"__deferred": {"uri": f"/resin/organization({user.org['id']})"},
                                   "__id": user.org["id"]}
    assert isinstance(app["actor"], int)  # the actor link is the bare id in v5
    assert models.application.get_by_id(fleet["id"])["app_name"] == "myfleet"
    assert models.application.has("myfleet") is True
    assert models.application.has("nothere") is False
    assert models.application.has_any() is True
    mine = [a["app_name"] for a in models.application.get_all()]
    assert "myfleet" in mine


def test_devices(fleetsim: Any, models: Any, fleet: dict, device: dict) -> None:
    got = models.device.get(device["uuid"])
    assert got["__metadata"]["uri"] == f"/resin/device({device['id']})"
    assert got["belongs_to__application"]["__deferred"]["uri"] == \
        f"/resin/application({fleet['id']})"
    assert [d["uuid"] for d in models.device.get_all_by_application("myfleet")] == [device["uuid"]]
    models.device.rename(device["uuid"], "renamed")
    models.device.note(device["uuid"], "a note")
    assert models.device.get_name(device["uuid"]) == "renamed"
    assert models.device.get(device["uuid"])["note"] == "a note"
    assert models.device.is_online(device["uuid"]) is True
    assert models.device.has(device["uuid"]) is True
    assert models.device.get_status(device["uuid"]) == "Idle"
    fleetsim.clock.advance(hours=1)
    assert models.device.get_status(device["uuid"]) == "Offline"


def test_environment_variables(models: Any, fleet: dict, device: dict) -> None:
    app_envs = models.environment_variables.application
    made = app_envs.create(fleet["id"], "MODE", "canary")
    assert made["__metadata"]["uri"].startswith("/resin/environment_variable(")
    app_envs.update(made["id"], "stable")
    assert [(v["name"], v["value"]) for v in app_envs.get_all(fleet["id"])] == [("MODE", "stable")]
    app_envs.remove(made["id"])
    assert app_envs.get_all(fleet["id"]) == []
    dev_envs = models.environment_variables.device
    made = dev_envs.create(device["uuid"], "LEVEL", "1")
    assert made["device"]["__id"] == device["id"]
    assert [v["value"] for v in dev_envs.get_all(device["uuid"])] == ["1"]
    made = models.config_variable.device_config_variable.create(device["uuid"], "BALENA_X", "1")
    assert made["name"] == "BALENA_X"


def test_releases_and_tags(fleetsim: Any, models: Any, fleet: dict, device: dict) -> None:
    release = fleetsim.balena.release(fleet, semver="1.2.3")
    got = models.release.get(release["commit"])
    assert got["id"] == release["id"] and got["__metadata"]["uri"] == \
        f"/resin/release({release['id']})"
    assert [r["commit"] for r in models.release.get_all_by_application(fleet["id"])] == \
        [release["commit"]]
    models.tag.device.set(device["uuid"], "rollout", "canary")
    models.tag.application.set(fleet["id"], "owner", "ops")
    models.tag.release.set(release["commit"], "qa", "passed")
    assert [(t["tag_key"], t["value"]) for t in models.tag.device.get_all_by_device(
        device["uuid"])] == [("rollout", "canary")]
    models.tag.device.set(device["uuid"], "rollout", "all")  # the upsert: same key, new value
    assert [t["value"] for t in models.tag.device.get_all_by_device(device["uuid"])] == ["all"]
    assert [t["tag_key"] for t in models.tag.application.get_all_by_application(fleet["id"])] == \
        ["owner"]
    assert [t["tag_key"] for t in models.tag.release.get_all_by_release(release["commit"])] == \
        ["qa"]
    models.tag.device.remove(device["uuid"], "rollout")
    assert models.tag.device.get_all_by_device(device["uuid"]) == []


def test_supervisor_calls_take_an_app_id(fleetsim: Any, models: Any, fleet: dict,
                                         device: dict) -> None:
    sup = models.supervisor
    assert sup.reboot(device_uuid=device["uuid"], app_id=fleet["id"]) == \
        {"Data": "OK", "Error": None}
    sup.blink(device_uuid=device["uuid"], app_id=fleet["id"])
    sup.restart(fleet["id"], device_uuid=device["uuid"])
    models.device.identify(device["uuid"])  # POST /blink in 9.x
    answer = requests.get(f"{fleetsim.url}/device/v2/{device['uuid']}/fleetsim/actions",
                          headers={"Authorization": f"Bearer {device['api_key']}"}, timeout=30)
    assert [a["action"] for a in answer.json()["actions"]] == ["reboot", "blink", "restart",
                                                               "blink"]
    # the older v1 apps API: stop/start answer the container, the app info is a read
    assert set(sup.stop_application(fleet["id"], device_uuid=device["uuid"])) == {"containerId"}
    sup.start_application(fleet["id"], device_uuid=device["uuid"])
    info = sup.get_application_info(fleet["id"], device_uuid=device["uuid"])
    assert info["appId"] == fleet["id"] and "containerId" in info
    answer = requests.get(f"{fleetsim.url}/device/v2/{device['uuid']}/fleetsim/actions",
                          headers={"Authorization": f"Bearer {device['api_key']}"}, timeout=30)
    assert [a["action"] for a in answer.json()["actions"]] == ["stop", "start"]


def test_create_and_target_a_release(fleetsim: Any, models: Any, user: Any) -> None:
    """v5's slug and commit fields: ``create`` posts ``device_type`` as a slug (after mapping
    the display name through ``/device-types/v1``), ``set_to_release`` posts ``commit``."""
    app = models.application.create("newfleet", "Raspberry Pi 3")
    assert (app["app_name"], app["device_type"], app["commit"]) == ("newfleet", "raspberrypi3", None)
    assert app["slug"] == f"{user.username}/newfleet"
    old = fleetsim.balena.release(app["id"], semver="0.9.0")
    fleetsim.clock.advance(minutes=1)
    release = fleetsim.balena.release(app["id"], semver="1.0.0")
    models.application.set_to_release(app["id"], old["commit"])
    assert models.application.get_target_release_hash(app["id"]) == old["commit"]
    assert models.application.will_track_new_releases(app["id"]) is False
    models.application.track_latest_release(app["id"])
    assert models.application.get("newfleet")["commit"] == release["commit"]
    device = fleetsim.balena.device(app["id"], release=release["id"])
    got = models.device.get(device["uuid"])
    assert (got["device_type"], got["is_on__commit"]) == ("raspberrypi3", release["commit"])


def test_more_seed_functions(fleetsim: Any, models: Any, user: Any, fleet: dict,
                             device: dict) -> None:
    release = fleetsim.balena.release(fleet, services=("main", "data"))
    svc_vars = models.environment_variables.service_environment_variable
    svc_vars.create(fleet["id"], "main", "S", "1")
    main = [s["id"] for s in models.service.get_all_by_application(fleet["id"])
            if s["service_name"] == "main"]
    assert [(v["name"], v["service"]["__id"]) for v in svc_vars.get_all_by_application(
        fleet["id"])] == [("S", main[0])]
    assert models.release.get_latest_by_application(fleet["id"])["commit"] == release["commit"]
    models.application.enable_device_urls(fleet["id"])
    assert models.device.get(device["uuid"])["is_web_accessible"] is True
    state = models.supervisor.get_device_state(app_id=fleet["id"], device_uuid=device["uuid"])
    assert state["supervisor_version"] == "9.0.1" and state["update_pending"] is True
    assert models.supervisor.ping(device_uuid=device["uuid"], app_id=fleet["id"]) == b"OK"
    models.device.set_to_release(device["uuid"], release["commit"])  # the v5 device pin
    assert models.device.get(device["uuid"])["should_be_running__release"]["__id"] == \
        release["id"]
    fleetsim.balena.application(user, "otherfleet", "raspberrypi3")
    models.device.move(device["uuid"], "otherfleet")
    assert models.device.get_application_name(device["uuid"]) == "otherfleet"
    assert models.device.get(device["uuid"])["should_be_running__release"] is None
    assert len(models.device.generate_device_key(device["uuid"])) == 32
    assert len(models.api_key.create_api_key("ci")) == 32
    assert models.device.get_device_url(device["uuid"]) == \
        f"https://{device['uuid']}.balena-devices.com"
    models.device.remove(device["uuid"])
    assert models.device.has(device["uuid"]) is False
    models.application.remove("otherfleet")
    assert models.application.has("otherfleet") is False
