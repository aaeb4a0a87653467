"""Device check-in through the official client: which build is due, and what is recorded."""

from __future__ import annotations

import pytest
import requests
from fl33t.exceptions import Fl33tApiException, UnprivilegedToken


@pytest.fixture
def world(fleetsim, team):
    """A train with an old released build, a newer released one and a newest unreleased one."""
    seed = fleetsim.fl33t
    train = seed.train(team)
    return {
        "train": train,
        "old": seed.build(team, train, "1.9", released=True, data=b"one-nine"),
        "new": seed.build(team, train, "1.10", released=True, data=b"one-ten"),
        "beta": seed.build(team, train, "1.11-rc1", data=b"beta"),
    }


def test_nothing_due_without_builds(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    fleet = fleetsim.fl33t.fleet(team, train)
    fleetsim.fl33t.device(team, fleet, "d1")
    fleetsim.clock.advance(minutes=3)

    assert fl33t_client.device_checkin("d1") is False
    device = fl33t_client.get_device("d1")
    assert device.checkin_tstamp == fleetsim.clock.now() and device.build_id is None


def test_released_only_fleet_gets_the_newest_released_build(fleetsim, fl33t_client, team, world):
    fleet = fleetsim.fl33t.fleet(team, world["train"], unreleased=False)
    fleetsim.fl33t.device(team, fleet, "d1")

    offered = fl33t_client.device_checkin("d1", currently_installed_id=world["old"]["build_id"])
    assert offered.build_id == world["new"]["build_id"]  # 1.10 sorts above 1.9
    assert offered.status == "available" and offered.version == "1.10"
    assert requests.get(offered.download_url, timeout=30).content == b"one-ten"
    assert fl33t_client.get_device("d1").build_id == world["old"]["build_id"]

    assert fl33t_client.device_checkin("d1",
                                       currently_installed_id=offered.build_id) is False
    assert fl33t_client.get_device("d1").build_id == offered.build_id


def test_unreleased_fleet_gets_the_newest_build(fleetsim, fl33t_client, team, world):
    fleet = fleetsim.fl33t.fleet(team, world["train"], unreleased=True)
    fleetsim.fl33t.device(team, fleet, "d1")
    assert fl33t_client.device_checkin("d1").build_id == world["beta"]["build_id"]


def test_a_pinned_fleet_build_wins_even_backwards(fleetsim, fl33t_client, team, world):
    fleet = fleetsim.fl33t.fleet(team, world["train"], build=world["old"], unreleased=True)
    fleetsim.fl33t.device(team, fleet, "d1")
    offered = fl33t_client.device_checkin("d1", currently_installed_id=world["new"]["build_id"])
    assert offered.build_id == world["old"]["build_id"]  # a rollback


def test_pinning_a_build_that_is_not_uploaded_yet_means_nothing_due(fleetsim, fl33t_client,
                                                                    team, world):
    pending = fleetsim.fl33t.build(team, world["train"], "2.0", upload=False)
    fleet = fleetsim.fl33t.fleet(team, world["train"], build=pending)
    fleetsim.fl33t.device(team, fleet, "d1")
    assert fl33t_client.device_checkin("d1") is False


def test_releasing_a_build_makes_it_due(fleetsim, fl33t_client, team, world):
    fleet = fleetsim.fl33t.fleet(team, world["train"])
    fleetsim.fl33t.device(team, fleet, "d1", installed=world["new"])
    device = fl33t_client.get_device("d1")
    assert device.checkin() is False  # Device.checkin() reports its recorded build

    beta = fl33t_client.get_build(world["beta"]["build_id"])
    beta.released = True
    beta.update()
    assert device.checkin().build_id == beta.build_id


def test_checkin_updates_fleet_size_and_rollout_reporting(fleetsim, fl33t_client, team, world):
    fleet = fleetsim.fl33t.fleet(team, world["train"])
    for name in ("d1", "d2", "d3"):
        fleetsim.fl33t.device(team, fleet, name)
    assert fl33t_client.get_fleet(fleet["fleet_id"]).size == 3

    fl33t_client.device_checkin("d1", currently_installed_id=world["new"]["build_id"])
    fl33t_client.device_checkin("d2", currently_installed_id=world["old"]["build_id"])
    report = fleetsim.fl33t.rollout(team, fleet)
    assert report == {
        "fleet_id": fleet["fleet_id"], "size": 3, "target_build_id": world["new"]["build_id"],
        "checked_in": 2, "on_target": 1,
        "builds": {world["new"]["build_id"]: 1, world["old"]["build_id"]: 1},
    }


def test_a_device_token_checks_in_as_its_own_device_only(fleetsim, client_as, team, world):
    fleet = fleetsim.fl33t.fleet(team, world["train"])
    mine = fleetsim.fl33t.device(team, fleet, "mine")
    fleetsim.fl33t.device(team, fleet, "other")
    device = client_as(mine["session_token"])

    assert device.device_checkin("mine").build_id == world["new"]["build_id"]
    with pytest.raises(UnprivilegedToken):
        device.device_checkin("other")
    with pytest.raises(UnprivilegedToken):
        device.get_device("mine")  # a device token can only check in


def test_unknown_device_checkin_is_a_404_the_client_reports_as_api_error(fl33t_client, raw):
    with pytest.raises(Fl33tApiException):
        fl33t_client.device_checkin("ghost")
    answer = raw("POST", "/device/ghost/checkin", json={"checkin": {}})
    assert answer.status_code == 404 and answer.json() == {"error": "Invalid device ID: ghost"}


@pytest.mark.parametrize("body", [
    '{"checkin": []}', '{"checkin": {"build_id": 5}}', '["checkin"]', '{"checkin": ',
])
def test_malformed_checkins_are_400_and_change_nothing(fleetsim, team, world, raw, state, body):
    fleet = fleetsim.fl33t.fleet(team, world["train"])
    fleetsim.fl33t.device(team, fleet, "d1")
    before = state()
    answer = raw("POST", "/device/d1/checkin", data=body,
                 headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and set(answer.json()) == {"error"}
    assert state() == before


def test_the_vendor_checkin_script_shape(fleetsim, team, world, raw):
    """fl33t-checkin (curl) posts an empty check-in and greps ``"download_url": "..."``."""
    fleet = fleetsim.fl33t.fleet(team, world["train"])
    fleetsim.fl33t.device(team, fleet, "d1")
    answer = raw("POST", "/device/d1/checkin", data='{"checkin":{}}',
                 headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and '"download_url": "http' in answer.text


def test_a_pinned_build_whose_upload_failed_is_never_offered(fleetsim, fl33t_client, team,
                                                              world):
    pending = fleetsim.fl33t.build(team, world["train"], "2.0", upload=False, md5sum="0" * 32)
    fleet = fleetsim.fl33t.fleet(team, world["train"], build=pending)
    fleetsim.fl33t.device(team, fleet, "d1")
    assert requests.put(pending["upload_url"], data=b"bad bytes", timeout=30).status_code == 200
    assert fl33t_client.get_build(pending["build_id"]).status == "failed"
    assert fl33t_client.device_checkin("d1") is False

    edited = fl33t_client.get_fleet(fleet["fleet_id"])
    edited.name = "still editable"
    assert edited.update()
    edited.build_id = None  # back to auto-update: the newest released build
    edited.update()
    assert fl33t_client.device_checkin("d1").build_id == world["new"]["build_id"]


def test_rollout_report_follows_every_change(fleetsim, fl33t_client, team, world):
    a = fleetsim.fl33t.fleet(team, world["train"], "a")
    b = fleetsim.fl33t.fleet(team, world["train"], "b")
    fleetsim.fl33t.device(team, a, "d1", installed=world["old"])
    fleetsim.fl33t.device(team, a, "d2", installed=world["old"])
    fl33t_client.device_checkin("d1", currently_installed_id=world["new"]["build_id"])
    moved = fl33t_client.get_device("d2")
    moved.fleet_id = b["fleet_id"]
    moved.update()
    assert fleetsim.fl33t.rollout(team, a)["builds"] == {world["new"]["build_id"]: 1}
    assert fleetsim.fl33t.rollout(team, b)["builds"] == {world["old"]["build_id"]: 1}
    fl33t_client.get_device("d1").delete()
    report = fleetsim.fl33t.rollout(team, a)
    assert (report["size"], report["checked_in"], report["builds"]) == (0, 0, {})
