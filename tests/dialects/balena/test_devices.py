"""Devices with balena-sdk 17.3 unchanged: register, get/has, rename, note, move, pins,
location, support access, lock override, device URLs, status, history."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from balena import exceptions


@pytest.fixture
def registered(models: Any, fleet: dict) -> dict:
    uuid = models.device.generate_uuid()
    return models.device.register(fleet["id"], uuid)


def test_register_answers_id_uuid_and_device_key(fleetsim: Any, models: Any, fleet: dict,
                                                 registered: dict) -> None:
    assert set(registered) == {"id", "uuid", "api_key"} and len(registered["uuid"]) == 62
    device = models.device.get(registered["uuid"])
    assert device["belongs_to__application"] == {"__id": fleet["id"]}
    assert device["is_of__device_type"] == {"__id": fleet["is_for__device_type"]}
    assert device["overall_status"] == "inactive" and device["is_online"] is False
    assert models.device.get_status(registered["uuid"]) == "inactive"
    dev_sdk = fleetsim.balena.sdk()
    dev_sdk.auth.login_with_token(registered["api_key"])
    assert dev_sdk.auth.whoami()["actorTypeId"] == registered["id"]


def test_register_with_device_type_alias_and_arch_checks(models: Any, user: Any) -> None:
    app = models.application.create("pi2fleet", "raspberry-pi2", user.username)
    made = models.device.register(app["slug"], models.device.generate_uuid(), "raspberrypi2")
    dt = models.device.get(made["uuid"], {"$expand": {"is_of__device_type": {"$select": "slug"}}})
    assert dt["is_of__device_type"][0]["slug"] == "raspberry-pi2"
    # an aarch64 device runs armv7hf fleets; an rpi (armv6) device cannot run an aarch64 fleet
    models.device.register(app["slug"], models.device.generate_uuid(), "raspberrypi4-64")
    arm64 = models.application.create("arm64fleet", "raspberrypi4-64", user.username)
    with pytest.raises(exceptions.InvalidDeviceType):
        models.device.register(arm64["slug"], models.device.generate_uuid(), "raspberry-pi")
    with pytest.raises(exceptions.InvalidDeviceType):
        models.device.register(app["slug"], models.device.generate_uuid(), "no-such-type")
    with pytest.raises(exceptions.ApplicationNotFound):
        models.device.register("nobody/nothing", models.device.generate_uuid())


def test_register_duplicate_uuid_is_409(models: Any, fleet: dict, registered: dict) -> None:
    answer = models.device.register(fleet["id"], registered["uuid"])
    assert answer == '"uuid" must be unique.'  # REST errors come back as the body (reference §5)


def test_get_has_by_uuid_id_and_name(fleetsim: Any, models: Any, fleet: dict) -> None:
    d = fleetsim.balena.device(fleet, name="dev1")
    assert models.device.get(d["uuid"])["id"] == d["id"]
    assert models.device.get(d["id"])["uuid"] == d["uuid"]
    assert models.device.has(d["uuid"]) and not models.device.has("0" * 32)
    with pytest.raises(exceptions.InvalidParameter):
        models.device.get(d["uuid"][:7])
    with pytest.raises(exceptions.DeviceNotFound):
        models.device.get("0" * 62)
    assert [x["id"] for x in models.device.get_by_name("dev1")] == [d["id"]]
    with pytest.raises(exceptions.DeviceNotFound):
        models.device.get_by_name("nope")
    assert models.device.get_name(d["uuid"]) == "dev1"
    assert models.device.get_application_name(d["uuid"]) == "myfleet"
    assert [x["id"] for x in models.device.get_all()] == [d["id"]]
    assert [x["id"] for x in models.device.get_all_by_application(fleet["slug"])] == [d["id"]]
    assert [x["id"] for x in models.device.get_all_by_organization(fleet["slug"].split("/")[0])] \
        == [d["id"]]


def test_rename_note_location_deactivate(fleetsim: Any, models: Any, fleet: dict) -> None:
    d = fleetsim.balena.device(fleet)
    models.device.rename(d["uuid"], "kitchen")
    models.device.set_note(d["uuid"], "under the sink")
    models.device.set_custom_location(d["uuid"], {"latitude": 52.1, "longitude": "4.3"})
    got = models.device.get(d["id"])
    assert (got["device_name"], got["note"]) == ("kitchen", "under the sink")
    assert (got["custom_latitude"], got["custom_longitude"]) == ("52.1", "4.3")
    models.device.unset_custom_location(d["uuid"])
    got = models.device.get(d["id"], {"$select": ["custom_latitude", "custom_longitude"]})
    assert got == {"custom_latitude": "", "custom_longitude": ""}
    models.device.deactivate(d["uuid"])
    assert models.device.get(d["id"])["is_active"] is False
    assert models.device.get_status(d["uuid"]) == "inactive"


def test_list_arguments(fleetsim: Any, models: Any, fleet: dict) -> None:
    d1, d2 = fleetsim.balena.devices(fleet, 2)
    models.device.set_note([d1["id"], d2["id"]], "batch")
    assert {x["note"] for x in models.device.get_all_by_application(fleet["id"])} == {"batch"}
    with pytest.raises(exceptions.DeviceNotFound):
        models.device.set_note([d1["id"], 999999], "x")
    models.device.remove([d1["id"], d2["id"]])
    assert models.device.get_all() == []


def test_status_from_state(fleetsim: Any, models: Any, fleet: dict) -> None:
    rel = fleetsim.balena.release(fleet)
    on = fleetsim.balena.device(fleet, online=True, release=rel["id"])
    assert models.device.is_online(on["uuid"]) is True
    assert models.device.get_status(on["uuid"]) == "operational"
    behind = fleetsim.balena.device(fleet, online=True)
    assert models.device.get_status(behind["uuid"]) == "updating"


def test_move_with_arch_checks(fleetsim: Any, models: Any, user: Any) -> None:
    pi3 = models.application.create("pi3fleet", "raspberrypi3", user.username)
    pi2 = models.application.create("pi2fleet", "raspberry-pi2", user.username)
    nuc = models.application.create("nucfleet", "intel-nuc", user.username)
    d = models.device.register(pi2["id"], models.device.generate_uuid())
    models.device.move(d["uuid"], pi3["slug"])
    assert models.device.get(d["uuid"])["belongs_to__application"] == {"__id": pi3["id"]}
    with pytest.raises(exceptions.IncompatibleApplication):
        models.device.move(d["uuid"], nuc["id"])


def test_move_clears_the_pin(fleetsim: Any, models: Any, fleet: dict, user: Any) -> None:
    rel = fleetsim.balena.release(fleet)
    d = fleetsim.balena.device(fleet)
    models.device.pin_to_release(d["uuid"], rel["commit"])
    second = models.application.create("second", "raspberrypi4-64", user.username)
    models.device.move(d["uuid"], second["id"])
    assert models.device.is_tracking_application_release(d["uuid"]) is True


def test_pin_and_track(fleetsim: Any, models: Any, fleet: dict) -> None:
    r1 = fleetsim.balena.release(fleet, semver="1.0.0")
    fleetsim.clock.advance(60)
    fleetsim.balena.release(fleet, semver="1.1.0")
    d = fleetsim.balena.device(fleet)
    assert models.device.is_tracking_application_release(d["uuid"]) is True
    models.device.pin_to_release(d["uuid"], r1["commit"])
    assert models.device.is_tracking_application_release(d["uuid"]) is False
    got = models.device.get(d["uuid"], {"$select": ["is_pinned_on__release",
                                                    "should_be_running__release"]})
    assert got == {"is_pinned_on__release": {"__id": r1["id"]},
                   "should_be_running__release": {"__id": r1["id"]}}
    models.device.track_application_release(d["uuid"])
    assert models.device.is_tracking_application_release(d["uuid"]) is True
    models.device.pin_to_release(d["id"], r1["id"])
    assert models.device.is_tracking_application_release(d["id"]) is False


def test_pin_refusals(fleetsim: Any, models: Any, fleet: dict, user: Any) -> None:
    d = fleetsim.balena.device(fleet)
    failed = fleetsim.balena.release(fleet, status="failed")
    with pytest.raises(exceptions.ReleaseNotFound):
        models.device.pin_to_release(d["uuid"], failed["commit"])
    elsewhere = fleetsim.balena.release(fleetsim.balena.application(user, "another"))
    with pytest.raises(exceptions.ReleaseNotFound):
        models.device.pin_to_release(d["uuid"], elsewhere["commit"])
    with pytest.raises(exceptions.RequestError) as err:  # the SDK checks first; raw pine does not
        fleetsim.balena.sdk(user).pine.patch({"resource": "device", "id": d["id"],
                                              "body": {"is_pinned_on__release": elsewhere["id"]}})
    assert err.value.status_code == 400 and "belongs to an application that owns" in err.value.message


def test_support_access_lock_override_device_url(fleetsim: Any, models: Any, fleet: dict) -> None:
    d = fleetsim.balena.device(fleet)
    models.device.grant_support_access(d["uuid"], 1893456000000)
    got = models.device.get(d["uuid"], {"$select": "is_accessible_by_support_until__date"})
    assert got["is_accessible_by_support_until__date"] == "2030-01-01T00:00:00.000Z"
    models.device.revoke_support_access(d["uuid"])
    assert models.device.get(d["uuid"])["is_accessible_by_support_until__date"] is None

    assert models.device.has_lock_override(d["uuid"]) is False
    models.device.enable_lock_override(d["uuid"])
    assert models.device.has_lock_override(d["uuid"]) is True
    assert models.device.config_var.get(d["uuid"], "RESIN_OVERRIDE_LOCK") == "1"
    models.device.disable_lock_override(d["uuid"])
    assert models.device.has_lock_override(d["uuid"]) is False

    assert models.device.is_in_local_mode(d["uuid"]) is False
    models.device.enable_device_url(d["uuid"])
    assert models.device.has_device_url(d["uuid"])
    assert models.device.get_device_url(d["uuid"]) == f"https://{d['uuid']}.balena-devices.com"
    models.device.disable_device_url(d["uuid"])
    assert not models.device.has_device_url(d["uuid"])


def test_device_key_and_history(fleetsim: Any, models: Any, fleet: dict, registered: dict) -> None:
    key = models.device.generate_device_key(registered["uuid"], "k", "desc")
    dev = fleetsim.balena.sdk()
    dev.auth.login_with_token(key)
    assert dev.auth.whoami()["uuid"] == registered["uuid"]
    rel = fleetsim.balena.release(fleet)
    fleetsim.clock.advance(5)
    models.device.pin_to_release(registered["uuid"], rel["commit"])
    since = datetime(2025, 1, 1, tzinfo=timezone.utc)  # the SDK's default is 7 days of *wall* time
    history = models.device.history.get_all_by_device(registered["uuid"], from_date=since)
    assert len(history) == 2
    first, second = sorted(history, key=lambda h: h["id"])
    assert first["end_timestamp"] is not None and second["end_timestamp"] is None
    assert second["is_pinned_on__release"] == {"__id": rel["id"]}
    assert len(models.device.history.get_all_by_application(fleet["id"], from_date=since)) == 2
    assert len(models.device.history.get_all_by_device(registered["id"], from_date=since)) == 2
    assert models.device.history.get_all_by_device(
        registered["id"], from_date=since, to_date=datetime(2025, 6, 1, tzinfo=timezone.utc)) == []


def test_device_key_sees_only_its_device(fleetsim: Any, fleet: dict) -> None:
    mine, theirs = fleetsim.balena.devices(fleet, 2)
    dev = fleetsim.balena.sdk()
    dev.auth.login_with_token(mine["api_key"])
    assert [d["id"] for d in dev.models.device.get_all()] == [mine["id"]]
    with pytest.raises(exceptions.DeviceNotFound):
        dev.models.device.get(theirs["uuid"])
    dev.models.device.rename(mine["uuid"], "self-named")
    assert dev.models.device.get_name(mine["uuid"]) == "self-named"
    with pytest.raises(exceptions.RequestError) as err:
        dev.pine.post({"resource": "application", "body": {
            "app_name": "newfleet", "organization": fleet["organization"],
            "is_for__device_type": fleet["is_for__device_type"]}})
    assert err.value.status_code == 401
    with pytest.raises(exceptions.RequestError) as err:
        dev.pine.post({"resource": "device_tag", "body": {"device": theirs["id"],
                                                          "tag_key": "a", "value": "b"}})
    assert err.value.status_code == 401
    dev.pine.patch({"resource": "device", "id": theirs["id"], "body": {"note": "x"}})
    assert fleetsim.cloud.backends["balena"].db.get("device", theirs["id"])["note"] is None


def test_provisioning_key_registers_only_into_its_fleet(fleetsim: Any, models: Any, fleet: dict,
                                                        user: Any, raw: Any) -> None:
    key = models.application.generate_provisioning_key(fleet["id"])
    second = fleetsim.balena.application(user, "second")
    uuid = models.device.generate_uuid()
    body = {"user": user.id, "application": second["id"], "uuid": uuid,
            "device_type": "raspberrypi4-64"}
    refused = raw("POST", "/device/register", token=key, json=body)
    assert refused.status_code == 403
    body["application"] = fleet["id"]
    made = raw("POST", "/device/register", token=key, json=body)
    assert made.status_code == 201 and made.json()["uuid"] == uuid
    # the key reads its fleet and nothing else, and writes nothing through OData
    app_sdk = fleetsim.balena.sdk()
    app_sdk.auth.login_with_token(key)
    assert app_sdk.models.device.get_all() == []
    with pytest.raises(exceptions.RequestError) as err:
        app_sdk.pine.post({"resource": "device_tag", "body": {"device": made.json()["id"],
                                                              "tag_key": "a", "value": "b"}})
    assert err.value.status_code == 401
    app_sdk.pine.patch({"resource": "device", "id": made.json()["id"], "body": {"note": "x"}})
    assert models.device.get(uuid)["note"] is None  # not visible to the key: nothing matched


def test_other_user_cannot_touch_devices(fleetsim: Any, other: Any, fleet: dict, models: Any) -> None:
    d = fleetsim.balena.device(fleet, name="mine")
    with pytest.raises(exceptions.DeviceNotFound):
        other.models.device.get(d["uuid"])
    with pytest.raises(exceptions.DeviceNotFound):
        other.models.device.rename(d["uuid"], "stolen")
    other.pine.patch({"resource": "device", "id": d["id"], "body": {"device_name": "stolen"}})
    other.pine.delete({"resource": "device", "id": d["id"]})
    assert models.device.get_name(d["uuid"]) == "mine"
    with pytest.raises(exceptions.ApplicationNotFound):
        other.models.device.register(fleet["id"], models.device.generate_uuid())
    assert len(models.device.get_all()) == 1


def test_device_actions(fleetsim: Any, models: Any, fleet: dict) -> None:
    """Supervisor actions go through the API's proxy; REST answers are returned, not raised."""
    offline = fleetsim.balena.device(fleet)
    online = fleetsim.balena.device(fleet, online=True, supervisor_version="14.11.0")
    with pytest.raises(Exception, match="No online device"):
        models.device.get_supervisor_state(offline["uuid"])
    assert models.device.get_supervisor_state(online["uuid"])["status"] == "Idle"
    assert models.device.update(offline["uuid"]) == "No online device(s) found"
    models.device.reboot(online["uuid"])
    models.device.identify(online["uuid"])
    models.device.ping(online["uuid"])
    # the proxy relays the supervisor's own status: 202 for a reboot (see test_supervisor.py)
    for path, status in (("/supervisor/v1/reboot", 202), ("/supervisor/v1/blink", 200),
                         ("/supervisor//ping", 200)):
        assert [e.status for e in fleetsim.journal.assert_called("POST", path)] == [status], path


def test_devices_go_offline_when_the_clock_passes_the_heartbeat_timeout(
        fleetsim: Any, sdk: Any, models: Any, fleet: dict) -> None:
    rel = fleetsim.balena.release(fleet)
    seeded = fleetsim.balena.device(fleet, online=True, release=rel["id"])
    patched = fleetsim.balena.device(fleet, release=rel["id"])
    fleetsim.clock.advance(minutes=20)
    sdk.pine.patch({"resource": "device", "id": patched["id"], "body": {"is_online": True}})
    assert models.device.get_status(patched["uuid"]) == "operational"
    fleetsim.clock.advance(minutes=15)  # seeded: 35 min without contact, patched: 15
    assert models.device.is_online(seeded["uuid"]) is False
    assert models.device.get_status(seeded["uuid"]) == "disconnected"
    assert models.device.is_online(patched["uuid"]) is True
    fleetsim.clock.advance(minutes=15)
    assert models.device.is_online(patched["uuid"]) is False
    got = models.device.get(patched["uuid"], {"$select": ["api_heartbeat_state",
                                                          "is_connected_to_vpn"]})
    assert got == {"api_heartbeat_state": "offline", "is_connected_to_vpn": False}
