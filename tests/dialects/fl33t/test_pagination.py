"""List pagination as the official client drives it: offset/limit and ``<model>_count``."""

from __future__ import annotations

import pytest


@pytest.fixture
def seven(fleetsim, team):
    train = fleetsim.fl33t.train(team)
    fleet = fleetsim.fl33t.fleet(team, train, fleet_id="pag")
    other = fleetsim.fl33t.fleet(team, train, fleet_id="other")
    fleetsim.fl33t.device(team, other, "elsewhere")
    return [fleetsim.fl33t.device(team, fleet, f"p{i}")["device_id"] for i in range(7)]


def test_full_iteration_walks_every_page(fleetsim, client_as, seven):
    client = client_as("admin", default_query_limit=3)
    assert [d.device_id for d in client.list_devices(fleet_id="pag")] == seven
    queries = [e.query for e in fleetsim.journal.entries(method="GET", path="*/devices")]
    assert queries == [f"fleet_id=pag&offset={o}&limit=3" for o in (0, 3, 6)]


def test_offset_or_limit_alone_gives_one_page(client_as, fl33t_client, seven):
    client = client_as("admin", default_query_limit=3)
    assert [d.device_id for d in client.list_devices(fleet_id="pag", offset=0)] == seven[:3]
    assert [d.device_id for d in client.list_devices(fleet_id="pag", limit=2)] == seven[:2]
    assert [d.device_id for d in fl33t_client.list_devices(fleet_id="pag", offset=3, limit=2)] \
        == seven[3:5]
    assert list(fl33t_client.list_devices(fleet_id="pag", offset=7)) == []
    assert len(list(client.list_devices(fleet_id="pag", offset=-5, limit=0))) == 3  # clamped


def test_count_is_the_filtered_total(raw, seven):
    page = raw("GET", "/devices?fleet_id=pag&offset=6&limit=3").json()
    assert page["device_count"] == 7 and [d["device_id"] for d in page["devices"]] == ["p6"]
    assert raw("GET", "/devices?limit=1").json()["device_count"] == 8


@pytest.mark.parametrize("model", ["session", "train", "build", "fleet"])
def test_every_list_pages(fleetsim, team, client_as, model):
    seed = fleetsim.fl33t
    train = seed.train(team, "t0")
    for i in range(5):
        if model == "train":
            seed.train(team, f"t{i + 1}")
        elif model == "build":
            seed.build(team, train, f"1.{i}")
        elif model == "fleet":
            seed.fleet(team, train, f"f{i}")
        else:
            seed.session(team, "readonly", name=f"s{i}")
    client = client_as("admin", default_query_limit=2)
    everything = list(getattr(client, f"list_{model}s")())
    expected = {"session": 9, "train": 6, "build": 5, "fleet": 5}[model]
    assert len(everything) == expected
    calls = fleetsim.journal.count(method="GET", path=f"*/{model}s")
    assert calls == (expected + 1) // 2


def test_trains_filter_by_name_as_the_upload_script_does(fleetsim, team, raw):
    fleetsim.fl33t.train(team, "main")
    fleetsim.fl33t.train(team, "beta")
    found = raw("GET", "/trains?name=beta").json()
    assert found["train_count"] == 1 and found["trains"][0]["name"] == "beta"
