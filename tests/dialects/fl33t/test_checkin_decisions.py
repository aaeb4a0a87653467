"""The check-in rule's open questions, decided (docs/fl33t.md, "The check-in rule"), through
the official client; plus the fleet default the model docs give for ``unreleased``."""

from __future__ import annotations


def test_newest_is_the_highest_version_not_the_latest_upload(fleetsim, fl33t_client, team):
    seed = fleetsim.fl33t
    train = seed.train(team)
    high = seed.build(team, train, "2.0", released=True, data=b"two")
    fleetsim.clock.advance(hours=1)
    seed.build(team, train, "1.5", released=True, data=b"hotfix for the 1.x line")
    fleet = seed.fleet(team, train)
    seed.device(team, fleet, "d1")
    assert fl33t_client.device_checkin("d1").build_id == high["build_id"]
    # the same version uploaded again later is newer than the first upload
    fleetsim.clock.advance(hours=1)
    again = seed.build(team, train, "2.0", released=True, data=b"two, rebuilt")
    offered = fl33t_client.device_checkin("d1", currently_installed_id=high["build_id"])
    assert offered.build_id == again["build_id"]


def test_a_checkin_without_build_id_is_offered_the_target_again(fleetsim, fl33t_client, team):
    seed = fleetsim.fl33t
    train = seed.train(team)
    build = seed.build(team, train, "1.0", released=True)
    fleet = seed.fleet(team, train)
    seed.device(team, fleet, "d1")
    assert fl33t_client.device_checkin("d1", currently_installed_id=build["build_id"]) is False
    assert fl33t_client.get_device("d1").build_id == build["build_id"]     # recorded
    # no build id: "installed build unknown", so the target is offered although recorded
    assert fl33t_client.device_checkin("d1").build_id == build["build_id"]
    # the client's Device.checkin() sends the recorded build itself: nothing due
    assert fl33t_client.get_device("d1").checkin() is False


def test_a_released_only_fleet_never_offers_an_older_build(fleetsim, fl33t_client, team):
    seed = fleetsim.fl33t
    train = seed.train(team)
    released = seed.build(team, train, "1.0", released=True)
    beta = seed.build(team, train, "1.1-rc1")                  # unreleased, newer
    older = seed.build(team, train, "0.9", released=True)
    fleet = seed.fleet(team, train, unreleased=False)
    seed.device(team, fleet, "moved-from-beta")
    assert fl33t_client.device_checkin("moved-from-beta",
                                       currently_installed_id=beta["build_id"]) is False
    assert fl33t_client.device_checkin("moved-from-beta",
                                       currently_installed_id=older["build_id"]).build_id \
        == released["build_id"]
    # once 1.1 is released as a build of its own, the device moves on
    final = seed.build(team, train, "1.1", released=True)
    assert fl33t_client.device_checkin("moved-from-beta",
                                       currently_installed_id=beta["build_id"]).build_id \
        == final["build_id"]
    # a pin is the way back
    pinned = fl33t_client.get_fleet(fleet["fleet_id"])
    pinned.build_id = released["build_id"]
    pinned.update()
    assert fl33t_client.device_checkin("moved-from-beta",
                                       currently_installed_id=final["build_id"]).build_id \
        == released["build_id"]


def test_a_fleet_created_without_unreleased_takes_released_builds_only(fleetsim, fl33t_client,
                                                                       team, raw):
    train = fleetsim.fl33t.train(team)
    created = raw("POST", "/fleet", json={"fleet": {"name": "prod",
                                                    "train_id": train["train_id"]}})
    assert created.status_code == 201, created.text
    assert created.json()["fleet"]["unreleased"] is False
    assert fl33t_client.get_fleet(created.json()["fleet"]["fleet_id"]).unreleased is False
