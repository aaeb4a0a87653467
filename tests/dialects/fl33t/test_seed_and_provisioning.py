"""Seeding helpers, the shipped scenario, determinism, snapshots and bulk provisioning."""

from __future__ import annotations

import fl33t
import pytest
import requests


def test_team_seeds_one_token_per_privilege(fleetsim):
    team = fleetsim.fl33t.team()
    assert set(team.tokens) == {"admin", "readonly", "upload", "provisioning"}
    for privilege, token in team.tokens.items():
        client = team.client(privilege)
        assert (client.token, client.base_uri) == (token, fleetsim.url)
        assert client.get_own_session().priv == privilege


def test_the_shipped_scenario(fleetsim):
    summary = fleetsim.load_scenario("fl33t-basic")["fl33t"]["teams"]["acme"]
    assert summary["tokens"]["admin"] == "acme-admin-token"
    assert len(summary["devices"]) == 6

    client = fl33t.Fl33tClient("acme", summary["tokens"]["readonly"], base_uri=fleetsim.url)
    assert [b.version for b in client.list_builds(train_id="main")] == [
        "1.0.0", "1.1.0", "1.2.0-rc1"]
    assert {f.fleet_id: f.size for f in client.list_fleets()} == {"beta": 1, "production": 5}
    assert client.get_device("beta-001").build_id == "fw-110"

    device = fl33t.Fl33tClient("acme", summary["devices"]["beta-001"], base_uri=fleetsim.url)
    offered = device.device_checkin("beta-001", currently_installed_id="fw-110")
    assert offered.build_id == "fw-120rc1"  # beta takes unreleased builds
    assert requests.get(offered.download_url, timeout=30).content == b"acme firmware 1.2.0-rc1"

    prod = fl33t.Fl33tClient("acme", summary["tokens"]["admin"], base_uri=fleetsim.url)
    assert prod.device_checkin("prod-0000", currently_installed_id="fw-110") is False


def test_seeding_is_deterministic(fleetsim):
    def seed_world():
        team = fleetsim.fl33t.team()
        train = fleetsim.fl33t.train(team)
        build = fleetsim.fl33t.build(team, train)
        fleet = fleetsim.fl33t.fleet(team, train)
        return team, train, build, fleet, fleetsim.fl33t.device(team, fleet)

    first = seed_world()
    fleetsim.reset()
    assert seed_world() == first
    fleetsim.reset(seed=7)
    assert seed_world()[0].tokens != first[0].tokens


def test_pinned_ids(fleetsim, fl33t_client):
    fleetsim.fl33t.pin("train", "fdsa")
    fleetsim.fl33t.pin("session", "asdfasdf;lkj")
    assert fl33t_client.Train(name="Long Train Running").create().train_id == "fdsa"
    assert fl33t_client.Session(name="s", admin=True, type="api").create().session_token == \
        "asdfasdf;lkj"


def test_snapshot_and_restore_keep_files_and_tokens(fleetsim, fl33t_client, team):
    train = fleetsim.fl33t.train(team)
    build = fleetsim.fl33t.build(team, train, data=b"keep me")
    saved = fleetsim.snapshot()
    fleetsim.reset()
    with pytest.raises(fl33t.exceptions.UnprivilegedToken):
        fl33t_client.get_build(build["build_id"])
    fleetsim.restore(saved)
    url = fl33t_client.get_build(build["build_id"]).download_url
    assert requests.get(url, timeout=30).content == b"keep me"


def test_load_scenario_rejects_a_bad_section(fleetsim):
    with pytest.raises(ValueError):
        fleetsim.load_scenario({"fl33t": {"teams": "acme"}})


# -- bulk provisioning (POST /team/{T}/devices, as fl33t-provision sends it) ------------------


@pytest.fixture
def fleet(fleetsim, team):
    return fleetsim.fl33t.fleet(team, fleetsim.fl33t.train(team))


def test_bulk_provisioning_returns_devices_with_tokens(fleetsim, fl33t_client, fleet, raw):
    devices = [{"device_id": f"bulk-{i}", "fleet_id": fleet["fleet_id"], "name": None}
               for i in range(1000)]
    answer = raw("POST", "/devices", token="provisioning", json={"devices": devices})
    assert answer.status_code == 201
    made = answer.json()["devices"]
    assert [d["device_id"] for d in made] == [d["device_id"] for d in devices]
    assert all(d["session_token"] for d in made)
    assert len({d["session_token"] for d in made}) == 1000
    assert fl33t_client.get_fleet(fleet["fleet_id"]).size == 1000

    device = fl33t.Fl33tClient(fl33t_client.team_id, made[7]["session_token"],
                               base_uri=fleetsim.url)
    assert device.device_checkin("bulk-7") is False


@pytest.mark.parametrize("devices, status", [
    ([{"device_id": f"d{i}", "fleet_id": "F"} for i in range(1001)], 400),
    ([{"device_id": "a", "fleet_id": "F"}, {"device_id": "a", "fleet_id": "F"}], 409),
    ([{"device_id": "a", "fleet_id": "F"}, {"device_id": "taken", "fleet_id": "F"}], 409),
    ([{"device_id": "a", "fleet_id": "F"}, {"device_id": "b", "fleet_id": "nope"}], 400),
    ([{"device_id": "a", "fleet_id": "F"}, "b"], 400),
    ([], 400),
])
def test_bulk_provisioning_is_all_or_nothing(fleetsim, team, raw, state, devices, status):
    fleet = fleetsim.fl33t.fleet(team, fleetsim.fl33t.train(team), fleet_id="F")
    fleetsim.fl33t.device(team, fleet, "taken")
    before = state()
    answer = raw("POST", "/devices", json={"devices": devices})
    assert answer.status_code == status and set(answer.json()) == {"error"}
    assert state() == before
