"""The privilege matrix (docs/fl33t.md), every cell driven through the official client."""

from __future__ import annotations

import pytest
from fl33t.exceptions import UnprivilegedToken

READERS = {"admin", "readonly", "upload", "provisioning"}
EVERYONE = READERS | {"device"}
PRIVILEGES = ["admin", "readonly", "upload", "provisioning", "device"]


def _create_build(c, w):
    return c.Build(train_id=w["train"], version="9.9", filename=w["file"]).create()


def _edit(model, **changes):
    for name, value in changes.items():
        setattr(model, name, value)
    return model.update()


#: operation -> (call with (client, world), the privileges that may do it)
MATRIX = {
    "list sessions": (lambda c, w: list(c.list_sessions()), {"admin"}),
    "read own session": (lambda c, w: c.get_own_session(), EVERYONE),
    "read another session": (lambda c, w: c.get_session(w["other"]), {"admin"}),
    "create session": (lambda c, w: c.Session(name="x", readonly=True, type="api").create(),
                       {"admin"}),
    "update session": (lambda c, w: _edit(c.Session(session_token=w["other"], type="api"),
                                          upload=True), {"admin"}),
    "delete session": (lambda c, w: c.Session(session_token=w["other"]).delete(), {"admin"}),
    "list trains": (lambda c, w: list(c.list_trains()), READERS),
    "get train": (lambda c, w: c.get_train(w["train"]), READERS),
    "create train": (lambda c, w: c.Train(name="new").create(), {"admin", "upload"}),
    "update train": (lambda c, w: _edit(c.Train(train_id=w["train"]), name="renamed"),
                     {"admin"}),
    "delete train": (lambda c, w: c.Train(train_id=w["empty_train"]).delete(), {"admin"}),
    "list builds": (lambda c, w: list(c.list_builds()), READERS),
    "get build": (lambda c, w: c.get_build(w["build"]), READERS),
    "create and upload build": (_create_build, {"admin", "upload"}),
    "update build": (lambda c, w: _edit(c.Build(build_id=w["spare"], version="1"),
                                        released=True), {"admin"}),
    "delete build": (lambda c, w: c.Build(build_id=w["spare"]).delete(), {"admin"}),
    "list fleets": (lambda c, w: list(c.list_fleets()), READERS),
    "get fleet": (lambda c, w: c.get_fleet(w["fleet"]), READERS),
    "create fleet": (lambda c, w: c.Fleet(name="f", train_id=w["train"],
                                          unreleased=False).create(), {"admin"}),
    "update fleet": (lambda c, w: _edit(c.Fleet(fleet_id=w["fleet"], train_id=w["train"]),
                                        unreleased=False), {"admin"}),
    "delete fleet": (lambda c, w: c.Fleet(fleet_id=w["empty_fleet"]).delete(), {"admin"}),
    "list devices": (lambda c, w: list(c.list_devices()), READERS),
    "get device": (lambda c, w: c.get_device("dev"), READERS),
    "create device": (lambda c, w: c.Device(device_id="new", fleet_id=w["fleet"]).create(),
                      {"admin", "provisioning"}),
    "update device": (lambda c, w: _edit(c.Device(device_id="dev", fleet_id=w["fleet"]),
                                         name="renamed"), {"admin"}),
    "delete device": (lambda c, w: c.Device(device_id="dev").delete(), {"admin"}),
    "check in": (lambda c, w: c.device_checkin("dev"), {"admin", "device"}),
}


@pytest.fixture
def world(fleetsim, team, firmware):
    seed = fleetsim.fl33t
    train = seed.train(team, "main")
    build = seed.build(team, train, "1.0", released=True)
    fleet = seed.fleet(team, train, build=build)
    device = seed.device(team, fleet, "dev")
    return {
        "train": train["train_id"], "build": build["build_id"], "fleet": fleet["fleet_id"],
        "spare": seed.build(team, train, "0.1")["build_id"],
        "empty_train": seed.train(team, "empty")["train_id"],
        "empty_fleet": seed.fleet(team, train, "empty")["fleet_id"],
        "other": seed.session(team, "readonly", name="other"),
        "device_token": device["session_token"],
        "file": firmware(b"firmware"),
    }


@pytest.mark.parametrize("privilege", PRIVILEGES)
@pytest.mark.parametrize("operation", list(MATRIX))
def test_privilege_matrix(client_as, world, state, operation, privilege):
    call, allowed = MATRIX[operation]
    client = client_as(world["device_token"] if privilege == "device" else privilege)
    if privilege in allowed:
        result = call(client, world)
        assert result is not False and result is not None, f"{operation} failed as {privilege}"
    else:
        before = state()
        with pytest.raises(UnprivilegedToken):
            call(client, world)
        assert state() == before


@pytest.mark.parametrize("privilege, status", [
    ("admin", 201), ("provisioning", 201), ("readonly", 403), ("upload", 403),
])
def test_bulk_provisioning_privilege(world, raw, privilege, status):
    body = {"devices": [{"device_id": "b1", "fleet_id": world["fleet"]}]}
    assert raw("POST", "/devices", token=privilege, json=body).status_code == status


def test_a_session_without_privileges_can_only_read_itself(fleetsim, team, client_as, world):
    token = fleetsim.fl33t.session(team, "none")
    client = client_as(token)
    assert client.get_own_session().priv == "unprivileged"
    with pytest.raises(UnprivilegedToken):
        list(client.list_trains())


def test_privileges_combine(fl33t_client, client_as, world):
    both = fl33t_client.Session(name="ci", upload=True, provisioning=True, type="api").create()
    client = client_as(both.session_token)
    assert client.Train(name="from-ci").create()
    assert client.Device(device_id="from-ci", fleet_id=world["fleet"]).create()
    with pytest.raises(UnprivilegedToken):
        client.Fleet(name="f", train_id=world["train"], unreleased=False).create()


def test_revoked_tokens_stop_working(fl33t_client, client_as, world):
    client = client_as(world["other"])
    assert list(client.list_trains())
    assert fl33t_client.get_session(world["other"]).delete() is True
    with pytest.raises(UnprivilegedToken):
        list(client.list_trains())


def test_deleting_a_device_revokes_its_token(fl33t_client, client_as, world):
    device = client_as(world["device_token"])
    assert device.device_checkin("dev").build_id == world["build"]
    assert fl33t_client.get_device("dev").delete() is True
    with pytest.raises(UnprivilegedToken):
        device.device_checkin("dev")


@pytest.mark.parametrize("privilege, sees_token", [
    ("admin", True), ("provisioning", True), ("readonly", False), ("upload", False),
])
def test_device_tokens_are_shown_only_to_who_may_provision(client_as, world, privilege,
                                                            sees_token):
    client = client_as(privilege)
    tokens = {client.get_device("dev").session_token,
              next(iter(client.list_devices())).session_token}
    assert tokens == ({world["device_token"]} if sees_token else {None})
