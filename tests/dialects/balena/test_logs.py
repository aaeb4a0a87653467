"""Device logs: written by the device with its key, read with balena-sdk 17.3 (``logs.history``
and the streaming ``logs.subscribe``, which uses Twisted over a real socket)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from fake_api.balena.logs import RETENTION


def post_logs(fleetsim: Any, device: dict, lines: Any, key: Any = None) -> requests.Response:
    return requests.post(f"{fleetsim.url}/device/v2/{device['uuid']}/logs", json=lines,
                         headers={"Authorization": f"Bearer {key or device['api_key']}"},
                         timeout=30)


@pytest.fixture
def device(fleetsim: Any, fleet: dict) -> dict:
    return fleetsim.balena.device(fleet, online=True)


def test_history(fleetsim: Any, sdk: Any, device: dict) -> None:
    assert sdk.logs.history(device["uuid"]) == []
    answer = post_logs(fleetsim, device, [
        {"message": "booting", "timestamp": 1_767_225_600_000, "isSystem": True},
        {"message": "oops", "timestamp": 1_767_225_600_500, "isStdErr": True, "serviceId": 7}])
    assert answer.status_code == 201
    fleetsim.clock.advance(seconds=5)
    post_logs(fleetsim, device, [{"message": f"line {i}", "timestamp": i} for i in range(3)])
    history = sdk.logs.history(device["uuid"])
    assert [h["message"] for h in history] == ["booting", "oops", "line 0", "line 1", "line 2"]
    assert history[1] == {"message": "oops", "createdAt": 1_767_225_600_000,
                          "timestamp": 1_767_225_600_500, "isStdErr": True, "isSystem": False,
                          "serviceId": 7}
    assert history[2]["createdAt"] == history[1]["createdAt"] + 5000  # server time, virtual
    assert [h["message"] for h in sdk.logs.history(device["uuid"], 2)] == ["line 1", "line 2"]
    assert len(sdk.logs.history(device["uuid"], "all")) == 5


def test_retention_keeps_the_last_lines(fleetsim: Any, sdk: Any, device: dict) -> None:
    post_logs(fleetsim, device, [{"message": str(i), "timestamp": i} for i in range(RETENTION)])
    post_logs(fleetsim, device, [{"message": "last", "timestamp": 0}])
    history = sdk.logs.history(device["uuid"], "all")
    assert len(history) == RETENTION
    assert (history[0]["message"], history[-1]["message"]) == ("1", "last")


def test_only_the_device_writes_its_logs(fleetsim: Any, fleet: dict, device: dict, user: Any,
                                         state: Any) -> None:
    sibling = fleetsim.balena.device(fleet)
    before = state()
    # another device's key does not even see the device
    assert post_logs(fleetsim, sibling, [{"message": "x", "timestamp": 1}],
                     key=device["api_key"]).status_code == 404
    assert post_logs(fleetsim, device, [{"message": "x", "timestamp": 1}],
                     key=user.token).status_code == 401
    for junk in ("text", [{"timestamp": 1}], [{"message": 5}], [{"message": "x",
                                                                  "timestamp": "now"}]):
        answer = post_logs(fleetsim, device, junk)
        assert answer.status_code == 400 and isinstance(answer.json(), str)
    assert state() == before
    missing = requests.get(f"{fleetsim.url}/device/v2/{'0' * 32}/logs",
                           headers={"Authorization": f"Bearer {user.token}"}, timeout=30)
    assert missing.status_code == 404


def test_subscribe_streams_new_lines(fleetsim: Any, sdk: Any, device: dict) -> None:
    """``logs.subscribe`` holds a response open and gets NDJSON lines as the device writes."""
    post_logs(fleetsim, device, [{"message": "old", "timestamp": 1}])
    got: list[dict] = []
    arrived = threading.Event()

    def on_line(line: dict) -> None:
        got.append(line)
        if len(got) >= 3:
            arrived.set()

    sdk.logs.subscribe(device["uuid"], on_line, count=1)
    try:
        deadline = threading.Event()
        for _ in range(50):  # the stream is open once the history line arrived
            if got:
                break
            deadline.wait(0.1)
        post_logs(fleetsim, device, [{"message": "new 1", "timestamp": 2},
                                     {"message": "new 2", "timestamp": 3}])
        assert arrived.wait(10), got
    finally:
        sdk.logs.unsubscribe_all()
    assert [g["message"] for g in got] == ["old", "new 1", "new 2"]
    assert set(got[1]) == {"message", "createdAt", "timestamp", "isStdErr", "isSystem",
                           "serviceId"}


def test_stream_over_plain_http(fleetsim: Any, user: Any, device: dict) -> None:
    """The raw wire: NDJSON content type, history first, then lines as they are written."""
    post_logs(fleetsim, device, [{"message": "a", "timestamp": 1}, {"message": "b",
                                                                     "timestamp": 2}])
    with requests.get(f"{fleetsim.url}/device/v2/{device['uuid']}/logs?stream=1&count=1",
                      headers={"Authorization": f"Bearer {user.token}"}, stream=True,
                      timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("application/x-ndjson")
        lines = answer.iter_lines()
        first = next(line for line in lines if line)
        assert b'"message": "b"' in first
        post_logs(fleetsim, device, [{"message": "c", "timestamp": 3}])
        second = next(line for line in lines if line)
        assert b'"message": "c"' in second
