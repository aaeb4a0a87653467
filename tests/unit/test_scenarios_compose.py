"""Scenario loads: all or nothing, each scenario loaded once, shipped names only over HTTP."""

import json

import pytest

from fake_api import scenarios
from fake_api.app import create_app
from fake_api.scenarios import ScenarioError


def load(app, source, **kw):
    return scenarios.load(app.cloud, source, "http://fake", app.dialects, **kw)


def write(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad_tail", [
    {"memfault": {"projects": [{"org": "acme", "releases": [{"no_version": 1}]}]}},
    {"fl33t": {"teams": [{"team_id": "acme"}]}},   # the same team twice in one scenario
    {"clock": "not a time"},
])
def test_a_load_that_fails_half_way_leaves_the_state_as_before(bad_tail):
    app = create_app()
    load(app, "memfault-basic")
    before = app.cloud.snapshot()
    scenario = {"fl33t": {"teams": [{"team_id": "acme"}, {"team_id": "other"}]}, **bad_tail}
    if "fl33t" in bad_tail:
        scenario = {"include": ["fl33t-basic"], **bad_tail}
    with pytest.raises(ScenarioError):
        load(app, scenario)
    assert app.cloud.snapshot() == before


def test_composing_loads_an_included_scenario_once(tmp_path):
    app = create_app()
    mine = write(tmp_path / "mine.json", {
        "include": ["fl33t-basic", "memfault-basic"],
        "fl33t": {"teams": [{"team_id": "second"}]},
    })
    first = load(app, "fl33t-basic")
    summary = load(app, mine)
    assert set(summary["fl33t"]["teams"]) == {"acme", "second"}
    assert summary["fl33t"]["teams"]["acme"] == first["fl33t"]["teams"]["acme"]
    assert summary["memfault"]["projects"][0]["org"] == "acme"
    assert load(app, mine) == summary                  # again: nothing new, same answer
    assert load(app, "default")["fl33t"]["teams"]["acme"]["tokens"]["admin"] == "acme-admin-token"
    loaded = set(scenarios.loaded(app.cloud))
    assert {"fl33t-basic", "memfault-basic", str(mine), "default"} <= loaded
    assert loaded - {str(mine)} <= set(scenarios.available())


@pytest.mark.parametrize("shipped, copy_of", [("fl33t-basic", "fl33t"), ("memfault-basic", "memfault")])
def test_both_dialects_refuse_the_same_objects_from_another_scenario(tmp_path, shipped, copy_of):
    app = create_app()
    load(app, shipped)
    before = app.cloud.snapshot()
    twin = write(tmp_path / "twin.json", {copy_of: scenarios.read(shipped)[copy_of]})
    with pytest.raises(ScenarioError, match=rf"twin.json: its {copy_of} section cannot be loaded"):
        load(app, twin)
    assert app.cloud.snapshot() == before


def test_includes_that_loop_are_refused(tmp_path):
    write(tmp_path / "a.json", {"include": ["./b.json"]})
    write(tmp_path / "b.json", {"include": ["./a.json"]})
    with pytest.raises(ScenarioError, match="includes itself"):
        load(create_app(), tmp_path / "a.json")


def test_relative_paths_resolve_in_the_given_folders_and_includes_beside_their_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "sub").mkdir(parents=True)
    write(tmp_path / "conf" / "sub" / "inner.json", {"fl33t": {"teams": [{"team_id": "inner"}]}})
    write(tmp_path / "conf" / "outer.json", {"include": ["sub/inner.json"]})
    summary = load(create_app(), "outer.json", search=[tmp_path / "conf"])
    assert list(summary["fl33t"]["teams"]) == ["inner"]
    with pytest.raises(ScenarioError) as err:
        load(create_app(), "nope.json", search=[tmp_path / "conf"])
    assert str(tmp_path / "conf" / "nope.json") in str(err.value)
    assert str(tmp_path / "nope.json") in str(err.value)


def test_the_control_plane_reads_no_local_file(app, client, tmp_path):
    secret = write(tmp_path / "secret.json", {"password_of_the_admin": 1})
    for body in ({"name": str(secret)}, {"include": [str(secret)]}, {"name": "../../secret.json"}):
        response = client.post("/__fleetsim__/scenario", json=body)
        assert response.status_code == 400
        message = response.get_json()["error"]["message"]
        assert "only shipped names" in message and "password_of_the_admin" not in message
    assert client.post("/__fleetsim__/scenario", json={"name": "fl33t-basic"}).status_code == 200
    app.config["FLEETSIM_SCENARIO_FILES"] = True          # fleetsim serve --scenario-files
    response = client.post("/__fleetsim__/scenario", json={"name": str(secret)})
    assert "unknown scenario section" in response.get_json()["error"]["message"]


def test_credentials_route_lists_what_scenarios_seeded(client):
    client.post("/__fleetsim__/scenario", json={"name": "default"})
    seeded = client.get("/__fleetsim__/credentials").get_json()["scenarios"]
    assert seeded["default"]["fl33t"]["teams"]["acme"]["tokens"]["admin"] == "acme-admin-token"


def test_bad_seed_and_clock_types_are_refused():
    with pytest.raises(ScenarioError, match="'seed' must be an integer"):
        load(create_app(), {"seed": "abc"})
    with pytest.raises(ScenarioError, match="'clock' must be"):
        load(create_app(), {"clock": 5})
