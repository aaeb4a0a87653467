"""Snapshots user data cannot forge; control-plane input checked; restores all or nothing; the
journal and glob caches bounded."""

from __future__ import annotations

import fnmatch
import json

import pytest

from fake_api.core import Cloud, Store
from fake_api.core.journal import MAX_TEXT, Journal

FORGERIES = [
    {"__bytes__": "AAAA"},
    {"__dict__": {"__bytes__": "AAAA"}},
    {"__dict__": 5},
    {"__bytes__": "not base64!"},
    [{"__bytes__": "AAAA"}, {"__bytes__": "AAAA", "other": 1}],
    {"deep": {"__dict__": {"__dict__": {"__bytes__": ""}}}},
]


@pytest.mark.parametrize("value", FORGERIES)
def test_user_data_shaped_like_the_byte_encoding_round_trips(value):
    store = Store()
    store.table("t")["k"] = {"extra_info": value, "blob": b"\x00\xff", "text": '"__bytes__"'}
    snap = json.loads(json.dumps(store.snapshot()))  # as a file or an HTTP body would carry it
    store.table("t")["k"] = {}
    store.restore(snap)
    assert store.table("t")["k"] == {"extra_info": value, "blob": b"\x00\xff", "text": '"__bytes__"'}


def test_a_forged_marker_survives_restore_through_the_control_plane(app, client):
    app.cloud.store.table("x.devices")["d1"] = {"extra_info": {"__bytes__": "AAAA"}}
    snap = client.get("/__fleetsim__/snapshot").get_json()
    assert client.post("/__fleetsim__/reset").status_code == 200
    assert client.post("/__fleetsim__/restore", json=snap).status_code == 200
    assert app.cloud.store.table("x.devices")["d1"] == {"extra_info": {"__bytes__": "AAAA"}}


def test_format_1_snapshots_are_still_read():
    cloud = Cloud()
    cloud.restore({"fleetsim_snapshot": 1, "seed": 3, "clock": "2026-02-01T00:00:00Z",
                   "tables": {"t": {"k": {"blob": {"__bytes__": "AP8="}}}}})
    assert cloud.store.table("t")["k"] == {"blob": b"\x00\xff"}
    assert cloud.seed == 3


# -- the clock over the control plane -----------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"set": "0001-01-01T00:00:00+23:59"},
    {"set": "9999-12-31T23:59:59-23:59"},
    {"set": "1969-12-31T23:59:59Z"},
    {"set": 1e300},
    {"set": "tomorrow"},
    {"set": ["2026-01-01"]},
    {"advance": 1e300},
    {"advance": 10**30},
    {"advance": -1},
    {"advance": "60"},
])
def test_bad_clock_moves_are_400s_and_leave_the_clock_alone(client, body):
    before = client.get("/__fleetsim__/clock").get_json()
    response = client.post("/__fleetsim__/clock", json=body)
    assert response.status_code == 400, response.data
    assert response.get_json()["error"]["message"]
    assert client.get("/__fleetsim__/clock").get_json() == before
    assert client.get("/team/acme/devices").status_code < 500  # every dialect still answers


def test_a_huge_integer_advance_in_the_body_is_a_400(client):
    response = client.post("/__fleetsim__/clock", data=b'{"advance": 1' + b"0" * 400 + b"}")
    assert response.status_code == 400


# -- restore, all or nothing ---------------------------------------------------------------------

def _snap(**changes):
    snap = {"fleetsim_snapshot": 2, "seed": 1, "clock": "2026-03-01T00:00:00+00:00",
            "tables": {"t": {"k": {"n": 1}}}}
    snap.update(changes)
    return snap


@pytest.mark.parametrize("snapshot", [
    _snap(tables=[]),
    _snap(tables={"t": []}),
    _snap(tables={"t": "rows"}),
    _snap(tables={"": {}}),
    _snap(tables={"t": {"k": {"__bytes__": "not base64!"}}}),
    _snap(seed="7"),
    _snap(seed=True),
    _snap(clock="0001-01-01T00:00:00+23:59"),
    _snap(clock="never"),
    _snap(clock=5),
    _snap(fleetsim_snapshot=99),
    [],
    "snapshot",
])
def test_a_malformed_restore_is_a_400_and_changes_nothing(app, client, snapshot):
    app.cloud.store.table("x.devices")["d1"] = {"name": "kept"}
    before = client.get("/__fleetsim__/snapshot").get_json()
    response = client.post("/__fleetsim__/restore", json=snapshot)
    assert response.status_code == 400, response.data
    assert response.get_json()["error"]["message"]
    assert client.get("/__fleetsim__/snapshot").get_json() == before


class _Picky:
    """A backend whose derived data cannot be rebuilt from some records."""

    def __init__(self, cloud):
        self.table = cloud.store.table("picky.things")
        self.index = {}

    def after_restore(self):
        self.index = {record["name"]: record for record in self.table.values()}


def test_a_restore_the_models_cannot_take_is_rolled_back():
    cloud = Cloud()
    cloud.attach("picky", _Picky(cloud))
    cloud.store.table("picky.things")["1"] = {"name": "one"}
    cloud.backends["picky"].after_restore()
    before = cloud.snapshot()
    with pytest.raises(ValueError, match="does not fit"):
        cloud.restore(_snap(tables={"picky.things": {"1": {"no_name": True}}}))
    assert cloud.snapshot() == before
    assert cloud.backends["picky"].index == {"one": {"name": "one"}}


# -- bounded memory -------------------------------------------------------------------------------

def test_the_journal_keeps_at_most_a_kibibyte_of_path_and_query(client, app):
    client.get("/team/acme/devices?q=" + "x" * 30_000)
    client.get("/team/" + "p" * 30_000)
    long_query, long_path = app.cloud.journal.entries()[-2:]
    assert len(long_query.query) == MAX_TEXT and long_query.truncated
    assert len(long_path.path) == MAX_TEXT and long_path.truncated
    client.open("/team/acme/devices", method="X" * 5000)
    assert len(app.cloud.journal.last().method) == MAX_TEXT and app.cloud.journal.last().truncated
    short = client.get("/team/acme/devices?limit=5")
    assert short.status_code < 500
    assert app.cloud.journal.last().truncated is False
    assert app.cloud.journal.last().to_json()["query"] == "limit=5"


def test_journal_globs_do_not_fill_fnmatchs_unbounded_cache():
    journal = Journal()
    fnmatch._compile_pattern.cache_clear()
    for n in range(50):
        journal.entries(path=f"/{n}/" + "*" * 2000)
    assert fnmatch._compile_pattern.cache_info().currsize == 0
    journal.record_request(dialect="d", method="GET", path="/team/a/devices", query="",
                           status=200, duration_ms=1.0, time="t")
    assert journal.count(path="/team/*/devices") == 1
    assert journal.count(path="/team/*") == 1
    assert journal.count(path="/team/?/dev*") == 1
    assert journal.count(path="/fleet/*") == 0
