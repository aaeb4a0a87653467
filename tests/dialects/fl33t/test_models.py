"""Every model operation of the official fl33t client (0.6.2), unchanged, against the fake."""

from __future__ import annotations

import pytest
from fl33t.exceptions import (
    InvalidDeviceIdError,
    InvalidFleetIdError,
    InvalidIdError,
    InvalidSessionIdError,
    InvalidTrainIdError,
)

# -- sessions ----------------------------------------------------------------------------------


def test_own_session_is_the_seeded_admin(fl33t_client):
    own = fl33t_client.get_own_session()
    assert (own.session_token, own.type, own.priv) == (fl33t_client.token, "api", "admin")


def test_session_lifecycle(fl33t_client):
    made = fl33t_client.Session(name="CI", upload=True, type="api").create()
    assert made.session_token and made.priv == "upload"

    fetched = fl33t_client.get_session(made.session_token)
    assert fetched.to_json() == made.to_json()
    assert made.session_token in [s.session_token for s in fl33t_client.list_sessions()]

    fetched.upload, fetched.readonly = False, True
    assert fetched.update() is fetched
    assert fl33t_client.get_session(made.session_token).priv == "readonly"

    assert fetched.delete() is True
    with pytest.raises(InvalidSessionIdError):
        fl33t_client.get_session(made.session_token)


def test_session_type_is_read_only_after_creation(fl33t_client):
    made = fl33t_client.Session(name="ops", admin=True, type="account").create()
    made.type = "device"
    made.update()
    assert fl33t_client.get_session(made.session_token).type == "account"


def test_tokens_with_semicolons_route(fleetsim, fl33t_client, team):
    token = fleetsim.fl33t.session(team, "provisioning", token="asdfasdf;lkj")
    session = fl33t_client.get_session(token)
    assert session.session_token == "asdfasdf;lkj" and session.priv == "provisioning"
    session.name = "renamed"
    assert session.update()
    assert session.delete() is True


def test_device_sessions_are_not_listed(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    fleet = fleetsim.fl33t.fleet(team, train)
    device = fleetsim.fl33t.device(team, fleet, "d1")
    listed = {s.name for s in fl33t_client.list_sessions()}
    assert listed == {"admin", "readonly", "upload", "provisioning"}
    own = fl33t_client.get_session(device["session_token"])
    assert (own.type, own.priv) == ("device", "device")


# -- trains ------------------------------------------------------------------------------------


def test_train_lifecycle(fl33t_client):
    train = fl33t_client.Train(name="main").create()
    assert train.train_id and train.name == "main" and train.upload_tstamp is None

    fetched = fl33t_client.get_train(train.train_id)
    assert (fetched.train_id, fetched.name, fetched.upload_tstamp) == (train.train_id, "main", None)
    assert [t.train_id for t in fl33t_client.list_trains()] == [train.train_id]

    fetched.name = "main-renamed"
    assert fetched.update() is fetched
    assert fl33t_client.get_train(train.train_id).name == "main-renamed"

    assert fetched.delete() is True
    with pytest.raises(InvalidTrainIdError):
        fl33t_client.get_train(train.train_id)


def test_train_upload_tstamp_is_its_latest_build_upload(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    fleetsim.fl33t.build(team, train, "1.0")
    fleetsim.clock.advance(hours=2)
    fleetsim.fl33t.build(team, train, "1.1")
    stamp = fl33t_client.get_train(train["train_id"]).upload_tstamp
    assert stamp == fleetsim.clock.now()


def test_train_with_builds_or_fleets_is_not_deleted(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    fleetsim.fl33t.build(team, train)
    assert fl33t_client.get_train(train["train_id"]).delete() is False  # 409: still in use
    assert fl33t_client.get_train(train["train_id"])


# -- fleets ------------------------------------------------------------------------------------


def test_fleet_lifecycle(fleetsim, fl33t_client, team):
    train = fl33t_client.Train(name="main").create()
    build = fleetsim.fl33t.build(team, train.train_id, "1.0.0")

    fleet = fl33t_client.Fleet(name="beta", train_id=train.train_id, unreleased=True).create()
    assert fleet.fleet_id and fleet.size == 0 and fleet.build_id is None and fleet.unreleased

    fetched = fl33t_client.get_fleet(fleet.fleet_id)
    assert fetched.to_json() == fleet.to_json()
    assert [f.fleet_id for f in fl33t_client.list_fleets(train_id=train.train_id)] == [
        fleet.fleet_id]
    assert [f.fleet_id for f in train.fleets()] == [fleet.fleet_id]
    assert list(fl33t_client.list_fleets(train_id="other")) == []

    fetched.build_id, fetched.unreleased, fetched.name = build["build_id"], False, "beta-2"
    assert fetched.update() is fetched
    again = fl33t_client.get_fleet(fleet.fleet_id)
    assert (again.build_id, again.unreleased, again.name) == (build["build_id"], False, "beta-2")
    assert again.train.train_id == train.train_id
    assert again.build.version == "1.0.0"

    assert again.delete() is True
    with pytest.raises(InvalidFleetIdError):
        fl33t_client.get_fleet(fleet.fleet_id)


def test_fleet_build_must_be_of_its_train(fleetsim, fl33t_client, team):
    main, other = fleetsim.fl33t.train(team, "main"), fleetsim.fl33t.train(team, "other")
    foreign = fleetsim.fl33t.build(team, other)
    fleet = fl33t_client.get_fleet(fleetsim.fl33t.fleet(team, main)["fleet_id"])
    fleet.build_id = foreign["build_id"]
    with pytest.raises(InvalidFleetIdError):  # 400: the client maps it to an id error
        fleet.update()
    assert fl33t_client.get_fleet(fleet.fleet_id).build_id is None


# -- devices -----------------------------------------------------------------------------------


def test_device_lifecycle(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    fleet = fl33t_client.get_fleet(fleetsim.fl33t.fleet(team, train)["fleet_id"])

    device = fl33t_client.Device(device_id="dev-1", fleet_id=fleet.fleet_id, name="Dev 1").create()
    assert device.device_id == "dev-1"  # the client's id is honoured
    assert device.session_token and device.build_id is None and device.checkin_tstamp is None
    generated = fl33t_client.Device(fleet_id=fleet.fleet_id, name="auto").create()
    assert len(generated.device_id) == 6

    fetched = fl33t_client.get_device("dev-1")
    assert (fetched.name, fetched.fleet_id, fetched.session_token) == (
        "Dev 1", fleet.fleet_id, device.session_token)
    assert sorted(d.device_id for d in fl33t_client.list_devices(fleet_id=fleet.fleet_id)) == \
        sorted(["dev-1", generated.device_id])
    assert sorted(d.device_id for d in fleet.devices()) == sorted(["dev-1", generated.device_id])
    assert fl33t_client.get_fleet(fleet.fleet_id).size == 2
    assert fetched.fleet.fleet_id == fleet.fleet_id

    fetched.name = "Dev One"
    assert fetched.update() is fetched
    assert fl33t_client.get_device("dev-1").name == "Dev One"

    assert fetched.delete() is True
    with pytest.raises(InvalidDeviceIdError):
        fl33t_client.get_device("dev-1")
    assert fl33t_client.get_fleet(fleet.fleet_id).size == 1


def test_moving_a_device_updates_both_fleet_sizes(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    a, b = fleetsim.fl33t.fleet(team, train, "a"), fleetsim.fl33t.fleet(team, train, "b")
    fleetsim.fl33t.device(team, a, "d1")
    device = fl33t_client.get_device("d1")
    device.fleet_id = b["fleet_id"]
    device.update()
    assert (fl33t_client.get_fleet(a["fleet_id"]).size,
            fl33t_client.get_fleet(b["fleet_id"]).size) == (0, 1)


def test_device_read_only_fields_are_ignored_on_update(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    fleet = fleetsim.fl33t.fleet(team, train)
    token = fleetsim.fl33t.device(team, fleet, "d1")["session_token"]
    device = fl33t_client.get_device("d1")
    device.session_token, device.build_id = "stolen", "fake-build"
    device.update()
    again = fl33t_client.get_device("d1")
    assert (again.session_token, again.build_id) == (token, None)


def test_device_update_and_delete_of_unknown_id_raise_the_base_error(fl33t_client):
    # the client's Device misspells ``_invalid_id``, so it raises the base InvalidIdError
    ghost = fl33t_client.Device(device_id="ghost", fleet_id="f")
    with pytest.raises(InvalidIdError) as update:
        ghost.update()
    with pytest.raises(InvalidIdError) as delete:
        ghost.delete()
    assert type(update.value) is InvalidIdError and type(delete.value) is InvalidIdError
