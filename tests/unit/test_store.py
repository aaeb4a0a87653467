import threading

import pytest

from fake_api.core import Store


def test_tables_are_created_once_and_cleared_in_place():
    store = Store()
    devices = store.table("x.devices")
    devices["a"] = {"id": "a"}
    assert store.table("x.devices") is devices
    store.reset()
    assert store.table("x.devices") is devices
    assert len(devices) == 0


def test_where_filters_records():
    t = Store().table("t")
    t.update({"1": {"fleet": "a"}, "2": {"fleet": "b"}, "3": {"fleet": "a"}})
    assert [r for r in t.where(fleet="a")] == [{"fleet": "a"}, {"fleet": "a"}]


def test_snapshot_is_plain_json_deep_copy_and_restores_bytes():
    store = Store()
    store.table("t")["k"] = {"n": 1, "blob": b"\x00\xff", "tags": ("a", "b")}
    snap = store.snapshot()
    assert snap == {"t": {"k": {"n": 1, "blob": {"__bytes__": "AP8="}, "tags": ["a", "b"]}}}
    store.table("t")["k"]["n"] = 2  # the snapshot does not follow later changes
    assert snap["t"]["k"]["n"] == 1
    store.restore(snap)
    assert store.table("t")["k"] == {"n": 1, "blob": b"\x00\xff", "tags": ["a", "b"]}


def test_restore_replaces_everything():
    store = Store()
    store.table("a")["x"] = {}
    snap = store.snapshot()
    store.table("b")["y"] = {}
    store.restore(snap)
    assert dict(store.table("b")) == {}
    assert "x" in store.table("a")


def test_snapshot_refuses_non_json_values_with_a_clear_message():
    store = Store()
    store.table("t")["k"] = {"when": object()}
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        store.snapshot()


def test_concurrent_writers_under_the_lock():
    store = Store()
    t = store.table("counter")
    t["n"] = 0

    def bump():
        for _ in range(1000):
            with store.lock:
                t["n"] = t["n"] + 1

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert t["n"] == 4000
