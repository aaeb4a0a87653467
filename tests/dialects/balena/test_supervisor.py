"""Supervisor actions through the API proxy, driven by balena-sdk 17.3, queued for the device,
and taken by the device from its queue (fleetsim's device-side route)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from balena import exceptions


def take(fleetsim: Any, device: dict, **params: Any) -> list[dict]:
    """What the simulated device finds in its queue (with its own key)."""
    answer = requests.get(f"{fleetsim.url}/device/v2/{device['uuid']}/fleetsim/actions",
                          headers={"Authorization": f"Bearer {device['api_key']}"},
                          params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["actions"]


def peek(fleetsim: Any, user: Any, device: dict) -> list[dict]:
    """The queue as a user sees it (peeking is no contact from the device: it stays offline)."""
    answer = requests.get(f"{fleetsim.url}/device/v2/{device['uuid']}/fleetsim/actions?peek=1",
                          headers={"Authorization": f"Bearer {user.token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["actions"]


@pytest.fixture
def online(fleetsim: Any, fleet: dict) -> dict:
    fleetsim.balena.release(fleet, services=("main", "worker"))
    return fleetsim.balena.device(fleet, online=True, supervisor_version="14.11.0",
                                  os_version="balenaOS 5.1.20+rev1", ip_address="10.0.0.7")


def test_every_device_action_is_queued_for_the_device(fleetsim: Any, models: Any, fleet: dict,
                                                      online: dict) -> None:
    device = models.device
    uuid = online["uuid"]
    image_id = models.release.get_with_image_details(
        models.release.get_latest_by_application(fleet["id"])["id"])["images"][0]["id"]
    device.reboot(uuid, force=True)
    device.shutdown(uuid)
    device.restart_application(uuid)
    device.purge(uuid)
    device.update(uuid, force=True)
    device.identify(uuid)
    device.ping(uuid)
    device.start_service(uuid, image_id)
    device.stop_service(uuid, image_id)
    device.restart_service(uuid, image_id)
    queued = take(fleetsim, online)
    assert [a["action"] for a in queued] == [  # ping is a read: answered, not queued
        "reboot", "shutdown", "restart", "purge", "update", "blink", "start-service",
        "stop-service", "restart-service"]
    assert queued[0]["params"] == {"force": True}
    assert queued[6]["params"] == {"appId": fleet["id"], "imageId": image_id}
    assert queued[6]["path"] == f"/v2/applications/{fleet['id']}/start-service"
    assert take(fleetsim, online) == []  # taken once


def test_supervisor_answers_as_the_supervisor_does(fleetsim: Any, models: Any, online: dict) -> None:
    uuid = online["uuid"]
    models.device.reboot(uuid)
    models.device.update(uuid)
    models.device.ping(uuid)
    statuses = {e.path: e.status for e in fleetsim.journal.entries()
                if e.path.startswith("/supervisor")}
    assert statuses == {"/supervisor/v1/reboot": 202, "/supervisor/v1/update": 204,
                        "/supervisor//ping": 200}
    state = models.device.get_supervisor_state(uuid)
    assert (state["ip_address"], state["supervisor_version"]) == ("10.0.0.7", "14.11.0")
    assert state["update_pending"] is True  # it runs nothing yet, its fleet has a release


def test_fleet_actions_reach_every_online_device(fleetsim: Any, models: Any, user: Any,
                                                 fleet: dict, online: dict) -> None:
    other = fleetsim.balena.device(fleet, online=True)
    quiet = fleetsim.balena.device(fleet)
    models.application.restart(fleet["id"])  # POST /applcation/<id>/restart (sic)
    models.application.reboot(fleet["id"])
    models.application.purge(fleet["id"])
    models.application.shutdown(fleet["id"], {"force": True})
    for device in (online, other):
        assert [a["action"] for a in take(fleetsim, device)] == [
            "restart", "reboot", "purge", "shutdown"]
    assert peek(fleetsim, user, quiet) == []
    assert fleetsim.journal.assert_called("POST", f"/applcation/{fleet['id']}/restart")


def test_offline_devices_and_refusals(fleetsim: Any, models: Any, user: Any, fleet: dict,
                                      online: dict, other: Any) -> None:
    offline = fleetsim.balena.device(fleet)
    assert models.device.update(offline["uuid"]) == "No online device(s) found"
    models.device.reboot(offline["uuid"])  # the SDK drops this answer; nothing is queued
    assert peek(fleetsim, user, offline) == []
    with pytest.raises(Exception, match="No online device"):
        models.device.get_supervisor_state(offline["uuid"])
    # another user's SDK cannot act on the device (it does not even exist for them)
    with pytest.raises(exceptions.DeviceNotFound):
        other.models.device.reboot(online["uuid"])
    answer = requests.post(f"{fleetsim.url}/supervisor/v1/reboot", json={"deviceId": online["id"]},
                           headers={"Authorization": f"Bearer {other.fleetsim_user.token}"},
                           timeout=30)
    assert answer.status_code == 404 and isinstance(answer.json(), str)
    # a device key cannot drive the proxy; a user cannot take a device's queue
    answer = requests.post(f"{fleetsim.url}/supervisor/v1/reboot", json={"deviceId": online["id"]},
                           headers={"Authorization": f"Bearer {online['api_key']}"}, timeout=30)
    assert answer.status_code == 403
    answer = requests.get(f"{fleetsim.url}/device/v2/{online['uuid']}/fleetsim/actions",
                          headers={"Authorization": f"Bearer {user.token}"}, timeout=30)
    assert answer.status_code == 401
    assert take(fleetsim, online) == []


def test_a_user_may_peek_at_the_queue(fleetsim: Any, models: Any, user: Any, online: dict) -> None:
    models.device.identify(online["uuid"])
    answer = requests.get(f"{fleetsim.url}/device/v2/{online['uuid']}/fleetsim/actions?peek=1",
                          headers={"Authorization": f"Bearer {user.token}"}, timeout=30)
    assert [a["action"] for a in answer.json()["actions"]] == ["blink"]
    assert [a["action"] for a in take(fleetsim, online)] == ["blink"]


def test_bad_proxy_bodies(fleetsim: Any, user: Any, state: Any) -> None:
    before = state()
    for body in ({}, {"deviceId": "x"}, {"uuid": 5}, [], "junk"):
        answer = requests.post(f"{fleetsim.url}/supervisor/v1/reboot", json=body,
                               headers={"Authorization": f"Bearer {user.token}"}, timeout=30)
        assert answer.status_code in (400, 404), (body, answer.status_code)
        assert isinstance(answer.json(), str)
    assert state() == before
