"""Durable state (``core/persist.py``): what a request changed reaches the file before it answers."""

from __future__ import annotations

import json
import sqlite3

import pytest

from fake_api.app import create_app
from fake_api.cli import control_token, is_loopback
from fake_api.core import Cloud
from fake_api.core.persist import Durable, StateFileError


def _open(path, **kw):
    cloud = Cloud(**kw)
    durable, how = Durable.open(cloud, path)
    cloud.durable = durable
    return cloud, durable, how


def _reopen(path, durable):
    """What a restarted server would see (closing commits nothing: commit() already did)."""
    durable.close()
    cloud, again, how = _open(path)
    assert how == "loaded"
    return cloud, again


def test_a_new_file_then_every_kind_of_change_survives_a_restart(tmp_path):
    path = tmp_path / "state.db"
    cloud, durable, how = _open(path)
    assert how == "new"
    devices = cloud.store.table("x.devices")
    devices["a"] = {"tags": ["t1"], "blob": b"\x00\xff", "forged": {"__bytes__": "AAAA"}}
    devices["b"] = {"n": 1}
    devices[7] = {"int": "key"}
    devices["#7"] = {"str": "key"}
    cloud.commit()
    index = {"a": devices["a"]}            # a model's own index holding a reference
    index["a"]["tags"].append("t2")        # a nested, in-place change through it
    del devices["b"]
    devices["c"] = {"n": 3}
    cloud.clock.advance(3600)
    cloud.ids.counter("x.device")
    cloud.commit()
    cloud2, _ = _reopen(path, durable)
    assert list(cloud2.store.table("x.devices").items()) == [
        ("a", {"tags": ["t1", "t2"], "blob": b"\x00\xff", "forged": {"__bytes__": "AAAA"}}),
        (7, {"int": "key"}), ("#7", {"str": "key"}), ("c", {"n": 3})]
    assert cloud2.clock.isoformat() == "2026-01-01T01:00:00.000000+00:00"
    assert cloud2.ids.counter("x.device") == 2


def test_a_commit_writes_only_what_changed(tmp_path):
    path = tmp_path / "state.db"
    cloud, durable, _ = _open(path)
    table = cloud.store.table("x.things")
    for n in range(100):
        table[str(n)] = {"n": n}
    cloud.commit()
    writes = durable.writes
    cloud.commit()
    assert durable.writes == writes  # nothing changed, nothing written
    table["5"]["n"] = -5
    cloud.commit()
    assert durable.writes == writes + 1


def test_every_request_is_committed_before_it_is_answered(tmp_path):
    path = tmp_path / "state.db"
    cloud, durable, _ = _open(path)
    client = create_app(cloud).test_client()
    for n in range(3):
        assert client.post("/__fleetsim__/clock", json={"advance": 60}).status_code == 200
        snap = client.get("/__fleetsim__/snapshot").get_json()
        snap["tables"][f"x.t{n}"] = {"k": {"n": n}}
        assert client.post("/__fleetsim__/restore", json=snap).status_code == 200
    cloud2, _ = _reopen(path, durable)  # the process "died" here: no final save
    assert cloud2.clock.isoformat().startswith("2026-01-01T00:03:00")
    assert cloud2.store.table("x.t2")["k"] == {"n": 2}


def test_a_reset_is_durable_too(tmp_path):
    path = tmp_path / "state.db"
    cloud, durable, _ = _open(path)
    cloud.store.table("x.t")["k"] = {}
    cloud.commit()
    cloud.reset(seed=9)
    cloud.commit()
    cloud2, _ = _reopen(path, durable)
    assert len(cloud2.store.table("x.t")) == 0 and cloud2.seed == 9


def test_a_failed_write_is_retried_by_the_next_commit(tmp_path):
    path = tmp_path / "state.db"
    cloud, durable, _ = _open(path)
    real = durable._db
    durable._db = sqlite3.connect(":memory:", isolation_level=None)  # no tables: every write fails
    cloud.store.table("x.t")["k"] = {"v": 1}
    with pytest.raises(sqlite3.Error):
        cloud.commit()
    durable._db.close()
    durable._db = real
    cloud.commit()
    cloud2, _ = _reopen(path, durable)
    assert cloud2.store.table("x.t")["k"] == {"v": 1}


@pytest.mark.parametrize("fmt", [1, 2])
def test_an_old_json_state_file_is_converted(tmp_path, fmt):
    path = tmp_path / "state.json"
    old = Cloud(seed=4)
    old.store.table("x.t")["k"] = {"blob": b"\x01", "n": 1}
    old.clock.advance(60)
    snap = old.snapshot()
    snap["fleetsim_snapshot"] = fmt
    path.write_text(json.dumps(snap))  # what `fleetsim serve --state` wrote before
    cloud, durable, how = _open(path)
    assert how == "converted"
    assert json.loads((tmp_path / "state.json.json-backup").read_text()) == snap
    assert cloud.store.table("x.t")["k"] == {"blob": b"\x01", "n": 1} and cloud.seed == 4
    cloud.store.table("x.t")["k"]["n"] = 2
    cloud.commit()
    cloud2, _ = _reopen(path, durable)
    assert cloud2.store.table("x.t")["k"] == {"blob": b"\x01", "n": 2}
    assert cloud2.clock.isoformat().startswith("2026-01-01T00:01:00")


@pytest.mark.parametrize("content, words", [
    (b"\x00garbage\xff" * 10, "neither"),
    (b'{"fleetsim_snapshot": 2, "seed": 0, "tabl', "nor an old JSON one"),           # cut short
    (b'{"fleetsim_snapshot": 2, "seed": 0, "tables": {"x.t": []}}', "x.t"),     # wrong shape
    (b'{"fleetsim_snapshot": 2, "seed": 0, "tables": []}', "tables"),
    (b"[1, 2]", "not a fleetsim snapshot"),
    (b"SQLite format 3\x00" + b"\x00" * 200, "state file"),                    # corrupt database
])
def test_an_unusable_state_file_is_refused_with_its_name(tmp_path, content, words):
    path = tmp_path / "state.db"
    path.write_bytes(content)
    with pytest.raises(StateFileError) as caught:
        Durable.open(Cloud(), path)
    assert str(path) in str(caught.value) and words in str(caught.value)
    assert path.read_bytes() == content  # and left as it was


def test_a_database_that_is_not_fleetsims_is_refused(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE songs (title TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StateFileError, match="not a fleetsim state file"):
        Durable.open(Cloud(), path)


def test_one_server_per_state_file(tmp_path):
    path = tmp_path / "state.db"
    _, durable, _ = _open(path)
    with pytest.raises(StateFileError, match="in use"):
        Durable.open(Cloud(), path)
    durable.close()


# -- the control-plane token ---------------------------------------------------------------------

def test_a_token_is_generated_off_loopback_and_an_empty_one_refused():
    assert control_token("127.0.0.1", None) is None
    assert control_token("localhost", None) is None
    assert control_token("::1", None) is None
    generated = control_token("0.0.0.0", None)
    assert isinstance(generated, str) and len(generated) >= 24
    assert generated != control_token("0.0.0.0", None)  # not derived from the seed
    assert control_token("0.0.0.0", "given") == "given"
    assert control_token("0.0.0.0", "") is False
    assert control_token("127.0.0.1", "") is None
    assert not is_loopback("192.168.1.10") and not is_loopback("example.org")


@pytest.mark.parametrize("headers, ok", [
    ({}, False),
    ({"Authorization": "Bearer wrong"}, False),
    ({"Authorization": "Bearer s3cret"}, True),
    ({"X-Fleetsim-Token": "s3cret"}, True),
])
def test_the_control_plane_requires_the_token(headers, ok):
    app = create_app()
    app.config["FLEETSIM_CONTROL_TOKEN"] = "s3cret"
    client = app.test_client()
    for method, path in [("GET", "/__fleetsim__/snapshot"), ("POST", "/__fleetsim__/reset"),
                         ("GET", "/__fleetsim__/journal"), ("GET", "/__fleetsim__/")]:
        response = client.open(path, method=method, headers=headers)
        assert (response.status_code < 400) is ok, (path, response.status_code)
        if not ok:
            assert response.status_code == 401
            assert "token" in response.get_json()["error"]["message"]
    health = client.get("/__fleetsim__/health", headers=headers)
    assert health.status_code == 200
    assert ("seed" in health.get_json()) is ok


def test_the_dashboard_takes_the_token_in_its_query():
    app = create_app()
    app.config["FLEETSIM_CONTROL_TOKEN"] = "s3cret"
    client = app.test_client()
    assert client.get("/__fleetsim__/?token=s3cret").status_code == 200
    assert client.post("/__fleetsim__/reset?token=s3cret").status_code == 401


def test_a_real_clocks_offset_survives_a_restart(tmp_path):
    from fake_api.core import Clock

    path = tmp_path / "state.db"
    cloud = Cloud(clock=Clock(virtual=False))
    durable, _ = Durable.open(cloud, path)
    cloud.clock.advance(86400)
    durable.commit()
    durable.close()
    again = Cloud(clock=Clock(virtual=False))
    durable, how = Durable.open(again, path)
    assert how == "loaded" and again.clock.offset == 86400
    durable.close()
